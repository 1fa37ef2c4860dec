"""Scorer metrics: discrimination, stability, calibration, gains and score bands.

Discrimination (区分能力)
    :func:`auc`, :func:`gini` (``2 * AUC - 1``) and :func:`ks` (Kolmogorov-Smirnov statistic with
    the score threshold where it is reached). AUC and the ROC curve come from scikit-learn.
Stability (稳定性)
    :func:`psi` (population stability index), :func:`psi_table` (its per-bin evidence),
    :func:`psi_edges` (the frozen bins, for a monitor to store), :func:`csi` (characteristic
    stability: PSI per feature of a frame) and :func:`stability_label`.
Calibration (校准)
    :func:`calibration_table` and :func:`brier`.
Rank ordering (排序能力)
    :func:`gains_table` (equal-count bands with cumulative capture, KS and lift) and
    :func:`score_band_table` (bands at given score edges, e.g. the grade thresholds).

Conventions
-----------
- ``y`` is the binary outcome, 1 = event (default, bad), 0 = non-event (good); bool, integer or
  float 0/1 are accepted. Anything else, NaN, a length mismatch, a single class (where the metric
  needs both), a NaN score or a negative weight raises :class:`~ruralcredit.errors.InputError`.
- Scores may run either way. AUC is computed for "a higher score means a higher event
  probability" (pass a PD as is; for a points score, where higher is better, AUC < 0.5 then means
  good rank ordering, so use ``auc(y, -score)`` or :func:`gini` of the negated score). KS is
  direction-free (the largest absolute gap between the two classes' score distributions).
- PSI bins are frozen on the *reference* (expected) sample: quantile edges of that sample with
  ``-inf``/``+inf`` ends, so every current value falls in some bin. Bins are right-closed,
  ``(e[i-1], e[i]]``; missing values (NaN) have their own bin. A bin whose share is zero in one
  sample would make the logarithm infinite: its share is floored at ``epsilon`` (default 1e-4)
  before the sum, without renormalising. Every term ``(a - e) * ln(a / e)`` is non-negative, so
  PSI >= 0, and PSI(x, x) == 0 exactly. Categorical features compare category shares (missing is a
  category of its own; a category seen only in the current sample has expected share 0, floored).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal, NamedTuple

import numpy as np
import pandas as pd
from sklearn.metrics import brier_score_loss, roc_auc_score, roc_curve

from ruralcredit.errors import InputError

__all__ = [
    "KSResult",
    "auc",
    "brier",
    "calibration_table",
    "csi",
    "gains_table",
    "gini",
    "ks",
    "psi",
    "psi_edges",
    "psi_table",
    "score_band_table",
    "stability_label",
]

#: Default floor for a bin share in PSI (see the module docstring).
PSI_EPSILON = 1e-4
#: The name of the missing-value bin in PSI tables.
MISSING_BIN = "missing"
#: The bin of categories not among frozen categorical edges.
OTHER_BIN = "__other__"

FeatureKind = Literal["auto", "numeric", "categorical"]


class KSResult(NamedTuple):
    """The Kolmogorov-Smirnov statistic of a scorer and where it is reached.

    Attributes
    ----------
    statistic : float
        ``max |F_event(t) - F_non_event(t)|`` over thresholds ``t``, in [0, 1].
    threshold : float
        The score ``t`` at which it is reached: the split ``score >= t`` versus ``score < t``
        separates the two classes' cumulative shares the most.
    """

    statistic: float
    threshold: float


# --------------------------------------------------------------------------------------- validation


def _as_1d(values: Any, argument: str) -> np.ndarray:
    """A 1-D numpy view of a list, array or Series (no copy when possible)."""
    if isinstance(values, pd.DataFrame):
        raise InputError("expected one column (1-D), got a DataFrame", argument=argument)
    arr = values.to_numpy() if isinstance(values, (pd.Series, pd.Index)) else np.asarray(values)
    if arr.ndim != 1:
        raise InputError(f"expected a 1-D array, got shape {arr.shape}", argument=argument)
    if arr.size == 0:
        raise InputError("is empty", argument=argument)
    return arr


def _target(y: Any, *, need_both: bool = True, argument: str = "y") -> np.ndarray:
    """Validate a binary outcome and return it as a float64 array of 0.0 / 1.0."""
    arr = _as_1d(y, argument)
    if arr.dtype == bool:
        return arr.astype(np.float64)
    try:
        num = arr.astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise InputError(f"must be binary 0/1, got dtype {arr.dtype}", argument=argument) from exc
    bad = ~((num == 0.0) | (num == 1.0))
    if bad.any():
        first = np.flatnonzero(bad)[:5].tolist()
        raise InputError(
            f"must be binary 0/1 without missing values; {int(bad.sum())} value(s) are not "
            f"(first positions {first})",
            argument=argument,
        )
    if need_both:
        n_events = int(num.sum())
        if n_events == 0 or n_events == num.size:
            only = "events" if n_events else "non-events"
            raise InputError(f"holds a single class (only {only}); the metric needs both", argument=argument)
    return num


def _scores(score: Any, n: int, argument: str = "score") -> np.ndarray:
    """Validate a score vector of length ``n``: numeric, no NaN."""
    arr = _as_1d(score, argument)
    if arr.size != n:
        raise InputError(
            f"length {arr.size} does not match y's length {n}", argument=argument, value=arr.size
        )
    try:
        num = arr.astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise InputError(f"must be numeric, got dtype {arr.dtype}", argument=argument) from exc
    nan = np.isnan(num)
    if nan.any():
        raise InputError(
            f"{int(nan.sum())} NaN value(s) (first positions {np.flatnonzero(nan)[:5].tolist()})",
            argument=argument,
        )
    return num


def _probabilities(pd_: Any, n: int, argument: str = "pd") -> np.ndarray:
    """Validate predicted probabilities: like a score, and inside [0, 1]."""
    num = _scores(pd_, n, argument)
    out = (num < 0.0) | (num > 1.0)
    if out.any():
        raise InputError(
            f"{int(out.sum())} value(s) outside [0, 1] (first positions {np.flatnonzero(out)[:5].tolist()})",
            argument=argument,
        )
    return num


def _weights(sample_weight: Any, n: int) -> np.ndarray | None:
    """Validate optional sample weights: finite, non-negative, not all zero."""
    if sample_weight is None:
        return None
    w = _scores(sample_weight, n, "sample_weight")
    if not np.isfinite(w).all():
        raise InputError("must be finite", argument="sample_weight")
    neg = w < 0
    if neg.any():
        raise InputError(
            f"{int(neg.sum())} negative weight(s) (first positions {np.flatnonzero(neg)[:5].tolist()})",
            argument="sample_weight",
        )
    if not (w > 0).any():
        raise InputError("all weights are zero", argument="sample_weight")
    return w


def _check_bins(bins: int) -> int:
    if isinstance(bins, bool) or not isinstance(bins, (int, np.integer)) or bins < 1:
        raise InputError("must be a positive integer", argument="bins", value=bins)
    return int(bins)


def _quantile_cuts(values: np.ndarray, bins: int) -> np.ndarray:
    """Unique interior quantile cut points of ``values`` (finite, sorted; may be fewer than bins-1)."""
    finite = values[np.isfinite(values)]
    if finite.size == 0 or bins == 1:
        return np.empty(0, dtype=np.float64)
    # inverted_cdf: cut points are sample values, so no bin between two cuts is empty.
    cuts = np.quantile(finite, np.linspace(0.0, 1.0, bins + 1)[1:-1], method="inverted_cdf")
    cuts = np.unique(cuts)
    # A cut at the maximum would leave an empty last bin under right-closed bins.
    return cuts[cuts < finite.max()]


# ------------------------------------------------------------------------------------ discrimination


def auc(y: Any, score: Any, *, sample_weight: Any = None) -> float:
    """Area under the ROC curve (scikit-learn's ``roc_auc_score``).

    Parameters
    ----------
    y : array-like of 0/1 or bool
        Outcome, 1 = event (default).
    score : array-like of float
        Higher means more likely an event (a PD, or a negated points score).
    sample_weight : array-like of float, optional
        Non-negative weights.

    Returns
    -------
    float
        AUC in [0, 1]; 0.5 is no discrimination.

    Raises
    ------
    InputError
        Length mismatch, a single class, NaN scores, non-binary ``y`` or negative weights.
    """
    t = _target(y)
    s = _scores(score, t.size)
    w = _weights(sample_weight, t.size)
    return float(roc_auc_score(t, s, sample_weight=w))


def gini(y: Any, score: Any, *, sample_weight: Any = None) -> float:
    """Gini coefficient (accuracy ratio), ``2 * AUC - 1``; same arguments as :func:`auc`.

    Returns
    -------
    float
        In [-1, 1]; negative when the score ranks the wrong way round.
    """
    return 2.0 * auc(y, score, sample_weight=sample_weight) - 1.0


def ks(y: Any, score: Any, *, sample_weight: Any = None) -> KSResult:
    """Kolmogorov-Smirnov statistic between the events' and non-events' score distributions.

    It is the largest gap ``|TPR(t) - FPR(t)|`` over all score thresholds ``t`` (from scikit-learn's
    ``roc_curve`` with every threshold kept), which equals the two-sample KS statistic
    (``scipy.stats.ks_2samp``) of the events' scores against the non-events' scores, whichever way
    the score runs.

    Parameters
    ----------
    y : array-like of 0/1 or bool
        Outcome, 1 = event.
    score : array-like of float
        Any score; direction does not matter.
    sample_weight : array-like of float, optional
        Non-negative weights (then the weighted empirical distributions are compared).

    Returns
    -------
    KSResult
        ``(statistic, threshold)``: the split ``score >= threshold`` versus ``score < threshold``
        attains the statistic. Ties go to the lowest such threshold's first occurrence in ROC order.

    Raises
    ------
    InputError
        Length mismatch, a single class, NaN scores, non-binary ``y`` or negative weights.
    """
    t = _target(y)
    s = _scores(score, t.size)
    w = _weights(sample_weight, t.size)
    if w is not None and (w[t == 1].sum() == 0 or w[t == 0].sum() == 0):
        raise InputError("one class has zero total weight", argument="sample_weight")
    fpr, tpr, thresholds = roc_curve(t, s, sample_weight=w, drop_intermediate=False)
    gap = np.abs(tpr - fpr)
    i = int(np.argmax(gap))
    # thresholds[0] is +inf (nobody flagged) with gap 0; argmax never picks it unless all gaps are 0.
    threshold = float(thresholds[i]) if np.isfinite(thresholds[i]) else float(s.max())
    return KSResult(statistic=float(gap[i]), threshold=threshold)


# ----------------------------------------------------------------------------------------- stability


def _column(values: Any, argument: str) -> pd.Series:
    """One sample as a pandas Series (no copy when possible), non-empty and 1-D."""
    if isinstance(values, pd.Series):
        if values.empty:
            raise InputError("is empty", argument=argument)
        return values
    return pd.Series(_as_1d(values, argument), copy=False)


def _infer_kind(values: pd.Series, kind: FeatureKind, argument: str) -> str:
    if kind not in ("auto", "numeric", "categorical"):
        raise InputError("must be 'auto', 'numeric' or 'categorical'", argument="kind", value=kind)
    if kind != "auto":
        return kind
    dtype = values.dtype
    if isinstance(dtype, pd.CategoricalDtype) or pd.api.types.is_bool_dtype(dtype):
        return "categorical"
    if pd.api.types.is_numeric_dtype(dtype):
        return "numeric"
    if pd.api.types.is_string_dtype(dtype) or pd.api.types.is_object_dtype(dtype):
        return "categorical"
    raise InputError(f"cannot compute PSI for dtype {dtype}", argument=argument)


def _numeric(values: pd.Series, argument: str) -> np.ndarray:
    try:
        return values.to_numpy(dtype=np.float64, na_value=np.nan)
    except (TypeError, ValueError) as exc:
        raise InputError("a numeric feature must hold numbers", argument=argument) from exc


def _categories(values: pd.Series) -> pd.Series:
    """Values as objects with missing values as None (so they can be grouped)."""
    s = values.astype(object)
    return s.where(s.notna(), None)


def psi_edges(reference: Any, bins: int = 10, *, kind: FeatureKind = "auto") -> np.ndarray:
    """The frozen PSI bins of a reference sample, for a monitor to store.

    Parameters
    ----------
    reference : array-like
        The expected (development / training-time) sample of one feature or score.
    bins : int, default 10
        Number of quantile bins asked for; fewer result when the sample has ties.
    kind : {"auto", "numeric", "categorical"}
        ``auto`` treats numbers as numeric and strings, booleans and categoricals as categorical.

    Returns
    -------
    numpy.ndarray
        Numeric: float edges ``[-inf, q1, ..., +inf]`` (strictly increasing; bins are
        ``(e[i-1], e[i]]``; missing values get a separate bin). Categorical: the sorted categories
        seen in the reference (as objects; missing excluded).

    Raises
    ------
    InputError
        An empty sample, ``bins`` < 1, or an unsupported dtype.
    """
    ref = _column(reference, "reference")
    bins = _check_bins(bins)
    if _infer_kind(ref, kind, "reference") == "numeric":
        cuts = _quantile_cuts(_numeric(ref, "reference"), bins)
        return np.concatenate(([-np.inf], cuts, [np.inf]))
    cats = _categories(ref)
    return np.asarray(sorted(cats[cats.notna()].unique(), key=str), dtype=object)


def _check_edges(edges: Any) -> np.ndarray:
    e = np.asarray(edges, dtype=np.float64)
    if e.ndim != 1 or e.size < 2:
        raise InputError("numeric PSI edges need at least two values", argument="edges")
    if np.isnan(e).any() or not (np.diff(e) > 0).all():
        raise InputError("must be strictly increasing without NaN", argument="edges")
    if e[0] != -np.inf or e[-1] != np.inf:
        # Values outside the stored range would otherwise fall out of every bin silently.
        raise InputError("must start at -inf and end at +inf (see psi_edges)", argument="edges")
    return e


def _numeric_counts(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Counts per bin (right-closed bins of ``edges``), then the missing bin last."""
    nan = np.isnan(values)
    idx = np.searchsorted(edges[1:-1], values[~nan], side="left")
    counts = np.bincount(idx, minlength=edges.size - 1)
    return np.append(counts, int(nan.sum()))


def psi_table(
    expected: Any,
    actual: Any,
    bins: int = 10,
    *,
    edges: Any = None,
    kind: FeatureKind = "auto",
    epsilon: float = PSI_EPSILON,
) -> pd.DataFrame:
    """Per-bin evidence of the population stability index between two samples.

    Parameters
    ----------
    expected : array-like
        The reference sample (development time); bins are frozen on it.
    actual : array-like
        The current sample.
    bins : int, default 10
        Quantile bins of ``expected`` (ignored when ``edges`` is given or the feature is categorical).
    edges : array-like, optional
        Frozen bins from :func:`psi_edges` (numeric: float edges from -inf to +inf; categorical: the
        reference categories, any other category then counts as ``"other"``).
    kind : {"auto", "numeric", "categorical"}
        How to treat the values (see :func:`psi_edges`).
    epsilon : float, default 1e-4
        Floor for a zero share, so that the logarithm stays finite.

    Returns
    -------
    pandas.DataFrame
        One row per bin: ``bin`` (label), ``lower``, ``upper`` (numeric bins; NaN otherwise),
        ``expected_count``, ``actual_count``, ``expected_share``, ``actual_share`` (unfloored) and
        ``psi`` (the bin's term, computed with floored shares). Missing values are the last row,
        ``bin == "missing"``. The PSI is ``table["psi"].sum()``.

    Raises
    ------
    InputError
        Empty samples, a bad ``bins``/``edges``/``epsilon``, non-numeric values for a numeric
        feature, or the two samples of different kinds.
    """
    if not (isinstance(epsilon, (float, int)) and 0.0 < float(epsilon) < 1.0):
        raise InputError("must be a number in (0, 1)", argument="epsilon", value=epsilon)
    exp = _column(expected, "expected")
    act = _column(actual, "actual")
    exp_kind = _infer_kind(exp, kind, "expected")
    act_kind = _infer_kind(act, kind, "actual")
    if exp_kind != act_kind:
        raise InputError(
            f"expected is {exp_kind} but actual is {act_kind}; pass kind= to say how to compare them",
            argument="actual",
        )
    if exp_kind == "numeric":
        exp_num = _numeric(exp, "expected")
        act_num = _numeric(act, "actual")
        e = (
            _check_edges(edges)
            if edges is not None
            else np.concatenate(([-np.inf], _quantile_cuts(exp_num, _check_bins(bins)), [np.inf]))
        )
        exp_counts = _numeric_counts(exp_num, e)
        act_counts = _numeric_counts(act_num, e)
        lower = np.append(e[:-1], np.nan)
        upper = np.append(e[1:], np.nan)
        labels = [f"({lo:.6g}, {hi:.6g}]" for lo, hi in zip(e[:-1], e[1:], strict=True)] + [MISSING_BIN]
    else:
        exp_cat = _categories(exp)
        act_cat = _categories(act)
        if edges is not None:
            known = list(np.asarray(edges, dtype=object))
            if len(set(known)) != len(known) or OTHER_BIN in known:
                raise InputError(
                    f"categorical edges must be distinct categories other than {OTHER_BIN!r}",
                    argument="edges",
                )
            exp_cat = exp_cat.where(exp_cat.isna() | exp_cat.isin(known), OTHER_BIN)
            act_cat = act_cat.where(act_cat.isna() | act_cat.isin(known), OTHER_BIN)
            cats = [*known, OTHER_BIN]
        else:
            seen = pd.concat([exp_cat, act_cat], ignore_index=True)
            cats = sorted(seen[seen.notna()].unique(), key=str)
        exp_counts = _category_counts(exp_cat, cats)
        act_counts = _category_counts(act_cat, cats)
        lower = upper = np.full(len(cats) + 1, np.nan)
        labels = [str(c) for c in cats] + [MISSING_BIN]
    exp_share = exp_counts / exp_counts.sum()
    act_share = act_counts / act_counts.sum()
    e_f = np.maximum(exp_share, epsilon)
    a_f = np.maximum(act_share, epsilon)
    terms = (a_f - e_f) * np.log(a_f / e_f)
    return pd.DataFrame(
        {
            "bin": labels,
            "lower": lower,
            "upper": upper,
            "expected_count": exp_counts.astype(np.int64),
            "actual_count": act_counts.astype(np.int64),
            "expected_share": exp_share,
            "actual_share": act_share,
            "psi": terms,
        }
    )


def _category_counts(values: pd.Series, cats: Sequence[Any]) -> np.ndarray:
    """Counts of each of ``cats`` in ``values`` (vectorised), then the missing count last."""
    codes = pd.Categorical(values, categories=list(cats)).codes  # -1 = missing (or not in cats)
    counts = np.bincount(codes + 1, minlength=len(cats) + 1)
    return np.append(counts[1:], counts[0])


def psi(
    expected: Any,
    actual: Any,
    bins: int = 10,
    *,
    edges: Any = None,
    kind: FeatureKind = "auto",
    epsilon: float = PSI_EPSILON,
) -> float:
    """Population stability index (群体稳定性指数) of ``actual`` against ``expected``.

    ``PSI = sum_i (a_i - e_i) * ln(a_i / e_i)`` over bins frozen on ``expected`` (quantile edges,
    -inf/+inf ends, missing values in a bin of their own), with zero shares floored at
    ``epsilon``. Categorical values compare category shares. Arguments as in :func:`psi_table`.

    Returns
    -------
    float
        PSI >= 0; 0 for identical distributions. Read it with :func:`stability_label`.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> ref = rng.normal(size=5000)
    >>> psi(ref, ref)
    0.0
    >>> round(psi(ref, rng.normal(0.5, 1.0, size=5000)), 2) > 0.1
    True
    """
    return float(psi_table(expected, actual, bins, edges=edges, kind=kind, epsilon=epsilon)["psi"].sum())


def stability_label(psi_value: Any, *, moderate: float = 0.1, major: float = 0.25) -> str | np.ndarray:
    """Read a PSI: ``"stable"`` below ``moderate``, ``"moderate shift"`` below ``major``, else ``"major shift"``.

    Parameters
    ----------
    psi_value : float or array-like of float
        One PSI or many (e.g. the ``psi`` column of :func:`csi`).
    moderate, major : float, default 0.1 and 0.25
        The usual rule-of-thumb thresholds; a bank may set its own (from a policy pack).

    Returns
    -------
    str or numpy.ndarray of str
        A label, or an array of labels for array input.

    Raises
    ------
    InputError
        NaN or negative PSI, or thresholds that are not ``0 <= moderate <= major``.
    """
    if not (0.0 <= moderate <= major):
        raise InputError(
            f"thresholds must satisfy 0 <= moderate <= major, got moderate={moderate}, major={major}",
            argument="moderate",
        )
    scalar = np.ndim(psi_value) == 0
    v = np.atleast_1d(np.asarray(psi_value, dtype=np.float64))
    if np.isnan(v).any() or (v < 0).any():
        raise InputError("PSI must be a non-negative number", argument="psi_value", value=psi_value)
    labels = np.where(v < moderate, "stable", np.where(v < major, "moderate shift", "major shift"))
    return str(labels[0]) if scalar else labels.astype(object)


def csi(
    ref_frame: pd.DataFrame,
    cur_frame: pd.DataFrame,
    features: Sequence[str] | None = None,
    *,
    bins: int = 10,
    epsilon: float = PSI_EPSILON,
    moderate: float = 0.1,
    major: float = 0.25,
) -> pd.DataFrame:
    """Characteristic stability index: PSI per feature, bins frozen on the reference frame.

    Parameters
    ----------
    ref_frame : pandas.DataFrame
        Reference (development) features.
    cur_frame : pandas.DataFrame
        Current features.
    features : sequence of str, optional
        Columns to compare; default: every column of ``ref_frame``.
    bins, epsilon
        As in :func:`psi`.
    moderate, major
        Thresholds for the ``stability`` label (see :func:`stability_label`).

    Returns
    -------
    pandas.DataFrame
        One row per feature, in the order given: ``feature``, ``kind`` (``numeric`` /
        ``categorical``), ``psi``, ``stability``, ``n_bins`` (including the missing bin),
        ``ref_missing_share``, ``cur_missing_share``.

    Raises
    ------
    InputError
        Not DataFrames, a feature missing from either frame, or a feature whose kind differs
        between the frames.
    """
    for name, frame in (("ref_frame", ref_frame), ("cur_frame", cur_frame)):
        if not isinstance(frame, pd.DataFrame):
            raise InputError(f"must be a pandas DataFrame, got {type(frame).__name__}", argument=name)
    feats = list(ref_frame.columns) if features is None else list(features)
    if not feats:
        raise InputError("no features to compare", argument="features")
    for name, frame in (("ref_frame", ref_frame), ("cur_frame", cur_frame)):
        missing = [f for f in feats if f not in frame.columns]
        if missing:
            raise InputError(f"{name} lacks feature(s) {missing}", argument="features", value=missing)
    rows = []
    for f in feats:  # a loop over features, not records: each PSI is vectorised
        kind = _infer_kind(ref_frame[f], "auto", f"ref_frame[{f!r}]")
        try:
            table = psi_table(ref_frame[f], cur_frame[f], bins, kind=kind, epsilon=epsilon)
        except InputError as exc:
            raise InputError(f"feature {f!r}: {exc.message}", argument="features", value=f) from exc
        rows.append(
            {
                "feature": f,
                "kind": kind,
                "psi": float(table["psi"].sum()),
                "n_bins": len(table),
                "ref_missing_share": float(table["expected_share"].iloc[-1]),
                "cur_missing_share": float(table["actual_share"].iloc[-1]),
            }
        )
    out = pd.DataFrame(rows)
    out.insert(3, "stability", stability_label(out["psi"].to_numpy(), moderate=moderate, major=major))
    return out


# --------------------------------------------------------------------------------------- calibration


def brier(y: Any, pd_: Any, *, sample_weight: Any = None) -> float:
    """Brier score: mean squared difference between predicted PD and outcome (lower is better).

    Parameters
    ----------
    y : array-like of 0/1 or bool
        Outcome (a single class is allowed here).
    pd_ : array-like of float
        Predicted probabilities of the event, in [0, 1].
    sample_weight : array-like of float, optional
        Non-negative weights.

    Returns
    -------
    float
    """
    t = _target(y, need_both=False)
    p = _probabilities(pd_, t.size)
    w = _weights(sample_weight, t.size)
    return float(brier_score_loss(t, p, sample_weight=w, pos_label=1.0))


def calibration_table(
    y: Any, pd_: Any, bins: int = 10, *, strategy: Literal["quantile", "uniform"] = "quantile"
) -> pd.DataFrame:
    """Predicted against observed event rates per PD bin (校准表).

    Parameters
    ----------
    y : array-like of 0/1 or bool
        Outcome (a single class is allowed).
    pd_ : array-like of float
        Predicted probabilities in [0, 1].
    bins : int, default 10
        Number of bins asked for (fewer when the PDs have ties under ``quantile``).
    strategy : {"quantile", "uniform"}
        ``quantile``: equal-count bins of the PDs; ``uniform``: equal-width bins over [0, 1] (empty
        bins are dropped).

    Returns
    -------
    pandas.DataFrame
        One row per bin in increasing PD: ``bin`` (1..k), ``lower``, ``upper`` (bins are
        ``(lower, upper]``, the first also includes its lower edge), ``count``, ``events``,
        ``mean_predicted``, ``observed_rate`` and ``difference`` (observed - predicted).
    """
    t = _target(y, need_both=False)
    p = _probabilities(pd_, t.size)
    bins = _check_bins(bins)
    if strategy == "quantile":
        cuts = _quantile_cuts(p, bins)
        lo_edge, hi_edge = float(p.min()), float(p.max())
    elif strategy == "uniform":
        cuts = np.linspace(0.0, 1.0, bins + 1)[1:-1]
        lo_edge, hi_edge = 0.0, 1.0
    else:
        raise InputError("must be 'quantile' or 'uniform'", argument="strategy", value=strategy)
    idx = np.searchsorted(cuts, p, side="left")
    k = cuts.size + 1
    count = np.bincount(idx, minlength=k)
    events = np.bincount(idx, weights=t, minlength=k)
    sum_p = np.bincount(idx, weights=p, minlength=k)
    edges = np.concatenate(([lo_edge], cuts, [hi_edge]))
    keep = count > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_p = sum_p / count
        rate = events / count
    table = pd.DataFrame(
        {
            "lower": edges[:-1],
            "upper": edges[1:],
            "count": count.astype(np.int64),
            "events": events.astype(np.int64),
            "mean_predicted": mean_p,
            "observed_rate": rate,
        }
    )[keep].reset_index(drop=True)
    table.insert(0, "bin", np.arange(1, len(table) + 1))
    table["difference"] = table["observed_rate"] - table["mean_predicted"]
    return table


# ------------------------------------------------------------------------------------- rank ordering


def _band_table(t: np.ndarray, s: np.ndarray, idx: np.ndarray, k: int) -> pd.DataFrame:
    """Counts, events, cumulative capture, KS and lift per band index 0..k-1 (band 0 reported first)."""
    count = np.bincount(idx, minlength=k).astype(np.int64)
    events = np.bincount(idx, weights=t, minlength=k).astype(np.int64)
    non_events = count - events
    total_events = max(int(events.sum()), 1)
    total_non = max(int(non_events.sum()), 1)
    overall_rate = events.sum() / count.sum()
    cum_count = np.cumsum(count)
    cum_events = np.cumsum(events)
    cum_non = np.cumsum(non_events)
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = events / count
        cum_rate = cum_events / cum_count
        lift = rate / overall_rate if overall_rate > 0 else np.full(k, np.nan)
        cum_lift = cum_rate / overall_rate if overall_rate > 0 else np.full(k, np.nan)
    cum_event_share = cum_events / total_events
    cum_non_share = cum_non / total_non
    return pd.DataFrame(
        {
            "count": count,
            "share": count / count.sum(),
            "events": events,
            "non_events": non_events,
            "event_rate": rate,
            "cum_count": cum_count,
            "cum_events": cum_events,
            "cum_non_events": cum_non,
            "cum_event_share": cum_event_share,
            "cum_non_event_share": cum_non_share,
            "ks": np.abs(cum_event_share - cum_non_share),
            "lift": lift,
            "cum_lift": cum_lift,
        }
    )


def gains_table(y: Any, score: Any, bins: int = 10, *, higher_is_riskier: bool = False) -> pd.DataFrame:
    """Gains and lift table over equal-count score bands, riskiest band first (增益表).

    Parameters
    ----------
    y : array-like of 0/1 or bool
        Outcome, 1 = event.
    score : array-like of float
        The score. By default higher means better (a points score); pass
        ``higher_is_riskier=True`` for a PD.
    bins : int, default 10
        Number of bands asked for (quantiles of the score; tied scores stay in one band, so there may
        be fewer).
    higher_is_riskier : bool, default False
        Direction of the score; bands are reported from the riskiest.

    Returns
    -------
    pandas.DataFrame
        One row per band: ``band`` (1 = riskiest), ``min_score``, ``max_score``, ``count``,
        ``share``, ``events``, ``non_events``, ``event_rate``, ``cum_count``, ``cum_events``,
        ``cum_non_events``, ``cum_event_share`` (share of all events captured so far),
        ``cum_non_event_share``, ``ks`` (their gap at this band), ``lift`` (band event rate over the
        overall rate) and ``cum_lift``.

    Raises
    ------
    InputError
        Length mismatch, a single class, NaN scores or non-binary ``y``.
    """
    t = _target(y)
    s = _scores(score, t.size)
    bins = _check_bins(bins)
    risk = s if higher_is_riskier else -s  # band by risk, riskiest = highest `risk`
    cuts = _quantile_cuts(risk, bins)
    k = cuts.size + 1
    idx = (k - 1) - np.searchsorted(cuts, risk, side="left")  # 0 = riskiest band
    table = _band_table(t, s, idx, k)
    # Every band is non-empty by construction (quantile cuts strictly inside the range).
    min_score = np.full(k, np.inf)
    max_score = np.full(k, -np.inf)
    np.minimum.at(min_score, idx, s)
    np.maximum.at(max_score, idx, s)
    table.insert(0, "max_score", max_score)
    table.insert(0, "min_score", min_score)
    table.insert(0, "band", np.arange(1, k + 1))
    return table


def score_band_table(
    y: Any,
    score: Any,
    edges: Sequence[float],
    *,
    labels: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Outcomes per score band at given edges, e.g. the grade thresholds (分数段表).

    Bands are left-closed, ``[edge_i, edge_{i+1})``, matching "grade AAA is score >= 80"; the
    outer bands reach to -inf and +inf so that no score is dropped. Empty bands are kept (count 0).
    Bands are reported from the lowest score up, with cumulative figures from the lowest band.

    Parameters
    ----------
    y : array-like of 0/1 or bool
        Outcome (a single class is allowed).
    score : array-like of float
        The score.
    edges : sequence of float
        Strictly increasing interior cut points, e.g. ``[50, 60, 70, 80]`` for C/B/A/AA/AAA.
    labels : sequence of str, optional
        One label per band (``len(edges) + 1``), e.g. ``["C", "B", "A", "AA", "AAA"]``.

    Returns
    -------
    pandas.DataFrame
        ``band`` (label or ``"[lo, hi)"``), ``lower``, ``upper``, then the columns of
        :func:`gains_table` from ``count`` on.
    """
    t = _target(y, need_both=False)
    s = _scores(score, t.size)
    cuts = np.asarray(edges, dtype=np.float64)
    if cuts.ndim != 1 or cuts.size == 0 or not np.isfinite(cuts).all() or not (np.diff(cuts) > 0).all():
        raise InputError("must be a non-empty, strictly increasing list of finite numbers", argument="edges")
    k = cuts.size + 1
    if labels is not None:
        labels = list(labels)
        if len(labels) != k:
            raise InputError(f"needs {k} labels for {cuts.size} edges, got {len(labels)}", argument="labels")
    full = np.concatenate(([-np.inf], cuts, [np.inf]))
    idx = np.searchsorted(cuts, s, side="right")
    table = _band_table(t, s, idx, k)
    names = (
        labels
        if labels is not None
        else [f"[{lo:g}, {hi:g})" for lo, hi in zip(full[:-1], full[1:], strict=True)]
    )
    table.insert(0, "upper", full[1:])
    table.insert(0, "lower", full[:-1])
    table.insert(0, "band", names)
    return table
