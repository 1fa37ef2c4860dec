"""Warning-rule packs: the built-in pack, validation of custom rules, thresholds read from the pack."""

from __future__ import annotations

import copy
from typing import Any

import pandas as pd
import pytest

from ruralcredit.errors import PolicyError
from ruralcredit.packs import load_packs
from ruralcredit.risk import SEVERITIES, SIGNALS, WarningRules, load_rules, scan

AS_OF = "2026-06-30"


def _pack(rules: list[dict[str, Any]], **header: Any) -> dict[str, Any]:
    return {"id": "test-rules", "kind": "warning_rules", "version": "1", "effective_from": "2024-01-01",
            "jurisdiction": "53", "source": "test pack", "payload": {"rules": rules}, **header}


_RULE = {"id": "late", "signal": "overdue_days", "category": "credit_deterioration",
         "levels": {"yellow": 31, "red": 91}, "text_zh": "逾期{value}天", "text_en": "{value} days overdue",
         "source": "test"}


def test_builtin_pack() -> None:
    pack = load_rules("early-warning", AS_OF)
    assert pack.KIND == "warning_rules" and pack.id == "early-warning"
    ids = [r.id for r in pack.payload.rules]
    assert len(ids) == len(set(ids)) >= 25
    for r in pack.payload.rules:
        assert r.signal in SIGNALS and r.source and r.text_zh and r.text_en
        assert set(r.levels) <= set(SEVERITIES)
    assert pack.rule("fundraising_depositors").levels["red"] == 150  # 2022 interpretation: 150 depositors
    assert pack.rule("fundraising_amount").levels["red"] == 1_000_000
    assert pack.rule("score_drift").thresholds() == [("yellow", 0.1), ("red", 0.25)]
    assert load_rules(pack, AS_OF) is pack
    with pytest.raises(PolicyError):
        load_rules(pack, "2021-01-01")


@pytest.mark.parametrize("change, message", [
    ({"signal": "no_such_signal"}, "unknown signal"),
    ({"params": {"no_such": 1}}, "no parameter"),
    ({"params": {"min_days": "one"}}, "must be like"),
    ({"levels": {"yellow": 91, "red": 31}}, "escalate"),
    ({"op": "le", "levels": {"yellow": 31, "red": 91}}, "escalate"),
    ({"measure": "total_amount"}, "no measure"),
    ({"text_en": "{nope} days"}, "unknown field"),
    ({"text_en": "{} days"}, "unknown field"),
    ({"levels": {"purple": 3}}, "levels"),
    ({"levels": {}}, "levels"),
    ({"id": "Bad Id"}, "lowercase"),
])
def test_bad_rules_are_refused(change: dict[str, Any], message: str) -> None:
    rule = {**copy.deepcopy(_RULE), **change}
    with pytest.raises(PolicyError, match=message):
        load_packs(_pack([rule]), WarningRules)


def test_signal_specific_checks() -> None:
    misuse = {**_RULE, "id": "misuse", "signal": "loan_misuse", "text_en": "x", "text_zh": "x",
              "params": {"allowed_industries": {"planting": ["farming"]}}}
    with pytest.raises(PolicyError, match="unknown industries"):
        load_packs(_pack([misuse]), WarningRules)
    misuse["params"] = {"allowed_industries": {"gardening": ["agriculture"]}}
    with pytest.raises(PolicyError, match="unknown loan purposes"):
        load_packs(_pack([misuse]), WarningRules)
    officer = {**_RULE, "id": "officer", "signal": "officer_concentration", "text_en": "x", "text_zh": "x",
               "params": {"group_by": "township"}}
    with pytest.raises(PolicyError, match="group_by"):
        load_packs(_pack([officer]), WarningRules)


def test_duplicate_rule_ids_are_refused() -> None:
    with pytest.raises(PolicyError, match="twice"):
        load_packs(_pack([_RULE, _RULE]), WarningRules)


def _tables(snapshot: str = AS_OF) -> dict[str, pd.DataFrame]:
    from test_risk_golden import build_tables

    return build_tables({"households": ["H1", "H2"], "loans": [
        {"loan_id": "L1", "borrower_id": "H1", "overdue_days": 40},
        {"loan_id": "L2", "borrower_id": "H2", "overdue_days": 100}]}, pd.Timestamp(snapshot).date())


def test_thresholds_come_from_the_pack() -> None:
    tables = _tables()
    pack = load_packs(_pack([_RULE]), WarningRules)[0]
    w = scan(tables, pack, AS_OF).set_index("subject_id")
    assert w.loc["H1", "severity"] == "yellow" and w.loc["H2", "severity"] == "red"
    stricter = load_packs(_pack([{**_RULE, "levels": {"yellow": 41, "red": 101}}]), WarningRules)[0]
    w2 = scan(tables, stricter, AS_OF).set_index("subject_id")
    assert list(w2.index) == ["H2"] and w2.loc["H2", "severity"] == "yellow"
    assert w2.loc["H2", "evidence"]["levels"] == {"yellow": 41, "red": 101}
    assert w2.loc["H2", "policy_hash"] != w.loc["H2", "policy_hash"]


def test_disabled_rules_and_selection() -> None:
    tables = _tables()
    pack = load_packs(_pack([{**_RULE, "enabled": False}, {**_RULE, "id": "late2"}]), WarningRules)[0]
    assert set(scan(tables, pack, AS_OF)["rule_id"]) == {"late2"}
    assert set(scan(tables, pack, AS_OF, select="late")["rule_id"]) == {"late"}  # named: runs even if disabled


def test_pack_versions_by_date(tmp_path) -> None:
    path = tmp_path / "rules.yaml"
    import yaml

    v1 = _pack([_RULE])
    v2 = _pack([{**_RULE, "levels": {"yellow": 60}}], version="2", effective_from="2026-01-01")
    path.write_text(yaml.safe_dump_all([v1, v2], allow_unicode=True), encoding="utf-8")
    tables = _tables(snapshot="2025-12-31")
    before = scan(tables, path, "2025-12-31", select="late")
    after = scan(tables, path, AS_OF, select="late")
    assert set(before["policy_version"]) == {"1"} and set(after["policy_version"]) == {"2"}
    assert len(before) == 2 and list(after["subject_id"]) == ["H2"]
