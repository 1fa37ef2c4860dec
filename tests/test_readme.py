"""The README's promises: the two commands first, a Python example that runs, command lines that work."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from ruralcredit.cli import main
from support import fenced_blocks, raw_ids

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _blocks(lang: str) -> list[str]:
    return fenced_blocks(ROOT / "README.md", lang)


def test_the_two_commands_come_first() -> None:
    first = README.split("\n## ")[0]
    assert "make demo" in first and "make test" in first
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"^demo:", makefile, re.M) and re.search(r"^test:", makefile, re.M)


def test_python_example_runs_and_masks_nothing_it_should_not_print() -> None:
    (code,) = _blocks("python")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = proc.stdout
    # each step printed what it promises: graded subjects, village criteria, warnings, eligibility
    assert re.search(r"\bH\d{6}-\d{7}\s+\d+\.\d\s+(AAA|AA|A|B|C|VETO)\b", out)
    assert "credit_household_share" in out and "credit_village" in out
    assert "rule_id" in out and "eligible" in out
    assert not raw_ids(out + proc.stderr)


def test_command_lines_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (block,) = [b for b in _blocks("") if "ruralcredit synth" in b]
    lines = block.replace("\\\n", " ").strip().splitlines()
    monkeypatch.chdir(tmp_path)
    for line in lines:
        argv = shlex.split(line)
        assert argv[0] == "ruralcredit"
        if argv[1] == "synth":  # the README's county, smaller: the commands are what is checked
            argv[argv.index("--households") + 1] = "400"
        assert main(argv[1:]) == 0, line
    assert (tmp_path / "scores.parquet").stat().st_size > 0
    assert "<html" in (tmp_path / "report.html").read_text(encoding="utf-8")[:500].lower()
