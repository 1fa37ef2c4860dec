"""Tests of the WOE encoder and the statistical scorecard (ruralcredit.models.woe / .scorecard)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.utils.estimator_checks import parametrize_with_checks

from ruralcredit.errors import InputError, ModelError
from ruralcredit.models.binning import BinningProcess
from ruralcredit.models.compiled import CompiledScorecard
from ruralcredit.models.scorecard import Scorecard
from ruralcredit.models.woe import WoeEncoder

# The cards here keep the default 600-point scaling (the industry's and the peers'); grades on the default
# 100-point scale are then clipped, which fit rightly warns about: tested once, silenced elsewhere.
pytestmark = pytest.mark.filterwarnings("ignore:Scorecard. base_score=600 is off:UserWarning")

VILLAGES = ["dongcun", "xicun", "nancun", "beicun", "shangcun", "xiacun"]


def make_data(n: int = 3000, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    income = rng.lognormal(10.0, 0.8, n)
    income[rng.random(n) < 0.05] = np.nan
    debt = rng.random(n)
    village = rng.choice(VILLAGES, size=n, p=[0.3, 0.25, 0.15, 0.12, 0.1, 0.08])
    n_loans = rng.integers(0, 6, n)
    insured = rng.random(n) < 0.4
    z = (-1.6 - 0.9 * (np.nan_to_num(np.log(income), nan=10.4) - 10) + 1.8 * debt
         + 0.9 * (village == "dongcun") + 0.25 * n_loans - 0.5 * insured)
    y = (rng.random(n) < 1 / (1 + np.exp(-z))).astype(int)
    X = pd.DataFrame({
        "subject_id": pd.Series([f"HH{i:05d}" for i in range(n)], dtype="str"),
        "income": income,
        "debt_ratio": debt,
        "village": pd.Series(village, dtype="str"),
        "n_loans": pd.Series(n_loans, dtype="Int64"),
        "insured": pd.Series(insured, dtype="boolean"),
        "noise": rng.normal(size=n),
    })
    return X, y


@pytest.fixture(scope="module")
def data() -> tuple[pd.DataFrame, np.ndarray]:
    return make_data()


@pytest.fixture(scope="module")
def card(data) -> Scorecard:
    X, y = data
    return Scorecard(binning=BinningProcess(special_values={"n_loans": [0]}, max_bins=6)).fit(X, y)


def _expected_points(card: Scorecard, X: pd.DataFrame) -> np.ndarray:
    """Points matrix computed independently of the compiled scorer: bin index -> integer points."""
    cols = []
    for c in card.features_:
        idx = card.binning_.binnings_[c].bin_index(X[c])
        cols.append(card.points_[c][idx])
    return np.column_stack(cols)


# ------------------------------------------------------------------------------------------------
# points, score, PD
# ------------------------------------------------------------------------------------------------


def test_fit_selects_signal_and_drops_noise(card):
    sel = card.selection_.set_index("feature")
    assert not sel.loc["noise", "selected"] and "below min_iv" in sel.loc["noise", "reason"]
    assert {"income", "debt_ratio", "village"} <= set(card.features_)
    assert (card.coef_ < 0).all()
    assert card.classes_.tolist() == [0, 1]


def test_integer_points_sum_exactly_to_the_score(card, data):
    X, _ = data
    out = card.score(X)
    pts = _expected_points(card, X)
    assert out["score"].dtype == np.int64
    np.testing.assert_array_equal(out["score"].to_numpy(), card.base_points_ + pts.sum(axis=1))
    for p in card.points_.values():
        assert p.dtype == np.int64
    assert isinstance(card.base_points_, int)


def test_pd_is_read_from_the_integer_score(card, data):
    X, y = data
    out = card.score(X)
    s = out["score"].to_numpy(dtype=float)
    expected = 1 / (1 + np.exp((s - card.offset_) / card.factor_))
    np.testing.assert_allclose(out["pd"], expected, rtol=1e-12)
    np.testing.assert_allclose(card.predict_proba(X)[:, 1], expected, rtol=1e-12)
    feats = card._scoring_frame(X)
    np.testing.assert_array_equal(card.compiled_.total_scores(feats), card.compiled_.score_frame(feats)[0])
    np.testing.assert_allclose(card.decision_function(X), np.log(expected / (1 - expected)), rtol=1e-9, atol=1e-9)
    # scaling: 600 points at good:bad 50, 20 points to double the odds
    assert card.offset_ + card.factor_ * math.log(50) == pytest.approx(600)
    assert card.factor_ * math.log(2) == pytest.approx(20)
    # rounding moves the log-odds by at most (features + 1) / 2 points
    woe = np.column_stack([card.binning_.binnings_[c].transform(X[c]) for c in card.features_])
    raw = woe @ card.coef_[0] + card.intercept_[0]
    bound = (len(card.features_) + 1) * 0.5 / card.factor_
    assert np.abs(card.decision_function(X) - raw).max() <= bound + 1e-9
    assert card.score(X, y) > 0.65  # ROC AUC on the training data


def test_points_table_lists_base_and_every_bin(card):
    t = card.points_table()
    assert t.iloc[0]["feature"] == "(base)" and t.iloc[0]["points"] == card.base_points_
    for c in card.features_:
        rows = t[t["feature"] == c]
        assert len(rows) == card.binning_.binnings_[c].n_bins_
        np.testing.assert_array_equal(rows["points"].to_numpy(), card.points_[c])
    assert t["points"].dtype == np.int64


def test_distributed_base_points_give_the_same_scores(data, card):
    X, y = data
    dist = clone(card).set_params(base_points="distributed").fit(X, y)
    assert dist.base_points_ == 0
    np.testing.assert_array_equal(dist.score(X)["score"], card.score(X)["score"])


# ------------------------------------------------------------------------------------------------
# missing, special and unseen values at scoring
# ------------------------------------------------------------------------------------------------


def _one(X: pd.DataFrame, **changes) -> pd.DataFrame:
    row = X.iloc[[0]].copy()
    for k, v in changes.items():
        row[k] = pd.Series([v], dtype=row[k].dtype, index=row.index)
    return row


def test_missing_and_special_values_score_their_bins(card, data):
    X, _ = data
    ob = card.binning_.binnings_["income"]
    base = card.score(X.iloc[[0]])["score"].iloc[0]
    j = card.features_.index("income")
    row_pts = _expected_points(card, X.iloc[[0]])[0]
    missing = card.score(_one(X, income=np.nan))["score"].iloc[0]
    assert missing == base - row_pts[j] + card.points_["income"][ob.missing_index_]
    if "n_loans" in card.features_:
        ob2 = card.binning_.binnings_["n_loans"]
        k = card.features_.index("n_loans")
        special = card.score(_one(X, n_loans=0))["score"].iloc[0]
        spec_idx = len(ob2.splits_) + 1
        assert ob2.binning_table().iloc[spec_idx]["kind"] == "special"
        assert special == base - row_pts[k] + card.points_["n_loans"][spec_idx]
        rec = {c: X.iloc[0][c] for c in card.features_} | {"n_loans": 0}
        assert card.score_record(rec)["score"] == special


@pytest.mark.parametrize("policy", ["missing", "worst", "error"])
def test_unseen_categories_follow_the_saved_policy(data, policy):
    X, y = data
    sc = Scorecard(binning=BinningProcess(unseen=policy)).fit(X, y)
    assert "village" in sc.features_
    new = _one(X, village="never-seen-village")
    rec = {c: X.iloc[0][c] for c in sc.features_} | {"village": "never-seen-village"}
    if policy == "error":
        with pytest.raises(InputError, match="never"):
            sc.score(new)
        with pytest.raises(InputError, match="never"):
            sc.score_record(rec)
        return
    ob = sc.binning_.binnings_["village"]
    j = sc.features_.index("village")
    pts = _expected_points(sc, X.iloc[[0]])[0]
    expected_bin = ob.missing_index_ if policy == "missing" else int(np.argmin(ob.woe_[:-1]))
    expected = sc.base_points_ + pts.sum() - pts[j] + sc.points_["village"][expected_bin]
    assert sc.score(new)["score"].iloc[0] == expected
    assert sc.score_record(rec)["score"] == expected


# ------------------------------------------------------------------------------------------------
# batch and record paths agree; invariances
# ------------------------------------------------------------------------------------------------

record_values = st.fixed_dictionaries({
    "income": st.one_of(st.none(), st.just(float("nan")), st.floats(0, 1e6)),
    "debt_ratio": st.one_of(st.none(), st.floats(-1, 2)),
    "village": st.one_of(st.none(), st.sampled_from([*VILLAGES, "unknown-village"])),
    "n_loans": st.one_of(st.none(), st.integers(0, 9)),
    "insured": st.one_of(st.none(), st.booleans()),
    "noise": st.floats(-3, 3),
})


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rec=record_values)
def test_record_path_equals_batch_path_and_points_sum(card, rec):
    out = card.score_record({**rec, "subject_id": "HH99999"})
    frame = pd.DataFrame({
        "subject_id": ["HH99999"],
        "income": pd.Series([rec["income"]], dtype="float64"),
        "debt_ratio": pd.Series([rec["debt_ratio"]], dtype="float64"),
        "village": pd.Series([rec["village"]], dtype="str"),
        "n_loans": pd.Series([rec["n_loans"]], dtype="Int64"),
        "insured": pd.Series([rec["insured"]], dtype="boolean"),
        "noise": [rec["noise"]],
    })
    batch = card.score(frame).iloc[0]
    assert out["score"] == batch["score"]
    assert out["score"] == card.base_points_ + _expected_points(card, frame)[0].sum()
    assert out["pd"] == pytest.approx(batch["pd"], rel=1e-12)
    # the same keys and values as the frame's row (the shared protocol)
    assert list(out) == list(batch.index)
    assert {k: out[k] for k in batch.index if k not in ("score", "pd")} == \
        {k: batch[k] for k in batch.index if k not in ("score", "pd")}


def test_scores_do_not_depend_on_row_order(card, data):
    X, y = data
    perm = np.random.default_rng(1).permutation(len(X))
    a = card.score(X).set_index("subject_id")
    b = card.score(X.iloc[perm]).set_index("subject_id").loc[a.index]
    pd.testing.assert_frame_equal(a, b)
    # fitting on shuffled rows gives the same scorecard
    refit = clone(card).fit(X.iloc[perm].reset_index(drop=True), y[perm])
    pd.testing.assert_frame_equal(refit.points_table().drop(columns="coefficient"),
                                  card.points_table().drop(columns="coefficient"))


def test_sample_weights_equal_row_repetition():
    X, y = make_data(1500, seed=3)
    w = np.random.default_rng(3).integers(1, 4, len(X))
    rep = np.repeat(np.arange(len(X)), w)
    a = Scorecard().fit(X, y, sample_weight=w)
    b = Scorecard().fit(X.iloc[rep].reset_index(drop=True), y[rep])
    assert a.features_ == b.features_
    np.testing.assert_allclose(a.coef_, b.coef_, rtol=1e-5)
    for c in a.features_:
        np.testing.assert_array_equal(a.points_[c], b.points_[c])


def test_categorical_dtypes_are_matched_as_text(card, data):
    X, _ = data
    expected = card.score(X)["score"]
    for dtype in ("category", object):
        X2 = X.assign(village=X["village"].astype(dtype))
        np.testing.assert_array_equal(card.score(X2)["score"], expected)


def test_reasons_are_the_largest_shortfalls(card, data):
    X, _ = data
    out = card.score(X.head(200))
    pts = _expected_points(card, X.head(200))
    best = np.array([card.points_[c].max() for c in card.features_])
    for i in range(200):
        short = best - pts[i]
        order = sorted(range(len(short)), key=lambda j: (-short[j], j))
        want = [card.features_[j] if short[j] > 0 else "" for j in order[:3]]
        want += [""] * (3 - len(want))
        assert [out.iloc[i][f"reason_{k}"] for k in (1, 2, 3)] == want
    # fewer than three reasons: "" codes and texts, never missing; a code always has both texts
    assert (out[["reason_1", "reason_2", "reason_3"]] == "").to_numpy().any()
    for k in (1, 2, 3):
        code = out[f"reason_{k}"]
        assert code.notna().all()
        for lang in ("zh", "en"):
            text = out[f"reason_{k}_{lang}"]
            assert text.notna().all() and ((code == "") == (text == "")).all()


def test_reason_texts_come_from_a_template(data):
    X, y = data
    texts = {"income": ("HH10", "家庭年收入", "household income"),
             "debt_ratio": ("HH20", "负债率", "debt ratio")}
    sc = Scorecard(template=texts).fit(X, y)
    out = sc.score(X.head(300))
    codes = set(out[["reason_1", "reason_2", "reason_3"]].stack().dropna())
    assert "HH10" in codes and "income" not in codes
    row = out[out["reason_1"] == "HH10"].iloc[0]
    assert row["reason_1_zh"] == "家庭年收入" and row["reason_1_en"] == "household income"
    assert list(out.columns[:7]) == ["subject_id", "score", "pd", "grade", "reason_1", "reason_2", "reason_3"]
    assert out["grade"].notna().all()
    assert out["subject_id"].iloc[0] == "HH00000"
    # features the mapping does not name: the feature name as code, the name (or catalogue name) as texts
    other = out[out["reason_1"] == "village"].iloc[0]
    assert other["reason_1_zh"] == "village" and other["reason_1_en"] == "village"


def test_reason_texts_come_from_the_catalogue_or_the_name(data):
    from ruralcredit.catalog import FEATURES

    X, y = data
    X2 = X.rename(columns={"income": "annual_income"})
    sc = Scorecard(template={"debt_ratio": ("HH20", "", "debt ratio")}).fit(X2, y)
    info = dict(zip(sc.features_, sc._reason_info, strict=True))
    spec = FEATURES["annual_income"]
    assert info["annual_income"] == ("annual_income", spec.description_zh, spec.description_en.split(";")[0])
    assert info["debt_ratio"] == ("HH20", "debt_ratio", "debt ratio")  # an empty text is filled
    assert info["village"] == ("village", "village", "village")
    with pytest.raises(InputError, match="non-empty"):
        Scorecard(template={"income": ("", "收入", "income")}).fit(X, y)


def test_grades_come_from_a_given_score_band_scale(card, data):
    from ruralcredit.templates.grade_scale import Grade, GradeScale

    X, _ = data
    scale = GradeScale(max_score=1000, grades=(
        Grade(grade="A", min_score=620, credit_household=True),
        Grade(grade="B", min_score=560),
        Grade(grade="C", min_score=None),
    ))
    sc = clone(card).set_params(grade_scale=scale).fit(X, data[1])
    assert sc.grade_scale_ is scale
    out = sc.score(X)
    np.testing.assert_array_equal(out["grade"].to_numpy(), scale.assign(out["score"].to_numpy(dtype=float)))
    # a scale the scaling does not lie on is refused, as by the GBM scorer
    with pytest.raises(InputError, match="base_score"):
        clone(card).set_params(grade_scale=GradeScale.default()).fit(X, data[1])
    with pytest.raises(InputError, match="GradeScale"):
        clone(card).set_params(grade_scale="kunming-100").fit(X, data[1])


def test_default_grade_scale_is_the_builtin_pack_and_scores_are_clipped_for_grading(data):
    from ruralcredit.packs import load_pack
    from ruralcredit.templates import GradeScalePack

    X, y = data
    pack = load_pack("kunming-100", GradeScalePack, pd.Timestamp.today()).payload
    # on the 100-point scaling: grades spread over the scale, no warning
    sc = Scorecard(pdo=10, base_score=60, base_odds=19, binning=BinningProcess(max_bins=8)).fit(X, y)
    assert sc.grade_scale_ == pack
    out = sc.score(X)
    s = out["score"].to_numpy()
    np.testing.assert_array_equal(out["grade"].to_numpy(dtype=object),
                                  pack.assign(np.clip(s.astype(float), 0, pack.max_score)))
    assert out["grade"].nunique() >= 3
    # scores off the scale (base points moved by 1000 either way): graded at its ends, reported untouched
    for shift, grade in ((-1000, pack.grade_names[-1]), (1000, pack.grade_names[0])):
        d = sc.to_dict()
        d["base_points"] += shift
        d["compiled"] = {**d["compiled"], "base_points": d["compiled"]["base_points"] + shift}
        off = Scorecard.from_dict(d)
        off_out = off.score(X.head(5))
        np.testing.assert_array_equal(off_out["score"], out["score"].head(5) + shift)
        assert (off_out["grade"] == grade).all()
        rec = off.score_record(X.iloc[0].to_dict())
        assert rec["score"] == off_out["score"].iloc[0] and rec["grade"] == grade
    # the default 600-point scaling lies off the 100-point scale: fit warns, grades are the top one
    with pytest.warns(UserWarning, match="base_score=600 is off the built-in 'kunming-100'"):
        wide = Scorecard().fit(X, y)
    assert wide.grade_scale_ == pack and set(wide.score(X)["grade"]) <= set(pack.grade_names)


def test_template_gives_the_default_grade_scale(data):
    from ruralcredit.templates import load_template

    X, y = data
    tpl = load_template("household", "2026-06-30")
    sc = Scorecard(template=tpl, pdo=10, base_score=60, base_odds=19).fit(X, y)
    assert sc.grade_scale_ == tpl.grade_scale and sc.grade_scale is None


def test_score_frame_ignores_extra_columns_and_names_missing_ones(card, data):
    X, _ = data
    out = card.score(X.head(50))
    extra = X.head(50).assign(blacklisted=False, note="x")
    pd.testing.assert_frame_equal(card.score(extra[extra.columns[::-1]]), out)
    with pytest.raises(ModelError, match="lacks columns \\['noise'\\]") as info:
        card.score(X.head(50).drop(columns="noise"))  # fitted on, though not selected
    assert info.value.details["missing"] == ["noise"]
    # scikit-learn's paths stay as strict as scikit-learn checks them
    with pytest.raises(ValueError, match="feature names"):
        card.predict_proba(extra)


# ------------------------------------------------------------------------------------------------
# selection
# ------------------------------------------------------------------------------------------------


def test_correlated_duplicate_is_dropped_and_stepwise_chooses(data):
    X, y = data
    X2 = X.assign(income_copy=X["income"] * 2.0)
    sc = Scorecard(max_correlation=0.9).fit(X2, y)
    sel = sc.selection_.set_index("feature")
    dropped = "income_copy" if sel.loc["income", "selected"] else "income"
    assert "correlation" in sel.loc[dropped, "reason"]
    step = Scorecard(stepwise="forward", max_features=2).fit(X, y)
    assert len(step.features_) <= 2
    assert step.features_[0] == step.selection_.sort_values("iv").iloc[-1]["feature"] or len(step.features_) == 2


def test_protected_attributes_are_refused(data):
    X, y = data
    with pytest.raises(ModelError, match="protected"):
        Scorecard().fit(X.assign(gender=np.where(y > 0, "f", "m")), y)


def test_no_informative_feature_raises(data):
    X, y = data
    with pytest.raises(ModelError, match="min_iv"):
        Scorecard().fit(X[["noise"]], y)


# ------------------------------------------------------------------------------------------------
# scikit-learn integration
# ------------------------------------------------------------------------------------------------


def test_clone_pipeline_and_grid_search(data):
    X, y = data
    Xs, ys = X.head(1500), y[:1500]
    sc = Scorecard(C=0.5, binning=BinningProcess(max_bins=4))
    c = clone(sc)
    assert c.get_params()["binning__max_bins"] == 4 and c.C == 0.5 and c.binning is not sc.binning
    pipe = Pipeline([("card", Scorecard())]).fit(Xs.drop(columns="subject_id"), ys)
    assert pipe.predict_proba(Xs.drop(columns="subject_id")).shape == (1500, 2)
    grid = GridSearchCV(Scorecard(binning=BinningProcess()), {"binning__max_bins": [3, 5], "C": [0.1, 1.0]}, cv=3).fit(Xs, ys)
    assert 0.5 < grid.best_score_ <= 1.0  # ROC AUC, the scorecard's default score with y
    assert set(grid.best_params_) == {"binning__max_bins", "C"}


def test_woe_encoder_in_a_pipeline(data):
    X, y = data
    F = X.drop(columns="subject_id")
    enc = WoeEncoder(max_bins=5)
    model = make_pipeline(enc, LogisticRegression()).fit(F, y)
    assert model.predict_proba(F).shape == (len(F), 2)
    W = WoeEncoder().fit(F, y)
    assert list(W.get_feature_names_out()) == list(F.columns)
    out = W.set_output(transform="pandas").transform(F)
    assert isinstance(out, pd.DataFrame) and list(out.columns) == list(F.columns)
    np.testing.assert_array_equal(out["income"], W.binnings_["income"].transform(F["income"]))
    assert W.event_label_ == 1
    # boolean labels: True is the event
    Wb = WoeEncoder().fit(F, y.astype(bool))
    np.testing.assert_array_equal(Wb.set_output(transform="default").transform(F), W.set_output(
        transform="default").transform(F))


def test_round_trip_through_to_dict_and_model_file(card, data, tmp_path):
    X, _ = data
    again = Scorecard.from_dict(card.to_dict())
    pd.testing.assert_frame_equal(again.score(X), card.score(X))
    same = CompiledScorecard.from_dict(card.compiled_.to_dict())
    np.testing.assert_array_equal(same.score_frame(X)[0], card.compiled_.score_frame(X)[0])
    try:
        from ruralcredit.models import load, save
    except ImportError:  # pragma: no cover - persistence is another module
        return
    path = save(card, tmp_path / "card.rcmodel.json", training_data=X)
    pd.testing.assert_frame_equal(load(path).score(X), card.score(X))


class _OneVsRestWoe(WoeEncoder):
    """WoeEncoder for scikit-learn's API checks: their multi-class targets become 'largest label vs rest'.

    WOE is defined for a binary event only, and most generic transformer checks feed a 3-class target;
    this reduction lets those checks still exercise fit/transform, names, dtypes, weights and cloning.
    """

    def fit(self, X, y, sample_weight=None):
        if y is not None:
            y = np.asarray(y)
            if y.ndim == 1 and len(np.unique(y)) > 2:
                y = (y == np.max(y)).astype(int)
        return super().fit(X, y, sample_weight=sample_weight)


# Checks run with permissive selection: the checks' random data carry no signal, so the default
# min_iv=0.02, min_bin_share=0.05 and sign_check would (rightly) refuse to build a model.
_PERMISSIVE = {"binning": BinningProcess(min_bin_share=0.0), "min_iv": 0.0, "max_correlation": 1.0,
               "sign_check": False}

_WOE_MULTICLASS_CHECKS = {
    name: "WOE needs a binary event; this check feeds a multi-class target (run on _OneVsRestWoe instead)"
    for name in (
        "check_fit_score_takes_y", "check_estimators_overwrite_params", "check_dont_overwrite_parameters",
        "check_estimators_fit_returns_self", "check_readonly_memmap_input", "check_n_features_in_after_fitting",
        "check_positive_only_tag_during_fit", "check_sample_weights_list",
        "check_sample_weight_equivalence_on_dense_data", "check_dtype_object", "check_f_contiguous_array_estimator",
        "check_methods_sample_order_invariance", "check_methods_subset_invariance", "check_fit2d_1feature",
        "check_dict_unchanged", "check_fit2d_predict1d",
    )
}


def _expected_failures(est):
    if type(est) is WoeEncoder:
        return _WOE_MULTICLASS_CHECKS
    return {}


@parametrize_with_checks(
    [Scorecard(**_PERMISSIVE), WoeEncoder(min_bin_share=0.0), _OneVsRestWoe(min_bin_share=0.0)],
    expected_failed_checks=_expected_failures,
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


@pytest.mark.parametrize("penalty, C", [("l2", 1.0), ("l2", 0.05), (None, 1.0)])
def test_newton_solver_matches_scikit_learn(data, penalty, C):
    X, y = data
    w = np.random.default_rng(5).random(len(y)) + 0.5
    sc = Scorecard(penalty=penalty, C=C, sign_check=False, max_correlation=1.0).fit(X, y, sample_weight=w)
    W = np.column_stack([sc.binning_.binnings_[c].transform(X[c]) for c in sc.features_])
    lr = LogisticRegression(C=np.inf if penalty is None else C, solver="newton-cholesky", tol=1e-12,
                            max_iter=100).fit(W, y, sample_weight=w)
    np.testing.assert_allclose(sc.coef_, lr.coef_, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(sc.intercept_, lr.intercept_, rtol=1e-6, atol=1e-7)
    # an explicit scikit-learn solver gives the same model up to its tolerance
    other = clone(sc).set_params(solver="lbfgs", max_iter=2000).fit(X, y, sample_weight=w)
    np.testing.assert_allclose(other.coef_, sc.coef_, atol=5e-3)
