"""Point-in-time features: catalogue, hand calculations on a tiny county, no look-ahead, row order, errors."""

from __future__ import annotations

import importlib.util
from datetime import date

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ruralcredit.errors import InputError, SchemaError
from ruralcredit.features import FEATURES, FeatureSpec, build_features, catalogue_frame, feature_names
from ruralcredit.ids import make_resident_id, make_uscc
from ruralcredit.schema import SUBJECT_TYPES, protected_columns

AS_OF = pd.Timestamp("2025-06-30")
VILLAGE = "530112101201"
HEAD1 = make_resident_id("530112", date(1975, 8, 15), 101)  # 49 on AS_OF (birthday not reached)
HEAD2 = make_resident_id("530112", date(1960, 6, 30), 102)  # 65 on AS_OF (birthday that day)
HEAD3 = make_resident_id("530112", date(1990, 1, 1), 103)
MANAGER = make_resident_id("530112", date(1985, 1, 10), 105)
MANAGER2 = make_resident_id("530112", date(1970, 12, 31), 107)
OPERATOR = make_resident_id("530112", date(1980, 3, 3), 109)


def _d(text: str | None) -> pd.Timestamp:
    return pd.Timestamp(text) if text else pd.NaT


def _days(a: str, b: str) -> int:
    return (pd.Timestamp(a) - pd.Timestamp(b)).days


def tiny_county() -> dict[str, pd.DataFrame]:
    """A hand-built county whose every feature is worked out by hand in the tests below."""
    villages = pd.DataFrame({
        "village_code": [VILLAGE], "village_name": ["A村"], "township_code": [VILLAGE[:9]],
        "township_name": ["T镇"], "county_code": [VILLAGE[:6]],
    })
    hh = {
        "subject_id": ["H1", "H2", "H3"],
        "village_code": [VILLAGE] * 3,
        "head_id_number": [HEAD1, HEAD2, HEAD3],
        "head_name": ["张一", "李二", "王三"],
        "size": [4, 3, 2],
        "labour_force": [2, 0, 2],
        "archived": [True, False, True],
        "archived_date": [_d("2020-06-30"), pd.NaT, _d("2025-08-01")],
        "survey_date": [_d("2025-01-10"), _d("2025-02-01"), _d("2025-09-01")],  # H3 surveyed after AS_OF
        "head_education": ["junior", "primary", "senior"],
        "head_health": ["good", "poor", "good"],
        "head_marital_status": ["married", "widowed", "single"],
        "annual_income": [60000.0, 0.0, 50000.0],
        "operating_income": [40000.0, 0.0, 30000.0],
        "annual_expenses": [30000.0, 8000.0, 20000.0],
        "house_area": [120.0, 60.0, 90.0],
        "house_structure": ["brick_concrete", "earth_wood", "brick_wood"],
        "house_value": [200000.0, 50000.0, 80000.0],
        "land_mu": [8.0, 3.0, 5.0],
        "livestock_units": [3.0, 0.0, 1.0],
        "machinery_value": [20000.0, 0.0, 0.0],
        "vehicle_value": [30000.0, 0.0, 0.0],
        "deposits": [15000.0, 0.0, 1000.0],
        "other_assets": [5000.0, 0.0, 0.0],
        "informal_debt": [10000.0, 5000.0, 0.0],
        "insurance_cover": [20000.0, 0.0, 0.0],
        "honours": [1, 0, 2],
        "village_assessment": ["good", None, "excellent"],
        "credit_report_status": ["normal", "bad", "none"],
        "bad_credit_date": [pd.NaT, _d("2021-03-01"), pd.NaT],
        "criminal_record_date": [pd.NaT, _d("2019-01-01"), pd.NaT],
    }
    persons = pd.DataFrame({
        "person_id": ["P1", "P2", "P3", "P4", "P5"],
        "id_number": [HEAD1, HEAD2, MANAGER, MANAGER2, OPERATOR],
        "name": ["张一", "李二", "赵经理", "钱经理", "孙五"],
        "household_id": ["H1", "H2", None, None, None],
        "relation": ["head", "head", "none", "none", "none"],
        "birth_date": [_d("1975-08-15"), _d("1960-06-30"), _d("1985-01-10"), _d("1970-12-31"),
                       _d("1980-03-03")],
        "gender": ["male", "female", "male", "male", "male"],
        "ethnicity": ["汉族", "彝族", "汉族", "白族", "汉族"],
        "education": ["junior", "primary", "college", "senior", "junior"],
        "manager_certificate": [None, None, "senior", None, None],
        "years_experience": [np.nan, np.nan, 12.0, 6.0, np.nan],
    })
    ent = {
        "subject_id": ["F1", "C1", "E1", "E2"],
        "kind": ["family_farm", "cooperative", "enterprise", "enterprise"],
        "name": ["一号家庭农场", "合作社", "新公司", "老公司"],
        "uscc": [None, make_uscc("93", "530112", "MA000001"), make_uscc("91", "530112", "MA000002"),
                 make_uscc("91", "530112", "MA000003")],
        "operator_id_number": [OPERATOR, None, None, None],
        "village_code": [VILLAGE] * 4,
        "registered_date": [_d("2018-07-01"), _d("2020-01-01"), _d("2026-01-01"), _d("2010-01-01")],
        "business_scope": ["种植", "种养", "加工", "加工"],
        "registered_capital": [0.0, 300000.0, 1e6, 2e6],
        "members": [None, 30, None, None],
        "employees": [5, 3, 10, 40],
        "land_mu": [100.0, 300.0, 0.0, 20.0],
        "total_assets": [1_000_000.0, 800_000.0, 1e6, 0.0],
        "total_liabilities": [400_000.0, 900_000.0, 0.0, 50_000.0],
        "revenue_last_year": [500_000.0, 200_000.0, 0.0, 0.0],
        "revenue_prev_year": [400_000.0, 0.0, 0.0, 100_000.0],
        "net_profit": [50_000.0, -20_000.0, 0.0, -5000.0],
        "insurance_cover": [100_000.0, 0.0, 0.0, 0.0],
        "honours": [2, 0, 0, 1],
        "demonstration_level": ["county", "province", "none", "none"],
    }
    roles = pd.DataFrame({
        "person_id": ["P5", "P2", "P1", "P3", "P3", "P3", "P4", "P1"],
        "enterprise_id": ["F1", "C1", "C1", "E2", "F1", "C1", "E2", "F1"],
        "role": ["legal_representative", "legal_representative", "legal_representative",
                 "legal_representative", "manager", "manager", "manager", "legal_representative"],
        "valid_from": [_d("2018-07-01"), _d("2020-01-01"), _d("2025-08-01"), _d("2010-01-01"),
                       _d("2020-01-01"), _d("2023-01-01"), _d("2022-01-01"), _d("2018-07-01")],
        "valid_to": [pd.NaT, pd.NaT, pd.NaT, pd.NaT, pd.NaT, _d("2024-12-31"), pd.NaT, _d("2019-01-01")],
    })
    loans = pd.DataFrame({
        "loan_id": ["L1", "L2", "L3", "L4", "L5", "L6"],
        "borrower_id": ["H1", "H1", "H2", "H3", "F1", "P4"],
        "borrower_type": ["household", "household", "household", "household", "family_farm", "person"],
        "institution": ["RCC", "PSBC", "RCC", "RCC", "RCC", "ABC"],
        "officer_id": ["O1", "O2", "O1", "O1", "O3", "O4"],
        "product": ["micro_credit", "micro_credit", "guaranteed", "micro_credit", "business", "consumer"],
        "purpose": ["planting", "livestock", "housing", "planting", "planting", "other"],
        "amount": [12000.0, 20000.0, 30000.0, 8000.0, 100000.0, 10000.0],
        "interest_rate": [0.06] * 6,
        "issue_date": [_d("2024-01-01"), _d("2025-01-15"), _d("2023-01-01"), _d("2025-08-01"),
                       _d("2025-02-01"), _d("2025-01-01")],
        "maturity_date": [_d("2024-12-31"), _d("2026-01-15"), _d("2024-01-01"), _d("2026-08-01"),
                          _d("2026-02-01"), _d("2025-12-31")],
        # L2's snapshot is after AS_OF (and says substandard): it must not be used
        "snapshot_date": [_d("2025-06-30"), _d("2025-12-31"), _d("2024-12-31"), _d("2025-12-31"),
                          _d("2025-06-30"), _d("2025-12-31")],
        "balance": [0.0, 10000.0, 30000.0, 8000.0, 100000.0, 0.0],
        "overdue_days": [0, 100, 200, 0, 0, 0],
        "five_class": ["normal", "substandard", "substandard", "normal", "normal", "normal"],
        "closed_date": [_d("2024-12-20"), pd.NaT, pd.NaT, pd.NaT, pd.NaT, _d("2025-07-15")],
    })
    rep_rows = [
        # loan, n, due, amount, paid
        ("L1", 1, "2024-04-01", 3000.0, "2024-04-01"),
        ("L1", 2, "2024-07-01", 3000.0, "2024-07-11"),  # 10 days late
        ("L1", 3, "2024-10-01", 3000.0, "2024-10-01"),
        ("L1", 4, "2025-01-01", 3000.0, "2024-12-20"),  # paid early
        ("L2", 1, "2025-03-15", 5000.0, "2025-03-15"),
        ("L2", 2, "2025-05-15", 5000.0, "2025-08-01"),  # paid after AS_OF: 46 days late at AS_OF
        ("L2", 3, "2025-09-15", 5000.0, None),
        ("L2", 4, "2026-01-15", 5000.0, None),
        ("L3", 1, "2024-01-01", 30000.0, None),  # 546 days unpaid at AS_OF
        ("L5", 1, "2026-02-01", 100000.0, None),
        ("L6", 1, "2025-04-01", 5000.0, "2025-04-01"),
        ("L6", 2, "2025-06-01", 5000.0, "2025-07-15"),  # paid after AS_OF: 29 days late at AS_OF
    ]
    repayments = pd.DataFrame({
        "loan_id": [r[0] for r in rep_rows],
        "instalment": [r[1] for r in rep_rows],
        "due_date": [_d(r[2]) for r in rep_rows],
        "due_amount": [r[3] for r in rep_rows],
        "paid_date": [_d(r[4]) for r in rep_rows],
        "paid_amount": [r[3] if r[4] else np.nan for r in rep_rows],
    })
    guarantees = pd.DataFrame({
        "guarantee_id": ["G1", "G2", "G3", "G4"],
        "loan_id": ["L3", "L1", "L5", "L2"],
        "guarantor_id": ["H1", "H1", "C1", "H2"],
        "amount": [10000.0, 12000.0, 50000.0, 20000.0],
        "start_date": [_d("2023-01-01"), _d("2024-01-01"), _d("2025-02-01"), _d("2025-07-01")],
        "end_date": [pd.NaT, pd.NaT, pd.NaT, pd.NaT],
    })
    return {
        "villages": villages, "households": pd.DataFrame(hh), "persons": persons,
        "enterprises": pd.DataFrame(ent), "roles": roles, "loans": loans, "repayments": repayments,
        "guarantees": guarantees,
    }


@pytest.fixture(scope="module")
def county() -> dict[str, pd.DataFrame]:
    return tiny_county()


def _row(frame: pd.DataFrame, subject_id: str) -> pd.Series:
    rows = frame.loc[frame["subject_id"] == subject_id]
    assert len(rows) == 1
    return rows.iloc[0]


def _check(row: pd.Series, expected: dict[str, object]) -> None:
    for name, want in expected.items():
        got = row[name]
        if want is None:
            assert pd.isna(got), (name, got)
        elif isinstance(want, (bool, np.bool_)):
            assert not pd.isna(got) and bool(got) is bool(want), (name, got, want)
        elif isinstance(want, str):
            assert got == want, (name, got, want)
        else:
            assert not pd.isna(got) and got == pytest.approx(want, rel=1e-12, abs=1e-12), (name, got, want)


# ----------------------------------------------------------------------------------------- catalogue


def test_catalogue_covers_every_subject_type_without_protected_attributes() -> None:
    protected = {c for cols in protected_columns().values() for c in cols}
    for st_ in SUBJECT_TYPES:
        names = feature_names(st_)
        assert len(names) == len(set(names)) >= 15
        assert not protected & set(names)
    for spec in FEATURES.values():
        assert isinstance(spec, FeatureSpec)
        assert spec.description_zh and spec.description_en
        assert not any(p in spec.name for p in ("gender", "ethnicity", "religion"))
    assert "members" in feature_names("cooperative") and "members" not in feature_names("family_farm")
    frame = catalogue_frame()
    assert list(frame["name"]) == list(FEATURES)
    assert set(catalogue_frame("household")["name"]) == set(feature_names("household"))


def test_docs_page_lists_the_whole_catalogue() -> None:
    from pathlib import Path

    page = Path(__file__).resolve().parents[1] / "docs" / "features.md"
    text = page.read_text(encoding="utf-8")
    missing = [name for name, spec in FEATURES.items() if f"| `{name}` | {spec.description_zh} |" not in text]
    assert not missing, f"docs/features.md is out of date (regenerate the catalogue table): {missing}"


def test_feature_spec_rejects_inconsistent_definitions() -> None:
    with pytest.raises(ValueError, match="categories"):
        FeatureSpec("x", "x", "x", "", "category", ("household",), ("households",))
    with pytest.raises(ValueError, match="subject types"):
        FeatureSpec("x", "x", "x", "", "float", ("bank",), ("households",))


@pytest.mark.parametrize("subject_type", SUBJECT_TYPES)
def test_frame_layout_and_dtypes_follow_the_catalogue(county: dict[str, pd.DataFrame], subject_type: str) -> None:
    frame = build_features(county, subject_type, AS_OF)
    assert list(frame.columns) == ["subject_id", *feature_names(subject_type)]
    assert list(frame["subject_id"]) == sorted(frame["subject_id"])
    expected = {"float": "float64", "int": "Int64", "bool": "boolean"}
    for name in feature_names(subject_type):
        spec = FEATURES[name]
        if spec.dtype == "category":
            assert isinstance(frame[name].dtype, pd.CategoricalDtype)
            assert list(frame[name].cat.categories) == list(spec.categories or ())
        else:
            assert str(frame[name].dtype) == expected[spec.dtype], name


# --------------------------------------------------------------------------------- hand calculations


def test_household_h1_by_hand(county: dict[str, pd.DataFrame]) -> None:
    f = build_features(county, "household", AS_OF)
    assert list(f["subject_id"]) == ["H1", "H2", "H3"]
    total_assets = 200000 + 20000 + 30000 + 15000 + 5000
    bank = 0.0 + 20000 * 15000 / 20000  # L1 closed; L2 snapshot after AS_OF: 3 of 4 instalments unpaid
    debt = bank + 10000
    _check(_row(f, "H1"), {
        "head_age": 49, "head_education": "junior", "head_health": "good", "household_size": 4,
        "labour_force": 2, "dependency_ratio": 1.0, "annual_income": 60000, "income_per_labourer": 30000,
        "income_per_capita": 15000, "operating_income": 40000, "land_mu": 8, "land_per_capita": 2,
        "livestock_units": 3, "house_value": 200000, "house_structure": "brick_concrete", "deposits": 15000,
        "total_assets": total_assets, "bank_debt": bank, "informal_debt": 10000, "total_debt": debt,
        "net_assets": total_assets - debt, "debt_to_income": debt / 60000, "debt_to_assets": debt / total_assets,
        # G1 on L3 is active; G2 on L1 is not (L1 closed before AS_OF)
        "guarantees_given": 10000, "guarantees_to_net_assets": 10000 / (total_assets - debt),
        "open_loans": 1,
        # 12m window (2024-06-30, 2025-06-30]: L1#2 10 days, L2#2 46 days (paid after AS_OF)
        "overdue_count_12m": 2, "max_overdue_days_12m": _days("2025-06-30", "2025-05-15"),
        "overdue_count_24m": 2, "max_overdue_days_24m": 46,
        "on_time_ratio_24m": 4 / 6, "worst_five_class_5y": 1, "has_npl_now": False,
        # L1 closed 2024-12-20: inside the 12-month window only
        "lenders_3m": 1, "lenders_6m": 1, "lenders_12m": 2,
        "credit_history_months": _days("2025-06-30", "2024-01-01") / (365.25 / 12),
        "insurance_cover": 20000, "insurance_cover_ratio": 0.5, "honours": 1, "village_assessment": "good",
        "credit_report_status": "normal", "bad_credit_5y": False, "criminal_5y": False, "is_archived": True,
        "years_since_archived": _days("2025-06-30", "2020-06-30") / 365.25,
    })


def test_household_h2_by_hand(county: dict[str, pd.DataFrame]) -> None:
    f = build_features(county, "household", AS_OF)
    debt = 30000 + 5000  # L3 snapshot balance (snapshot before AS_OF) + informal
    _check(_row(f, "H2"), {
        "head_age": 65, "dependency_ratio": None, "income_per_labourer": None, "income_per_capita": 0.0,
        "debt_to_income": None, "total_assets": 50000, "bank_debt": 30000, "debt_to_assets": debt / 50000,
        "net_assets": 50000 - debt,
        "guarantees_given": 0.0,  # G4 starts after AS_OF
        "guarantees_to_net_assets": 0.0,
        # L3#1 due 2024-01-01 (before the 12m window) is still unpaid: overdue in the window too
        "overdue_count_12m": 1, "max_overdue_days_12m": _days("2025-06-30", "2024-01-01"),
        "overdue_count_24m": 1, "max_overdue_days_24m": _days("2025-06-30", "2024-01-01"),
        "worst_five_class_5y": 4, "has_npl_now": True, "on_time_ratio_24m": 0.0, "open_loans": 1,
        "lenders_3m": 1, "lenders_12m": 1, "village_assessment": None, "credit_report_status": "bad",
        "bad_credit_5y": True,  # 2021-03-01 within 5 years
        "criminal_5y": False,  # 2019-01-01 more than 5 years before
        "is_archived": False, "years_since_archived": None,
    })


def test_household_surveyed_after_as_of_has_missing_survey_facts(county: dict[str, pd.DataFrame]) -> None:
    f = build_features(county, "household", AS_OF)
    row = _row(f, "H3")
    for name in ("household_size", "annual_income", "total_assets", "debt_to_assets", "village_assessment",
                 "credit_report_status", "land_per_capita", "honours", "bad_credit_5y", "criminal_5y",
                 "net_assets", "guarantees_to_net_assets"):
        assert pd.isna(row[name]), name
    # its only loan (L4) is issued after AS_OF, and its file is opened after AS_OF
    _check(row, {
        "head_age": 35, "bank_debt": 0.0, "open_loans": 0, "overdue_count_12m": 0, "max_overdue_days_24m": 0,
        "worst_five_class_5y": None, "has_npl_now": False, "lenders_12m": 0, "credit_history_months": None,
        "on_time_ratio_24m": None, "guarantees_given": 0.0, "is_archived": False, "years_since_archived": None,
    })


def test_window_membership_by_hand(county: dict[str, pd.DataFrame]) -> None:
    tables = dict(county)
    loan = county["loans"].iloc[[0]].assign(
        loan_id="L7", borrower_id="H3", issue_date=_d("2023-01-01"), maturity_date=_d("2024-06-01"),
        snapshot_date=_d("2025-12-31"), amount=9000.0, balance=0.0, closed_date=pd.NaT)
    tables["loans"] = pd.concat([county["loans"], loan], ignore_index=True)
    extra = pd.DataFrame({
        "loan_id": ["L7"] * 3, "instalment": [1, 2, 3],
        "due_date": [_d("2023-02-01"), _d("2024-03-01"), _d("2024-05-01")],
        "due_amount": [3000.0] * 3, "paid_amount": [3000.0] * 3,
        # on time before both windows; 4 days late, paid before the 12m window; 99 days late, paid inside it
        "paid_date": [_d("2023-02-01"), _d("2024-03-05"), _d("2024-08-08")],
    })
    tables["repayments"] = pd.concat([county["repayments"], extra], ignore_index=True)
    _check(_row(build_features(tables, "household", AS_OF), "H3"), {
        "overdue_count_12m": 1, "max_overdue_days_12m": 99, "overdue_count_24m": 2, "max_overdue_days_24m": 99,
        "on_time_ratio_24m": 0.0,  # of the two instalments that fell due in the 24m window
        "worst_five_class_5y": 2, "has_npl_now": False, "bank_debt": 0.0, "open_loans": 0,
        "lenders_12m": 0,  # repaid to 0 without a closing date: not open
        "credit_history_months": _days("2025-06-30", "2023-01-01") / (365.25 / 12),
    })


def test_organisations_by_hand(county: dict[str, pd.DataFrame]) -> None:
    farms = build_features(county, "family_farm", AS_OF)
    assert list(farms["subject_id"]) == ["F1"]
    _check(_row(farms, "F1"), {
        "years_in_operation": _days("2025-06-30", "2018-07-01") / 365.25, "land_mu": 100, "employees": 5,
        "registered_capital": 0.0, "revenue_last_year": 500_000, "total_liabilities": 400_000,
        "total_assets": 1_000_000, "insurance_cover": 100_000,
        "revenue_growth": 0.25, "profit_margin": 0.1, "debt_to_assets": 0.4, "net_assets": 600_000,
        "bank_debt": 100_000, "guarantees_given": 0.0, "guarantees_to_net_assets": 0.0,
        "insurance_cover_ratio": 0.2, "honours": 2, "demonstration_level": "county", "has_uscc": False,
        "open_loans": 1, "overdue_count_12m": 0, "max_overdue_days_12m": 0, "worst_five_class_5y": 0,
        "has_npl_now": False, "lenders_3m": 1, "on_time_ratio_24m": None,
        "credit_history_months": _days("2025-06-30", "2025-02-01") / (365.25 / 12),
        # legal representative P5 is not a household head: unknown. (P1 held the role until 2019.)
        "legal_rep_bad_credit_5y": None, "legal_rep_criminal_5y": None,
    })
    coops = build_features(county, "cooperative", AS_OF)
    _check(_row(coops, "C1"), {
        "members": 30, "revenue_growth": None,  # previous year's revenue is 0
        "profit_margin": -0.1, "debt_to_assets": 900_000 / 800_000, "net_assets": -100_000,
        "guarantees_given": 50_000, "guarantees_to_net_assets": None,  # net assets <= 0
        "bank_debt": 0.0, "open_loans": 0, "worst_five_class_5y": None, "lenders_12m": 0,
        # P2 (head of H2, bad record 2021) holds the role; P1 only from 2025-08-01
        "legal_rep_bad_credit_5y": True, "legal_rep_criminal_5y": False, "has_uscc": True,
    })
    firms = build_features(county, "enterprise", AS_OF)
    assert list(firms["subject_id"]) == ["E2"]  # E1 registered after AS_OF
    _check(_row(firms, "E2"), {
        "revenue_growth": -1.0, "profit_margin": None, "debt_to_assets": None,
        "insurance_cover_ratio": None, "legal_rep_bad_credit_5y": None,
    })


def test_professional_managers_by_hand(county: dict[str, pd.DataFrame]) -> None:
    f = build_features(county, "professional_manager", AS_OF)
    assert list(f["subject_id"]) == ["P3", "P4"]  # a certificate, or a manager role started by AS_OF
    _check(_row(f, "P3"), {
        "age": 40, "education": "college", "certificate_level": "senior", "years_experience": 12,
        "managed_entities": 1, "managed_land_mu": 100,  # F1; the C1 role ended 2024-12-31
        "bank_debt": 0.0, "credit_history_months": None,
    })
    _check(_row(f, "P4"), {
        "age": 54, "certificate_level": None, "managed_entities": 1, "managed_land_mu": 20,
        # L6 closed after AS_OF: open at AS_OF; balance from schedule (1 of 2 unpaid at AS_OF)
        "open_loans": 1, "bank_debt": 5000, "overdue_count_12m": 1, "max_overdue_days_12m": 29,
        "on_time_ratio_24m": 0.5, "worst_five_class_5y": 1, "lenders_3m": 1,
    })


def test_optional_tables_absent_leave_their_features_missing(county: dict[str, pd.DataFrame]) -> None:
    core = {k: county[k] for k in ("households", "loans", "repayments")}
    f = build_features(core, "household", AS_OF)
    assert f["guarantees_given"].isna().all() and f["guarantees_to_net_assets"].isna().all()
    assert _row(f, "H1")["bank_debt"] == 15000
    orgs = build_features({k: county[k] for k in ("enterprises", "loans", "repayments")}, "cooperative", AS_OF)
    assert orgs["legal_rep_bad_credit_5y"].isna().all()
    pms = build_features({k: county[k] for k in ("persons", "loans", "repayments")}, "professional_manager",
                         AS_OF)
    assert list(pms["subject_id"]) == ["P3"] and pms["managed_land_mu"].isna().all()


def test_snapshot_before_as_of_sets_the_class(county: dict[str, pd.DataFrame]) -> None:
    tables = dict(county)
    loans = county["loans"].copy()
    loans.loc[loans["loan_id"] == "L5", "five_class"] = "doubtful"
    tables["loans"] = loans
    row = _row(build_features(tables, "family_farm", AS_OF), "F1")
    assert row["worst_five_class_5y"] == 3 and bool(row["has_npl_now"])


def test_accepts_an_object_with_tables(county: dict[str, pd.DataFrame]) -> None:
    class Holder:
        tables = county

    pd.testing.assert_frame_equal(build_features(Holder(), "household", "2025-06-30"),
                                  build_features(county, "household", AS_OF))


# ------------------------------------------------------------------------------------ point in time

_future_day = st.integers(min_value=1, max_value=2000).map(lambda k: AS_OF + pd.Timedelta(days=k))
_subjects = st.sampled_from(["H1", "H2", "H3", "F1", "C1", "E2", "P3", "P4"])


@st.composite
def _future_records(draw: st.DrawFn) -> dict[str, list[dict[str, object]]]:
    loans, reps, guars, roles = [], [], [], []
    for i in range(draw(st.integers(0, 3))):
        issue = draw(_future_day)
        lid = f"FL{i}"
        loans.append({
            "loan_id": lid, "borrower_id": draw(_subjects), "borrower_type": "household",
            "institution": draw(st.sampled_from(["RCC", "NEW", "PSBC"])), "officer_id": "O9",
            "product": "micro_credit", "purpose": "planting", "amount": 5000.0, "interest_rate": 0.05,
            "issue_date": issue, "maturity_date": issue + pd.Timedelta(days=365), "snapshot_date": issue,
            "balance": 5000.0, "overdue_days": draw(st.integers(0, 500)),
            "five_class": draw(st.sampled_from(["normal", "loss"])), "closed_date": pd.NaT,
        })
        reps.append({"loan_id": lid, "instalment": 1, "due_date": issue + pd.Timedelta(days=30),
                     "due_amount": 5000.0, "paid_date": pd.NaT, "paid_amount": np.nan})
    for j in range(draw(st.integers(0, 3))):  # more instalments of existing loans, all due later
        due = draw(_future_day)
        paid = draw(st.one_of(st.none(), _future_day))
        reps.append({"loan_id": draw(st.sampled_from(["L2", "L3", "L5", "L6"])), "instalment": 100 + j,
                     "due_date": due, "due_amount": 1000.0,
                     "paid_date": paid if paid is None or paid >= due else due,
                     "paid_amount": np.nan if paid is None else 1000.0})
    for k in range(draw(st.integers(0, 2))):
        guars.append({"guarantee_id": f"FG{k}", "loan_id": draw(st.sampled_from(["L2", "L3", "L5"])),
                      "guarantor_id": draw(_subjects), "amount": 7000.0, "start_date": draw(_future_day),
                      "end_date": pd.NaT})
    for k in range(draw(st.integers(0, 2))):
        roles.append({"person_id": draw(st.sampled_from(["P1", "P2", "P4", "P5"])),
                      "enterprise_id": draw(st.sampled_from(["F1", "C1", "E2"])),
                      "role": draw(st.sampled_from(["legal_representative", "manager"])),
                      # a later slot per k: two drawn roles never share the key (person, entity, role, from)
                      "valid_from": draw(_future_day) + pd.Timedelta(days=2001 * k), "valid_to": pd.NaT})
    return {"loans": loans, "repayments": reps, "guarantees": guars, "roles": roles}


def _with_future(county: dict[str, pd.DataFrame], extra: dict[str, list[dict[str, object]]],
                 snapshot_noise: int) -> dict[str, pd.DataFrame]:
    out = dict(county)
    for name, rows in extra.items():
        if rows:
            out[name] = pd.concat([county[name], pd.DataFrame(rows)], ignore_index=True)
    # facts about existing records that only become known after AS_OF may change freely
    loans = out["loans"].copy()
    future_snap = loans["snapshot_date"] > AS_OF
    loans.loc[future_snap, "overdue_days"] = snapshot_noise
    loans.loc[future_snap, "five_class"] = "loss"
    loans.loc[loans["loan_id"] == "L3", "closed_date"] = AS_OF + pd.Timedelta(days=1 + snapshot_noise)
    out["loans"] = loans
    reps = out["repayments"].copy()
    unpaid = reps["paid_date"].isna() & (reps["due_date"] <= AS_OF)
    reps.loc[unpaid, "paid_date"] = AS_OF + pd.Timedelta(days=1 + snapshot_noise)
    out["repayments"] = reps
    roles = out["roles"].copy()
    roles.loc[roles["valid_to"].isna() & (roles["valid_from"] <= AS_OF), "valid_to"] = (
        AS_OF + pd.Timedelta(days=1 + snapshot_noise))
    out["roles"] = roles
    return out


@pytest.mark.parametrize("subject_type", SUBJECT_TYPES)
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(extra=_future_records(), noise=st.integers(0, 400))
def test_records_dated_after_as_of_move_no_feature(county: dict[str, pd.DataFrame], subject_type: str,
                                                   extra: dict[str, list[dict[str, object]]],
                                                   noise: int) -> None:
    base = build_features(county, subject_type, AS_OF)
    moved = build_features(_with_future(county, extra, noise), subject_type, AS_OF)
    pd.testing.assert_frame_equal(base, moved)


def test_the_future_is_used_once_it_is_the_past(county: dict[str, pd.DataFrame]) -> None:
    later = pd.Timestamp("2025-12-31")  # L2's snapshot (substandard) and L4 are known by then
    row = _row(build_features(county, "household", later), "H1")
    assert bool(row["has_npl_now"]) and row["worst_five_class_5y"] == 2
    assert _row(build_features(county, "household", later), "H3")["open_loans"] == 1


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**32 - 1), subject_type=st.sampled_from(SUBJECT_TYPES))
def test_results_do_not_depend_on_row_order(county: dict[str, pd.DataFrame], seed: int,
                                            subject_type: str) -> None:
    rng = np.random.default_rng(seed)
    shuffled = {k: v.iloc[rng.permutation(len(v))].reset_index(drop=True) for k, v in county.items()}
    pd.testing.assert_frame_equal(build_features(shuffled, subject_type, AS_OF),
                                  build_features(county, subject_type, AS_OF))


def test_object_text_columns_give_the_same_frame(county: dict[str, pd.DataFrame]) -> None:
    as_object = {k: v.astype({c: object for c in v.columns if pd.api.types.is_string_dtype(v[c].dtype)})
                 for k, v in county.items()}
    for subject_type in ("household", "cooperative", "professional_manager"):
        pd.testing.assert_frame_equal(build_features(as_object, subject_type, AS_OF),
                                      build_features(county, subject_type, AS_OF))


def test_empty_loan_book_and_empty_subject_sets(county: dict[str, pd.DataFrame]) -> None:
    from ruralcredit.schema import TABLES

    tables = dict(county)
    for name in ("loans", "repayments", "guarantees"):
        tables[name] = TABLES[name].empty()
    f = build_features(tables, "household", AS_OF)
    assert len(f) == 3
    assert (f["bank_debt"] == 0).all() and (f["lenders_12m"] == 0).all() and not f["has_npl_now"].any()
    assert f["worst_five_class_5y"].isna().all() and f["credit_history_months"].isna().all()
    none = build_features(tables, "enterprise", "2009-12-31")  # before any enterprise was registered
    assert len(none) == 0 and list(none.columns) == ["subject_id", *feature_names("enterprise")]


# ------------------------------------------------------------------------------------------- errors


def test_missing_table_is_a_schema_error(county: dict[str, pd.DataFrame]) -> None:
    tables = {k: v for k, v in county.items() if k != "repayments"}
    with pytest.raises(SchemaError) as err:
        build_features(tables, "household", AS_OF)
    assert err.value.problem == "missing_table" and err.value.table == "repayments"
    with pytest.raises(SchemaError, match="persons"):
        build_features({"loans": county["loans"], "repayments": county["repayments"]}, "professional_manager",
                       AS_OF)


@pytest.mark.parametrize("bad", [None, "not a date", 20250630, True, pd.Timestamp("2025-06-30", tz="UTC")])
def test_bad_as_of_is_an_input_error(county: dict[str, pd.DataFrame], bad: object) -> None:
    with pytest.raises(InputError) as err:
        build_features(county, "household", bad)
    assert err.value.argument == "as_of"


def test_unknown_subject_type_and_bad_tables_are_input_errors(county: dict[str, pd.DataFrame]) -> None:
    with pytest.raises(InputError) as err:
        build_features(county, "bank", AS_OF)
    assert err.value.argument == "subject_type"
    with pytest.raises(InputError):
        feature_names("village")
    with pytest.raises(InputError) as err:
        build_features([county["households"]], "household", AS_OF)
    assert err.value.argument == "tables"


def test_broken_tables_are_schema_errors(county: dict[str, pd.DataFrame]) -> None:
    tables = dict(county)
    reps = county["repayments"].copy()
    reps.loc[0, "loan_id"] = "NO_SUCH_LOAN"
    tables["repayments"] = reps
    with pytest.raises(SchemaError) as err:
        build_features(tables, "household", AS_OF)
    assert err.value.table == "repayments" and err.value.problem == "reference"
    tables = dict(county)
    tables["households"] = county["households"].drop(columns=["annual_income"])
    with pytest.raises(SchemaError) as err:
        build_features(tables, "household", AS_OF)
    assert err.value.problem == "missing_columns"


def test_one_person_heading_two_households_is_refused_for_legal_representatives(
        county: dict[str, pd.DataFrame]) -> None:
    tables = dict(county)
    hh = county["households"].copy()
    hh.loc[hh["subject_id"] == "H3", "head_id_number"] = HEAD2  # P2, C1's representative, heads H2 too
    tables["households"] = hh
    with pytest.raises(SchemaError) as err:
        build_features(tables, "cooperative", AS_OF)
    assert err.value.table == "households" and err.value.problem == "duplicate_head"


# ------------------------------------------------------------------------------------ synthetic county

_HAS_SYNTH = importlib.util.find_spec("ruralcredit.synth") is not None


@pytest.mark.skipif(not _HAS_SYNTH, reason="ruralcredit.synth is not written yet")
@pytest.mark.parametrize("subject_type", SUBJECT_TYPES)
def test_synthetic_county_builds(subject_type: str) -> None:
    from ruralcredit.synth import make_county

    county = make_county(households=300, seed=7)
    frame = build_features(county, subject_type, county.as_of)
    assert list(frame.columns) == ["subject_id", *feature_names(subject_type)]
    assert frame["subject_id"].is_unique
    if subject_type == "household":
        assert len(frame) == len(county.tables["households"])
        assert frame["total_assets"].notna().all()
