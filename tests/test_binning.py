"""Tests of monotone optimal binning and WOE (ruralcredit.models.binning)."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from ruralcredit.errors import InputError, ModelError
from ruralcredit.models.binning import BinningProcess, OptimalBinning, _iv, _optimal_cuts, _woe

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _logit_data(n: int, seed: int, slope: float = 1.5) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    p = 1.0 / (1.0 + np.exp(-(-1.5 + slope * x)))
    return x, (rng.random(n) < p).astype(int)


# ------------------------------------------------------------------------------------------------
# the dynamic program against brute force
# ------------------------------------------------------------------------------------------------


def _shape_ok(keys: list[float], trend: str) -> bool:
    """keys = event-rate order (minus WOE) of consecutive bins."""
    d = np.diff(keys)
    if trend == "none" or len(keys) <= 1:
        return True
    if trend == "ascending":
        return bool((d > 0).all())
    if trend == "descending":
        return bool((d < 0).all())
    if trend == "valley":
        d = -d
    # peak: strictly up, then strictly down
    t = 0
    while t < len(d) and d[t] > 0:
        t += 1
    return bool((d[t:] < 0).all())


def _brute_force(ne, ev, n_tot, e_tot, grand, trend, max_bins, share, min_ev, min_ne, smoothing):
    m = len(ne)
    best = -math.inf
    for r in range(0, m):
        for cuts in itertools.combinations(range(1, m), r):
            b = [0, *cuts, m]
            if len(b) - 1 > max_bins:
                continue
            bne = np.array([ne[a:c].sum() for a, c in itertools.pairwise(b)])
            bev = np.array([ev[a:c].sum() for a, c in itertools.pairwise(b)])
            if len(b) > 2:  # one bin over everything is always allowed
                if ((bne + bev) < share * grand - 1e-9).any() or (bev < min_ev - 1e-9).any() \
                        or (bne < min_ne - 1e-9).any():
                    continue
            keys = list(-_woe(bne, bev, n_tot, e_tot, smoothing))
            if not _shape_ok(keys, trend):
                continue
            best = max(best, float(_iv(bne, bev, n_tot, e_tot, smoothing).sum()))
    return best


@SETTINGS
@given(
    counts=st.lists(st.tuples(st.integers(0, 30), st.integers(0, 12)), min_size=1, max_size=8),
    trend=st.sampled_from(["ascending", "descending", "peak", "valley", "none"]),
    max_bins=st.integers(1, 6),
    share=st.sampled_from([0.0, 0.05, 0.15]),
    min_ev=st.sampled_from([0.0, 1.0, 3.0]),
    smoothing=st.sampled_from([0.5, 1.0]),
)
# equal neighbours: a strict trend must merge them
@example(counts=[(10, 1), (10, 1), (5, 5)], trend="ascending", max_bins=3, share=0.0, min_ev=0.0, smoothing=0.5)
def test_dynamic_program_is_optimal_against_brute_force(counts, trend, max_bins, share, min_ev, smoothing):
    ne = np.array([c[0] for c in counts], dtype=float)
    ev = np.array([c[1] for c in counts], dtype=float)
    n_tot, e_tot = ne.sum() + 3.0, ev.sum() + 2.0  # the missing bin holds the rest
    grand = n_tot + e_tot
    cuts, iv, _ = _optimal_cuts(ne, ev, n_tot, e_tot, grand, trend=trend, max_bins=max_bins,
                                min_bin_share=share, min_bin_events=min_ev, min_bin_non_events=1.0,
                                smoothing=smoothing)
    expected = _brute_force(ne, ev, n_tot, e_tot, grand, trend, max_bins, share, min_ev, 1.0, smoothing)
    assert iv == pytest.approx(expected, rel=1e-9, abs=1e-12)
    # the returned cuts are feasible and reproduce the IV
    b = [0, *cuts, len(ne)]
    assert len(b) - 1 <= max_bins
    bne = np.array([ne[a:c].sum() for a, c in itertools.pairwise(b)])
    bev = np.array([ev[a:c].sum() for a, c in itertools.pairwise(b)])
    assert float(_iv(bne, bev, n_tot, e_tot, smoothing).sum()) == pytest.approx(iv, rel=1e-9, abs=1e-12)
    assert _shape_ok(list(-_woe(bne, bev, n_tot, e_tot, smoothing)), trend)


def test_auto_picks_the_better_direction():
    x, y = _logit_data(4000, 1, slope=-1.5)  # event rate falls with x
    auto = OptimalBinning(monotonic_trend="auto").fit(x, y)
    desc = OptimalBinning(monotonic_trend="descending").fit(x, y)
    asc = OptimalBinning(monotonic_trend="ascending").fit(x, y)
    assert auto.trend_ == "descending"
    assert auto.iv_ == pytest.approx(max(desc.iv_, asc.iv_))
    np.testing.assert_array_equal(auto.splits_, desc.splits_)


# ------------------------------------------------------------------------------------------------
# monotone bins on random data
# ------------------------------------------------------------------------------------------------


@SETTINGS
@given(
    seed=st.integers(0, 10_000),
    slope=st.floats(-3, 3),
    trend=st.sampled_from(["ascending", "descending", "auto", "peak", "valley"]),
    max_bins=st.integers(2, 8),
)
def test_bins_follow_the_requested_trend(seed, slope, trend, max_bins):
    rng = np.random.default_rng(seed)
    n = 600
    x = np.round(rng.normal(size=n) * 3, 1)
    p = 1.0 / (1.0 + np.exp(-(slope * x / 3 + 0.3 * np.sin(x) - 1)))
    y = (rng.random(n) < p).astype(int)
    y[:2] = [0, 1]
    ob = OptimalBinning(monotonic_trend=trend, max_bins=max_bins, min_bin_share=0.03).fit(x, y)
    reg = ob.woe_[: len(ob.splits_) + 1]
    assert len(reg) <= max_bins
    rate_key = list(-reg)
    used = ob.trend_
    assert used in ("ascending", "descending", "peak", "valley")
    assert _shape_ok(rate_key, used)
    counts = (ob.non_event_ + ob.event_)[: len(reg)]
    if len(reg) > 1:
        assert (counts >= 0.03 * n - 1e-9).all()
        assert (ob.event_[: len(reg)] >= 1).all() and (ob.non_event_[: len(reg)] >= 1).all()


# ------------------------------------------------------------------------------------------------
# WOE and IV by hand
# ------------------------------------------------------------------------------------------------


def test_woe_and_iv_match_a_hand_calculation():
    # bins (-inf, 10), [10, 20), [20, inf): non-events 40, 30, 10; events 5, 5, 10; nothing missing
    x = np.array([5.0] * 45 + [15.0] * 35 + [25.0] * 20)
    y = np.array([0] * 40 + [1] * 5 + [0] * 30 + [1] * 5 + [0] * 10 + [1] * 10)
    ob = OptimalBinning(user_splits=[10, 20], smoothing=0.0).fit(x, y)
    N, E = 80.0, 20.0
    hand_woe = [math.log((40 / N) / (5 / E)), math.log((30 / N) / (5 / E)), math.log((10 / N) / (10 / E))]
    hand_iv = [(40 / N - 5 / E) * hand_woe[0], (30 / N - 5 / E) * hand_woe[1], (10 / N - 10 / E) * hand_woe[2]]
    table = ob.binning_table()
    np.testing.assert_allclose(table["woe"].iloc[:3], hand_woe, rtol=1e-12)
    np.testing.assert_allclose(table["iv"].iloc[:3], hand_iv, rtol=1e-12)
    assert table["iv"].iloc[-1] == pytest.approx(sum(hand_iv))
    assert ob.iv_ == pytest.approx(sum(hand_iv))
    assert list(table["count"].iloc[:3]) == [45, 35, 20]
    assert list(table["event_rate"].iloc[:3]) == pytest.approx([5 / 45, 5 / 35, 10 / 20])
    assert table["bin"].iloc[-1] == "Totals" and table["count"].iloc[-1] == 100
    # with smoothing a = 0.5: pseudo-counts 0.5 * 0.8 and 0.5 * 0.2
    ob5 = OptimalBinning(user_splits=[10, 20], smoothing=0.5).fit(x, y)
    assert ob5.woe_[0] == pytest.approx(math.log((40 + 0.4) / N) - math.log((5 + 0.1) / E), rel=1e-12)
    assert ob5.bin_iv_[0] == pytest.approx((40 / N - 5 / E) * ob5.woe_[0], rel=1e-12)


def test_smoothing_keeps_zero_counts_finite():
    x = np.array([1.0] * 30 + [2.0] * 30)
    y = np.array([0] * 30 + [0] * 20 + [1] * 10)  # bin x < 2 has no event
    ob = OptimalBinning(user_splits=[2.0]).fit(x, y)
    assert np.isfinite(ob.woe_).all() and np.isfinite(ob.iv_)
    # a = 0.5, pi_e = 10/60: WOE = ln(30.41667/50) - ln(0.08333/10)
    assert ob.woe_[0] == pytest.approx(math.log((30 + 0.5 * 50 / 60) / 50) - math.log((0.5 * 10 / 60) / 10))
    assert (ob.bin_iv_ >= 0).all()
    with pytest.raises(InputError, match="smoothing"):
        OptimalBinning(user_splits=[2.0], smoothing=0.0).fit(x, y)


# ------------------------------------------------------------------------------------------------
# missing, special and unseen values
# ------------------------------------------------------------------------------------------------


def test_missing_and_special_values_have_their_own_bins():
    x, y = _logit_data(3000, 2)
    x = x.copy()
    x[:300] = np.nan
    x[300:400] = -999.0
    ob = OptimalBinning(special_values={"not applicable": [-999.0], "refused": [-1.0]}).fit(x, y)
    table = ob.binning_table()
    assert list(table["kind"].iloc[-4:]) == ["special", "special", "missing", "total"]
    assert list(table["bin"].iloc[-4:-1]) == ["not applicable", "refused", "Missing"]
    # -1.0 never occurs in training: empty bin, WOE 0, flagged
    refused = table[table["bin"] == "refused"].iloc[0]
    assert refused["count"] == 0 and refused["woe"] == 0.0 and refused["flag"] == "empty"
    missing = table[table["bin"] == "Missing"].iloc[0]
    assert missing["count"] == 300
    assert missing["event"] == y[:300].sum()
    woe = ob.transform(np.array([np.nan, -999.0, -1.0, 0.0]))
    assert woe[0] == pytest.approx(missing["woe"])
    assert woe[1] == pytest.approx(table[table["bin"] == "not applicable"]["woe"].iloc[0])
    assert woe[2] == 0.0
    # -999 does not take part in the numeric bins
    assert (ob.splits_ > -100).all()


def test_missing_bin_without_training_records_scores_zero_and_is_flagged():
    x, y = _logit_data(1000, 3)
    ob = OptimalBinning().fit(x, y)
    table = ob.binning_table()
    row = table[table["kind"] == "missing"].iloc[0]
    assert row["count"] == 0 and row["flag"] == "empty" and row["woe"] == 0.0
    assert ob.transform(pd.Series([None, np.nan], dtype=object).astype(float))[0] == 0.0


def _categorical_data(n: int, seed: int) -> tuple[pd.Series, np.ndarray]:
    rng = np.random.default_rng(seed)
    cats = np.array(list("ABCDEFG"))
    probs = np.array([0.35, 0.25, 0.15, 0.12, 0.1, 0.02, 0.01])
    rate = dict(zip(cats, [0.05, 0.1, 0.15, 0.25, 0.4, 0.3, 0.2], strict=True))
    c = rng.choice(cats, size=n, p=probs / probs.sum())
    y = (rng.random(n) < np.array([rate[v] for v in c])).astype(int)
    s = pd.Series(c, dtype="str")
    s[rng.random(n) < 0.03] = None
    return s, y


@pytest.mark.parametrize("policy", ["missing", "worst", "error"])
def test_unseen_categories_follow_the_saved_policy(policy):
    s, y = _categorical_data(4000, 4)
    ob = OptimalBinning(unseen=policy).fit(s, y)
    assert ob.dtype_ == "categorical"
    new = pd.Series(["A", "never-seen", None], dtype="str")
    if policy == "error":
        with pytest.raises(InputError, match="not seen in training"):
            ob.transform(new)
        return
    woe = ob.transform(new)
    miss = ob.woe_[ob.missing_index_]
    assert woe[2] == miss
    if policy == "missing":
        assert woe[1] == miss
    else:
        nonempty = (ob.non_event_ + ob.event_) > 0
        assert woe[1] == ob.woe_[nonempty].min()
    # the policy survives a round trip through to_dict
    again = OptimalBinning.from_dict(ob.to_dict())
    np.testing.assert_array_equal(again.transform(new), woe)


def test_rare_categories_are_pooled_and_bins_ordered_by_event_rate():
    s, y = _categorical_data(6000, 5)
    ob = OptimalBinning(rare_category_share=0.05, min_bin_share=0.0).fit(s, y)
    assert ob.rare_categories_ == ["F", "G"]
    grp = next(g for g in ob.groups_ if "F" in g)
    assert "G" in grp
    reg = ob.woe_[: len(ob.groups_)]
    assert (np.diff(reg) < 0).all()  # event rate ascending
    # a rare category scores as its group
    assert ob.transform(pd.Series(["F"]))[0] == ob.transform(pd.Series(["G"]))[0]


def test_categorical_special_values_and_string_dtype():
    s, y = _categorical_data(3000, 6)
    ob = OptimalBinning(special_values=["E"]).fit(s, y)
    assert ob.special_labels_ == ["Special: E"]
    assert not any("E" in g for g in ob.groups_)
    e_row = ob.binning_table().iloc[len(ob.groups_)]
    assert e_row["count"] == (s == "E").sum()
    assert ob.transform(pd.Series(["E"], dtype="str"))[0] == pytest.approx(e_row["woe"])


# ------------------------------------------------------------------------------------------------
# invariances: weights, row order, determinism, dtypes
# ------------------------------------------------------------------------------------------------


@SETTINGS
@given(seed=st.integers(0, 10_000), trend=st.sampled_from(["auto", "peak"]))
def test_integer_weights_equal_row_repetition(seed, trend):
    rng = np.random.default_rng(seed)
    n = 300
    x = np.round(rng.normal(size=n), 2)
    x[rng.random(n) < 0.05] = np.nan
    y = (rng.random(n) < 1 / (1 + np.exp(-2 * np.nan_to_num(x)))).astype(int)
    y[:2] = [0, 1]
    w = rng.integers(0, 4, size=n)
    w[:2] = 1
    weighted = OptimalBinning(monotonic_trend=trend, min_bin_share=0.04).fit(x, y, sample_weight=w)
    rep = np.repeat(np.arange(n), w)
    repeated = OptimalBinning(monotonic_trend=trend, min_bin_share=0.04).fit(x[rep], y[rep])
    np.testing.assert_array_equal(weighted.splits_, repeated.splits_)
    np.testing.assert_allclose(weighted.woe_, repeated.woe_, rtol=1e-12)
    np.testing.assert_allclose(weighted.event_, repeated.event_)


def test_results_do_not_depend_on_row_order():
    x, y = _logit_data(3000, 7)
    s, yc = _categorical_data(3000, 7)
    perm = np.random.default_rng(0).permutation(3000)
    a = OptimalBinning().fit(x, y)
    b = OptimalBinning().fit(x[perm], y[perm])
    np.testing.assert_array_equal(a.splits_, b.splits_)
    np.testing.assert_array_equal(a.woe_, b.woe_)
    c = OptimalBinning().fit(s, yc)
    d = OptimalBinning().fit(s.iloc[perm].reset_index(drop=True), yc[perm])
    assert c.groups_ == d.groups_
    np.testing.assert_array_equal(c.woe_, d.woe_)


def test_fitting_is_deterministic():
    x, y = _logit_data(2000, 8)
    tables = [OptimalBinning(monotonic_trend="peak").fit(x, y).binning_table() for _ in range(2)]
    pd.testing.assert_frame_equal(tables[0], tables[1])


def test_nullable_and_object_numeric_inputs():
    x, y = _logit_data(1000, 9)
    xi = pd.Series(np.round(x * 10), dtype="Int64")
    xi[:20] = pd.NA
    ob = OptimalBinning().fit(xi, y)
    assert ob.dtype_ == "numerical"
    assert ob.binning_table()["count"].iloc[ob.missing_index_] == 20
    obj = pd.Series(list(xi.astype(object).where(xi.notna(), None)), dtype=object)
    np.testing.assert_array_equal(OptimalBinning().fit(obj, y).splits_, ob.splits_)


def test_bad_inputs_raise_typed_errors():
    x, y = _logit_data(200, 10)
    with pytest.raises(InputError, match="binary"):
        OptimalBinning().fit(x, y * 2)
    with pytest.raises(InputError, match="both events"):
        OptimalBinning().fit(x, np.zeros(200))
    with pytest.raises(InputError, match="sample_weight"):
        OptimalBinning().fit(x, y, sample_weight=-np.ones(200))
    with pytest.raises(InputError, match="non-numeric"):
        OptimalBinning(dtype="numerical").fit(pd.Series(["a"] * 200, dtype="str"), y)
    with pytest.raises(InputError, match="monotonic_trend"):
        OptimalBinning(monotonic_trend="up").fit(x, y)
    with pytest.raises(ModelError, match="not fitted"):
        OptimalBinning().transform(x)
    with pytest.raises(InputError, match="dates"):
        OptimalBinning().fit(pd.Series(pd.date_range("2024-01-01", periods=200)), y)


def test_user_splits_are_kept():
    x, y = _logit_data(1000, 11)
    ob = OptimalBinning(user_splits=[-1.0, 0.0, 1.0]).fit(x, y)
    np.testing.assert_array_equal(ob.splits_, [-1.0, 0.0, 1.0])
    assert ob.trend_ == "user"
    assert list(ob.transform([-5.0, -1.0, 0.5, 3.0], metric="index")) == [0, 1, 2, 3]
    s, yc = _categorical_data(1000, 11)
    oc = OptimalBinning(user_splits=[["A", "B"], ["C"]]).fit(s, yc)
    assert oc.groups_[:2] == [["A", "B"], ["C"]]
    assert set(oc.groups_[2]) == {"D", "E", "F", "G"}


def test_round_trip_through_to_dict_gives_identical_woe():
    x, y = _logit_data(2000, 12)
    ob = OptimalBinning(special_values=[-999.0]).fit(x, y)
    again = OptimalBinning.from_dict(ob.to_dict())
    probe = np.concatenate([x[:50], [np.nan, -999.0]])
    np.testing.assert_array_equal(again.transform(probe), ob.transform(probe))
    pd.testing.assert_frame_equal(again.binning_table(), ob.binning_table())


def test_binning_process_over_a_mixed_frame():
    x, y = _logit_data(3000, 13)
    s, _ = _categorical_data(3000, 13)
    X = pd.DataFrame({"income": x, "village": s, "loans": np.round(np.abs(x) * 3)})
    bp = BinningProcess(special_values={"loans": [0.0]}, binning_params={"income": {"max_bins": 3}}).fit(X, y)
    assert list(bp.get_feature_names_out()) == ["income", "village", "loans"]
    assert bp.binnings_["village"].dtype_ == "categorical"
    assert len(bp.binnings_["income"].splits_) <= 2
    W = bp.transform(X)
    assert W.shape == (3000, 3) and W.index.equals(X.index)
    np.testing.assert_array_equal(W["income"], bp.binnings_["income"].transform(X["income"]))
    table = bp.binning_table()
    assert set(table["variable"]) == {"income", "village", "loans"}
    assert bp.summary()["iv"].tolist() == pytest.approx(bp.iv_.tolist())
    again = BinningProcess.from_dict(bp.to_dict())
    pd.testing.assert_frame_equal(again.transform(X), W)
    with pytest.raises(InputError, match="not binned"):
        BinningProcess(variables=["income"], special_values={"loans": [0.0]}).fit(X, y)
    with pytest.raises(InputError, match="missing"):
        bp.transform(X.drop(columns="loans"))


def test_unseen_category_messages_mask_resident_id_numbers():
    s, y = _categorical_data(500, 14)
    ob = OptimalBinning(unseen="error").fit(s, y)
    with pytest.raises(InputError) as info:
        ob.transform(pd.Series(["11010519491231002X"], dtype="str"))
    assert "11010519491231002X" not in str(info.value)
    assert "110105********002X" in str(info.value)
