"""Every ``python`` code block in docs/ runs as written: each file's blocks top to bottom in one namespace.

Blocks whose info string says more than ``python`` (e.g. ``python spark``: needs a system the suite does
not have) are shown, not run. docs/cli.md's ``bash`` session is run as a script with the package's
command on the PATH. Nothing a block prints may show an unmasked resident ID number.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from support import fenced_blocks, raw_ids

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


DOCS_WITH_CODE = sorted(p.name for p in DOCS.glob("*.md") if fenced_blocks(p, "python"))


def test_the_docs_have_runnable_examples() -> None:
    # the guides for each part of the library carry code; a refactor that drops them is a regression
    assert {"ids.md", "features.md", "scoring.md", "scorecard.md", "models.md", "ratings.md", "blacklist.md",
            "risk.md", "report.md", "dist.md", "templates.md"} <= set(DOCS_WITH_CODE)


@pytest.mark.parametrize("name", DOCS_WITH_CODE)
def test_python_blocks_run(name: str, tmp_path: Path) -> None:
    code = "\n".join(fenced_blocks(DOCS / name, "python"))
    script = tmp_path / f"{Path(name).stem}_doc.py"
    script.write_text(code, encoding="utf-8")
    env = {**os.environ, "MPLBACKEND": "Agg"}
    # run in an empty directory (what a block writes stays out of the checkout); some docs read
    # tests/golden/... by a path relative to the project root, so that folder is linked in
    (tmp_path / "tests").symlink_to(ROOT / "tests", target_is_directory=True)
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, cwd=tmp_path, env=env,
                          timeout=600)
    assert proc.returncode == 0, f"docs/{name}:\n{proc.stderr[-3000:]}"
    assert not raw_ids(proc.stdout), f"docs/{name} printed an unmasked ID number"


def test_cli_session_runs(tmp_path: Path) -> None:
    (script,) = fenced_blocks(DOCS / "cli.md", "bash")
    bin_dir = Path(sys.executable).parent
    assert (bin_dir / "ruralcredit").exists(), "the package's console script is not installed"
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    proc = subprocess.run(["bash", "-c", script], capture_output=True, text=True, cwd=tmp_path, env=env,
                          timeout=600)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    out = proc.stdout
    assert re.search(r"approved", out, re.I) and "audit chain verified" in out
    assert (tmp_path / "report.html").stat().st_size > 10_000
    assert not raw_ids(out + proc.stderr)
