"""Grade scales (评级标准): score thresholds for AAA / AA / A / B / C and the credit-household grades.

A grade scale is configuration, never constants in code: it lives inside an indicator template
(``payload.grade_scale``) or as its own policy pack (kind ``grade_scale``), so a county can move a
threshold or use another scale (e.g. 0-1000) without touching code. The local norm (DOMAIN.md
section 2, [V]) is the 100-point scale with AAA >= 80, AA >= 70, A >= 60; AAA, AA and A are credit
households (信用户); B (>= 50) and C are common practice [G].

A vetoed subject (blacklisted, bad credit record or criminal record within 5 years, ...) gets the
scale's ``veto_grade`` (``"VETO"`` by default) instead of a grade from its score, and is never a
credit household.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator

from ruralcredit.errors import InputError
from ruralcredit.packs import PolicyPack

__all__ = ["Grade", "GradeScale", "GradeScalePack"]


class Grade(BaseModel):
    """One grade of a scale: its name, the lowest score that earns it, and whether it is a credit grade.

    Parameters
    ----------
    grade : str
        ``"AAA"``, ``"AA"``, ...
    min_score : float or None
        Scores ``>= min_score`` earn the grade (if no better grade applies); ``None`` for the
        lowest grade, which takes every score below the others.
    credit_household : bool
        Holders are credit households (信用户) / trustworthy subjects.
    name_zh, name_en : str
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    grade: str = Field(min_length=1, max_length=10)
    min_score: float | None
    credit_household: bool = False
    name_zh: str = ""
    name_en: str = ""


class GradeScale(BaseModel):
    """Score thresholds for grades, best grade first.

    Parameters
    ----------
    max_score : float
        Top of the scale (100 on the local 100-point norm).
    grades : sequence of Grade
        Best first, with strictly decreasing ``min_score``; the last grade has ``min_score: null``.
        Credit grades must be the top ones.
    veto_grade : str
        What a vetoed subject is graded (not one of ``grades``; never a credit grade).

    Examples
    --------
    >>> scale = GradeScale.default()
    >>> scale.assign([85.0, 80.0, 79.5, 55.0, 10.0]).tolist()
    ['AAA', 'AAA', 'AA', 'B', 'C']
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_score: float = Field(default=100.0, gt=0)
    grades: tuple[Grade, ...]
    veto_grade: str = Field(default="VETO", min_length=1, max_length=10)

    @model_validator(mode="after")
    def _check(self) -> GradeScale:
        g = self.grades
        if len(g) < 2:
            raise ValueError("a grade scale needs at least two grades")
        names = [x.grade for x in g]
        if len(set(names)) != len(names):
            raise ValueError(f"grade names must be unique, got {names}")
        if self.veto_grade in names:
            raise ValueError(f"veto_grade {self.veto_grade!r} must not also be a score grade")
        if g[-1].min_score is not None:
            raise ValueError(f"the lowest grade {g[-1].grade!r} takes every remaining score: min_score must be null")
        mins = [x.min_score for x in g[:-1]]
        for x in g[:-1]:
            if x.min_score is None or not math.isfinite(x.min_score):
                raise ValueError(f"grade {x.grade!r} needs a finite min_score")
            if not 0 <= x.min_score <= self.max_score:
                raise ValueError(f"grade {x.grade!r}: min_score {x.min_score:g} outside 0..{self.max_score:g}")
        if any(b >= a for a, b in zip(mins, mins[1:], strict=False)):  # type: ignore[operator]
            raise ValueError(f"min_score must strictly decrease from the best grade down, got {mins}")
        flags = [x.credit_household for x in g]
        if not any(flags):
            raise ValueError("no grade is a credit grade (credit_household: true)")
        if flags != sorted(flags, reverse=True):
            raise ValueError("credit grades must be the top grades of the scale")
        return self

    @classmethod
    def default(cls) -> GradeScale:
        """The local norm: AAA >= 80, AA >= 70, A >= 60 (credit households), B >= 50, C below (100 points).

        Provided for examples and tests; production code takes the scale from a template or pack.
        """
        return cls(grades=(
            Grade(grade="AAA", min_score=80, credit_household=True, name_zh="优秀", name_en="excellent"),
            Grade(grade="AA", min_score=70, credit_household=True, name_zh="较好", name_en="good"),
            Grade(grade="A", min_score=60, credit_household=True, name_zh="一般", name_en="fair"),
            Grade(grade="B", min_score=50, name_zh="较差", name_en="weak"),
            Grade(grade="C", min_score=None, name_zh="差", name_en="poor"),
        ))

    @property
    def grade_names(self) -> list[str]:
        """Grades, best first."""
        return [g.grade for g in self.grades]

    @property
    def credit_grades(self) -> list[str]:
        """The grades whose holders are credit households, best first."""
        return [g.grade for g in self.grades if g.credit_household]

    def _tables(self) -> tuple[np.ndarray, np.ndarray]:
        asc = self.grades[::-1]
        thresholds = np.asarray([g.min_score for g in asc[1:]], dtype="float64")
        names = np.asarray([g.grade for g in asc], dtype=object)
        return thresholds, names

    def assign(self, scores: Sequence[float] | np.ndarray | pd.Series,
               vetoed: Sequence[bool] | np.ndarray | pd.Series | None = None) -> np.ndarray:
        """Grades for scores (vectorised): ``searchsorted`` over the thresholds.

        Parameters
        ----------
        scores : array-like of float
        vetoed : array-like of bool, optional
            Rows graded :attr:`veto_grade` whatever their score.

        Returns
        -------
        ndarray of object (str)

        Raises
        ------
        InputError
            Missing (NaN) scores, scores outside ``0..max_score``, or ``vetoed`` of another length.
        """
        s = np.asarray(scores, dtype="float64")
        if s.ndim != 1:
            raise InputError(f"scores must be one-dimensional, got shape {s.shape}", argument="scores")
        bad = np.isnan(s) | (s < 0) | (s > self.max_score)
        if bad.any():
            raise InputError(f"{int(bad.sum())} score(s) missing or outside 0..{self.max_score:g} "
                             f"(first at position {int(np.flatnonzero(bad)[0])})", argument="scores")
        thresholds, names = self._tables()
        out = names.take(np.searchsorted(thresholds, s, side="right"))
        if vetoed is not None:
            v = np.asarray(vetoed, dtype=bool)
            if v.shape != s.shape:
                raise InputError(f"vetoed has shape {v.shape}, scores {s.shape}", argument="vetoed")
            out[v] = self.veto_grade
        return out

    def assign_one(self, score: float, vetoed: bool = False) -> str:
        """The grade of one score (pure Python)."""
        if vetoed:
            return self.veto_grade
        if not (0 <= score <= self.max_score):
            raise InputError(f"score {score!r} missing or outside 0..{self.max_score:g}", argument="score")
        for g in self.grades:
            if g.min_score is None or score >= g.min_score:
                return g.grade
        raise AssertionError("unreachable: the lowest grade has no minimum")  # pragma: no cover

    def is_credit(self, grades: Sequence[Any] | np.ndarray | pd.Series) -> np.ndarray:
        """Whether each grade is a credit grade (信用户); the veto grade and missing grades are not.

        Raises
        ------
        InputError
            A grade that is neither on the scale, the veto grade nor missing.
        """
        g = pd.Series(np.asarray(grades, dtype=object))
        known = g.isna() | g.isin([*self.grade_names, self.veto_grade])
        if not known.all():
            raise InputError(f"grades not on the scale: {sorted({str(x) for x in g[~known]})[:5]}; "
                             f"known: {[*self.grade_names, self.veto_grade]}", argument="grades")
        return g.isin(self.credit_grades).to_numpy(dtype=bool)


class GradeScalePack(PolicyPack):
    """A grade scale as its own dated policy pack (kind ``grade_scale``)."""

    KIND = "grade_scale"
    payload: GradeScale
