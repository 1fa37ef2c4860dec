"""Compiled scorecards: every points-based scorer reduced to arrays (DESIGN.md section 6).

An expert scorecard (from an indicator template) and a statistical WOE scorecard both compile to a
:class:`CompiledScorecard`: per feature, either sorted numeric bin ``edges`` with ``points`` per bin,
or a tuple of ``categories`` with ``points`` per category, plus the points for a missing value, for
special values and for categories never seen. Scoring is then

* **batch** (:meth:`CompiledScorecard.score_frame`): one ``np.searchsorted`` per numeric feature, one
  hash-table code lookup per categorical feature, ``take`` of the points and a sum;
* **single record** (:meth:`CompiledScorecard.score_record`): pure Python with :func:`bisect.bisect_right`
  and dict lookups, no pandas and no numpy scalars, for services scoring one applicant at a time.

Both paths add the points in the same order (base points, then feature by feature), so they give
bit-identical scores.

Bin convention (numeric features)
---------------------------------
With ``m`` strictly increasing finite edges ``e[0] < ... < e[m-1]`` there are ``m + 1`` bins, each
**closed on the left and open on the right**::

    bin 0      = (-inf, e[0])
    bin i      = [e[i-1], e[i])        for 1 <= i <= m-1
    bin m      = [e[m-1], +inf)

so a value equal to an edge falls into the bin that *starts* at it (``searchsorted(side="right")``,
``bisect_right``). A value that equals one of ``special_values`` takes that value's points instead of
its bin's. ``valid_range`` (optional, inclusive) makes out-of-range values an error rather than
silently scoring them in an outer bin.

Missing and unseen values
-------------------------
``None``, ``NaN``, ``pd.NA`` (and, in a record, an absent key) score ``missing_points``. A categorical
value not among ``categories`` is handled by ``unseen_policy``: ``"missing"`` (the default: score it
as missing and flag it, bin code :data:`UNSEEN`), ``"points"`` (score ``unseen_points``, flagged too)
or ``"error"`` (raise :class:`~ruralcredit.errors.ModelError`).

Bin codes returned by the ``explain`` methods: ``>= 0`` the bin or category index, :data:`MISSING`
(-1), :data:`UNSEEN` (-2), and ``SPECIAL_BASE - j`` (-3 - j) for the ``j``-th special value.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from ruralcredit.errors import ModelError

__all__ = [
    "MISSING",
    "SPECIAL_BASE",
    "UNSEEN",
    "CompiledFeature",
    "CompiledScorecard",
    "ScoreToPD",
]

#: Bin code of a missing value.
MISSING = -1
#: Bin code of a category never seen (scored by ``unseen_policy``).
UNSEEN = -2
#: Bin code of the j-th special value is ``SPECIAL_BASE - j``.
SPECIAL_BASE = -3

_FORMAT = "ruralcredit.compiled_scorecard"
_FORMAT_VERSION = 1

Kind = Literal["numeric", "categorical"]
UnseenPolicy = Literal["missing", "points", "error"]

_NA: Any = pd.NA
_REASON_BLOCK = 32_768
_NUMERIC_INFERRED = frozenset({"integer", "floating", "mixed-integer-float", "boolean", "empty", "decimal"})


def _fmt(x: float) -> str:
    return f"{x:g}"


#: Up to this many edges, counting ``x >= edge`` comparisons beats ``np.searchsorted`` (about 3x on
#: a million values with 7 edges: branch-free SIMD passes instead of a binary search per value).
_COMPARE_MAX_EDGES = 16


def _bin_codes(edges: Sequence[float], x: np.ndarray) -> np.ndarray:
    """``np.searchsorted(edges, x, side="right")`` for the non-NaN values of ``x`` (intp).

    The bin of ``x`` is the number of edges ``<= x``. NaN gets code 0 here (``searchsorted`` gives it
    ``len(edges)``); callers overwrite missing values' codes anyway.
    """
    if not 0 < len(edges) <= _COMPARE_MAX_EDGES:
        return np.searchsorted(np.asarray(edges, dtype="float64"), x, side="right")
    counts = (x >= edges[0]).view(np.int8).copy()
    for e in edges[1:]:
        counts += (x >= e).view(np.int8)
    return counts.astype(np.intp)


def _finite(values: Sequence[float], what: str, name: str) -> tuple[float, ...]:
    out = []
    for v in values:
        if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
            raise ModelError(f"feature {name!r}: {what} must be numbers, got {v!r}")
        f = float(v)
        if not math.isfinite(f):
            raise ModelError(f"feature {name!r}: {what} must be finite, got {v!r}")
        out.append(f)
    return tuple(out)


@dataclass(frozen=True)
class CompiledFeature:
    """One feature of a compiled scorecard.

    Parameters
    ----------
    name : str
        The feature (column / record key) it reads.
    kind : {"numeric", "categorical"}
    points : sequence of float
        Points per bin (numeric: ``len(edges) + 1``) or per category (categorical: ``len(categories)``).
    edges : sequence of float
        Numeric only: strictly increasing finite cut points; bins are ``[e[i-1], e[i])`` (see the
        module docstring).
    categories : sequence of str, int or bool
        Categorical only: the known categories, unique.
    missing_points : float
        Points for a missing value.
    special_values, special_points : sequence of float
        Numeric only: values scored on their own (e.g. ``-1`` = "not applicable"), with their points.
    unseen_policy : {"missing", "points", "error"}
        Categorical only: how a category not in ``categories`` is scored (default: as missing, flagged).
    unseen_points : float, optional
        Required when ``unseen_policy="points"``.
    valid_range : (float or None, float or None), optional
        Inclusive bounds; a non-missing, non-special value outside them is an error.
    labels : sequence of str, optional
        Human-readable bin / category labels (defaults: ``"[5000, 10000)"``, the category itself).
    special_labels : sequence of str, optional
    missing_label : str

    Attributes
    ----------
    best_points : float
        The most points the feature can give (over bins, categories, special and missing points):
        a subject's shortfall from it ranks the reasons.
    """

    name: str
    kind: Kind
    points: tuple[float, ...]
    edges: tuple[float, ...] = ()
    categories: tuple[Any, ...] = ()
    missing_points: float = 0.0
    special_values: tuple[float, ...] = ()
    special_points: tuple[float, ...] = ()
    unseen_policy: UnseenPolicy = "missing"
    unseen_points: float | None = None
    valid_range: tuple[float | None, float | None] | None = None
    labels: tuple[str, ...] = ()
    special_labels: tuple[str, ...] = ()
    missing_label: str = "missing"
    best_points: float = field(init=False, compare=False)

    def __post_init__(self) -> None:
        name = self.name
        if not isinstance(name, str) or not name:
            raise ModelError(f"a compiled feature needs a non-empty name, got {name!r}")
        if self.kind not in ("numeric", "categorical"):
            raise ModelError(f"feature {name!r}: kind must be 'numeric' or 'categorical', got {self.kind!r}")
        setattr_ = object.__setattr__
        setattr_(self, "points", _finite(tuple(self.points), "points", name))
        setattr_(self, "missing_points", _finite((self.missing_points,), "missing_points", name)[0])
        if self.kind == "numeric":
            if self.categories:
                raise ModelError(f"feature {name!r}: a numeric feature has no categories")
            edges = _finite(tuple(self.edges), "edges", name)
            if any(b <= a for a, b in zip(edges, edges[1:], strict=False)):
                raise ModelError(f"feature {name!r}: edges must be strictly increasing, got {list(edges)}")
            setattr_(self, "edges", edges)
            if len(self.points) != len(edges) + 1:
                raise ModelError(f"feature {name!r}: {len(edges)} edges make {len(edges) + 1} bins, "
                                 f"but {len(self.points)} points were given")
            specials = _finite(tuple(self.special_values), "special_values", name)
            if len(set(specials)) != len(specials):
                raise ModelError(f"feature {name!r}: special_values must be unique")
            setattr_(self, "special_values", specials)
            setattr_(self, "special_points", _finite(tuple(self.special_points), "special_points", name))
            if len(self.special_points) != len(specials):
                raise ModelError(f"feature {name!r}: {len(specials)} special values but "
                                 f"{len(self.special_points)} special points")
            if self.unseen_policy != "missing" or self.unseen_points is not None:
                raise ModelError(f"feature {name!r}: unseen_policy applies to categorical features only")
        else:
            if self.edges or self.special_values or self.special_points:
                raise ModelError(f"feature {name!r}: a categorical feature has no edges or special values")
            cats = tuple(self.categories)
            for c in cats:
                if not isinstance(c, (str, int, bool)) or isinstance(c, float):
                    raise ModelError(f"feature {name!r}: categories must be str, int or bool, got {c!r}")
            if len({(type(c), c) for c in cats}) != len(cats) or len(set(cats)) != len(cats):
                raise ModelError(f"feature {name!r}: categories must be unique, got {list(cats)}")
            setattr_(self, "categories", cats)
            if len(self.points) != len(cats):
                raise ModelError(f"feature {name!r}: {len(cats)} categories but {len(self.points)} points")
            if self.unseen_policy not in ("missing", "points", "error"):
                raise ModelError(f"feature {name!r}: unseen_policy must be 'missing', 'points' or 'error'")
            if self.unseen_policy == "points":
                if self.unseen_points is None:
                    raise ModelError(f"feature {name!r}: unseen_policy 'points' needs unseen_points")
                setattr_(self, "unseen_points", _finite((self.unseen_points,), "unseen_points", name)[0])
            elif self.unseen_points is not None:
                raise ModelError(f"feature {name!r}: unseen_points is only used with unseen_policy 'points'")
            if self.valid_range is not None:
                raise ModelError(f"feature {name!r}: valid_range applies to numeric features only")
        if not self.points:
            raise ModelError(f"feature {name!r}: no bins or categories")
        if len(self.points) + len(self.special_values) > 30_000:
            raise ModelError(f"feature {name!r}: more than 30,000 bins or categories")
        if self.valid_range is not None:
            lo, hi = self.valid_range
            lo = None if lo is None else _finite((lo,), "valid_range", name)[0]
            hi = None if hi is None else _finite((hi,), "valid_range", name)[0]
            if lo is not None and hi is not None and hi < lo:
                raise ModelError(f"feature {name!r}: valid_range upper {hi:g} is below lower {lo:g}")
            setattr_(self, "valid_range", (lo, hi))
        labels = tuple(str(x) for x in self.labels) if self.labels else self._default_labels()
        if len(labels) != len(self.points):
            raise ModelError(f"feature {name!r}: {len(labels)} labels for {len(self.points)} bins")
        setattr_(self, "labels", labels)
        slabels = (tuple(str(x) for x in self.special_labels) if self.special_labels
                   else tuple(f"= {_fmt(v)}" for v in self.special_values))
        if len(slabels) != len(self.special_values):
            raise ModelError(f"feature {name!r}: {len(slabels)} special labels for "
                             f"{len(self.special_values)} special values")
        setattr_(self, "special_labels", slabels)
        reachable = [*self.points, self.missing_points, *self.special_points]
        if self.unseen_points is not None:
            reachable.append(self.unseen_points)
        setattr_(self, "best_points", max(reachable))

    def _default_labels(self) -> tuple[str, ...]:
        if self.kind == "categorical":
            return tuple(str(c) for c in self.categories)
        e = self.edges
        if not e:
            return ("all",)
        inner = [f"[{_fmt(a)}, {_fmt(b)})" for a, b in zip(e, e[1:], strict=False)]
        return (f"< {_fmt(e[0])}", *inner, f">= {_fmt(e[-1])}")

    @property
    def n_bins(self) -> int:
        """Number of bins (numeric) or categories (categorical)."""
        return len(self.points)

    def label(self, code: int) -> str:
        """The label of a bin code (see the module docstring for the negative codes)."""
        if code >= 0:
            return self.labels[code]
        if code == MISSING:
            return self.missing_label
        if code == UNSEEN:
            return "unseen category"
        return self.special_labels[SPECIAL_BASE - code]

    # -- batch ------------------------------------------------------------------------------------
    def _point_table(self) -> np.ndarray:
        """Points indexed by bin code, negative codes included (numpy's negative indexing).

        Layout ``(*points, special[J-1], ..., special[0], unseen, missing)``: code ``-1`` (MISSING)
        takes the last entry, ``-2`` (UNSEEN) the one before, ``-3 - j`` special value ``j``.
        """
        if self.unseen_points is not None:
            unseen = self.unseen_points
        else:
            unseen = self.missing_points  # unseen_policy "missing" (or unused: numeric / "error")
        return np.asarray((*self.points, *self.special_points[::-1], unseen, self.missing_points),
                          dtype="float64")

    def _bin_column(self, s: pd.Series) -> tuple[np.ndarray, np.ndarray]:
        """Points (float64) and bin codes (intp) for one column: codes first, then one ``take``."""
        n = len(s)
        if self.kind == "numeric":
            if not (pd.api.types.is_numeric_dtype(s.dtype) or pd.api.types.is_bool_dtype(s.dtype)) and \
                    pd.api.types.infer_dtype(s, skipna=True) not in _NUMERIC_INFERRED:
                raise ModelError(f"feature {self.name!r}: numeric feature has non-numeric values "
                                 f"(dtype {s.dtype})")
            try:
                x = s.to_numpy(dtype="float64", na_value=np.nan)
            except (TypeError, ValueError) as exc:
                raise ModelError(f"feature {self.name!r}: numeric feature has non-numeric values "
                                 f"(dtype {s.dtype})") from exc
            codes = _bin_codes(self.edges, x)
            missing = np.isnan(x)
            if missing.any():
                codes[missing] = MISSING
            special = None
            for j, v in enumerate(self.special_values):
                hit = x == v
                codes[hit] = SPECIAL_BASE - j
                special = hit if special is None else special | hit
            if self.valid_range is not None:
                lo, hi = self.valid_range
                # NaN compares False, so missing values never count as out of range
                bad = x < lo if lo is not None else np.zeros(n, dtype=bool)
                if hi is not None:
                    bad |= x > hi
                if special is not None:
                    bad &= ~special
                if bad.any():
                    where = s.index[bad][:20].tolist()
                    raise ModelError(f"feature {self.name!r}: {int(np.sum(bad))} value(s) outside the valid "
                                     f"range [{lo}, {hi}] (rows {where})")
        else:
            cat_index = pd.Index(list(self.categories), dtype=object)
            if isinstance(s.dtype, pd.CategoricalDtype):
                # map the column's own categories once, then its codes (-1 = missing) through that map
                lut = cat_index.get_indexer(s.cat.categories.astype(object))
                lut = np.append(np.where(lut < 0, UNSEEN, lut), MISSING)
                codes = lut.take(s.cat.codes.to_numpy())  # own code -1 picks the appended MISSING
            else:
                codes = cat_index.get_indexer(s.astype(object))
                codes[codes < 0] = UNSEEN
                missing = s.isna().to_numpy(dtype=bool)
                if missing.any():
                    codes[missing] = MISSING
            if self.unseen_policy == "error":
                unseen = codes == UNSEEN
                if unseen.any():
                    vals = sorted({str(v) for v in s[unseen].head(100)})[:5]
                    raise ModelError(f"feature {self.name!r}: categories {vals} were never seen "
                                     f"(known: {list(self.categories)})")
        return self._point_table().take(codes), codes

    # -- single record ------------------------------------------------------------------------------
    def score_value(self, value: Any) -> tuple[float, int]:
        """Points and bin code of one value (pure Python; slower than the scorecard's fast path)."""
        sc = CompiledScorecard(features=(self,))
        _, pts, codes = sc.explain_record({self.name: value})
        return pts[0], codes[0]


@dataclass(frozen=True)
class ScoreToPD:
    """A map from score to probability of default.

    ``kind="logistic"``: the usual scorecard scaling ``score = offset + factor * ln(odds)`` with
    ``odds = (1 - pd) / pd`` (good:bad), so ``pd = 1 / (1 + exp((score - offset) / factor))``;
    ``factor`` is points-to-double-the-odds divided by ``ln 2``.
    ``kind="table"``: a step function; ``pds[i]`` applies on ``[edges[i-1], edges[i])`` (same bin
    convention as the features, ``len(pds) == len(edges) + 1``).
    """

    kind: Literal["logistic", "table"]
    offset: float = 0.0
    factor: float = 1.0
    edges: tuple[float, ...] = ()
    pds: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        if self.kind == "logistic":
            if not (math.isfinite(self.offset) and math.isfinite(self.factor)) or self.factor == 0:
                raise ModelError("logistic score-to-PD map needs a finite offset and a non-zero factor")
            if self.edges or self.pds:
                raise ModelError("a logistic score-to-PD map has no edges or pds")
        elif self.kind == "table":
            edges = _finite(tuple(self.edges), "edges", "score_to_pd")
            pds = tuple(float(p) for p in self.pds)
            if any(b <= a for a, b in zip(edges, edges[1:], strict=False)):
                raise ModelError("score-to-PD table edges must be strictly increasing")
            if len(pds) != len(edges) + 1 or not all(0.0 <= p <= 1.0 for p in pds):
                raise ModelError("score-to-PD table needs len(edges)+1 probabilities in [0, 1]")
            object.__setattr__(self, "edges", edges)
            object.__setattr__(self, "pds", pds)
        else:
            raise ModelError(f"score-to-PD kind must be 'logistic' or 'table', got {self.kind!r}")

    def pd(self, scores: np.ndarray) -> np.ndarray:
        """Probabilities of default for an array of scores."""
        s = np.asarray(scores, dtype="float64")
        if self.kind == "logistic":
            with np.errstate(over="ignore"):
                return 1.0 / (1.0 + np.exp((s - self.offset) / self.factor))
        return np.asarray(self.pds, dtype="float64").take(np.searchsorted(np.asarray(self.edges), s,
                                                                          side="right"))

    def pd_one(self, score: float) -> float:
        """Probability of default for one score (pure Python)."""
        if self.kind == "logistic":
            z = (score - self.offset) / self.factor
            return 0.0 if z > 709.0 else 1.0 / (1.0 + math.exp(z))
        return self.pds[bisect_right(self.edges, score)]


@dataclass(frozen=True)
class CompiledScorecard:
    """A points scorecard as arrays: ``score = base_points + sum of each feature's points``.

    Parameters
    ----------
    features : sequence of CompiledFeature
        Unique names.
    base_points : float
    score_to_pd : ScoreToPD, optional
        Map from score to probability of default (``None`` for an expert scorecard).
    name, version : str
        Identification of the scorecard (recorded with scores).
    meta : mapping
        Free JSON-able metadata (e.g. the template hash); not used in scoring.

    Examples
    --------
    >>> f = CompiledFeature("income", "numeric", edges=(1000.0, 5000.0), points=(0.0, 5.0, 10.0))
    >>> sc = CompiledScorecard(features=(f,), base_points=50.0)
    >>> sc.score_record({"income": 4999.0})[0]
    55.0
    """

    features: tuple[CompiledFeature, ...]
    base_points: float = 0.0
    score_to_pd: ScoreToPD | None = None
    name: str = ""
    version: str = ""
    meta: Mapping[str, Any] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        feats = tuple(self.features)
        if not feats:
            raise ModelError("a compiled scorecard needs at least one feature")
        for f in feats:
            if not isinstance(f, CompiledFeature):
                raise ModelError(f"features must be CompiledFeature, got {type(f).__name__}")
        names = [f.name for f in feats]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ModelError(f"duplicate feature names {dup}")
        object.__setattr__(self, "features", feats)
        object.__setattr__(self, "base_points", _finite((self.base_points,), "base_points", "<scorecard>")[0])
        object.__setattr__(self, "meta", dict(self.meta))
        object.__setattr__(self, "_plan", _compile_plan(feats))
        object.__setattr__(self, "_xplan", _explain_plan(feats, self._plan))  # type: ignore[attr-defined]
        object.__setattr__(self, "_best", np.asarray([f.best_points for f in feats], dtype="float64"))
        object.__setattr__(self, "_best_list", [f.best_points for f in feats])
        # added to a flagged feature's shortfall: more than any shortfall can be, so flagged come first
        worst = [min(f.points + (f.missing_points,) + f.special_points
                     + (() if f.unseen_points is None else (f.unseen_points,))) for f in feats]
        object.__setattr__(self, "_flag_offset",
                           1.0 + max(f.best_points - w for f, w in zip(feats, worst, strict=True)))

    # -- introspection --------------------------------------------------------------------------------
    @property
    def feature_names(self) -> list[str]:
        """The features read, in scoring order."""
        return [f.name for f in self.features]

    @property
    def best_points(self) -> np.ndarray:
        """Each feature's best points (float64 array, scoring order)."""
        return self._best.copy()  # type: ignore[attr-defined]

    @property
    def max_score(self) -> float:
        """The highest reachable score."""
        return self.base_points + sum(f.best_points for f in self.features)

    # -- batch ------------------------------------------------------------------------------------
    def explain_frame(self, df: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Scores, points matrix and bin-code matrix for a frame.

        Returns
        -------
        scores : ndarray of float64, shape (n,)
        points : ndarray of float64, shape (n, n_features), Fortran order
        codes : ndarray of int16, shape (n, n_features); see the module docstring for the codes.

        Raises
        ------
        ModelError
            Not a DataFrame, a feature column absent, non-numeric values in a numeric feature, values
            outside a valid range, or an unseen category under ``unseen_policy="error"``.
        """
        if not isinstance(df, pd.DataFrame):
            raise ModelError(f"expected a pandas DataFrame of features, got {type(df).__name__}")
        absent = [f.name for f in self.features if f.name not in df.columns]
        if absent:
            raise ModelError(f"feature columns missing from the frame: {absent}")
        n, p = len(df), len(self.features)
        points = np.empty((n, p), dtype="float64", order="F")
        codes = np.empty((n, p), dtype="int16", order="F")
        scores = np.full(n, self.base_points, dtype="float64")
        for j, f in enumerate(self.features):
            col = df[f.name]
            if isinstance(col, pd.DataFrame):
                raise ModelError(f"feature {f.name!r} appears in more than one column")
            pts, cds = f._bin_column(col)
            points[:, j] = pts
            codes[:, j] = cds
            # same order of additions as score_record: bit-identical totals
            scores += pts
        return scores, points, codes

    def score_frame(self, df: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """Total scores and the points matrix for a frame of features (one row per subject).

        Returns
        -------
        scores : ndarray of float64, shape (n,)
            ``base_points + points.sum(axis=1)`` (summed feature by feature in scoring order).
        points : ndarray of float64, shape (n, n_features)
            Each feature's points (columns in :attr:`feature_names` order).

        Raises
        ------
        ModelError
            As :meth:`explain_frame`.
        """
        scores, points, _ = self.explain_frame(df)
        return scores, points

    def total_scores(self, df: pd.DataFrame) -> np.ndarray:
        """Total scores only (no points or code matrices): bit-identical to :meth:`score_frame`'s.

        For callers that need no reasons (``predict_proba``, ``decision_function``); it saves
        writing two ``n x n_features`` matrices.

        Raises
        ------
        ModelError
            As :meth:`explain_frame`.
        """
        if not isinstance(df, pd.DataFrame):
            raise ModelError(f"expected a pandas DataFrame of features, got {type(df).__name__}")
        absent = [f.name for f in self.features if f.name not in df.columns]
        if absent:
            raise ModelError(f"feature columns missing from the frame: {absent}")
        scores = np.full(len(df), self.base_points, dtype="float64")
        for f in self.features:
            col = df[f.name]
            if isinstance(col, pd.DataFrame):
                raise ModelError(f"feature {f.name!r} appears in more than one column")
            scores += f._bin_column(col)[0]  # same order of additions as explain_frame
        return scores

    def pd(self, scores: np.ndarray) -> np.ndarray:
        """Probabilities of default for scores, or NaN when the scorecard has no PD map."""
        s = np.asarray(scores, dtype="float64")
        if self.score_to_pd is None:
            return np.full(s.shape, np.nan)
        return self.score_to_pd.pd(s)

    def reasons(self, points: np.ndarray, k: int = 3, flagged: np.ndarray | None = None) -> np.ndarray:
        """The ``k`` features with the largest shortfall from their best points, per row.

        Parameters
        ----------
        points : ndarray, shape (n, n_features)
            A points matrix from :meth:`score_frame`.
        k : int
        flagged : ndarray of bool, shape (n, n_features), optional
            Features to list first whatever their shortfall (e.g. missing or unseen values, so that a
            subject is always told which facts were missing); among themselves they rank by shortfall.

        Returns
        -------
        ndarray of int, shape (n, k)
            Feature indices (into :attr:`features`), flagged features first, then by largest
            shortfall; ties go to the feature listed first; ``-1`` where fewer than ``k`` features
            are flagged or lost points.

        Notes
        -----
        ``k`` passes of ``argmax`` over the shortfall matrix: ``argmax`` returns the first maximum,
        which gives the deterministic tie-break (unlike ``argpartition``) at ``O(k n p)`` cost.
        """
        pts = np.asarray(points, dtype="float64")
        p = len(self.features)
        if pts.ndim != 2 or pts.shape[1] != p:
            raise ModelError(f"points matrix must have shape (n, {p}), got {pts.shape}")
        if not isinstance(k, (int, np.integer)) or k < 1:
            raise ModelError(f"k must be a positive integer, got {k!r}")
        flags = None
        if flagged is not None:
            flags = np.asarray(flagged, dtype=bool)
            if flags.shape != pts.shape:
                raise ModelError(f"flagged must have the points' shape {pts.shape}, got {flags.shape}")
        n = pts.shape[0]
        out = np.full((n, int(k)), -1, dtype="int64")
        # in row blocks: the shortfall matrix of a block stays in cache (one of n rows would not)
        for start in range(0, n, _REASON_BLOCK):
            stop = min(start + _REASON_BLOCK, n)
            out[start:stop] = self._reasons_block(pts[start:stop], int(k),
                                                  None if flags is None else flags[start:stop])
        return out

    def _reasons_block(self, pts: np.ndarray, k: int, flags: np.ndarray | None) -> np.ndarray:
        # C order: argmax along rows reads contiguous memory (points from score_frame are F order)
        key = np.subtract(self._best[None, :], pts, order="C")  # type: ignore[attr-defined]
        if flags is not None:
            key += flags * self._flag_offset  # type: ignore[attr-defined]
        m = pts.shape[0]
        out = np.full((m, k), -1, dtype="int64")
        rows = np.arange(m)
        for r in range(min(k, pts.shape[1])):
            j = np.argmax(key, axis=1)
            best = key[rows, j]
            out[:, r] = np.where(best > 0, j, -1)
            key[rows, j] = -np.inf
        return out

    # -- single record --------------------------------------------------------------------------------
    def score_record(self, record: Mapping[str, Any]) -> tuple[float, list[float]]:
        """Score one record given as a dict: pure Python, no pandas, no numpy.

        Parameters
        ----------
        record : mapping of feature name to value
            An absent key, ``None``, NaN or ``pd.NA`` is a missing value.

        Returns
        -------
        score : float
        points : list of float
            Each feature's points, in :attr:`feature_names` order.

        Raises
        ------
        ModelError
            As :meth:`explain_frame` for one row.
        """
        total = self.base_points
        out: list[float] = []
        append = out.append
        get = record.get
        na = _NA
        try:
            for name, numeric, edges, pts, miss, specials, lo, hi, catmap, unseen in self._plan:  # type: ignore[attr-defined]
                v = get(name)
                if v is None or v is na or v != v:
                    x = miss
                elif numeric:
                    if specials is not None and v in specials:
                        x = specials[v]
                    else:
                        if (lo is not None and v < lo) or (hi is not None and v > hi):
                            raise ModelError(f"feature {name!r}: value {v!r} outside the valid range [{lo}, {hi}]")
                        x = pts[bisect_right(edges, v)]
                else:
                    x = catmap.get(v, unseen)
                    if x is None:
                        raise ModelError(f"feature {name!r}: category {v!r} was never seen")
                total += x
                append(x)
        except (TypeError, ValueError) as exc:
            raise ModelError(f"record value of the wrong type for feature {name!r}: {exc}") from exc
        return total, out

    def explain_record(self, record: Mapping[str, Any]) -> tuple[float, list[float], list[int]]:
        """Like :meth:`score_record`, plus each feature's bin code (pure Python, no pandas or numpy).

        Returns
        -------
        score : float
        points : list of float
        codes : list of int
            Bin codes (see the module docstring).
        """
        total = self.base_points
        pts_out: list[float] = []
        codes: list[int] = []
        add_p = pts_out.append
        add_c = codes.append
        get = record.get
        na = _NA
        try:
            for name, numeric, edges, pts, miss, specials, lo, hi, catmap, unseen in self._xplan:  # type: ignore[attr-defined]
                v = get(name)
                if v is None or v is na or v != v:
                    x, c = miss, MISSING
                elif numeric:
                    if specials is not None and v in specials:
                        x, c = specials[v]
                    else:
                        if (lo is not None and v < lo) or (hi is not None and v > hi):
                            raise ModelError(f"feature {name!r}: value {v!r} outside the valid range [{lo}, {hi}]")
                        c = bisect_right(edges, v)
                        x = pts[c]
                else:
                    hit = catmap.get(v)
                    if hit is None:
                        if unseen is None:
                            raise ModelError(f"feature {name!r}: category {v!r} was never seen")
                        x, c = unseen, UNSEEN
                    else:
                        x, c = hit
                total += x
                add_p(x)
                add_c(c)
        except (TypeError, ValueError) as exc:
            raise ModelError(f"record value of the wrong type for feature {name!r}: {exc}") from exc
        return total, pts_out, codes

    def _reason_plan(self, flag_missing: Sequence[bool]) -> tuple[tuple[Any, ...], ...]:
        """The record plan extended with each feature's index, best points and missing flag."""
        return tuple((*step, j, b, bool(fm)) for j, (step, b, fm) in enumerate(
            zip(self._xplan, self._best_list, flag_missing, strict=True)))  # type: ignore[attr-defined]

    def _record_reasons(self, record: Mapping[str, Any], k: int,
                        plan: tuple[tuple[Any, ...], ...]) -> tuple[float, list[tuple[int, int]], list[int]]:
        """Score one record and rank its reasons in a single pass (the scorers' fast path).

        ``plan`` comes from :meth:`_reason_plan`. Same points as :meth:`explain_record` and the same
        order as :meth:`reasons_record` with ``flagged`` = unseen, or missing where the plan's
        missing flag is set.

        Returns
        -------
        score : float
        reasons : list of (feature index, bin code), at most ``k``
        flagged : list of feature indices flagged (in feature order)
        """
        total = self.base_points
        cand = []
        flagged = []
        get = record.get
        na = _NA
        off = self._flag_offset  # type: ignore[attr-defined]
        try:
            for name, numeric, edges, pts, miss, specials, lo, hi, catmap, unseen, j, b, fm in plan:
                v = get(name)
                if v is None or v is na or v != v:
                    total += miss
                    if fm:
                        cand.append(((miss - b) - off, j, MISSING))
                        flagged.append(j)
                    elif b > miss:
                        cand.append((miss - b, j, MISSING))
                    continue
                if numeric:
                    if specials is not None and v in specials:
                        x, c = specials[v]
                    else:
                        if (lo is not None and v < lo) or (hi is not None and v > hi):
                            raise ModelError(f"feature {name!r}: value {v!r} outside the valid range [{lo}, {hi}]")
                        c = bisect_right(edges, v)
                        x = pts[c]
                else:
                    hit = catmap.get(v)
                    if hit is None:
                        if unseen is None:
                            raise ModelError(f"feature {name!r}: category {v!r} was never seen")
                        total += unseen
                        cand.append(((unseen - b) - off, j, UNSEEN))
                        flagged.append(j)
                        continue
                    x, c = hit
                total += x
                if b > x:
                    cand.append((x - b, j, c))
        except (TypeError, ValueError) as exc:
            raise ModelError(f"record value of the wrong type for feature {name!r}: {exc}") from exc
        cand.sort()
        return total, [(jj, cc) for _, jj, cc in cand[:k]], flagged

    def reasons_record(self, points: Sequence[float], k: int = 3,
                       flagged: Sequence[bool] | None = None) -> list[int]:
        """:meth:`reasons` for one record's points list (pure Python, same order and tie-break)."""
        best = self._best_list  # type: ignore[attr-defined]
        if flagged is None:
            cand = [(x - b, j) for j, (b, x) in enumerate(zip(best, points, strict=True)) if b > x]
        else:
            off = self._flag_offset  # type: ignore[attr-defined]
            cand = [((x - b) - off if f else x - b, j)
                    for j, (b, x, f) in enumerate(zip(best, points, flagged, strict=True)) if f or b > x]
        # ascending (minus shortfall, index): largest shortfall first, ties to the first feature;
        # (x - b) - off is exactly -((b - x) + off), the batch path's key
        cand.sort()
        out = [j for _, j in cand[:k]]
        return out + [-1] * (k - len(out))

    def pd_record(self, score: float) -> float:
        """Probability of default for one score (NaN without a PD map)."""
        return math.nan if self.score_to_pd is None else self.score_to_pd.pd_one(score)

    # -- persistence ------------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict; :meth:`from_dict` restores an equal scorecard exactly."""
        feats = []
        for f in self.features:
            d: dict[str, Any] = {"name": f.name, "kind": f.kind, "points": list(f.points),
                                 "missing_points": f.missing_points, "labels": list(f.labels),
                                 "missing_label": f.missing_label}
            if f.kind == "numeric":
                d["edges"] = list(f.edges)
                d["special_values"] = list(f.special_values)
                d["special_points"] = list(f.special_points)
                d["special_labels"] = list(f.special_labels)
                d["valid_range"] = None if f.valid_range is None else list(f.valid_range)
            else:
                d["categories"] = list(f.categories)
                d["unseen_policy"] = f.unseen_policy
                d["unseen_points"] = f.unseen_points
            feats.append(d)
        pd_map = None
        if self.score_to_pd is not None:
            m = self.score_to_pd
            pd_map = {"kind": m.kind, "offset": m.offset, "factor": m.factor, "edges": list(m.edges),
                      "pds": list(m.pds)}
        return {"format": _FORMAT, "format_version": _FORMAT_VERSION, "name": self.name,
                "version": self.version, "base_points": self.base_points, "score_to_pd": pd_map,
                "meta": dict(self.meta), "features": feats}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CompiledScorecard:
        """Rebuild a scorecard from :meth:`to_dict` output.

        Raises
        ------
        ModelError
            Not a compiled scorecard, an unknown format version, or invalid content.
        """
        if not isinstance(data, Mapping) or data.get("format") != _FORMAT:
            raise ModelError("not a compiled scorecard (missing 'format': "
                             f"{_FORMAT!r})")
        if data.get("format_version") != _FORMAT_VERSION:
            raise ModelError(f"compiled scorecard format version {data.get('format_version')!r} is not "
                             f"supported (expected {_FORMAT_VERSION})")
        try:
            feats = []
            for d in data["features"]:
                kw = dict(d)
                for key in ("points", "edges", "special_values", "special_points", "labels", "special_labels",
                            "categories"):
                    if key in kw:
                        kw[key] = tuple(kw[key])
                if kw.get("valid_range") is not None:
                    kw["valid_range"] = tuple(kw["valid_range"])
                feats.append(CompiledFeature(**kw))
            m = data.get("score_to_pd")
            pd_map = None if m is None else ScoreToPD(kind=m["kind"], offset=m["offset"], factor=m["factor"],
                                                      edges=tuple(m["edges"]), pds=tuple(m["pds"]))
            return cls(features=tuple(feats), base_points=data["base_points"], score_to_pd=pd_map,
                       name=data.get("name", ""), version=data.get("version", ""), meta=data.get("meta", {}))
        except (KeyError, TypeError) as exc:
            raise ModelError(f"compiled scorecard data is malformed: {exc!r}") from exc


def _compile_plan(feats: tuple[CompiledFeature, ...]) -> tuple[tuple[Any, ...], ...]:
    """Per feature, the plain-Python tuple the record fast path unpacks (lists and dicts of floats)."""
    plan = []
    for f in feats:
        if f.kind == "numeric":
            lo, hi = f.valid_range if f.valid_range is not None else (None, None)
            if lo is None and not f.edges:
                lo = -math.inf  # forces one comparison, so a non-number is refused even without edges
            specials = dict(zip(f.special_values, f.special_points, strict=False)) or None
            plan.append((f.name, True, list(f.edges), list(f.points), f.missing_points, specials, lo, hi,
                         None, None))
        else:
            catmap = dict(zip(f.categories, f.points, strict=False))
            unseen = (f.missing_points if f.unseen_policy == "missing"
                      else f.unseen_points if f.unseen_policy == "points" else None)
            plan.append((f.name, False, None, None, f.missing_points, None, None, None, catmap, unseen))
    return tuple(plan)


def _explain_plan(feats: tuple[CompiledFeature, ...], plan: tuple[tuple[Any, ...], ...]) -> tuple[tuple[Any, ...], ...]:
    """The record plan with (points, bin code) pairs for special values and categories."""
    out = []
    for f, step in zip(feats, plan, strict=True):
        name, numeric, edges, pts, miss, specials, lo, hi, catmap, unseen = step
        if numeric:
            sp = {v: (p, SPECIAL_BASE - j) for j, (v, p) in enumerate(zip(f.special_values, f.special_points,
                                                                          strict=True))} or None
            out.append((name, True, edges, pts, miss, sp, lo, hi, None, None))
        else:
            cm = {c: (p, j) for j, (c, p) in enumerate(zip(f.categories, f.points, strict=True))}
            out.append((name, False, None, None, miss, None, None, None, cm, unseen))
    return tuple(out)
