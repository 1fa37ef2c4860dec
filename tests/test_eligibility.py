"""Tests of subsidy eligibility: policy packs, every condition evaluated, unknowns, records, golden cases."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from ruralcredit import __version__, ids
from ruralcredit.blacklist import EligibilityPolicy, Registry, check_eligibility, load_decisions
from ruralcredit.blacklist.cases import run_cases
from ruralcredit.errors import InputError, PolicyError, SchemaError, StoreError
from ruralcredit.packs import builtin_pack_ids, load_pack, load_packs
from ruralcredit.store import open_store

GOLDEN = Path(__file__).parent / "golden" / "eligibility"
A = ids.make_resident_id("530102", dt.date(1980, 1, 1), 12)
B = ids.make_resident_id("530102", dt.date(1981, 2, 3), 45)
C = ids.make_resident_id("530112", dt.date(1990, 3, 8), 44)


@pytest.fixture(scope="module")
def reg() -> Registry:
    r = Registry(open_store("sqlite://"))
    lst = r.propose(A, name="张三", category="debt.malicious_evasion", severity="serious", legal_basis="law",
                    source_institution="bank", document_number="a1", evidence_hash="0" * 64,
                    effective_date="2025-01-10", by="maker")
    r.approve(lst.listing_id, by="checker")
    return r


def facts(**override) -> pd.DataFrame:
    df = pd.DataFrame({
        "subject_id": ["a", "b", "c"], "id_number": [A, B, C], "grade": ["AA", "A", "B"],
        "has_npl": [False, False, True], "worst_overdue_days_24m": [0.0, 90.0, 91.0],
        "credit_household": [True, True, False], "village_is_credit": [True, True, True],
    })
    for k, v in override.items():
        df[k] = v
    return df


# --- golden YAML cases ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("policy_id", builtin_pack_ids("eligibility"))
def test_builtin_policies_pass_their_golden_cases(policy_id):
    path = GOLDEN / f"{policy_id}.yaml"
    assert path.is_file(), f"no golden cases for built-in policy {policy_id}"
    results = run_cases(path)
    assert len(results) >= 10
    failed = results[~results["passed"]]
    assert failed.empty, failed.to_string()


def test_a_golden_case_that_expects_the_wrong_outcome_fails(tmp_path):
    case = tmp_path / "wrong.yaml"
    case.write_text(
        "policy: agri-subsidy\ncases:\n  - name: wrong\n    as_of: 2026-06-01\n    links: []\n"
        f"    input: {{id_number: \"{A}\", has_npl: true, worst_overdue_days_24m: 0}}\n"
        "    output: {eligible: true, conditions: {no_npl: met}}\n", encoding="utf-8")
    results = run_cases(case)
    assert results.set_index("item")["passed"].to_dict() == {"no_npl": False, "eligible": False,
                                                            "policy_version": True}
    bad = tmp_path / "bad.yaml"
    bad.write_text("cases: 3\n", encoding="utf-8")
    with pytest.raises(PolicyError):
        run_cases(bad)


# --- evaluation --------------------------------------------------------------------------------------------


def test_every_condition_is_evaluated_for_every_subject(reg):
    res = check_eligibility(facts(), "preferential-credit", reg, "2026-06-01", roles=None)
    assert len(res.details) == 3 * 6
    c = res.explain("c").set_index("condition")
    # c fails the grade first, yet every later condition still has its own outcome
    assert c["outcome"].astype(str).to_dict() == {
        "not_listed": "unknown", "min_grade_a": "unmet", "no_npl": "unmet", "no_overdue_90d_24m": "unmet",
        "credit_household": "unmet", "credit_village": "met"}
    assert c.loc["min_grade_a", "value"] == "B" and c.loc["no_overdue_90d_24m", "value"] == 91.0
    assert c.loc["min_grade_a", "reason_code"] == "PC-GR01" and "A级" in c.loc["min_grade_a", "legal_reference"]
    d = res.decisions.set_index("subject_id")
    assert d.loc["c", "unmet_conditions"] == "min_grade_a;no_npl;no_overdue_90d_24m;credit_household"
    assert d.loc["c", "unknown_conditions"] == "not_listed"
    assert (d["n_met"] + d["n_unmet"] + d["n_unknown"] == 6).all()


def test_eligible_only_when_all_conditions_are_met(reg):
    from ruralcredit.blacklist.cases import link_tables

    res = check_eligibility(facts(), "preferential-credit", reg, "2026-06-01", **link_tables([]))
    d = res.decisions.set_index("subject_id")
    assert d["eligible"].to_dict() == {"a": False, "b": True, "c": False}
    assert d.loc["a", "unmet_conditions"] == "not_listed"
    a = res.explain("a").set_index("condition")
    assert a.loc["not_listed", "value"] == reg.listings(subject=A)["listing_id"].iloc[0]
    assert list(res.decisions.columns[:7]) == ["subject_id", "eligible", "n_met", "n_unmet", "n_unknown",
                                               "unmet_conditions", "unknown_conditions"]


def test_missing_columns_and_values_are_unknown_never_met(reg):
    df = facts().drop(columns=["grade", "village_is_credit"])
    df["has_npl"] = pd.array([False, None, True], dtype="boolean")
    df["worst_overdue_days_24m"] = [np.nan, 0.0, 0.0]
    df["id_number"] = [None, B, C]
    res = check_eligibility(df, "preferential-credit", reg, "2026-06-01")
    out = res.details.pivot(index="subject_id", columns="condition", values="outcome").astype(str)
    assert (out["min_grade_a"] == "unknown").all() and (out["credit_village"] == "unknown").all()
    assert out.loc["b", "no_npl"] == "unknown" and out.loc["a", "no_overdue_90d_24m"] == "unknown"
    assert out.loc["a", "not_listed"] == "unknown"
    assert res.explain("a").set_index("condition").loc["not_listed", "value"] == "no identifier"
    assert not res.decisions["eligible"].any()


def test_without_a_registry_the_listing_condition_is_unknown():
    res = check_eligibility(facts(), "agri-subsidy", None, "2025-06-01")
    nl = res.details[res.details["condition"] == "not_listed"]
    assert set(nl["outcome"].astype(str)) == {"unknown"} and set(nl["value"]) == {"no registry"}
    assert res.record["registry_version"] is None


def test_policy_versions_are_chosen_by_date(reg):
    early = check_eligibility(facts(), "agri-subsidy", reg, "2026-03-31")
    late = check_eligibility(facts(), "agri-subsidy", reg, "2026-04-01")
    assert early.record["policy_version"] == "2024.1" and late.record["policy_version"] == "2026.1"
    assert early.record["policy_hash"] != late.record["policy_hash"]
    with pytest.raises(PolicyError):
        check_eligibility(facts(), "agri-subsidy", reg, "2023-12-31")
    pack = load_pack("agri-subsidy", EligibilityPolicy, "2025-01-01")
    with pytest.raises(PolicyError):
        check_eligibility(facts(), pack, reg, "2026-06-01")  # that version is no longer in force


def test_category_filter_and_decision_record(reg):
    pack = load_pack("agri-subsidy", EligibilityPolicy, "2025-06-01").model_dump(mode="json")
    pack["payload"]["conditions"][0]["categories"] = ["subsidy"]
    only_subsidy = EligibilityPolicy.model_validate(pack)
    res = check_eligibility(facts(), only_subsidy, reg, "2025-06-01")
    assert res.explain("a").set_index("condition").loc["not_listed", "outcome"] == "met"  # debt listing ignored
    full = check_eligibility(facts(), "agri-subsidy", reg, "2025-06-01")
    assert full.explain("a").set_index("condition").loc["not_listed", "outcome"] == "unmet"
    rec = full.record
    assert rec["policy_id"] == "agri-subsidy" and rec["library_version"] == __version__
    assert rec["registry_version"] == reg.version and rec["as_of"] == "2025-06-01"
    assert len(rec["input_hash"]) == 64 and (full.decisions["input_hash"] == rec["input_hash"]).all()
    changed = check_eligibility(facts(grade=["AA", "A", "A"]), "agri-subsidy", reg, "2025-06-01")
    assert changed.record["input_hash"] == rec["input_hash"]  # the hash covers what the policy reads
    other = check_eligibility(facts(has_npl=[False, False, False]), "agri-subsidy", reg, "2025-06-01")
    assert other.record["input_hash"] != rec["input_hash"]


def test_as_known_at_reads_the_registry_as_it_was(reg):
    before = reg.version
    extra = reg.propose(B, name="李四", category="subsidy.fraud", severity="ordinary", legal_basis="law",
                        source_institution="agri bureau", document_number="b1", evidence_hash="0" * 64,
                        effective_date="2025-05-01", by="maker")
    reg.approve(extra.listing_id, by="checker")
    then = check_eligibility(facts(), "agri-subsidy", reg, "2025-06-01", as_known_at=before)
    now = check_eligibility(facts(), "agri-subsidy", reg, "2025-06-01")
    assert then.explain("b").set_index("condition").loc["not_listed", "outcome"] == "met"
    assert now.explain("b").set_index("condition").loc["not_listed", "outcome"] == "unmet"


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_results_do_not_depend_on_row_order(seed):
    rng = np.random.default_rng(seed)
    n = 30
    df = pd.DataFrame({
        "subject_id": [f"s{i}" for i in range(n)],
        "grade": rng.choice(["AAA", "AA", "A", "B", "C", None], n),
        "has_npl": pd.array(rng.choice([True, False, None], n), dtype="boolean"),
        "worst_overdue_days_24m": np.where(rng.random(n) < 0.2, np.nan, rng.integers(0, 200, n)),
        "credit_household": rng.choice([True, False], n),
        "village_is_credit": rng.choice([True, False], n),
    })
    a = check_eligibility(df, "preferential-credit", None, "2026-06-01")
    perm = rng.permutation(n)
    b = check_eligibility(df.iloc[perm].reset_index(drop=True), "preferential-credit", None, "2026-06-01")
    cols = ["subject_id", "eligible", "n_met", "n_unmet", "n_unknown", "unmet_conditions", "unknown_conditions"]
    pd.testing.assert_frame_equal(a.decisions[cols].set_index("subject_id").sort_index(),
                                  b.decisions[cols].set_index("subject_id").sort_index())
    key = ["subject_id", "condition"]
    da = a.details.astype({"subject_id": str, "condition": str, "outcome": str}).sort_values(key).reset_index(drop=True)
    db = b.details.astype({"subject_id": str, "condition": str, "outcome": str}).sort_values(key).reset_index(drop=True)
    pd.testing.assert_frame_equal(da[["subject_id", "condition", "outcome"]], db[["subject_id", "condition", "outcome"]])
    # eligible exactly when every condition is met
    met = a.details.assign(m=a.details["outcome"] == "met").groupby("subject_id")["m"].all()
    assert (a.decisions.set_index("subject_id")["eligible"] == met.reindex(a.decisions["subject_id"])).all()


# --- storing decisions ------------------------------------------------------------------------------------------


def test_decisions_are_stored_with_an_event_and_read_back(reg):
    res = check_eligibility(facts(), "preferential-credit", reg, "2026-06-01")
    before = reg.version
    run_id = res.save(reg.store, by="officer")
    assert reg.version == before + 1
    ev = reg.store.events().iloc[-1]
    assert ev["kind"] == "eligibility.decided" and ev["entity_id"] == run_id
    back = load_decisions(reg.store, run_id)
    assert back.record["policy_hash"] == res.record["policy_hash"]
    assert back.record["input_hash"] == res.record["input_hash"]
    pd.testing.assert_frame_equal(
        back.decisions[["subject_id", "eligible", "n_unmet", "n_unknown"]].reset_index(drop=True),
        res.decisions.sort_values("subject_id")[["subject_id", "eligible", "n_unmet", "n_unknown"]]
        .reset_index(drop=True), check_dtype=False)
    key = ["subject_id", "condition"]
    cols = {"subject_id": str, "condition": str, "outcome": str}
    got = back.details.astype(cols).sort_values(key)[["subject_id", "condition", "outcome"]]
    want = res.details.astype(cols).sort_values(key)[["subject_id", "condition", "outcome"]]
    pd.testing.assert_frame_equal(got.reset_index(drop=True), want.reset_index(drop=True))
    assert reg.store.verify().ok
    with reg.store.engine.begin() as conn:
        conn.execute(text("UPDATE el_decisions SET eligible = 1 WHERE subject_id = 'c' AND run_id = :r"), {"r": run_id})
    with pytest.raises(StoreError, match="does not match"):
        load_decisions(reg.store, run_id)
    with pytest.raises(StoreError):
        load_decisions(reg.store, "E-missing")
    with pytest.raises(InputError):
        res.save(reg.store, by="")


# --- malformed input and packs --------------------------------------------------------------------------------


@pytest.mark.parametrize("frame, problem", [
    (facts(grade=["AA", "Z", "A"]), "allowed"),
    (facts(worst_overdue_days_24m=[0, -1, 3]), "range"),
    (facts(worst_overdue_days_24m=["0", "1", "2"]), "dtype"),
    (facts(has_npl=["no", "no", "yes"]), "dtype"),
    (facts(credit_household=[1, 0, 1]), "dtype"),
    (facts(id_number=[A, "123", C]), "identifier"),
    (facts(subject_id=["a", "a", "c"]), "duplicate_key"),
    (facts().drop(columns=["subject_id"]), "missing_columns"),
])
def test_malformed_subjects_are_schema_errors(reg, frame, problem):
    with pytest.raises(SchemaError) as err:
        check_eligibility(frame, "preferential-credit", reg, "2026-06-01")
    assert err.value.problem == problem


def test_malformed_arguments_are_typed_errors(reg):
    with pytest.raises(InputError):
        check_eligibility(facts(), "agri-subsidy", "registry", "2026-06-01")
    with pytest.raises(InputError):
        check_eligibility(facts(), "agri-subsidy", reg, "someday")
    with pytest.raises(InputError):
        check_eligibility(facts(), 42, reg, "2026-06-01")
    with pytest.raises(PolicyError):
        check_eligibility(facts(), "no-such-policy", reg, "2026-06-01")


_PACK = {"id": "p", "kind": "eligibility", "version": "1", "effective_from": "2026-01-01", "jurisdiction": "53",
         "source": "test rules"}


def _cond(**kw):
    base = {"code": "c1", "type": "no_npl", "reason_code": "R1", "legal_reference": "rule 1", "label_zh": "无不良",
            "label_en": "no npl"}
    base.update(kw)
    return base


@pytest.mark.parametrize("conditions, field", [
    ([_cond(type="credit_score")], "payload.conditions.0.type"),
    ([_cond(type="min_grade")], "payload.conditions.0"),
    ([_cond(type="min_grade", grade="S")], "payload.conditions.0"),
    ([_cond(type="no_overdue_over", days=90)], "payload.conditions.0"),
    ([_cond(days=90)], "payload.conditions.0"),
    ([_cond(type="not_listed")], "payload.conditions.0"),
    ([_cond(type="not_listed", joint=True, categories=["nope"])], "payload.conditions.0"),
    ([_cond(), _cond()], "payload"),
    ([], "payload.conditions"),
    ([_cond(code="Bad Code")], "payload.conditions.0.code"),
    ([_cond(reason_code="")], "payload.conditions.0.reason_code"),
])
def test_malformed_eligibility_packs_are_policy_errors(conditions, field):
    with pytest.raises(PolicyError) as err:
        load_packs({**_PACK, "payload": {"conditions": conditions}}, EligibilityPolicy)
    assert err.value.field == field


def test_builtin_packs_load_and_cite_their_sources():
    assert {"agri-subsidy", "preferential-credit"} <= set(builtin_pack_ids("eligibility"))
    for pid in builtin_pack_ids("eligibility"):
        for pack in load_packs(Path(__file__).parents[1] / "src" / "ruralcredit" / "templates" / "builtin"
                               / "eligibility" / f"{pid}.yaml", EligibilityPolicy):
            assert pack.source and all(c.legal_reference and c.reason_code for c in pack.payload.conditions)
