"""Tests of screening: exact identifier matches, masked numbers for review, records and rescreening."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest
from sqlalchemy import select

from ruralcredit import ids
from ruralcredit.blacklist import Registry
from ruralcredit.errors import SchemaError
from ruralcredit.store import open_store
from ruralcredit.store import tables as t

A = ids.make_resident_id("530102", dt.date(1980, 1, 1), 12)  # listed, 张三
B = ids.make_resident_id("530102", dt.date(1981, 2, 3), 45)  # never listed
C = ids.make_resident_id("530112", dt.date(1990, 3, 8), 44)  # listed later
ORG = ids.make_uscc("91", "530112", "MA6K0002")


def masked(number: str) -> str:
    return number[:6] + "*" * 8 + number[-4:]


def listing(reg: Registry, subject: str, name: str, doc: str, **kw):
    args = dict(name=name, category="debt.malicious_evasion", severity="serious", legal_basis="law",
                source_institution="bank", document_number=doc, evidence_hash="0" * 64,
                effective_date="2025-01-10", by="maker")
    args.update(kw)
    lst = reg.propose(subject, **args)
    return reg.approve(lst.listing_id, by="checker")


@pytest.fixture()
def reg() -> Registry:
    r = Registry(open_store("sqlite://"))
    listing(r, A, "张三", "a1")
    listing(r, ORG, "某农业公司", "o1", category="finance.illegal_fundraising")
    return r


SUBJECTS = pd.DataFrame({
    "subject_id": ["exact", "legacy", "lower", "masked_same_name", "masked_other_name", "masked_no_name",
                   "name_only", "clean", "org"],
    "id_number": [A, A[:6] + A[8:17], A.lower(), masked(A), masked(A), masked(A), None, B, None],
    "uscc": [None, None, None, None, None, None, None, None, ORG.lower()],
    "name": ["张三", "张三", "张三", " 张 三 ", "李四", None, "张三", "王五", "某农业公司"],
})


def test_screen_matches_exact_identifiers_and_flags_masked_numbers_with_the_same_name(reg):
    out = reg.screen(SUBJECTS, by="screener", on="2025-06-01").set_index("subject_id")
    assert out["result"].to_dict() == {
        "exact": "listed", "legacy": "listed", "lower": "listed", "masked_same_name": "review",
        "masked_other_name": "clear", "masked_no_name": "unknown", "name_only": "unknown", "clean": "clear",
        "org": "listed"}
    assert out.loc["exact", "match"] == "exact_id" and out.loc["masked_same_name", "match"] == "masked_id_name"
    assert out.loc["exact", "categories"] == "debt.malicious_evasion" and out.loc["exact", "severity"] == "serious"
    assert out.loc["org", "categories"] == "finance.illegal_fundraising"
    assert out.loc["exact", "subject_masked"] == masked(A) and A not in out.to_string()


def test_a_name_alone_never_lists(reg):
    out = reg.screen(pd.DataFrame({"subject_id": ["n"], "id_number": [B], "name": ["张三"]}), by="s",
                     on="2025-06-01")
    assert out["result"].tolist() == ["clear"]


def test_screening_respects_the_date_and_row_order(reg):
    before = reg.screen(SUBJECTS, by="s", on="2025-01-09")
    assert set(before["result"]) <= {"clear", "unknown"}
    shuffled = SUBJECTS.sample(frac=1.0, random_state=3).reset_index(drop=True)
    a = reg.screen(SUBJECTS, by="s", on="2025-06-01").set_index("subject_id").sort_index()
    b = reg.screen(shuffled, by="s", on="2025-06-01").set_index("subject_id").sort_index()
    pd.testing.assert_frame_equal(a, b)


def test_every_screening_is_recorded_without_raw_identifiers(reg):
    version = reg.version
    out = reg.screen(SUBJECTS, by="screener", on="2025-06-01")
    rec = reg.screenings().iloc[-1]
    assert rec["screened_by"] == "screener" and rec["registry_version"] == version
    assert (rec["n_subjects"], rec["n_listed"], rec["n_review"]) == (9, 4, 1)
    assert out.attrs == {"screening_id": rec["screening_id"], "registry_version": version}
    assert reg.audit_trail()["kind"].iloc[-1] == "screening.screen"
    with reg.store.read() as conn:
        rows = conn.execute(select(t.bl_screening_results)).mappings().all()
    text = json.dumps([dict(r) for r in rows], ensure_ascii=False)
    for raw in (A, A.lower(), A[:6] + A[8:17], B):
        assert raw not in text
    refs = {r["subject_id"]: r for r in rows}
    assert refs["exact"]["subject_ref"] == refs["legacy"]["subject_ref"] == ids.pseudonymize(A, reg.store.pseudonym_key)
    assert refs["name_only"]["ref_kind"] == "none" and refs["name_only"]["subject_ref"] is None
    assert reg.verify().ok


def test_rescreen_lists_subjects_whose_result_changed(reg):
    reg.screen(SUBJECTS, by="s", on="2025-06-01")
    assert reg.rescreen(by="s", on="2025-06-01").empty
    # a new listing for a clean subject, and the masked one's listing is repaired
    listing(reg, B, "王五", "b1", effective_date="2025-05-01")
    lst_a = reg.listings(subject=A)["listing_id"].iloc[0]
    req = reg.request_repair(lst_a, by="张三", on="2026-02-01", obligations_met=True)
    reg.approve_removal(req.request_id, by="checker")
    changed = reg.rescreen(by="s", on="2026-03-01").set_index("subject_id")
    assert changed["result"].to_dict() == {"exact": "clear", "legacy": "clear", "lower": "clear",
                                           "masked_same_name": "clear", "clean": "listed"}
    assert changed.loc["clean", "previous_result"] == "clear"
    assert changed.loc["exact", "previous_listing_ids"] == lst_a and changed.loc["exact", "listing_ids"] == ""
    assert reg.rescreen(by="s", on="2026-03-01").empty  # recorded: nothing changed since
    listing(reg, C, "张三", "c1", effective_date="2026-01-01")  # same name, other number: no masked match
    listing(reg, A, "张三", "a2", effective_date="2026-02-15")
    again = reg.rescreen(by="s", on="2026-03-01").set_index("subject_id")
    assert again["result"].to_dict() == {"exact": "listed", "legacy": "listed", "lower": "listed",
                                         "masked_same_name": "review"}
    assert reg.verify().ok


@pytest.mark.parametrize("frame, problem", [
    (pd.DataFrame({"subject_id": ["a", "a"], "id_number": [A, B]}), "duplicate_key"),
    (pd.DataFrame({"subject_id": ["a", None], "id_number": [A, B]}), "null"),
    (pd.DataFrame({"subject_id": ["a"], "name": ["张三"]}), "missing_columns"),
    (pd.DataFrame({"id_number": [A]}), "missing_columns"),
    (pd.DataFrame({"subject_id": ["a"], "id_number": ["530102198001010121"]}), "identifier"),
    (pd.DataFrame({"subject_id": ["a"], "id_number": [5301021980]}), "dtype"),
    (pd.DataFrame({"subject_id": ["a"], "id_number": ["530102****123X"]}), "identifier"),
    (pd.DataFrame({"subject_id": ["a"], "uscc": ["91530112MA6K00022Z"]}), "identifier"),
    (pd.DataFrame({"subject_id": ["a"], "id_number": [A], "uscc": [ORG]}), "ambiguous_identifier"),
    ([{"subject_id": "a", "id_number": A}], "type"),
])
def test_malformed_subject_frames_are_schema_errors(reg, frame, problem):
    before = reg.version
    with pytest.raises(SchemaError) as err:
        reg.screen(frame, by="s", on="2025-06-01")
    assert err.value.problem == problem
    assert A not in str(err.value)
    assert reg.version == before  # nothing recorded
