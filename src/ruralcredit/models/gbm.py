"""A gradient-boosted scorer (LightGBM) with monotone constraints, a calibrated PD and reason codes.

Banks with enough repayment outcomes want a stronger model than a scorecard, but one they can
explain to a farmer and defend to a regulator. :class:`GbmScorer` is a LightGBM binary model of
the default event, wrapped so that it behaves like the scorecards (see
:mod:`ruralcredit.models.protocol`):

Monotone constraints (单调约束)
    Taken from the indicator template's directions: an indicator that is ``higher_is_better``
    (income, deposits, on-time repayment share) may only *lower* the default risk as it rises
    (constraint ``-1`` on the PD model); ``lower_is_better`` (arrears, debt ratios) may only raise
    it (``+1``); ``banded``, ``categorical`` and features the template does not name are free
    (``0``). ``monotone={"feature": -1, ...}`` overrides or adds constraints. Categorical
    features are always free (LightGBM cannot constrain them).
Early stopping
    A stratified validation split (``validation_fraction`` of the training rows, drawn with
    ``random_state``) stops the boosting when the validation log-loss has not improved for
    ``early_stopping_rounds`` rounds. Only the trees up to the best round are kept.
Determinism
    LightGBM runs with ``deterministic=True``, ``force_row_wise=True``, a fixed ``seed`` and
    ``num_threads=n_jobs`` (1 by default): the same data, parameters and seed give the same
    model, bit for bit.
Calibrated PD (校准违约概率)
    The raw margin (log-odds) is calibrated on the validation split with scikit-learn's
    ``IsotonicRegression`` (isotonic) or ``LogisticRegression`` on the margin (Platt, "sigmoid").
    With ``calibration="auto"`` both are scored by 5-fold cross-validation *within* the validation
    split (out-of-fold Brier score, or log-loss with ``calibration_metric="log_loss"``) and the
    better one is refitted on the whole split; ties go to Platt. Both maps are non-decreasing, so
    the PD keeps the monotone constraints. PDs are kept inside ``[1e-4, 1 - 1e-4]``.
Points and grades (分数与等级)
    The PD is put on the same points scale as the scorecards with the usual scaling
    ``score = offset + factor * ln((1 - pd) / pd)``, ``factor = pdo / ln 2``,
    ``offset = base_score - factor * ln(base_odds)``. The defaults (``pdo=10``, ``base_score=60``
    at good:bad odds ``19:1``, i.e. PD 5 %) put the 100-point grade thresholds at PD about 9.5 %
    (B, 50), 5 % (A, 60), 2.6 % (AA, 70) and 1.3 % (AAA, 80). The score is clipped to
    ``0 .. grade_scale.max_score`` and rounded to ``score_decimals`` (1) decimals (half up); the
    grade comes from that score through the grade scale (a grade-scale pack, a
    :class:`~ruralcredit.templates.GradeScale`, or the template's own scale), so a printed score
    and its grade always agree. Clipping only affects the points: ``pd`` keeps its full range.
Reason codes (原因码)
    From LightGBM's TreeSHAP contributions (``pred_contrib=True``): per subject, the features
    whose contribution to the default log-odds is largest and positive (the ones that pushed the PD
    *up* most against the model's expected value), largest first, ties to the feature listed
    first; a feature that lowered the risk is never a reason. The code is the template indicator's
    code when the template reads the feature (texts: the indicator's Chinese and English names),
    else the feature name (texts from the feature catalogue, or the name). A missing value reads
    ``缺失：…`` / ``missing: ...`` and an unrecognised category ``无法识别的取值：…`` /
    ``unrecognised value: ...``.
Categorical features
    pandas ``Categorical`` (and ``str``) columns are LightGBM categorical features: the
    categories seen at fit (all declared categories of a ``Categorical``) are coded ``0..k-1``.
    **Unseen categories** at scoring follow ``unseen_category``: ``"missing"`` (default) scores
    the value exactly as a missing value (and says so in a reason when it counts), ``"error"``
    raises :class:`~ruralcredit.errors.ModelError` naming the feature and values.

Vetoes (一票否决)
    Given a template, the scorer applies its vetoes as the expert scorecard does
    (:mod:`ruralcredit.models._vetoes`): every veto column (``blacklisted``, ...) must be in a
    scored frame or record (else :class:`~ruralcredit.errors.ModelError`) and is never a model
    input (left out at fit; a ``features`` list naming one is refused); a vetoed subject gets the
    scale's veto grade and its vetoes as its first reasons (also with ``reasons=False``), and the
    frame has a ``vetoes`` column after ``grade``. Score and PD are the model's.

Output of :meth:`GbmScorer.score` (the shared score frame)::

    subject_id, score, pd, grade, reason_1..k, reason_1_zh..reason_k_zh, reason_1_en..reason_k_en,
    scorer_id, scorer_version, model_hash

``score`` and ``pd`` are float64; ``grade``, the reasons and the scorer columns are categoricals
over ``str`` (``""`` where fewer reasons apply). :meth:`GbmScorer.score_record` returns the same
keys and values for one subject: it builds a 1-row NumPy array from the dict (no pandas) and calls
the booster directly; LightGBM's own per-call overhead (tens of microseconds for the margin, a few
hundred for the contributions) dominates its latency, see ``docs/benchmarks.md``.
"""

from __future__ import annotations

import hashlib
import json
import math
import numbers
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
from scipy.special import expit
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss
from sklearn.model_selection import StratifiedKFold, train_test_split
from threadpoolctl import threadpool_limits

from ruralcredit.errors import InputError, ModelError
from ruralcredit.models import metrics
from ruralcredit.models._vetoes import VetoPlan, template_vetoes, vetoes_from_json, vetoes_to_json
from ruralcredit.models.protected import check_no_protected
from ruralcredit.templates import GradeScale, GradeScalePack, Template, load_template

__all__ = ["GbmScorer"]

_FORMAT = "ruralcredit.gbm_scorer"
_FORMAT_VERSION = 2
#: Versions :meth:`GbmScorer.from_dict` reads (1: before the template's vetoes were kept).
_READABLE_VERSIONS = (1, 2)
#: PDs are kept inside [_PD_FLOOR, 1 - _PD_FLOOR]: an isotonic step with no event would give 0.
_PD_FLOOR = 1e-4
#: Rows per block when computing contributions (bounds the memory of a large batch).
_BLOCK = 65_536
_CAL_FOLDS = 5
_CALIBRATIONS = ("auto", "isotonic", "sigmoid")
_CAL_METRICS = ("brier", "log_loss")
_UNSEEN = ("missing", "error")
#: Value status codes for reasons: the value itself, missing, an unseen category.
_VALUE, _MISSING, _UNSEEN_CAT = 0, 1, 2
_SAFE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_NA: Any = pd.NA


def _library_version() -> str:
    import ruralcredit  # at call time: the package's __init__ may import models

    return str(ruralcredit.__version__)


def _numeric_kind(col: pd.Series) -> bool:
    """Whether a column is numeric (incl. bool) for the model; False for categories / text."""
    dtype = col.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return False
    if pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_numeric_dtype(dtype):
        return True
    if pd.api.types.is_string_dtype(dtype) and not pd.api.types.is_object_dtype(dtype):
        return False
    if pd.api.types.is_object_dtype(dtype):
        inferred = pd.api.types.infer_dtype(col, skipna=True)
        if inferred in ("string",):
            return False
        if inferred in ("integer", "floating", "mixed-integer-float", "boolean", "empty", "decimal"):
            return True
    raise ModelError(f"feature {col.name!r} has dtype {dtype}: the GBM takes numbers, booleans, "
                     "categoricals or text (dates must be turned into numbers first)")


def _numeric_values(col: pd.Series, name: str) -> np.ndarray:
    """A numeric (or boolean) column as float64 with NaN for missing; ModelError otherwise."""
    dtype = col.dtype
    if isinstance(dtype, pd.CategoricalDtype) or (
            pd.api.types.is_string_dtype(dtype) and not pd.api.types.is_object_dtype(dtype)):
        raise ModelError(f"feature {name!r} was numeric at fit but is {dtype} now")
    try:
        v = col.to_numpy(dtype="float64", na_value=np.nan)
    except (TypeError, ValueError) as exc:
        raise ModelError(f"feature {name!r}: values are not numbers ({exc})") from exc
    if np.isinf(v).any():
        raise ModelError(f"feature {name!r}: {int(np.isinf(v).sum())} infinite value(s); the feature "
                         "builder gives NaN where a ratio is undefined, never infinity")
    return v


def _category_codes(col: pd.Series, categories: pd.Index) -> tuple[np.ndarray, np.ndarray]:
    """Codes of the fit-time ``categories`` (-1 missing or unseen) and the unseen mask (vectorised).

    Values are matched as text. The distinct values are looked up once (a Categorical's own
    categories, or ``pd.factorize``), not every row.
    """
    if isinstance(col.dtype, pd.CategoricalDtype):
        raw = col.cat.codes.to_numpy()
        keys = col.cat.categories
    else:
        raw, keys = pd.factorize(col, use_na_sentinel=True)
    lut = categories.get_indexer(pd.Index([str(k) for k in keys], dtype=object)) if len(keys) else \
        np.empty(0, dtype=np.intp)
    lut = np.append(lut, -1)  # raw code -1 (missing) -> -1
    codes = lut[raw]
    unseen = (raw >= 0) & (codes < 0)
    return codes, unseen


def _is_missing(x: Any) -> bool:
    return x is None or x is _NA or (isinstance(x, float) and math.isnan(x)) or (
        isinstance(x, np.floating) and bool(np.isnan(x)))


class GbmScorer(ClassifierMixin, BaseEstimator):
    """LightGBM scorer with monotone constraints, a calibrated PD, points, grades and reasons.

    Parameters
    ----------
    template : Template, str or Path, optional
        Indicator template giving monotone directions, reason codes and texts (and the grade
        scale when ``grade_scale`` is not given). A built-in id or a path needs ``as_of``.
    as_of : date-like, optional
        Chooses the template / grade-scale pack version when given by id or path.
    features : sequence of str, optional
        The columns to use; default every column of ``X`` except ``id_column``.
    monotone : mapping of str to {-1, 0, 1}, optional
        Constraints on the default log-odds that override the template's (``-1``: the PD may only
        fall as the feature rises).
    n_estimators : int
        Most boosting rounds.
    learning_rate, num_leaves, max_depth, min_child_samples, reg_lambda, subsample,
    colsample_bytree, max_bin
        LightGBM's ``learning_rate``, ``num_leaves``, ``max_depth``, ``min_data_in_leaf``,
        ``lambda_l2``, ``bagging_fraction`` (with ``bagging_freq=1`` below 1),
        ``feature_fraction`` and ``max_bin``.
    validation_fraction : float
        Share of the training rows held out (stratified) for early stopping and calibration.
    early_stopping_rounds : int or None
        Stop after this many rounds without a better validation log-loss; ``None`` trains all
        ``n_estimators`` rounds.
    calibration : {"auto", "isotonic", "sigmoid"}
        PD calibration (see the module docstring).
    calibration_metric : {"brier", "log_loss"}
        How ``"auto"`` chooses.
    pdo, base_score, base_odds : float
        Points scaling: ``base_score`` points at good:bad odds ``base_odds``; ``pdo`` points double
        the odds.
    score_decimals : int
        Decimals the score is rounded to (half up).
    grade_scale : GradeScale, GradeScalePack, str or Path, optional
        The grade bands (a grade-scale pack id such as ``"kunming-100"`` needs ``as_of``);
        default the template's scale. One of the two is required.
    unseen_category : {"missing", "error"}
        What an unseen category at scoring means (see the module docstring).
    id_column : str
        Subject-id column: never a feature, and the ``subject_id`` of the score frame.
    n_reasons : int
        Reasons per subject.
    random_state : int
        Seed of the validation split, the calibration folds and LightGBM.
    n_jobs : int
        LightGBM threads (1 keeps fitting deterministic and polite on shared machines).
    name : str
        Scorer id written in the ``scorer_id`` column.

    Attributes
    ----------
    booster_ : lightgbm.Booster
        The model, holding exactly ``best_iteration_`` trees.
    feature_names_in_ : ndarray of str
        The features, in model order; scoring needs these columns.
    feature_kinds_ : list of str
        ``"numeric"`` or ``"categorical"`` per feature.
    categories_ : dict of str to list of str
        Fit-time categories of each categorical feature (code ``i`` is ``categories_[f][i]``).
    monotone_constraints_ : list of int
        The constraint of each feature, and ``monotone_sources_`` where it came from.
    best_iteration_ : int
        Trees kept.
    calibration_ : dict
        ``method`` chosen, ``chosen_by``, the cross-validated ``scores`` of each candidate and the
        fitted map (``x``/``y`` thresholds or ``a``/``b``).
    factor_, offset_ : float
        Points scaling.
    grade_scale_ : GradeScale
    vetoes_ : tuple of Veto or None
        The template's vetoes (``None`` without a template); ``input_columns_`` is then
        ``feature_names_in_`` followed by the veto columns.
    lgb_params_ : dict
        The LightGBM parameters used (for a like-for-like benchmark).
    model_hash_ : str
        SHA-256 of the fitted state (booster, encoders, calibration, scaling, texts).
    classes_ : ndarray
        The two labels; ``classes_[1]`` (the larger) is the event (default).

    Examples
    --------
    >>> from ruralcredit.templates import GradeScale
    >>> gbm = GbmScorer(grade_scale=GradeScale.default(), n_estimators=50)  # doctest: +SKIP
    >>> gbm.fit(features, y).score(features).head()  # doctest: +SKIP
    """

    def __init__(
        self,
        template: Template | str | Path | None = None,
        as_of: Any = None,
        features: Sequence[str] | None = None,
        monotone: Mapping[str, int] | None = None,
        n_estimators: int = 500,
        learning_rate: float = 0.05,
        num_leaves: int = 15,
        max_depth: int = -1,
        min_child_samples: int = 20,
        reg_lambda: float = 1.0,
        subsample: float = 1.0,
        colsample_bytree: float = 1.0,
        max_bin: int = 255,
        validation_fraction: float = 0.2,
        early_stopping_rounds: int | None = 50,
        calibration: str = "auto",
        calibration_metric: str = "brier",
        pdo: float = 10.0,
        base_score: float = 60.0,
        base_odds: float = 19.0,
        score_decimals: int = 1,
        grade_scale: GradeScale | GradeScalePack | str | Path | None = None,
        unseen_category: str = "missing",
        id_column: str = "subject_id",
        n_reasons: int = 3,
        random_state: int = 0,
        n_jobs: int = 1,
        name: str = "gbm",
    ) -> None:
        self.template = template
        self.as_of = as_of
        self.features = features
        self.monotone = monotone
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.max_depth = max_depth
        self.min_child_samples = min_child_samples
        self.reg_lambda = reg_lambda
        self.subsample = subsample
        self.colsample_bytree = colsample_bytree
        self.max_bin = max_bin
        self.validation_fraction = validation_fraction
        self.early_stopping_rounds = early_stopping_rounds
        self.calibration = calibration
        self.calibration_metric = calibration_metric
        self.pdo = pdo
        self.base_score = base_score
        self.base_odds = base_odds
        self.score_decimals = score_decimals
        self.grade_scale = grade_scale
        self.unseen_category = unseen_category
        self.id_column = id_column
        self.n_reasons = n_reasons
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.name = name

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.string = True
        tags.input_tags.categorical = True
        return tags

    # ---------------------------------------------------------------- parameters
    def _check_params(self) -> None:
        def integer(arg: str, low: int) -> None:
            v = getattr(self, arg)
            if not isinstance(v, numbers.Integral) or isinstance(v, bool) or v < low:
                raise InputError(f"must be an integer >= {low}", argument=arg, value=v)

        def real(arg: str, low: float, high: float, *, open_low: bool = True, open_high: bool = False) -> None:
            v = getattr(self, arg)
            ok = isinstance(v, numbers.Real) and not isinstance(v, bool) and math.isfinite(v)
            ok = ok and (v > low if open_low else v >= low) and (v < high if open_high else v <= high)
            if not ok:
                raise InputError(f"must be a number in {'(' if open_low else '['}{low:g}, {high:g}"
                                 f"{')' if open_high else ']'}", argument=arg, value=v)

        integer("n_estimators", 1)
        integer("num_leaves", 2)
        integer("min_child_samples", 1)
        integer("max_bin", 2)
        integer("n_reasons", 1)
        integer("n_jobs", 1)
        integer("random_state", 0)
        integer("score_decimals", 0)
        if not isinstance(self.max_depth, numbers.Integral) or isinstance(self.max_depth, bool) or \
                (self.max_depth < 1 and self.max_depth != -1):
            raise InputError("must be -1 (no limit) or an integer >= 1", argument="max_depth", value=self.max_depth)
        if self.early_stopping_rounds is not None:
            integer("early_stopping_rounds", 1)
        real("learning_rate", 0.0, math.inf, open_high=True)
        real("reg_lambda", 0.0, math.inf, open_low=False, open_high=True)
        real("subsample", 0.0, 1.0)
        real("colsample_bytree", 0.0, 1.0)
        real("validation_fraction", 0.0, 0.5, open_high=False)
        real("pdo", 0.0, math.inf, open_high=True)
        real("base_odds", 0.0, math.inf, open_high=True)
        if self.calibration not in _CALIBRATIONS:
            raise InputError(f"expected one of {_CALIBRATIONS}", argument="calibration", value=self.calibration)
        if self.calibration_metric not in _CAL_METRICS:
            raise InputError(f"expected one of {_CAL_METRICS}", argument="calibration_metric",
                             value=self.calibration_metric)
        if self.unseen_category not in _UNSEEN:
            raise InputError(f"expected one of {_UNSEEN}", argument="unseen_category", value=self.unseen_category)
        if self.score_decimals > 6:
            raise InputError("at most 6 decimals", argument="score_decimals", value=self.score_decimals)

    def _resolve_template(self) -> Template | None:
        if self.template is None or isinstance(self.template, Template):
            return self.template
        if isinstance(self.template, (str, Path)):
            if self.as_of is None:
                raise ModelError(f"GbmScorer: pass as_of to choose the version of template {str(self.template)!r}")
            return load_template(self.template, self.as_of)
        raise InputError(f"must be a Template, a built-in id or a path, got {type(self.template).__name__}",
                         argument="template")

    def _resolve_grade_scale(self, template: Template | None) -> GradeScale:
        gs = self.grade_scale
        if isinstance(gs, GradeScale):
            return gs
        if isinstance(gs, GradeScalePack):
            return gs.payload
        if isinstance(gs, (str, Path)):
            if self.as_of is None:
                raise ModelError(f"GbmScorer: pass as_of to choose the version of grade scale {str(gs)!r}")
            from ruralcredit.packs import load_pack

            return load_pack(gs, GradeScalePack, self.as_of).payload
        if gs is None:
            if template is None:
                raise ModelError("GbmScorer needs grade bands: pass grade_scale (a GradeScale, or a "
                                 "grade-scale pack id such as 'kunming-100' with as_of) or a template")
            return template.grade_scale
        raise InputError(f"must be a GradeScale, a GradeScalePack or a pack id/path, got {type(gs).__name__}",
                         argument="grade_scale")

    # ---------------------------------------------------------------- input
    def _feature_list(self, X: pd.DataFrame, veto_columns: Sequence[str] = ()) -> list[str]:
        if self.features is None:
            feats = [str(c) for c in X.columns if c != self.id_column and c not in veto_columns]
        else:
            if isinstance(self.features, str):
                raise InputError("must be a list of column names, not one string", argument="features")
            feats = [str(c) for c in self.features]
            if self.id_column in feats:
                raise InputError(f"the id column {self.id_column!r} cannot be a feature", argument="features")
            vetoes = [c for c in feats if c in veto_columns]
            if vetoes:
                raise InputError(f"{vetoes} are the template's veto columns: they override the grade and are "
                                 "never model inputs", argument="features")
            absent = [c for c in feats if c not in X.columns]
            if absent:
                raise ModelError(f"feature frame lacks columns {absent}")
        if not feats:
            raise ModelError("no feature columns to fit on")
        if len(set(feats)) != len(feats):
            raise ModelError("duplicate feature columns")
        return feats

    def _check_frame(self, X: Any) -> None:
        if not isinstance(X, pd.DataFrame):
            raise ModelError(f"expected a pandas DataFrame of features, got {type(X).__name__}")
        if not hasattr(self, "booster_"):
            raise ModelError("GbmScorer is not fitted: call fit(X, y) first")
        absent = [c for c in self._features if c not in X.columns]
        if absent:
            raise ModelError(f"feature frame lacks columns {absent} used by GbmScorer {self.name!r}")

    def _encode(self, X: pd.DataFrame, *, status: bool = False) -> tuple[np.ndarray, np.ndarray | None]:
        """The model matrix (float64, NaN = missing; categories as codes) and, optionally, the
        value status per cell (value / missing / unseen category). A loop over features only."""
        n = len(X)
        p = len(self._features)
        mat = np.empty((n, p), dtype=np.float64)
        st = np.zeros((n, p), dtype=np.int8) if status else None
        for j, (f, kind) in enumerate(zip(self._features, self.feature_kinds_, strict=True)):
            col = X[f]
            if kind == "numeric":
                v = _numeric_values(col, f)
                mat[:, j] = v
                if st is not None:
                    st[:, j] = np.isnan(v)
            else:
                codes, unseen = _category_codes(col, self._cat_index[f])
                if unseen.any() and self.unseen_category == "error":
                    bad = sorted({str(x) for x in col[unseen].unique()})[:10]
                    raise ModelError(f"feature {f!r}: {int(unseen.sum())} value(s) not seen at fit, e.g. {bad} "
                                     "(unseen_category='error')")
                mat[:, j] = np.where(codes >= 0, codes, np.nan)
                if st is not None:
                    st[:, j] = np.where(unseen, _UNSEEN_CAT, np.where(codes < 0, _MISSING, _VALUE))
        return mat, st

    def _labels(self, y: Any, n: int) -> np.ndarray:
        if y is None:
            raise InputError("GbmScorer requires y (1 / True = default)", argument="y")
        ys = np.asarray(y)
        if ys.ndim == 2 and ys.shape[1] == 1:
            ys = ys.ravel()
        if ys.ndim != 1 or len(ys) != n:
            raise InputError(f"must be one-dimensional with {n} values, got shape {ys.shape}", argument="y")
        if pd.isna(ys).any():
            raise InputError("has missing values", argument="y")
        classes = np.unique(ys)
        if len(classes) != 2:
            raise InputError(f"needs exactly two classes (default or not), got {classes.tolist()[:5]}",
                             argument="y")
        self.classes_ = classes
        return (ys == classes[1]).astype(np.float64)

    # ---------------------------------------------------------------- fitting
    def fit(self, X: pd.DataFrame, y: Any) -> GbmScorer:
        """Fit the booster with early stopping, then the PD calibration and the points scaling.

        Parameters
        ----------
        X : DataFrame
            Features (``id_column`` is ignored). Protected attributes are refused.
        y : array-like of shape (n,)
            Binary outcome; the larger label (1 / True) is the default event.

        Returns
        -------
        GbmScorer
            ``self``, fitted.

        Raises
        ------
        InputError
            Bad parameters or labels, or too few events to split.
        ModelError
            Not a DataFrame, a protected attribute among the features, an unusable column, a bad
            ``monotone`` entry, or no grade scale.
        PolicyError
            The template or grade-scale pack cannot be loaded.
        """
        self._check_params()
        if not isinstance(X, pd.DataFrame):
            raise ModelError(f"expected a pandas DataFrame of features, got {type(X).__name__}")
        template = self._resolve_template()
        vetoes = template_vetoes(template)
        feats = self._feature_list(X, [v.feature for v in vetoes or ()])
        check_no_protected(feats, "GbmScorer.fit")
        grade_scale = self._resolve_grade_scale(template)
        if not 0 <= self.base_score <= grade_scale.max_score:
            raise InputError(f"must lie within the grade scale 0..{grade_scale.max_score:g}",
                             argument="base_score", value=self.base_score)
        yv = self._labels(y, len(X))

        kinds = ["numeric" if _numeric_kind(X[f]) else "categorical" for f in feats]
        categories: dict[str, list[str]] = {}
        for f, kind in zip(feats, kinds, strict=True):
            if kind == "categorical":
                col = X[f]
                if isinstance(col.dtype, pd.CategoricalDtype):
                    cats = [str(c) for c in col.cat.categories]
                else:
                    cats = sorted({str(v) for v in pd.unique(col.dropna())})
                if len(set(cats)) != len(cats):
                    raise ModelError(f"feature {f!r}: categories are not distinct as text")
                categories[f] = cats
        constraints, sources = self._constraints(feats, kinds, template)

        self.feature_names_in_ = np.asarray(feats, dtype=object)
        self.n_features_in_ = len(feats)
        self.feature_kinds_ = kinds
        self.categories_ = categories
        self.monotone_constraints_ = constraints
        self.monotone_sources_ = sources
        self.grade_scale_ = grade_scale
        self.template_info_ = None if template is None else {
            "id": template.id, "version": template.version, "hash": template.policy_hash,
            "subject_type": template.subject_type}
        self.reason_info_ = self._reason_texts(feats, template)
        self.vetoes_ = vetoes
        self._features = feats
        self._cat_index = {f: pd.Index(c, dtype=object) for f, c in categories.items()}

        mat, _ = self._encode(X)
        idx = np.arange(len(X))
        try:
            tr, va = train_test_split(idx, test_size=self.validation_fraction, stratify=yv,
                                      random_state=self.random_state)
        except ValueError as exc:
            raise InputError(f"cannot carve a stratified validation split: {exc}", argument="y") from exc
        tr.sort()
        va.sort()
        if yv[va].sum() < 2 or yv[va].sum() > len(va) - 2:
            raise InputError("the validation split needs at least two defaults and two non-defaults; "
                             "give more data or a larger validation_fraction", argument="y")
        params = self._lgb_params(feats, kinds, constraints)
        names = feats if all(_SAFE_NAME.match(f) for f in feats) else [f"f{j}" for j in range(len(feats))]
        cat_idx = [j for j, k in enumerate(kinds) if k == "categorical"]
        dtrain = lgb.Dataset(mat[tr], label=yv[tr], feature_name=names, categorical_feature=cat_idx,
                             params=params, free_raw_data=True)
        dvalid = lgb.Dataset(mat[va], label=yv[va], reference=dtrain, params=params, free_raw_data=True)
        callbacks = []
        if self.early_stopping_rounds is not None:
            callbacks.append(lgb.early_stopping(int(self.early_stopping_rounds), first_metric_only=True,
                                                verbose=False))
        booster = lgb.train(params, dtrain, num_boost_round=int(self.n_estimators), valid_sets=[dvalid],
                            valid_names=["validation"], callbacks=callbacks)
        best = int(booster.best_iteration) if booster.best_iteration and booster.best_iteration > 0 \
            else booster.current_iteration()
        # Keep exactly the best trees, as text: the fitted and a reloaded booster are the same model.
        self.booster_ = lgb.Booster(model_str=booster.model_to_string(num_iteration=best))
        self.best_iteration_ = best
        self.lgb_params_ = params
        self.n_train_, self.n_validation_ = len(tr), len(va)

        margin_va = self.booster_.predict(mat[va], raw_score=True, num_threads=int(self.n_jobs))
        # one-feature fits: thread pools only add start-up and, on a busy machine, spinning
        with threadpool_limits(limits=1):
            self.calibration_ = self._fit_calibration(margin_va, yv[va])
        self.factor_ = float(self.pdo) / math.log(2.0)
        self.offset_ = float(self.base_score) - self.factor_ * math.log(float(self.base_odds))
        self._prepare()
        return self

    def _constraints(self, feats: list[str], kinds: list[str], template: Template | None
                     ) -> tuple[list[int], list[str]]:
        direction = {}
        if template is not None:
            for ind in template.indicators:
                if ind.direction in ("higher_is_better", "lower_is_better"):
                    direction[ind.feature] = (-1 if ind.direction == "higher_is_better" else 1, f"template {ind.code}")
        explicit = dict(self.monotone or {})
        unknown = sorted(set(explicit) - set(feats))
        if unknown:
            raise ModelError(f"monotone names features that are not used: {unknown}")
        out, src = [], []
        for f, kind in zip(feats, kinds, strict=True):
            if f in explicit:
                c = explicit[f]
                if isinstance(c, bool) or c not in (-1, 0, 1):
                    raise ModelError(f"monotone[{f!r}] must be -1, 0 or 1, got {c!r}")
                if kind == "categorical" and c != 0:
                    raise ModelError(f"monotone[{f!r}]: a categorical feature cannot be monotone")
                out.append(int(c))
                src.append("given")
            elif kind == "numeric" and f in direction:
                out.append(direction[f][0])
                src.append(direction[f][1])
            else:
                out.append(0)
                src.append("none")
        return out, src

    def _lgb_params(self, feats: list[str], kinds: list[str], constraints: list[int]) -> dict[str, Any]:
        params: dict[str, Any] = {
            "objective": "binary",
            "metric": "binary_logloss",
            "learning_rate": float(self.learning_rate),
            "num_leaves": int(self.num_leaves),
            "max_depth": int(self.max_depth),
            "min_data_in_leaf": int(self.min_child_samples),
            "lambda_l2": float(self.reg_lambda),
            "bagging_fraction": float(self.subsample),
            "bagging_freq": 1 if self.subsample < 1.0 else 0,
            "feature_fraction": float(self.colsample_bytree),
            "max_bin": int(self.max_bin),
            "seed": int(self.random_state),
            "deterministic": True,
            "force_row_wise": True,
            "num_threads": int(self.n_jobs),
            "verbose": -1,
        }
        if any(constraints):
            params["monotone_constraints"] = list(constraints)
        return params

    def _fit_calibration(self, margin: np.ndarray, y: np.ndarray) -> dict[str, Any]:
        methods = ["isotonic", "sigmoid"] if self.calibration == "auto" else [self.calibration]
        scores: dict[str, dict[str, float]] = {}
        chosen_by = "given"
        if len(methods) > 1:
            events = int(y.sum())
            folds = min(_CAL_FOLDS, events, len(y) - events)
            if folds >= 2:
                skf = StratifiedKFold(n_splits=folds, shuffle=True, random_state=self.random_state)
                splits = list(skf.split(margin.reshape(-1, 1), y))
                for method in methods:
                    oof = np.empty(len(y))
                    for tr, te in splits:
                        oof[te] = _apply_calibration(_fit_calibrator(method, margin[tr], y[tr]), margin[te])
                    scores[method] = {"brier": metrics.brier(y, oof), "log_loss": float(log_loss(y, oof))}
                metric = self.calibration_metric
                # ties go to Platt: two parameters rather than a step function
                chosen = min(methods, key=lambda m: (scores[m][metric], m != "sigmoid"))
                chosen_by = f"{folds}-fold out-of-fold {metric} on the validation split"
            else:
                chosen, chosen_by = "sigmoid", "too few events for cross-validation"
        else:
            chosen = methods[0]
        fitted = _fit_calibrator(chosen, margin, y)
        if fitted["method"] == "sigmoid" and fitted["a"] <= 0:
            # a non-increasing Platt map would reverse the ranking; isotonic stays monotone
            fitted = _fit_calibrator("isotonic", margin, y)
            chosen_by += "; Platt slope not positive, isotonic used"
        return {**fitted, "chosen_by": chosen_by, "scores": scores}

    def _reason_texts(self, feats: list[str], template: Template | None) -> list[tuple[str, str, str]]:
        from ruralcredit.features import FEATURES

        by_feature = {}
        if template is not None:
            for ind in template.indicators:
                by_feature.setdefault(ind.feature, (ind.code, ind.name_zh, ind.name_en))
        out = []
        for f in feats:
            if f in by_feature:
                out.append(by_feature[f])
            elif f in FEATURES:
                spec = FEATURES[f]
                # the catalogue's English descriptions carry definitions after ";" or " (": keep the name
                short_en = spec.description_en.split(";")[0].split(" (")[0].strip() or f
                out.append((f, spec.description_zh, short_en))
            else:
                out.append((f, f, f))
        return out

    # ---------------------------------------------------------------- derived lookups
    def _prepare(self) -> None:
        """Lookups shared by the batch and record paths (also rebuilt by :meth:`from_dict`)."""
        feats = [str(f) for f in self.feature_names_in_]
        self._features = feats
        self._cat_index = {f: pd.Index(c, dtype=object) for f, c in self.categories_.items()}
        codes, zh, en = [], [], []
        for code, name_zh, name_en in self.reason_info_:
            codes += [code] * 3
            zh += [f"{name_zh}：推高违约风险", f"缺失：{name_zh}（推高违约风险）", f"无法识别的取值：{name_zh}（按缺失计，推高违约风险）"]
            en += [f"{name_en}: raised the default risk", f"missing: {name_en} (raised the default risk)",
                   f"unrecognised value: {name_en} (scored as missing; raised the default risk)"]
        # the template's vetoes: their reason texts follow the features' (before the empty entry)
        vetoes = self.vetoes_
        self._veto_plan = None if vetoes is None else VetoPlan(vetoes, f"GbmScorer {self.name!r} (its template)")
        if self._veto_plan is not None:
            self._veto_plan.place_texts(len(codes))
            for code, vzh, ven in self._veto_plan.texts:
                codes.append(code)
                zh.append(vzh)
                en.append(ven)
            self.input_columns_ = [*feats, *self._veto_plan.features]
        else:
            self.__dict__.pop("input_columns_", None)  # a refit without a template
        self._reason_lists = ([*codes, ""], [*zh, ""], [*en, ""])
        self._empty_text = len(codes)
        self._reason_cats = []
        for table in self._reason_lists:
            uniq, inverse = np.unique(np.asarray(table, dtype=object).astype(str), return_inverse=True)
            self._reason_cats.append((pd.Index(uniq, dtype="str"), inverse.astype(np.int32)))
        k = int(self.n_reasons)
        self._reason_keys = ([f"reason_{j + 1}" for j in range(k)] + [f"reason_{j + 1}_zh" for j in range(k)]
                             + [f"reason_{j + 1}_en" for j in range(k)])
        # record path: per feature, (name, is_numeric, category -> code)
        self._record_plan = [
            (f, kind == "numeric", {c: i for i, c in enumerate(self.categories_.get(f, []))})
            for f, kind in zip(feats, self.feature_kinds_, strict=True)
        ]
        cal = self.calibration_
        self._cal = {"method": cal["method"], "x": np.asarray(cal.get("x", ()), dtype=np.float64),
                     "y": np.asarray(cal.get("y", ()), dtype=np.float64), "a": float(cal.get("a", 0.0)),
                     "b": float(cal.get("b", 0.0))}
        self._scale = 10.0 ** int(self.score_decimals)
        state = {k: v for k, v in self._state().items() if k != "params"}
        self.model_hash_ = hashlib.sha256(
            json.dumps(state, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()).hexdigest()
        self._constant_out = {"scorer_id": str(self.name), "scorer_version": _library_version(),
                              "model_hash": self.model_hash_}

    def _check_fitted(self) -> None:
        if not hasattr(self, "booster_"):
            raise ModelError("GbmScorer is not fitted: call fit(X, y) first")

    # ---------------------------------------------------------------- PD and points
    def _pd(self, margin: np.ndarray) -> np.ndarray:
        return _apply_calibration(self._cal, margin)

    def _points(self, pd_: np.ndarray) -> np.ndarray:
        raw = self.offset_ + self.factor_ * (np.log1p(-pd_) - np.log(pd_))
        s = np.clip(raw, 0.0, float(self.grade_scale_.max_score))
        return np.minimum(np.floor(s * self._scale + 0.5) / self._scale, float(self.grade_scale_.max_score))

    def decision_function(self, X: pd.DataFrame) -> np.ndarray:
        """The booster's raw margin: log-odds of default before calibration."""
        self._check_fitted()
        self._check_frame(X)
        mat, _ = self._encode(X)
        return self.booster_.predict(mat, raw_score=True, num_threads=int(self.n_jobs))

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        """Calibrated probabilities ``[P(no default), P(default)]``, shape ``(n, 2)``."""
        p = self._pd(self.decision_function(X))
        return np.column_stack([1.0 - p, p])

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """The more likely label (default when its calibrated probability is >= 0.5)."""
        p = self.predict_proba(X)[:, 1]
        return self.classes_[(p >= 0.5).astype(np.int64)]

    def contributions(self, X: pd.DataFrame) -> pd.DataFrame:
        """Per-feature TreeSHAP contributions to the raw margin, plus ``expected_value``.

        Each row sums to :meth:`decision_function` of that row (up to rounding): the expected value
        is the model's average margin, each feature's contribution how far it moved this subject's
        margin (log-odds of default) from there.

        Returns
        -------
        DataFrame
            One column per feature, then ``expected_value``; the index of ``X``.
        """
        self._check_fitted()
        self._check_frame(X)
        mat, _ = self._encode(X)
        contrib = np.empty((len(mat), len(self._features) + 1))
        for i in range(0, len(mat), _BLOCK):
            contrib[i:i + _BLOCK] = self.booster_.predict(mat[i:i + _BLOCK], pred_contrib=True,
                                                                   num_threads=int(self.n_jobs))
        return pd.DataFrame(contrib, columns=[*self._features, "expected_value"], index=X.index)

    # ---------------------------------------------------------------- scoring
    def score(self, X: pd.DataFrame, y: Any = None, *, reasons: bool = True) -> Any:
        """Score subjects: the shared score frame; or, given ``y``, the ROC AUC of the PD.

        Parameters
        ----------
        X : DataFrame
            ``id_column`` plus every feature in :attr:`feature_names_in_` (other columns are
            ignored).
        y : array-like, optional
            When given, return the ROC AUC (what scikit-learn's model selection maximises).
        reasons : bool, default True
            Compute the reason codes (TreeSHAP contributions: most of the time of a large batch).
            Without them the reason columns are ``""``; scores, PDs and grades are the same.

        Returns
        -------
        DataFrame or float
            The columns listed in the module docstring, in the input's row order.

        Raises
        ------
        ModelError
            Not fitted, not a DataFrame, missing columns, ``subject_id`` missing or duplicated,
            unusable values, an unseen category under ``unseen_category="error"``.
        """
        self._check_fitted()
        if y is not None:
            target = (np.asarray(y) == self.classes_[1]).astype(int)
            return metrics.auc(target, self.predict_proba(X)[:, 1])
        self._check_frame(X)
        if self.id_column not in X.columns:
            raise ModelError(f"feature frame lacks the {self.id_column} column")
        sid = X[self.id_column]
        if sid.isna().any():
            raise ModelError(f"{int(sid.isna().sum())} row(s) without a {self.id_column}")
        if not sid.is_unique:
            dup = sid.duplicated(keep=False)
            raise ModelError(f"duplicate {self.id_column} values {sorted(map(str, sid[dup].unique()))[:20]}")
        plan = self._veto_plan
        veto_matrix = None
        if plan is not None:
            plan.check_columns(X)
            veto_matrix = plan.matrix(X, self.id_column)
        n = len(X)
        k = int(self.n_reasons)
        mat, st = self._encode(X, status=reasons)
        margin = self.booster_.predict(mat, raw_score=True, num_threads=int(self.n_jobs)) if n else np.empty(0)
        pd_ = self._pd(margin)
        scores = self._points(pd_)
        text_id = np.full((n, k), self._empty_text, dtype=np.int64)
        if reasons and n:
            assert st is not None
            for i in range(0, n, _BLOCK):
                block = slice(i, min(i + _BLOCK, n))
                contrib = self.booster_.predict(mat[block], pred_contrib=True, num_threads=int(self.n_jobs))[:, :-1]
                text_id[block] = self._reason_ids(contrib, st[block], k)
        vetoed = None
        if veto_matrix is not None:
            vetoed = veto_matrix.any(axis=1)
            # a vetoed subject's first reasons are its vetoes (also without reasons=True), then the model's
            text_id = plan.prepend(veto_matrix, text_id)
        out: dict[str, Any] = {"subject_id": sid.array, "score": scores, "pd": pd_,
                               "grade": self._grades(scores, vetoed)}
        if veto_matrix is not None:
            out["vetoes"] = plan.joined(veto_matrix)
        for (cats, inverse), suffix in zip(self._reason_cats, ("", "_zh", "_en"), strict=True):
            for j in range(k):
                out[f"reason_{j + 1}{suffix}"] = pd.Categorical.from_codes(inverse.take(text_id[:, j]),
                                                                           categories=cats)
        one = np.zeros(n, dtype=np.int8)
        for col, value in self._constant_out.items():
            out[col] = pd.Categorical.from_codes(one, categories=pd.Index([value], dtype="str"))
        return pd.DataFrame(out)

    def _reason_ids(self, contrib: np.ndarray, status: np.ndarray, k: int) -> np.ndarray:
        """Text ids of the top-k positive contributions per row (ties to the first feature)."""
        m, p = contrib.shape
        kk = min(k, p)
        order = np.argsort(-contrib, axis=1, kind="stable")[:, :kk]
        top = np.take_along_axis(contrib, order, axis=1)
        stat = np.take_along_axis(status, order, axis=1).astype(np.int64)
        ids = np.where(top > 0, order * 3 + stat, self._empty_text)
        if kk < k:
            ids = np.hstack([ids, np.full((m, k - kk), self._empty_text, dtype=np.int64)])
        return ids

    def _grades(self, scores: np.ndarray, vetoed: np.ndarray | None = None) -> pd.Categorical:
        """Grades as a categorical, best first; with a template's vetoes the veto grade comes last."""
        scale = self.grade_scale_
        thresholds = np.asarray([g.min_score for g in scale.grades[:-1]][::-1], dtype=np.float64)
        ng = len(scale.grades)
        codes = (ng - 1) - np.searchsorted(thresholds, scores, side="right")
        names = list(scale.grade_names)
        if self._veto_plan is not None:
            names.append(scale.veto_grade)
            if vetoed is not None:
                codes[vetoed] = ng
        return pd.Categorical.from_codes(codes, categories=pd.Index(names, dtype="str"))

    def score_record(self, record: Mapping[str, Any], reasons: bool = True) -> dict[str, Any]:
        """Score one subject given as a dict: a 1-row NumPy array straight to the booster, no pandas.

        Parameters
        ----------
        record : mapping
            Feature name to value, plus ``subject_id`` (optional). An absent key, ``None``, NaN or
            ``pd.NA`` is missing; a categorical value is matched as text.
        reasons : bool
            Compute the reasons (a second booster call, the contributions; about ten times the
            margin's cost).

        Returns
        -------
        dict
            The same keys and values as one row of :meth:`score`.

        Raises
        ------
        ModelError
            Not fitted, a value of the wrong type, an infinite number, an unseen category under
            ``unseen_category="error"``.
        """
        booster = self.__dict__.get("booster_")
        if booster is None:
            raise ModelError("GbmScorer is not fitted: call fit(X, y) first")
        hits = self._veto_plan.record_hits(record) if self._veto_plan is not None else None
        plan = self._record_plan
        x = np.empty((1, len(plan)), dtype=np.float64)
        status = [0] * len(plan)
        get = record.get
        for j, (f, numeric, cats) in enumerate(plan):
            v = get(f)
            if _is_missing(v):
                x[0, j] = math.nan
                status[j] = _MISSING
            elif numeric:
                if isinstance(v, (str, bytes)) or not isinstance(v, (numbers.Real, np.bool_)):
                    raise ModelError(f"feature {f!r}: expected a number, got {type(v).__name__}")
                fv = float(v)
                if math.isinf(fv):
                    raise ModelError(f"feature {f!r}: infinite value")
                x[0, j] = fv
            else:
                c = cats.get(str(v))
                if c is None:
                    if self.unseen_category == "error":
                        raise ModelError(f"feature {f!r}: value {str(v)!r} not seen at fit "
                                         "(unseen_category='error')")
                    x[0, j] = math.nan
                    status[j] = _UNSEEN_CAT
                else:
                    x[0, j] = c
        # one thread: for one row, LightGBM's OpenMP start-up would cost more than the trees
        margin = booster.predict(x, raw_score=True, num_threads=1)
        pd_ = self._pd(margin)
        score = self._points(pd_)
        s = float(score[0])
        out: dict[str, Any] = {"subject_id": get(self.id_column), "score": s, "pd": float(pd_[0]),
                               "grade": self.grade_scale_.assign_one(s, bool(hits))}
        if hits is not None:
            out["vetoes"] = ",".join(hits)
        k = int(self.n_reasons)
        ids = [self._empty_text] * k
        if reasons:
            contrib = booster.predict(x, pred_contrib=True, num_threads=1)[0, :-1].tolist()
            ranked = sorted((j for j in range(len(contrib)) if contrib[j] > 0), key=lambda j: (-contrib[j], j))
            for i, j in enumerate(ranked[:k]):
                ids[i] = j * 3 + status[j]
        if hits:  # the vetoes first, then the model's reasons
            ids = self._veto_plan.prepend_record(hits, ids, k)
        keys = self._reason_keys
        for table_i, table in enumerate(self._reason_lists):
            for i, t in enumerate(ids):
                out[keys[table_i * k + i]] = table[t]
        out.update(self._constant_out)
        return out

    # ---------------------------------------------------------------- persistence
    def _state(self) -> dict[str, Any]:
        params = self.get_params(deep=False)
        params["template"] = None  # kept as template_info and the reason texts
        gs = params["grade_scale"]
        params["grade_scale"] = None if gs is None or isinstance(gs, (GradeScale, GradeScalePack)) else str(gs)
        params["as_of"] = None if self.as_of is None else str(self.as_of)
        params["features"] = None if self.features is None else list(self.features)
        params["monotone"] = None if self.monotone is None else {str(k): int(v) for k, v in self.monotone.items()}
        cal = self.calibration_
        return {
            "params": params,
            "booster": self.booster_.model_to_string(),
            "features": [str(f) for f in self.feature_names_in_],
            "feature_kinds": list(self.feature_kinds_),
            "categories": {f: list(c) for f, c in self.categories_.items()},
            "monotone_constraints": [int(c) for c in self.monotone_constraints_],
            "monotone_sources": list(self.monotone_sources_),
            "best_iteration": int(self.best_iteration_),
            "calibration": {"method": cal["method"], "x": [float(v) for v in cal.get("x", ())],
                            "y": [float(v) for v in cal.get("y", ())], "a": float(cal.get("a", 0.0)),
                            "b": float(cal.get("b", 0.0)), "chosen_by": cal["chosen_by"],
                            "scores": cal["scores"]},
            "factor": float(self.factor_),
            "offset": float(self.offset_),
            "grade_scale": self.grade_scale_.model_dump(mode="json"),
            "template_info": self.template_info_,
            "reason_info": [list(r) for r in self.reason_info_],
            "classes": self.classes_.tolist(),
            "lgb_params": dict(self.lgb_params_),
            "n_train": int(self.n_train_),
            "n_validation": int(self.n_validation_),
            # the template's vetoes (absent without a template: the hash of such a scorer is unchanged)
            **({} if self.vetoes_ is None else {"vetoes": vetoes_to_json(self.vetoes_)}),
        }

    def to_dict(self) -> dict[str, Any]:
        """The fitted scorer as JSON-able values (the booster as LightGBM's model text).

        Works with :func:`ruralcredit.models.save`; :meth:`from_dict` rebuilds a scorer whose
        scores, PDs, grades and reasons are identical. A template is kept as its id, version and
        hash plus the reason texts it gave (not the template itself).
        """
        self._check_fitted()
        return {"format": _FORMAT, "format_version": _FORMAT_VERSION, **self._state()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> GbmScorer:
        """Rebuild a fitted scorer from :meth:`to_dict` output.

        Raises
        ------
        ModelError
            Not a GBM scorer description, an unknown format version, or malformed content.
        """
        if not isinstance(data, Mapping) or data.get("format") != _FORMAT:
            raise ModelError(f"not a GBM scorer description (missing 'format': {_FORMAT!r})")
        version = data.get("format_version")
        if version not in _READABLE_VERSIONS:
            raise ModelError(f"GBM scorer format version {version!r} is not supported (this ruralcredit reads "
                             f"versions {list(_READABLE_VERSIONS)})")
        try:
            params = dict(data["params"])
            sc = cls(**params)
            sc.booster_ = lgb.Booster(model_str=str(data["booster"]))
            sc.feature_names_in_ = np.asarray(data["features"], dtype=object)
            sc.n_features_in_ = len(sc.feature_names_in_)
            sc.feature_kinds_ = [str(k) for k in data["feature_kinds"]]
            sc.categories_ = {str(f): [str(c) for c in cs] for f, cs in data["categories"].items()}
            sc.monotone_constraints_ = [int(c) for c in data["monotone_constraints"]]
            sc.monotone_sources_ = [str(s) for s in data["monotone_sources"]]
            sc.best_iteration_ = int(data["best_iteration"])
            cal = dict(data["calibration"])
            if cal["method"] not in ("isotonic", "sigmoid"):
                raise ValueError(f"unknown calibration {cal['method']!r}")
            sc.calibration_ = cal
            sc.factor_ = float(data["factor"])
            sc.offset_ = float(data["offset"])
            sc.grade_scale_ = GradeScale.model_validate(data["grade_scale"])
            sc.template_info_ = data["template_info"]
            sc.reason_info_ = [tuple(str(v) for v in r) for r in data["reason_info"]]
            # version 2 keeps the template's vetoes; a version 1 scorer applied none
            sc.vetoes_ = vetoes_from_json(data.get("vetoes")) if version >= 2 else None
            sc.classes_ = np.asarray(data["classes"])
            sc.lgb_params_ = dict(data["lgb_params"])
            sc.n_train_ = int(data["n_train"])
            sc.n_validation_ = int(data["n_validation"])
            if len(sc.feature_kinds_) != sc.n_features_in_ or len(sc.reason_info_) != sc.n_features_in_:
                raise ValueError("features, kinds and reason texts differ in length")
            sc._prepare()
        except (KeyError, TypeError, ValueError, lgb.basic.LightGBMError) as exc:
            raise ModelError(f"malformed GBM scorer description: {exc!r}") from exc
        return sc

    def model_summary(self) -> dict[str, Any]:
        """A JSON-able summary for model files and registries: features, constraints, calibration."""
        self._check_fitted()
        gain = self.booster_.feature_importance(importance_type="gain")
        return {
            "kind": "gbm",
            "features": [str(f) for f in self.feature_names_in_],
            "monotone_constraints": dict(zip(self._features, self.monotone_constraints_, strict=True)),
            "importance_gain": {f: float(g) for f, g in zip(self._features, gain, strict=True)},
            "best_iteration": int(self.best_iteration_),
            "calibration": {"method": self.calibration_["method"], "chosen_by": self.calibration_["chosen_by"],
                            "scores": self.calibration_["scores"]},
            "scaling": {"pdo": float(self.pdo), "base_score": float(self.base_score),
                        "base_odds": float(self.base_odds), "factor": self.factor_, "offset": self.offset_,
                        "max_score": float(self.grade_scale_.max_score)},
            "template": self.template_info_,
            "model_hash": self.model_hash_,
        }


def _fit_calibrator(method: str, margin: np.ndarray, y: np.ndarray) -> dict[str, Any]:
    """Fit one PD calibration map on margins with scikit-learn; return its parameters."""
    if method == "isotonic":
        iso = IsotonicRegression(y_min=0.0, y_max=1.0, increasing=True, out_of_bounds="clip").fit(margin, y)
        return {"method": "isotonic", "x": iso.X_thresholds_.astype(np.float64),
                "y": iso.y_thresholds_.astype(np.float64)}
    lr = LogisticRegression(C=np.inf).fit(margin.reshape(-1, 1), y)
    return {"method": "sigmoid", "a": float(lr.coef_[0, 0]), "b": float(lr.intercept_[0])}


def _apply_calibration(fitted: Mapping[str, Any], margin: np.ndarray) -> np.ndarray:
    """Evaluate a fitted map: ``np.interp`` over the isotonic thresholds (what scikit-learn's
    ``IsotonicRegression.predict`` computes with ``out_of_bounds="clip"``), or Platt's logistic."""
    if fitted["method"] == "isotonic":
        p = np.interp(margin, fitted["x"], fitted["y"])
    else:
        p = expit(fitted["a"] * margin + fitted["b"])
    return np.clip(p, _PD_FLOOR, 1.0 - _PD_FLOOR)
