"""Every script in ``examples/`` runs, as a user would run it, on a small synthetic county.

Each script is found by glob (a new one is picked up without editing this file), run as a real
subprocess with the project's interpreter from the repository root, and must exit 0, print what it
exists to show (checked per script below) and never print an unmasked resident ID number.
No script is asked to write into ``docs/`` (``--write-docs`` is never passed).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from ruralcredit.ids import make_uscc, mask_resident_id
from support import RAW_ID, raw_ids

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))
TIMEOUT_S = 180

def _masked_pattern() -> re.Pattern[str]:
    """The shape ``mask_resident_id`` gives an ID number, read off the function itself."""
    sample = "11010519491231002X"
    masked = mask_resident_id(sample)
    keep_head = len(masked) - len(masked.lstrip("0123456789"))
    keep_tail = len(masked) - len(masked.rstrip("0123456789X"))
    stars = len(masked) - keep_head - keep_tail
    assert masked == sample[:keep_head] + "*" * stars + sample[-keep_tail:], masked
    assert RAW_ID.search(masked) is None
    return re.compile(rf"(?<![0-9A-Za-z*])\d{{{keep_head}}}\*{{{stars}}}[0-9X]{{{keep_tail}}}(?![0-9A-Za-z*])")


MASKED_ID = _masked_pattern()


def check_rate_households(out: str) -> None:
    assert "Grade mix per village" in out
    block = out.split("Grade mix per village", 1)[1].split("\n\n", 1)[0]
    header = next(line for line in block.splitlines() if line.startswith("grade"))
    for grade in ("AAA", "AA", "A", "B", "C", "VETO"):
        assert grade in header.split()
    # one row per village, each with its credit share
    rows = [line for line in block.splitlines() if re.search(r"\d+%\s*$", line)]
    assert len(rows) >= 2, block
    assert re.search(r"Credit villages \(.*\): \d+ of \d+", out)
    assert re.search(r"\d[\d,]* credit households get a line", out)


def check_credit_villages(out: str) -> None:
    # every criterion against its threshold, in both languages
    assert re.search(r"required >= \d+(\.\d+)?%: (met|not met)", out)
    assert re.search(r"required <= \d+(\.\d+)?%: (met|not met)", out)
    assert re.search(r"要求 [≥≤] \d+(\.\d+)?%：(达标|未达标)", out)
    assert re.search(r"\(veto above \d+\): (no veto|veto)", out)
    assert re.search(r"== Villages \(信用村\): \d+ of \d+ credit", out)
    assert re.search(r"== Townships \(信用乡镇\): \d+ of \d+ credit", out)
    assert "== County (信用县)" in out
    # the vetoes come from the risk scan, confirmed cases and maker-checker listings, not stand-ins
    assert re.search(r"Risk scan on \d{4}-\d{2}-\d{2}: \d+ warning\(s\)", out)
    m = re.search(r"(\d+) listing\(s\) in force", out)
    assert m and int(m.group(1)) >= 1, out[:2000]
    assert "stand-in" not in out and "PROVISIONAL" not in out
    assert "Audit chain of listings and cases: verified" in out


def check_compare_models(out: str) -> None:
    aucs = {}
    for name in ("expert scorecard", "statistical scorecard", "GBM"):
        m = re.search(rf"^\s*{re.escape(name)}\s+([0-9.]+)\s", out, re.MULTILINE)
        assert m, f"no AUC row for {name}:\n{out}"
        aucs[name] = float(m.group(1))
    assert all(0.5 < auc < 1.0 for auc in aucs.values()), aucs
    assert "wrote " not in out  # never writes docs in the test


def check_embed_scorer_service(out: str) -> None:
    m = re.search(r"equal to the batch path: (\d+) of (\d+)", out)
    assert m, out
    assert int(m.group(1)) == int(m.group(2)) > 0
    assert re.search(r"(\d+) requests from \d+ threads", out)
    assert "model loaded once" in out
    assert "bad record -> HTTP 400" in out


def check_score_at_scale_dask(out: str) -> None:
    equal = re.findall(r"equal to the single-machine features \(exactly\) and scores: yes", out)
    assert len(equal) == 2, out  # households and family farms
    assert re.search(r"\d[\d,]* households scored", out)


def check_subsidy_eligibility(out: str) -> None:
    m = re.search(r"(\d+) of (\d+) eligible", out)
    assert m, out
    eligible, total = int(m.group(1)), int(m.group(2))
    assert 0 < eligible < total  # decisions both ways
    assert "not_listed" in out and re.search(r"\bunmet\b", out) and re.search(r"\bmet\b", out)
    assert "joint punishment:" in out
    assert "chain check: the chain is intact" in out


def _shares(out: str, name: str) -> list[float]:
    """Values of a ``name`` column of the printed tables, or of ``name 0.83`` / ``name: 83%`` inline."""
    values: list[float] = []
    lines = out.splitlines()
    for i, line in enumerate(lines):
        header = line.split()
        if name not in header or "recall" not in header or "precision" not in header:
            continue
        col = header.index(name) - len(header)  # from the right: row labels may hold spaces
        for row in lines[i + 1:]:
            cells = row.split()
            if len(cells) < len(header):
                break
            try:
                values.append(float(cells[col].rstrip("%")) / (100 if cells[col].endswith("%") else 1))
            except ValueError:  # "—" for a rule that flagged nobody
                continue
    if not values:
        for m in re.finditer(rf"{name}\W{{0,3}}(\d+(?:\.\d+)?)(%?)", out, re.IGNORECASE):
            values.append(float(m.group(1)) / (100 if m.group(2) else 1))
    return values


def check_risk_warnings(out: str) -> None:
    for name in ("precision", "recall"):
        values = _shares(out, name)
        assert values, f"no {name} figures:\n{out[-3000:]}"
        finite = [v for v in values if v == v]
        assert finite and all(0.0 <= v <= 1.0 for v in finite), (name, values)
        assert any(v > 0 for v in finite), (name, values)  # the rules find something


def check_nothing_more(out: str) -> None:
    assert out.strip()


@dataclass(frozen=True)
class Case:
    args: tuple[str, ...] = ("--households", "800")
    check: Callable[[str], None] = check_nothing_more
    #: prints (masked) resident ID numbers: at least one must appear in the masked form
    shows_ids: bool = False
    extra_env: dict[str, str] = field(default_factory=dict)


#: The smallest sensible size of each script; an unknown (new) script runs with the default Case.
CASES: dict[str, Case] = {
    "rate_households": Case(("--households", "600"), check_rate_households, shows_ids=True),
    "credit_villages": Case(("--households", "600"), check_credit_villages, shows_ids=True),
    "compare_models": Case(("--households", "1500"), check_compare_models),
    "embed_scorer_service": Case(("--households", "300", "--threads", "4"), check_embed_scorer_service,
                                 shows_ids=True),
    "score_at_scale_dask": Case(("--households", "500", "--npartitions", "3"), check_score_at_scale_dask,
                                shows_ids=True),
    "subsidy_eligibility": Case(("--households", "600"), check_subsidy_eligibility, shows_ids=True),
    "risk_warnings": Case(("--households", "800"), check_risk_warnings),
}


def run_example(script: Path, args: tuple[str, ...], extra_env: dict[str, str] | None = None
                ) -> subprocess.CompletedProcess[str]:
    assert "--write-docs" not in args
    env = dict(os.environ)  # PYTHONHASHSEED and the rest as the caller has them
    env["PYTHONIOENCODING"] = "utf-8"
    env.update(extra_env or {})
    return subprocess.run([sys.executable, str(script), *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, encoding="utf-8", errors="replace", timeout=TIMEOUT_S, check=False)


def test_examples_are_found() -> None:
    names = {p.stem for p in EXAMPLES}
    assert {"rate_households", "credit_villages", "compare_models", "embed_scorer_service",
            "score_at_scale_dask", "subsidy_eligibility"} <= names


def test_raw_id_pattern() -> None:
    raw = "11010519491231002X"
    assert RAW_ID.search(f"head {raw} listed")
    assert RAW_ID.search("530102199001011234")
    assert not RAW_ID.search(f"head {mask_resident_id(raw)} listed")
    assert MASKED_ID.search(f"head {mask_resident_id(raw)} listed")
    assert not RAW_ID.search("93530112MAP4PTQ4XW L52b28a9d17474e38bbf1 5301281012011")
    assert raw_ids(f"{raw} and 530102199001011235") == [raw, "530102199001011235"]  # invalid ones too
    uscc = make_uscc("93", "530128", "10000000")  # all digits: the shape of an ID number, but public
    assert RAW_ID.fullmatch(uscc) and raw_ids(f"cooperative {uscc}") == []


@pytest.mark.parametrize("script", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_runs(script: Path) -> None:
    case = CASES.get(script.stem, Case())
    proc = run_example(script, case.args, case.extra_env)
    tail = f"\n--- stdout (end) ---\n{proc.stdout[-3000:]}\n--- stderr (end) ---\n{proc.stderr[-3000:]}"
    assert proc.returncode == 0, f"{script.name} exited {proc.returncode}{tail}"
    assert "Traceback" not in proc.stderr, tail
    for stream, text in (("stdout", proc.stdout), ("stderr", proc.stderr)):
        leaked = raw_ids(text)
        assert not leaked, f"{script.name} printed {len(leaked)} unmasked ID number(s) on {stream}"
    if case.shows_ids:
        assert MASKED_ID.search(proc.stdout), f"{script.name} shows no masked ID number{tail}"
    case.check(proc.stdout)
