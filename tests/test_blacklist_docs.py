"""The code blocks of docs/blacklist.md run as written, top to bottom, in one namespace."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from support import fenced_blocks

DOC = Path(__file__).resolve().parents[1] / "docs" / "blacklist.md"


def test_docs_code_blocks_run(capsys):
    if not DOC.is_file():
        pytest.skip("docs/blacklist.md is not in this checkout")
    blocks = fenced_blocks(DOC, "python")
    assert len(blocks) >= 8
    namespace: dict = {}
    cwd = os.getcwd()
    os.chdir(DOC.parents[1])  # the docs refer to tests/golden/... relative to the project root
    try:
        for i, block in enumerate(blocks):
            exec(compile(block, f"{DOC.name}[block {i + 1}]", "exec"), namespace)
    finally:
        os.chdir(cwd)
    out = capsys.readouterr().out
    assert "530128********0123" in out
    assert namespace["result"].decisions["eligible"].tolist() == [False, False, False]
