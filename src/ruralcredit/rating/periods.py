"""Credit villages over time: rate several dates, list upgrades and downgrades, ratings in force.

A village (township, county) is re-rated every ``rerating_months`` of its policy pack, and a rating
is in force for ``validity_months`` from its date, through ``valid_until`` inclusive. :func:`rate_periods` rates every level at each
date, each rating using the one before it (for the NPL change and consecutive credit years), and
lists the changes; :func:`compare_periods` compares two ratings; :func:`rating_in_force` tells which
rating applies on a given day.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ruralcredit.errors import InputError
from ruralcredit.rating.villages import (
    _CREDIT_COLUMN,
    _NAME_COLUMN,
    AreaRating,
    VillageCriteria,
    _resolve_pack,
    rate_counties,
    rate_townships,
    rate_villages,
)
from ruralcredit.schema import TABLES, parse_as_of

__all__ = [
    "PeriodRatings",
    "compare_periods",
    "criteria_moves",
    "rate_periods",
    "rating_in_force",
    "rating_schedule",
]

_LEVELS = ("village", "township", "county")


@dataclass(frozen=True, repr=False)
class PeriodRatings:
    """Ratings at several dates and the changes between consecutive ones.

    Attributes
    ----------
    as_ofs : tuple of pandas.Timestamp
        The rating dates, ascending.
    villages, townships, counties : tuple of AreaRating
        One per date (townships / counties empty when the pack has no rules for them).
    changes : pandas.DataFrame
        :func:`compare_periods` of every consecutive pair and level, with a ``level`` column.
    """

    as_ofs: tuple[pd.Timestamp, ...]
    villages: tuple[AreaRating, ...]
    townships: tuple[AreaRating, ...]
    counties: tuple[AreaRating, ...]
    changes: pd.DataFrame

    def level(self, level: str) -> tuple[AreaRating, ...]:
        """The ratings of one level."""
        if level not in _LEVELS:
            raise InputError(f"expected one of {list(_LEVELS)}", argument="level", value=level)
        return {"village": self.villages, "township": self.townships, "county": self.counties}[level]

    def in_force(self, on: Any, level: str = "village") -> pd.DataFrame:
        """:func:`rating_in_force` over this level's ratings."""
        return rating_in_force(self.level(level), on)

    def __repr__(self) -> str:
        dates = ", ".join(str(d.date()) for d in self.as_ofs)
        return f"PeriodRatings(as_ofs=[{dates}], changes={len(self.changes)})"


def _per_period(value: Any, as_ofs: Sequence[pd.Timestamp], name: str, *, tables: bool = False) -> list[Any]:
    """One value per date: the same value, or a mapping from date to value."""
    if value is None or isinstance(value, (pd.DataFrame, pd.Series)):
        return [value] * len(as_ofs)
    if not isinstance(value, Mapping):
        if tables and hasattr(value, "tables"):
            return [value] * len(as_ofs)
        raise InputError(f"expected a DataFrame or a mapping of date to value, got {type(value).__name__}",
                         argument=name)
    if tables and all(isinstance(k, str) and k in TABLES for k in value):
        return [value] * len(as_ofs)
    by_day: dict[pd.Timestamp, Any] = {}
    for k, v in value.items():
        by_day[parse_as_of(k, name)] = v
    missing = [str(d.date()) for d in as_ofs if d not in by_day]
    if missing:
        raise InputError(f"no value for the dates {missing}", argument=name)
    return [by_day[d] for d in as_ofs]


def rating_schedule(first: Any, until: Any, criteria: VillageCriteria | str | Path) -> list[pd.Timestamp]:
    """The re-rating dates from ``first`` up to ``until``, every ``rerating_months`` of the pack.

    Parameters
    ----------
    first, until : date-like
    criteria : VillageCriteria, built-in id or path
        The pack in force on ``first`` gives the re-rating period.

    Returns
    -------
    list of pandas.Timestamp
    """
    start = parse_as_of(first, "first")
    end = parse_as_of(until, "until")
    if end < start:
        raise InputError("is before 'first'", argument="until", value=str(end.date()))
    months = _resolve_pack(criteria, start).payload.rerating_months
    out = []
    k = 0
    while (d := start + pd.DateOffset(months=months * k)) <= end:
        out.append(pd.Timestamp(d))
        k += 1
    return out


def rate_periods(scores: Any, tables: Any, criteria: VillageCriteria | str | Path, as_ofs: Sequence[Any], *,
                 blacklisted: Any = None, warnings: Any = None, allow_interim: bool = False) -> PeriodRatings:
    """Rate villages, townships and counties at several dates and list what changed.

    Parameters
    ----------
    scores : DataFrame or mapping of date to DataFrame
        Household grades (the same for every date, or one frame per date).
    tables : mapping of table name to DataFrame, County, or mapping of date to either
        The records (e.g. one loan snapshot per date).
    criteria : VillageCriteria, built-in id or path
        The pack; by id or path, the version in force on each date is used.
    as_ofs : sequence of date-like
        Rating dates, at least one; duplicates are an error.
    blacklisted, warnings : optional
        As in :func:`~ruralcredit.rating.rate_villages`, the same for every date or per date
        (listings and warnings carrying dates are filtered by each date anyway).
    allow_interim : bool, default False
        Allow dates closer together than the pack's re-rating period.

    Returns
    -------
    PeriodRatings

    Raises
    ------
    InputError
        No dates, duplicate dates, dates closer than the re-rating period (unless
        ``allow_interim``), or per-date inputs missing a date.
    """
    if isinstance(as_ofs, (str, pd.Timestamp)) or not isinstance(as_ofs, Sequence) or not as_ofs:
        raise InputError("expected a non-empty list of dates", argument="as_ofs")
    days = sorted(parse_as_of(d, "as_ofs") for d in as_ofs)
    if len(set(days)) != len(days):
        raise InputError("duplicate dates", argument="as_ofs")
    score_list = _per_period(scores, days, "scores")
    table_list = _per_period(tables, days, "tables", tables=True)
    black_list = _per_period(blacklisted, days, "blacklisted")
    warn_list = _per_period(warnings, days, "warnings")

    villages: list[AreaRating] = []
    townships: list[AreaRating] = []
    counties: list[AreaRating] = []
    for i, day in enumerate(days):
        pack = _resolve_pack(criteria, day)
        if villages and not allow_interim:
            prev = villages[-1]
            due = prev.as_of + pd.DateOffset(months=prev.pack.payload.rerating_months)
            if day < due:
                raise InputError(
                    f"{day.date()} is before the re-rating date {pd.Timestamp(due).date()} of the rating of "
                    f"{prev.as_of.date()} (the pack re-rates every {prev.pack.payload.rerating_months} months); "
                    "pass allow_interim=True for an interim rating", argument="as_ofs", value=str(day.date()))
        v = rate_villages(score_list[i], table_list[i], pack, day, previous=villages[-1] if villages else None,
                          blacklisted=black_list[i], warnings=warn_list[i])
        villages.append(v)
        if pack.payload.township is not None:
            t = rate_townships(v, previous=townships[-1] if townships else None)
            townships.append(t)
            if pack.payload.county is not None:
                counties.append(rate_counties(t, previous=counties[-1] if counties else None))
    frames = []
    for level, ratings in (("village", villages), ("township", townships), ("county", counties)):
        for a, b in pairwise(ratings):
            frames.append(compare_periods(a, b).assign(level=level))
    changes = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    return PeriodRatings(tuple(days), tuple(villages), tuple(townships), tuple(counties), changes)


def _check_pair(previous: AreaRating, current: AreaRating) -> None:
    for name, r in (("previous", previous), ("current", current)):
        if not isinstance(r, AreaRating):
            raise InputError(f"expected an AreaRating, got {type(r).__name__}", argument=name)
    if previous.level != current.level:
        raise InputError(f"levels differ ({previous.level} vs {current.level})", argument="current")
    if previous.as_of >= current.as_of:
        raise InputError(f"must be dated after the previous rating ({previous.as_of.date()})", argument="current",
                         value=str(current.as_of.date()))


def _label(frame: pd.DataFrame) -> pd.Series:
    star = frame["star_level"].to_numpy()
    prefix = np.where(star > 0, np.char.add(np.char.add("stars", star.astype(str)), ":"), "")
    return pd.Series(np.char.add(prefix.astype(str), frame["criterion"].to_numpy().astype(str)), index=frame.index)


def criteria_moves(previous: AreaRating, current: AreaRating) -> pd.DataFrame:
    """Every condition whose status changed between two ratings of the same level.

    Returns
    -------
    pandas.DataFrame
        ``<level>_code, kind, star_level, criterion, value_previous, value, status_previous,
        status, met_previous, met, direction`` ("gained" / "lost" / "status"), one row per
        condition that moved; conditions of areas present in only one rating are left out
        (see :func:`compare_periods` for new and removed areas).
    """
    _check_pair(previous, current)
    code = current.code_column
    keys = [code, "kind", "star_level", "criterion"]
    cols = [*keys, "value", "status", "met"]
    m = previous.criteria[cols].merge(current.criteria[cols], on=keys, how="inner", suffixes=("_previous", ""))
    moved = (m["status_previous"] != m["status"]) | (m["met_previous"] != m["met"])
    m = m.loc[moved.to_numpy()].reset_index(drop=True)
    gained = ~m["met_previous"].to_numpy(dtype=bool) & m["met"].to_numpy(dtype=bool)
    lost = m["met_previous"].to_numpy(dtype=bool) & ~m["met"].to_numpy(dtype=bool)
    m["direction"] = np.where(gained, "gained", np.where(lost, "lost", "status"))
    return m[[*keys, "value_previous", "value", "status_previous", "status", "met_previous", "met", "direction"]]


def compare_periods(previous: AreaRating, current: AreaRating, *, include_unchanged: bool = False) -> pd.DataFrame:
    """Upgrades and downgrades between two ratings, with the criteria that moved.

    An area's standing is its star level (0 when not a credit area). The previous standing counts
    only while the previous rating is in force on the current date (``as_of <= valid_until``);
    otherwise it had lapsed and counts 0 (``previous_in_force`` False).

    Parameters
    ----------
    previous, current : AreaRating
        Two ratings of the same level, ``previous`` dated first.
    include_unchanged : bool, default False
        Also list areas whose standing did not change.

    Returns
    -------
    pandas.DataFrame
        ``<level>_code`` (and name), ``previous_as_of, as_of, previous_credit, credit,
        previous_stars, stars, previous_in_force, change`` ("upgrade", "downgrade", "new",
        "removed", "unchanged"), ``criteria_gained, criteria_lost`` (comma-separated condition
        codes, star conditions prefixed ``starsN:``), ``reason_zh, reason_en``.
    """
    _check_pair(previous, current)
    level = current.level
    code = current.code_column
    credit = _CREDIT_COLUMN[level]
    name = _NAME_COLUMN[level]
    keep = [code, *([name] if name else []), credit, "stars", "valid_until"]
    a = previous.summary[keep].rename(columns={credit: "previous_credit", "stars": "previous_stars",
                                               "valid_until": "previous_valid_until"})
    b = current.summary[keep[:-1]].rename(columns={credit: "credit"})
    if name:
        a = a.rename(columns={name: "_previous_name"})
    m = a.merge(b, on=code, how="outer", indicator=True).sort_values(code, kind="stable").reset_index(drop=True)
    if name:
        m[name] = m[name].where(m[name].notna(), m["_previous_name"])
        m = m.drop(columns="_previous_name")
    both = (m["_merge"] == "both").to_numpy()
    only_prev = (m["_merge"] == "left_only").to_numpy()
    only_cur = (m["_merge"] == "right_only").to_numpy()
    in_force = both & (m["previous_valid_until"].to_numpy() >= np.datetime64(current.as_of))
    prev_stars = np.where(in_force, m["previous_stars"].fillna(0).to_numpy(dtype=np.int64), 0)
    stars = m["stars"].fillna(0).to_numpy(dtype=np.int64)
    change = np.select([only_cur, only_prev, stars > prev_stars, stars < prev_stars],
                       ["new", "removed", "upgrade", "downgrade"], "unchanged")
    out = pd.DataFrame({
        code: m[code].to_numpy(),
        **({name: m[name].to_numpy()} if name else {}),
        "previous_as_of": previous.as_of,
        "as_of": current.as_of,
        "previous_credit": m["previous_credit"].fillna(False).to_numpy(dtype=bool),
        "credit": m["credit"].fillna(False).to_numpy(dtype=bool),
        "previous_stars": m["previous_stars"].fillna(0).to_numpy(dtype=np.int64),
        "stars": stars,
        "previous_in_force": in_force,
        "change": change,
    })
    moves = criteria_moves(previous, current)
    moves["_label"] = _label(moves)
    joined = {}
    for direction in ("gained", "lost"):
        sel = moves.loc[moves["direction"] == direction]
        joined[direction] = sel.groupby(code, sort=False)["_label"].agg(", ".join)
    for direction in ("gained", "lost"):
        listed = out[code].map(joined[direction].astype(object)).astype(object)
        out[f"criteria_{direction}"] = np.where(listed.isna().to_numpy(), "", listed.to_numpy()).astype(object)
    zh = {"upgrade": "升级", "downgrade": "降级", "new": "新参评", "removed": "未参评", "unchanged": "不变"}
    stars_txt = out["previous_stars"].astype(str) + "→" + out["stars"].astype(str)
    gained_zh = np.where(out["criteria_gained"] != "", "；新达标：" + out["criteria_gained"], "")
    lost_zh = np.where(out["criteria_lost"] != "", "；未再达标：" + out["criteria_lost"], "")
    gained_en = np.where(out["criteria_gained"] != "", "; now met: " + out["criteria_gained"], "")
    lost_en = np.where(out["criteria_lost"] != "", "; no longer met: " + out["criteria_lost"], "")
    lapsed_zh = np.where(both & ~in_force, "（上期评定已过有效期）", "")
    lapsed_en = np.where(both & ~in_force, " (previous rating had lapsed)", "")
    out["reason_zh"] = (pd.Series(change).map(zh) + " 星级" + stars_txt + lapsed_zh + gained_zh + lost_zh).to_numpy(
        dtype=object)
    out["reason_en"] = (pd.Series(change) + " stars " + stars_txt.str.replace("→", "->") + lapsed_en + gained_en
                        + lost_en).to_numpy(dtype=object)
    if not include_unchanged:
        out = out.loc[out["change"].to_numpy() != "unchanged"].reset_index(drop=True)
    return out


def rating_in_force(ratings: Sequence[AreaRating], on: Any) -> pd.DataFrame:
    """Which rating applies to each area on a day: the latest made on or before it, if not expired.

    Parameters
    ----------
    ratings : sequence of AreaRating
        Ratings of one level, any order.
    on : date-like

    Returns
    -------
    pandas.DataFrame
        Per area ever rated on or before ``on``: ``<level>_code, as_of, valid_until, credit,
        stars, in_force`` and ``stars_in_force`` (0 when the latest rating has expired).
    """
    day = parse_as_of(on, "on")
    ratings = list(ratings)
    if not ratings or not all(isinstance(r, AreaRating) for r in ratings):
        raise InputError("expected a non-empty sequence of AreaRating", argument="ratings")
    levels = {r.level for r in ratings}
    if len(levels) != 1:
        raise InputError(f"ratings of several levels {sorted(levels)}", argument="ratings")
    level = ratings[0].level
    code, credit = f"{level}_code", _CREDIT_COLUMN[level]
    frames = [r.summary[[code, "as_of", "valid_until", credit, "stars"]] for r in ratings if r.as_of <= day]
    if not frames:
        return pd.DataFrame({code: pd.Series([], dtype=object), "as_of": pd.Series([], dtype="datetime64[ns]"),
                             "valid_until": pd.Series([], dtype="datetime64[ns]"), "credit": pd.Series([], dtype=bool),
                             "stars": pd.Series([], dtype=np.int64), "in_force": pd.Series([], dtype=bool),
                             "stars_in_force": pd.Series([], dtype=np.int64)})
    allr = pd.concat(frames, ignore_index=True).sort_values([code, "as_of"], kind="stable")
    last = allr.groupby(code, sort=True).tail(1).rename(columns={credit: "credit"}).reset_index(drop=True)
    in_force = last["valid_until"].to_numpy() >= np.datetime64(day)
    last["in_force"] = in_force
    last["stars_in_force"] = np.where(in_force, last["stars"].to_numpy(dtype=np.int64), 0)
    return last
