"""Anomaly detection with an isolation forest (异常检测), batch-independent by construction.

:class:`AnomalyDetector` learns, on a reference frame of features, everything it needs to turn a row
into numbers (the columns, their categories, the medians that fill missing values, robust scales)
and an :class:`sklearn.ensemble.IsolationForest`. Scoring then uses only the row itself and these
fitted attributes, so a subject's score does not depend on which other subjects are scored with it
(the property tests check this). The score is the forest's anomaly score in (0, 1]: about 0.5 for
ordinary rows, near 1 for rows isolated in few splits (Liu, Ting and Zhou 2008).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.ensemble import IsolationForest

from ruralcredit.errors import InputError, ModelError
from ruralcredit.models.protected import check_no_protected

__all__ = ["AnomalyDetector"]


def _as_frame(X: Any, argument: str = "X") -> pd.DataFrame:
    if isinstance(X, pd.DataFrame):
        return X
    raise InputError(f"expected a pandas DataFrame of features, got {type(X).__name__}", argument=argument)


class AnomalyDetector(BaseEstimator):
    """Isolation-forest anomaly scores for subjects' features.

    Parameters
    ----------
    features : sequence of str, optional
        Columns to use; default every numeric, boolean and categorical column except ``id_column``.
        Protected attributes (ethnicity, gender, religion) are refused.
    n_estimators : int, default 200
    max_samples : int or "auto", default "auto"
        Rows drawn for each tree (``auto``: min(256, n)).
    random_state : int, default 0
    id_column : str, default "subject_id"
    name : str, default "iforest"
        Shown in warnings' evidence (``detector``).
    subject_type : str, default "household"
        The ``subject_type`` of the warnings it raises.

    Attributes
    ----------
    feature_names_in_ : list of str
    categories_ : dict of str to list
        Categories of each categorical feature as seen in fitting (others score as an extra code).
    medians_ : numpy.ndarray
        Fill values for missing features (fit-time medians).
    scales_ : numpy.ndarray
        Robust scales (IQR / 1.349, else the standard deviation, else 1) for explanations.
    forest_ : sklearn.ensemble.IsolationForest
    """

    def __init__(self, features: Sequence[str] | None = None, n_estimators: int = 200,
                 max_samples: int | str = "auto", random_state: int = 0, id_column: str = "subject_id",
                 name: str = "iforest", subject_type: str = "household") -> None:
        self.features = features
        self.n_estimators = n_estimators
        self.max_samples = max_samples
        self.random_state = random_state
        self.id_column = id_column
        self.name = name
        self.subject_type = subject_type

    # --- fitting -----------------------------------------------------------------------------------------

    def fit(self, X: pd.DataFrame, y: Any = None) -> AnomalyDetector:
        """Learn the columns, fill values and the forest from a reference frame.

        Raises
        ------
        InputError
            Not a DataFrame, no usable columns, a named feature missing, fewer than two rows.
        ModelError
            A protected attribute among the features.
        """
        frame = _as_frame(X)
        if self.features is None:
            cols = [c for c in frame.columns if c != self.id_column and (
                pd.api.types.is_numeric_dtype(frame[c].dtype) or pd.api.types.is_bool_dtype(frame[c].dtype)
                or isinstance(frame[c].dtype, pd.CategoricalDtype))]
        else:
            cols = list(self.features)
            missing = [c for c in cols if c not in frame.columns]
            if missing:
                raise InputError(f"features {missing} are not in the frame", argument="features", value=missing)
        check_no_protected(cols, "AnomalyDetector")
        if not cols:
            raise InputError("no numeric, boolean or categorical feature columns", argument="X")
        if len(frame) < 2:
            raise InputError("at least two rows are needed to fit", argument="X", value=len(frame))
        self.feature_names_in_ = cols
        self.n_features_in_ = len(cols)
        self.categories_ = {}
        for c in cols:
            s = frame[c]
            if not (pd.api.types.is_numeric_dtype(s.dtype) or pd.api.types.is_bool_dtype(s.dtype)):
                self.categories_[c] = sorted(pd.unique(s.dropna().astype(str)).tolist())
        Z = self._matrix(frame)
        with np.errstate(all="ignore"):
            med = np.nanmedian(Z, axis=0)
            q75, q25 = np.nanpercentile(Z, [75, 25], axis=0)
            std = np.nanstd(Z, axis=0)
        self.medians_ = np.where(np.isnan(med), 0.0, med)
        scale = (q75 - q25) / 1.349
        scale = np.where(np.isfinite(scale) & (scale > 0), scale, std)
        self.scales_ = np.where(np.isfinite(scale) & (scale > 0), scale, 1.0)
        self.forest_ = IsolationForest(n_estimators=self.n_estimators, max_samples=self.max_samples,
                                       random_state=self.random_state).fit(self._filled(Z))
        return self

    # --- transforming ------------------------------------------------------------------------------------

    def _matrix(self, frame: pd.DataFrame) -> np.ndarray:
        """Rows as float64: numbers as they are, booleans 0/1, categories as fitted codes; NaN kept."""
        out = np.empty((len(frame), len(self.feature_names_in_)))
        for j, c in enumerate(self.feature_names_in_):  # a loop over columns, not rows
            s = frame[c]
            if c in self.categories_:
                cats = self.categories_[c]
                present = s.notna().to_numpy()
                codes = pd.Index(cats, dtype=object).get_indexer(s.astype(object).astype(str).to_numpy(dtype=object))
                codes = codes.astype(np.float64)
                codes[(codes < 0) & present] = len(cats)  # unseen in fitting: a code of its own
                codes[~present] = np.nan
                out[:, j] = codes
            else:
                try:
                    out[:, j] = s.astype("Float64").to_numpy(dtype=np.float64, na_value=np.nan)
                except (TypeError, ValueError) as exc:
                    raise InputError(f"column {c!r} is not numeric", argument="X", value=c) from exc
        return out

    def _filled(self, Z: np.ndarray) -> np.ndarray:
        return np.where(np.isnan(Z), self.medians_, Z)

    def _checked(self, X: Any) -> np.ndarray:
        if not hasattr(self, "forest_"):
            raise ModelError("AnomalyDetector is not fitted: call fit first")
        frame = _as_frame(X)
        missing = [c for c in self.feature_names_in_ if c not in frame.columns]
        if missing:
            raise InputError(f"the frame lacks fitted features {missing}", argument="X", value=missing)
        return self._matrix(frame)

    # --- scoring -----------------------------------------------------------------------------------------

    def score(self, X: pd.DataFrame) -> np.ndarray:
        """Anomaly score of each row in (0, 1]: higher is more unusual (about 0.5 is ordinary).

        Each row's score depends only on that row and the fitted detector.

        Raises
        ------
        ModelError
            Not fitted.
        InputError
            A fitted feature missing from the frame.
        """
        Z = self._filled(self._checked(X))
        if len(Z) == 0:
            return np.zeros(0)
        return -self.forest_.score_samples(Z)

    def explain(self, X: pd.DataFrame) -> pd.DataFrame:
        """The most unusual feature of each row: the largest robust z-score against the fit medians.

        Returns
        -------
        DataFrame
            ``top_feature`` and ``top_z`` (signed), one row per input row (same index).
        """
        Z = self._checked(X)
        z = (Z - self.medians_) / self.scales_
        absz = np.where(np.isnan(z), -1.0, np.abs(z))
        j = np.argmax(absz, axis=1) if len(Z) else np.zeros(0, dtype=np.int64)
        names = np.asarray(self.feature_names_in_, dtype=object)
        top = z[np.arange(len(Z)), j] if len(Z) else np.zeros(0)
        return pd.DataFrame({"top_feature": names[j], "top_z": np.round(top, 3)}, index=X.index)

    def signal_frame(self, X: pd.DataFrame) -> pd.DataFrame:
        """The ``anomaly_score`` signal for :func:`~ruralcredit.risk.scan`: one row per subject with
        ``value`` (the score, 4 decimals), ``detector``, ``top_feature`` and ``top_z``.

        Raises
        ------
        InputError
            No ``id_column`` in the frame.
        """
        if self.id_column not in X.columns:
            raise InputError(f"the features need a {self.id_column!r} column", argument="features")
        score = self.score(X)
        why = self.explain(X)
        ids = X[self.id_column].astype(object).to_numpy()
        return pd.DataFrame({"subject_id": ids, "subject_type": self.subject_type, "key": self.name,
                             "value": score, "detector": self.name, "top_feature": why["top_feature"].to_numpy(),
                             "top_z": why["top_z"].to_numpy()})
