"""The statistical WOE scorecard (统计评分卡): binning, feature selection, logistic regression, points.

When a bank has repayment outcomes it fits the industry-standard scorecard:

1. **binning**: every candidate feature is binned by a
   :class:`~ruralcredit.models.binning.BinningProcess` (monotone optimal bins, own bins for missing
   and special values) and encoded as WOE;
2. **selection**: features with information value below ``min_iv`` are dropped; then, in order of
   decreasing IV, a feature whose WOE correlates with an already kept one above ``max_correlation``
   (absolute Pearson) is dropped; optionally (``stepwise="forward"``) features are then added one at
   a time while the BIC improves;
3. **logistic regression** of the event (``y == 1``, default) on the WOE columns (scikit-learn's
   objective; with ``solver="auto"`` solved by Newton's method on the bin codes, see
   :class:`_WoeDesign`, else by ``LogisticRegression`` itself). With the sign
   convention ``WOE = ln(non-event share / event share)`` every coefficient should be negative;
   with ``sign_check=True`` (default) the feature with the largest non-negative coefficient is
   dropped and the model refitted until all are negative;
4. **points**: with ``factor = pdo / ln 2`` and ``offset = base_score - factor * ln(base_odds)``
   (odds are good:bad), the score is ``offset + factor * ln(odds)``. Bin ``b`` of feature ``j``
   gets ``round(-factor * coef_j * woe_jb)`` points and the intercept gives
   ``round(offset - factor * intercept)`` base points, all integers (rounded half away from zero).
   The reported score is **exactly** the base points plus the points of the record's bins, and the
   PD is read back from that integer score through the same mapping,
   ``pd = 1 / (1 + exp((score - offset) / factor))``, so ``predict_proba`` always agrees with the
   score (it differs from the unrounded logistic probability by the rounding only).

Scoring goes through the shared compiled scorer (:attr:`Scorecard.compiled_`, a
:class:`~ruralcredit.models.compiled.CompiledScorecard`): one ``searchsorted`` or category lookup
per feature in batch, ``bisect`` on a plain dict for one record.

Reasons (原因码) are the three features whose points fall furthest short of that feature's best
points, largest shortfall first (ties: the feature listed first); a feature at its best is never a
reason, and a subject with fewer reasons gets ``""`` for the rest. The reason code is the template
indicator's code when a template is given (texts: the indicator's Chinese and English names), else
the feature name (texts: the feature catalogue's names, :data:`ruralcredit.catalog.FEATURES`,
when the feature is in it, else the feature name), so a code always has both texts.

Grades (等级): from the grade scale (``grade_scale``; default the template's own scale when
``template`` is an indicator template, else the built-in ``kunming-100`` grade-scale pack in force
on the day of fit), kept as :attr:`Scorecard.grade_scale_`. As for the GBM scorer the score is
clipped to ``0 .. grade_scale_.max_score`` for grading only; the reported score stays the integer
sum of points. The default scaling (600 points at 50:1 good:bad odds, 20 to double the odds) is not
the 100-point rating scale: fitted with it and a defaulted 100-point scale, nearly every subject
would grade AAA, so :meth:`Scorecard.fit` warns; put the scorecard on the grade scale's points
(``pdo=10, base_score=60, base_odds=19`` puts the 100-point thresholds at PD about 9.5 %, 5 %,
2.6 % and 1.3 %, as for the GBM scorer) or pass a score-band scale for its points. An explicit
``grade_scale`` that ``base_score`` does not lie on is refused.

The score frame is the shared one of every scorer (:mod:`ruralcredit.models.protocol`)::

    subject_id, score, pd, grade, reason_1..3, reason_1_zh..reason_3_zh, reason_1_en..reason_3_en,
    scorer_id, scorer_version

and :meth:`Scorecard.score_record` returns the same keys and values for one subject (pure Python).

Vetoes (一票否决): given an indicator template, the scorecard applies the template's vetoes as the
expert scorecard does (:mod:`ruralcredit.models._vetoes`): every veto column (``blacklisted``,
``bad_credit_5y``, ...) must be in a scored frame or record (else :class:`ModelError`) and is never a
model input (left out at fit); a vetoed subject gets the scale's veto grade, its vetoes as its first
reasons, and the frame an extra ``vetoes`` column (after ``grade``) listing their codes. Score and PD
are unchanged.
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import expit
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data
from threadpoolctl import threadpool_limits

from ruralcredit.errors import InputError, ModelError
from ruralcredit.models._vetoes import VetoPlan, template_vetoes, vetoes_from_json, vetoes_to_json
from ruralcredit.models.binning import (
    BinningProcess,
    OptimalBinning,
    _as_frame,
    _binary_target,
    _factorize,
    _jsonable,
)
from ruralcredit.models.compiled import CompiledFeature, CompiledScorecard, ScoreToPD
from ruralcredit.models.protected import check_no_protected

__all__ = ["Scorecard"]

_REASONS = 3
_STEPWISE = (None, "forward")
_PENALTIES = ("l2", "l1", None)
_BASE_MODES = ("separate", "distributed")
_FORMAT = "ruralcredit.statistical_scorecard"
_FORMAT_VERSION = 3
#: Versions :meth:`Scorecard.from_dict` reads (1: before the grade scale and reason texts were kept;
#: 2: before the template's vetoes were kept).
_READABLE_VERSIONS = (1, 2, 3)
#: The grade-scale pack graded against when neither ``grade_scale`` nor a template gives one.
_DEFAULT_GRADE_SCALE = "kunming-100"


def _library_version() -> str:
    import ruralcredit  # at call time: the package's __init__ may import models

    return str(ruralcredit.__version__)


def _round_half_away(x: np.ndarray | float) -> np.ndarray:
    a = np.asarray(x, dtype=np.float64)
    return np.sign(a) * np.floor(np.abs(a) + 0.5)


def _make_logreg(C: float, penalty: str | None, solver: str, max_iter: int) -> LogisticRegression:
    """A LogisticRegression for the penalty, across scikit-learn versions (``penalty`` is deprecated
    from 1.8 in favour of ``l1_ratio`` and ``C=inf``)."""
    if solver == "auto":
        solver = "liblinear" if penalty == "l1" else "newton-cholesky"
    modern = "l1_ratio" in LogisticRegression().get_params() and \
        LogisticRegression().get_params().get("penalty") == "deprecated"
    if modern:
        if penalty is None:
            return LogisticRegression(C=np.inf, solver=solver, max_iter=max_iter)
        return LogisticRegression(C=C, l1_ratio=1.0 if penalty == "l1" else 0.0, solver=solver,
                                  max_iter=max_iter)
    return LogisticRegression(C=C, penalty=penalty, solver=solver, max_iter=max_iter)  # pragma: no cover


def _catalogue_texts(feature: str) -> tuple[str, str]:
    """(Chinese, English) name of a feature: the catalogue's, else the feature name itself."""
    from ruralcredit.catalog import FEATURES  # layer 1: the declared features and their names

    spec = FEATURES.get(feature)
    if spec is None:
        return feature, feature
    # the catalogue's English descriptions carry definitions after ";": a reason keeps the name
    return spec.description_zh or feature, spec.description_en.split(";")[0].strip() or feature


def _reason_texts(template: Any) -> dict[str, tuple[str, str, str]]:
    """feature -> (reason code, Chinese text, English text) given by a template or a mapping.

    Features absent here get :func:`_reason_entry`'s defaults (the name and catalogue texts).
    """
    if template is None:
        return {}
    out: dict[str, tuple[str, str, str]] = {}
    if isinstance(template, Mapping):
        for feat, v in template.items():
            if isinstance(v, str) or len(v) != 3:
                raise InputError(f"reason texts for {feat!r} must be (code, zh, en)", argument="template")
            if not isinstance(v[0], str) or not v[0]:
                raise InputError(f"reason code for {feat!r} must be non-empty text", argument="template")
            out[str(feat)] = (str(v[0]), str(v[1] or ""), str(v[2] or ""))
        return out
    indicators = getattr(template, "indicators", None)
    if indicators is None:
        raise InputError("expected an indicator Template or a mapping feature -> (code, zh, en)",
                         argument="template")
    for ind in indicators:
        out.setdefault(ind.feature, (ind.code, ind.name_zh, ind.name_en))
    return out


def _reason_entry(feature: str, given: tuple[str, str, str] | None) -> tuple[str, str, str]:
    """A feature's reason (code, zh, en) with no empty part: the given code and texts, an empty text
    filled from the catalogue (or the feature name)."""
    zh, en = _catalogue_texts(feature)
    if given is None:
        return feature, zh, en
    code, gzh, gen = given
    return code or feature, gzh or zh, gen or en


def _positive_weights(w: np.ndarray | None, n: int) -> np.ndarray | None:
    if w is None:
        return None
    if len(w) != n or not np.all(np.isfinite(w)) or (w < 0).any():
        raise InputError("sample_weight must be finite, >= 0 and one per row", argument="sample_weight")
    return w


class _WoeDesign:
    """The WOE design matrix of the training rows, held as bin codes.

    Each feature is a vector of small integer bin codes plus its table of WOE values, so the
    ``n x p`` float matrix is never held whole: passes over the data build it ``_CHUNK`` rows at a
    time (with a trailing column of ones for the intercept). At a million rows by 30 features
    that is about 30 MB of codes instead of 240 MB of floats plus the solver's copies.
    """

    _CHUNK = 65_536

    def __init__(self, codes: list[np.ndarray], tables: list[np.ndarray], y: np.ndarray,
                 w: np.ndarray | None) -> None:
        self.codes = codes
        self.tables = tables
        self.y = y
        self.w = w
        self.n = len(y)
        self.total_weight = float(w.sum()) if w is not None else float(self.n)

    def chunks(self, cols: Sequence[int]) -> Iterator[tuple[int, int, np.ndarray]]:
        """Yield ``(start, stop, block)``: the WOE of ``cols`` and a ones column, for a run of rows."""
        k = len(cols)
        # column-major, so that each feature's take() writes one contiguous run
        buf = np.empty((min(self._CHUNK, self.n), k + 1), dtype=np.float64, order="F")
        for r0 in range(0, self.n, self._CHUNK):
            r1 = min(r0 + self._CHUNK, self.n)
            block = buf[: r1 - r0]
            for i, j in enumerate(cols):
                np.take(self.tables[j], self.codes[j][r0:r1], out=block[:, i])
            block[:, k] = 1.0
            yield r0, r1, block

    def dense(self, cols: Sequence[int]) -> np.ndarray:
        """The whole WOE matrix of ``cols`` (for scikit-learn's solvers)."""
        out = np.empty((self.n, len(cols)), dtype=np.float64)
        for i, j in enumerate(cols):
            np.take(self.tables[j], self.codes[j], out=out[:, i])
        return out

    def correlation(self, cols: Sequence[int]) -> np.ndarray:
        """Weighted Pearson correlation of the WOE columns (0 where a column is constant)."""
        k = len(cols)
        gram = np.zeros((k + 1, k + 1))
        for r0, r1, block in self.chunks(cols):
            if self.w is None:
                gram += block.T @ block
            else:
                scaled = block * np.sqrt(self.w[r0:r1])[:, None]
                gram += scaled.T @ scaled
        mean = gram[:k, k] / self.total_weight
        cov = gram[:k, :k] / self.total_weight - np.outer(mean, mean)
        sd = np.sqrt(np.clip(np.diag(cov), 0.0, None))
        with np.errstate(invalid="ignore", divide="ignore"):
            corr = cov / np.outer(sd, sd)
        return np.nan_to_num(corr, nan=0.0)

    def _evaluate(self, cols: Sequence[int], theta: np.ndarray, penalty: np.ndarray
                  ) -> tuple[float, np.ndarray, np.ndarray, float]:
        """Objective, gradient, Hessian and log-likelihood at ``theta`` (one pass over the rows)."""
        k1 = len(cols) + 1
        loss = 0.0
        grad = np.zeros(k1)
        hess = np.zeros((k1, k1))
        for r0, r1, block in self.chunks(cols):
            z = block @ theta
            p = expit(z)
            yc = self.y[r0:r1]
            terms = np.logaddexp(0.0, z) - yc * z
            resid = p - yc
            curv = p * (1.0 - p)
            if self.w is not None:
                wc = self.w[r0:r1]
                terms *= wc
                resid *= wc
                curv *= wc
            loss += float(terms.sum())
            grad += resid @ block
            scaled = block * np.sqrt(curv)[:, None]
            hess += scaled.T @ scaled  # X' diag(h) X as one symmetric rank-k update
        objective = loss + 0.5 * float(penalty @ (theta * theta))
        grad += penalty * theta
        hess[np.diag_indices(k1)] += penalty
        return objective, grad, hess, -loss

    def newton(self, cols: Sequence[int], C: float, penalised: bool, max_iter: int, tol: float = 1e-9
               ) -> tuple[np.ndarray, float, float, int]:
        """Penalised logistic regression by Newton's method with a backtracking line search.

        Minimises ``sum_i w_i * logloss_i + ||coef||^2 / (2 C)`` (the intercept is not penalised):
        the objective of scikit-learn's ``LogisticRegression`` divided by ``C``, so the same
        solution. Stops when the largest gradient entry is below ``tol`` times the total weight.

        Returns
        -------
        coef, intercept, log_likelihood, n_iter
        """
        k = len(cols)
        penalty = np.zeros(k + 1)
        if penalised:
            penalty[:k] = 1.0 / C
        ybar = float(np.average(self.y, weights=self.w))
        theta = np.zeros(k + 1)
        theta[k] = math.log(ybar / (1.0 - ybar))
        obj, grad, hess, ll = self._evaluate(cols, theta, penalty)
        n_iter = 0
        converged = False
        while n_iter < max_iter:
            if np.max(np.abs(grad)) <= tol * self.total_weight:
                converged = True
                break
            try:
                step = -np.linalg.solve(hess, grad)
            except np.linalg.LinAlgError:
                step = -np.linalg.lstsq(hess, grad, rcond=None)[0]
            slope = float(grad @ step)
            t = 1.0
            while True:
                cand = theta + t * step
                c_obj, c_grad, c_hess, c_ll = self._evaluate(cols, cand, penalty)
                if c_obj <= obj + 1e-4 * t * slope or t < 1e-8:
                    break
                t *= 0.5
            if t < 1e-8 and c_obj > obj:  # no descent left: at the optimum up to rounding
                converged = True
                break
            theta, obj, grad, hess, ll = cand, c_obj, c_grad, c_hess, c_ll
            n_iter += 1
        if not converged and np.max(np.abs(grad)) > tol * self.total_weight:
            warnings.warn(f"logistic regression did not converge in {max_iter} Newton iterations "
                          "(separable data? raise max_iter or use a penalty)", ConvergenceWarning, stacklevel=3)
        return theta[:k].copy(), float(theta[k]), ll, n_iter


class Scorecard(ClassifierMixin, BaseEstimator):
    """Statistical WOE scorecard with integer points, PD and reason codes (scikit-learn classifier).

    Parameters
    ----------
    binning : BinningProcess, optional
        Binning options (cloned at fit; default ``BinningProcess()``). Tune nested options with
        ``binning__max_bins`` etc. in a grid search.
    min_iv : float
        Features with a smaller information value are not used.
    max_correlation : float
        Of two features whose WOE correlates more than this (absolute), the one with the lower IV
        is dropped. ``1.0`` keeps all.
    stepwise : {None, "forward"}
        Forward selection by BIC after the IV and correlation filters.
    max_features : int, optional
        At most this many features (by IV, or in stepwise order).
    C : float
        Inverse regularisation strength of the logistic regression.
    penalty : {"l2", "l1", None}
    solver : str
        LogisticRegression solver, ``"auto"``: ``newton-cholesky`` (``liblinear`` for ``l1``).
    max_iter : int
    sign_check : bool
        Drop features with non-negative coefficients (see the module docstring).
    pdo : float
        Points to double the odds (default 20).
    base_score : float
        Score at ``base_odds`` (default 600).
    base_odds : float
        Good:bad odds at ``base_score`` (default 50).
    base_points : {"separate", "distributed"}
        Keep the intercept's points as base points, or spread them (as integers) over the features'
        bins so that the score is the plain sum of feature points.
    id_column : str
        Column holding the subject id; excluded from the features; the frame's index is used when
        it is absent.
    template : Template or mapping, optional
        Indicator template (or ``feature -> (code, zh, en)``) giving reason codes and texts. An
        indicator template also brings its vetoes (see the module docstring); a mapping none.
    grade_scale : GradeScale or GradeScalePack, optional
        Score bands for grades on this scorecard's points (``base_score`` must lie on it). Default:
        the template's own scale when ``template`` is an indicator template, else the built-in
        ``kunming-100`` grade-scale pack in force on the day of fit (see the module docstring). A
        pack id needs a date: choose the version with
        :func:`ruralcredit.rating.load_grade_scale` and pass the scale.
    name : str
        Scorer id recorded in the score frame and the compiled scorecard.

    Attributes
    ----------
    classes_ : ndarray
        The two labels; ``classes_[1]`` is the event (1 in 0/1 coding, True for booleans).
    binning_ : BinningProcess
        The fitted binning of every candidate feature.
    selection_ : DataFrame
        Per candidate feature: ``iv``, ``selected``, ``reason`` and ``coefficient``.
    features_ : list of str
        The features in the model, in scoring order.
    coef_ : ndarray of shape (1, n_features)
        Logistic coefficients on the WOE columns.
    intercept_ : ndarray of shape (1,)
    factor_, offset_ : float
        The points scaling.
    base_points_ : int
        Base points (0 when distributed).
    points_ : dict of str to ndarray
        Integer points per bin of each feature (the binning table's row order).
    compiled_ : CompiledScorecard
        The compiled scorer every batch and record score goes through.
    grade_scale_ : GradeScale
        The grade scale the grades come from (``grade_scale``, or the default it resolved to).
    feature_names_in_ : ndarray of str
        The feature columns seen at fit (when they all have text names; the id and veto columns
        aside); :meth:`score` needs these columns of a frame and ignores any others.
    vetoes_ : tuple of Veto or None
        The template's vetoes (``None`` without an indicator template).
    input_columns_ : list of str
        With an indicator template: ``feature_names_in_`` then the veto columns (what
        :func:`~ruralcredit.models.protocol.required_features` reports).
    """

    def __init__(
        self,
        binning: BinningProcess | None = None,
        min_iv: float = 0.02,
        max_correlation: float = 0.7,
        stepwise: str | None = None,
        max_features: int | None = None,
        C: float = 1.0,
        penalty: str | None = "l2",
        solver: str = "auto",
        max_iter: int = 200,
        sign_check: bool = True,
        pdo: float = 20.0,
        base_score: float = 600.0,
        base_odds: float = 50.0,
        base_points: str = "separate",
        id_column: str = "subject_id",
        template: Any = None,
        grade_scale: Any = None,
        name: str = "statistical_scorecard",
    ) -> None:
        self.binning = binning
        self.min_iv = min_iv
        self.max_correlation = max_correlation
        self.stepwise = stepwise
        self.max_features = max_features
        self.C = C
        self.penalty = penalty
        self.solver = solver
        self.max_iter = max_iter
        self.sign_check = sign_check
        self.pdo = pdo
        self.base_score = base_score
        self.base_odds = base_odds
        self.base_points = base_points
        self.id_column = id_column
        self.template = template
        self.grade_scale = grade_scale
        self.name = name

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False
        tags.input_tags.allow_nan = True
        tags.input_tags.string = True
        tags.input_tags.categorical = True
        return tags

    # ---------------------------------------------------------------- parameters
    def _check_params(self) -> None:
        def positive(arg: str) -> None:
            v = getattr(self, arg)
            if not isinstance(v, numbers.Real) or not math.isfinite(v) or v <= 0:
                raise InputError("must be a finite number > 0", argument=arg, value=v)

        for arg in ("C", "pdo", "base_odds"):
            positive(arg)
        if not isinstance(self.base_score, numbers.Real) or not math.isfinite(self.base_score):
            raise InputError("must be a finite number", argument="base_score", value=self.base_score)
        if not (isinstance(self.min_iv, numbers.Real) and self.min_iv >= 0):
            raise InputError("must be >= 0", argument="min_iv", value=self.min_iv)
        if not (isinstance(self.max_correlation, numbers.Real) and 0 < self.max_correlation <= 1):
            raise InputError("must be in (0, 1]", argument="max_correlation", value=self.max_correlation)
        if self.stepwise not in _STEPWISE:
            raise InputError(f"expected one of {_STEPWISE}", argument="stepwise", value=self.stepwise)
        if self.penalty not in _PENALTIES:
            raise InputError(f"expected one of {_PENALTIES}", argument="penalty", value=self.penalty)
        if self.base_points not in _BASE_MODES:
            raise InputError(f"expected one of {_BASE_MODES}", argument="base_points", value=self.base_points)
        if self.max_features is not None and not (isinstance(self.max_features, numbers.Integral)
                                                  and self.max_features >= 1):
            raise InputError("must be an integer >= 1 or None", argument="max_features", value=self.max_features)
        if self.binning is not None and not isinstance(self.binning, BinningProcess):
            raise InputError("must be a BinningProcess", argument="binning", value=type(self.binning).__name__)
        from ruralcredit.templates import GradeScale, GradeScalePack

        if self.grade_scale is not None and not isinstance(self.grade_scale, (GradeScale, GradeScalePack)):
            raise InputError("must be a GradeScale or a GradeScalePack (for a pack id, choose the version with "
                             "ruralcredit.rating.load_grade_scale(id, as_of))", argument="grade_scale",
                             value=type(self.grade_scale).__name__)

    def _resolve_grade_scale(self) -> Any:
        """The grade scale: ``grade_scale``, else the template's, else the built-in pack on the day of fit.

        An explicit scale that ``base_score`` does not lie on is refused (as the GBM scorer does); a
        defaulted one only warns, since the default 600-point scaling never lies on the 100-point
        scale and grades are then meaningless (nearly all clipped to the top grade).
        """
        from ruralcredit.templates import GradeScale, GradeScalePack

        gs = self.grade_scale
        if isinstance(gs, GradeScalePack):
            gs = gs.payload
        if isinstance(gs, GradeScale):
            if not 0 <= self.base_score <= gs.max_score:
                raise InputError(f"must lie within the grade scale 0..{gs.max_score:g} (or pass a grade scale "
                                 "for this scorecard's points)", argument="base_score", value=self.base_score)
            return gs
        scale = getattr(self.template, "grade_scale", None)
        if isinstance(scale, GradeScale):
            where = "the template's grade scale"
        else:
            from ruralcredit.packs import load_pack

            scale = load_pack(_DEFAULT_GRADE_SCALE, GradeScalePack, pd.Timestamp.today().normalize()).payload
            where = f"the built-in {_DEFAULT_GRADE_SCALE!r} grade scale"
        if not 0 <= self.base_score <= scale.max_score:
            warnings.warn(f"Scorecard: base_score={self.base_score:g} is off {where} (0..{scale.max_score:g}): "
                          f"scores are clipped to 0..{scale.max_score:g} for grading, so grades say little; "
                          "scale the scorecard to it (e.g. pdo=10, base_score=60, base_odds=19 for 100 points) "
                          "or pass a grade_scale for its points", UserWarning, stacklevel=3)
        return scale

    # ---------------------------------------------------------------- input
    def _veto_columns(self) -> list[str]:
        """The template's veto columns (fitted: the kept vetoes; before fit: the template's)."""
        vetoes = self.__dict__["vetoes_"] if "vetoes_" in self.__dict__ else template_vetoes(self.template)
        return [v.feature for v in vetoes or ()]

    def _feature_frame(self, X: Any, *, reset: bool) -> pd.DataFrame:
        """The features of ``X`` (without the id column and the template's veto columns, which are
        never model inputs) as a frame with text column names."""
        if isinstance(X, pd.DataFrame):
            drop = [c for c in (self.id_column, *self._veto_columns()) if c in X.columns]
            if drop:
                X = X.drop(columns=drop)
        frame = _as_frame(X)
        validate_data(self, X, reset=reset, skip_check_array=True)
        return frame

    def _labels(self, y: Any, n: int) -> np.ndarray:
        if y is None:
            raise InputError("Scorecard requires y to be passed, but the target y is None", argument="y")
        ys = np.asarray(y)
        if ys.ndim == 2 and ys.shape[1] == 1:
            ys = column_or_1d(ys, warn=True)
        if ys.ndim != 1 or len(ys) != n:
            raise InputError(f"y must be one-dimensional with {n} values, got shape {ys.shape}", argument="y")
        if pd.isna(ys).any():
            raise InputError("y has missing values", argument="y")
        return _binary_target(self, ys)

    # ---------------------------------------------------------------- fitting
    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> Scorecard:
        """Bin, select, regress and scale.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n, p)
            Candidate features (an ``id_column`` is ignored). Protected attributes are refused.
        y : array-like of shape (n,)
            Binary target; the event (default) is ``1`` / ``True`` (the larger label).
        sample_weight : array-like of shape (n,), optional

        Returns
        -------
        Scorecard
            ``self``, fitted.

        Raises
        ------
        InputError
            Bad parameters, targets or weights.
        ModelError
            A protected attribute among the features, or no feature left after selection.
        """
        self._check_params()
        grade_scale = self._resolve_grade_scale()
        self.__dict__.pop("vetoes_", None)  # a refit reads the template's vetoes afresh
        vetoes = template_vetoes(self.template)
        frame = self._feature_frame(X, reset=True)
        check_no_protected(list(frame.columns), "Scorecard.fit")
        yv = self._labels(y, len(frame))
        w = None if sample_weight is None else np.asarray(sample_weight, dtype=np.float64).reshape(-1)
        binning = clone(self.binning) if self.binning is not None else BinningProcess()
        if binning.variables is not None:
            excluded = {self.id_column, *(v.feature for v in vetoes or ())}
            binning.set_params(variables=[v for v in binning.variables if v not in excluded])
        self.binning_ = binning.fit(frame, yv, sample_weight=w)

        ivs = self.binning_.iv_
        order = sorted(ivs.index, key=lambda c: (-ivs[c], list(ivs.index).index(c)))
        reason = {c: "" for c in ivs.index}
        cands = [c for c in order if ivs[c] >= self.min_iv]
        for c in order:
            if ivs[c] < self.min_iv:
                reason[c] = f"iv {ivs[c]:.4f} below min_iv {self.min_iv:g}"
        if not cands:
            raise ModelError(f"no feature has information value >= min_iv={self.min_iv:g} "
                             f"(best: {order[0]!r} with {ivs[order[0]]:.4f})")
        codes, tables = [], []
        for c in cands:
            ob = self.binning_.binnings_[c]
            idx = ob.bin_index(frame[c])
            codes.append(idx.astype(np.uint8 if ob.n_bins_ <= 255 else np.int32))
            tables.append(ob.woe_)
        w = _positive_weights(w, len(frame))
        woe = _WoeDesign(codes, tables, yv, w)

        kept = self._correlation_filter(woe, cands, reason)
        if self.stepwise == "forward":
            kept = self._forward(woe, cands, kept, reason)
        elif self.max_features is not None and len(kept) > self.max_features:
            for j in kept[self.max_features:]:
                reason[cands[j]] = f"beyond max_features={self.max_features}"
            kept = kept[: self.max_features]

        coef, intercept, kept = self._fit_logistic(woe, kept, cands, reason)
        del woe, codes
        self.features_ = [cands[j] for j in kept]
        self.coef_ = coef.reshape(1, -1)
        self.intercept_ = np.asarray([intercept])
        for c in self.features_:
            reason[c] = "selected"
        coefs = dict(zip(self.features_, coef, strict=True))
        self.selection_ = pd.DataFrame({
            "feature": list(ivs.index),
            "iv": ivs.to_numpy(),
            "selected": [c in coefs for c in ivs.index],
            "reason": [reason[c] for c in ivs.index],
            "coefficient": [coefs.get(c, np.nan) for c in ivs.index],
        })
        self.grade_scale_ = grade_scale
        self.vetoes_ = vetoes
        self._scale()
        return self

    def _correlation_filter(self, woe: _WoeDesign, cands: list[str], reason: dict[str, str]) -> list[int]:
        if self.max_correlation >= 1.0 or len(cands) == 1:
            return list(range(len(cands)))
        with threadpool_limits(limits=1, user_api="blas"):
            corr = woe.correlation(list(range(len(cands))))
        kept: list[int] = []
        for j in range(len(cands)):
            worst = max(kept, key=lambda k: abs(corr[j, k]), default=None)
            if worst is not None and abs(corr[j, worst]) > self.max_correlation:
                reason[cands[j]] = f"correlation {corr[j, worst]:+.2f} with {cands[worst]!r}"
                continue
            kept.append(j)
        return kept

    def _logit(self, woe: _WoeDesign, cols: list[int]) -> tuple[np.ndarray, float, float]:
        """Coefficients, intercept and log-likelihood of the regression on ``cols``.

        ``solver="auto"`` with an L2 penalty or none: :meth:`_WoeDesign.newton` (chunked Newton on
        the bin codes, scikit-learn's objective); otherwise scikit-learn's ``LogisticRegression``.
        """
        if self.solver == "auto" and self.penalty != "l1":
            # the per-chunk products are small: one BLAS thread avoids threads spinning on them
            with threadpool_limits(limits=1, user_api="blas"):
                coef, intercept, ll, n_iter = woe.newton(cols, float(self.C), self.penalty is not None,
                                                         int(self.max_iter))
            self.n_iter_ = np.asarray([n_iter])
            return coef, intercept, ll
        lr = _make_logreg(float(self.C), self.penalty, self.solver, int(self.max_iter))
        Xs = woe.dense(cols)
        lr.fit(Xs, woe.y, sample_weight=woe.w)
        self.n_iter_ = np.atleast_1d(lr.n_iter_).copy()
        z = Xs @ lr.coef_[0] + lr.intercept_[0]
        ll_terms = -(np.logaddexp(0.0, z) - woe.y * z)
        ll = float(ll_terms @ woe.w if woe.w is not None else ll_terms.sum())
        return lr.coef_[0].copy(), float(lr.intercept_[0]), ll

    def _forward(self, woe: _WoeDesign, cands: list[str], pool: list[int], reason: dict[str, str]) -> list[int]:
        n_eff = woe.total_weight
        p1 = float(np.average(woe.y, weights=woe.w))
        ll0 = n_eff * (p1 * math.log(p1) + (1 - p1) * math.log(1 - p1))
        best_bic = -2 * ll0 + math.log(n_eff)
        chosen: list[int] = []
        limit = self.max_features or len(pool)
        while len(chosen) < limit:
            trial = None
            for j in pool:
                if j in chosen:
                    continue
                _, _, ll = self._logit(woe, [*chosen, j])
                bic = -2 * ll + (len(chosen) + 2) * math.log(n_eff)
                if bic < best_bic - 1e-9 and (trial is None or bic < trial[0]):
                    trial = (bic, j)
            if trial is None:
                break
            best_bic = trial[0]
            chosen.append(trial[1])
        for j in pool:
            if j not in chosen:
                reason[cands[j]] = "not chosen by forward stepwise (BIC)"
        if not chosen:
            raise ModelError("forward stepwise selection chose no feature (none improves the BIC)")
        return chosen

    def _fit_logistic(self, woe: _WoeDesign, kept: list[int], cands: list[str], reason: dict[str, str]
                      ) -> tuple[np.ndarray, float, list[int]]:
        kept = list(kept)
        while True:
            coef, intercept, _ = self._logit(woe, kept)
            if not self.sign_check:
                return coef, intercept, kept
            bad = int(np.argmax(coef))
            if coef[bad] < 0:
                return coef, intercept, kept
            reason[cands[kept[bad]]] = (f"coefficient {coef[bad]:+.4f} not negative "
                                        "(WOE sign convention; sign_check=True)")
            del kept[bad]
            if not kept:
                raise ModelError("no feature keeps a negative coefficient (sign_check=True); "
                                 "check the target coding (1 = event) or set sign_check=False")

    def _scale(self) -> None:
        self.factor_ = float(self.pdo) / math.log(2.0)
        self.offset_ = float(self.base_score) - self.factor_ * math.log(float(self.base_odds))
        base = int(_round_half_away(self.offset_ - self.factor_ * self.intercept_[0]))
        pts = {c: _round_half_away(-self.factor_ * self.coef_[0, j] * self.binning_.binnings_[c].woe_)
               for j, c in enumerate(self.features_)}
        if self.base_points == "distributed":
            p = len(self.features_)
            share, extra = divmod(base, p)
            for j, c in enumerate(self.features_):
                pts[c] = pts[c] + share + (1 if j < extra else 0)
            base = 0
        self.base_points_ = base
        self.points_ = {c: v.astype(np.int64) for c, v in pts.items()}
        texts = _reason_texts(self.template)
        self._reason_info = [_reason_entry(c, texts.get(c)) for c in self.features_]
        self.compiled_ = CompiledScorecard(
            features=tuple(self._compile_feature(c) for c in self.features_),
            base_points=float(self.base_points_),
            score_to_pd=ScoreToPD(kind="logistic", offset=self.offset_, factor=self.factor_),
            name=self.name,
            version=_library_version(),
            meta={"kind": "statistical", "pdo": float(self.pdo), "base_score": float(self.base_score),
                  "base_odds": float(self.base_odds), "reason_codes": [r[0] for r in self._reason_info]},
        )
        self._prepare()

    def _prepare(self) -> None:
        """Lookups of the record path (also rebuilt by :meth:`from_dict`): plain lists, no pandas."""
        self._best_list = [float(self.points_[c].max()) for c in self.features_]
        # index -1 (no reason) reads the last entry: empty code and texts
        self._reason_table = [*self._reason_info, ("", "", "")]
        scale = self.grade_scale_
        self._grade_max = float(scale.max_score)
        self._veto_grade = scale.veto_grade
        self._grade_plan = [(-math.inf if g.min_score is None else float(g.min_score), g.grade)
                            for g in scale.grades]
        self._constant_out = {"scorer_id": str(self.name), "scorer_version": _library_version()}
        # the template's vetoes: their reason texts follow the features' (before the empty entry)
        vetoes = self.vetoes_
        self._veto_plan = None if vetoes is None else VetoPlan(vetoes, f"Scorecard {self.name!r} (its template)")
        self.__dict__.pop("input_columns_", None)  # set again below when there are vetoes
        if self._veto_plan is not None:
            p = len(self._reason_info)
            self._reason_table[p:p] = self._veto_plan.texts
            self._veto_plan.place_texts(p)
            names = getattr(self, "feature_names_in_", None)
            if names is not None:
                self.input_columns_ = [*(str(c) for c in names), *self._veto_plan.features]

    def _compile_feature(self, c: str) -> CompiledFeature:
        ob: OptimalBinning = self.binning_.binnings_[c]
        pts = [float(v) for v in self.points_[c]]
        labels = ob.bin_labels()
        n_spec = len(ob.special_labels_)
        n_reg = ob.n_bins_ - 1 - n_spec
        missing = pts[ob.missing_index_]
        if ob.dtype_ == "numerical":
            svals, spts, slabels = [], [], []
            for b, vals in enumerate(ob.special_values_):
                for v in vals:
                    svals.append(float(v))
                    spts.append(pts[n_reg + b])
                    slabels.append(ob.special_labels_[b])
            return CompiledFeature(
                name=c, kind="numeric", edges=tuple(float(e) for e in ob.splits_), points=tuple(pts[:n_reg]),
                missing_points=missing, special_values=tuple(svals), special_points=tuple(spts),
                labels=tuple(labels[:n_reg]), special_labels=tuple(slabels), missing_label="Missing",
            )
        cats: list[Any] = []
        cpts: list[float] = []
        clabels: list[str] = []
        seen: set[Any] = set()

        def add(cat: str, b: int) -> None:
            for v in (cat, ob.category_originals_.get(cat)):
                if v is None or v in seen:
                    continue
                seen.add(v)
                cats.append(v)
                cpts.append(pts[b])
                clabels.append(labels[b])

        for b, g in enumerate(ob.groups_):
            for cat in g:
                add(cat, b)
        for b, vals in enumerate(ob.special_values_):
            for v in vals:
                add(str(v), n_reg + b)
        if ob.unseen == "error":
            policy, unseen_pts = "error", None
        elif ob.unseen_index_ == ob.missing_index_:
            policy, unseen_pts = "missing", None
        else:
            policy, unseen_pts = "points", pts[ob.unseen_index_]
        if not cats:  # nothing but missing values in training: a placeholder that no value matches
            cats, cpts, clabels = ["\x00(no category)"], [pts[0]], [labels[0]]
        return CompiledFeature(
            name=c, kind="categorical", categories=tuple(cats), points=tuple(cpts), missing_points=missing,
            unseen_policy=policy, unseen_points=unseen_pts, labels=tuple(clabels), missing_label="Missing",
        )

    # ---------------------------------------------------------------- scoring
    def _scoring_frame(self, X: Any) -> pd.DataFrame:
        check_is_fitted(self, "compiled_")
        feats = self._feature_frame(X, reset=False)
        # Categorical features are matched as text, like the binning. Encoding a column once
        # (pd.factorize: Arrow's dictionary encoding for str columns) and handing the compiled scorer
        # a Categorical lets it look up the few distinct values instead of hashing every row.
        conv = {}
        for c in self.features_:
            ob = self.binning_.binnings_[c]
            if ob.dtype_ != "categorical" or c not in feats.columns:
                continue
            col = feats[c]
            if isinstance(col.dtype, pd.CategoricalDtype) and all(isinstance(v, str) for v in col.cat.categories):
                continue
            codes, keys = _factorize(col)
            conv[c] = pd.Series(pd.Categorical.from_codes(codes, categories=keys, validate=False),
                                index=col.index)
        if conv:
            feats = feats.assign(**conv)
        return feats

    def _total_scores(self, X: Any) -> np.ndarray:
        feats = self._scoring_frame(X)
        try:
            return self.compiled_.total_scores(feats)
        except ModelError as exc:
            raise InputError(str(exc), argument="X") from exc

    def _raw_scores(self, X: Any) -> tuple[np.ndarray, np.ndarray]:
        feats = self._scoring_frame(X)
        try:
            scores, points = self.compiled_.score_frame(feats)
        except ModelError as exc:
            raise InputError(str(exc), argument="X") from exc
        return scores, points

    def decision_function(self, X: Any) -> np.ndarray:
        """Log-odds of the event implied by the integer score: ``(offset - score) / factor``.

        Positive values favour ``classes_[1]`` (the event), as scikit-learn expects.
        """
        scores = self._total_scores(X)
        return (self.offset_ - scores) / self.factor_

    def predict_proba(self, X: Any) -> np.ndarray:
        """Probabilities ``[P(non-event), P(event)]`` read from the integer score (see the module docstring).

        Returns
        -------
        ndarray of shape (n, 2)
        """
        scores = self._total_scores(X)
        p = self.compiled_.pd(scores)
        return np.column_stack([1.0 - p, p])

    def predict(self, X: Any) -> np.ndarray:
        """The label of the more likely class (event when its probability is >= 0.5)."""
        p = self.predict_proba(X)[:, 1]
        return self.classes_[(p >= 0.5).astype(np.int64)]

    def _score_columns(self, X: Any) -> Any:
        """``X`` with the feature columns fit saw, in their order: a frame's other columns (a veto flag
        a pipeline adds, the id) are ignored, as by the other scorers; a missing one is an error."""
        names = getattr(self, "feature_names_in_", None)
        if not isinstance(X, pd.DataFrame) or names is None:
            return X
        absent = [str(c) for c in names if c not in X.columns]
        if absent:
            raise ModelError(f"feature frame lacks columns {absent} used by Scorecard {self.name!r}",
                             missing=absent)
        return X.loc[:, list(names)]

    def score(self, X: Any, y: Any = None, sample_weight: Any = None) -> Any:
        """Score subjects: the shared score frame; or, given ``y``, the ROC AUC.

        Parameters
        ----------
        X : DataFrame or array-like
            Features; ``id_column`` (default ``subject_id``) gives the subject ids, else the index.
            For the score frame, columns other than the fitted features are ignored.
        y : array-like, optional
            When given, returns the ROC AUC of the scores (what ``GridSearchCV`` uses by default:
            scorecards are chosen by discrimination, not accuracy at 0.5); ``X`` is then checked
            as scikit-learn checks it (the fitted columns, in order).
        sample_weight : array-like, optional
            With ``y`` only.

        Returns
        -------
        DataFrame or float
            Without ``y``: the shared score frame (see the module docstring), one row per row of
            ``X`` in order. ``score`` is an integer, the exact sum of base and feature points;
            ``grade`` comes from :attr:`grade_scale_` (score clipped to its range); a reason is
            ``""`` where fewer features lost points.

        Raises
        ------
        ModelError
            A frame lacks a fitted feature column (``details["missing"]`` names them).
        InputError
            A value cannot be scored (an unseen category under ``unseen="error"``, ...).
        """
        if y is not None:
            check_is_fitted(self, "compiled_")
            target = (np.asarray(y) == self.classes_[1]).astype(int)
            return float(roc_auc_score(target, self.decision_function(X), sample_weight=sample_weight))
        check_is_fitted(self, "compiled_")
        plan = self._veto_plan
        if plan is not None:
            if not isinstance(X, pd.DataFrame):
                raise ModelError(f"Scorecard {self.name!r} applies its template's vetoes: score a DataFrame with "
                                 f"the veto columns {plan.features}")
            plan.check_columns(X)
        scores, points = self._raw_scores(self._score_columns(X))
        if isinstance(X, pd.DataFrame) and self.id_column in X.columns:
            ids = X[self.id_column].astype("str")
        else:
            ids = pd.Series(X.index if isinstance(X, pd.DataFrame) else pd.RangeIndex(len(scores)),
                            dtype=object).astype("str")
        scale = self.grade_scale_
        idx = self.compiled_.reasons(points, k=_REASONS)  # -1: no reason, the table's last entry
        vetoed = None
        if plan is not None:
            veto_matrix = plan.matrix(X, self.id_column)
            vetoed = veto_matrix.any(axis=1)
            # a vetoed subject's first reasons are its vetoes, then the scorecard's
            idx = plan.prepend(veto_matrix, idx)
        grade = scale.assign(np.clip(scores, 0.0, float(scale.max_score)), vetoed)
        table = self._reason_table
        out: dict[str, Any] = {
            "subject_id": ids.to_numpy(),
            "score": scores.astype(np.int64),
            "pd": self.compiled_.pd(scores),
            "grade": grade,
        }
        if plan is not None:
            out["vetoes"] = plan.joined(veto_matrix).astype(object)
        for part, suffix in enumerate(("", "_zh", "_en")):
            texts = np.asarray([r[part] for r in table], dtype=object)
            for k in range(_REASONS):
                out[f"reason_{k + 1}{suffix}"] = texts[idx[:, k]]
        frame = pd.DataFrame(out)
        frame["subject_id"] = frame["subject_id"].astype("str")
        for col, value in self._constant_out.items():
            frame[col] = value
        return frame

    def score_record(self, record: Mapping[str, Any], reasons: bool = True) -> dict[str, Any]:
        """Score one subject given as a dict (pure Python fast path, no pandas).

        Parameters
        ----------
        record : mapping of feature name to value
            Plus ``id_column`` (optional); other keys are ignored. An absent key, ``None`` or NaN is
            a missing value.
        reasons : bool
            Also rank the reasons (about half the time of this call); without them the reason
            keys are ``""``.

        Returns
        -------
        dict
            The same keys and values as the row of :meth:`score` for that subject: ``subject_id``
            (the record's, as text; ``None`` when absent), ``score`` (int), ``pd``, ``grade``,
            ``reason_1..3`` with their ``_zh`` / ``_en`` texts, ``scorer_id``, ``scorer_version``.
        """
        card = self.__dict__.get("compiled_")  # not check_is_fitted: this path counts microseconds
        if card is None:
            raise ModelError("Scorecard is not fitted; call fit first")
        try:
            total, pts = card.score_record(record)
        except ModelError as exc:
            raise InputError(str(exc), argument="record") from exc
        sid = record.get(self.id_column)
        plan = self._veto_plan
        hits = plan.record_hits(record) if plan is not None else None
        g = 0.0 if total < 0.0 else total if total <= self._grade_max else self._grade_max  # clipped for grading
        grade = ""
        for low, name in self._grade_plan:  # best first; the last grade's low is -inf
            if g >= low:
                grade = name
                break
        if hits:
            grade = self._veto_grade
        out: dict[str, Any] = {"subject_id": sid if sid is None or isinstance(sid, str) else str(sid),
                               "score": int(total), "pd": card.pd_record(total), "grade": grade}
        if hits is not None:
            out["vetoes"] = ",".join(hits)
        j1 = j2 = j3 = -1
        if reasons:
            # the three largest shortfalls in one pass; strict ">" keeps the first feature on ties, as
            # the batch path's argmax does (same result as CompiledScorecard.reasons_record, faster)
            s1 = s2 = s3 = 0.0
            j = 0
            for best, x in zip(self._best_list, pts):  # noqa: B905 - same length by construction
                short = best - x
                if short > s3:
                    if short > s1:
                        s3, j3, s2, j2, s1, j1 = s2, j2, s1, j1, short, j
                    elif short > s2:
                        s3, j3, s2, j2 = s2, j2, short, j
                    else:
                        s3, j3 = short, j
                j += 1
        t = self._reason_table
        if hits:  # the vetoes first, then the scorecard's reasons
            j1, j2, j3 = plan.prepend_record(hits, [j1, j2, j3], _REASONS)
        r1, r2, r3 = t[j1], t[j2], t[j3]  # -1 is the empty entry
        out["reason_1"], out["reason_2"], out["reason_3"] = r1[0], r2[0], r3[0]
        out["reason_1_zh"], out["reason_2_zh"], out["reason_3_zh"] = r1[1], r2[1], r3[1]
        out["reason_1_en"], out["reason_2_en"], out["reason_3_en"] = r1[2], r2[2], r3[2]
        out.update(self._constant_out)
        return out

    # ---------------------------------------------------------------- persistence
    def to_dict(self) -> dict[str, Any]:
        """The fitted scorecard as JSON-able values (for :func:`ruralcredit.models.save`).

        A template is stored as the reason codes and texts it gave, a grade-scale pack as its scale,
        and the grade scale in use (``grade_scale_``) on its own; :meth:`from_dict` restores a
        scorecard whose score frame (scores, PDs, grades, reasons) is identical.
        """
        check_is_fitted(self, "compiled_")
        params = self.get_params(deep=False)
        params["binning"] = None if self.binning is None else _jsonable(self.binning.get_params())
        params["template"] = None if self.template is None else {
            c: list(info) for c, info in zip(self.features_, self._reason_info, strict=True)}
        gs = self.grade_scale
        params["grade_scale"] = None if gs is None else getattr(gs, "payload", gs).model_dump(mode="json")
        return {
            "format": _FORMAT,
            "format_version": _FORMAT_VERSION,
            "params": params,
            "classes": self.classes_.tolist(),
            "feature_names_in": None if not hasattr(self, "feature_names_in_") else list(self.feature_names_in_),
            "n_features_in": int(self.n_features_in_),
            "binning": self.binning_.to_dict(),
            "features": list(self.features_),
            "coef": [float(v) for v in self.coef_[0]],
            "intercept": float(self.intercept_[0]),
            "n_iter": [int(v) for v in self.n_iter_],
            "selection": _jsonable(self.selection_.to_dict(orient="list")),
            "base_points": int(self.base_points_),
            "points": {c: [int(v) for v in p] for c, p in self.points_.items()},
            "factor": self.factor_,
            "offset": self.offset_,
            "reason_info": [list(r) for r in self._reason_info],
            "grade_scale": self.grade_scale_.model_dump(mode="json"),
            "vetoes": vetoes_to_json(self.vetoes_),
            "compiled": self.compiled_.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Scorecard:
        """Rebuild a fitted scorecard from :meth:`to_dict` output.

        Reads format version 2 and the version 1 written before the scorecard kept its grade scale
        and full reason texts: such a scorecard grades on its ``grade_scale`` parameter if it had
        one, else on the built-in ``kunming-100`` pack in force today (a version 1 scorecard had no
        grades without it), and an empty reason text is filled as at fit (catalogue name or feature
        name). Scores, PDs and reason codes are unchanged.

        Raises
        ------
        ModelError
            Not a scorecard description, an unknown format version, or malformed content.
        """
        if not isinstance(data, Mapping) or data.get("format") != _FORMAT:
            raise ModelError(f"not a statistical scorecard (missing 'format': {_FORMAT!r})")
        version = data.get("format_version")
        if version not in _READABLE_VERSIONS:
            raise ModelError(f"scorecard format version {version!r} is not supported (this ruralcredit reads "
                             f"versions {list(_READABLE_VERSIONS)}; a newer file needs a newer ruralcredit)")
        try:
            params = dict(data["params"])
            if params.get("binning") is not None:
                params["binning"] = BinningProcess(**params["binning"])
            if params.get("template") is not None:
                params["template"] = {c: tuple(v) for c, v in params["template"].items()}
            if params.get("grade_scale") is not None:
                from ruralcredit.templates.grade_scale import GradeScale

                params["grade_scale"] = GradeScale.model_validate(params["grade_scale"])
            sc = cls(**params)
            sc.classes_ = np.asarray(data["classes"])
            if data.get("feature_names_in") is not None:
                sc.feature_names_in_ = np.asarray(data["feature_names_in"], dtype=object)
            sc.n_features_in_ = int(data["n_features_in"])
            sc.binning_ = BinningProcess.from_dict(data["binning"])
            sc.features_ = [str(c) for c in data["features"]]
            sc.coef_ = np.asarray([data["coef"]], dtype=np.float64)
            sc.intercept_ = np.asarray([data["intercept"]], dtype=np.float64)
            sc.n_iter_ = np.asarray(data["n_iter"], dtype=np.int64)
            sc.selection_ = pd.DataFrame(data["selection"])
            sc.base_points_ = int(data["base_points"])
            sc.points_ = {str(c): np.asarray(p, dtype=np.int64) for c, p in data["points"].items()}
            sc.factor_ = float(data["factor"])
            sc.offset_ = float(data["offset"])
            info = [tuple(str(v) for v in r) for r in data["reason_info"]]
            if len(info) != len(sc.features_) or any(len(r) != 3 for r in info):
                raise ValueError("reason_info must be one (code, zh, en) per feature")
            sc._reason_info = [_reason_entry(c, r) for c, r in zip(sc.features_, info, strict=True)]
            if version >= 2:
                from ruralcredit.templates.grade_scale import GradeScale

                sc.grade_scale_ = GradeScale.model_validate(data["grade_scale"])
            elif sc.grade_scale is not None:
                sc.grade_scale_ = sc.grade_scale
            else:
                from ruralcredit.packs import load_pack
                from ruralcredit.templates import GradeScalePack

                sc.grade_scale_ = load_pack(_DEFAULT_GRADE_SCALE, GradeScalePack,
                                            pd.Timestamp.today().normalize()).payload
            # version 3 keeps the template's vetoes; before, a scorecard applied none
            sc.vetoes_ = vetoes_from_json(data["vetoes"]) if version >= 3 else None
            sc.compiled_ = CompiledScorecard.from_dict(data["compiled"])
            sc._prepare()
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelError(f"malformed scorecard description: {exc!r}") from exc
        return sc

    def model_summary(self) -> dict[str, Any]:
        """A JSON-able summary for model files and registries: features, coefficients, scaling."""
        check_is_fitted(self, "compiled_")
        return {
            "kind": "statistical_scorecard",
            "features": list(self.features_),
            "iv": {c: float(self.binning_.binnings_[c].iv_) for c in self.features_},
            "n_bins": {c: int(self.binning_.binnings_[c].n_bins_) for c in self.features_},
            "coefficients": dict(zip(self.features_, (float(v) for v in self.coef_[0]), strict=True)),
            "intercept": float(self.intercept_[0]),
            "scaling": {"pdo": float(self.pdo), "base_score": float(self.base_score),
                        "base_odds": float(self.base_odds), "factor": self.factor_, "offset": self.offset_,
                        "base_points": int(self.base_points_)},
            "max_score": float(self.compiled_.max_score),
        }

    # ---------------------------------------------------------------- reporting
    def points_table(self) -> pd.DataFrame:
        """Points per bin of every selected feature, with the base points first.

        Returns
        -------
        DataFrame
            Columns ``feature, bin, kind, count, event_rate, woe, coefficient, points``; the first
            row is ``feature="(base)"`` with the base points (0 when distributed).
        """
        check_is_fitted(self, "compiled_")
        parts = [pd.DataFrame({"feature": ["(base)"], "bin": [""], "kind": ["base"], "count": [np.nan],
                               "event_rate": [np.nan], "woe": [np.nan], "coefficient": [self.intercept_[0]],
                               "points": [self.base_points_]})]
        for j, c in enumerate(self.features_):
            t = self.binning_.binnings_[c].binning_table().iloc[:-1]
            parts.append(pd.DataFrame({
                "feature": c, "bin": t["bin"].to_numpy(), "kind": t["kind"].to_numpy(),
                "count": t["count"].to_numpy(), "event_rate": t["event_rate"].to_numpy(),
                "woe": t["woe"].to_numpy(), "coefficient": self.coef_[0, j], "points": self.points_[c],
            }))
        out = pd.concat(parts, ignore_index=True)
        out["points"] = out["points"].astype(np.int64)
        return out
