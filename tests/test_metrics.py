"""Tests of ruralcredit.models.metrics: hand calculations, library agreement and invariants."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import brier_score_loss, roc_auc_score

from ruralcredit.errors import InputError
from ruralcredit.models import metrics as m

scipy_stats = pytest.importorskip("scipy.stats")


@pytest.fixture(scope="module")
def sample() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    y = (rng.random(3000) < 0.2).astype(int)
    score = rng.normal(size=3000) + 0.8 * y
    return y, score


# A binary outcome with both classes and a matching score vector, for the invariants.
_labelled = st.integers(min_value=4, max_value=60).flatmap(
    lambda n: st.tuples(
        st.lists(st.integers(0, 1), min_size=n, max_size=n).filter(lambda v: 0 < sum(v) < len(v)),
        st.lists(
            st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False) | st.integers(-3, 3).map(float),
            min_size=n,
            max_size=n,
        ),
    )
)
_sample = st.lists(
    st.floats(-1e9, 1e9, allow_nan=False) | st.integers(-5, 5).map(float) | st.just(math.nan),
    min_size=1,
    max_size=80,
)


# ------------------------------------------------------------------------------------ discrimination


def test_auc_hand_calculation() -> None:
    # Pairs (event, non-event): (0.9 > 0.1), (0.9 > 0.4), (0.35 > 0.1), (0.35 < 0.4) -> 3/4.
    assert m.auc([1, 0, 1, 0], [0.9, 0.1, 0.35, 0.4]) == pytest.approx(0.75)
    assert m.gini([1, 0, 1, 0], [0.9, 0.1, 0.35, 0.4]) == pytest.approx(0.5)


def test_ks_hand_calculation() -> None:
    # Events at 3, 4; non-events at 1, 2, 3.5: cutting at score >= 3 flags both events, no non-event
    # except 3.5 -> gap 1 - 1/3.
    res = m.ks([1, 1, 0, 0, 0], [3.0, 4.0, 1.0, 2.0, 3.5])
    assert res.statistic == pytest.approx(2 / 3)
    assert res.threshold == 3.0
    statistic, threshold = res  # a named tuple unpacks
    assert (statistic, threshold) == (res.statistic, res.threshold)


@settings(max_examples=60, deadline=None)
@given(_labelled)
def test_auc_equals_sklearn(data: tuple[list[int], list[float]]) -> None:
    y, score = data
    assert m.auc(y, score) == pytest.approx(roc_auc_score(y, score), abs=1e-12)


@settings(max_examples=60, deadline=None)
@given(_labelled)
def test_ks_equals_scipy_ks_2samp(data: tuple[list[int], list[float]]) -> None:
    y, score = np.asarray(data[0]), np.asarray(data[1])
    expected = scipy_stats.ks_2samp(score[y == 1], score[y == 0]).statistic
    res = m.ks(y, score)
    assert res.statistic == pytest.approx(expected, abs=1e-12)
    # The threshold attains it: the split score >= threshold separates the classes by the statistic.
    flagged = score >= res.threshold
    gap = abs(flagged[y == 1].mean() - flagged[y == 0].mean())
    assert gap == pytest.approx(res.statistic, abs=1e-12)


def test_ks_is_direction_free(sample: tuple[np.ndarray, np.ndarray]) -> None:
    y, score = sample
    assert m.ks(y, score).statistic == pytest.approx(m.ks(y, -score).statistic)
    assert m.auc(y, -score) == pytest.approx(1 - m.auc(y, score))


def test_weighted_auc_and_ks_match_repetition() -> None:
    y = np.array([1, 0, 1, 0, 0])
    s = np.array([0.8, 0.3, 0.2, 0.5, 0.1])
    w = np.array([2, 1, 1, 3, 1])
    y_rep, s_rep = np.repeat(y, w), np.repeat(s, w)
    assert m.auc(y, s, sample_weight=w) == pytest.approx(m.auc(y_rep, s_rep))
    assert m.ks(y, s, sample_weight=w).statistic == pytest.approx(m.ks(y_rep, s_rep).statistic)


@pytest.mark.parametrize("fn", [m.auc, m.gini, m.ks])
def test_discrimination_errors(fn) -> None:
    with pytest.raises(InputError, match="does not match"):
        fn([0, 1, 1], [0.1, 0.2])
    with pytest.raises(InputError, match="single class"):
        fn([1, 1, 1], [0.1, 0.2, 0.3])
    with pytest.raises(InputError, match="NaN"):
        fn([0, 1, 1], [0.1, np.nan, 0.3])
    with pytest.raises(InputError, match="binary"):
        fn([0, 2, 1], [0.1, 0.2, 0.3])
    with pytest.raises(InputError, match="binary"):
        fn([0, np.nan, 1], [0.1, 0.2, 0.3])
    with pytest.raises(InputError, match="negative") as info:
        fn([0, 1, 1], [0.1, 0.2, 0.3], sample_weight=[1, -1, 1])
    assert info.value.argument == "sample_weight"
    with pytest.raises(InputError, match="empty"):
        fn([], [])


# ----------------------------------------------------------------------------------------- stability


@settings(max_examples=80, deadline=None)
@given(_sample)
def test_psi_of_a_sample_with_itself_is_zero(x: list[float]) -> None:
    assert m.psi(x, x) == 0.0


@settings(max_examples=80, deadline=None)
@given(_sample, _sample, st.integers(1, 12))
def test_psi_is_non_negative_and_finite(x: list[float], z: list[float], bins: int) -> None:
    value = m.psi(x, z, bins)
    assert value >= 0.0
    assert math.isfinite(value)


@settings(max_examples=60, deadline=None)
@given(_sample, _sample, st.randoms(use_true_random=False))
def test_psi_is_invariant_to_row_order(x: list[float], z: list[float], rnd) -> None:
    x2, z2 = list(x), list(z)
    rnd.shuffle(x2)
    rnd.shuffle(z2)
    assert m.psi(x2, z2) == m.psi(x, z)


def test_psi_hand_calculation_with_frozen_edges() -> None:
    edges = [-np.inf, 0.0, np.inf]  # bins (-inf, 0], (0, inf], missing
    expected = [-1.0, -1.0, 1.0, 1.0]  # shares 0.5, 0.5, 0
    actual = [-1.0, 1.0, 1.0, 1.0]  # shares 0.25, 0.75, 0
    want = (0.25 - 0.5) * math.log(0.25 / 0.5) + (0.75 - 0.5) * math.log(0.75 / 0.5)
    assert m.psi(expected, actual, edges=edges) == pytest.approx(want)
    table = m.psi_table(expected, actual, edges=edges)
    assert table["bin"].tolist() == ["(-inf, 0]", "(0, inf]", "missing"]
    assert table["expected_count"].tolist() == [2, 2, 0]
    assert table["actual_count"].tolist() == [1, 3, 0]


def test_psi_bins_are_right_closed_and_frozen_on_the_reference() -> None:
    edges = m.psi_edges(np.arange(1, 101, dtype=float), bins=4)
    np.testing.assert_array_equal(edges, [-np.inf, 25.0, 50.0, 75.0, np.inf])
    # Current values far outside the reference still fall into the end bins; none is dropped.
    table = m.psi_table(np.arange(1, 101, dtype=float), [-1e9, 25.0, 25.5, 1e9], edges=edges)
    assert table["actual_count"].tolist() == [2, 1, 0, 1, 0]


def test_psi_epsilon_floor_is_documented_value() -> None:
    edges = [-np.inf, 0.0, np.inf]
    # All current values in the bin that the reference never saw: the reference share is floored.
    value = m.psi([-1.0, -2.0], [1.0, 2.0], edges=edges)
    eps = m.PSI_EPSILON
    want = (eps - 1.0) * math.log(eps / 1.0) + (1.0 - eps) * math.log(1.0 / eps)
    assert value == pytest.approx(want)
    assert m.psi([-1.0, -2.0], [1.0, 2.0], edges=edges, epsilon=1e-2) < value


def test_psi_missing_values_have_their_own_bin() -> None:
    ref = np.arange(100, dtype=float)
    cur = ref.copy()
    cur[:30] = np.nan
    table = m.psi_table(ref, cur)
    assert table["bin"].iloc[-1] == "missing"
    assert table["actual_count"].iloc[-1] == 30
    assert m.psi(ref, cur) > 0.25


def test_psi_detects_a_shift(sample: tuple[np.ndarray, np.ndarray]) -> None:
    _, score = sample
    assert m.psi(score, score + 0.05) < 0.1
    assert m.psi(score, score + 1.0) > 0.25


def test_categorical_psi_by_category_shares() -> None:
    ref = pd.Series(["a", "a", "b", "b"])
    cur = pd.Series(["a", "b", "b", "b"])
    want = (0.25 - 0.5) * math.log(0.25 / 0.5) + (0.75 - 0.5) * math.log(0.75 / 0.5)
    assert m.psi(ref, cur) == pytest.approx(want)
    # A category unseen in the reference counts, with its reference share floored.
    assert m.psi(ref, pd.Series(["a", "b", "c", "c"])) > 1.0
    # Frozen categories: anything new lands in the "other" bin.
    cats = m.psi_edges(ref)
    assert cats.tolist() == ["a", "b"]
    table = m.psi_table(ref, pd.Series(["a", "z", None, "b"]), edges=cats)
    assert table["bin"].tolist() == ["a", "b", m.OTHER_BIN, "missing"]
    assert table["actual_count"].tolist() == [1, 1, 1, 1]


def test_psi_errors() -> None:
    with pytest.raises(InputError, match="empty"):
        m.psi([], [1.0])
    with pytest.raises(InputError, match="strictly increasing"):
        m.psi([1.0, 2.0], [1.0], edges=[-np.inf, 1.0, 1.0, np.inf])
    with pytest.raises(InputError, match="-inf"):
        m.psi([1.0, 2.0], [1.0], edges=[0.0, 1.0, 2.0])
    with pytest.raises(InputError, match="categorical"):
        m.psi(pd.Series([1.0, 2.0]), pd.Series(["a", "b"]))
    with pytest.raises(InputError, match="positive integer"):
        m.psi([1.0, 2.0], [1.0], bins=0)
    with pytest.raises(InputError):
        m.psi([1.0, 2.0], [1.0], epsilon=0.0)


def test_stability_label_thresholds() -> None:
    assert m.stability_label(0.0) == "stable"
    assert m.stability_label(0.0999) == "stable"
    assert m.stability_label(0.1) == "moderate shift"
    assert m.stability_label(0.2499) == "moderate shift"
    assert m.stability_label(0.25) == "major shift"
    assert m.stability_label(0.15, moderate=0.2, major=0.3) == "stable"
    assert m.stability_label([0.01, 0.3]).tolist() == ["stable", "major shift"]
    with pytest.raises(InputError):
        m.stability_label(float("nan"))
    with pytest.raises(InputError):
        m.stability_label(0.1, moderate=0.3, major=0.2)


def test_csi_per_feature_numeric_and_categorical() -> None:
    rng = np.random.default_rng(3)
    n = 2000
    ref = pd.DataFrame(
        {
            "income": rng.lognormal(10, 1, n),
            "land_mu": rng.gamma(2.0, 3.0, n),
            "village": pd.Series(rng.choice(["v1", "v2", "v3"], n), dtype="str"),
        }
    )
    cur = ref.copy()
    cur["income"] = cur["income"] * 3.0  # a major shift
    cur.loc[: n // 2, "village"] = "v1"  # a categorical shift
    out = m.csi(ref, cur, ["income", "land_mu", "village"])
    assert out["feature"].tolist() == ["income", "land_mu", "village"]
    assert out["kind"].tolist() == ["numeric", "numeric", "categorical"]
    assert out.loc[1, "psi"] == 0.0
    assert out.loc[0, "stability"] == "major shift"
    assert out.loc[2, "psi"] == pytest.approx(m.psi(ref["village"], cur["village"]))
    assert out.loc[0, "psi"] == pytest.approx(m.psi(ref["income"], cur["income"]))
    with pytest.raises(InputError, match="lacks"):
        m.csi(ref, cur.drop(columns="income"), ["income"])


# --------------------------------------------------------------------------------------- calibration


def test_brier_equals_sklearn_and_hand() -> None:
    assert m.brier([1, 0], [0.8, 0.4]) == pytest.approx(((0.2**2) + (0.4**2)) / 2)
    rng = np.random.default_rng(1)
    p = rng.random(500)
    y = (rng.random(500) < p).astype(int)
    assert m.brier(y, p) == pytest.approx(brier_score_loss(y, p))
    with pytest.raises(InputError, match="outside"):
        m.brier([1, 0], [1.2, 0.1])
    with pytest.raises(InputError, match="negative"):
        m.brier([1, 0], [0.5, 0.1], sample_weight=[-1, 1])


def test_calibration_table() -> None:
    y = np.array([0, 0, 1, 0, 1, 1, 0, 1])
    p = np.array([0.1, 0.1, 0.2, 0.2, 0.7, 0.8, 0.6, 0.9])
    table = m.calibration_table(y, p, bins=2)
    assert table["count"].tolist() == [4, 4]
    assert table["events"].tolist() == [1, 3]
    assert table["mean_predicted"].tolist() == pytest.approx([0.15, 0.75])
    assert table["observed_rate"].tolist() == pytest.approx([0.25, 0.75])
    assert table["lower"].iloc[0] == 0.1 and table["upper"].iloc[-1] == 0.9
    uniform = m.calibration_table(y, p, bins=10, strategy="uniform")
    assert uniform["count"].sum() == 8
    assert (uniform["count"] > 0).all()


# ------------------------------------------------------------------------------------- rank ordering


def test_gains_table_columns_and_totals(sample: tuple[np.ndarray, np.ndarray]) -> None:
    y, score = sample
    table = m.gains_table(y, score, bins=10, higher_is_riskier=True)
    assert len(table) == 10
    assert table["count"].sum() == y.size
    assert table["cum_events"].iloc[-1] == y.sum()
    assert table["cum_event_share"].iloc[-1] == pytest.approx(1.0)
    # Riskiest band first: its scores are the highest and its lift above 1.
    assert table["min_score"].iloc[0] > table["max_score"].iloc[-1]
    assert table["lift"].iloc[0] > 1.0
    # Band KS never exceeds the exact KS, and comes close to it.
    exact = m.ks(y, score).statistic
    assert table["ks"].max() <= exact + 1e-12
    assert table["ks"].max() > exact - 0.05
    # A points score (higher is better) gives the same table read the other way.
    flipped = m.gains_table(y, -score, bins=10)
    np.testing.assert_array_equal(flipped["events"], table["events"])


def test_gains_table_hand_calculation() -> None:
    y = [1, 1, 0, 1, 0, 0, 0, 0]
    score = [10, 20, 30, 40, 50, 60, 70, 80]  # points: low = risky
    table = m.gains_table(y, score, bins=2)
    assert table["events"].tolist() == [3, 0]
    assert table["cum_event_share"].tolist() == [1.0, 1.0]
    assert table["cum_non_event_share"].tolist() == [0.2, 1.0]
    assert table["ks"].tolist() == pytest.approx([0.8, 0.0])
    assert table["lift"].tolist() == pytest.approx([0.75 / 0.375, 0.0])


def test_score_band_table_left_closed_with_labels() -> None:
    y = [1, 0, 0, 1, 0, 0]
    score = [49.9, 50.0, 65.0, 79.99, 80.0, 95.0]
    table = m.score_band_table(y, score, [50, 60, 70, 80], labels=["C", "B", "A", "AA", "AAA"])
    assert table["band"].tolist() == ["C", "B", "A", "AA", "AAA"]
    assert table["count"].tolist() == [1, 1, 1, 1, 2]  # 80.0 is AAA: bands are [lo, hi)
    assert table["events"].tolist() == [1, 0, 0, 1, 0]
    assert table["lower"].iloc[0] == -np.inf and table["upper"].iloc[-1] == np.inf
    empty = m.score_band_table([0, 1], [10.0, 20.0], [0, 5, 100])
    assert empty["count"].tolist() == [0, 0, 2, 0]
    with pytest.raises(InputError, match="labels"):
        m.score_band_table(y, score, [50, 60], labels=["C", "B"])
    with pytest.raises(InputError, match="increasing"):
        m.score_band_table(y, score, [60, 50])


@settings(max_examples=40, deadline=None)
@given(_labelled, st.randoms(use_true_random=False))
def test_tables_do_not_depend_on_row_order(data, rnd) -> None:
    y, score = data
    order = list(range(len(y)))
    rnd.shuffle(order)
    y2 = [y[i] for i in order]
    s2 = [score[i] for i in order]
    pd.testing.assert_frame_equal(m.gains_table(y, score, 4), m.gains_table(y2, s2, 4))
    pd.testing.assert_frame_equal(
        m.score_band_table(y, score, [-1.0, 0.0, 1.0]), m.score_band_table(y2, s2, [-1.0, 0.0, 1.0])
    )
