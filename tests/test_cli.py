"""The command line: every command with good and bad input; masked IDs; one-line errors, exit code 2."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from ruralcredit.cli import main, read_table, read_tables, write_table
from ruralcredit.errors import InputError
from ruralcredit.synth import make_county
from support import raw_ids

AS_OF = "2026-06-30"


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("cli")
    assert main(["synth", "--households", "400", "--seed", "3", "--out", str(d / "tables")]) == 0
    return d


@pytest.fixture(scope="module")
def scored(workdir: Path) -> Path:
    assert main(["features", "--tables", str(workdir / "tables"), "--as-of", AS_OF,
                 "--out", str(workdir / "features.parquet")]) == 0
    assert main(["score", "--features", str(workdir / "features.parquet"), "--as-of", AS_OF,
                 "--assume-not-listed", "--out", str(workdir / "scores.parquet")]) == 0
    return workdir


def _no_raw_ids(text: str) -> None:
    assert not raw_ids(text), "an unmasked resident ID number was printed"


def test_synth_writes_every_table(workdir: Path) -> None:
    tables = read_tables(workdir / "tables")
    assert {"households", "loans", "repayments", "villages"} <= set(tables)
    assert len(tables["households"]) == 400


def test_features_and_score(scored: Path, capsys: pytest.CaptureFixture[str]) -> None:
    feats = pd.read_parquet(scored / "features.parquet")
    scores = pd.read_parquet(scored / "scores.parquet")
    assert len(feats) == len(scores) == 400
    assert {"subject_id", "score", "grade", "reason_1", "reason_1_zh", "reason_1_en"} <= set(scores.columns)
    _no_raw_ids(capsys.readouterr().out)


def test_score_refuses_features_without_blacklist_flag(scored: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["score", "--features", str(scored / "features.parquet"), "--as-of", AS_OF,
                 "--out", str(scored / "x.parquet")])
    err = capsys.readouterr().err
    assert code == 2 and "blacklisted" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_score_with_saved_model(scored: Path) -> None:
    from ruralcredit.models import ExpertScorecard, save

    feats = pd.read_parquet(scored / "features.parquet").assign(blacklisted=False)
    card = ExpertScorecard("household", as_of=AS_OF).fit(feats)
    save(card, scored / "model.json")
    feats.to_csv(scored / "features.csv", index=False)
    assert main(["score", "--features", str(scored / "features.csv"), "--model", str(scored / "model.json"),
                 "--as-of", AS_OF, "--out", str(scored / "scores_model.csv")]) == 0
    a = pd.read_parquet(scored / "scores.parquet").set_index("subject_id")["score"]
    b = pd.read_csv(scored / "scores_model.csv").set_index("subject_id")["score"]
    pd.testing.assert_series_equal(a.sort_index(), b.sort_index(), check_dtype=False)


def test_rate_households_villages_townships(scored: Path) -> None:
    d = str(scored)
    assert main(["rate", "households", "--scores", f"{d}/scores.parquet", "--features", f"{d}/features.parquet",
                 "--as-of", AS_OF, "--out", f"{d}/terms.parquet"]) == 0
    terms = pd.read_parquet(scored / "terms.parquet")
    assert {"line", "term_months", "rate", "line_rule", "rate_rule"} <= set(terms.columns)
    for level in ("villages", "townships"):
        assert main(["rate", level, "--scores", f"{d}/scores.parquet", "--tables", f"{d}/tables",
                     "--as-of", AS_OF, "--out", f"{d}/{level}.csv"]) == 0
        summary = pd.read_csv(scored / f"{level}.csv")
        criteria = pd.read_csv(scored / f"{level}_criteria.csv")
        assert f"credit_{level[:-1]}" in summary.columns and {"value", "threshold", "status"} <= set(criteria)


def test_rate_villages_needs_tables(scored: Path) -> None:
    with pytest.raises(SystemExit) as info:
        main(["rate", "villages", "--scores", str(scored / "scores.parquet"), "--as-of", AS_OF,
              "--out", str(scored / "v.csv")])
    assert info.value.code == 2


def test_warn_records_cases(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = workdir / "warn.db"
    assert main(["warn", "--tables", str(workdir / "tables"), "--as-of", AS_OF, "--out",
                 str(workdir / "warnings.parquet"), "--store", str(db), "--by", "analyst"]) == 0
    out = capsys.readouterr().out
    warnings = pd.read_parquet(workdir / "warnings.parquet")
    assert len(warnings) > 0 and "opened" in out.split("cases:")[1]
    # recording the same warnings again joins nothing new
    assert main(["warn", "--tables", str(workdir / "tables"), "--as-of", AS_OF, "--out",
                 str(workdir / "warnings2.parquet"), "--store", str(db), "--by", "analyst"]) == 0
    assert "opened" not in capsys.readouterr().out.split("cases:")[1]


def test_warn_with_store_needs_by(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["warn", "--tables", str(workdir / "tables"), "--as-of", AS_OF, "--out",
                 str(workdir / "w.parquet"), "--store", str(workdir / "w.db")])
    assert code == 2 and "--by" in capsys.readouterr().err


def test_blacklist_lifecycle_and_eligibility(scored: Path, capsys: pytest.CaptureFixture[str]) -> None:
    d = str(scored)
    db = f"{d}/registry.db"
    hh = read_tables(scored / "tables")["households"]
    head = hh["head_id_number"].iloc[0]
    assert main(["blacklist", "propose", "--store", db, "--by", "clerk", "--subject", head, "--name", "张三",
                 "--effective", "2026-05-01", "--legal-basis", "test", "--institution", "RCC",
                 "--document", "RCC-2026-001", "--evidence-hash", "ab" * 32]) == 0
    out = capsys.readouterr().out
    _no_raw_ids(out)
    listing_id = re.search(r"proposed (\S+)", out).group(1)
    # the maker cannot approve their own proposal
    assert main(["blacklist", "approve", "--store", db, "--by", "clerk", "--listing-id", listing_id]) == 2
    assert "Traceback" not in capsys.readouterr().err
    assert main(["blacklist", "approve", "--store", db, "--by", "supervisor", "--listing-id", listing_id]) == 0
    assert main(["blacklist", "list", "--store", db, "--on", AS_OF]) == 0
    listed = capsys.readouterr().out
    assert listing_id in listed
    _no_raw_ids(listed)

    subjects = hh[["subject_id", "head_id_number", "head_name"]].rename(
        columns={"head_id_number": "id_number", "head_name": "name"})
    write_table(subjects, scored / "subjects.csv")
    assert main(["blacklist", "screen", "--store", db, "--by", "clerk", "--on", AS_OF, "--subjects",
                 f"{d}/subjects.csv", "--out", f"{d}/screen.parquet"]) == 0
    screen = pd.read_parquet(scored / "screen.parquet")
    assert (screen["result"] == "listed").sum() == 1
    _no_raw_ids(capsys.readouterr().out)

    feats = pd.read_parquet(scored / "features.parquet")
    facts = subjects[["subject_id", "id_number"]].merge(
        feats[["subject_id", "has_npl_now", "max_overdue_days_24m"]].rename(
            columns={"has_npl_now": "has_npl", "max_overdue_days_24m": "worst_overdue_days_24m"}), on="subject_id")
    write_table(facts, scored / "facts.parquet")
    assert main(["eligibility", "--subjects", f"{d}/facts.parquet", "--store", db, "--tables", f"{d}/tables",
                 "--as-of", AS_OF, "--out", f"{d}/eligible.parquet"]) == 0
    decisions = pd.read_parquet(scored / "eligible.parquet")
    listed_row = decisions[decisions["subject_id"] == subjects["subject_id"].iloc[0]].iloc[0]
    assert not listed_row["eligible"]
    details = pd.read_parquet(scored / "eligible_details.parquet")
    assert set(details["outcome"].astype(str)) <= {"met", "unmet", "unknown"}

    # credit repair before the minimum publicity period is refused
    assert main(["blacklist", "repair", "--store", db, "--by", "clerk", "--listing-id", listing_id,
                 "--on", AS_OF, "--obligations-met"]) == 2
    assert "minimum publicity period" in capsys.readouterr().err
    assert main(["blacklist", "remove", "--store", db, "--by", "clerk", "--listing-id", listing_id,
                 "--on", AS_OF, "--reason", "data_error"]) == 0
    req = re.search(r"removal requested: (\S+)", capsys.readouterr().out).group(1)
    assert main(["blacklist", "approve-removal", "--store", db, "--by", "supervisor", "--request-id", req]) == 0
    assert main(["blacklist", "verify", "--store", db]) == 0
    assert "verified" in capsys.readouterr().out


def test_blacklist_propose_invalid_id_is_masked(scored: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = "360426199101010072"  # wrong check character
    code = main(["blacklist", "propose", "--store", str(scored / "bad.db"), "--by", "clerk", "--subject", bad,
                 "--name", "x", "--effective", "2026-05-01", "--legal-basis", "t", "--institution", "RCC",
                 "--document", "D1", "--evidence-hash", "ab" * 32])
    err = capsys.readouterr().err
    assert code == 2 and bad not in err and "Traceback" not in err


def test_blacklist_action_needs_its_arguments(scored: Path) -> None:
    with pytest.raises(SystemExit) as info:
        main(["blacklist", "approve", "--store", str(scored / "r.db"), "--by", "x"])
    assert info.value.code == 2


def test_report_command(scored: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = scored / "report.html"
    assert main(["report", "--tables", str(scored / "tables"), "--as-of", AS_OF, "--out", str(out),
                 "--store", str(scored / "report.db"), "--results", str(scored / "results")]) == 0
    page = out.read_text(encoding="utf-8")
    assert "<html" in page and "data:image/png;base64," in page
    assert (scored / "results" / "villages.parquet").is_file()
    text = capsys.readouterr().out
    assert str(out.resolve()) in text


def _exit_code(argv: list[str]) -> int | str | None:
    """``main``'s exit code, also for argparse's own usage errors (which exit)."""
    try:
        return main(argv)
    except SystemExit as exc:
        return exc.code


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["features", "--tables", "/nonexistent", "--as-of", AS_OF, "--out", "f.parquet"], "no such directory"),
        (["features", "--tables", ".", "--as-of", "2026-02-30", "--out", "f.parquet"], "date"),
        (["synth", "--households", "0", "--out", "x"], "positive"),
    ],
)
def test_bad_input_is_one_line_no_traceback(argv: list[str], needle: str, capsys: pytest.CaptureFixture[str]) -> None:
    code = _exit_code(argv)
    err = capsys.readouterr().err
    assert code == 2 and needle in err and "Traceback" not in err


def test_bad_table_file_is_a_typed_error(tmp_path: Path) -> None:
    (tmp_path / "loans.txt").write_text("x")
    with pytest.raises(InputError):
        read_table(tmp_path / "loans.txt", "loans")
    with pytest.raises(InputError):
        write_table(pd.DataFrame({"a": [1]}), tmp_path / "out.xlsx")


def test_csv_keeps_identifier_text(tmp_path: Path) -> None:
    county = make_county(households=200, seed=1)
    county.households.to_csv(tmp_path / "households.csv", index=False)
    back = read_table(tmp_path / "households.csv", "households")
    assert back["village_code"].tolist() == county.households["village_code"].tolist()


def test_module_entry_point_exit_code() -> None:
    proc = subprocess.run([sys.executable, "-m", "ruralcredit", "features", "--tables", "/nonexistent",
                           "--as-of", AS_OF, "--out", "x.parquet"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and "no such directory" in proc.stderr


@pytest.mark.parametrize(
    ("command", "needle"),
    [
        (["report", "--tables", "/nonexistent", "--as-of", AS_OF, "--out", "{d}/r.html"], "no such directory"),
        (["eligibility", "--subjects", "{d}/scores.parquet", "--policy", "no-such-policy", "--as-of", AS_OF,
          "--out", "{d}/e.parquet"], "no built-in eligibility pack"),
        (["warn", "--tables", "{d}/tables", "--rules", "no-such-rules", "--as-of", AS_OF, "--out", "{d}/w.parquet"],
         "no built-in warning_rules pack"),
        (["score", "--features", "{d}/features.parquet", "--template", "no-such", "--as-of", AS_OF,
          "--assume-not-listed", "--out", "{d}/s.parquet"], "no built-in template pack"),
        (["rate", "households", "--scores", "{d}/scores.parquet", "--features", "{d}/tables/households.parquet",
          "--as-of", AS_OF, "--out", "{d}/t.parquet"], "missing columns"),
        (["demo", "--households", "0", "--out", "{d}/demo"], "positive"),
    ],
    ids=["report", "eligibility", "warn", "score", "rate", "demo"],
)
def test_each_command_refuses_bad_input_in_one_line(scored: Path, command: list[str], needle: str,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    code = _exit_code([a.format(d=scored) for a in command])
    err = capsys.readouterr().err
    assert code == 2 and needle in err and "Traceback" not in err
    assert len([ln for ln in err.splitlines() if "error:" in ln]) == 1
