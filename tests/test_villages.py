"""Credit villages, townships and counties: golden boundary cases, vetoes, periods, invariants."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ruralcredit.errors import InputError, PolicyError, SchemaError
from ruralcredit.ids import make_resident_ids
from ruralcredit.packs import load_pack, load_packs
from ruralcredit.rating.periods import compare_periods, criteria_moves, rate_periods, rating_in_force
from ruralcredit.rating.villages import (
    AreaRating,
    VillageCriteria,
    rate_counties,
    rate_townships,
    rate_villages,
    village_stars_for,
)
from support import fenced_blocks

GOLDEN = Path(__file__).parent / "golden" / "villages"
BUILTIN = Path(__file__).parents[1] / "src" / "ruralcredit" / "templates" / "builtin" / "village_criteria"

# ---------------------------------------------------------------------------------------------------------
# A builder of small, valid tables from a compact description of each village
# ---------------------------------------------------------------------------------------------------------

_HH_CONSTANTS: dict[str, Any] = {
    "head_name": "户主", "size": 4, "labour_force": 2, "head_education": "junior", "head_health": "good",
    "head_marital_status": "married", "annual_income": 50000.0, "operating_income": 30000.0,
    "annual_expenses": 20000.0, "house_area": 100.0, "house_structure": "brick_concrete", "house_value": 1e5,
    "land_mu": 5.0, "livestock_units": 1.0, "machinery_value": 0.0, "vehicle_value": 0.0, "deposits": 1e4,
    "other_assets": 0.0, "informal_debt": 0.0, "insurance_cover": 0.0, "honours": 0, "village_assessment": "good",
    "credit_report_status": "normal",
}


def household_id(code: str, i: int) -> str:
    return f"H{code}-{i:04d}"


def build_case(villages: list[dict[str, Any]], as_of: str, period: int = 0) -> tuple[dict[str, pd.DataFrame],
                                                                                       pd.DataFrame]:
    """Tables and scores for villages described by counts.

    Per village: ``households``, ``archived`` (the first ones), ``credit`` (credit households among the
    archived), ``credit_unarchived`` (credit grades among the others), ``borrowers`` (the first households,
    one loan each), ``late`` (late borrowers: one instalment unpaid for 30 days and 30 days overdue in the
    snapshot), ``total_balance`` and ``npl_balance`` (the first borrower's loan is non-performing and holds
    the NPL balance, the others share the rest), ``stale`` (loans whose snapshot is after as_of).
    """
    day = pd.Timestamp(as_of)
    vrows, hh, sc, loans, reps = [], [], [], [], []
    for v in villages:
        code = v["code"]
        vrows.append({"village_code": code, "village_name": f"村{code[-3:]}", "township_code": code[:9],
                      "township_name": f"乡{code[6:9]}", "county_code": code[:6]})
        n = v.get("households", 0)
        archived, credit = v.get("archived", n), v.get("credit", 0)
        credit_un = v.get("credit_unarchived", 0)
        for i in range(n):
            sid = household_id(code, i)
            arch = i < archived
            hh.append({"subject_id": sid, "village_code": code, "archived": arch,
                       "archived_date": pd.Timestamp("2020-01-01") if arch else pd.NaT})
            good = (i < credit) if arch else (i - archived < credit_un)
            sc.append({"subject_id": sid, "grade": "AA" if good else "B"})
        b = v.get("borrowers", 0)
        late, stale = v.get("late", 0), v.get("stale", 0)
        total = float(v.get("total_balance", 1000.0 * b))
        npl = float(v.get("npl_balance", 0.0))
        for i in range(b):
            if npl > 0:
                bal = npl if i == 0 else (total - npl) / max(b - 1, 1)
            else:
                bal = total / b
            lid = f"L{period}-{code}-{i:04d}"
            is_late = i >= b - late
            loans.append({
                "loan_id": lid, "borrower_id": household_id(code, i), "balance": bal, "amount": max(bal, 1.0),
                "overdue_days": 30 if is_late else 0,
                "five_class": "substandard" if (npl > 0 and i == 0) else ("special_mention" if is_late else "normal"),
                "snapshot_date": day + pd.Timedelta(days=5) if i < stale else day,
            })
            reps.append({"loan_id": lid, "instalment": 1, "due_date": day - pd.Timedelta(days=30), "due_amount": 100.0,
                         "paid_date": pd.NaT if is_late else day - pd.Timedelta(days=30),
                         "paid_amount": np.nan if is_late else 100.0})
    hdf = pd.DataFrame(hh, columns=["subject_id", "village_code", "archived", "archived_date"])
    nh = len(hdf)
    for k, val in _HH_CONSTANTS.items():
        hdf[k] = [val] * nh
    hdf["head_id_number"] = make_resident_ids("530102", np.full(nh, np.datetime64("1970-01-01")),
                                              np.arange(nh) % 1000) if nh else pd.Series([], dtype=object)
    hdf["survey_date"] = pd.Timestamp("2020-01-01")
    hdf["bad_credit_date"] = pd.NaT
    hdf["criminal_record_date"] = pd.NaT
    ldf = pd.DataFrame(loans, columns=["loan_id", "borrower_id", "balance", "amount", "overdue_days", "five_class",
                                       "snapshot_date"])
    nl = len(ldf)
    ldf = ldf.assign(borrower_type="household", institution="RCC", officer_id="O1", product="micro_credit",
                     purpose="planting", interest_rate=0.05, issue_date=day - pd.Timedelta(days=180),
                     maturity_date=day + pd.Timedelta(days=185), closed_date=pd.NaT)
    ldf["overdue_days"] = ldf["overdue_days"].astype("int64") if nl else ldf["overdue_days"]
    rdf = pd.DataFrame(reps, columns=["loan_id", "instalment", "due_date", "due_amount", "paid_date", "paid_amount"])
    vdf = pd.DataFrame(vrows, columns=["village_code", "village_name", "township_code", "township_name", "county_code"])
    tables = {"villages": vdf, "households": hdf, "loans": ldf, "repayments": rdf}
    return tables, pd.DataFrame(sc, columns=["subject_id", "grade"])


def _pack_doc(name: str) -> dict[str, Any]:
    return yaml.safe_load((BUILTIN / f"{name}.yaml").read_text(encoding="utf-8"))


def make_pack(name: str, overrides: dict[str, Any] | None = None) -> VillageCriteria:
    """A built-in pack with dotted-path overrides into its payload (``village.criteria.0.threshold``)."""
    doc = copy.deepcopy(_pack_doc(name))
    for path, value in (overrides or {}).items():
        node: Any = doc["payload"]
        *head, last = path.split(".")
        for part in head:
            node = node[int(part)] if isinstance(node, list) else node[part]
        node[int(last) if isinstance(node, list) else last] = value
    return load_packs(doc, VillageCriteria)[0]


ZHAOYANG = make_pack("zhaoyang-2014")
PREFECTURE = make_pack("autonomous-prefecture")


def _events(period: dict[str, Any]) -> tuple[pd.DataFrame | pd.Series | None, pd.DataFrame | None]:
    warnings = None
    if "warnings" in period:
        rows = [{"subject_id": household_id(w["village"], w["household"]) if "household" in w else None,
                 "village_code": w["village"], "category": w["category"],
                 "closed_date": pd.Timestamp(w["closed_date"]) if "closed_date" in w else pd.NaT}
                for w in period["warnings"]]
        warnings = pd.DataFrame(rows, columns=["subject_id", "village_code", "category", "closed_date"])
    blacklisted: pd.DataFrame | pd.Series | None = None
    if "blacklisted" in period:
        rows = [{"subject_id": household_id(b["village"], b["household"]), "reason": b["reason"]}
                for b in period["blacklisted"]]
        blacklisted = pd.DataFrame(rows, columns=["subject_id", "reason"])
    if "blacklisted_ids_only" in period:
        blacklisted = pd.Series([household_id(*x.split(":")[:1], int(x.split(":")[1]))
                                 for x in period["blacklisted_ids_only"]])
    return blacklisted, warnings


def run_case(case: dict[str, Any]):
    pack = make_pack(case["pack"], case.get("overrides"))
    dates, scores, tables, black, warn = [], {}, {}, {}, {}
    for i, period in enumerate(case["periods"]):
        day = pd.Timestamp(period["as_of"])
        dates.append(day)
        tables[day], scores[day] = build_case(period["villages"], str(day.date()), period=i)
        black[day], warn[day] = _events(period)
    return rate_periods(scores, tables, pack, dates, blacklisted=black, warnings=warn)


def _row_key(r: pd.Series) -> str:
    return f"stars{r['star_level']}:{r['criterion']}" if r["star_level"] > 0 else r["criterion"]


def check_expectation(result, exp: dict[str, Any]) -> None:
    ratings = result.level(exp.get("level", "village"))
    rating = ratings[exp.get("period", -1)]
    code = exp["code"]
    row = rating.summary.loc[rating.summary[rating.code_column] == code]
    assert len(row) == 1, f"{code} not rated"
    row = row.iloc[0]
    where = f"{rating.level} {code} on {rating.as_of.date()}"
    if "credit" in exp:
        assert bool(row[rating.credit_column]) is exp["credit"], where
    if "stars" in exp:
        assert int(row["stars"]) == exp["stars"], where
    for col, value in exp.get("columns", {}).items():
        got = row[col]
        if isinstance(value, float):
            assert got == pytest.approx(value, abs=1e-9), f"{where}: {col}"
        else:
            assert got == value, f"{where}: {col} = {got!r}, expected {value!r}"
    crit = rating.explain(code)
    by_key = {_row_key(r): r for _, r in crit.iterrows()}
    for key, status in exp.get("status", {}).items():
        assert by_key[key]["status"] == status, f"{where}: {key} is {by_key[key]['status']}: {by_key[key]['reason_en']}"
    for key, value in exp.get("values", {}).items():
        assert by_key[key]["value"] == pytest.approx(value, abs=1e-4), f"{where}: {key}"
    for key, rc in exp.get("reason_codes", {}).items():
        assert by_key[key]["reason_code"] == rc, where
    # the summary flag agrees with the conditions
    base = crit.loc[crit["kind"] != "star"]
    assert bool(row[rating.credit_column]) == bool(base["met"].all()), where


GOLDEN_CASES = sorted(GOLDEN.glob("*.yaml"))


@pytest.mark.parametrize("path", GOLDEN_CASES, ids=[p.stem for p in GOLDEN_CASES])
def test_golden(path: Path) -> None:
    case = yaml.safe_load(path.read_text(encoding="utf-8"))
    result = run_case(case)
    for exp in case["expect"]:
        check_expectation(result, exp)
    changes = result.changes
    for exp in case.get("changes", []):
        level = exp.get("level", "village")
        sel = changes.loc[(changes["level"] == level) & (changes[f"{level}_code"] == exp["code"])
                          & (changes["as_of"] == result.as_ofs[-1])]
        assert len(sel) == 1, f"no change listed for {exp['code']}"
        got = sel.iloc[0]
        for k in ("change", "previous_stars", "stars"):
            if k in exp:
                assert got[k] == exp[k], f"{exp['code']}: {k}"
        for k in ("criteria_gained", "criteria_lost"):
            if k in exp:
                listed = set(got[k].split(", "))
                assert set(exp[k].split(", ")) <= listed, f"{exp['code']}: {k} = {got[k]!r}"
    for code in case.get("no_change", []):
        assert code not in set(changes.get("village_code", pd.Series(dtype=object))), code


def test_golden_cases_cover_every_builtin_criterion() -> None:
    """Each criterion of the built-in packs' village level has a golden boundary case."""
    covered: set[tuple[str, str]] = set()
    for path in GOLDEN_CASES:
        case = yaml.safe_load(path.read_text(encoding="utf-8"))
        for exp in case["expect"]:
            for key in exp.get("status", {}):
                covered.add((case["pack"], key))
    for pack in (ZHAOYANG, PREFECTURE):
        for c in [*pack.payload.village.criteria, *pack.payload.village.vetoes]:
            assert (pack.id, c.code) in covered, (pack.id, c.code)


# ---------------------------------------------------------------------------------------------------------
# Invariants (hypothesis)
# ---------------------------------------------------------------------------------------------------------

AS_OF = "2025-12-31"


@st.composite
def county_specs(draw: st.DrawFn) -> list[dict[str, Any]]:
    villages = []
    for i in range(draw(st.integers(1, 4))):
        h = draw(st.integers(0, 8))
        a = draw(st.integers(0, h))
        b = draw(st.integers(0, h))
        villages.append({
            "code": f"530602{100 + i % 2}{201 + i}",
            "households": h, "archived": a, "credit": draw(st.integers(0, a)),
            "credit_unarchived": draw(st.integers(0, h - a)), "borrowers": b, "late": draw(st.integers(0, b)),
            "total_balance": 1000.0 * b, "npl_balance": draw(st.sampled_from([0.0, 30.0, 500.0])) if b >= 2 else 0.0,
            "stale": draw(st.integers(0, min(b, 1))),
        })
    return villages


def _events_for(spec: list[dict[str, Any]]) -> tuple[pd.DataFrame, pd.DataFrame]:
    with_hh = [v for v in spec if v["households"]]
    warnings = pd.DataFrame({"subject_id": [household_id(v["code"], 0) for v in with_hh[:1]] + [None],
                             "village_code": [v["code"] for v in with_hh[:1]] + [spec[-1]["code"]],
                             "category": ["illegal_fundraising"] * len(with_hh[:1]) + ["mass_incident"]})
    black = pd.DataFrame({"subject_id": [household_id(v["code"], v["households"] - 1) for v in with_hh],
                          "reason": ["malicious_evasion"] * len(with_hh)})
    return warnings, black


def _shuffled(df: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    return df.iloc[rng.permutation(len(df))].reset_index(drop=True)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=county_specs(), seed=st.integers(0, 2**32 - 1), prefecture=st.booleans())
def test_results_do_not_depend_on_row_order(spec: list[dict[str, Any]], seed: int, prefecture: bool) -> None:
    pack = PREFECTURE if prefecture else ZHAOYANG
    tables, scores = build_case(spec, AS_OF)
    warnings, black = _events_for(spec)
    a = rate_villages(scores, tables, pack, AS_OF, warnings=warnings, blacklisted=black)
    rng = np.random.default_rng(seed)
    b = rate_villages(_shuffled(scores, rng), {k: _shuffled(v, rng) for k, v in tables.items()}, pack, AS_OF,
                      warnings=_shuffled(warnings, rng), blacklisted=_shuffled(black, rng))
    pd.testing.assert_frame_equal(a.summary, b.summary)
    pd.testing.assert_frame_equal(a.criteria, b.criteria)
    assert a.input_hash == b.input_hash
    ta, tb = rate_townships(a), rate_townships(b)
    pd.testing.assert_frame_equal(ta.summary, tb.summary)
    pd.testing.assert_frame_equal(rate_counties(ta).criteria, rate_counties(tb).criteria)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=county_specs(), prefecture=st.booleans())
def test_credit_flags_stars_and_sums_are_consistent(spec: list[dict[str, Any]], prefecture: bool) -> None:
    pack = PREFECTURE if prefecture else ZHAOYANG
    tables, scores = build_case(spec, AS_OF)
    v = rate_villages(scores, tables, pack, AS_OF)
    s = v.summary
    # every condition of every village is listed once; credit iff all base conditions count as met
    base = v.criteria.loc[v.criteria["kind"] != "star"]
    n_base = len(pack.payload.village.criteria) + len(pack.payload.village.vetoes)
    assert (base.groupby("village_code").size() == n_base).all()
    all_met = base.groupby("village_code")["met"].all().reindex(s["village_code"]).to_numpy()
    np.testing.assert_array_equal(s["credit_village"].to_numpy(), all_met)
    assert ((s["stars"] > 0) == s["credit_village"]).all()
    assert s["stars"].between(0, 3).all()
    shares = s[["credit_household_share", "on_time_borrower_share", "npl_ratio"]].to_numpy()
    assert np.all(np.isnan(shares) | ((shares >= 0) & (shares <= 1)))
    # households counted once, in their own village
    assert s["households"].sum() == sum(x["households"] for x in spec)
    t = rate_townships(v)
    for col in ("households", "borrowers", "on_time_borrowers", "loan_balance", "npl_balance"):
        assert t.summary[col].sum() == pytest.approx(s[col].sum())
    assert t.summary["credit_villages"].sum() == s["credit_village"].sum()
    c = rate_counties(t)
    assert c.summary["townships"].sum() == len(t.summary)


# ---------------------------------------------------------------------------------------------------------
# Point in time, borrowers, repayments window
# ---------------------------------------------------------------------------------------------------------

ONE = [{"code": "530602100201", "households": 10, "archived": 10, "credit": 10, "borrowers": 10}]


def _extra_loan(tables: dict[str, pd.DataFrame], **changes: Any) -> dict[str, pd.DataFrame]:
    loans = tables["loans"]
    row = loans.iloc[[0]].copy()
    row["loan_id"] = "EXTRA"
    for k, v in changes.items():
        row[k] = v
    return {**tables, "loans": pd.concat([loans, row], ignore_index=True)}


def test_loans_issued_after_or_closed_before_as_of_are_not_counted() -> None:
    tables, scores = build_case(ONE, AS_OF)
    day = pd.Timestamp(AS_OF)
    before = rate_villages(scores, tables, PREFECTURE, AS_OF).summary.iloc[0]
    future = _extra_loan(tables, borrower_id=household_id("530602100201", 9), issue_date=day + pd.Timedelta(days=1),
                         snapshot_date=day + pd.Timedelta(days=10), maturity_date=day + pd.Timedelta(days=300),
                         overdue_days=0, five_class="loss")
    closed = _extra_loan(tables, borrower_id=household_id("530602100201", 9), closed_date=day - pd.Timedelta(days=1),
                         overdue_days=200, five_class="loss", snapshot_date=day - pd.Timedelta(days=1))
    for t in (future, closed):
        after = rate_villages(scores, t, PREFECTURE, AS_OF).summary.iloc[0]
        for col in ("borrowers", "on_time_borrowers", "loans", "loan_balance", "npl_balance"):
            assert after[col] == before[col], col
    # closed after as_of: still outstanding on as_of, and overdue then
    later = _extra_loan(tables, borrower_id=household_id("530602100201", 9), closed_date=day + pd.Timedelta(days=3),
                        overdue_days=40, five_class="substandard")
    s = rate_villages(scores, later, PREFECTURE, AS_OF).summary.iloc[0]
    assert s["loans"] == before["loans"] + 1 and s["on_time_borrowers"] == before["on_time_borrowers"] - 1
    assert s["npl_balance"] > 0


def test_stale_snapshot_is_unknown_but_a_recent_one_counts() -> None:
    tables, scores = build_case(ONE, AS_OF)
    loans = tables["loans"].copy()
    loans.loc[0, "snapshot_date"] = pd.Timestamp(AS_OF) - pd.Timedelta(days=92)
    s = rate_villages(scores, {**tables, "loans": loans}, PREFECTURE, AS_OF).summary.iloc[0]
    assert s["loans_status_unknown"] == 0
    loans.loc[0, "snapshot_date"] = pd.Timestamp(AS_OF) - pd.Timedelta(days=93)
    s = rate_villages(scores, {**tables, "loans": loans}, PREFECTURE, AS_OF).summary.iloc[0]
    assert s["loans_status_unknown"] == 1 and s["borrowers_status_unknown"] == 1


@pytest.mark.parametrize(("due_days_before", "paid_days_after_due", "grace", "late"), [
    (30, None, 0, True),      # unpaid, 30 days overdue at as_of
    (30, 0, 0, False),        # paid on the due date
    (30, 1, 0, True),         # one day late
    (30, 3, 3, False),        # within the grace days
    (30, 4, 3, True),         # one day beyond the grace days
    (400, 10, 0, False),      # late, but paid before the 12-month window opened
    (370, 10, 0, True),       # due before the window, still overdue inside it
    (-5, None, 0, False),     # not yet due
    (30, 40, 0, True),        # paid after as_of: unpaid on as_of
    (2, 10, 3, False),        # within grace on as_of, paid late only afterwards (no look-ahead)
])
def test_on_time_window_on_repayments(due_days_before: int, paid_days_after_due: int | None, grace: int,
                                      late: bool) -> None:
    pack = make_pack("zhaoyang-2014", {"on_time.grace_days": grace})
    tables, scores = build_case(ONE, AS_OF)
    reps = tables["repayments"].copy()
    due = pd.Timestamp(AS_OF) - pd.Timedelta(days=due_days_before)
    reps.loc[0, "due_date"] = due
    reps.loc[0, "paid_date"] = pd.NaT if paid_days_after_due is None else due + pd.Timedelta(days=paid_days_after_due)
    s = rate_villages(scores, {**tables, "repayments": reps}, pack, AS_OF).summary.iloc[0]
    assert s["late_borrowers"] == int(late)
    assert s["on_time_borrowers"] == 10 - int(late)


def _persons(spec_code: str, n: int) -> pd.DataFrame:
    return pd.DataFrame({
        "person_id": [f"P{i}" for i in range(n)],
        "id_number": make_resident_ids("530602", np.full(n, np.datetime64("1980-05-01")), np.arange(n) + 500),
        "name": "成员", "household_id": [household_id(spec_code, i) for i in range(n)], "relation": "spouse",
        "birth_date": pd.Timestamp("1980-05-01"), "gender": "female", "ethnicity": "彝族", "education": "junior",
    })


def test_person_borrowers_and_listings_count_in_their_household_village() -> None:
    spec = [*ONE, {"code": "530602100202", "households": 4, "archived": 4, "credit": 4, "borrowers": 4}]
    tables, scores = build_case(spec, AS_OF)
    persons = _persons("530602100202", 2)
    tables = _extra_loan({**tables, "persons": persons}, borrower_id="P0", borrower_type="person", overdue_days=10)
    only_households = rate_villages(scores, tables, PREFECTURE, AS_OF,
                                    blacklisted=pd.Series(["P1"])).summary.set_index("village_code")
    assert only_households.loc["530602100202", "borrowers"] == 4
    assert only_households.loc["530602100202", "blacklisted"] == 1
    pack = make_pack("autonomous-prefecture", {"borrower_types": ["household", "person"]})
    with_persons = rate_villages(scores, tables, pack, AS_OF).summary.set_index("village_code")
    assert with_persons.loc["530602100202", "borrowers"] == 5
    assert with_persons.loc["530602100202", "late_borrowers"] == 1
    assert with_persons.loc["530602100201", "borrowers"] == 10


def test_a_borrower_without_a_village_is_an_error_not_dropped() -> None:
    tables, scores = build_case(ONE, AS_OF)
    persons = _persons("530602100201", 1).assign(household_id=None)
    tables = _extra_loan({**tables, "persons": persons}, borrower_id="P0", borrower_type="person")
    pack = make_pack("autonomous-prefecture", {"borrower_types": ["household", "person"]})
    with pytest.raises(InputError, match="no village"):
        rate_villages(scores, tables, pack, AS_OF)


# ---------------------------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------------------------


def test_bad_inputs_raise_typed_errors() -> None:
    tables, scores = build_case(ONE, AS_OF)
    with pytest.raises(InputError, match="duplicate subject_id"):
        rate_villages(pd.concat([scores, scores.iloc[:1]]), tables, ZHAOYANG, AS_OF)
    with pytest.raises(InputError, match="missing columns"):
        rate_villages(scores[["subject_id"]], tables, ZHAOYANG, AS_OF)
    with pytest.raises(InputError, match="repayments"):
        rate_villages(scores, {k: v for k, v in tables.items() if k != "repayments"}, ZHAOYANG, AS_OF)
    with pytest.raises(InputError, match="loans"):
        rate_villages(scores, {k: v for k, v in tables.items() if k != "loans"}, PREFECTURE, AS_OF)
    with pytest.raises(InputError, match="category"):
        rate_villages(scores, tables, ZHAOYANG, AS_OF, warnings=pd.DataFrame({"subject_id": ["x"]}))
    with pytest.raises(InputError):
        rate_villages(scores, tables, ZHAOYANG, None)
    bad = tables["households"].copy()
    bad.loc[0, "head_id_number"] = "110105194912310021"
    with pytest.raises(SchemaError) as err:
        rate_villages(scores, {**tables, "households": bad}, ZHAOYANG, AS_OF)
    assert err.value.table == "households"
    with pytest.raises(PolicyError, match="in force"):
        rate_villages(scores, tables, ZHAOYANG, "2013-06-30")
    with pytest.raises(PolicyError, match="no built-in"):
        rate_villages(scores, tables, "no-such-pack", AS_OF)


def test_pack_validation_names_the_problem() -> None:
    doc = _pack_doc("zhaoyang-2014")
    wrong_level = copy.deepcopy(doc)
    wrong_level["payload"]["village"]["criteria"][0]["metric"] = "credit_village_share"
    with pytest.raises(PolicyError, match="not available at village level"):
        load_packs(wrong_level, VillageCriteria)
    percent = copy.deepcopy(doc)
    percent["payload"]["village"]["criteria"][0]["threshold"] = 50
    with pytest.raises(PolicyError, match="fraction"):
        load_packs(percent, VillageCriteria)
    stars = copy.deepcopy(doc)
    stars["payload"]["village"]["stars"][0]["stars"] = 3
    with pytest.raises(PolicyError, match="star levels"):
        load_packs(stars, VillageCriteria)
    veto = copy.deepcopy(doc)
    veto["payload"]["village"]["vetoes"][0]["warning_categories"] = []
    with pytest.raises(PolicyError, match="needs warning_categories"):
        load_packs(veto, VillageCriteria)


def test_builtin_packs_load_by_id() -> None:
    for name in ("zhaoyang-2014", "autonomous-prefecture"):
        pack = load_pack(name, VillageCriteria, AS_OF)
        assert pack.kind == "village_criteria" and pack.payload.township is not None
        assert pack.policy_hash == make_pack(name).policy_hash


def test_next_levels_need_the_same_pack_and_date() -> None:
    tables, scores = build_case(ONE, AS_OF)
    v = rate_villages(scores, tables, ZHAOYANG, AS_OF)
    with pytest.raises(InputError, match="same pack"):
        rate_townships(v, criteria=PREFECTURE)
    with pytest.raises(InputError, match="must equal"):
        rate_townships(v, as_of="2025-12-30")
    with pytest.raises(InputError):
        rate_townships(v, tables={"villages": tables["villages"].iloc[:0]})
    assert rate_townships(v, tables, ZHAOYANG, AS_OF).level == "township"
    no_township = make_pack("zhaoyang-2014", {"township": None})
    v2 = rate_villages(scores, tables, no_township, AS_OF)
    with pytest.raises(PolicyError, match="no township rules"):
        rate_townships(v2)
    with pytest.raises(InputError, match="before as_of"):
        rate_villages(scores, tables, ZHAOYANG, "2025-06-30", previous=v)


# ---------------------------------------------------------------------------------------------------------
# Periods, validity, stars for loan terms
# ---------------------------------------------------------------------------------------------------------


def test_periods_honour_rerating_and_validity() -> None:
    tables, scores = build_case(ONE, AS_OF)
    with pytest.raises(InputError, match="re-rating"):
        rate_periods(scores, tables, ZHAOYANG, ["2025-06-30", AS_OF])
    with pytest.raises(InputError, match="duplicate"):
        rate_periods(scores, tables, ZHAOYANG, [AS_OF, AS_OF])
    per_date_tables, per_date_scores = {}, {}
    for i, day in enumerate(["2023-12-31", "2025-06-30", AS_OF]):
        per_date_tables[day], per_date_scores[day] = build_case(ONE, day, period=i)
    interim = rate_periods(per_date_scores, per_date_tables, ZHAOYANG, ["2025-06-30", AS_OF], allow_interim=True)
    assert interim.villages[0].summary["credit_village"].iloc[0]
    assert interim.villages[1].summary["credit_years"].iloc[0] == 2
    # a gap longer than the validity: the earlier rating had lapsed, the count restarts
    lapsed = rate_periods(per_date_scores, per_date_tables, ZHAOYANG, ["2023-12-31", AS_OF])
    assert lapsed.villages[0].summary["credit_village"].iloc[0]
    assert lapsed.villages[1].summary["credit_years"].iloc[0] == 1
    ch = compare_periods(*lapsed.villages, include_unchanged=True)
    assert not ch["previous_in_force"].iloc[0] and ch["change"].iloc[0] == "upgrade"
    assert "lapsed" in ch["reason_en"].iloc[0]


def test_rating_in_force_and_schedule() -> None:
    tables, scores = build_case(ONE, AS_OF)
    res = rate_periods(scores, tables, ZHAOYANG, ["2024-12-31", AS_OF])
    mid = res.in_force("2025-06-30")
    assert mid["as_of"].iloc[0] == pd.Timestamp("2024-12-31") and bool(mid["in_force"].iloc[0])
    on_due = rating_in_force(res.villages, "2025-12-31")
    assert on_due["as_of"].iloc[0] == pd.Timestamp(AS_OF)
    expired = rating_in_force(res.villages, "2027-01-01")
    assert not expired["in_force"].iloc[0] and expired["stars_in_force"].iloc[0] == 0
    assert rating_in_force(res.villages, "2020-01-01").empty
    assert [d.year for d in rating_schedule_dates()] == [2022, 2023, 2024, 2025]


def rating_schedule_dates() -> list[pd.Timestamp]:
    from ruralcredit.rating.periods import rating_schedule

    return rating_schedule("2022-12-31", "2026-06-30", ZHAOYANG)


def test_criteria_moves_lists_direction() -> None:
    spec0 = [{**ONE[0], "late": 0}]
    spec1 = [{**ONE[0], "late": 3}]
    t0, s0 = build_case(spec0, "2024-12-31")
    t1, s1 = build_case(spec1, AS_OF, period=1)
    a = rate_villages(s0, t0, ZHAOYANG, "2024-12-31")
    b = rate_villages(s1, t1, ZHAOYANG, AS_OF, previous=a)
    moves = criteria_moves(a, b)
    lost = moves.loc[moves["direction"] == "lost", "criterion"].tolist()
    assert "on_time_borrower_share" in lost
    with pytest.raises(InputError):
        criteria_moves(b, a)


def test_village_stars_for_subjects() -> None:
    spec = [*ONE, {"code": "530602100202", "households": 10, "archived": 10, "credit": 1, "borrowers": 10}]
    tables, scores = build_case(spec, AS_OF)
    v = rate_villages(scores, tables, ZHAOYANG, AS_OF)
    subjects = pd.DataFrame({"subject_id": ["a", "b", "c"],
                             "village_code": ["530602100201", "530602100202", "530602999201"]})
    stars = village_stars_for(subjects, v)
    assert stars.to_dict() == {"a": 1, "b": 0, "c": 0}
    assert stars.name == "village_stars" and stars.dtype == np.int64
    assert village_stars_for(subjects, v, on="2026-12-31")["a"] == 1
    assert village_stars_for(subjects, v, on="2027-01-01")["a"] == 0
    assert village_stars_for(subjects, v, on="2025-12-30")["a"] == 0
    with pytest.raises(InputError):
        village_stars_for(subjects.drop(columns="village_code"), v)


def test_result_records_policy_and_provenance() -> None:
    tables, scores = build_case(ONE, AS_OF)
    v = rate_villages(scores, tables, ZHAOYANG, AS_OF)
    assert isinstance(v, AreaRating) and "zhaoyang-2014@2014.1" in repr(v)
    assert v.policy["policy_hash"] == ZHAOYANG.policy_hash
    assert (v.summary["policy_hash"] == ZHAOYANG.policy_hash).all()
    assert v.library_version and v.created_at and len(v.input_hash) == 64
    assert v.criteria["reason_zh"].str.len().gt(0).all() and v.criteria["reason_en"].str.len().gt(0).all()
    with pytest.raises(InputError):
        v.explain("000000000000")


def test_households_archived_after_as_of_are_not_archived_yet() -> None:
    tables, scores = build_case(ONE, AS_OF)
    hh = tables["households"].copy()
    hh.loc[[0, 1], "archived_date"] = pd.Timestamp(AS_OF) + pd.Timedelta(days=1)
    s = rate_villages(scores, {**tables, "households": hh}, ZHAOYANG, AS_OF).summary.iloc[0]
    assert s["archived_households"] == 8 and s["credit_households_archived"] == 8 and s["credit_households"] == 10


DOCS = Path(__file__).parents[1] / "docs" / "ratings.md"


def _blocks(lang: str) -> list[str]:
    return fenced_blocks(DOCS, lang)


def test_docs_pack_example_is_a_valid_pack() -> None:
    pack = load_packs(yaml.safe_load(_blocks("yaml")[0]), VillageCriteria)[0]
    assert pack.payload.denominator == "all" and pack.payload.village.stars[0].stars == 2


def test_identifiers_must_be_text() -> None:
    tables, scores = build_case(ONE, AS_OF)
    with pytest.raises(InputError, match="text"):
        rate_villages(scores.assign(subject_id=range(len(scores))), tables, ZHAOYANG, AS_OF)
    with pytest.raises(InputError, match="text"):
        rate_villages(scores, tables, ZHAOYANG, AS_OF, blacklisted=pd.Series([1, 2]))
    with pytest.raises(InputError, match="text"):
        rate_villages(scores, tables, ZHAOYANG, AS_OF,
                      warnings=pd.DataFrame({"village_code": [530602100201], "category": ["mass_incident"]}))


def test_registry_categories_and_listing_dates_drive_the_evasion_veto() -> None:
    tables, scores = build_case(ONE, AS_OF)
    sid = household_id("530602100201", 0)
    listed = pd.DataFrame({"subject_id": [sid], "category": ["debt.malicious_evasion"]})
    v = rate_villages(scores, tables, ZHAOYANG, AS_OF, blacklisted=listed, warnings=pd.DataFrame(
        {"subject_id": pd.Series([], dtype=object), "category": pd.Series([], dtype=object)}))
    assert v.summary["vetoed"].iloc[0] and not v.summary["credit_village"].iloc[0]
    other = listed.assign(category="debt.fraud_evasion_not")
    assert not rate_villages(scores, tables, ZHAOYANG, AS_OF, blacklisted=other).summary["vetoed"].iloc[0]
    delisted = listed.assign(delisted_date=pd.Timestamp(AS_OF))
    assert not rate_villages(scores, tables, ZHAOYANG, AS_OF, blacklisted=delisted).summary["vetoed"].iloc[0]
    future = listed.assign(listed_date=pd.Timestamp(AS_OF) + pd.Timedelta(days=1))
    assert not rate_villages(scores, tables, ZHAOYANG, AS_OF, blacklisted=future).summary["vetoed"].iloc[0]
