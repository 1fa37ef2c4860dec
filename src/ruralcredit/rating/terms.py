"""Loan terms for trustworthy subjects (守信激励): credit line, term and interest rate, from a policy pack.

The policy is a pack of kind ``loan_terms`` (built-in ``household-micro-credit``, Kunming), after
DOMAIN.md section 2:

* **credit line** [S]: a base by grade (AAA 100,000, AA 80,000, A 50,000 yuan) + 10% of household
  assets + 30% of operating income, capped at 200,000 (optionally rounded down);
* **term** [V]: 36 months by default;
* **rate** [V]: the one-year Loan Prime Rate (LPR, dated quotes held in the pack) + 267.5 bp, less a
  discount by grade [G] and 10 bp per star of the subject's credit village (1 to 3 stars) [V].

Only credit households (grades listed in ``base_line_by_grade``) get a line; everybody else gets
line 0, no term and no rate, with the reason in ``line_rule`` (``not_credit_household`` or
``vetoed``).
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ruralcredit.errors import InputError, PolicyError
from ruralcredit.packs import PolicyPack, load_pack
from ruralcredit.schema import parse_as_of

__all__ = ["LoanTermsPayload", "LoanTermsPolicy", "LprQuote", "load_loan_terms", "loan_terms"]

#: Columns of :func:`loan_terms`' result, in order.
TERMS_COLUMNS = (
    "subject_id", "grade", "line", "line_rule", "line_detail", "line_base", "line_from_assets",
    "line_from_income", "term_months", "term_rule", "rate", "rate_rule", "lpr", "lpr_date", "lpr_stale",
    "spread_bp", "grade_discount_bp", "village_stars", "village_discount_bp", "valid_until", "as_of",
    "policy_id", "policy_version", "policy_hash",
)


class LprQuote(BaseModel):
    """One published one-year LPR value and the day it took effect."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    effective_from: dt.date
    rate: float = Field(gt=0, lt=0.2, description="yearly rate as a fraction (0.03 = 3.00%)")
    source: str = ""


class LoanTermsPayload(BaseModel):
    """The payload of a ``loan_terms`` pack (see the module docstring for the defaults' sources)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    base_line_by_grade: dict[str, float] = Field(min_length=1)
    asset_share: float = Field(ge=0, le=1)
    asset_feature: str = "total_assets"
    income_share: float = Field(ge=0, le=1)
    income_feature: str = "operating_income"
    line_cap: float = Field(gt=0)
    round_down_to: float | None = Field(default=None, gt=0)
    term_months: int = Field(gt=0, le=360)
    validity_months: int = Field(default=24, gt=0, le=120)
    lpr_1y: tuple[LprQuote, ...] = Field(min_length=1)
    lpr_stale_after_days: int = Field(default=62, gt=0)
    spread_bp: float = Field(ge=0, le=2000)
    grade_discount_bp: dict[str, float] = Field(default_factory=dict)
    village_star_discount_bp: dict[int, float] = Field(default_factory=dict)
    min_spread_bp: float = Field(default=0.0, ge=0)

    @field_validator("base_line_by_grade")
    @classmethod
    def _check_base(cls, v: dict[str, float]) -> dict[str, float]:
        for g, x in v.items():
            if not math.isfinite(x) or x <= 0:
                raise ValueError(f"grade {g!r}: base line must be a positive number")
        return v

    @field_validator("lpr_1y")
    @classmethod
    def _check_lpr(cls, v: tuple[LprQuote, ...]) -> tuple[LprQuote, ...]:
        days = [q.effective_from for q in v]
        if any(b <= a for a, b in zip(days, days[1:], strict=False)):
            raise ValueError("LPR quotes must be listed by strictly increasing effective_from")
        return v

    @field_validator("village_star_discount_bp")
    @classmethod
    def _check_stars(cls, v: dict[int, float]) -> dict[int, float]:
        for s, bp in v.items():
            if s < 1 or bp < 0:
                raise ValueError(f"star level {s}: levels start at 1 and discounts are >= 0 bp")
        return v

    @model_validator(mode="after")
    def _check_all(self) -> LoanTermsPayload:
        unknown = set(self.grade_discount_bp) - set(self.base_line_by_grade)
        if unknown:
            raise ValueError(f"grade_discount_bp names grades without a base line: {sorted(unknown)}")
        if max(self.base_line_by_grade.values()) > self.line_cap:
            raise ValueError("a base line exceeds line_cap")
        worst = self.spread_bp - max(self.grade_discount_bp.values(), default=0.0) \
            - max(self.village_star_discount_bp.values(), default=0.0)
        if worst < self.min_spread_bp:
            raise ValueError(f"discounts can bring the spread to {worst:g} bp, below min_spread_bp "
                             f"{self.min_spread_bp:g}")
        return self

    def lpr_on(self, day: dt.date) -> LprQuote:
        """The LPR quote in force on ``day`` (the latest with ``effective_from <= day``).

        Raises
        ------
        PolicyError
            No quote is dated on or before ``day``.
        """
        live = [q for q in self.lpr_1y if q.effective_from <= day]
        if not live:
            raise PolicyError(f"no LPR quote in the pack is in force on {day} (first quote "
                              f"{self.lpr_1y[0].effective_from})", field="payload.lpr_1y")
        return live[-1]


class LoanTermsPolicy(PolicyPack):
    """Loan-terms policy pack (kind ``loan_terms``)."""

    KIND = "loan_terms"
    payload: LoanTermsPayload


def load_loan_terms(name_or_path: str | Path, as_of: Any, *, jurisdiction: str | None = None) -> LoanTermsPolicy:
    """The loan-terms pack in force on ``as_of`` (built-in ``"household-micro-credit"`` or a path).

    Raises
    ------
    PolicyError
        Unknown pack, malformed file, or no version in force on ``as_of``.
    """
    return load_pack(name_or_path, LoanTermsPolicy, as_of, jurisdiction=jurisdiction)


def _frame(df: Any, name: str, columns: list[str]) -> pd.DataFrame:
    if not isinstance(df, pd.DataFrame):
        raise InputError(f"expected a DataFrame, got {type(df).__name__}", argument=name)
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise InputError(f"missing columns {missing}", argument=name)
    sid = df["subject_id"]
    if sid.isna().any() or sid.duplicated().any():
        dup = sorted(map(str, sid[sid.duplicated(keep=False)].unique()))[:20]
        raise InputError(f"subject_id must be present and unique (duplicates: {dup})", argument=name)
    return df


def _stars(village_stars: Any, scores: pd.DataFrame, features: pd.DataFrame) -> np.ndarray:
    n = len(scores)
    if village_stars is None:
        return np.zeros(n, dtype=np.int64)
    if isinstance(village_stars, pd.DataFrame):
        if "village_stars" not in village_stars.columns:
            raise InputError("a DataFrame of village stars needs a village_stars column", argument="village_stars")
        key = "subject_id" if "subject_id" in village_stars.columns else "village_code"
        if key not in village_stars.columns:
            raise InputError("village stars need a subject_id or village_code column", argument="village_stars")
        village_stars = village_stars.set_index(key)["village_stars"]
    if not isinstance(village_stars, pd.Series):
        raise InputError(f"expected a Series of star levels, got {type(village_stars).__name__}",
                         argument="village_stars")
    key = village_stars.index.name
    if key == "village_code":
        source = scores if "village_code" in scores.columns else features
        if "village_code" not in source.columns:
            raise InputError("stars are keyed by village_code but neither scores nor features carry a "
                             "village_code column", argument="village_stars")
        lookup = source.set_index("subject_id")["village_code"].reindex(scores["subject_id"]).to_numpy()
    elif key == "subject_id":
        lookup = scores["subject_id"].to_numpy()
    else:
        raise InputError("name the Series index 'subject_id' or 'village_code' (as village_stars_for does)",
                         argument="village_stars")
    if village_stars.index.duplicated().any():
        raise InputError(f"duplicate {key} in village_stars", argument="village_stars")
    vals = village_stars.to_numpy(dtype="float64", na_value=np.nan)
    if np.isnan(vals).any() or (vals < 0).any() or (vals != np.round(vals)).any():
        raise InputError("star levels must be whole numbers >= 0", argument="village_stars")
    pos = pd.Index(village_stars.index).get_indexer(lookup)
    # a subject whose village was not rated has no stars: no preference
    return np.where(pos >= 0, vals[np.maximum(pos, 0)], 0).astype(np.int64)


def _add_months(day: dt.date, months: int) -> dt.date:
    return (pd.Timestamp(day) + pd.DateOffset(months=months)).date()


def loan_terms(scores: pd.DataFrame, features: pd.DataFrame, policy: LoanTermsPolicy | str | Path, as_of: Any,
               *, village_stars: pd.Series | pd.DataFrame | None = None) -> pd.DataFrame:
    """Credit line, term and rate per subject, with the rule that set each.

    Parameters
    ----------
    scores : DataFrame
        ``subject_id`` and ``grade`` (and ``vetoes`` when the scorer has them), e.g. from
        :meth:`ruralcredit.models.ExpertScorecard.score`.
    features : DataFrame
        ``subject_id`` and the policy's ``asset_feature`` and ``income_feature`` columns (e.g.
        ``total_assets`` and ``operating_income`` from :func:`ruralcredit.features.build_features`).
        Every scored subject must have a row. A missing asset or income value adds nothing to the
        line and is named in ``line_detail``.
    policy : LoanTermsPolicy, str or Path
        A loaded pack, or a built-in id / path chosen by ``as_of``.
    as_of : date-like
        Decision date: selects the LPR quote and starts the line's validity.
    village_stars : Series or DataFrame, optional
        Star level (信用村星级) per subject (index named ``subject_id``, as
        :func:`ruralcredit.rating.village_stars_for` returns) or per village (index named
        ``village_code``; then ``scores`` or ``features`` must carry ``village_code``). Subjects not
        listed get 0 stars. A star level the policy has no discount for is an error.

    Returns
    -------
    DataFrame
        One row per subject of ``scores`` (same order) with the columns :data:`TERMS_COLUMNS`:
        ``line`` (yuan), ``line_rule`` (``grade_base_plus_shares``, ``cap``,
        ``not_credit_household``, ``vetoed``), ``line_detail`` (the formula with its numbers),
        ``term_months`` (``<NA>`` without a line), ``rate`` (yearly fraction, NaN without a line),
        ``rate_rule`` (the formula with its numbers), the LPR quote used and whether it is older
        than the pack's ``lpr_stale_after_days``, discounts, ``valid_until`` and the policy's id,
        version and hash.

    Raises
    ------
    InputError
        Bad frames (missing columns, duplicate or missing subject ids, a scored subject without
        features, negative assets or income), bad stars, or a bad ``as_of``.
    PolicyError
        The policy does not cover ``as_of`` or has no LPR quote for it.
    """
    day = parse_as_of(as_of).date()
    if isinstance(policy, (str, Path)):
        policy = load_loan_terms(policy, day)
    if not isinstance(policy, LoanTermsPolicy):
        raise InputError(f"expected a LoanTermsPolicy or a pack id/path, got {type(policy).__name__}",
                         argument="policy")
    if not policy.covers(day):
        raise PolicyError(f"loan-terms pack version {policy.version} is not in force on {day} "
                          f"({policy.effective_from}..{policy.effective_to or 'open'})", pack_id=policy.id)
    p = policy.payload
    scores = _frame(scores, "scores", ["subject_id", "grade"])
    features = _frame(features, "features", ["subject_id", p.asset_feature, p.income_feature])
    n = len(scores)
    sid = scores["subject_id"]
    pos = pd.Index(features["subject_id"]).get_indexer(sid)
    if (pos < 0).any():
        raise InputError(f"scored subjects without features: {sorted(map(str, sid[pos < 0]))[:20]}",
                         argument="features")
    assets = features[p.asset_feature].to_numpy(dtype="float64", na_value=np.nan)[pos]
    income = features[p.income_feature].to_numpy(dtype="float64", na_value=np.nan)[pos]
    if (assets < 0).any() or (income < 0).any():
        raise InputError(f"negative {p.asset_feature} or {p.income_feature}", argument="features")

    grade = scores["grade"].astype("object").to_numpy()
    vetoed = np.zeros(n, dtype=bool)
    if "vetoes" in scores.columns:
        v = scores["vetoes"]
        vetoed = (v.notna() & (v.astype("str") != "")).to_numpy(dtype=bool)
    grades = list(p.base_line_by_grade)
    gi = pd.Index(grades).get_indexer(grade)
    credit = (gi >= 0) & ~vetoed
    base = np.where(credit, np.asarray(list(p.base_line_by_grade.values()))[np.maximum(gi, 0)], 0.0)
    from_assets = np.where(credit, p.asset_share * np.nan_to_num(assets, nan=0.0), 0.0)
    from_income = np.where(credit, p.income_share * np.nan_to_num(income, nan=0.0), 0.0)
    raw = base + from_assets + from_income
    capped = credit & (raw > p.line_cap)
    line = np.minimum(raw, p.line_cap)
    if p.round_down_to:
        line = np.floor(line / p.round_down_to + 1e-9) * p.round_down_to
    line = np.where(credit, line, 0.0)

    line_rule = np.where(vetoed, "vetoed", np.where(~credit, "not_credit_household",
                                                    np.where(capped, "cap", "grade_base_plus_shares")))
    money = lambda a: pd.Series(a).map("{:,.0f}".format)  # noqa: E731 - formatting helper
    g_s = pd.Series(grade, dtype="str")
    asset_txt = np.where(np.isnan(assets), f"{p.asset_share:.0%} x {p.asset_feature} unknown (0)",
                         f"{p.asset_share:.0%} x " + money(np.nan_to_num(assets)).to_numpy(dtype=object))
    income_txt = np.where(np.isnan(income), f"{p.income_share:.0%} x {p.income_feature} unknown (0)",
                          f"{p.income_share:.0%} x " + money(np.nan_to_num(income)).to_numpy(dtype=object))
    formula = ("base " + g_s + " " + money(base) + " + " + pd.Series(asset_txt, dtype="str") + " + "
               + pd.Series(income_txt, dtype="str") + " = " + money(raw))
    formula = formula.where(~pd.Series(capped), formula + f", capped at {p.line_cap:,.0f}")
    not_credit = ("grade " + g_s + f" is not a credit grade ({', '.join(grades)}): no line").to_numpy(dtype=object)
    if "vetoes" in scores.columns:
        veto_txt = ("vetoed (" + scores["vetoes"].astype("str").reset_index(drop=True) + "): no line")
        not_credit = np.where(vetoed, veto_txt.to_numpy(dtype=object), not_credit)
    line_detail = pd.Series(np.where(credit, formula.to_numpy(dtype=object), not_credit), dtype="str")

    quote = p.lpr_on(day)
    stale = (day - quote.effective_from).days > p.lpr_stale_after_days
    g_disc = np.asarray([p.grade_discount_bp.get(g, 0.0) for g in grades], dtype="float64")
    grade_bp = np.where(credit, g_disc[np.maximum(gi, 0)], np.nan)
    stars = _stars(village_stars, scores, features)
    known = set(p.village_star_discount_bp)
    bad = sorted({int(s) for s in stars[credit] if s > 0 and int(s) not in known})
    if bad:
        raise InputError(f"star levels {bad} have no discount in loan-terms pack {policy.id!r} "
                         f"(levels {sorted(known)})", argument="village_stars")
    star_tab = np.zeros(max([*known, int(stars.max(initial=0))]) + 1)
    for s, bp in p.village_star_discount_bp.items():
        star_tab[s] = bp
    star_bp = np.where(credit, star_tab[stars], np.nan)
    spread = np.maximum(p.spread_bp - grade_bp - star_bp, p.min_spread_bp)
    rate = np.where(credit, np.round(quote.rate + spread / 10_000, 8), np.nan)
    bp_txt = lambda a: pd.Series(a).map("{:g}".format)  # noqa: E731
    rate_rule = (f"1y LPR {quote.rate:.2%} ({quote.effective_from}) + {p.spread_bp:g} bp - grade " + g_s
                 + " " + bp_txt(np.nan_to_num(grade_bp)) + " bp - " + pd.Series(stars).astype("str")
                 + " village star(s) " + bp_txt(np.nan_to_num(star_bp)) + " bp = "
                 + pd.Series(rate * 100).map("{:.4f}%".format))
    rate_rule = rate_rule.where(pd.Series(credit), "no line: no rate")

    out = pd.DataFrame({
        "subject_id": sid.to_numpy(),
        "grade": g_s.to_numpy(),
        "line": line,
        "line_rule": line_rule,
        "line_detail": line_detail.to_numpy(),
        "line_base": base,
        "line_from_assets": from_assets,
        "line_from_income": from_income,
        "term_months": pd.array(np.where(credit, p.term_months, 0), dtype="Int64"),
        "term_rule": np.where(credit, f"default term {p.term_months} months", "no line"),
        "rate": rate,
        "rate_rule": rate_rule.to_numpy(),
        "lpr": quote.rate,
        "lpr_date": pd.Timestamp(quote.effective_from),
        "lpr_stale": stale,
        "spread_bp": p.spread_bp,
        "grade_discount_bp": grade_bp,
        "village_stars": stars,
        "village_discount_bp": star_bp,
        "valid_until": pd.Timestamp(_add_months(day, p.validity_months)),
        "as_of": pd.Timestamp(day),
        "policy_id": policy.id,
        "policy_version": policy.version,
        "policy_hash": policy.policy_hash,
    })
    out.loc[~credit, "term_months"] = pd.NA
    for c in ("lpr_date", "valid_until", "as_of"):
        out[c] = out[c].astype("datetime64[ns]")
    for c in ("grade", "line_rule", "line_detail", "term_rule", "rate_rule", "policy_id", "policy_version",
              "policy_hash"):
        out[c] = out[c].astype("str")
    return out[list(TERMS_COLUMNS)]
