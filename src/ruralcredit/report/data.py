"""What a county report shows: :class:`ReportData`, every section optional.

The report reads results the library has already computed (scores, area ratings, warnings, cases,
listings, eligibility decisions, a fairness audit); it computes only summaries and the metrics of
:mod:`ruralcredit.models.metrics` from them. A section whose data is not given is left out of the
report with a one-line note saying so.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ruralcredit.blacklist import EligibilityResult
from ruralcredit.errors import InputError
from ruralcredit.models.fairness import FairnessReport
from ruralcredit.rating import AreaRating
from ruralcredit.schema import parse_as_of

__all__ = ["ReportData"]


def _require_frame(value: Any, argument: str, columns: Sequence[str], any_of: Sequence[str] = ()) -> None:
    """``value`` is a DataFrame with ``columns`` and at least one of ``any_of`` (if given)."""
    if not isinstance(value, pd.DataFrame):
        raise InputError(f"expected a pandas DataFrame, got {type(value).__name__}", argument=argument)
    missing = [c for c in columns if c not in value.columns]
    if missing:
        raise InputError(f"missing column(s) {missing}; has {list(value.columns)[:30]}", argument=argument,
                         value=missing)
    if any_of and not any(c in value.columns for c in any_of):
        raise InputError(f"needs one of the columns {list(any_of)}", argument=argument, value=list(any_of))


def _require_rating(value: Any, argument: str, level: str) -> None:
    if not isinstance(value, AreaRating):
        raise InputError(f"expected an AreaRating (from rate_{level}s), got {type(value).__name__}",
                         argument=argument)
    if value.level != level:
        raise InputError(f"expected a {level} rating, got a {value.level} rating", argument=argument,
                         value=value.level)


@dataclass(kw_only=True)
class ReportData:
    """Everything a county report (县域信用体系报告) can show; every section is optional.

    Parameters
    ----------
    county_name : str
        The county's name, e.g. ``"禄劝县"``.
    as_of : date-like
        The date the report is as of (parsed with :func:`ruralcredit.schema.parse_as_of`).
    county_code : str, optional
        Its 6-digit division code; taken from the village rating when not given.
    title : str, optional
        A title; default ``"<county_name> rural credit report / 农村信用体系报告"``.
    scores : DataFrame, optional
        Household scores: ``subject_id, score, grade`` and, for the grade mix, ``village_code`` and
        ``township_code`` (the township is looked up in ``villages`` when missing). A scorer's score
        frame (:class:`~ruralcredit.models.ExpertScorecard`) merged with the households' villages.
    villages, townships : AreaRating, optional
        Results of :func:`~ruralcredit.rating.rate_villages` / :func:`~ruralcredit.rating.rate_townships`
        (summary and the per-criterion long frame).
    rating_changes : DataFrame, optional
        :func:`~ruralcredit.rating.compare_periods` of two village (or township) ratings.
    outcomes : DataFrame, optional
        Observed outcomes for ROC, KS, gains and calibration: ``y`` (1 = default) and ``pd`` (higher =
        riskier) or ``score`` (higher = safer, a points score). With both, ``pd`` is used.
    psi : DataFrame or (array-like, array-like), optional
        Stability between periods: two score samples ``(reference, current)``, a
        :func:`~ruralcredit.models.metrics.psi_table` frame (``bin, expected_share, actual_share,
        psi``), or a :func:`~ruralcredit.models.metrics.csi` frame (``feature, psi``).
    psi_labels : (str, str)
        Names of the two periods, e.g. ``("2025-06-30", "2026-06-30")``.
    warnings : DataFrame, optional
        A warnings frame from :func:`ruralcredit.risk.scan`: ``subject_id, severity`` and
        ``category`` or ``rule_id`` (``text_zh``/``text_en`` shown for the most severe).
    cases : DataFrame, optional
        Cases from :meth:`ruralcredit.risk.cases.CaseBook.cases`: ``case_id, state`` (``assignee``,
        ``category``, ``severity`` used when present).
    blacklist : DataFrame or Registry, optional
        Listings (:meth:`ruralcredit.blacklist.Registry.listings`: ``category, status``); a Registry
        is read once, here, as known now.
    eligibility : EligibilityResult or DataFrame, optional
        Subsidy-eligibility decisions (:func:`~ruralcredit.blacklist.check_eligibility`); a frame
        needs ``subject_id, eligible``.
    fairness : FairnessReport, optional
        From :func:`ruralcredit.models.fairness.fairness_report`.
    model_card : str, optional
        A model card in Markdown (headings, lists, tables, paragraphs), shown last.

    Raises
    ------
    InputError
        A section of the wrong type or without the columns it needs; a bad ``as_of``.

    Examples
    --------
    >>> data = ReportData(county_name="示例县", as_of="2026-06-30")
    >>> data.as_of
    Timestamp('2026-06-30 00:00:00')
    """

    county_name: str
    as_of: Any
    county_code: str = ""
    title: str = ""
    scores: pd.DataFrame | None = None
    villages: AreaRating | None = None
    townships: AreaRating | None = None
    rating_changes: pd.DataFrame | None = None
    outcomes: pd.DataFrame | None = None
    psi: Any = None
    psi_labels: tuple[str, str] = ("reference", "current")
    warnings: pd.DataFrame | None = None
    cases: pd.DataFrame | None = None
    blacklist: Any = None
    eligibility: EligibilityResult | pd.DataFrame | None = None
    fairness: FairnessReport | None = None
    model_card: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.county_name, str) or not self.county_name.strip():
            raise InputError("must be non-empty text", argument="county_name", value=self.county_name)
        self.as_of = parse_as_of(self.as_of)
        if not isinstance(self.county_code, str):
            raise InputError(f"must be text, got {type(self.county_code).__name__}", argument="county_code")
        if not isinstance(self.title, str):
            raise InputError(f"must be text, got {type(self.title).__name__}", argument="title")
        if self.scores is not None:
            _require_frame(self.scores, "scores", ["subject_id", "score", "grade"])
        if self.villages is not None:
            _require_rating(self.villages, "villages", "village")
        if self.townships is not None:
            _require_rating(self.townships, "townships", "township")
        if not self.county_code and self.villages is not None and "county_code" in self.villages.summary:
            codes = pd.unique(self.villages.summary["county_code"].astype(str))
            if len(codes) == 1:
                self.county_code = str(codes[0])
        if self.rating_changes is not None:
            _require_frame(self.rating_changes, "rating_changes", ["change"])
        if self.outcomes is not None:
            _require_frame(self.outcomes, "outcomes", ["y"], any_of=["pd", "score"])
        self._check_psi()
        if (not isinstance(self.psi_labels, tuple) or len(self.psi_labels) != 2
                or not all(isinstance(s, str) for s in self.psi_labels)):
            raise InputError("must be a pair of texts (reference, current)", argument="psi_labels")
        if self.warnings is not None:
            _require_frame(self.warnings, "warnings", ["subject_id", "severity"], any_of=["category", "rule_id"])
        if self.cases is not None:
            _require_frame(self.cases, "cases", ["case_id", "state"])
        if self.blacklist is not None and not isinstance(self.blacklist, pd.DataFrame):
            listings = getattr(self.blacklist, "listings", None)
            if not callable(listings):
                raise InputError(f"expected a listings DataFrame or a Registry, got {type(self.blacklist).__name__}",
                                 argument="blacklist")
            self.blacklist = listings()
        if self.blacklist is not None:
            _require_frame(self.blacklist, "blacklist", ["category", "status"])
        if self.eligibility is not None and not isinstance(self.eligibility, EligibilityResult):
            _require_frame(self.eligibility, "eligibility", ["subject_id", "eligible"])
        if self.fairness is not None and not isinstance(self.fairness, FairnessReport):
            raise InputError(f"expected a FairnessReport, got {type(self.fairness).__name__}", argument="fairness")
        if self.model_card is not None and not isinstance(self.model_card, str):
            raise InputError(f"expected Markdown text, got {type(self.model_card).__name__}", argument="model_card")

    def _check_psi(self) -> None:
        p = self.psi
        if p is None:
            return
        if isinstance(p, pd.DataFrame):
            if "feature" in p.columns:
                _require_frame(p, "psi", ["feature", "psi"])
            else:
                _require_frame(p, "psi", ["bin", "expected_share", "actual_share", "psi"])
            return
        if isinstance(p, (tuple, list)) and len(p) == 2:
            for name, sample in zip(("reference", "current"), p, strict=True):
                arr = np.asarray(sample)
                if arr.ndim != 1 or arr.size == 0:
                    raise InputError(f"the {name} scores must be a non-empty 1-D array", argument="psi")
            return
        raise InputError("expected a (reference, current) pair of score arrays, a psi_table frame or a csi frame",
                         argument="psi")
