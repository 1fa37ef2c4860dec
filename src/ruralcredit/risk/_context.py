"""Point-in-time views of the tables shared by the warning signals (private).

Rules (the same as :mod:`ruralcredit.features.build`, nothing dated after ``as_of`` is used):

- a loan exists from its ``issue_date``; a ``closed_date`` after the day asked about is unknown then,
  so the loan is open on that day;
- days overdue on a day *d* come from the instalments: the oldest instalment due on or before *d* and
  not paid by *d* (a payment after *d* counts as unpaid on *d*); a loan without instalment rows uses
  its snapshot (``overdue_days``) when ``snapshot_date <= d``; a snapshot taken after *d* (but by
  ``as_of``) dates the start of its arrears, ``snapshot_date - overdue_days``, so the loan was
  ``d - start`` days overdue on *d* if that start came before *d*; a snapshot after ``as_of`` is never
  used, and a loan with neither has an unknown status (no warning);
- the five-category class on *d* is the worse of the overdue-day floor (DOMAIN.md section 4) and the
  snapshot class when ``snapshot_date <= d``;
- a balance on *d* is the snapshot balance when ``snapshot_date <= d``, else the amount lent less the
  instalments paid by *d*; a loan closed by *d* has none;
- guarantees count while ``start_date <= as_of < end_date`` and their loan is issued and not closed;
  roles and contacts while ``valid_from <= day < valid_to``; transactions dated on or before ``as_of``;
- a household's surveyed facts are used only when ``survey_date <= as_of``; organisations registered
  after ``as_of`` did not exist then.

Persons who belong to a household are one *party* with it (the household's ``subject_id``), so that a
transfer to the head of a guarantor household counts as a transfer to the guarantor.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from ruralcredit.schema import FIVE_CLASSES

#: Day number standing for "never" (an open loan's closing day, an unpaid instalment's payment day).
NEVER = np.iinfo(np.int64).max // 4
_CLASS_FLOORS = np.array([0, 90, 270, 360])  # more than this many days overdue: class 1, 2, 3, 4


def day_numbers(s: pd.Series) -> np.ndarray:
    """Days since 1970-01-01 as int64, :data:`NEVER` for missing dates."""
    v = s.to_numpy(dtype="datetime64[ns]")
    out = v.astype("datetime64[D]").astype(np.int64)
    out[np.isnat(v)] = NEVER
    return out


def iso_days(days: np.ndarray) -> np.ndarray:
    """ISO date text of day numbers (``None`` for :data:`NEVER`)."""
    days = np.asarray(days, dtype=np.int64)
    text = np.datetime_as_string(np.where(days >= NEVER, 0, days).astype("datetime64[D]"), unit="D").astype(object)
    text[days >= NEVER] = None
    return text


def positions(values: pd.Series | np.ndarray, keys: pd.Series | pd.Index | np.ndarray) -> np.ndarray:
    """Position of each value in ``keys`` (-1 when absent or missing); a hash lookup."""
    index = keys if isinstance(keys, pd.Index) else pd.Index(np.asarray(keys, dtype=object))
    return index.get_indexer(np.asarray(values, dtype=object))


def frame(columns: dict[str, Any]) -> pd.DataFrame:
    """A DataFrame whose text columns stay Python objects (no round trip through Arrow strings)."""
    n = next((len(v) for v in columns.values() if np.ndim(v) == 1), 0)
    data = {}
    for name, v in columns.items():
        if isinstance(v, str) or v is None:
            data[name] = pd.Series(np.full(n, v, dtype=object), dtype=object)
        elif isinstance(v, np.ndarray) and v.dtype == object:
            data[name] = pd.Series(v, dtype=object)
        else:
            data[name] = v
    return pd.DataFrame(data)


def text(values: Any) -> np.ndarray:
    """Values as an object array of Python strings (missing as ``None``)."""
    arr = np.asarray(pd.Series(values, dtype=object).to_numpy(dtype=object))
    return arr


class Context:
    """Validated tables and the derived point-in-time views, computed once per scan.

    Parameters
    ----------
    tables : mapping of str to DataFrame
        Validated tables (:func:`ruralcredit.schema.validate_all`).
    as_of : pandas.Timestamp
    """

    def __init__(self, tables: Mapping[str, pd.DataFrame], as_of: pd.Timestamp) -> None:
        self.tables = dict(tables)
        self.as_of = as_of
        self.day = int(np.datetime64(as_of.date(), "D").astype(np.int64))
        self.cache: dict[Any, Any] = {}

    def has(self, name: str) -> bool:
        """Whether the table was given."""
        return name in self.tables

    def months_back(self, months: int) -> int:
        """The day number ``months`` calendar months before ``as_of``."""
        ts = self.as_of - pd.DateOffset(months=int(months))
        return int(np.datetime64(ts.date(), "D").astype(np.int64))

    # --- subjects --------------------------------------------------------------------------------------

    @cached_property
    def subjects(self) -> pd.DataFrame:
        """Every subject known on ``as_of``: ``subject_id, subject_type, party, village_code``."""
        parts = []
        if self.has("households"):
            h = self.tables["households"]
            parts.append(frame({"subject_id": text(h["subject_id"]), "subject_type": "household",
                                       "party": text(h["subject_id"]), "village_code": text(h["village_code"])}))
        if self.has("enterprises"):
            e = self.tables["enterprises"]
            e = e.loc[day_numbers(e["registered_date"]) <= self.day]
            parts.append(frame({"subject_id": text(e["subject_id"]), "subject_type": text(e["kind"]),
                                       "party": text(e["subject_id"]), "village_code": text(e["village_code"])}))
        if self.has("persons"):
            p = self.tables["persons"]
            hh = text(p["household_id"])
            pid = text(p["person_id"])
            has_hh = pd.notna(hh)
            village = np.full(len(p), None, dtype=object)
            if self.has("households") and has_hh.any():
                h = self.tables["households"]
                pos = positions(hh, h["subject_id"])
                vc = text(h["village_code"])
                village = np.where(pos >= 0, vc[np.maximum(pos, 0)], None)
            ptype = np.where(p["manager_certificate"].notna().to_numpy(), "professional_manager", "person")
            parts.append(frame({"subject_id": pid, "subject_type": ptype,
                                       "party": np.where(has_hh, hh, pid), "village_code": village}))
        if not parts:
            return pd.DataFrame({c: pd.Series([], dtype=object)
                                 for c in ("subject_id", "subject_type", "party", "village_code")})
        return pd.concat(parts, ignore_index=True)

    @cached_property
    def subject_index(self) -> pd.Index:
        """Index of :attr:`subjects` by ``subject_id``."""
        return pd.Index(self.subjects["subject_id"].to_numpy(dtype=object))

    def _lookup(self, ids: Any, column: str, default: Any) -> np.ndarray:
        """``subjects[column]`` of subject ids, ``default`` (an array or a scalar) where unknown."""
        ids = text(ids)
        values = self.subjects[column].to_numpy(dtype=object)
        if len(values) == 0:
            return np.full(len(ids), default, dtype=object) if np.ndim(default) == 0 else np.asarray(default, dtype=object)
        pos = self.subject_index.get_indexer(ids)
        return np.where(pos >= 0, values[np.maximum(pos, 0)], default)

    def party_of(self, ids: Any) -> np.ndarray:
        """The party (household for its members, else the subject itself) of subject ids; unknown ids
        (e.g. counterparties outside the tables) are their own party; missing stays missing."""
        ids = text(ids)
        return self._lookup(ids, "party", ids)

    def type_of(self, ids: Any) -> np.ndarray:
        """Subject type of subject ids (``"unknown"`` for ids not in the tables)."""
        return self._lookup(ids, "subject_type", "unknown")

    def village_of(self, ids: Any) -> np.ndarray:
        """Village code of subject ids (``None`` when unknown)."""
        return self._lookup(ids, "village_code", None)

    @cached_property
    def is_natural_person(self) -> pd.Index:
        """Ids of natural-person subjects (households, persons) as an index, for counterparty checks."""
        s = self.subjects
        keep = s["subject_type"].isin(["household", "person", "professional_manager"]).to_numpy()
        return pd.Index(s["subject_id"].to_numpy(dtype=object)[keep])

    @cached_property
    def households_known(self) -> pd.DataFrame:
        """Households whose survey is dated on or before ``as_of`` (their facts are known)."""
        h = self.tables["households"]
        return h.loc[day_numbers(h["survey_date"]) <= self.day]

    # --- loans -----------------------------------------------------------------------------------------

    @cached_property
    def loans(self) -> pd.DataFrame:
        """Loans issued on or before ``as_of`` with day numbers ``issue``, ``closed`` (NEVER if open then),
        ``snapshot``; ``borrower_type`` and ``borrower_party``."""
        loans = self.tables["loans"]
        issue = day_numbers(loans["issue_date"])
        keep = issue <= self.day
        loans = loans.loc[keep]
        closed = day_numbers(loans["closed_date"])
        out = frame({
            "loan_id": text(loans["loan_id"]), "borrower_id": text(loans["borrower_id"]),
            "borrower_type": text(loans["borrower_type"]), "institution": text(loans["institution"]),
            "officer_id": text(loans["officer_id"]), "product": text(loans["product"]),
            "purpose": text(loans["purpose"]), "amount": loans["amount"].to_numpy(dtype=np.float64),
            "issue": issue[keep], "closed": np.where(closed > self.day, NEVER, closed),
            "snapshot": day_numbers(loans["snapshot_date"]),
            "snap_balance": loans["balance"].to_numpy(dtype=np.float64),
            "snap_overdue": loans["overdue_days"].to_numpy(dtype=np.int64),
            "snap_class": pd.Categorical(text(loans["five_class"]), categories=FIVE_CLASSES).codes.astype(np.int64),
        })
        out["borrower_party"] = pd.Series(self.party_of(out["borrower_id"]), dtype=object, index=out.index)
        return out

    @cached_property
    def loan_index(self) -> pd.Index:
        """Index of :attr:`loans` by ``loan_id``."""
        return pd.Index(self.loans["loan_id"].to_numpy(dtype=object))

    @cached_property
    def _instalments(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
        """(loan position, due day, paid day, paid amount) of the instalments of :attr:`loans`."""
        if not self.has("repayments"):
            return None
        r = self.tables["repayments"]
        pos = self.loan_index.get_indexer(text(r["loan_id"]))
        keep = pos >= 0
        paid_amount = r["paid_amount"].to_numpy(dtype=np.float64, na_value=np.nan)
        paid_amount = np.where(np.isnan(paid_amount), r["due_amount"].to_numpy(dtype=np.float64), paid_amount)
        return pos[keep], day_numbers(r["due_date"])[keep], day_numbers(r["paid_date"])[keep], paid_amount[keep]

    def status_on(self, day: int) -> pd.DataFrame:
        """Per loan of :attr:`loans` on ``day`` (<= as_of): ``open``, ``known``, ``overdue_days``,
        ``overdue_start`` (day number, NEVER when not overdue), ``balance`` and ``five_class`` (ordinal,
        -1 when closed or not yet issued)."""
        key = ("status", day)
        if key in self.cache:
            return self.cache[key]
        L = self.loans
        n = len(L)
        issued = L["issue"].to_numpy() <= day
        closed = L["closed"].to_numpy()
        is_open = issued & ((closed > day) | (closed >= NEVER))
        snap = L["snapshot"].to_numpy()
        snap_known = (snap <= day) & issued
        # a snapshot taken after ``day`` but by as_of still tells when its arrears began
        snap_later = (snap > day) & (snap <= self.day) & issued
        first_unpaid = np.full(n, NEVER, dtype=np.int64)
        repaid = np.zeros(n)
        has_rows = np.zeros(n, dtype=bool)
        inst = self._instalments
        if inst is not None:
            pos, due, paid, amount = inst
            has_rows[pos] = True
            unpaid = (due <= day) & (paid > day)
            np.minimum.at(first_unpaid, pos[unpaid], due[unpaid])
            paid_by = paid <= day
            repaid = np.bincount(pos[paid_by], weights=amount[paid_by], minlength=n)
        overdue = np.where(first_unpaid < NEVER, day - first_unpaid, 0)
        start = first_unpaid.copy()
        use_snap = ~has_rows & snap_known
        so = L["snap_overdue"].to_numpy()
        overdue = np.where(use_snap, so, overdue)
        start = np.where(use_snap, np.where(so > 0, snap - so, NEVER), start)
        back = ~has_rows & snap_later
        began = snap - so
        overdue = np.where(back, np.where((so > 0) & (began < day), day - began, 0), overdue)
        start = np.where(back, np.where((so > 0) & (began < day), began, NEVER), start)
        known = has_rows | snap_known | snap_later
        overdue = np.where(is_open & known, overdue, 0)
        start = np.where(is_open & known & (overdue > 0), start, NEVER)
        balance = np.where(snap_known, L["snap_balance"].to_numpy(),
                           np.maximum(L["amount"].to_numpy() - repaid, 0.0))
        balance = np.round(np.where(is_open, balance, 0.0), 2)
        floor = np.searchsorted(_CLASS_FLOORS, overdue, side="left")  # >0 -> 1, >90 -> 2, ...
        cls = np.maximum(floor, np.where(snap_known, L["snap_class"].to_numpy(), 0))
        cls = np.where(is_open, cls, -1)
        out = pd.DataFrame({"open": is_open, "known": known & is_open, "overdue_days": overdue.astype(np.int64),
                            "overdue_start": start, "balance": balance, "five_class": cls.astype(np.int64)})
        self.cache[key] = out
        return out

    # --- relations -------------------------------------------------------------------------------------

    @cached_property
    def guarantees(self) -> pd.DataFrame:
        """Guarantees in force on ``as_of`` on open loans, with the loan's borrower, issue day, officer,
        balance: ``guarantee_id, loan_id, guarantor_id, borrower_id, amount, exposure, issue, officer_id``."""
        g = self.tables["guarantees"]
        start = day_numbers(g["start_date"])
        end = day_numbers(g["end_date"])
        pos = self.loan_index.get_indexer(text(g["loan_id"]))
        status = self.status_on(self.day)
        ok = (start <= self.day) & (end > self.day) & (pos >= 0)
        ok[ok] &= status["open"].to_numpy()[pos[ok]]
        p = pos[ok]
        L = self.loans
        amount = g["amount"].to_numpy(dtype=np.float64)[ok]
        balance = status["balance"].to_numpy()[p]
        return frame({
            "guarantee_id": text(g["guarantee_id"])[ok], "loan_id": L["loan_id"].to_numpy()[p],
            "guarantor_id": text(g["guarantor_id"])[ok], "borrower_id": L["borrower_id"].to_numpy()[p],
            "amount": amount, "exposure": np.round(np.minimum(amount, balance), 2),
            "issue": L["issue"].to_numpy()[p], "officer_id": L["officer_id"].to_numpy()[p]})

    @cached_property
    def contacts(self) -> pd.DataFrame:
        """Contacts in use on ``as_of``: ``subject_id, kind, value, party``."""
        c = self.tables["contacts"]
        ok = (day_numbers(c["valid_from"]) <= self.day) & (day_numbers(c["valid_to"]) > self.day)
        c = c.loc[ok]
        out = frame({"subject_id": text(c["subject_id"]), "kind": text(c["kind"]),
                            "value": text(c["value"])})
        out["party"] = pd.Series(self.party_of(out["subject_id"]), dtype=object, index=out.index)
        return out.drop_duplicates(["subject_id", "kind", "value"], ignore_index=True)

    def roles_on(self, day: int) -> pd.DataFrame:
        """Roles held on ``day``: ``person_id, enterprise_id, role``."""
        r = self.tables["roles"]
        ok = (day_numbers(r["valid_from"]) <= day) & (day_numbers(r["valid_to"]) > day)
        return frame({"person_id": text(r["person_id"])[ok], "enterprise_id": text(r["enterprise_id"])[ok],
                             "role": text(r["role"])[ok]})

    @cached_property
    def transactions(self) -> pd.DataFrame:
        """Transactions dated on or before ``as_of``, with ``day`` numbers, the owner's and the
        counterparty's party, and whether the counterparty is an individual."""
        t = self.tables["transactions"]
        day = day_numbers(t["date"])
        t = t.loc[day <= self.day]
        out = frame({
            "txn_id": text(t["txn_id"]), "subject_id": text(t["subject_id"]), "day": day[day <= self.day],
            "amount": t["amount"].to_numpy(dtype=np.float64), "direction": text(t["direction"]),
            "counterparty_id": text(t["counterparty_id"]), "counterparty_name": text(t["counterparty_name"]),
            "industry": text(t["counterparty_industry"]), "loan_id": text(t["loan_id"])})
        cp = out["counterparty_id"].to_numpy(dtype=object)
        known_cp = pd.notna(cp)
        out["counterparty_party"] = pd.Series(np.where(known_cp, self.party_of(cp), None), dtype=object,
                                              index=out.index)
        person_cp = known_cp & (self.is_natural_person.get_indexer(np.where(known_cp, cp, "")) >= 0)
        out["to_individual"] = (out["industry"].to_numpy() == "individual") | person_cp
        # who an individual is: their party when known, else the name given
        names = np.char.add("name:", out["counterparty_name"].astype(str).to_numpy(dtype=str)).astype(object)
        out["individual_key"] = pd.Series(np.where(known_cp, out["counterparty_party"].to_numpy(dtype=object), names),
                                          dtype=object, index=out.index)
        return out
