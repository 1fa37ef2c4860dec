"""Credit villages, townships and counties (信用村 / 信用乡镇 / 信用县), rated from policy packs.

A village is rated from its households' grades and its borrowers' loans; a township from its
villages' results plus its borrowers' loans; a county from its townships. What counts, and the
thresholds, come from a ``village_criteria`` policy pack (:class:`VillageCriteria`); nothing local
is a constant in code. Every result lists each criterion's value against its threshold, whether it
is met, and why, in Chinese and English.

Definitions (all point in time, as of ``as_of``; only facts dated on or before it are used)
---------------------------------------------------------------------------------------------
households
    rows of the ``households`` table in the village; *archived* households are those with
    ``archived`` true and ``archived_date`` on or before ``as_of``.
credit households (信用户)
    households whose grade in ``scores`` is one of the pack's ``credit_grades`` (AAA, AA, A).
    Households without a score, or with a veto marker, are not credit households. The share's
    denominator is the pack's ``denominator``: ``"archived"`` (credit households among archived
    households / archived households) or ``"all"`` (credit households / all households).
borrowers
    subjects of the pack's ``borrower_types`` with at least one loan outstanding at ``as_of``
    (``issue_date <= as_of`` and not closed on or before it), counted in the borrower's village.
loan status at ``as_of``
    a loan's ``balance``, ``overdue_days`` and ``five_class`` are known at ``as_of`` when its
    ``snapshot_date`` lies in ``[as_of - max_snapshot_age_days, as_of]``; otherwise (a later
    snapshot would be look-ahead, an older one stale) its status is *unknown*.
on-time borrowers (按期还款 / 无拖欠)
    pack ``on_time.basis``: ``"snapshot"``: none of the borrower's outstanding loans is more than
    ``grace_days`` overdue at ``as_of`` (a borrower with a loan of unknown status and no overdue
    known loan is *unknown*); ``"repayments"``: no instalment of any of the borrower's loans was
    more than ``grace_days`` overdue on any day of the ``lookback_months`` window ending at
    ``as_of`` (an instalment paid on day *p* and due on day *d* is overdue on days *d+1..p*; one
    unpaid at ``as_of`` is overdue through ``as_of``). The share is over borrowers of known status.
NPL ratio (不良贷款率)
    balance of outstanding loans in the non-performing classes (substandard, doubtful, loss) /
    balance of all outstanding loans, both in the borrowers' village; its change is the
    difference from the ``previous`` rating's ratio (percentage points, as a fraction).
vetoes (一票否决)
    counts of open warnings whose ``category`` (or ``rule``) is one of the veto's
    ``warning_categories`` and of active blacklisted subjects whose ``reason`` is one of its
    ``blacklist_reasons`` (``"*"``: any listing), located in the area.

A criterion whose value cannot be computed (no households, no borrowers, no outstanding balance,
a loan of unknown status, no previous rating) has status ``"unknown"`` with the reason stated;
it then counts as met or not met according to its ``when_unknown`` (default: not met). A value
within 1e-9 of its threshold is taken as equal to it, so that sums of balances do not flip an
exact boundary. An area is a credit area when every criterion counts as met and no veto fires.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ruralcredit.errors import InputError, PolicyError
from ruralcredit.packs import PolicyPack, load_pack
from ruralcredit.schema import BORROWER_TYPES, NON_PERFORMING_CLASSES, parse_as_of, validate_all

__all__ = [
    "AreaRating",
    "VillageCriteria",
    "rate_counties",
    "rate_townships",
    "rate_villages",
    "village_stars_for",
]

Level = Literal["village", "township", "county"]
Metric = Literal[
    "credit_household_share",
    "on_time_borrower_share",
    "npl_ratio",
    "npl_ratio_change",
    "credit_village_share",
    "credit_township_share",
]

#: Metrics each level can be rated on.
_LEVEL_METRICS: dict[str, frozenset[str]] = {
    "village": frozenset({"credit_household_share", "on_time_borrower_share", "npl_ratio", "npl_ratio_change"}),
    "township": frozenset({"credit_household_share", "on_time_borrower_share", "npl_ratio", "npl_ratio_change",
                           "credit_village_share"}),
    "county": frozenset({"credit_household_share", "on_time_borrower_share", "npl_ratio", "npl_ratio_change",
                         "credit_village_share", "credit_township_share"}),
}
_LOAN_METRICS = frozenset({"on_time_borrower_share", "npl_ratio", "npl_ratio_change"})
#: Values this close to a threshold are equal to it (float sums must not flip an exact boundary).
_EPS = 1e-9
_NAME_RE = re.compile(r"^[a-z0-9_]{1,60}$")

_LEVEL_ZH = {"village": "信用村", "township": "信用乡镇", "county": "信用县"}
_CREDIT_COLUMN = {"village": "credit_village", "township": "credit_township", "county": "credit_county"}
_NAME_COLUMN = {"village": "village_name", "township": "township_name", "county": None}

_METRIC_LABELS: dict[str, tuple[str, str]] = {
    "credit_household_share": ("信用户占比", "credit-household share"),
    "on_time_borrower_share": ("按期还款农户占贷款农户比例", "on-time borrowers / borrowers"),
    "npl_ratio": ("不良贷款率（五级分类）", "NPL ratio (five-category)"),
    "npl_ratio_change": ("不良贷款率较上期变动", "change in NPL ratio since the previous rating"),
    "credit_village_share": ("信用村占行政村比例", "credit villages / villages"),
    "credit_township_share": ("信用乡镇占乡镇比例", "credit townships / townships"),
    "credit_years": ("连续评定为信用单位次数", "consecutive credit ratings"),
}
_DENOMINATOR_LABELS = {
    "archived": ("信用户占建档农户比例", "credit households / archived households"),
    "all": ("信用户占农户总数比例", "credit households / all households"),
}
_STATUS_TEXT = {
    "met": ("达标", "met"),
    "not_met": ("未达标", "not met"),
    "unknown": ("无法评定", "unknown"),
}
_VETO_STATUS_TEXT = {
    "met": ("未触发否决", "no veto"),
    "not_met": ("一票否决", "veto"),
    "unknown": ("无法核实", "not checked"),
}
#: Why a value is unknown: (zh, en).
_WHY_TEXT: dict[str, tuple[str, str]] = {
    "": ("", ""),
    "no_households": ("无农户", "no households"),
    "no_archived_households": ("无建档农户", "no archived households"),
    "no_borrowers": ("无贷款农户", "no borrowers at as_of"),
    "loan_status_unknown": ("部分贷款在评定日无状态数据", "some loans have no status at as_of"),
    "no_outstanding_balance": ("无贷款余额", "no outstanding loan balance"),
    "no_previous_rating": ("无上期评定结果", "no previous rating given"),
    "previous_npl_unknown": ("上期不良贷款率未知", "previous NPL ratio unknown"),
    "no_villages": ("无行政村", "no villages"),
    "no_townships": ("无乡镇", "no townships"),
    "source_not_given": ("未提供预警或黑名单数据", "warnings or blacklist not given"),
}
_OP_ZH = {">=": "≥", ">": "＞", "<=": "≤", "<": "＜"}


# ---------------------------------------------------------------------------------------------------------
# The policy pack
# ---------------------------------------------------------------------------------------------------------


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CriterionRule(_Frozen):
    """One criterion: ``metric operator threshold`` (e.g. ``credit_household_share >= 0.5``)."""

    code: str = Field(description="identifier shown in results, lowercase")
    metric: Metric
    operator: Literal[">=", ">", "<=", "<"]
    threshold: float
    when_unknown: Literal["fail", "pass"] = Field(
        "fail", description="how an unknown value counts (no borrowers, no previous rating, ...)")
    label_zh: str = ""
    label_en: str = ""
    basis: str = Field("", description="where the threshold comes from, with [V]/[S]/[G]")

    @field_validator("code")
    @classmethod
    def _code(cls, v: str) -> str:
        if not _NAME_RE.match(v):
            raise ValueError("code must be 1-60 lowercase letters, digits or '_'")
        return v

    @model_validator(mode="after")
    def _range(self) -> CriterionRule:
        lo = -1.0 if self.metric == "npl_ratio_change" else 0.0
        if not (lo <= self.threshold <= 1.0):
            raise ValueError(f"threshold of {self.metric} must lie in [{lo:g}, 1] (a fraction, 0.5 = 50%)")
        return self


class VetoRule(_Frozen):
    """A veto (一票否决): too many listed events in the area and it cannot be a credit area."""

    code: str
    warning_categories: tuple[str, ...] = Field((), description="warning categories that count")
    blacklist_reasons: tuple[str, ...] = Field((), description="blacklist reasons that count; '*' any")
    max_count: int = Field(0, ge=0, description="the veto fires when the count exceeds this")
    when_unknown: Literal["fail", "pass"] = Field(
        "pass", description="how a veto counts when its warnings/blacklist were not given")
    label_zh: str
    label_en: str
    basis: str = ""

    @model_validator(mode="after")
    def _sources(self) -> VetoRule:
        if not _NAME_RE.match(self.code):
            raise ValueError("code must be 1-60 lowercase letters, digits or '_'")
        if not self.warning_categories and not self.blacklist_reasons:
            raise ValueError("a veto needs warning_categories or blacklist_reasons")
        for name in (*self.warning_categories, *self.blacklist_reasons):
            if name != "*" and not _NAME_RE.match(name):
                raise ValueError(f"category/reason {name!r} must be lowercase letters, digits or '_'")
        if "*" in self.warning_categories:
            raise ValueError("'*' is allowed in blacklist_reasons only")
        return self


class StarRule(_Frozen):
    """What an area needs, beyond being a credit area, for ``stars`` stars (星级)."""

    stars: int = Field(ge=2, le=5)
    min_credit_years: int = Field(1, ge=1, description="consecutive ratings as a credit area")
    criteria: tuple[CriterionRule, ...] = ()
    basis: str = ""


class LevelRules(_Frozen):
    """The criteria, vetoes and star levels of one level (village, township or county)."""

    criteria: tuple[CriterionRule, ...] = Field(min_length=1)
    vetoes: tuple[VetoRule, ...] = ()
    stars: tuple[StarRule, ...] = ()

    @model_validator(mode="after")
    def _consistent(self) -> LevelRules:
        codes = [c.code for c in self.criteria] + [v.code for v in self.vetoes]
        if len(set(codes)) != len(codes):
            raise ValueError(f"criterion and veto codes must be unique, got {codes}")
        levels = [s.stars for s in self.stars]
        if levels != list(range(2, 2 + len(levels))):
            raise ValueError(f"star levels must be 2, 3, ... in order, got {levels}")
        years = [s.min_credit_years for s in self.stars]
        if years != sorted(years):
            raise ValueError("min_credit_years must not decrease with the star level")
        return self


class OnTimeRule(_Frozen):
    """How an on-time borrower (按期还款 / 无拖欠贷款) is defined."""

    basis: Literal["snapshot", "repayments"]
    grace_days: int = Field(0, ge=0, le=365)
    lookback_months: int = Field(12, ge=1, le=120, description="repayments basis: the window")


class VillageCriteriaPayload(_Frozen):
    """Payload of a ``village_criteria`` pack."""

    credit_grades: tuple[str, ...] = Field(("AAA", "AA", "A"), min_length=1)
    denominator: Literal["archived", "all"]
    borrower_types: tuple[str, ...] = Field(("household",), min_length=1)
    on_time: OnTimeRule
    max_snapshot_age_days: int = Field(92, ge=0, le=3660)
    validity_months: int = Field(ge=1, le=120, description="a rating is in force this long")
    rerating_months: int = Field(ge=1, le=120, description="ratings are renewed this often")
    village: LevelRules
    township: LevelRules | None = None
    county: LevelRules | None = None

    @model_validator(mode="after")
    def _levels(self) -> VillageCriteriaPayload:
        bad = sorted(set(self.borrower_types) - set(BORROWER_TYPES))
        if bad:
            raise ValueError(f"unknown borrower types {bad}; allowed {list(BORROWER_TYPES)}")
        for level in ("village", "township", "county"):
            rules: LevelRules | None = getattr(self, level)
            if rules is None:
                continue
            crits = [*rules.criteria, *(c for s in rules.stars for c in s.criteria)]
            for c in crits:
                if c.metric not in _LEVEL_METRICS[level]:
                    raise ValueError(f"{level} criterion {c.code!r}: metric {c.metric!r} is not available at "
                                     f"{level} level; available: {sorted(_LEVEL_METRICS[level])}")
        return self


class VillageCriteria(PolicyPack):
    """A ``village_criteria`` policy pack: credit village / township / county rules.

    Load with ``load_pack("zhaoyang-2014", VillageCriteria, as_of)`` or a path to a YAML file.
    """

    KIND: ClassVar[str] = "village_criteria"
    payload: VillageCriteriaPayload

    def needs_loans(self) -> bool:
        """Whether any criterion at any level uses loan figures."""
        p = self.payload
        for rules in (p.village, p.township, p.county):
            if rules is None:
                continue
            for c in [*rules.criteria, *(c for s in rules.stars for c in s.criteria)]:
                if c.metric in _LOAN_METRICS:
                    return True
        return False

    def vetoes(self) -> list[VetoRule]:
        """Every veto rule of every level."""
        p = self.payload
        return [v for rules in (p.village, p.township, p.county) if rules is not None for v in rules.vetoes]


# ---------------------------------------------------------------------------------------------------------
# The result
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, repr=False)
class AreaRating:
    """The rating of every village, township or county at one date.

    Attributes
    ----------
    level : {"village", "township", "county"}
    as_of : pandas.Timestamp
    summary : pandas.DataFrame
        One row per area, sorted by ``<level>_code``: the counts, the metrics, ``vetoed``,
        ``credit_<level>`` (bool), ``stars`` (0 when not a credit area), ``credit_years``,
        ``valid_until`` (the last day the rating is in force), ``next_rerating`` and the policy
        id/version/hash.
    criteria : pandas.DataFrame
        Long frame, one row per area and condition: ``<level>_code, kind`` ("criterion", "veto",
        "star"), ``star_level, criterion, metric, value, operator, threshold, status`` ("met",
        "not_met", "unknown"), ``met`` (how it counts), ``reason_code, reason_zh, reason_en``.
    pack : VillageCriteria
        The policy pack applied.
    input_hash : str
        SHA-256 of the per-area figures the criteria were evaluated on.
    library_version, created_at : str
    previous_as_of : pandas.Timestamp or None
        The date of the previous rating used for changes and consecutive years.
    """

    level: Level
    as_of: pd.Timestamp
    summary: pd.DataFrame
    criteria: pd.DataFrame
    pack: VillageCriteria
    input_hash: str
    library_version: str
    created_at: str
    previous_as_of: pd.Timestamp | None = None
    sources: dict[str, bool] = field(default_factory=dict)

    @property
    def code_column(self) -> str:
        """``"village_code"``, ``"township_code"`` or ``"county_code"``."""
        return f"{self.level}_code"

    @property
    def credit_column(self) -> str:
        """``"credit_village"``, ``"credit_township"`` or ``"credit_county"``."""
        return _CREDIT_COLUMN[self.level]

    @property
    def policy(self) -> dict[str, Any]:
        """Policy id, version, hash and source (recorded with the result)."""
        return self.pack.describe()

    def credit_areas(self) -> pd.DataFrame:
        """The summary rows of the credit areas."""
        return self.summary.loc[self.summary[self.credit_column].to_numpy(dtype=bool)]

    def explain(self, code: str) -> pd.DataFrame:
        """The criteria rows of one area."""
        out = self.criteria.loc[self.criteria[self.code_column].to_numpy() == code]
        if out.empty and code not in set(self.summary[self.code_column]):
            raise InputError(f"no {self.level} {code!r} in this rating", argument="code", value=code)
        return out

    def __repr__(self) -> str:
        n = len(self.summary)
        k = int(self.summary[self.credit_column].sum()) if n else 0
        return (f"AreaRating(level={self.level!r}, as_of={self.as_of.date()}, areas={n}, credit={k}, "
                f"policy={self.pack.id}@{self.pack.version})")


# ---------------------------------------------------------------------------------------------------------
# Input helpers
# ---------------------------------------------------------------------------------------------------------


def _tables_mapping(tables: Any) -> Mapping[str, pd.DataFrame]:
    if not isinstance(tables, Mapping) and hasattr(tables, "tables"):
        tables = tables.tables
    if not isinstance(tables, Mapping):
        raise InputError(f"expected a mapping of table name to DataFrame, got {type(tables).__name__}",
                         argument="tables")
    return tables


def _resolve_pack(criteria: Any, as_of: pd.Timestamp) -> VillageCriteria:
    if isinstance(criteria, VillageCriteria):
        if not criteria.covers(as_of):
            raise PolicyError(f"version {criteria.version} is not in force on {as_of.date()} "
                              f"({criteria.effective_from}..{criteria.effective_to or 'open'})", pack_id=criteria.id)
        return criteria
    if isinstance(criteria, (str, Path)):
        return load_pack(criteria, VillageCriteria, as_of)
    raise InputError(f"expected a VillageCriteria pack, a built-in id or a path, got {type(criteria).__name__}",
                     argument="criteria")


def _check_scores(scores: Any) -> pd.DataFrame:
    if not isinstance(scores, pd.DataFrame):
        raise InputError(f"expected a DataFrame with subject_id and grade, got {type(scores).__name__}",
                         argument="scores")
    missing = [c for c in ("subject_id", "grade") if c not in scores.columns]
    if missing:
        raise InputError(f"missing columns {missing}", argument="scores")
    ids = scores["subject_id"]
    if ids.isna().any():
        raise InputError(f"{int(ids.isna().sum())} row(s) without subject_id", argument="scores")
    _require_text(ids, "scores", "subject_id")
    return scores


def _day_numbers(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Dates as int64 day numbers plus a mask of missing dates."""
    a = values.to_numpy(dtype="datetime64[ns]")
    nat = np.isnat(a)
    return a.astype("datetime64[D]").astype(np.int64), nat


def _day(ts: pd.Timestamp) -> int:
    return int(np.datetime64(ts.date(), "D").astype(np.int64))


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    num = np.asarray(num, dtype="float64")
    den = np.asarray(den, dtype="float64")
    out = np.full(num.shape, np.nan)
    ok = den > 0
    np.divide(num, den, out=out, where=ok)
    return out


def _count(index: np.ndarray, n: int, mask: np.ndarray | None = None) -> np.ndarray:
    if mask is not None:
        index = index[mask]
    return np.bincount(index, minlength=n).astype(np.int64)


def _sum(index: np.ndarray, weights: np.ndarray, n: int, mask: np.ndarray) -> np.ndarray:
    return np.bincount(index[mask], weights=weights[mask], minlength=n)


def _text_array(values: Any) -> pa.ChunkedArray:
    """Text keys (checked to be text before) as one Arrow type; missing values stay null."""
    if isinstance(values, pa.ChunkedArray):
        return pc.cast(values, pa.large_string())
    if isinstance(values, pd.Series):
        values = values.array if pd.api.types.is_string_dtype(values.dtype) else values.to_numpy(dtype=object)
    return pc.cast(pa.chunked_array([pa.array(values, from_pandas=True)]), pa.large_string())


def _require_text(values: pd.Series, argument: str, column: str) -> None:
    if values.notna().any() and pd.api.types.infer_dtype(values, skipna=True) != "string":
        raise InputError(f"column {column!r} must hold text identifiers", argument=argument)


def _positions(keys: Any, values: Any) -> np.ndarray:
    """Position of each value among unique ``keys`` (-1 when absent or missing).

    A C++ hash lookup (``pyarrow.compute.index_in``): several times faster than
    ``pd.Index.get_indexer`` on millions of Arrow strings.
    """
    key_arr, val_arr = _text_array(keys), _text_array(values)
    if 4 * len(val_arr) < len(key_arr):
        # few values, many keys: hash the values' distinct set and scan the keys once against it
        distinct = pc.unique(val_arr)
        hit = pc.fill_null(pc.index_in(key_arr, value_set=distinct), -1).to_numpy().astype(np.int64)
        key_of_distinct = np.full(len(distinct), -1, dtype=np.int64)
        found = np.flatnonzero(hit >= 0)
        key_of_distinct[hit[found][::-1]] = found[::-1]  # first occurrence wins, as index_in does
        at = pc.fill_null(pc.index_in(val_arr, value_set=distinct), -1).to_numpy().astype(np.int64)
        return _take(key_of_distinct, at, -1).astype(np.int64)
    found_at = pc.index_in(val_arr, value_set=key_arr)
    return pc.fill_null(found_at, -1).to_numpy().astype(np.int64)


def _take(values: np.ndarray, pos: np.ndarray, fill: Any) -> np.ndarray:
    """``values[pos]`` with ``fill`` where ``pos`` is -1 (also when ``values`` is empty)."""
    if len(values) == 0:
        return np.full(len(pos), fill, dtype=np.result_type(values.dtype, np.min_scalar_type(fill)))
    return np.where(pos >= 0, values[np.maximum(pos, 0)], fill)


class _SubjectMap:
    """subject id -> (position among subjects, village position), over the subject tables given."""

    def __init__(self, t: Mapping[str, pd.DataFrame], village_codes: Any, hh_village: np.ndarray) -> None:
        ids = [_text_array(t["households"]["subject_id"])]
        pos = [hh_village]
        if "enterprises" in t:
            ids.append(_text_array(t["enterprises"]["subject_id"]))
            pos.append(_positions(village_codes, t["enterprises"]["village_code"]))
        if "persons" in t:
            p = _positions(ids[0], t["persons"]["household_id"])
            ids.append(_text_array(t["persons"]["person_id"]))
            pos.append(_take(hh_village, p, -1))
        self.keys = pa.chunked_array([c for a in ids for c in a.chunks], type=pa.large_string())
        self.village = np.concatenate(pos) if len(pos) > 1 else pos[0]
        self.size = len(self.village)

    def locate(self, queries: Mapping[str, Any]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Subject positions and village positions (-1 outside the tables) of several id columns.

        All lookups share one hash table of the subjects: building it dominates on millions of ids.
        """
        names = [k for k, v in queries.items() if v is not None]
        arrays = [_text_array(queries[k]) for k in names]
        joined = pa.chunked_array([c for a in arrays for c in a.chunks], type=pa.large_string())
        found = pc.fill_null(pc.index_in(joined, value_set=self.keys), -1).to_numpy().astype(np.int64)
        out: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        start = 0
        for name, arr in zip(names, arrays, strict=True):
            p = found[start:start + len(arr)]
            start += len(arr)
            out[name] = (p, _take(self.village, p, -1))
        return out


def _active_between(df: pd.DataFrame, start_col: str, end_col: str, as_of: pd.Timestamp, argument: str
                    ) -> np.ndarray:
    """Rows started on or before as_of (or undated) and not ended by it (or open)."""
    ok = np.ones(len(df), dtype=bool)
    for col, started in ((start_col, True), (end_col, False)):
        if col not in df.columns:
            continue
        s = df[col]
        if not pd.api.types.is_datetime64_any_dtype(s.dtype):
            try:
                s = pd.to_datetime(s, format="ISO8601")
            except (ValueError, TypeError) as exc:
                raise InputError(f"column {col!r} must hold dates", argument=argument) from exc
        d, nat = _day_numbers(s)
        ok &= nat | ((d <= _day(as_of)) if started else (d > _day(as_of)))
    return ok


def _blacklist_frame(blacklisted: Any, as_of: pd.Timestamp) -> pd.DataFrame | None:
    if blacklisted is None:
        return None
    if isinstance(blacklisted, pd.Series):
        blacklisted = pd.DataFrame({"subject_id": blacklisted.to_numpy()})
    if not isinstance(blacklisted, pd.DataFrame) or "subject_id" not in blacklisted.columns:
        raise InputError("expected a Series of subject ids or a DataFrame with a subject_id column",
                         argument="blacklisted")
    if blacklisted["subject_id"].isna().any():
        raise InputError("rows without subject_id", argument="blacklisted")
    _require_text(blacklisted["subject_id"], "blacklisted", "subject_id")
    active = _active_between(blacklisted, "listed_date", "delisted_date", as_of, "blacklisted")
    # the reason of a listing: a ``reason`` column, or the registry's ``category`` (``debt.malicious_evasion``)
    reason = "reason" if "reason" in blacklisted.columns else "category" if "category" in blacklisted.columns \
        else None
    out = blacklisted.loc[active, ["subject_id", *([reason] if reason else [])]]
    if reason:
        out = out.rename(columns={reason: "reason"})
        _require_text(out["reason"], "blacklisted", reason)
    return out.drop_duplicates().reset_index(drop=True)


def _warnings_frame(warnings: Any, as_of: pd.Timestamp) -> pd.DataFrame | None:
    if warnings is None:
        return None
    if not isinstance(warnings, pd.DataFrame):
        raise InputError(f"expected a DataFrame, got {type(warnings).__name__}", argument="warnings")
    cat = "category" if "category" in warnings.columns else "rule" if "rule" in warnings.columns else None
    if cat is None:
        raise InputError("needs a 'category' (or 'rule') column", argument="warnings")
    where = [c for c in ("subject_id", "village_code") if c in warnings.columns]
    if not where:
        raise InputError("needs a 'subject_id' or 'village_code' column", argument="warnings")
    nowhere = np.ones(len(warnings), dtype=bool)
    for c in where:
        _require_text(warnings[c], "warnings", c)
        nowhere &= warnings[c].isna().to_numpy()
    if nowhere.any():
        raise InputError(f"{int(nowhere.sum())} warning(s) with neither subject_id nor village_code",
                         argument="warnings")
    active = _active_between(warnings, "raised_date", "closed_date", as_of, "warnings")
    out = pd.DataFrame({"category": warnings[cat].to_numpy()})
    for c in ("subject_id", "village_code"):
        out[c] = warnings[c].to_numpy() if c in warnings.columns else None
    return out.loc[active].reset_index(drop=True)


# ---------------------------------------------------------------------------------------------------------
# Village figures
# ---------------------------------------------------------------------------------------------------------


def _loan_figures(t: Mapping[str, pd.DataFrame], subjects: _SubjectMap, located: tuple[np.ndarray, np.ndarray],
                  nv: int, pack: VillageCriteria, as_of: pd.Timestamp) -> dict[str, np.ndarray]:
    p = pack.payload
    loans = t["loans"]
    day = _day(as_of)
    issue, _ = _day_numbers(loans["issue_date"])
    closed, open_ = _day_numbers(loans["closed_date"])
    snap, _ = _day_numbers(loans["snapshot_date"])
    relevant = loans["borrower_type"].isin(p.borrower_types).to_numpy() & (issue <= day)
    outstanding = relevant & (open_ | (closed > day))
    known = (snap <= day) & (snap >= day - p.max_snapshot_age_days)

    lsub, lvi = located
    lost = relevant & (lvi < 0)
    if lost.any():
        raise InputError(
            f"{int(lost.sum())} loan(s) of borrower types {list(p.borrower_types)} whose borrower has no village "
            f"in the tables given (pass the households/enterprises/persons they belong to); first loans: "
            f"{loans['loan_id'][lost].head(10).tolist()}", argument="tables")

    # Borrower level (by subject position): every loan issued by as_of counts for lateness; borrowers are
    # those still owing on as_of.
    rel_idx = np.flatnonzero(relevant)
    codes = lsub[rel_idx]
    nb = subjects.size
    bvi = subjects.village
    if p.on_time.basis == "snapshot":
        loan_late = outstanding & known & (loans["overdue_days"].to_numpy() > p.on_time.grace_days)
        loan_unknown = outstanding & ~known
    else:
        loan_late = _late_from_repayments(t["repayments"], loans, as_of, p.on_time)
        loan_unknown = np.zeros(len(loans), dtype=bool)
    b_out = _count(codes, nb, outstanding[rel_idx]) > 0
    b_late = _count(codes, nb, loan_late[rel_idx]) > 0
    b_unknown = ~b_late & (_count(codes, nb, loan_unknown[rel_idx]) > 0)
    b_on_time = b_out & ~b_late & ~b_unknown
    bvi = np.maximum(bvi, 0)  # subjects without a village never borrow here (checked above)

    balance = loans["balance"].to_numpy(dtype="float64")
    npl = loans["five_class"].isin(NON_PERFORMING_CLASSES).to_numpy()
    out_known = outstanding & known
    lvi0 = np.maximum(lvi, 0)
    return {
        "borrowers": _count(bvi, nv, b_out),
        "on_time_borrowers": _count(bvi, nv, b_on_time),
        "late_borrowers": _count(bvi, nv, b_out & b_late),
        "borrowers_status_unknown": _count(bvi, nv, b_out & b_unknown),
        "loans": _count(lvi0, nv, outstanding),
        "loans_status_unknown": _count(lvi0, nv, outstanding & ~known),
        "loan_balance": _sum(lvi0, balance, nv, out_known),
        "npl_balance": _sum(lvi0, balance, nv, out_known & npl),
    }


def _household_grades(scores: pd.DataFrame, pos: np.ndarray, subjects: _SubjectMap, n_households: int,
                      credit_grades: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Per household: rated (has a grade) and credit household (grade among ``credit_grades``).

    Scores of subjects outside the tables are ignored; two scores for one subject are an error.
    """
    matched = np.flatnonzero(pos >= 0)
    per_subject = np.bincount(pos[matched], minlength=subjects.size)
    if (per_subject > 1).any():
        dup = np.flatnonzero(per_subject > 1)
        first = subjects.keys.take(pa.array(dup[:5])).to_pylist()
        raise InputError(f"duplicate subject_id: {len(dup)} subject(s) scored more than once; first: {first}",
                         argument="scores")
    rated = np.zeros(subjects.size, dtype=bool)
    credit = np.zeros(subjects.size, dtype=bool)
    rated[pos[matched]] = scores["grade"].notna().to_numpy()[matched]
    credit[pos[matched]] = scores["grade"].isin(credit_grades).to_numpy(dtype=bool)[matched]
    return rated[:n_households], credit[:n_households]


def _late_from_repayments(repayments: pd.DataFrame, loans: pd.DataFrame, as_of: pd.Timestamp,
                          rule: OnTimeRule) -> np.ndarray:
    """Loans with an instalment more than ``grace_days`` overdue on some day of the window."""
    day = _day(as_of)
    window_start = _day(as_of - pd.DateOffset(months=rule.lookback_months)) + 1
    due, _ = _day_numbers(repayments["due_date"])
    paid, unpaid = _day_numbers(repayments["paid_date"])
    first_late_day = np.maximum(window_start, due + rule.grace_days + 1)
    last_overdue_day = np.where(unpaid | (paid > day), day, paid)
    late = first_late_day <= last_overdue_day
    pos = _positions(loans["loan_id"], repayments["loan_id"])
    if (pos < 0).any():  # validate_all checks this reference; keep the guarantee local
        raise InputError("repayments refer to loans not in the loans table", argument="tables")
    return _count(pos, len(loans), late) > 0


def _source_columns(pack: VillageCriteria) -> tuple[list[str], list[str]]:
    cats: list[str] = []
    reasons: list[str] = []
    for v in pack.vetoes():
        cats.extend(c for c in v.warning_categories if c not in cats)
        reasons.extend(r for r in v.blacklist_reasons if r not in reasons)
    return cats, reasons


def _reason_column(reason: str) -> str:
    return "blacklisted__any" if reason == "*" else f"blacklisted__{reason}"


def _event_figures(blacklist: pd.DataFrame | None, warnings: pd.DataFrame | None,
                   located: Mapping[str, tuple[np.ndarray, np.ndarray]], villages: Any, nv: int,
                   pack: VillageCriteria) -> dict[str, np.ndarray]:
    cats, reasons = _source_columns(pack)
    out: dict[str, np.ndarray] = {}
    zeros = np.zeros(nv, dtype=np.int64)
    if blacklist is not None:
        bl = blacklist
        _, bvi = located["blacklisted"]
        inside = bvi >= 0
        distinct = ~bl["subject_id"].duplicated().to_numpy()
        out["blacklisted"] = _count(np.maximum(bvi, 0), nv, inside & distinct)
        for r in reasons:
            if r == "*":
                mask = inside & distinct
            elif "reason" in bl.columns:
                listed = _text_array(bl["reason"])
                same = pc.or_(pc.equal(listed, r), pc.ends_with(listed, "." + r))  # a category path ends with it
                mask = inside & pc.fill_null(same, False).to_numpy(zero_copy_only=False).astype(bool)
            else:
                mask = None  # reasons unknown: this source cannot be used for this veto
            out[_reason_column(r)] = _count(np.maximum(bvi, 0), nv, mask) if mask is not None else zeros
    else:
        out["blacklisted"] = zeros
        for r in reasons:
            out[_reason_column(r)] = zeros
    if warnings is not None:
        _, wvi = located["warnings"]
        by_code = _positions(villages, warnings["village_code"])
        wvi = np.where(wvi >= 0, wvi, by_code)
        inside = wvi >= 0
        out["open_warnings"] = _count(np.maximum(wvi, 0), nv, inside)
        for c in cats:
            mask = inside & (warnings["category"] == c).to_numpy(dtype=bool, na_value=False)
            out[f"warnings__{c}"] = _count(np.maximum(wvi, 0), nv, mask)
    else:
        out["open_warnings"] = zeros
        for c in cats:
            out[f"warnings__{c}"] = zeros
    return out


def _sources_given(blacklist: pd.DataFrame | None, warnings: pd.DataFrame | None,
                   pack: VillageCriteria) -> dict[str, bool]:
    cats, reasons = _source_columns(pack)
    given = {f"warnings__{c}": warnings is not None for c in cats}
    for r in reasons:
        usable = blacklist is not None and (r == "*" or "reason" in blacklist.columns)
        given[_reason_column(r)] = usable
    return given


# ---------------------------------------------------------------------------------------------------------
# Evaluation (shared by every level)
# ---------------------------------------------------------------------------------------------------------


def _metric(summary: pd.DataFrame, metric: str, level: Level, pack: VillageCriteria) -> tuple[np.ndarray, np.ndarray]:
    """A metric's values and, per area, why it is unknown (a code into ``_WHYS``; 0 when known)."""
    n = len(summary)
    why = np.zeros(n, dtype=np.int8)
    col = summary

    def mark(mask: np.ndarray, reason: str) -> None:
        why[mask] = _WHYS.index(reason)

    if metric == "credit_household_share":
        values = col["credit_household_share"].to_numpy(dtype="float64")
        base = col["credit_household_base"].to_numpy()
        mark(base == 0, "no_archived_households" if pack.payload.denominator == "archived" else "no_households")
    elif metric == "on_time_borrower_share":
        values = col["on_time_borrower_share"].to_numpy(dtype="float64")
        mark(col["borrowers_status_unknown"].to_numpy() > 0, "loan_status_unknown")
        mark(col["borrowers"].to_numpy() == 0, "no_borrowers")
    elif metric in ("npl_ratio", "npl_ratio_change"):
        values = col[metric].to_numpy(dtype="float64")
        mark(col["loan_balance"].to_numpy() <= 0, "no_outstanding_balance")
        mark(col["loans_status_unknown"].to_numpy() > 0, "loan_status_unknown")
        if metric == "npl_ratio_change":
            prev = col["npl_ratio_previous"].to_numpy(dtype="float64")
            has_prev = bool(col.attrs.get("has_previous", False))
            mark((why == 0) & np.isnan(prev), "previous_npl_unknown" if has_prev else "no_previous_rating")
    elif metric == "credit_village_share":
        values = col["credit_village_share"].to_numpy(dtype="float64")
        mark(col["villages"].to_numpy() == 0, "no_villages")
    elif metric == "credit_township_share":
        values = col["credit_township_share"].to_numpy(dtype="float64")
        mark(col["townships"].to_numpy() == 0, "no_townships")
    else:  # pragma: no cover - the pack model restricts metrics
        raise AssertionError(metric)
    return values, why


def _compare(values: np.ndarray, op: str, threshold: float) -> np.ndarray:
    diff = values - threshold
    eq = np.abs(diff) <= _EPS
    with np.errstate(invalid="ignore"):
        if op == ">=":
            return (diff > 0) | eq
        if op == ">":
            return (diff > 0) & ~eq
        if op == "<=":
            return (diff < 0) | eq
        return (diff < 0) & ~eq


def _fmt(values: np.ndarray, metric: str, lang: str) -> pa.Array:
    """Vectorised value text (Arrow): percentages, percentage points or counts; '—' when missing."""
    v = np.asarray(values, dtype="float64")
    if metric in ("count", "credit_years"):
        text = pc.cast(pa.array(np.round(v), from_pandas=True).cast(pa.int64()), pa.string())
    else:
        text = pc.cast(pc.round(pa.array(v * 100, from_pandas=True), 2), pa.string())
        if metric == "npl_ratio_change":
            sign = pc.if_else(pc.greater_equal(pa.array(v, from_pandas=True), 0.0), "+", "")
            text = pc.binary_join_element_wise(sign, text, "个百分点" if lang == "zh" else " pp", "")
        else:
            text = pc.binary_join_element_wise(text, "%", "")
    return pc.fill_null(text, "—")


def _fmt_scalar(value: float, metric: str, lang: str) -> str:
    return str(_fmt(np.array([value]), metric, lang)[0].as_py())


def _vocab_text(codes: np.ndarray, vocab: list[str]) -> pa.Array:
    """Texts ``vocab[codes]`` as an Arrow string array (a dictionary take, no Python loop)."""
    return pc.cast(pa.DictionaryArray.from_arrays(pa.array(codes.astype(np.int32)), pa.array(vocab)), pa.string())


_STATUSES = ["met", "not_met", "unknown"]
_WHYS = list(_WHY_TEXT)


def _rows(area: np.ndarray, kind: str, star_level: int, criterion: str, metric: str, values: np.ndarray, op: str,
          threshold: float, status: np.ndarray, met: np.ndarray, why: np.ndarray, label: tuple[str, str],
          unknown_counts_as: str, order: int) -> dict[str, Any]:
    """The long-frame columns of one condition for the areas at positions ``area``.

    ``status`` holds codes into ``_STATUSES`` and ``why`` codes into ``_WHYS``; the reason texts
    are assembled with Arrow compute kernels as whole arrays.
    """
    fmt_metric = "count" if kind == "veto" else metric
    texts = _VETO_STATUS_TEXT if kind == "veto" else _STATUS_TEXT
    thr_zh, thr_en = _fmt_scalar(threshold, fmt_metric, "zh"), _fmt_scalar(threshold, fmt_metric, "en")
    if kind == "veto":
        zh_rule, en_rule = f"（超过 {thr_zh} 即否决）：", f" (veto above {thr_en}): "
        counted_zh = "，不否决" if unknown_counts_as == "pass" else "，按否决处理"
        counted_en = "; not applied" if unknown_counts_as == "pass" else "; counted as a veto"
    else:
        zh_rule, en_rule = f"，要求 {_OP_ZH[op]} {thr_zh}：", f", required {op} {thr_en}: "
        counted_zh = "，按达标处理" if unknown_counts_as == "pass" else "，按未达标处理"
        counted_en = "; counted as met" if unknown_counts_as == "pass" else "; counted as not met"
    st_zh = _vocab_text(status, [texts[k][0] for k in _STATUSES])
    st_en = _vocab_text(status, [texts[k][1] for k in _STATUSES])
    zh = pc.binary_join_element_wise(label[0] + " ", _fmt(values, fmt_metric, "zh"), zh_rule, st_zh, "")
    en = pc.binary_join_element_wise(label[1] + " ", _fmt(values, fmt_metric, "en"), en_rule, st_en, "")
    code = pc.binary_join_element_wise(criterion + ".", _vocab_text(status, _STATUSES), "")
    unknown = status == 2
    if unknown.any():
        mask = pa.array(unknown)
        why_zh = _vocab_text(why, [_WHY_TEXT[k][0] for k in _WHYS])
        why_en = _vocab_text(why, [_WHY_TEXT[k][1] for k in _WHYS])
        zh = pc.if_else(mask, pc.binary_join_element_wise(zh, "（", why_zh, "）", counted_zh, ""), zh)
        en = pc.if_else(mask, pc.binary_join_element_wise(en, " (", why_en, ")", counted_en, ""), en)
        code = pc.if_else(mask, pc.binary_join_element_wise(code, ".", _vocab_text(why, _WHYS), ""), code)
    return {
        "area": area, "order": order, "kind": kind, "star_level": star_level, "criterion": criterion,
        "metric": metric, "operator": op, "threshold": float(threshold),
        "value": np.asarray(values, dtype="float64"), "status": status, "met": np.asarray(met, dtype=bool),
        "reason_code": code, "reason_zh": zh, "reason_en": en,
    }


def _long_frame(parts: list[dict[str, Any]], codes: pa.ChunkedArray, code_col: str) -> pd.DataFrame:
    """One row per area and condition, ordered by area (the summary's order) then by the pack's order."""
    lengths = np.array([len(p["area"]) for p in parts], dtype=np.int64)
    area = np.concatenate([p["area"] for p in parts]).astype(np.int64)
    part = np.repeat(np.arange(len(parts)), lengths)
    order = np.array([p["order"] for p in parts], dtype=np.int64)[part]
    idx = np.lexsort((order, area))
    take = pa.array(idx)

    def scalar_column(key: str) -> pd.Series:
        vocab = pa.array([p[key] for p in parts])
        return pd.Series(vocab.take(pa.array(part[idx])), dtype="str")

    def text_column(key: str) -> pd.Series:
        joined = pa.chunked_array([p[key] for p in parts], type=pa.string())
        return pd.Series(joined.take(take), dtype="str")

    return pd.DataFrame({
        code_col: pd.Series(codes.take(pa.array(area[idx])), dtype="str"),
        "kind": scalar_column("kind"),
        "star_level": np.array([p["star_level"] for p in parts], dtype=np.int64)[part[idx]],
        "criterion": scalar_column("criterion"),
        "metric": scalar_column("metric"),
        "value": np.concatenate([p["value"] for p in parts])[idx],
        "operator": scalar_column("operator"),
        "threshold": np.array([p["threshold"] for p in parts], dtype="float64")[part[idx]],
        "status": pd.Series(np.array(_STATUSES, dtype=object)[np.concatenate([p["status"] for p in parts])[idx]],
                            dtype="str"),
        "met": np.concatenate([p["met"] for p in parts])[idx],
        "reason_code": text_column("reason_code"),
        "reason_zh": text_column("reason_zh"),
        "reason_en": text_column("reason_en"),
    })


def _criterion(summary: pd.DataFrame, c: CriterionRule, level: Level, pack: VillageCriteria, kind: str,
               star_level: int, order: int, areas: np.ndarray | None = None) -> tuple[np.ndarray, dict[str, Any]]:
    """Evaluate one criterion for every area; the long rows cover ``areas`` (default: all)."""
    values, why = _metric(summary, c.metric, level, pack)
    known = why == 0
    ok = _compare(values, c.operator, c.threshold)
    status = np.where(~known, 2, np.where(ok, 0, 1)).astype(np.int8)
    met = np.where(known, ok, c.when_unknown == "pass")
    default = _METRIC_LABELS[c.metric]
    if c.metric == "credit_household_share":
        default = _DENOMINATOR_LABELS[pack.payload.denominator]
    label = (c.label_zh or default[0], c.label_en or default[1])
    sel = np.arange(len(summary)) if areas is None else areas
    rows = _rows(sel, kind, star_level, c.code, c.metric, values[sel], c.operator, c.threshold, status[sel],
                 met[sel], why[sel], label, c.when_unknown, order)
    return met, rows


def _evaluate(level: Level, summary: pd.DataFrame, rules: LevelRules, pack: VillageCriteria,
              as_of: pd.Timestamp, previous: AreaRating | None, sources: dict[str, bool]
              ) -> tuple[pd.DataFrame, pd.DataFrame]:
    code_col = f"{level}_code"
    n = len(summary)
    everyone = np.arange(n)
    parts: list[dict[str, Any]] = []
    met_all = np.ones(n, dtype=bool)
    counts = np.zeros((3, n), dtype=np.int64)
    order = 0
    for c in rules.criteria:
        met, rows = _criterion(summary, c, level, pack, "criterion", 0, order)
        order += 1
        met_all &= met
        counts[rows["status"], everyone] += 1
        parts.append(rows)

    vetoed = np.zeros(n, dtype=bool)
    for v in rules.vetoes:
        cols = [f"warnings__{c}" for c in v.warning_categories] + [_reason_column(r) for r in v.blacklist_reasons]
        count = summary[cols].to_numpy(dtype="float64").sum(axis=1)
        available = all(sources.get(c, False) for c in cols)
        fires = count > v.max_count
        status = np.where(fires, 1, 0 if available else 2).astype(np.int8)
        passes = np.where(fires, False, True if available else v.when_unknown == "pass")
        why = np.where(status == 2, _WHYS.index("source_not_given"), 0).astype(np.int8)
        vetoed |= ~passes
        parts.append(_rows(everyone, "veto", 0, v.code, "veto", count, "<=", float(v.max_count), status,
                           passes, why, (v.label_zh, v.label_en), v.when_unknown, order))
        order += 1

    credit = met_all & ~vetoed
    credit_years = _credit_years(summary, credit, level, previous, as_of)
    stars = credit.astype(np.int64)
    star_ok = credit.copy()
    credit_areas = np.flatnonzero(credit)  # star conditions are listed for credit areas only
    for s in rules.stars:
        cond = star_ok.copy()
        for c in s.criteria:
            met, rows = _criterion(summary, c, level, pack, "star", s.stars, order, credit_areas)
            order += 1
            cond &= met
            parts.append(rows)
        if s.min_credit_years > 1:
            ok = credit_years >= s.min_credit_years
            parts.append(_rows(credit_areas, "star", s.stars, "credit_years", "credit_years",
                               credit_years[credit_areas].astype("float64"), ">=", float(s.min_credit_years),
                               np.where(ok, 0, 1).astype(np.int8)[credit_areas], ok[credit_areas],
                               np.zeros(len(credit_areas), np.int8), _METRIC_LABELS["credit_years"], "fail", order))
            order += 1
            cond &= ok
        star_ok = cond
        stars = np.where(cond, s.stars, stars)

    out = summary.copy()
    out["criteria_met"] = counts[0]
    out["criteria_not_met"] = counts[1]
    out["criteria_unknown"] = counts[2]
    out["vetoed"] = vetoed
    out[_CREDIT_COLUMN[level]] = credit
    out["stars"] = stars
    out["credit_years"] = credit_years
    out["as_of"] = as_of
    out["valid_until"] = as_of + pd.DateOffset(months=pack.payload.validity_months)
    out["next_rerating"] = as_of + pd.DateOffset(months=pack.payload.rerating_months)
    out["policy_id"] = pack.id
    out["policy_version"] = pack.version
    out["policy_hash"] = pack.policy_hash
    long = _long_frame(parts, _text_array(summary[code_col]), code_col)
    return out.reset_index(drop=True), long


def _credit_years(summary: pd.DataFrame, credit: np.ndarray, level: Level, previous: AreaRating | None,
                  as_of: pd.Timestamp) -> np.ndarray:
    """Consecutive ratings as a credit area, counting this one (0 when not a credit area now).

    Without a previous rating the history is unknown and a credit area counts 1. A previous
    rating counts only if it was still in force on ``as_of`` (``as_of <= valid_until``).
    """
    if previous is None:
        return credit.astype(np.int64)
    prev = previous.summary
    pos = _positions(prev[previous.code_column], summary[f"{level}_code"])
    prev_credit = _take(prev[previous.credit_column].to_numpy(dtype=bool), pos, False)
    in_force = _take(prev["valid_until"].to_numpy() >= np.datetime64(as_of), pos, False)
    prev_years = _take(prev["credit_years"].to_numpy(dtype=np.int64), pos, 0)
    return np.where(credit, np.where(prev_credit & in_force, prev_years + 1, 1), 0).astype(np.int64)


def _add_metrics(summary: pd.DataFrame, level: Level, pack: VillageCriteria, previous: AreaRating | None
                 ) -> pd.DataFrame:
    s = summary
    archived = pack.payload.denominator == "archived"
    s["credit_household_base"] = s["archived_households"] if archived else s["households"]
    num = s["credit_households_archived"] if archived else s["credit_households"]
    s["credit_household_share"] = _ratio(num.to_numpy(), s["credit_household_base"].to_numpy())
    known_borrowers = s["borrowers"].to_numpy() - s["borrowers_status_unknown"].to_numpy()
    s["on_time_borrower_share"] = _ratio(s["on_time_borrowers"].to_numpy(), known_borrowers)
    s["npl_ratio"] = _ratio(s["npl_balance"].to_numpy(), s["loan_balance"].to_numpy())
    if previous is not None:
        prev = previous.summary
        pos = _positions(prev[previous.code_column], s[f"{level}_code"])
        prev_npl = _take(prev["npl_ratio"].to_numpy(dtype="float64"), pos, np.nan)
    else:
        prev_npl = np.full(len(s), np.nan)
    s["npl_ratio_previous"] = prev_npl
    s["npl_ratio_change"] = s["npl_ratio"].to_numpy() - prev_npl
    if "villages" in s.columns:
        s["credit_village_share"] = _ratio(s["credit_villages"].to_numpy(), s["villages"].to_numpy())
    if "townships" in s.columns:
        s["credit_township_share"] = _ratio(s["credit_townships"].to_numpy(), s["townships"].to_numpy())
    s.attrs["has_previous"] = previous is not None
    return s


def _input_hash(summary: pd.DataFrame, columns: list[str]) -> str:
    h = pd.util.hash_pandas_object(summary[columns], index=False).to_numpy()
    return hashlib.sha256(h.tobytes()).hexdigest()


def _finish(level: Level, summary: pd.DataFrame, rules: LevelRules, pack: VillageCriteria, as_of: pd.Timestamp,
            previous: AreaRating | None, sources: dict[str, bool], count_columns: list[str]) -> AreaRating:
    from ruralcredit import __version__

    summary = _add_metrics(summary, level, pack, previous)
    hash_cols = [f"{level}_code", *count_columns, "npl_ratio_previous"]
    digest = _input_hash(summary, hash_cols)
    out, long = _evaluate(level, summary, rules, pack, as_of, previous, sources)
    out.attrs = {}
    return AreaRating(
        level=level, as_of=as_of, summary=out, criteria=long, pack=pack, input_hash=digest,
        library_version=__version__, created_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        previous_as_of=previous.as_of if previous is not None else None, sources=dict(sources),
    )


def _check_previous(previous: Any, level: Level, as_of: pd.Timestamp) -> AreaRating | None:
    if previous is None:
        return None
    if not isinstance(previous, AreaRating) or previous.level != level:
        raise InputError(f"expected a {level} AreaRating", argument="previous")
    if previous.as_of >= as_of:
        raise InputError(f"the previous rating ({previous.as_of.date()}) must be dated before as_of "
                         f"({as_of.date()})", argument="previous", value=str(previous.as_of.date()))
    return previous


# ---------------------------------------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------------------------------------

#: Count columns summed from villages up to townships and counties.
_SUM_COLUMNS = [
    "households", "archived_households", "rated_households", "credit_households", "credit_households_archived",
    "borrowers", "on_time_borrowers", "late_borrowers", "borrowers_status_unknown",
    "loans", "loans_status_unknown", "loan_balance", "npl_balance", "blacklisted", "open_warnings",
]


def rate_villages(scores: pd.DataFrame, tables: Any, criteria: VillageCriteria | str | Path, as_of: Any, *,
                  previous: AreaRating | None = None, blacklisted: pd.DataFrame | pd.Series | None = None,
                  warnings: pd.DataFrame | None = None) -> AreaRating:
    """Rate every village (信用村评定) from its households' grades and its borrowers' loans.

    Parameters
    ----------
    scores : pandas.DataFrame
        ``subject_id`` and ``grade`` (AAA/AA/A/B/C or a veto marker; missing = not rated), e.g.
        a scorer's output. At most one row per subject of the tables (a second is an error);
        rows of subjects that are not households of the tables are ignored.
    tables : mapping of table name to DataFrame, or a County
        ``villages`` and ``households`` always; ``loans`` when a criterion uses loan figures;
        ``repayments`` when the pack's ``on_time.basis`` is ``"repayments"``; ``enterprises`` and
        ``persons`` when those subjects borrow (per the pack's ``borrower_types``), are
        blacklisted or warned. Each is validated with :func:`ruralcredit.schema.validate_all`.
    criteria : VillageCriteria, built-in id or path
        The ``village_criteria`` pack (e.g. ``"zhaoyang-2014"``); the version in force on
        ``as_of`` is used.
    as_of : date-like
        The rating date; only facts dated on or before it are used.
    previous : AreaRating, optional
        The previous village rating: gives the NPL ratio change and consecutive credit years.
    blacklisted : DataFrame or Series, optional
        Blacklisted subjects: a Series of ``subject_id`` or a frame with ``subject_id`` and
        optional ``reason`` (or the registry's ``category``: ``debt.malicious_evasion`` matches
        the reason ``malicious_evasion``), ``listed_date`` and ``delisted_date`` (only listings
        active on ``as_of`` count). Subjects outside the tables given are not counted.
    warnings : DataFrame, optional
        Open warnings: ``category`` (or ``rule``) and ``subject_id`` and/or ``village_code`` (a
        village-level event such as a mass incident), optional ``raised_date`` / ``closed_date``.

    Returns
    -------
    AreaRating
        ``summary`` (one row per village of the villages table, villages without households
        included) and the long ``criteria`` frame.

    Raises
    ------
    SchemaError
        A table breaks its contract.
    InputError
        Bad scores (missing columns, duplicate subjects), a needed table missing, a borrower
        without a village, bad blacklist/warning frames, or a previous rating not before ``as_of``.
    PolicyError
        No version of the pack is in force on ``as_of``.

    Examples
    --------
    >>> result = rate_villages(scores, county.tables, "zhaoyang-2014", "2025-12-31")  # doctest: +SKIP
    >>> result.credit_areas()[["village_code", "credit_household_share", "stars"]]  # doctest: +SKIP
    """
    as_of = parse_as_of(as_of)
    pack = _resolve_pack(criteria, as_of)
    p = pack.payload
    previous = _check_previous(previous, "village", as_of)
    scores = _check_scores(scores)
    raw = _tables_mapping(tables)
    need = ["villages", "households"]
    if pack.needs_loans():
        need.append("loans")
        if p.on_time.basis == "repayments":
            need.append("repayments")
    missing = [n for n in need if n not in raw]
    if missing:
        raise InputError(f"tables {missing} are required by pack {pack.id!r} (needed: {need})", argument="tables")
    use = [*need, *(n for n in ("enterprises", "persons") if n in raw)]
    t = validate_all({n: raw[n] for n in use})

    villages = t["villages"].sort_values("village_code", kind="stable").reset_index(drop=True)
    vcodes = _text_array(villages["village_code"])
    nv = len(villages)
    hh = t["households"]
    hvi = _positions(vcodes, hh["village_code"])
    if (hvi < 0).any():  # validate_all checks this reference; keep the guarantee local
        raise InputError("households refer to villages not in the villages table", argument="tables")
    archived_date, no_date = _day_numbers(hh["archived_date"])
    archived = hh["archived"].to_numpy(dtype=bool) & ~no_date & (archived_date <= _day(as_of))
    subjects = _SubjectMap(t, vcodes, hvi)
    bl = _blacklist_frame(blacklisted, as_of)
    wn = _warnings_frame(warnings, as_of)
    located = subjects.locate({
        "scores": scores["subject_id"],
        "loans": t["loans"]["borrower_id"] if "loans" in t else None,
        "blacklisted": bl["subject_id"] if bl is not None else None,
        "warnings": wn["subject_id"] if wn is not None else None,
    })
    rated, credit = _household_grades(scores, located["scores"][0], subjects, len(hh), p.credit_grades)

    summary = pd.DataFrame({
        "village_code": villages["village_code"].to_numpy(),
        "village_name": villages["village_name"].to_numpy(),
        "township_code": villages["township_code"].to_numpy(),
        "township_name": villages["township_name"].to_numpy(),
        "county_code": villages["county_code"].to_numpy(),
        "households": _count(hvi, nv),
        "archived_households": _count(hvi, nv, archived),
        "rated_households": _count(hvi, nv, rated),
        "credit_households": _count(hvi, nv, credit),
        "credit_households_archived": _count(hvi, nv, credit & archived),
    })
    if "loans" in t:
        figures = _loan_figures(t, subjects, located["loans"], nv, pack, as_of)
    else:
        figures = {c: np.zeros(nv, np.int64) for c in _SUM_COLUMNS[5:13]}
        figures["loan_balance"] = figures["npl_balance"] = np.zeros(nv)
    for k, v in figures.items():
        summary[k] = v
    events = _event_figures(bl, wn, located, vcodes, nv, pack)
    for k, v in events.items():
        summary[k] = v
    sources = _sources_given(bl, wn, pack)
    count_columns = [*_SUM_COLUMNS, *sources]
    return _finish("village", summary, p.village, pack, as_of, previous, sources, count_columns)


def _same_pack(result: AreaRating, criteria: Any, as_of: Any) -> tuple[VillageCriteria, pd.Timestamp]:
    day = result.as_of if as_of is None else parse_as_of(as_of)
    if day != result.as_of:
        raise InputError(f"must equal the {result.level} rating's date {result.as_of.date()}", argument="as_of",
                         value=str(day.date()))
    pack = result.pack if criteria is None else _resolve_pack(criteria, day)
    if pack.policy_hash != result.pack.policy_hash:
        raise InputError(f"the {result.level}s were rated under {result.pack.id}@{result.pack.version}; rate the "
                         f"next level under the same pack, not {pack.id}@{pack.version}", argument="criteria")
    return pack, day


def _aggregate(result: AreaRating, by: str, extra: dict[str, tuple[str, str]]) -> pd.DataFrame:
    s = result.summary
    sum_cols = [*_SUM_COLUMNS, *result.sources]
    g = s.groupby(by, sort=True)
    out = g[sum_cols].sum()
    for name, (col, how) in extra.items():
        out[name] = g[col].agg(how)
    return out.reset_index()


def rate_townships(village_result: AreaRating, tables: Any = None, criteria: Any = None, as_of: Any = None, *,
                   previous: AreaRating | None = None) -> AreaRating:
    """Rate every township (信用乡镇评定) from its villages' results and its borrowers' loans.

    Parameters
    ----------
    village_result : AreaRating
        From :func:`rate_villages`.
    tables : mapping or County, optional
        When given, its ``villages`` table is validated and must list exactly the rated villages.
    criteria : VillageCriteria, built-in id or path, optional
        Defaults to the village rating's pack; if given it must be the same pack.
    as_of : date-like, optional
        Defaults to the village rating's date; if given it must equal it.
    previous : AreaRating, optional
        The previous township rating (NPL change, consecutive years).

    Returns
    -------
    AreaRating
        Townships with ``villages``, ``credit_villages``, ``credit_village_share`` and the summed
        household and loan figures; on-time share and NPL ratio are recomputed from the sums.

    Raises
    ------
    InputError
        Not a village rating, a different pack or date, villages that differ from the table.
    PolicyError
        The pack has no township rules.
    """
    if not isinstance(village_result, AreaRating) or village_result.level != "village":
        raise InputError("expected the AreaRating returned by rate_villages", argument="village_result")
    pack, day = _same_pack(village_result, criteria, as_of)
    if pack.payload.township is None:
        raise PolicyError("the pack has no township rules", pack_id=pack.id, field="payload.township")
    previous = _check_previous(previous, "township", day)
    if tables is not None:
        v = validate_all({"villages": _tables_mapping(tables)["villages"]})["villages"]
        rated = set(village_result.summary["village_code"])
        if set(v["village_code"]) != rated:
            raise InputError("the villages table differs from the villages rated", argument="tables")
    summary = _aggregate(village_result, "township_code", {
        "township_name": ("township_name", "first"),
        "county_code": ("county_code", "first"),
        "villages": ("village_code", "size"),
        "credit_villages": ("credit_village", "sum"),
    })
    front = ["township_code", "township_name", "county_code", "villages", "credit_villages"]
    summary = summary[front + [c for c in summary.columns if c not in front]]
    count_columns = [*_SUM_COLUMNS, *village_result.sources, "villages", "credit_villages"]
    return _finish("township", summary, pack.payload.township, pack, day, previous, village_result.sources,
                   count_columns)


def rate_counties(township_result: AreaRating, tables: Any = None, criteria: Any = None, as_of: Any = None, *,
                  previous: AreaRating | None = None) -> AreaRating:
    """Rate every county (信用县评定) from its townships' results.

    Parameters
    ----------
    township_result : AreaRating
        From :func:`rate_townships`.
    tables : mapping or County, optional
        When given, its ``villages`` table is validated and must cover exactly the rated townships.
    criteria, as_of : optional
        As in :func:`rate_townships` (must match the township rating).
    previous : AreaRating, optional
        The previous county rating.

    Returns
    -------
    AreaRating
        Counties with ``townships``, ``credit_townships``, ``credit_township_share``,
        ``villages``, ``credit_villages``, ``credit_village_share`` and the summed figures.

    Raises
    ------
    InputError, PolicyError
        As in :func:`rate_townships` (here: the pack has no county rules).
    """
    if not isinstance(township_result, AreaRating) or township_result.level != "township":
        raise InputError("expected the AreaRating returned by rate_townships", argument="township_result")
    pack, day = _same_pack(township_result, criteria, as_of)
    if pack.payload.county is None:
        raise PolicyError("the pack has no county rules", pack_id=pack.id, field="payload.county")
    previous = _check_previous(previous, "county", day)
    if tables is not None:
        v = validate_all({"villages": _tables_mapping(tables)["villages"]})["villages"]
        if set(v["township_code"]) != set(township_result.summary["township_code"]):
            raise InputError("the villages table differs from the townships rated", argument="tables")
    summary = _aggregate(township_result, "county_code", {
        "townships": ("township_code", "size"),
        "credit_townships": ("credit_township", "sum"),
        "villages": ("villages", "sum"),
        "credit_villages": ("credit_villages", "sum"),
    })
    front = ["county_code", "townships", "credit_townships", "villages", "credit_villages"]
    summary = summary[front + [c for c in summary.columns if c not in front]]
    count_columns = [*_SUM_COLUMNS, *township_result.sources, "townships", "credit_townships", "villages",
                     "credit_villages"]
    return _finish("county", summary, pack.payload.county, pack, day, previous, township_result.sources,
                   count_columns)


def village_stars_for(subjects: pd.DataFrame, village_result: AreaRating, *, on: Any = None) -> pd.Series:
    """Each subject's village star level (信用村星级), for loan terms; 0 when not a credit village.

    Parameters
    ----------
    subjects : pandas.DataFrame
        With a ``village_code`` column (households and enterprises carry one) and, optionally,
        ``subject_id``.
    village_result : AreaRating
        From :func:`rate_villages`.
    on : date-like, optional
        The decision date: when given, a rating not in force on it (made later, or expired:
        ``on > valid_until``) gives 0 stars.

    Returns
    -------
    pandas.Series of int64
        Named ``village_stars``, indexed by ``subject_id`` when that column exists, otherwise by
        the frame's index. Subjects of villages that were not rated get 0 (no preference).

    Raises
    ------
    InputError
        No ``village_code`` column, or not a village rating.
    """
    if not isinstance(village_result, AreaRating) or village_result.level != "village":
        raise InputError("expected the AreaRating returned by rate_villages", argument="village_result")
    if not isinstance(subjects, pd.DataFrame) or "village_code" not in subjects.columns:
        raise InputError("expected a DataFrame with a village_code column", argument="subjects")
    s = village_result.summary
    stars = s["stars"].to_numpy(dtype=np.int64)
    if on is not None:
        day = parse_as_of(on, "on")
        in_force = (village_result.as_of <= day) & (s["valid_until"].to_numpy() >= np.datetime64(day))
        stars = np.where(in_force, stars, 0)
    pos = _positions(s["village_code"], subjects["village_code"])
    values = _take(stars, pos, 0).astype(np.int64)
    index = pd.Index(subjects["subject_id"], name="subject_id") if "subject_id" in subjects.columns else subjects.index
    return pd.Series(values, index=index, name="village_stars")
