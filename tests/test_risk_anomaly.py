"""AnomalyDetector: a subject's score never depends on the batch it is scored in; errors; scan integration."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import clone

from ruralcredit.errors import InputError, ModelError
from ruralcredit.risk import scan
from ruralcredit.risk.anomaly import AnomalyDetector


def _features(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    income = rng.lognormal(10.5, 0.5, n)
    income[: max(1, n // 50)] *= 40  # a few extreme incomes
    frame = pd.DataFrame({
        "subject_id": [f"H{i:04d}" for i in range(n)],
        "annual_income": income,
        "deposits": np.where(rng.random(n) < 0.1, np.nan, rng.lognormal(9, 1, n)),
        "open_loans": pd.array(rng.integers(0, 4, n), dtype="Int64"),
        "has_npl_now": pd.array(rng.random(n) < 0.05, dtype="boolean"),
        "house_structure": pd.Categorical(rng.choice(["brick_concrete", "brick_wood", "earth_wood"], n)),
    })
    return frame


FIT = _features(400)
DETECTOR = AnomalyDetector(n_estimators=50, random_state=1).fit(FIT)
POOL = _features(120, seed=7)
POOL.loc[3, "house_structure"] = np.nan
POOL["house_structure"] = POOL["house_structure"].cat.add_categories(["other"])
POOL.loc[5, "house_structure"] = "other"  # unseen in fitting
ALONE = np.array([DETECTOR.score(POOL.iloc[[i]])[0] for i in range(len(POOL))])


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(0, len(POOL) - 1), min_size=1, max_size=60))
def test_score_does_not_depend_on_the_batch(rows: list[int]) -> None:
    """Scoring a subject alone or inside any batch (any others, any order, repeats) gives the same score."""
    batch = POOL.iloc[rows]
    assert np.array_equal(DETECTOR.score(batch), ALONE[rows])
    frame = DETECTOR.signal_frame(batch)
    assert np.array_equal(frame["value"].to_numpy(), ALONE[rows])
    assert frame["top_feature"].tolist() == DETECTOR.signal_frame(POOL).iloc[rows]["top_feature"].tolist()


def test_scores_rank_the_extremes_first() -> None:
    scores = DETECTOR.score(FIT)
    assert ((scores > 0) & (scores <= 1)).all()
    extreme = FIT["annual_income"] > FIT["annual_income"].quantile(0.98)
    assert scores[extreme.to_numpy()].mean() > scores[~extreme.to_numpy()].mean() + 0.05


def test_sklearn_conventions() -> None:
    params = DETECTOR.get_params()
    assert params["n_estimators"] == 50 and not hasattr(clone(DETECTOR), "forest_")
    again = AnomalyDetector(n_estimators=50, random_state=1).fit(FIT)
    assert np.array_equal(again.score(POOL), DETECTOR.score(POOL))  # deterministic given random_state


def test_errors() -> None:
    with pytest.raises(ModelError, match="not fitted"):
        AnomalyDetector().score(FIT)
    with pytest.raises(ModelError):
        AnomalyDetector().fit(FIT.assign(ethnicity=pd.Categorical(["Han"] * len(FIT))))
    with pytest.raises(ModelError):
        AnomalyDetector(features=["annual_income", "gender"]).fit(FIT.assign(gender="male"))
    with pytest.raises(InputError):
        DETECTOR.score(FIT.drop(columns=["deposits"]))
    with pytest.raises(InputError):
        AnomalyDetector().fit(FIT.iloc[:1])
    with pytest.raises(InputError):
        AnomalyDetector().fit(FIT.to_numpy())
    with pytest.raises(InputError):
        DETECTOR.signal_frame(FIT.drop(columns=["subject_id"]))


def test_scan_raises_anomaly_warnings() -> None:
    from ruralcredit.features import build_features
    from ruralcredit.synth import make_county

    county = make_county(households=300, seed=2)
    features = build_features(county, "household", county.as_of)
    detector = AnomalyDetector(n_estimators=50).fit(features)
    w = scan(county, as_of=county.as_of, select=["anomaly"], detector=detector, features=features)
    assert len(w) and (w["kind"] == "anomaly").all()
    scores = pd.Series(detector.score(features), index=features["subject_id"])
    assert (w["value"].to_numpy() == scores.reindex(w["subject_id"]).to_numpy()).all()
    assert set(w["subject_id"]) == set(scores.index[scores >= 0.6])
    with pytest.raises(InputError, match="detector"):
        scan(county, as_of=county.as_of, select=["anomaly"])
