"""Drift warnings: PSI of scores and CSI of features between periods, thresholds from the pack."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ruralcredit.errors import InputError
from ruralcredit.models import metrics
from ruralcredit.packs import load_packs
from ruralcredit.risk import WarningRules
from ruralcredit.risk.monitoring import drift_warnings

AS_OF = "2026-06-30"
RNG = np.random.default_rng(0)
REF = pd.DataFrame({"subject_id": [f"H{i}" for i in range(4000)], "score": RNG.normal(600, 50, 4000),
                    "income": RNG.lognormal(10, 0.5, 4000), "grade": RNG.choice(["A", "B", "C"], 4000)})


def _current(shift: float) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    return pd.DataFrame({"subject_id": [f"H{i}" for i in range(4000)], "score": rng.normal(600 + shift, 50, 4000),
                         "income": rng.lognormal(10, 0.5, 4000),
                         "grade": rng.choice(["A", "B", "C"], 4000, p=[0.2, 0.3, 0.5] if shift else None)})


def test_no_drift_no_warnings() -> None:
    w = drift_warnings(REF, REF, as_of=AS_OF, model="hh-card")
    assert w.empty and list(w.columns)[:3] == ["warning_id", "as_of", "subject_id"]
    assert w.attrs["record"]["rules_run"] == ["score_drift", "feature_drift"]


def test_drift_raises_warnings_with_evidence() -> None:
    cur = _current(40)
    w = drift_warnings(REF, cur, as_of=AS_OF, model="hh-card").set_index("subject_id")
    assert (w["kind"] == "drift").all() and (w["category"] == "drift").all()
    score = w.loc["hh-card"]
    assert score["subject_type"] == "model" and score["rule_id"] == "score_drift"
    assert score["value"] == pytest.approx(metrics.psi(REF["score"], cur["score"]))  # the metrics module's PSI
    assert score["evidence"]["stability"] == metrics.stability_label(score["value"])
    assert "hh-card:grade" in w.index and w.loc["hh-card:grade", "subject_type"] == "feature"
    assert w.loc["hh-card:grade", "evidence"]["feature"] == "grade"
    assert "hh-card:income" not in w.index  # unchanged distribution
    sev = {"yellow": 0.1, "red": 0.25}
    for _, row in w.iterrows():
        assert row["value"] >= sev[row["severity"]]


def test_thresholds_come_from_the_pack() -> None:
    cur = _current(40)
    base = drift_warnings(REF, cur, as_of=AS_OF, model="m", select=["score_drift"])
    value = float(base["value"].iloc[0])
    rule = {"id": "psi", "signal": "score_psi", "category": "drift", "levels": {"yellow": value + 0.01},
            "text_zh": "PSI {value:.3f}", "text_en": "PSI {value:.3f}", "source": "test"}
    pack = load_packs({"id": "t", "kind": "warning_rules", "version": "1", "effective_from": "2024-01-01",
                       "jurisdiction": "53", "source": "test", "payload": {"rules": [rule]}}, WarningRules)[0]
    assert drift_warnings(REF, cur, pack, AS_OF, model="m").empty
    rule["levels"] = {"yellow": value}
    pack = WarningRules.model_validate({**pack.model_dump(mode="json"), "payload": {"rules": [rule]}})
    assert len(drift_warnings(REF, cur, pack, AS_OF, model="m")) == 1


def test_errors() -> None:
    with pytest.raises(InputError):
        drift_warnings(REF, REF.drop(columns=["score"]), as_of=AS_OF)
    with pytest.raises(InputError, match="not drift rules"):
        drift_warnings(REF, REF, as_of=AS_OF, select=["overdue_escalation"])
    with pytest.raises(InputError):
        drift_warnings(REF, [1, 2], as_of=AS_OF)
    with pytest.raises(InputError):
        drift_warnings(REF, REF, as_of=None)
    only_features = drift_warnings(REF, _current(40), as_of=AS_OF, score=None)
    assert set(only_features["rule_id"]) == {"feature_drift"}
