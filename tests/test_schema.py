"""Table contracts: every kind of bad input gets a SchemaError naming table, columns and keys."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ruralcredit.errors import InputError, SchemaError
from ruralcredit.schema import TABLES, parse_as_of, protected_columns, validate, validate_all

ID_A = "11010519491231002X"
ID_B = "360426199101010071"
ID_C = "120103198806018241"


def _villages() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "village_code": ["530112101201", "530112101202"],
            "village_name": ["A村", "B村"],
            "township_code": ["530112101", "530112101"],
            "township_name": ["T镇", "T镇"],
            "county_code": ["530112", "530112"],
        }
    )


def _households() -> pd.DataFrame:
    n = 2
    return pd.DataFrame(
        {
            "subject_id": ["H1", "H2"],
            "village_code": ["530112101201", "530112101202"],
            "head_id_number": [ID_A, ID_B],
            "head_name": ["张三", "李四"],
            "size": [4, 3],
            "labour_force": [2, 2],
            "archived": [True, False],
            "archived_date": ["2020-01-01", None],
            "survey_date": ["2025-06-01"] * n,
            "head_education": ["junior", "primary"],
            "head_health": ["good", "fair"],
            "head_marital_status": ["married", "married"],
            "annual_income": [60000.0, 30000.0],
            "operating_income": [40000.0, 20000.0],
            "annual_expenses": [30000.0, 20000.0],
            "house_area": [120.0, 80.0],
            "house_structure": ["brick_concrete", "brick_wood"],
            "house_value": [200000.0, 90000.0],
            "land_mu": [8.5, 4.0],
            "livestock_units": [3.0, 0.0],
            "machinery_value": [20000.0, 0.0],
            "vehicle_value": [30000.0, 0.0],
            "deposits": [15000.0, 2000.0],
            "other_assets": [0.0, 0.0],
            "informal_debt": [0.0, 5000.0],
            "insurance_cover": [10000.0, 0.0],
            "honours": [1, 0],
            "village_assessment": ["good", None],
            "credit_report_status": ["normal", "none"],
            "bad_credit_date": [None, None],
            "criminal_record_date": [None, None],
        }
    )


def _loans() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "loan_id": ["L1", "L2"],
            "borrower_id": ["H1", "H2"],
            "borrower_type": ["household", "household"],
            "institution": ["RCC", "PSBC"],
            "officer_id": ["O1", "O2"],
            "product": ["micro_credit", "guaranteed"],
            "purpose": ["planting", "livestock"],
            "amount": [50000, 30000],
            "interest_rate": [0.06, 0.065],
            "issue_date": ["2024-01-10", "2024-03-01"],
            "maturity_date": ["2027-01-10", "2026-03-01"],
            "snapshot_date": ["2025-06-30", "2025-06-30"],
            "balance": [30000.0, 10000.0],
            "overdue_days": [0, 40],
            "five_class": ["normal", "special_mention"],
            "closed_date": [None, None],
        }
    )


def _persons() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "person_id": ["P1", "P2", "P3"],
            "id_number": [ID_A, ID_B, ID_C],
            "name": ["张三", "李四", "王五"],
            "household_id": ["H1", "H2", None],
            "relation": ["head", "head", "none"],
            "birth_date": ["1949-12-31", "1991-01-01", "1988-06-01"],
            "gender": ["female", "male", "female"],
            "ethnicity": ["汉族", "彝族", "白族"],
            "education": ["junior", "primary", "college"],
        }
    )


def _raises(table: str, df: pd.DataFrame, problem: str) -> SchemaError:
    with pytest.raises(SchemaError) as info:
        validate(table, df)
    err = info.value
    assert err.table == table
    assert err.problem == problem, str(err)
    return err


def test_valid_tables_pass_and_are_typed() -> None:
    out = validate("loans", _loans())
    assert out["amount"].dtype == np.float64
    assert out["issue_date"].dtype == "datetime64[ns]"
    assert out["overdue_days"].dtype == np.int64
    hh = validate("households", _households())
    assert hh["archived_date"].isna().tolist() == [False, True]
    # optional declared columns that are absent are added as missing, extra columns are kept
    extra = _persons().assign(bank_note=["x", "y", "z"])
    p = validate("persons", extra)
    assert p["religion"].isna().all() and p["bank_note"].tolist() == ["x", "y", "z"]


def test_input_is_not_modified() -> None:
    df = _loans()
    before = df.copy()
    validate("loans", df)
    pd.testing.assert_frame_equal(df, before)


def test_not_a_frame_and_unknown_table() -> None:
    with pytest.raises(SchemaError, match="DataFrame"):
        validate("loans", {"loan_id": ["L1"]})  # type: ignore[arg-type]
    with pytest.raises(SchemaError) as info:
        validate("nope", _loans())
    assert info.value.problem == "unknown_table"


def test_missing_columns_named() -> None:
    err = _raises("loans", _loans().drop(columns=["amount", "five_class"]), "missing_columns")
    assert err.columns == ["amount", "five_class"]


def test_duplicate_column_names() -> None:
    df = _loans()
    df = pd.concat([df, df[["amount"]]], axis=1)
    _raises("loans", df, "duplicate_columns")


def test_text_amount_is_a_dtype_error_not_coerced() -> None:
    err = _raises("loans", _loans().assign(amount=["50000", "30000"]), "dtype")
    assert err.columns == ["amount"]


def test_negative_amount_named_by_key() -> None:
    err = _raises("loans", _loans().assign(balance=[30000.0, -1.0]), "range")
    assert err.keys == ["L2"] and err.count == 1


def test_infinite_money() -> None:
    _raises("loans", _loans().assign(balance=[np.inf, 1.0]), "range")


def test_fractional_count_is_refused() -> None:
    _raises("loans", _loans().assign(overdue_days=[0.0, 2.5]), "dtype")


def test_integral_floats_are_accepted_as_counts() -> None:
    out = validate("loans", _loans().assign(overdue_days=[0.0, 40.0]))
    assert out["overdue_days"].tolist() == [0, 40]


def test_null_in_required_column() -> None:
    err = _raises("loans", _loans().assign(officer_id=["O1", None]), "null")
    assert err.keys == ["L2"]


def test_value_outside_vocabulary() -> None:
    err = _raises("loans", _loans().assign(five_class=["normal", "bad"]), "allowed")
    assert "bad" in str(err)


def test_impossible_date() -> None:
    err = _raises("loans", _loans().assign(issue_date=["2024-02-30", "2024-03-01"]), "date")
    assert err.keys == ["L1"]


def test_implausible_date() -> None:
    _raises("loans", _loans().assign(closed_date=[None, "1800-01-01"]), "date")


def test_timezone_dates_refused() -> None:
    tz = pd.to_datetime(["2024-01-10", "2024-03-01"]).tz_localize("Asia/Shanghai")
    _raises("loans", _loans().assign(issue_date=tz), "date")


def test_number_where_date_expected() -> None:
    _raises("loans", _loans().assign(issue_date=[20240110, 20240301]), "dtype")


def test_bool_column_with_text() -> None:
    _raises("households", _households().assign(archived=["yes", "no"]), "dtype")


def test_duplicate_keys() -> None:
    err = _raises("loans", _loans().assign(loan_id=["L1", "L1"]), "duplicate_key")
    assert err.count == 2


def test_cross_column_rule() -> None:
    err = _raises("loans", _loans().assign(maturity_date=["2023-01-01", "2026-03-01"]), "rule:maturity")
    assert err.keys == ["L1"]
    _raises("households", _households().assign(labour_force=[5, 2]), "rule:labour_le_size")
    _raises("loans", _loans().assign(balance=[60000.0, 0.0]), "rule:balance")


def test_invalid_resident_id_is_masked_in_message() -> None:
    bad = "360426199101010072"
    err = _raises("households", _households().assign(head_id_number=[ID_A, bad]), "identifier")
    assert err.keys == ["H2"]
    assert bad not in str(err)


def test_lowercase_x_is_normalised() -> None:
    out = validate("households", _households().assign(head_id_number=[ID_A.lower(), ID_B]))
    assert out["head_id_number"].iloc[0] == ID_A


def test_village_code_level() -> None:
    _raises("households", _households().assign(village_code=["530112101000", "530112101202"]), "identifier")
    _raises("villages", _villages().assign(county_code=["5301", "5301"]), "identifier")


def test_village_prefix_rule() -> None:
    _raises("villages", _villages().assign(township_code=["530112101", "530112102"]), "rule:township_prefix")


def test_at_most_20_keys_carried() -> None:
    n = 50
    loans = pd.concat([_loans()] * 25, ignore_index=True)
    loans["loan_id"] = [f"L{i}" for i in range(n)]
    loans["amount"] = -1.0
    err = _raises("loans", loans, "range")
    assert err.count == n and len(err.keys) == 20


def test_composite_keys_reported_as_tuples() -> None:
    rep = pd.DataFrame(
        {
            "loan_id": ["L1", "L1"],
            "instalment": [1, 1],
            "due_date": ["2024-02-10", "2024-03-10"],
            "due_amount": [1000.0, 1000.0],
            "paid_date": [None, None],
            "paid_amount": [None, None],
        }
    )
    err = _raises("repayments", rep, "duplicate_key")
    assert err.keys[0] == ("L1", 1)


def test_validate_all_checks_references() -> None:
    tables = {"villages": _villages(), "households": _households(), "loans": _loans(), "persons": _persons()}
    out = validate_all(tables)
    assert set(out) == set(tables)
    with pytest.raises(SchemaError) as info:
        validate_all({**tables, "loans": _loans().assign(borrower_id=["H1", "H9"])})
    assert info.value.problem == "reference" and info.value.keys == ["L2"]
    with pytest.raises(SchemaError) as info:
        validate_all({**tables, "households": _households().assign(village_code=["530112101201", "530112101209"])})
    assert info.value.table == "households" and info.value.problem == "reference"


def test_validate_all_unknown_table_and_duplicate_subjects() -> None:
    with pytest.raises(SchemaError):
        validate_all({"loanz": _loans()})
    persons = _persons().assign(person_id=["H1", "P2", "P3"])
    with pytest.raises(SchemaError) as info:
        validate_all({"villages": _villages(), "households": _households(), "persons": persons})
    assert info.value.problem == "duplicate_key"


def test_protected_columns_declared() -> None:
    prot = protected_columns()
    assert set(prot["persons"]) == {"gender", "ethnicity", "religion"}
    assert all(not c.protected for t in TABLES.values() if t.name != "persons" for c in t.columns)


def test_every_table_has_an_empty_form_that_validates() -> None:
    for name, schema in TABLES.items():
        out = validate(name, schema.empty())
        assert list(out.columns)[: len(schema.columns)] == schema.column_names


@settings(max_examples=30, deadline=None)
@given(st.permutations(range(4)))
def test_validation_independent_of_row_order(order: list[int]) -> None:
    loans = pd.concat([_loans(), _loans().assign(loan_id=["L3", "L4"])], ignore_index=True)
    a = validate("loans", loans).set_index("loan_id").sort_index()
    b = validate("loans", loans.iloc[list(order)]).set_index("loan_id").sort_index()
    pd.testing.assert_frame_equal(a, b)


@pytest.mark.parametrize("bad", [None, "2024-13-01", "yesterday", 20240101, True, pd.Timestamp("2024-01-01", tz="UTC")])
def test_parse_as_of_refuses_bad_dates(bad: object) -> None:
    with pytest.raises(InputError):
        parse_as_of(bad)


def test_parse_as_of_normalises() -> None:
    assert parse_as_of("2025-06-30") == pd.Timestamp("2025-06-30")
    assert parse_as_of(pd.Timestamp("2025-06-30 13:45")) == pd.Timestamp("2025-06-30")
