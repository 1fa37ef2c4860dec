"""Weight-of-evidence encoding (WOE 编码) as a scikit-learn transformer.

:class:`WoeEncoder` bins every column with :class:`~ruralcredit.models.binning.OptimalBinning`
(monotone optimal bins, own bins for missing and special values, a saved policy for unseen
categories) and replaces each value by its bin's WOE, ``ln(non-event share / event share)``
(smoothed, see :mod:`ruralcredit.models.binning`). It follows scikit-learn's conventions: ``fit(X, y)``
needs the binary target (1 = event), ``transform`` returns a float array (or a frame with
``set_output(transform="pandas")``), ``get_feature_names_out`` names the columns, and it works in a
``Pipeline`` and with ``clone`` and ``GridSearchCV``.

Examples
--------
>>> import numpy as np, pandas as pd
>>> from sklearn.linear_model import LogisticRegression
>>> from sklearn.pipeline import make_pipeline
>>> rng = np.random.default_rng(0)
>>> X = pd.DataFrame({"income": rng.normal(size=500), "village": rng.choice(list("abc"), size=500)})
>>> y = (rng.random(500) < 1 / (1 + np.exp(2 * X["income"]))).astype(int)
>>> model = make_pipeline(WoeEncoder(max_bins=4), LogisticRegression()).fit(X, y)
>>> model.predict_proba(X).shape
(500, 2)
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data

from ruralcredit.errors import InputError
from ruralcredit.models.binning import BinningProcess, _as_frame, _binary_target


class _Classes:
    classes_: np.ndarray

__all__ = ["WoeEncoder"]


class WoeEncoder(BinningProcess):
    """Replace every value by the WOE of its optimal bin (scikit-learn transformer).

    Parameters are those of :class:`~ruralcredit.models.binning.BinningProcess` (binning options
    for every column, per-column overrides in ``binning_params``, special values, user splits, the
    unseen-category policy and the WOE smoothing).

    Attributes
    ----------
    binnings_ : dict of str to OptimalBinning
        The fitted binning of every column (columns of a NumPy input are named ``x0``, ``x1``, ...).
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when fitted on a frame with string column names (scikit-learn convention).
    iv_ : Series
        Information value per column.
    event_label_ : object
        The label counted as the event: the larger of the two labels of ``y`` (1 in 0/1 coding).
    """

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        tags.input_tags.allow_nan = True
        tags.input_tags.string = True
        tags.input_tags.categorical = True
        return tags

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> WoeEncoder:
        """Bin every column of ``X`` against ``y`` (binary, 1 = event).

        Parameters
        ----------
        X : DataFrame or array-like of shape (n, p)
        y : array-like of shape (n,)
        sample_weight : array-like of shape (n,), optional

        Returns
        -------
        WoeEncoder
            ``self``, fitted.
        """
        if y is None:
            raise InputError("WoeEncoder requires y to be passed, but the target y is None", argument="y")
        frame = _as_frame(X)
        validate_data(self, X, reset=True, skip_check_array=True)
        ys = np.asarray(y)
        if ys.ndim == 2 and ys.shape[1] == 1:
            ys = column_or_1d(ys, warn=True)
        if ys.ndim != 1 or len(ys) != len(frame):
            raise InputError(f"y must be one-dimensional with {len(frame)} values, got shape {ys.shape}",
                             argument="y")
        if pd.isna(ys).any():
            raise InputError("y has missing values", argument="y")
        holder = _Classes()
        y01 = _binary_target(holder, ys)
        self.event_label_ = holder.classes_[1]
        super().fit(frame, y01, sample_weight=sample_weight)
        if not hasattr(self, "feature_names_in_") or not isinstance(X, pd.DataFrame) \
                or not all(isinstance(c, str) for c in X.columns):
            self.__dict__.pop("feature_names_in_", None)
        self.n_features_in_ = frame.shape[1] if self.variables is None else len(self.binnings_)
        return self

    def _frame_for_transform(self, X: Any) -> pd.DataFrame:
        check_is_fitted(self, "binnings_")
        frame = _as_frame(X)
        if self.variables is None:
            validate_data(self, X, reset=False, skip_check_array=True)
        if self.variables is None and not isinstance(X, pd.DataFrame):
            # positional input: columns are x0, x1, ... as at fit
            frame = frame.set_axis(list(self.binnings_), axis=1)
        return frame

    def transform(self, X: Any, metric: str = "woe") -> np.ndarray:
        """WOE (or bin index with ``metric="index"``) of every column.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n, p)
        metric : {"woe", "index"}

        Returns
        -------
        ndarray of shape (n, n_features_out)
            float64 WOE values (int64 bin indices for ``metric="index"``).
        """
        frame = self._frame_for_transform(X)
        missing = [c for c in self.binnings_ if c not in frame.columns]
        if missing:
            raise InputError(f"columns missing from the frame: {missing}", argument="X")
        dtype = np.int64 if metric == "index" else np.float64
        out = np.empty((len(frame), len(self.binnings_)), dtype=dtype)
        for j, (c, b) in enumerate(self.binnings_.items()):
            out[:, j] = b.transform(frame[c], metric=metric)
        return out

    def fit_transform(self, X: Any, y: Any = None, sample_weight: Any = None, **_: Any) -> np.ndarray:
        """Fit, then return the WOE array."""
        return self.fit(X, y, sample_weight=sample_weight).transform(X)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """The output column names: the binned columns, in order.

        Parameters
        ----------
        input_features : array-like of str, optional
            Must equal the fitted names when given.

        Returns
        -------
        ndarray of str (object)
        """
        check_is_fitted(self, "binnings_")
        names = list(self.binnings_)
        if input_features is not None and self.variables is None:
            given = [str(c) for c in input_features]
            if hasattr(self, "feature_names_in_") and given != list(self.feature_names_in_):
                raise InputError("input_features differ from the names seen at fit", argument="input_features")
            if len(given) != len(names):
                raise InputError(f"expected {len(names)} input features, got {len(given)}",
                                 argument="input_features")
            names = given
        return np.asarray(names, dtype=object)
