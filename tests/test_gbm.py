"""Tests of the LightGBM scorer (ruralcredit.models.gbm)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.isotonic import IsotonicRegression

from ruralcredit.errors import InputError, ModelError
from ruralcredit.models import load, read_metadata, save
from ruralcredit.models.gbm import GbmScorer, _apply_calibration, _fit_calibrator
from ruralcredit.templates import GradeScale, load_template

SCALE = GradeScale.default()
CATS = ["good", "fair", "poor"]
# income: the PD may only fall as it rises; arrears: only rise. Both relations in the data are
# U-shaped, so an unconstrained model would break monotonicity and the constraints must bind.
MONOTONE = {"income": -1, "arrears": 1}
SMALL = dict(n_estimators=40, num_leaves=7, min_child_samples=10, learning_rate=0.15, early_stopping_rounds=10,
             grade_scale=SCALE, monotone=MONOTONE)


def make_data(n: int = 800, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    income = rng.uniform(0, 10, n)
    arrears = rng.integers(0, 8, n).astype(float)
    free = rng.normal(size=n)
    health = rng.choice([*CATS, None], size=n, p=[0.55, 0.25, 0.1, 0.1])
    flag = rng.random(n) < 0.3
    z = (-2.6 + 0.12 * (income - 5) ** 2 - 0.6 * (arrears - 3.5) ** 2 / 4 + 0.8 * free
         + 1.2 * (health == "poor") + 1.5 * (health == None) + 0.6 * flag)  # noqa: E711 - elementwise
    y = (rng.random(n) < 1 / (1 + np.exp(-z))).astype(int)
    income[rng.random(n) < 0.05] = np.nan
    X = pd.DataFrame({
        "subject_id": pd.Series([f"H{seed}-{i:05d}" for i in range(n)], dtype="str"),
        "income": income,
        "arrears": pd.array(np.where(rng.random(n) < 0.05, None, arrears.astype(int)), dtype="Int64"),
        "free": free,
        "health": pd.Categorical(health, categories=CATS),
        "flag": pd.array(flag, dtype="boolean"),
    })
    return X, y


X_TRAIN, Y_TRAIN = make_data()
X_TEST, Y_TEST = make_data(200, seed=7)


@pytest.fixture(scope="module")
def gbm() -> GbmScorer:
    return GbmScorer(**SMALL).fit(X_TRAIN, Y_TRAIN)


# -- the score frame and the record path ------------------------------------------------------------------
def test_score_frame_has_the_shared_columns(gbm):
    out = gbm.score(X_TEST)
    k = 3
    expected = (["subject_id", "score", "pd", "grade"] + [f"reason_{j}" for j in range(1, k + 1)]
                + [f"reason_{j}_zh" for j in range(1, k + 1)] + [f"reason_{j}_en" for j in range(1, k + 1)]
                + ["scorer_id", "scorer_version", "model_hash"])
    assert list(out.columns) == expected
    assert out["subject_id"].tolist() == X_TEST["subject_id"].tolist()
    assert out["score"].dtype == np.float64 and out["pd"].dtype == np.float64
    assert ((out["pd"] > 0) & (out["pd"] < 1)).all()
    assert ((out["score"] >= 0) & (out["score"] <= SCALE.max_score)).all()
    np.testing.assert_array_equal(out["grade"].astype(object).to_numpy(), SCALE.assign(out["score"]))
    assert (out["scorer_id"] == "gbm").all() and (out["model_hash"] == gbm.model_hash_).all()
    # an empty code has empty texts, a code has texts
    for j in range(1, k + 1):
        code = out[f"reason_{j}"].astype(str)
        assert ((code == "") == (out[f"reason_{j}_en"].astype(str) == "")).all()


def test_points_follow_the_documented_scaling(gbm):
    out = gbm.score(X_TEST)
    p = out["pd"].to_numpy()
    factor = gbm.pdo / math.log(2)
    offset = gbm.base_score - factor * math.log(gbm.base_odds)
    raw = np.clip(offset + factor * np.log((1 - p) / p), 0, 100)
    np.testing.assert_allclose(out["score"].to_numpy(), np.floor(raw * 10 + 0.5) / 10, atol=1e-9)
    # PD 5 % is good:bad odds 19:1, the base: 60 points, the lowest credit grade
    assert gbm._points(np.array([0.05]))[0] == pytest.approx(60.0)
    assert gbm.predict_proba(X_TEST)[:, 1] == pytest.approx(p, abs=1e-15)


def test_record_path_gives_the_same_row(gbm):
    frame = X_TEST.head(40)
    out = gbm.score(frame)
    for rec, row in zip(frame.to_dict("records"), out.to_dict("records"), strict=True):
        one = gbm.score_record(rec)
        assert list(one) == list(row)
        assert one == row
    # absent keys are missing values
    rec = {"subject_id": "X", "income": None}
    full = {"subject_id": "X", "income": np.nan, "arrears": pd.NA, "free": None, "health": None, "flag": None}
    assert gbm.score_record(rec) == gbm.score_record(full)
    assert gbm.score_record(rec, reasons=False)["score"] == gbm.score_record(rec)["score"]


def test_reasons_are_the_largest_positive_contributions(gbm):
    out = gbm.score(X_TEST)
    contrib = gbm.contributions(X_TEST).drop(columns="expected_value")
    code = {f: info[0] for f, info in zip(gbm.feature_names_in_, gbm.reason_info_, strict=True)}
    for i in range(len(X_TEST)):
        c = contrib.iloc[i]
        pos = c[c > 0].sort_values(ascending=False, kind="stable")
        want = [code[f] for f in pos.index[:3]] + [""] * (3 - min(3, len(pos)))
        assert [str(out[f"reason_{j}"].iloc[i]) for j in (1, 2, 3)] == want


def test_missing_and_unseen_values_read_as_such(gbm):
    frame = X_TEST.head(30).copy()
    frame["health"] = pd.Categorical(["bedridden"] * 30)  # never seen at fit
    out = gbm.score(frame)
    missing = X_TEST.head(30).assign(health=pd.Categorical([None] * 30, categories=CATS))
    # an unseen category scores exactly as a missing value ...
    np.testing.assert_array_equal(out["score"], gbm.score(missing)["score"])
    # ... and when it is a reason, it says so
    texts = pd.concat([out[f"reason_{j}_en"].astype(str) for j in (1, 2, 3)])
    hits = texts[texts.str.contains("health")]
    assert len(hits) and hits.str.startswith("unrecognised value").all()
    strict = GbmScorer(**{**SMALL, "unseen_category": "error"}).fit(X_TRAIN, Y_TRAIN)
    with pytest.raises(ModelError, match="bedridden"):
        strict.score(frame)
    with pytest.raises(ModelError, match="bedridden"):
        strict.score_record(frame.iloc[0].to_dict())


# -- properties under hypothesis ---------------------------------------------------------------------------
row_values = st.fixed_dictionaries({
    "income": st.one_of(st.none(), st.floats(-5, 15, allow_nan=False)),
    "arrears": st.one_of(st.none(), st.integers(0, 12)),
    "free": st.floats(-4, 4, allow_nan=False),
    "health": st.one_of(st.none(), st.sampled_from(CATS)),
    "flag": st.one_of(st.none(), st.booleans()),
})


def _frame(rows: list[dict]) -> pd.DataFrame:
    df = pd.DataFrame(rows)
    return pd.DataFrame({
        "subject_id": pd.Series([f"R{i}" for i in range(len(df))], dtype="str"),
        "income": pd.array(df["income"], dtype="Float64").to_numpy(dtype="float64", na_value=np.nan),
        "arrears": pd.array(df["arrears"], dtype="Int64"),
        "free": df["free"].astype(float),
        "health": pd.Categorical(df["health"], categories=CATS),
        "flag": pd.array(df["flag"], dtype="boolean"),
    })


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 50), rows=st.lists(row_values, min_size=1, max_size=8))
def test_contributions_plus_expected_value_equal_the_margin(seed, rows):
    X, y = make_data(300, seed=seed)
    model = GbmScorer(**{**SMALL, "random_state": seed}).fit(X, y)
    frame = _frame(rows)
    contrib = model.contributions(frame)
    margin = model.decision_function(frame)
    np.testing.assert_allclose(contrib.sum(axis=1).to_numpy(), margin, rtol=0, atol=1e-9)
    assert contrib["expected_value"].nunique() == 1  # one expected value, the model's


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(row=row_values, feature=st.sampled_from(sorted(MONOTONE)), delta=st.floats(0.01, 10), path=st.booleans())
def test_raising_a_constrained_feature_moves_the_score_one_way(gbm, row, feature, delta, path):
    base = dict(row)
    if base[feature] is None:
        base[feature] = 1
    raised = dict(base)
    raised[feature] = base[feature] + (delta if feature == "income" else math.ceil(delta))
    if path:
        a, b = (gbm.score_record(r) for r in (base, raised))
    else:
        out = gbm.score(_frame([base, raised]))
        a, b = out.iloc[0], out.iloc[1]
    if MONOTONE[feature] == -1:   # higher is better: the score never falls, the PD never rises
        assert b["score"] >= a["score"] and b["pd"] <= a["pd"]
    else:                         # lower is better: the score never rises
        assert b["score"] <= a["score"] and b["pd"] >= a["pd"]
    m = gbm.decision_function(_frame([base, raised]))
    assert (m[1] - m[0]) * MONOTONE[feature] >= 0


def test_constraints_bind_on_u_shaped_data():
    # without the constraints the same data gives a non-monotone model: the property above is not vacuous
    free = GbmScorer(**{**SMALL, "monotone": None}).fit(X_TRAIN, Y_TRAIN)
    grid = _frame([{"income": v, "arrears": 2, "free": 0.0, "health": "good", "flag": False}
                   for v in np.linspace(0, 10, 41)])
    assert (np.diff(free.decision_function(grid)) > 0).any()


# -- constraints from a template ---------------------------------------------------------------------------
def test_template_directions_give_the_constraints():
    tpl = load_template("household", "2026-01-01")
    rng = np.random.default_rng(3)
    n = 400
    X = pd.DataFrame({
        "subject_id": pd.Series([f"H{i}" for i in range(n)], dtype="str"),
        "income_per_capita": rng.lognormal(9, 0.5, n),      # HH14 higher_is_better
        "debt_to_income": rng.random(n),                     # HH17 lower_is_better
        "head_age": rng.uniform(20, 80, n),                  # HH01 banded
        "head_health": pd.Categorical(rng.choice(["good", "fair", "poor"], n)),  # HH03 categorical
        "land_mu": rng.uniform(0, 20, n),                    # not read by the template
    })
    y = (rng.random(n) < 0.2).astype(int)
    g = GbmScorer(template=tpl, n_estimators=10).fit(X, y)
    assert dict(zip(g.feature_names_in_, g.monotone_constraints_, strict=True)) == {
        "income_per_capita": -1, "debt_to_income": 1, "head_age": 0, "head_health": 0, "land_mu": 0}
    assert g.monotone_sources_[0] == "template HH14"
    assert g.grade_scale_ == tpl.grade_scale  # the template's own scale
    assert [r[0] for r in g.reason_info_] == ["HH14", "HH17", "HH01", "HH03", "land_mu"]
    # given constraints override the template's
    g2 = GbmScorer(template=tpl, monotone={"debt_to_income": 0, "land_mu": -1}, n_estimators=10).fit(X, y)
    assert g2.monotone_constraints_ == [-1, 0, 0, 0, -1]
    with pytest.raises(ModelError, match="categorical"):
        GbmScorer(template=tpl, monotone={"head_health": 1}, n_estimators=10).fit(X, y)
    with pytest.raises(ModelError, match="not used"):
        GbmScorer(template=tpl, monotone={"deposits": 1}, n_estimators=10).fit(X, y)
    with pytest.raises(ModelError, match="as_of"):
        GbmScorer(template="household").fit(X, y)


@pytest.mark.parametrize("column", ["ethnicity", "head_gender", "religion", "民族"])
def test_a_protected_attribute_is_refused(column):
    X = X_TRAIN.assign(**{column: np.arange(len(X_TRAIN)) % 2})
    with pytest.raises(ModelError, match="protected"):
        GbmScorer(**SMALL).fit(X, Y_TRAIN)
    with pytest.raises(ModelError, match="protected"):
        GbmScorer(**{**SMALL, "features": ["income", column]}).fit(X, Y_TRAIN)


# -- determinism, early stopping, calibration --------------------------------------------------------------
def test_same_seed_same_model(gbm):
    again = GbmScorer(**SMALL).fit(X_TRAIN, Y_TRAIN)
    assert again.booster_.model_to_string() == gbm.booster_.model_to_string()
    assert again.model_hash_ == gbm.model_hash_
    pd.testing.assert_frame_equal(again.score(X_TEST), gbm.score(X_TEST))


def test_early_stopping_keeps_the_best_trees():
    g = GbmScorer(**{**SMALL, "n_estimators": 400, "learning_rate": 0.5}).fit(X_TRAIN, Y_TRAIN)
    assert g.best_iteration_ < 400
    assert g.booster_.num_trees() == g.best_iteration_
    full = GbmScorer(**{**SMALL, "n_estimators": 30, "early_stopping_rounds": None}).fit(X_TRAIN, Y_TRAIN)
    assert full.best_iteration_ == 30 == full.booster_.num_trees()
    assert g.n_train_ + g.n_validation_ == len(X_TRAIN) and g.n_validation_ == pytest.approx(160, abs=1)


@pytest.mark.parametrize("metric", ["brier", "log_loss"])
def test_auto_calibration_picks_the_better_cross_validated_map(metric):
    g = GbmScorer(**{**SMALL, "calibration_metric": metric}).fit(X_TRAIN, Y_TRAIN)
    scores = g.calibration_["scores"]
    assert set(scores) == {"isotonic", "sigmoid"}
    best = min(scores, key=lambda m: scores[m][metric])
    assert g.calibration_["method"] == best
    assert metric in g.calibration_["chosen_by"]


def test_calibration_maps_are_scikit_learns():
    rng = np.random.default_rng(0)
    m = rng.normal(size=4000)
    y = (rng.random(4000) < 1 / (1 + np.exp(-(2 * m - 1)))).astype(float)
    new = np.linspace(-5, 5, 101)
    iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(m, y)
    ours = _apply_calibration(_fit_calibrator("isotonic", m, y), new)
    np.testing.assert_allclose(ours, np.clip(iso.predict(new), 1e-4, 1 - 1e-4), atol=1e-12)
    platt = _fit_calibrator("sigmoid", m, y)
    assert platt["a"] == pytest.approx(2.0, abs=0.25) and platt["b"] == pytest.approx(-1.0, abs=0.25)
    for method in ("isotonic", "sigmoid"):
        g = GbmScorer(**{**SMALL, "calibration": method}).fit(X_TRAIN, Y_TRAIN)
        assert g.calibration_["method"] == method and g.calibration_["scores"] == {}
        margin = g.decision_function(X_TEST)
        np.testing.assert_allclose(g.predict_proba(X_TEST)[:, 1], _apply_calibration(g.calibration_, margin))


# -- persistence -------------------------------------------------------------------------------------------
def test_save_load_scores_identically(gbm, tmp_path):
    path = save(gbm, tmp_path / "gbm.rcmodel.json", metrics={"auc": 0.7})
    meta = read_metadata(path)
    assert meta["payload_encoding"] == "json" and meta["scorer_class"] == "ruralcredit.models.gbm.GbmScorer"
    assert meta["features"] == list(gbm.feature_names_in_)
    assert meta["summary"]["monotone_constraints"] == {"income": -1, "arrears": 1, "free": 0, "health": 0, "flag": 0}
    loaded = load(path, allow_pickle=False)
    pd.testing.assert_frame_equal(loaded.score(X_TEST), gbm.score(X_TEST))
    rec = X_TEST.iloc[3].to_dict()
    assert loaded.score_record(rec) == gbm.score_record(rec)
    assert loaded.model_hash_ == gbm.model_hash_
    with pytest.raises(ModelError, match="format"):
        GbmScorer.from_dict({"format": "something else"})


# -- bad input ---------------------------------------------------------------------------------------------
def test_bad_input_raises_typed_errors(gbm):
    with pytest.raises(ModelError, match="not fitted"):
        GbmScorer(**SMALL).score(X_TEST)
    with pytest.raises(ModelError, match="not fitted"):
        GbmScorer(**SMALL).score_record({})
    with pytest.raises(ModelError, match="DataFrame"):
        GbmScorer(**SMALL).fit(X_TRAIN.to_numpy(), Y_TRAIN)
    with pytest.raises(InputError, match="two classes"):
        GbmScorer(**SMALL).fit(X_TRAIN, np.zeros(len(X_TRAIN)))
    with pytest.raises(InputError, match="learning_rate"):
        GbmScorer(**{**SMALL, "learning_rate": 0}).fit(X_TRAIN, Y_TRAIN)
    with pytest.raises(ModelError, match="grade"):
        GbmScorer(**{**SMALL, "grade_scale": None}).fit(X_TRAIN, Y_TRAIN)
    with pytest.raises(ModelError, match="lacks columns"):
        gbm.score(X_TEST.drop(columns="free"))
    with pytest.raises(ModelError, match="duplicate"):
        gbm.score(pd.concat([X_TEST.head(2), X_TEST.head(1)]))
    with pytest.raises(ModelError, match="infinite"):
        gbm.score(X_TEST.assign(free=np.inf))
    with pytest.raises(ModelError, match="infinite"):
        gbm.score_record({"free": math.inf})
    with pytest.raises(ModelError, match="number"):
        gbm.score_record({"free": "high"})
    with pytest.raises(ModelError, match="dtype"):
        GbmScorer(**SMALL).fit(X_TRAIN.assign(when=pd.Timestamp("2026-01-01")), Y_TRAIN)
