"""The main job end to end: run_county and the demo."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from ruralcredit.blacklist import Registry
from ruralcredit.errors import InputError, PolicyError
from ruralcredit.pipeline import confirmed_cases, count_steps, listed_subjects, run_county
from ruralcredit.risk.cases import CaseBook
from ruralcredit.store import open_store
from ruralcredit.synth import make_county


@pytest.fixture(scope="module")
def county():
    return make_county(households=600, seed=5)


def _list_household(registry: Registry, county, subject_id: str) -> str:
    row = county.households.set_index("subject_id").loc[subject_id]
    listing = registry.propose(row["head_id_number"], name=row["head_name"], category="debt.malicious_evasion",
                               severity="ordinary", legal_basis="test", source_institution="RCC",
                               document_number="D-1", evidence_hash="ab" * 32,
                               effective_date=county.as_of - pd.Timedelta(days=10), by="clerk")
    registry.approve(listing.listing_id, by="supervisor")
    return listing.listing_id


def test_run_without_registry(county) -> None:
    steps: list[str] = []
    run = run_county(county, county.as_of, templates={"household": "household"}, progress=steps.append)
    assert len(steps) == count_steps(templates={"household": "household"}) == len(set(steps))
    assert run.eligibility is None and run.cases is None
    assert len(run.households) == len(county.households)
    assert set(run.scores) == {"household"}
    assert not run.features["household"]["blacklisted"].any()
    assert run.record["templates"]["household"]["id"] == "household"
    # terms only for credit households
    terms = run.terms.merge(run.households[["subject_id", "credit_household"]], on="subject_id")
    assert (terms.loc[~terms["credit_household"], "line"] == 0).all()
    assert (terms.loc[terms["credit_household"], "line"] > 0).all()


def test_listing_vetoes_grade_eligibility_and_village(county, tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 's.db'}")
    registry, book = Registry(store), CaseBook(store)
    target = county.households["subject_id"].iloc[3]
    _list_household(registry, county, target)
    listed = listed_subjects(county.tables, registry, county.as_of)
    # the household (by its head) and the head as a person
    head = county.persons[(county.persons["household_id"] == target) & (county.persons["relation"] == "head")]
    assert sorted(listed["subject_id"]) == sorted([target, head["person_id"].iloc[0]])

    steps: list[str] = []
    run = run_county(county, county.as_of, registry=registry, case_book=book,
                     templates={"household": "household"}, progress=steps.append)
    assert len(steps) == count_steps(templates={"household": "household"}, registry=registry, case_book=book)
    assert "subsidy eligibility" in steps and "recording warnings in cases" in steps
    row = run.households.set_index("subject_id").loc[target]
    assert str(row["grade"]) == "VETO" and not row["credit_household"]
    decision = run.eligibility.decisions.set_index("subject_id").loc[target]
    assert not decision["eligible"]
    village = county.households.set_index("subject_id").loc[target, "village_code"]
    vetoes = run.villages.criteria
    ev = vetoes[(vetoes["village_code"] == village) & (vetoes["criterion"] == "malicious_evasion")]
    assert (ev["status"] == "not_met").all() and len(ev) == 1
    assert not run.villages.summary.set_index("village_code").loc[village, "credit_village"]
    # every warning was recorded in a case
    assert run.cases is not None and set(run.cases["warning_id"]) == set(run.warnings["warning_id"])
    assert store.verify().ok

    paths = run.write(tmp_path / "results")
    back = pd.read_parquet(paths["eligibility_details"])
    assert len(back) == len(run.eligibility.details)
    assert isinstance(pd.read_parquet(paths["warnings"])["evidence"].iloc[0], str)


def test_only_confirmed_cases_count(county, tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'c.db'}")
    book = CaseBook(store)
    from ruralcredit.risk import scan

    w = scan(county, "early-warning", county.as_of)
    book.open_cases(w, by="system")
    assert confirmed_cases(book).empty  # new cases are candidates, not confirmed matters
    case_id = book.cases()["case_id"].iloc[0]
    book.analyse(case_id, by="analyst")
    book.verify_risk(case_id, by="analyst")
    got = confirmed_cases(book)
    assert len(got) == 1 and got["subject_id"].iloc[0] == book.get(case_id).subject_id
    assert confirmed_cases(None) is None


def test_a_village_only_pack_rates_villages_only(county, tmp_path: Path) -> None:
    from ruralcredit.packs import load_pack
    from ruralcredit.rating import VillageCriteria

    base = load_pack("zhaoyang-2014", VillageCriteria, county.as_of)
    village_only = base.model_copy(update={"payload": base.payload.model_copy(update={"township": None,
                                                                                      "county": None})})
    run = run_county(county, county.as_of, templates={"household": "household"}, criteria=village_only)
    assert run.townships is None and run.county is None
    assert len(run.villages.summary) == len(county.villages)
    paths = run.write(tmp_path / "results")
    assert "villages" in paths and "townships" not in paths and "county" not in paths


def test_bad_inputs(county) -> None:
    with pytest.raises(InputError):
        run_county(county, None)
    with pytest.raises(InputError):
        run_county([1, 2], county.as_of)
    with pytest.raises(InputError):
        run_county(county, county.as_of, templates={"family_farm": "family_farm"})
    with pytest.raises(PolicyError):
        run_county(county, county.as_of, templates={"household": "household"}, criteria="no-such-criteria")


def test_demo_runs_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from ruralcredit.demo import run_demo

    report = run_demo(tmp_path / "demo", households=600, seed=2)
    captured = capsys.readouterr()
    out = captured.out
    total = 3 + count_steps(registry=True, case_book=True)
    assert f"[{total}/{total}]" in captured.err and f"[{total + 1}/" not in captured.err
    assert report.is_file() and str(report.resolve()) in out
    assert "audit chain           verified" in out
    page = report.read_text(encoding="utf-8")
    assert "data:image/png;base64," in page
    assert (tmp_path / "demo" / "ruralcredit.db").is_file()
    assert (tmp_path / "demo" / "results" / "households.parquet").is_file()
    # rerunning replaces the store instead of appending to it
    run_demo(tmp_path / "demo", households=600, seed=2)
    assert "audit chain           verified" in capsys.readouterr().out
