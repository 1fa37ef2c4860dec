"""Build the feature frame of one subject type at an ``as_of`` date, strictly point-in-time.

Point-in-time rules (nothing dated after ``as_of`` is used):

- loans count only when ``issue_date <= as_of``; a ``closed_date`` after ``as_of`` is unknown then, so
  the loan is open at ``as_of``;
- a loan's snapshot (``balance``, ``overdue_days``, ``five_class``) is used only when
  ``snapshot_date <= as_of``; otherwise its balance at ``as_of`` is the amount lent less the amounts of
  the instalments paid by ``as_of`` (``paid_amount``, else ``due_amount``), at least 0. Payments may
  include interest, so this can understate the principal; the schedule ahead is not used because it may
  be rescheduled after ``as_of``;
- an instalment counts only when ``due_date <= as_of``; a payment made after ``as_of`` counts as unpaid at
  ``as_of``. Days late of an instalment = ``paid_date - due_date`` when paid by ``as_of``, else
  ``as_of - due_date`` (never below 0). Instalments that fell due after the loan was closed (known at
  ``as_of``) and were never paid are not counted (the loan was settled or written off before);
- guarantees are active when ``start_date <= as_of`` and not ended at ``as_of`` and their loan is issued
  and not closed at ``as_of``; roles likewise by ``valid_from`` / ``valid_to``;
- a household's surveyed facts (income, assets, assessment, ...) are used only when
  ``survey_date <= as_of``; otherwise those features are missing. Dated facts (``bad_credit_date``,
  ``criminal_record_date``, ``archived_date``) are used on their own dates;
- organisations registered after ``as_of`` did not exist then and get no row. Their balance-sheet facts
  carry no date and are used as given.

Windows "last 12 months" are ``(as_of - 12 months, as_of]`` (calendar months, start excluded). An
instalment is in a window when it fell due in it or was overdue during part of it (unpaid at ``as_of``,
or paid late inside the window); the on-time ratio counts only instalments that fell due in the window.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ruralcredit.catalog import FEATURES, feature_names
from ruralcredit.errors import InputError, SchemaError
from ruralcredit.schema import CREDIT_REPORT, FIVE_CLASSES, SUBJECT_TYPES, parse_as_of, validate_all

__all__ = ["build_features"]

#: Tables each subject type needs (a missing one raises) and may use (a missing one leaves the
#: features computed from it missing).
_REQUIRED: dict[str, tuple[str, ...]] = {
    "household": ("households", "loans", "repayments"),
    "family_farm": ("enterprises", "loans", "repayments"),
    "cooperative": ("enterprises", "loans", "repayments"),
    "enterprise": ("enterprises", "loans", "repayments"),
    "professional_manager": ("persons", "loans", "repayments"),
}
_OPTIONAL: dict[str, tuple[str, ...]] = {
    "household": ("guarantees",),
    "family_farm": ("guarantees", "roles", "persons", "households"),
    "cooperative": ("guarantees", "roles", "persons", "households"),
    "enterprise": ("guarantees", "roles", "persons", "households"),
    "professional_manager": ("roles", "enterprises"),
}
_CREDIT_GROUP = ("loans", "repayments", "guarantees")
_YEAR_DAYS = 365.25
_MONTH_DAYS = _YEAR_DAYS / 12
#: Overdue-day floors of the five-category classification (DOMAIN.md section 4): more than this many
#: days overdue puts a loan at least in the class of that ordinal.
_CLASS_FLOORS = ((0, 1), (90, 2), (270, 3), (360, 4))
_NPL_ORDINAL = FIVE_CLASSES.index("substandard")


def build_features(tables: Any, subject_type: str, as_of: Any) -> pd.DataFrame:
    """The features of every subject of one type, as known on ``as_of``.

    Parameters
    ----------
    tables : mapping of str to DataFrame, or an object with a ``tables`` mapping
        Schema tables (a synthetic ``County`` works). Needed: ``households`` (households),
        ``enterprises`` (family farms, cooperatives, enterprises) or ``persons`` (professional
        managers), plus ``loans`` and ``repayments``. Used when given: ``guarantees``; ``roles``,
        ``persons``, ``households`` (legal representatives' records); ``roles``, ``enterprises``
        (managed land). Features from an absent optional table are missing. Other tables are ignored.
    subject_type : str
        ``"household"``, ``"family_farm"``, ``"cooperative"``, ``"enterprise"`` or
        ``"professional_manager"``.
    as_of : date-like
        Only facts dated on or before this day are used (see the module docstring).

    Returns
    -------
    pandas.DataFrame
        One row per subject, sorted by ``subject_id`` (the first column, not the index), then the
        features :func:`~ruralcredit.features.feature_names` lists for the type, with the dtypes of
        the catalogue (``float64``, ``Int64``, ``boolean``, ``category``). Missing stays missing.

    Raises
    ------
    InputError
        For an unknown subject type, a bad ``as_of``, or ``tables`` that is not a mapping of tables.
    SchemaError
        For a missing needed table (``problem="missing_table"``) or a table that breaks its contract.

    Examples
    --------
    >>> from ruralcredit.features import build_features
    >>> from ruralcredit.synth import make_county
    >>> county = make_county(households=300, seed=1)
    >>> frame = build_features(county, "household", county.as_of)
    >>> list(frame.columns[:3])
    ['subject_id', 'head_age', 'head_education']
    >>> len(frame) == len(county.households)
    True
    """
    day = parse_as_of(as_of)
    _check_subject_type(subject_type)
    raw = _as_mapping(tables)
    t = validate_tables(raw, subject_type)
    if subject_type == "household":
        cols = _household_features(t, day)
    elif subject_type == "professional_manager":
        cols = _manager_features(t, day)
    else:
        cols = _organisation_features(t, subject_type, day)
    return _assemble(cols, subject_type)


# --------------------------------------------------------------------------------------------- inputs


def _as_mapping(tables: Any) -> Mapping[str, Any]:
    if not isinstance(tables, Mapping) and hasattr(tables, "tables"):
        tables = tables.tables
    if not isinstance(tables, Mapping):
        raise InputError(f"expected a mapping of table name to DataFrame, got {type(tables).__name__}",
                         argument="tables", value=type(tables).__name__)
    return tables


def _check_subject_type(subject_type: Any) -> None:
    if subject_type not in SUBJECT_TYPES:
        raise InputError(f"unknown subject type {subject_type!r}; expected one of {list(SUBJECT_TYPES)}",
                         argument="subject_type", value=subject_type)


def tables_present(raw: Mapping[str, Any], subject_type: str) -> list[str]:
    """The tables a subject type's features read that were given: the needed ones, then the optional ones.

    Raises
    ------
    InputError
        For an unknown subject type.
    SchemaError
        When a needed table is missing (``problem="missing_table"``).
    """
    _check_subject_type(subject_type)
    need = _REQUIRED[subject_type]
    missing = [name for name in need if raw.get(name) is None]
    if missing:
        raise SchemaError(f"building {subject_type} features needs table(s) {missing}; given: {sorted(raw)}",
                          table=",".join(missing), problem="missing_table")
    return [n for n in need + _OPTIONAL[subject_type] if raw.get(n) is not None]


def validate_tables(raw: Mapping[str, Any], subject_type: str) -> dict[str, pd.DataFrame]:
    """Validate the tables this subject type uses; references are checked within two groups.

    Credit tables (loans, repayments, guarantees) are validated together so that an orphan instalment
    or guarantee is an error; subject tables and roles together. Borrowers are not checked against
    the subject tables: a bank's loan book holds borrowers of every type.
    """
    use = tables_present(raw, subject_type)
    out = validate_all({n: raw[n] for n in use if n in _CREDIT_GROUP})
    out.update(validate_all({n: raw[n] for n in use if n not in _CREDIT_GROUP}))
    return out


def tables_needed(subject_type: str) -> tuple[str, ...]:
    """The tables a subject type's features read: the needed ones first, then those used when given.

    Raises
    ------
    InputError
        For an unknown subject type.
    """
    _check_subject_type(subject_type)
    return _REQUIRED[subject_type] + _OPTIONAL[subject_type]


# --------------------------------------------------------------------------------------------- helpers


def _days(values: Any) -> np.ndarray:
    """Dates as float days since the epoch (day resolution), NaN for missing."""
    a = np.asarray(values, dtype="datetime64[ns]")
    out = a.astype("datetime64[D]").astype("int64").astype("float64")
    out[np.isnat(a)] = np.nan
    return out


def _arrow(values: Any) -> pa.Array | pa.ChunkedArray:
    """Text values as an Arrow string array (zero-copy for pandas' Arrow-backed ``str`` columns)."""
    if isinstance(values, (pa.Array, pa.ChunkedArray)):
        arr = values
    elif isinstance(values, (pd.Series, pd.Index)):
        arr = pa.array(values.array) if values.dtype != object else pa.array(values.to_numpy(), from_pandas=True)
    else:
        arr = pa.array(np.asarray(values, dtype=object), from_pandas=True)
    if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        arr = pc.cast(arr, pa.string())
    return arr


def _positions(values: Any, keys: Any) -> np.ndarray:
    """Position of each value among ``keys`` (unique), -1 when absent: a hash join on text keys.

    Arrow's ``index_in`` hashes the keys once and probes with every value in C++; this is several
    times faster than ``pandas.Index.get_indexer`` on text.
    """
    v = _arrow(values)
    k = _arrow(keys)
    if isinstance(k, pa.ChunkedArray):
        k = k.combine_chunks()
    if k.type != v.type:
        k = pc.cast(k, v.type)
    found = pc.fill_null(pc.index_in(v, value_set=k), -1)
    if isinstance(found, pa.ChunkedArray):
        found = found.combine_chunks()
    return found.to_numpy(zero_copy_only=False).astype(np.int64, copy=False)


def _day_number(ts: pd.Timestamp) -> float:
    return float(np.datetime64(ts, "D").astype("int64"))


def _floats(s: pd.Series) -> np.ndarray:
    return s.to_numpy(dtype="float64", na_value=np.nan, copy=True)


def _div(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num / den, NaN where den is 0 or missing (a ratio with no base is unknown, not infinite)."""
    out = np.full(num.shape, np.nan)
    ok = np.isfinite(den) & (den != 0)
    np.divide(num, den, out=out, where=ok)
    out[~ok] = np.nan
    return out


def _group_sum(codes: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    return np.bincount(codes, weights=values, minlength=n)[:n]


def _group_max(codes: np.ndarray, values: np.ndarray, n: int, empty: float = np.nan) -> np.ndarray:
    """Largest value per group, ignoring NaN; ``empty`` for a group without a value."""
    out = np.full(n, -np.inf)
    np.fmax.at(out, codes, values)
    out[np.isneginf(out)] = empty
    return out


def _completed_years(year: np.ndarray, month: np.ndarray, dom: np.ndarray, day: pd.Timestamp) -> np.ndarray:
    """Age in completed years on ``day`` from birth year, month and day (float; NaN if missing/future)."""
    before = (month * 100 + dom) > day.month * 100 + day.day
    age = day.year - year - before
    age[age < 0] = np.nan
    return age


def _age_from_dates(birth: pd.Series, day: pd.Timestamp) -> np.ndarray:
    b = pd.DatetimeIndex(birth)
    return _completed_years(b.year.to_numpy(dtype="float64", na_value=np.nan),
                            b.month.to_numpy(dtype="float64", na_value=np.nan),
                            b.day.to_numpy(dtype="float64", na_value=np.nan), day)


def _age_from_resident_ids(numbers: pd.Series, day: pd.Timestamp) -> np.ndarray:
    """Age from the birth date inside 18-digit resident ID numbers (validated by the schema)."""
    arr = _arrow(numbers)

    def part(start: int, stop: int) -> np.ndarray:
        text = pc.utf8_slice_codeunits(arr, start, stop)
        return np.asarray(pc.cast(text, pa.float64()).to_numpy(zero_copy_only=False), dtype="float64")

    return _completed_years(part(6, 10), part(10, 12), part(12, 14), day)


def _codes(values: Any, categories: tuple[str, ...] | None) -> np.ndarray:
    """Category codes of text values (-1 for missing) against a closed vocabulary."""
    return _positions(values, pa.array(list(categories or ()), type=pa.string()))


def _class_floor(days_late: np.ndarray) -> np.ndarray:
    out = np.zeros(days_late.shape)
    for floor, ordinal in _CLASS_FLOORS:
        out[days_late > floor] = ordinal
    out[np.isnan(days_late)] = np.nan
    return out


def _window_start(day: pd.Timestamp, months: int) -> float:
    return _day_number(day - pd.DateOffset(months=months))


# ------------------------------------------------------------------------------------- credit record


def _credit_features(ids: pd.Series, t: dict[str, pd.DataFrame], day: pd.Timestamp) -> dict[str, np.ndarray]:
    """Loan, repayment and lender features of the subjects ``ids`` (their loans: borrower_id)."""
    n = len(ids)
    now = _day_number(day)
    loans = t["loans"]
    issue = _days(loans["issue_date"])
    codes = _positions(loans["borrower_id"], ids)
    keep = (codes >= 0) & (issue <= now)
    loans = loans.loc[keep]
    codes = codes[keep]
    issue = issue[keep]
    m = len(loans)

    closed = _days(loans["closed_date"])
    closed[closed > now] = np.nan  # closed after as_of: still open at as_of
    snap = _days(loans["snapshot_date"])
    snap_known = snap <= now
    amount = _floats(loans["amount"])

    # instalments of these loans that fell due by as_of
    reps = t["repayments"]
    loan_pos = _positions(reps["loan_id"], loans["loan_id"])
    due = _days(reps["due_date"])
    paid = _days(reps["paid_date"])
    paid[paid > now] = np.nan  # paid after as_of: unpaid at as_of
    has_loan = loan_pos >= 0
    # repaid by as_of (for balances not known from a snapshot): the amounts of instalments fully paid
    # by then. Only payments count, never the schedule ahead (it may be rescheduled after as_of).
    paid_by_now = has_loan & ~np.isnan(paid)
    paid_amount = _floats(reps["paid_amount"])
    paid_amount = np.where(np.isnan(paid_amount), _floats(reps["due_amount"]), paid_amount)
    repaid = np.bincount(loan_pos[paid_by_now], weights=paid_amount[paid_by_now], minlength=m)

    fell_due = has_loan & (due <= now)
    lp = loan_pos[fell_due]
    due_d = due[fell_due]
    paid_d = paid[fell_due]
    closed_i = closed[lp]
    counted = ~(np.isnan(paid_d) & (due_d > closed_i))  # unpaid but due after closure: not owed
    lp, due_d, paid_d = lp[counted], due_d[counted], paid_d[counted]
    late = np.where(np.isnan(paid_d), now - due_d, paid_d - due_d)
    late = np.maximum(late, 0.0)
    icode = codes[lp]
    # an instalment belongs to a window when it fell due in it, or was overdue during part of it
    # (still unpaid, or paid late inside it): a debt unpaid for 400 days is overdue this year too
    overdue_until = np.where(late > 0, np.where(np.isnan(paid_d), now, paid_d), -np.inf)

    # balances at as_of
    balance = np.where(np.isnan(closed), np.nan, 0.0)
    use_snap = np.isnan(balance) & snap_known
    balance[use_snap] = _floats(loans["balance"])[use_snap]
    derive = np.isnan(balance)
    balance[derive] = np.maximum(amount[derive] - repaid[derive], 0.0)
    is_open = np.isnan(closed) & (balance > 0)

    out: dict[str, np.ndarray] = {}
    out["bank_debt"] = _group_sum(codes, balance, n)
    out["open_loans"] = np.bincount(codes[is_open], minlength=n).astype("float64")

    snap_over = np.where(snap_known, _floats(loans["overdue_days"]), np.nan)
    snap_class = np.where(snap_known, _codes(loans["five_class"], FIVE_CLASSES).astype("float64"), np.nan)
    for months in (12, 24):
        start = _window_start(day, months)
        inwin = (due_d > start) | (overdue_until > start)
        over = inwin & (late > 0)
        out[f"overdue_count_{months}m"] = np.bincount(icode[over], minlength=n).astype("float64")
        worst = _group_max(icode[inwin], late[inwin], n, empty=0.0)
        snap_in = snap_known & (snap > start)
        worst_snap = _group_max(codes[snap_in], snap_over[snap_in], n, empty=0.0)
        out[f"max_overdue_days_{months}m"] = np.maximum(worst, worst_snap)
        if months == 24:  # of the instalments that fell due in the window
            fell = due_d > start
            on_time = fell & ~np.isnan(paid_d) & (paid_d <= due_d)
            out["on_time_ratio_24m"] = _div(np.bincount(icode[on_time], minlength=n).astype("float64"),
                                            np.bincount(icode[fell], minlength=n).astype("float64"))

    # worst five-category class over 5 years: overdue floors of instalments due in the window and
    # snapshot classes taken in it
    start5 = _window_start(day, 60)
    inwin5 = (due_d > start5) | (overdue_until > start5)
    worst_i = _group_max(icode[inwin5], _class_floor(late[inwin5]), n)
    snap5 = snap_known & (snap > start5)
    worst_s = _group_max(codes[snap5], snap_class[snap5], n)
    out["worst_five_class_5y"] = np.fmax(worst_i, worst_s)

    # non-performing now: an open loan whose current overdue days or snapshot class reach substandard.
    # (The cross-bank 20% rule of DOMAIN.md s.4 moves loans to NPL only when one of them is already more
    # than 90 days overdue, i.e. already NPL, so it does not change this subject-level flag.)
    unpaid_now = np.isnan(paid_d)
    cur_over = _group_max(lp[unpaid_now], late[unpaid_now], m, empty=0.0)
    cur_over = np.fmax(cur_over, snap_over)
    cur_class = np.fmax(_class_floor(cur_over), snap_class)
    npl_loan = is_open & (cur_class >= _NPL_ORDINAL)
    out["has_npl_now"] = np.bincount(codes[npl_loan], minlength=n) > 0

    # lenders with credit open at some point in the window: open at as_of, or closed inside the window
    # (a loan repaid to 0 without a closing date has closed on an unknown day: not counted)
    inst_codes, institutions = pd.factorize(loans["institution"])
    width = len(institutions) + 1
    for months in (3, 6, 12):
        start = _window_start(day, months)
        active = is_open | (closed > start)
        pairs = np.unique(codes[active].astype("int64") * width + inst_codes[active])
        out[f"lenders_{months}m"] = np.bincount(pairs // width, minlength=n).astype("float64")

    first = _group_max(codes, -issue, n)
    out["credit_history_months"] = (now + first) / _MONTH_DAYS
    return out


def _guarantees_given(ids: pd.Series, t: dict[str, pd.DataFrame], day: pd.Timestamp) -> np.ndarray:
    """Sum of active guarantees given by each subject; NaN for all when the table is absent."""
    n = len(ids)
    if "guarantees" not in t:
        return np.full(n, np.nan)
    g = t["guarantees"]
    now = _day_number(day)
    loans = t["loans"]
    issue = _days(loans["issue_date"])
    closed = _days(loans["closed_date"])
    loan_live = (issue <= now) & ~(closed <= now)
    pos = _positions(g["loan_id"], loans["loan_id"])
    live = (pos >= 0) & loan_live[np.maximum(pos, 0)]
    start = _days(g["start_date"])
    end = _days(g["end_date"])
    active = (start <= now) & ~(end <= now) & live
    codes = _positions(g["guarantor_id"], ids)
    sel = active & (codes >= 0)
    return _group_sum(codes[sel], _floats(g["amount"])[sel], n)


def _five_year_flag(dates: np.ndarray, fallback: np.ndarray, day: pd.Timestamp) -> np.ndarray:
    """True when a dated record falls in (as_of - 5 years, as_of]; ``fallback`` where undated."""
    now = _day_number(day)
    start = _window_start(day, 60)
    within = (dates > start) & (dates <= now)
    return np.where(np.isnan(dates), fallback, within.astype("float64"))


# ------------------------------------------------------------------------------------- subject types


def _household_features(t: dict[str, pd.DataFrame], day: pd.Timestamp) -> dict[str, Any]:
    h = t["households"]
    ids = h["subject_id"]
    now = _day_number(day)
    known = _days(h["survey_date"]) <= now

    def num(col: str) -> np.ndarray:
        v = _floats(h[col])
        v[~known] = np.nan
        return v

    def cat(col: str) -> np.ndarray:  # the feature has the column's name
        v = _codes(h[col], FEATURES[col].categories)
        v[~known] = -1
        return v

    size, labour, income = num("size"), num("labour_force"), num("annual_income")
    operating, land = num("operating_income"), num("land_mu")
    total_assets = (num("house_value") + num("machinery_value") + num("vehicle_value") + num("deposits")
                    + num("other_assets"))
    credit = _credit_features(ids, t, day)
    informal = num("informal_debt")
    total_debt = credit["bank_debt"] + informal
    net_assets = total_assets - total_debt
    guarantees = _guarantees_given(ids, t, day)
    net_pos = np.where(net_assets > 0, net_assets, np.nan)

    status = cat("credit_report_status")
    bad_fallback = np.where(known, (status == CREDIT_REPORT.index("bad")).astype("float64"), np.nan)
    archived_day = _days(h["archived_date"])
    is_archived = h["archived"].to_numpy(dtype=bool) & (archived_day <= now)

    cols: dict[str, Any] = {
        "subject_id": ids,
        "head_age": _age_from_resident_ids(h["head_id_number"], day),
        "head_education": cat("head_education"),
        "head_health": cat("head_health"),
        "household_size": size,
        "labour_force": labour,
        "dependency_ratio": _div(size - labour, labour),
        "annual_income": income,
        "income_per_labourer": _div(income, labour),
        "income_per_capita": _div(income, size),
        "operating_income": operating,
        "land_mu": land,
        "land_per_capita": _div(land, size),
        "livestock_units": num("livestock_units"),
        "house_value": num("house_value"),
        "house_structure": cat("house_structure"),
        "deposits": num("deposits"),
        "total_assets": total_assets,
        "net_assets": net_assets,
        "informal_debt": informal,
        "total_debt": total_debt,
        "debt_to_income": _div(total_debt, income),
        "debt_to_assets": _div(total_debt, total_assets),
        "guarantees_given": guarantees,
        "guarantees_to_net_assets": _div(guarantees, net_pos),
        "insurance_cover": num("insurance_cover"),
        "insurance_cover_ratio": _div(num("insurance_cover"), operating),
        "honours": num("honours"),
        "village_assessment": cat("village_assessment"),
        "credit_report_status": status,
        "bad_credit_5y": _five_year_flag(_days(h["bad_credit_date"]), bad_fallback, day),
        "criminal_5y": _five_year_flag(_days(h["criminal_record_date"]), np.where(known, 0.0, np.nan), day),
        "is_archived": is_archived,
        "years_since_archived": np.where(is_archived, (now - archived_day) / _YEAR_DAYS, np.nan),
    }
    cols.update(credit)
    return cols


def _organisation_features(t: dict[str, pd.DataFrame], kind: str, day: pd.Timestamp) -> dict[str, Any]:
    e = t["enterprises"]
    now = _day_number(day)
    registered = _days(e["registered_date"])
    e = e.loc[(e["kind"] == kind).to_numpy(dtype=bool) & (registered <= now)]
    registered = _days(e["registered_date"])
    ids = e["subject_id"]
    total_assets = _floats(e["total_assets"])
    liabilities = _floats(e["total_liabilities"])
    revenue = _floats(e["revenue_last_year"])
    net_assets = total_assets - liabilities
    guarantees = _guarantees_given(ids, t, day)
    bad, criminal = _legal_rep_records(ids, t, day)
    cols: dict[str, Any] = {
        "subject_id": ids,
        "years_in_operation": (now - registered) / _YEAR_DAYS,
        "land_mu": _floats(e["land_mu"]),
        "employees": _floats(e["employees"]),
        "members": _floats(e["members"]),
        "registered_capital": _floats(e["registered_capital"]),
        "revenue_last_year": revenue,
        "revenue_growth": _div(revenue, _floats(e["revenue_prev_year"])) - 1.0,
        "profit_margin": _div(_floats(e["net_profit"]), revenue),
        "total_assets": total_assets,
        "total_liabilities": liabilities,
        "net_assets": net_assets,
        "debt_to_assets": _div(liabilities, total_assets),
        "guarantees_given": guarantees,
        "guarantees_to_net_assets": _div(guarantees, np.where(net_assets > 0, net_assets, np.nan)),
        "insurance_cover": _floats(e["insurance_cover"]),
        "insurance_cover_ratio": _div(_floats(e["insurance_cover"]), revenue),
        "honours": _floats(e["honours"]),
        "demonstration_level": _codes(e["demonstration_level"], FEATURES["demonstration_level"].categories),
        "has_uscc": e["uscc"].notna().to_numpy(),
        "legal_rep_bad_credit_5y": bad,
        "legal_rep_criminal_5y": criminal,
    }
    cols.update(_credit_features(ids, t, day))
    return cols


def _roles_at(t: dict[str, pd.DataFrame], role: str, day: pd.Timestamp) -> pd.DataFrame:
    r = t["roles"]
    now = _day_number(day)
    held = (r["role"] == role).to_numpy(dtype=bool) & (_days(r["valid_from"]) <= now) \
        & ~(_days(r["valid_to"]) <= now)
    return r.loc[held, ["person_id", "enterprise_id"]]


def _legal_rep_records(ids: pd.Series, t: dict[str, pd.DataFrame], day: pd.Timestamp
                       ) -> tuple[np.ndarray, np.ndarray]:
    """Bad-credit and criminal flags (5 years) of each entity's legal representatives at ``as_of``.

    Known only when the representative is a household head on file (the household table holds the
    records); True if any representative has one, NaN when none is known.
    """
    n = len(ids)
    if not {"roles", "persons", "households"} <= set(t):
        return np.full(n, np.nan), np.full(n, np.nan)
    reps = _roles_at(t, "legal_representative", day)
    p = t["persons"][["person_id", "id_number"]]
    h = t["households"]
    now = _day_number(day)
    known = _days(h["survey_date"]) <= now
    bad = _five_year_flag(_days(h["bad_credit_date"]),
                          np.where(known, (h["credit_report_status"] == "bad").to_numpy(dtype="float64"),
                                   np.nan), day)
    criminal = _five_year_flag(_days(h["criminal_record_date"]), np.where(known, 0.0, np.nan), day)
    # representative -> person -> the household whose head has that ID number (-1: unknown)
    person = _positions(reps["person_id"], p["person_id"])
    ok = person >= 0
    head = np.full(len(reps), -1, dtype=np.int64)
    heads = h["head_id_number"]
    if heads.duplicated().any():  # whose record would it be? refuse rather than pick one
        raise SchemaError("a resident ID number heads more than one household", table="households",
                          columns=["head_id_number"], count=int(heads.duplicated().sum()),
                          problem="duplicate_head")
    head[ok] = _positions(p["id_number"].to_numpy(dtype=object)[person[ok]], heads)
    codes = _positions(reps["enterprise_id"], ids)
    sel = (codes >= 0) & (head >= 0)
    return (_group_max(codes[sel], bad[head[sel]], n), _group_max(codes[sel], criminal[head[sel]], n))


def _manager_features(t: dict[str, pd.DataFrame], day: pd.Timestamp) -> dict[str, Any]:
    p = t["persons"]
    now = _day_number(day)
    is_manager = p["manager_certificate"].notna().to_numpy()
    if "roles" in t:
        r = t["roles"]
        started = (r["role"] == "manager").to_numpy(dtype=bool) & (_days(r["valid_from"]) <= now)
        is_manager = is_manager | p["person_id"].isin(r.loc[started, "person_id"]).to_numpy()
    p = p.loc[is_manager]
    ids = p["person_id"]
    n = len(ids)
    if "roles" in t:
        held = _roles_at(t, "manager", day)
        codes = _positions(held["person_id"], ids)
        sel = codes >= 0
        managed = np.bincount(codes[sel], minlength=n).astype("float64")
        if "enterprises" in t:
            e = t["enterprises"]
            existing = _days(e["registered_date"]) <= now
            land = np.where(existing, _floats(e["land_mu"]), 0.0)
            pos = _positions(held["enterprise_id"], e["subject_id"])
            held_land = np.where(pos >= 0, land[np.maximum(pos, 0)], 0.0)
            managed_land = _group_sum(codes[sel], held_land[sel], n)
        else:
            managed_land = np.full(n, np.nan)
    else:
        managed = np.full(n, np.nan)
        managed_land = np.full(n, np.nan)
    cols: dict[str, Any] = {
        "subject_id": ids,
        "age": _age_from_dates(p["birth_date"], day),
        "education": _codes(p["education"], FEATURES["education"].categories),
        "certificate_level": _codes(p["manager_certificate"], FEATURES["certificate_level"].categories),
        "years_experience": _floats(p["years_experience"]),
        "managed_entities": managed,
        "managed_land_mu": managed_land,
    }
    cols.update(_credit_features(ids, t, day))
    return cols


# ------------------------------------------------------------------------------------------- output


def _assemble(cols: dict[str, Any], subject_type: str) -> pd.DataFrame:
    names = feature_names(subject_type)
    missing = [n for n in names if n not in cols]
    if missing:  # pragma: no cover - a catalogue entry without an implementation is a library bug
        raise AssertionError(f"features without an implementation for {subject_type}: {missing}")
    ids = cols["subject_id"]
    order = pc.sort_indices(_arrow(ids)).to_numpy(zero_copy_only=False)
    data: dict[str, Any] = {"subject_id": ids.iloc[order].reset_index(drop=True).astype("str")}
    for name in names:
        spec = FEATURES[name]
        v = np.asarray(cols[name])[order]
        if spec.dtype == "float":
            data[name] = v.astype("float64")
        elif spec.dtype == "int":
            data[name] = pd.array(v.astype("float64"), dtype="Int64")
        elif spec.dtype == "bool":
            f = v.astype("float64")
            arr = pd.array(f == 1.0, dtype="boolean")
            arr[np.isnan(f)] = pd.NA
            data[name] = arr
        else:
            data[name] = pd.Categorical.from_codes(v, categories=list(spec.categories or ()))
    return pd.DataFrame(data)
