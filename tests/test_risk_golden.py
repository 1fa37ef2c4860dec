"""Golden cases of the built-in warning rules: each rule at, just above and just below its thresholds.

A case file (``tests/golden/warnings/*.yaml``)::

    rule: overdue_escalation          # a rule of the pack
    as_of: 2026-06-30
    overrides: {params: {...}}        # optional: fields of the rule replaced for this case
    tables:                           # compact rows; every other column gets a plain default
      households: [H1, H2]            # ids only, or mappings with the columns that matter
      loans: [{loan_id: L1, borrower_id: H1, overdue_days: 31}]
      transactions: [{_repeat: 30, subject_id: E1, counterparty_name: "储户{i}"}]   # 30 rows
    blacklisted: [H9]                 # optional, for blacklist_link
    signal: [{subject_id: S1, value: 0.1}]   # instead of tables: the rule applied to signal rows
    expect:                           # exactly the warnings the rule raises
      - {subject_id: H1, severity: yellow, value: 31, evidence: {loan_id: L1}}

``expect`` lists every subject warned by the rule, with its severity and (optionally) value and
evidence items; subjects not listed must not be warned.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml

from ruralcredit.ids import make_resident_id
from ruralcredit.risk import load_rules, scan
from ruralcredit.risk._warnings import evaluate
from ruralcredit.risk.rules import WarningRules
from ruralcredit.schema import TABLES

GOLDEN = Path(__file__).parent / "golden" / "warnings"
CASES = sorted(GOLDEN.glob("*.yaml"))
VILLAGE = "530128101201"

_DEFAULTS: dict[str, dict[str, Any]] = {
    "households": {
        "village_code": VILLAGE, "head_name": "张三", "size": 4, "labour_force": 2, "archived": True,
        "archived_date": "2020-01-01", "survey_date": "2026-01-01", "head_education": "junior",
        "head_health": "good", "head_marital_status": "married", "annual_income": 50000.0,
        "operating_income": 30000.0, "annual_expenses": 20000.0, "house_area": 120.0,
        "house_structure": "brick_concrete", "house_value": 0.0, "land_mu": 5.0, "livestock_units": 1.0,
        "machinery_value": 0.0, "vehicle_value": 0.0, "deposits": 0.0, "other_assets": 0.0, "informal_debt": 0.0,
        "insurance_cover": 0.0, "honours": 0, "village_assessment": "good", "credit_report_status": "normal",
        "bad_credit_date": None, "criminal_record_date": None},
    "enterprises": {
        "kind": "cooperative", "name": "某蔬菜专业合作社", "uscc": None, "village_code": VILLAGE,
        "registered_date": "2015-01-01", "business_scope": "蔬菜种植、销售", "registered_capital": 1e6, "members": 10,
        "employees": 5, "land_mu": 100.0, "total_assets": 1e6, "total_liabilities": 4e5,
        "revenue_last_year": 1e6, "revenue_prev_year": 9e5, "net_profit": 1e5, "insurance_cover": 0.0,
        "honours": 0, "demonstration_level": "none", "promised_yield": None},
    "persons": {"name": "李四", "household_id": None, "relation": "none", "birth_date": "1980-01-01",
                "gender": "male", "ethnicity": "Han", "education": "junior"},
    "loans": {"borrower_type": "household", "institution": "RCC", "officer_id": "RCC-101-01",
              "product": "micro_credit", "purpose": "planting", "amount": 100000.0, "interest_rate": 0.06,
              "issue_date": "2025-06-01", "maturity_date": "2027-06-01", "snapshot_date": None,
              "balance": None, "overdue_days": 0, "five_class": None, "closed_date": None},
    "repayments": {"due_amount": 1000.0, "paid_date": None, "paid_amount": None},
    "guarantees": {"amount": None, "start_date": None, "end_date": None},
    "contacts": {"kind": "phone", "valid_from": "2020-01-01", "valid_to": None},
    "transactions": {"direction": "out", "counterparty_id": None, "counterparty_name": "某公司",
                     "counterparty_industry": "agriculture", "loan_id": None, "amount": 1000.0},
    "roles": {"role": "member", "valid_from": "2015-01-01", "valid_to": None},
}
_ID_COLUMN = {"households": "subject_id", "enterprises": "subject_id", "persons": "person_id",
              "loans": "loan_id"}


def _five_class(overdue: int) -> str:
    return ("normal", "special_mention", "substandard", "doubtful", "loss")[
        int(np.searchsorted([0, 90, 270, 360], overdue, side="left"))]


def _expand(rows: list[Any]) -> list[Any]:
    """Rows with ``_repeat: n`` become n rows, ``{i}`` in their texts replaced by 0 .. n-1."""
    out: list[Any] = []
    for row in rows:
        if isinstance(row, dict) and "_repeat" in row:
            n = row["_repeat"]
            out.extend({k: v.format(i=i) if isinstance(v, str) else v for k, v in row.items() if k != "_repeat"}
                       for i in range(n))
        else:
            out.append(row)
    return out


def build_tables(spec: dict[str, list[Any]], as_of: dt.date) -> dict[str, pd.DataFrame]:
    """Schema-valid tables from compact rows (defaults for every column not given)."""
    out: dict[str, pd.DataFrame] = {}
    for name, compact in spec.items():
        full = []
        for i, row in enumerate(_expand(compact)):
            if isinstance(row, str):
                row = {_ID_COLUMN[name]: row}
            r = {**_DEFAULTS[name], **row}
            if name == "households":
                r.setdefault("head_id_number", make_resident_id("530128", dt.date(1970, 1, 1), 2 * i + 1))
            if name == "persons":
                r.setdefault("id_number", make_resident_id("530128", dt.date(1980, 1, 1), 2 * i + 1))
            if name == "enterprises" and r.get("uscc") is None:
                r.setdefault("operator_id_number", make_resident_id("530128", dt.date(1975, 1, 1), 2 * i + 1))
            if name == "loans":
                r["snapshot_date"] = r["snapshot_date"] or as_of.isoformat()
                r["balance"] = r["amount"] if r["balance"] is None else r["balance"]
                r["five_class"] = r["five_class"] or _five_class(int(r["overdue_days"]))
            if name == "guarantees":
                r.setdefault("guarantee_id", f"G{i}")
            if name == "transactions":
                r.setdefault("txn_id", f"T{i}")
            if name == "repayments":
                r.setdefault("instalment", 1)
            full.append(r)
        frame = pd.DataFrame(full)
        for col in TABLES[name].columns:
            if col.name not in frame.columns:
                continue
            if col.dtype == "date":
                frame[col.name] = pd.to_datetime(frame[col.name])
            elif col.dtype == "float":
                frame[col.name] = frame[col.name].astype("float64")
            elif col.dtype == "str" and frame[col.name].isna().all():
                frame[col.name] = pd.Series([None] * len(frame), dtype=object)
            elif col.dtype == "int" and col.nullable:
                frame[col.name] = frame[col.name].astype("Int64")
        out[name] = frame
    if "guarantees" in out and "loans" in out:  # a guarantee defaults to its loan's amount and issue day
        g, L = out["guarantees"], out["loans"].set_index("loan_id")
        g["amount"] = g["amount"].fillna(g["loan_id"].map(L["amount"])).astype("float64")
        g["start_date"] = g["start_date"].fillna(g["loan_id"].map(L["issue_date"]))
    return out


def _pack(doc: dict[str, Any], as_of: dt.date) -> WarningRules:
    pack = load_rules(doc.get("pack", "early-warning"), as_of)
    if not doc.get("overrides"):
        return pack
    data = pack.model_dump(mode="json")
    for r in data["payload"]["rules"]:
        if r["id"] == doc["rule"]:
            r.update(doc["overrides"])
    return WarningRules.model_validate(data)


def run_case(path: Path) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    as_of = doc["as_of"]
    pack = _pack(doc, as_of)
    if "signal" in doc:
        frame = pd.DataFrame(doc["signal"])
        frame["subject_type"] = frame.get("subject_type", "household")
        frame["key"] = frame["subject_id"]
        warnings = evaluate(pack.rule(doc["rule"]), frame, pack, pd.Timestamp(as_of))
    else:
        tables = build_tables(doc["tables"], as_of)
        warnings = scan(tables, pack, as_of, select=[doc["rule"]], blacklisted=doc.get("blacklisted"))
    return warnings, doc["expect"] or []


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_golden(path: Path) -> None:
    warnings, expect = run_case(path)
    got = warnings.set_index("subject_id")
    assert sorted(got.index) == sorted(e["subject_id"] for e in expect), warnings[["subject_id", "severity",
                                                                                  "value"]].to_string()
    for e in expect:
        row = got.loc[e["subject_id"]]
        assert row["severity"] == e["severity"], (e["subject_id"], row["severity"], row["value"])
        if "value" in e:
            assert row["value"] == pytest.approx(e["value"], rel=1e-9, abs=1e-9), e["subject_id"]
        for k, v in (e.get("evidence") or {}).items():
            assert row["evidence"][k] == v, (e["subject_id"], k, row["evidence"][k])


def test_every_builtin_rule_has_golden_cases() -> None:
    pack = load_rules("early-warning", "2026-06-30")
    covered = {yaml.safe_load(p.read_text(encoding="utf-8"))["rule"] for p in CASES}
    assert {r.id for r in pack.payload.rules} <= covered


def test_golden_cases_reach_every_level() -> None:
    """Across a rule's cases, every severity level it defines is reached exactly at its threshold."""
    pack = load_rules("early-warning", "2026-06-30")
    reached: dict[str, set[tuple[str, float]]] = {}
    for p in CASES:
        doc = yaml.safe_load(p.read_text(encoding="utf-8"))
        if doc.get("overrides"):
            continue
        for e in doc["expect"] or []:
            if "value" in e:
                reached.setdefault(doc["rule"], set()).add((e["severity"], float(e["value"])))
    for rule in pack.payload.rules:
        at = {(s, t) for s, t in rule.thresholds()}
        if rule.op in ("gt", "lt"):
            continue  # strict comparisons: the threshold itself must not fire (checked in the case files)
        assert at <= reached.get(rule.id, set()), (rule.id, sorted(at - reached.get(rule.id, set())))
