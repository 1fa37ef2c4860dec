"""Grades (信用等级) and the credit-household flag (信用户), vectorised.

The grade scale itself (:class:`~ruralcredit.templates.GradeScale`) is configuration: it comes from
an indicator template (``template.grade_scale``) or from a ``grade_scale`` policy pack
(:func:`load_grade_scale`); thresholds are never constants in code. On the local 100-point norm a
credit household holds AAA (>= 80), AA (>= 70) or A (>= 60) (DOMAIN.md section 2).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ruralcredit.errors import InputError
from ruralcredit.packs import load_pack
from ruralcredit.templates import Grade, GradeScale, GradeScalePack, Template

__all__ = ["Grade", "GradeScale", "GradeScalePack", "assign_grades", "is_credit_household", "load_grade_scale"]


def load_grade_scale(name_or_path: str | Path, as_of: Any, *, jurisdiction: str | None = None) -> GradeScale:
    """The grade scale of a ``grade_scale`` pack (built-in ``"kunming-100"`` or a YAML path) on ``as_of``.

    Raises
    ------
    PolicyError
        Unknown pack, malformed file, or no version in force on ``as_of``.
    """
    return load_pack(name_or_path, GradeScalePack, as_of, jurisdiction=jurisdiction).payload


def _scale(scale: GradeScale | Template | GradeScalePack) -> GradeScale:
    if isinstance(scale, GradeScale):
        return scale
    if isinstance(scale, Template):
        return scale.grade_scale
    if isinstance(scale, GradeScalePack):
        return scale.payload
    raise InputError(f"expected a GradeScale, a Template or a grade_scale pack, got {type(scale).__name__}",
                     argument="scale")


def assign_grades(scores: Sequence[float] | np.ndarray | pd.Series, scale: GradeScale | Template | GradeScalePack,
                  vetoed: Sequence[bool] | np.ndarray | pd.Series | None = None) -> np.ndarray | pd.Series:
    """Grades for scores (vectorised ``searchsorted`` over the scale's thresholds).

    Parameters
    ----------
    scores : array-like or Series of float
    scale : GradeScale, Template or GradeScalePack
    vetoed : array-like of bool, optional
        Rows that get the scale's veto grade whatever their score.

    Returns
    -------
    ndarray of str, or a Series (same index) when ``scores`` is a Series

    Raises
    ------
    InputError
        Missing scores, scores outside the scale, or ``vetoed`` of another length.

    Examples
    --------
    >>> assign_grades([80.0, 79.99, 60.0, 59.9, 10.0], GradeScale.default()).tolist()
    ['AAA', 'AA', 'A', 'B', 'C']
    """
    sc = _scale(scale)
    out = sc.assign(scores, vetoed)
    if isinstance(scores, pd.Series):
        return pd.Series(out, index=scores.index, name="grade", dtype="str")
    return out


def is_credit_household(grades: Sequence[Any] | np.ndarray | pd.Series,
                        scale: GradeScale | Template | GradeScalePack) -> np.ndarray | pd.Series:
    """Whether each grade makes a credit household (信用户): one of the scale's credit grades.

    The veto grade and missing grades (not rated) are never credit grades.

    Returns
    -------
    ndarray of bool, or a Series (same index) when ``grades`` is a Series

    Raises
    ------
    InputError
        A grade that is not on the scale.
    """
    flags = _scale(scale).is_credit(grades)
    if isinstance(grades, pd.Series):
        return pd.Series(flags, index=grades.index, name="credit_household")
    return flags
