"""Grades and loan terms: golden cases at the grade boundaries and the cap; typed errors."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from ruralcredit.errors import InputError, PolicyError
from ruralcredit.packs import load_packs
from ruralcredit.rating import (
    GradeScale,
    LoanTermsPolicy,
    assign_grades,
    is_credit_household,
    load_grade_scale,
    load_loan_terms,
    loan_terms,
)
from ruralcredit.templates import load_template

AS_OF = "2026-06-30"
SCALE = load_grade_scale("kunming-100", AS_OF)
POLICY = load_loan_terms("household-micro-credit", AS_OF)

# Golden cases: score -> grade (from the pack's scale) -> line / term / rate (from the loan-terms pack).
# LPR 3.00% (2025-05-20) + 267.5 bp; grade discounts AAA 20, AA 10, A 0 bp; 10 bp per village star.
GOLDEN = yaml.safe_load("""
- {id: aaa_at_80,       score: 80.0,   assets: 100000, income: 50000, stars: 0,
   grade: AAA, line: 125000, line_rule: grade_base_plus_shares, term: 36, rate: 0.05475}
- {id: aa_below_80,     score: 79.99,  assets: 100000, income: 50000, stars: 0,
   grade: AA,  line: 105000, line_rule: grade_base_plus_shares, term: 36, rate: 0.05575}
- {id: aa_at_70,        score: 70.0,   assets: 0,      income: 0,     stars: 1,
   grade: AA,  line: 80000,  line_rule: grade_base_plus_shares, term: 36, rate: 0.05475}
- {id: a_below_70,      score: 69.999, assets: 0,      income: 0,     stars: 2,
   grade: A,   line: 50000,  line_rule: grade_base_plus_shares, term: 36, rate: 0.05475}
- {id: a_at_60,         score: 60.0,   assets: 20000,  income: 10000, stars: 3,
   grade: A,   line: 55000,  line_rule: grade_base_plus_shares, term: 36, rate: 0.05375}
- {id: b_below_60,      score: 59.99,  assets: 900000, income: 90000, stars: 3,
   grade: B,   line: 0,      line_rule: not_credit_household,   term: null, rate: null}
- {id: c_below_50,      score: 49.99,  assets: 900000, income: 90000, stars: 0,
   grade: C,   line: 0,      line_rule: not_credit_household,   term: null, rate: null}
- {id: exactly_the_cap, score: 95.0,   assets: 700000, income: 100000, stars: 3,
   grade: AAA, line: 200000, line_rule: grade_base_plus_shares, term: 36, rate: 0.05175}
- {id: one_over_cap,    score: 95.0,   assets: 700010, income: 100000, stars: 0,
   grade: AAA, line: 200000, line_rule: cap,                    term: 36, rate: 0.05475}
- {id: far_over_cap,    score: 100.0,  assets: 5000000, income: 900000, stars: 0,
   grade: AAA, line: 200000, line_rule: cap,                    term: 36, rate: 0.05475}
""")


def _frames(cases):
    ids = [c["id"] for c in cases]
    scores = pd.Series([c["score"] for c in cases])
    grades = assign_grades(scores, SCALE)
    score_frame = pd.DataFrame({"subject_id": ids, "score": scores, "grade": grades, "vetoes": ""})
    feats = pd.DataFrame({"subject_id": ids, "total_assets": [float(c["assets"]) for c in cases],
                          "operating_income": [float(c["income"]) for c in cases]})
    stars = pd.Series([c["stars"] for c in cases], index=pd.Index(ids, name="subject_id"), name="village_stars")
    return score_frame, feats, stars


@pytest.mark.parametrize("case", GOLDEN, ids=[c["id"] for c in GOLDEN])
def test_golden_loan_terms(case):
    scores, feats, stars = _frames([case])
    out = loan_terms(scores, feats, POLICY, AS_OF, village_stars=stars).iloc[0]
    assert out["grade"] == case["grade"]
    assert out["line"] == case["line"]
    assert out["line_rule"] == case["line_rule"]
    if case["term"] is None:
        assert pd.isna(out["term_months"]) and math.isnan(out["rate"])
        assert out["rate_rule"] == "no line: no rate" and "not a credit grade" in out["line_detail"]
    else:
        assert out["term_months"] == case["term"]
        assert out["rate"] == pytest.approx(case["rate"], abs=1e-12)
        assert f"= {case['rate']:.4%}" in out["rate_rule"]
    assert (out["policy_id"], out["policy_version"], out["policy_hash"]) == (
        POLICY.id, POLICY.version, POLICY.policy_hash)


def test_all_golden_cases_in_one_batch_keep_order():
    scores, feats, stars = _frames(GOLDEN)
    out = loan_terms(scores, feats.iloc[::-1], POLICY, AS_OF, village_stars=stars)
    assert out["subject_id"].tolist() == [c["id"] for c in GOLDEN]
    assert out["line"].tolist() == [float(c["line"]) for c in GOLDEN]
    assert (out["line"] <= POLICY.payload.line_cap).all()


def test_vetoed_and_missing_parts():
    scores = pd.DataFrame({"subject_id": ["v", "m"], "grade": ["VETO", "A"], "vetoes": ["blacklisted", ""]})
    feats = pd.DataFrame({"subject_id": ["v", "m"], "total_assets": [1e6, np.nan],
                          "operating_income": [1e5, 10000.0]})
    out = loan_terms(scores, feats, "household-micro-credit", AS_OF)
    assert out["line_rule"].tolist() == ["vetoed", "grade_base_plus_shares"]
    assert out.loc[0, "line_detail"] == "vetoed (blacklisted): no line" and out.loc[0, "line"] == 0
    assert out.loc[1, "line"] == 53000 and "total_assets unknown (0)" in out.loc[1, "line_detail"]


def test_lpr_quote_is_chosen_by_date():
    scores, feats, _ = _frames([GOLDEN[2]])
    before = loan_terms(scores, feats, POLICY, "2024-10-20")
    after = loan_terms(scores, feats, POLICY, "2024-10-21")
    assert before.loc[0, "lpr"] == 0.0335 and after.loc[0, "lpr"] == 0.0310
    assert after.loc[0, "lpr_date"] == pd.Timestamp("2024-10-21") and not after.loc[0, "lpr_stale"]
    assert loan_terms(scores, feats, POLICY, AS_OF).loc[0, "lpr_stale"]  # quote older than 62 days
    assert after.loc[0, "valid_until"] == pd.Timestamp("2026-10-21")


def test_stars_by_village_code():
    scores, feats, _ = _frames(GOLDEN[:2])
    feats["village_code"] = ["530112101201", "530112101202"]
    stars = pd.Series([3], index=pd.Index(["530112101201"], name="village_code"))
    out = loan_terms(scores, feats, POLICY, AS_OF, village_stars=stars)
    assert out["village_stars"].tolist() == [3, 0]
    assert out["village_discount_bp"].tolist() == [30.0, 0.0]


def test_typed_errors():
    scores, feats, stars = _frames(GOLDEN[:1])
    with pytest.raises(PolicyError, match="no version is in force"):
        loan_terms(scores, feats, "household-micro-credit", "2023-06-30")
    with pytest.raises(PolicyError, match="not in force"):
        loan_terms(scores, feats, POLICY, "2023-06-30")
    with pytest.raises(InputError):
        loan_terms(scores, feats, POLICY, "someday")
    with pytest.raises(InputError, match="star levels \\[4\\]"):
        loan_terms(scores, feats, POLICY, AS_OF, village_stars=stars + 4)
    with pytest.raises(InputError, match="name the Series index"):
        loan_terms(scores, feats, POLICY, AS_OF, village_stars=pd.Series([1], index=["aaa_at_80"]))
    with pytest.raises(InputError, match="whole numbers"):
        loan_terms(scores, feats, POLICY, AS_OF, village_stars=stars - 1.5)
    with pytest.raises(InputError, match="without features"):
        loan_terms(scores, feats.assign(subject_id="other"), POLICY, AS_OF)
    with pytest.raises(InputError, match="negative"):
        loan_terms(scores, feats.assign(total_assets=-1.0), POLICY, AS_OF)
    with pytest.raises(InputError, match="missing columns"):
        loan_terms(scores.drop(columns="grade"), feats, POLICY, AS_OF)
    with pytest.raises(InputError, match="unique"):
        loan_terms(pd.concat([scores, scores]), feats, POLICY, AS_OF)


@pytest.mark.parametrize("change, match", [
    ({"grade_discount_bp": {"AAA": 300}}, "below min_spread_bp"),
    ({"base_line_by_grade": {"AAA": 300000, "AA": 80000, "A": 50000}}, "exceeds line_cap"),
    ({"lpr_1y": [{"effective_from": "2025-01-01", "rate": 0.03}, {"effective_from": "2024-01-01", "rate": 0.03}]},
     "strictly increasing"),
    ({"grade_discount_bp": {"BBB": 5}}, "without a base line"),
    ({"asset_share": 1.5}, "less than or equal"),
])
def test_bad_loan_terms_packs(change, match):
    doc = POLICY.model_dump(mode="json")
    doc["payload"].update(change)
    with pytest.raises(PolicyError, match=match) as info:
        load_packs(doc, LoanTermsPolicy)
    assert info.value.field.startswith("payload")


def test_lpr_before_first_quote_is_an_error():
    doc = POLICY.model_dump(mode="json")
    doc["effective_from"] = "2020-01-01"
    policy = load_packs(doc, LoanTermsPolicy)[0]
    scores, feats, _ = _frames(GOLDEN[:1])
    with pytest.raises(PolicyError, match="no LPR quote"):
        loan_terms(scores, feats, policy, "2022-01-01")


# -- grades ------------------------------------------------------------------------------------------
@given(st.floats(0, 100, allow_nan=False))
def test_grade_matches_thresholds(score):
    grade = assign_grades([score], SCALE)[0]
    expected = "AAA" if score >= 80 else "AA" if score >= 70 else "A" if score >= 60 else "B" if score >= 50 else "C"
    assert grade == expected == SCALE.assign_one(score)
    assert is_credit_household([grade], SCALE)[0] == (score >= 60)


def test_grades_and_credit_flags():
    s = pd.Series([80.0, 55.0, 12.0], index=[7, 8, 9])
    g = assign_grades(s, SCALE, vetoed=[True, False, False])
    assert g.tolist() == ["VETO", "B", "C"] and g.index.tolist() == [7, 8, 9]
    flags = is_credit_household(pd.Series(["AAA", "AA", "A", "B", "C", "VETO", None]), SCALE)
    assert flags.tolist() == [True, True, True, False, False, False, False]
    template = load_template("household", as_of=AS_OF)
    assert assign_grades([61.0], template).tolist() == ["A"]
    with pytest.raises(InputError, match="not on the scale"):
        is_credit_household(["AAAA"], SCALE)
    with pytest.raises(InputError):
        assign_grades([np.nan], SCALE)
    with pytest.raises(InputError, match="scale"):
        assign_grades([50.0], "kunming-100")
    with pytest.raises(PolicyError):
        load_grade_scale("kunming-100", "2020-01-01")


def test_other_scales_are_configuration():
    scale = GradeScale.model_validate({"max_score": 1000, "grades": [
        {"grade": "AAA", "min_score": 800, "credit_household": True},
        {"grade": "AA", "min_score": 650, "credit_household": True},
        {"grade": "B", "min_score": None}]})
    assert assign_grades([999.0, 650.0, 649.0], scale).tolist() == ["AAA", "AA", "B"]
