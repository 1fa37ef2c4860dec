"""The blacklist registry (黑名单): listings with maker-checker approval, removal, appeals, credit repair,
expiry, bitemporal queries, screening and joint punishment.

Lifecycle of a listing::

    propose (maker) ──► pending ──approve (checker ≠ maker)──► active ──► removed (repaid, credit repair,
                          │                                       │         data error, appeal upheld)
                          └──reject──► rejected                    └──────► expired (maximum period)

Two time axes. *Valid time*: the days a listing is in force, ``[listed_from, listed_to)``, from its
effective date to the end of its maximum publicity period or an earlier removal (removals for a data
error or an upheld appeal void it from the start). *Transaction time*: when the registry learned each
change (``recorded_at``, the time of its event). Every change appends a listing version; none is updated
in place, so :meth:`Registry.is_listed` answers "was X listed on day D, as we knew it at time T".
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, String, cast, func, insert, select

from ruralcredit import ids
from ruralcredit.blacklist import joint as _joint
from ruralcredit.blacklist import screening as _screening
from ruralcredit.blacklist._subjects import (
    RESIDENT,
    display,
    display_series,
    normalise_names,
    normalise_subject,
)
from ruralcredit.blacklist.policy import BlacklistPolicy
from ruralcredit.blacklist.vocabulary import CATEGORIES, REMOVAL_REASONS, SEVERITIES, category
from ruralcredit.errors import InputError, PolicyError, RegistryError
from ruralcredit.packs import load_packs, select_pack
from ruralcredit.schema import parse_as_of
from ruralcredit.store import Store, VerifyResult, canonical_json, format_time
from ruralcredit.store import tables as t

__all__ = ["Listing", "Registry", "Request"]

_STATUSES = ("pending", "active", "rejected", "removed", "expired")
_HEX = set("0123456789abcdef")


def _text(value: Any, argument: str, *, max_len: int = 2000) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InputError("must be non-empty text", argument=argument,
                         value=None if value is None else type(value).__name__)
    if len(value) > max_len:
        raise InputError(f"longer than {max_len} characters", argument=argument, value=len(value))
    return value.strip()


def _day(value: Any, argument: str) -> dt.date:
    return parse_as_of(value, argument).date()


def _known(as_known_at: Any) -> int | str | None:
    """``None`` (everything known now), an event seq (registry version) or transaction-time text."""
    if as_known_at is None:
        return None
    if isinstance(as_known_at, bool):
        raise InputError("expected a time or a registry version", argument="as_known_at", value=as_known_at)
    if isinstance(as_known_at, int):
        if as_known_at < 0:
            raise InputError("a registry version is >= 0", argument="as_known_at", value=as_known_at)
        return as_known_at
    try:
        ts = pd.Timestamp(as_known_at)
    except (TypeError, ValueError) as exc:
        raise InputError(f"not a time: {as_known_at!r}", argument="as_known_at", value=as_known_at) from exc
    if pd.isna(ts):
        raise InputError("not a time", argument="as_known_at", value=as_known_at)
    return format_time(ts.to_pydatetime())  # naive times are read as UTC


def _row_hash(row: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_json(row).encode("utf-8")).hexdigest()


def _new_id(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:20]}"


@dataclass(frozen=True, repr=False)
class Listing:
    """One listing as known at some time (immutable). Its repr masks resident ID numbers.

    Attributes
    ----------
    listing_id : str
    subject_key : str
        The normalised resident ID number or USCC (raw: do not show it to people; use ``subject_masked``).
    id_kind : {"resident_id", "uscc"}
    subject_name, category, severity, legal_basis, source_institution, document_number, evidence_hash : str
    effective_date, min_end, max_end : datetime.date
        In force from ``effective_date``; repair may be requested from ``min_end``; publication ends on
        ``max_end`` (not listed on that day).
    status : {"pending", "active", "rejected", "removed", "expired"}
    listed_from, listed_to : datetime.date or None
        The valid-time interval ``[listed_from, listed_to)`` (None when never in force).
    reason : str or None
        Removal reason, rejection, ...
    proposed_by, recorded_at : str
    policy_id, policy_version, policy_hash : str
    """

    listing_id: str
    subject_key: str
    id_kind: str
    subject_name: str
    category: str
    severity: str
    legal_basis: str
    source_institution: str
    document_number: str
    evidence_hash: str
    effective_date: dt.date
    min_end: dt.date
    max_end: dt.date
    policy_id: str
    policy_version: str
    policy_hash: str
    proposed_by: str
    recorded_at: str
    status: str
    listed_from: dt.date | None
    listed_to: dt.date | None
    reason: str | None

    @property
    def subject_masked(self) -> str:
        """The subject's identifier as a person may read it."""
        return display(self.subject_key, self.id_kind)

    def is_in_force(self, on: Any) -> bool:
        """Whether the listing is in force on day ``on`` (as this version knows it)."""
        day = _day(on, "on")
        return self.listed_from is not None and self.listed_to is not None and self.listed_from <= day < self.listed_to

    def __repr__(self) -> str:
        return (f"Listing({self.listing_id}, subject={self.subject_masked}, category={self.category}, "
                f"severity={self.severity}, status={self.status}, listed={self.listed_from}..{self.listed_to})")


@dataclass(frozen=True)
class Request:
    """A removal request or an appeal, with its decision once decided.

    Attributes
    ----------
    request_id, listing_id : str
    kind : {"removal", "appeal"}
    reason : str
        The removal reason asked for (``"appeal"`` for appeals).
    on_date : datetime.date
        The day the request is for (removals take effect on it).
    obligations_met : bool or None
    filed_by, note, recorded_at : str
    decision : {"approved", "rejected"} or None
    decided_by : str or None
    """

    request_id: str
    listing_id: str
    kind: str
    reason: str
    on_date: dt.date
    obligations_met: bool | None
    filed_by: str
    note: str
    recorded_at: str
    decision: str | None = None
    decided_by: str | None = None


_LISTING_COLS = [c.name for c in t.bl_listings.columns if c.name != "event_seq"]
_FAST_COLS = ["listing_id", "subject_key", "id_kind", "subject_name", "category", "severity", "listed_from",
              "listed_to"]


class Registry:
    """The blacklist registry kept in a :class:`~ruralcredit.store.Store`.

    Parameters
    ----------
    store : Store
    policy : str, Path, BlacklistPolicy or sequence of them, default "credit-repair"
        The blacklist policy pack(s): publicity periods per severity, repair rules, joint punishment. A
        built-in id, a path to a YAML file or directory, or loaded packs. The version in force on a
        listing's effective date sets its periods.

    Examples
    --------
    >>> from ruralcredit.store import open_store
    >>> reg = Registry(open_store("sqlite://"))
    >>> lst = reg.propose("11010519491231002X", name="张三", category="debt.malicious_evasion",
    ...                   severity="serious", legal_basis="合同法", source_institution="农商行",
    ...                   document_number="2026-001", evidence_hash="0" * 64, effective_date="2026-05-01",
    ...                   by="maker")
    >>> lst = reg.approve(lst.listing_id, by="checker")
    >>> reg.is_listed("11010519491231002X", on="2026-06-01")
    True
    >>> lst
    Listing(..., subject=110105********002X, category=debt.malicious_evasion, severity=serious, status=active, listed=2026-05-01..2029-05-01)
    """

    def __init__(self, store: Store, *, policy: str | Path | BlacklistPolicy | Sequence[BlacklistPolicy]
                 = "credit-repair") -> None:
        if not isinstance(store, Store):
            raise InputError(f"expected a Store, got {type(store).__name__}", argument="store")
        self.store = store
        self._packs = self._load_policy(policy)

    def __repr__(self) -> str:
        return f"Registry({self.store.url!r}, policy={self._packs[0].id!r})"

    @staticmethod
    def _load_policy(policy: Any) -> list[BlacklistPolicy]:
        if isinstance(policy, BlacklistPolicy):
            return [policy]
        if isinstance(policy, (str, Path)):
            path = Path(policy)
            if path.suffix in (".yaml", ".yml") or path.exists():
                return load_packs(path, BlacklistPolicy)
            from ruralcredit.packs import _builtin_root

            builtin = _builtin_root() / BlacklistPolicy.KIND / f"{policy}.yaml"
            if not builtin.is_file():
                raise PolicyError(f"no built-in blacklist pack {str(policy)!r}", pack_id=str(policy))
            return load_packs(builtin, BlacklistPolicy)
        if isinstance(policy, Sequence) and policy and all(isinstance(p, BlacklistPolicy) for p in policy):
            return list(policy)
        raise InputError("expected a blacklist pack id, path or BlacklistPolicy", argument="policy",
                         value=type(policy).__name__)

    def policy(self, on: Any) -> BlacklistPolicy:
        """The blacklist policy pack in force on ``on``.

        Raises
        ------
        PolicyError
            When no version covers the date.
        """
        return select_pack(self._packs, on)

    @property
    def version(self) -> int:
        """The registry version: seq of the last event in the store."""
        return self.store.version()

    # --- writing ---------------------------------------------------------------------------------------

    def _write(self, conn: Connection, table: Any, row: dict[str, Any], *, actor: str, kind: str,
               entity_id: str, info: dict[str, Any]) -> Any:
        """Insert ``row`` into ``table`` together with its event (the event binds the row's hash)."""
        body = {k: v for k, v in row.items() if k not in ("recorded_at", "event_seq")}
        ev = self.store.append_event(conn, actor=actor, kind=kind, entity_id=entity_id,
                                     payload={**info, "table": table.name, "row_hash": _row_hash(body)})
        conn.execute(insert(table).values(**body, recorded_at=ev.time, event_seq=ev.seq))
        return ev

    def _add_version(self, conn: Connection, listing_id: str, status: str, *, listed_from: dt.date | None,
                     listed_to: dt.date | None, reason: str | None, note: str, actor: str, kind: str,
                     info: dict[str, Any] | None = None) -> None:
        if listed_from is not None and listed_to is not None and listed_to <= listed_from:
            listed_from = listed_to = None  # an empty interval: never in force
        row = {"listing_id": listing_id, "status": status, "listed_from": listed_from, "listed_to": listed_to,
               "reason": reason, "note": note, "actor": actor}
        self._write(conn, t.bl_listing_versions, row, actor=actor, kind=kind, entity_id=listing_id,
                    info={"status": status, "listed_from": listed_from, "listed_to": listed_to, "reason": reason,
                          **(info or {})})

    def propose(self, subject: str, *, name: str, category: str, severity: str, legal_basis: str,
                source_institution: str, document_number: str, evidence_hash: str, effective_date: Any,
                by: str, id_kind: str | None = None, note: str = "") -> Listing:
        """Propose a listing (the maker's step). It has no effect until a different user approves it.

        Parameters
        ----------
        subject : str
            Resident ID number (15-digit numbers are upgraded) or USCC.
        name : str
            The subject's name (used to confirm masked-number matches in screening).
        category : str
            A leaf of :data:`~ruralcredit.blacklist.vocabulary.CATEGORIES`, e.g. ``"debt.malicious_evasion"``.
        severity : {"ordinary", "serious"}
            ``"minor"`` exists but is not published under the built-in policy (refused).
        legal_basis, source_institution, document_number : str
            The law or rule, who determined the misconduct, and the document's number.
        evidence_hash : str
            SHA-256 (64 hex characters) of the evidence file kept elsewhere.
        effective_date : date-like
            First day in force; the periods run from it.
        by : str
            The maker.
        id_kind : {"resident_id", "uscc"}, optional
            Default: read as a resident ID number when valid as one (about 1 in 30 also pass the USCC check).
        note : str

        Returns
        -------
        Listing
            Status ``pending``.

        Raises
        ------
        IdentifierError, InputError
            For a bad identifier or argument.
        PolicyError
            When no blacklist policy covers the effective date.
        RegistryError
            ``code="not_published"`` for a severity the policy does not publish; ``code="duplicate"``
            when the same subject, category and document number are already pending or active.
        """
        key, kind = normalise_subject(subject, id_kind)
        name = _text(name, "name", max_len=200)
        cat = category_leaf(category)
        if severity not in SEVERITIES:
            raise InputError(f"unknown severity {severity!r}; known: {list(SEVERITIES)}", argument="severity",
                             value=severity)
        legal_basis = _text(legal_basis, "legal_basis")
        source_institution = _text(source_institution, "source_institution", max_len=200)
        document_number = _text(document_number, "document_number", max_len=200)
        if not isinstance(evidence_hash, str) or len(evidence_hash) != 64 or not set(evidence_hash.lower()) <= _HEX:
            raise InputError("must be a SHA-256 digest: 64 hex characters", argument="evidence_hash",
                             value=evidence_hash if isinstance(evidence_hash, str) and len(evidence_hash) < 80 else None)
        by = _text(by, "by", max_len=200)
        effective = _day(effective_date, "effective_date")
        pack = self.policy(effective)
        pub = pack.payload.publicity[severity]  # type: ignore[index]
        if not pub.published:
            raise RegistryError(f"{severity} failures are not published under policy {pack.id} {pack.version}",
                                code="not_published")
        min_end = (pd.Timestamp(effective) + pd.DateOffset(months=pub.min_months)).date()
        max_end = (pd.Timestamp(effective) + pd.DateOffset(months=pub.max_months)).date()
        listing_id = _new_id("L")
        row = {"listing_id": listing_id, "subject_key": key, "id_kind": kind, "subject_name": name,
               "category": cat, "severity": severity, "legal_basis": legal_basis,
               "source_institution": source_institution, "document_number": document_number,
               "evidence_hash": evidence_hash.lower(), "effective_date": effective, "min_end": min_end,
               "max_end": max_end, "policy_id": pack.id, "policy_version": pack.version,
               "policy_hash": pack.policy_hash, "proposed_by": by}
        with self.store.transaction() as conn:
            self.store.lock(conn)
            clash = [r for r in self._rows(conn, None, subject_key=key) if r.category == cat
                     and r.document_number == document_number and r.status in ("pending", "active")]
            if clash:
                raise RegistryError(f"subject {display(key, kind)} already has a {clash[0].status} listing "
                                    f"{clash[0].listing_id} for {cat}, document {document_number}",
                                    listing_id=clash[0].listing_id, code="duplicate")
            info = {"subject_masked": display(key, kind),
                    "subject_ref": ids.pseudonymize(key, self.store.pseudonym_key, kind=kind),  # type: ignore[arg-type]
                    "category": cat, "severity": severity, "effective_date": effective, "min_end": min_end,
                    "max_end": max_end, "document_number": document_number,
                    "policy": {"id": pack.id, "version": pack.version, "hash": pack.policy_hash}}
            self._write(conn, t.bl_listings, row, actor=by, kind="listing.proposed", entity_id=listing_id, info=info)
            self._add_version(conn, listing_id, "pending", listed_from=None, listed_to=None, reason=None, note=note,
                              actor=by, kind="listing.pending")
            return self._get(conn, listing_id, None)

    def propose_many(self, listings: pd.DataFrame, *, by: str) -> pd.DataFrame:
        """Propose many listings in one transaction (e.g. importing a county's existing blacklist).

        Each listing gets its rows and events exactly as with :meth:`propose` and stays pending until a
        different user approves it (:meth:`approve_many`).

        Parameters
        ----------
        listings : DataFrame
            ``id_number`` and/or ``uscc`` (exactly one per row), ``name``, ``category``, ``severity``,
            ``legal_basis``, ``source_institution``, ``document_number``, ``evidence_hash``,
            ``effective_date``.
        by : str
            The maker.

        Returns
        -------
        DataFrame
            ``listing_id, subject_masked, category, severity, effective_date, min_end, max_end`` in input
            order.

        Raises
        ------
        SchemaError
            Naming the rows (by position) with a missing column or value, an invalid identifier, an
            unknown category or severity, a bad evidence hash or date.
        RegistryError
            ``"not_published"`` or ``"duplicate"`` (within the frame or against pending/active listings).
        PolicyError
            When no blacklist policy covers an effective date.
        """
        from ruralcredit.blacklist._subjects import id_column, is_text
        from ruralcredit.blacklist.vocabulary import leaf_categories
        from ruralcredit.errors import SchemaError

        by = _text(by, "by", max_len=200)
        table = "listings"
        if not isinstance(listings, pd.DataFrame):
            raise SchemaError(f"expected a pandas DataFrame, got {type(listings).__name__}", table=table,
                              problem="type")
        need = ["name", "category", "severity", "legal_basis", "source_institution", "document_number",
                "evidence_hash", "effective_date"]
        missing = [c for c in need if c not in listings.columns]
        if missing or not ({"id_number", "uscc"} & set(listings.columns)):
            raise SchemaError("missing required columns", table=table,
                              columns=missing or ["id_number", "uscc"], problem="missing_columns")
        df = listings.reset_index(drop=True).assign(_row=lambda d: np.arange(len(d)))
        n = len(df)

        def fail(mask: np.ndarray, cols: list[str], message: str, problem: str) -> None:
            if mask.any():
                raise SchemaError(message, table=table, columns=cols, keys=np.flatnonzero(mask)[:20].tolist(),
                                  count=int(mask.sum()), problem=problem)

        key = pd.Series(None, index=df.index, dtype=object)
        kind = pd.Series(None, index=df.index, dtype=object)
        for column, k in (("id_number", RESIDENT), ("uscc", "uscc")):
            if column in df.columns:
                keys, masked = id_column(df, column, k, table, "_row")
                fail(masked.notna().to_numpy(), [column], "a listing needs the full number, not a masked one",
                     "identifier")
                has = keys.notna().to_numpy()
                fail(has & key.notna().to_numpy(), ["id_number", "uscc"], "give one identifier per listing",
                     "ambiguous_identifier")
                key[has], kind[has] = keys[has], k
        fail(key.isna().to_numpy(), ["id_number", "uscc"], "missing identifier", "null")
        for c in ("name", "legal_basis", "source_institution", "document_number"):
            v = df[c]
            fail(~is_text(v), [c], "must be text", "dtype")
            filled = pd.Series(v.astype(object).where(v.notna(), "").to_numpy(dtype=object), dtype="str")
            fail((filled.str.strip().str.len() == 0).to_numpy(bool), [c], "must be non-empty text", "null")
        fail(~df["category"].isin(leaf_categories()).to_numpy(), ["category"],
             f"unknown category; known: {leaf_categories()}", "allowed")
        fail(~df["severity"].isin(list(SEVERITIES)).to_numpy(), ["severity"], f"unknown severity; known: "
             f"{list(SEVERITIES)}", "allowed")
        ev_hash = df["evidence_hash"].astype(object).where(df["evidence_hash"].notna(), "")
        ok_hash = pd.Series(ev_hash.to_numpy(dtype=object), dtype="str").str.lower().str.fullmatch(r"[0-9a-f]{64}")
        fail(~ok_hash.fillna(False).to_numpy(bool), ["evidence_hash"], "must be a SHA-256 digest", "dtype")
        eff = pd.to_datetime(df["effective_date"], errors="coerce", format="ISO8601") if not \
            pd.api.types.is_datetime64_any_dtype(df["effective_date"]) else df["effective_date"]
        fail(eff.isna().to_numpy(), ["effective_date"], "not a date", "date")
        eff = eff.dt.normalize().astype("datetime64[ns]")
        dup = pd.DataFrame({"k": key, "c": df["category"], "d": df["document_number"]}).duplicated(keep=False)
        if dup.any():
            raise RegistryError(f"{int(dup.sum())} rows repeat a subject, category and document number",
                                code="duplicate")
        min_end = pd.Series(pd.NaT, index=df.index, dtype="datetime64[ns]")
        max_end = min_end.copy()
        pack_of = np.full(n, -1)
        packs = sorted(self._packs, key=lambda p: p.effective_from)
        for j, pack in enumerate(packs):  # a few versions; the newest in force wins
            sel = (eff >= pd.Timestamp(pack.effective_from)).to_numpy().copy()
            if pack.effective_to is not None:
                sel &= (eff <= pd.Timestamp(pack.effective_to)).to_numpy()
            pack_of[sel] = j
        if (pack_of < 0).any():
            self.policy(eff[pack_of < 0].iloc[0])  # raises PolicyError naming the uncovered date
        for j, pack in enumerate(packs):
            for sev, pub in pack.payload.publicity.items():
                sel = (pack_of == j) & (df["severity"] == sev).to_numpy()
                if not sel.any():
                    continue
                if not pub.published:
                    raise RegistryError(f"{sev} failures are not published under policy {pack.id} {pack.version}",
                                        code="not_published")
                min_end[sel] = eff[sel] + pd.DateOffset(months=pub.min_months)
                max_end[sel] = eff[sel] + pd.DateOffset(months=pub.max_months)
        described = [{"id": p.id, "version": p.version, "hash": p.policy_hash} for p in packs]
        listing_ids = [_new_id("L") for _ in range(n)]
        masked_keys = display_series(key, kind)
        refs = pd.Series(None, index=df.index, dtype=object)
        for k in (RESIDENT, "uscc"):
            sel = (kind == k).to_numpy()
            if sel.any():
                refs[sel] = ids.pseudonymize_series(key[sel], self.store.pseudonym_key, kind=k).to_numpy(dtype=object)  # type: ignore[arg-type]
        cols = {
            "listing_id": listing_ids, "subject_key": key.tolist(), "id_kind": kind.tolist(),
            "subject_name": df["name"].str.strip().tolist(), "category": df["category"].tolist(),
            "severity": df["severity"].tolist(), "legal_basis": df["legal_basis"].str.strip().tolist(),
            "source_institution": df["source_institution"].str.strip().tolist(),
            "document_number": df["document_number"].str.strip().tolist(),
            "evidence_hash": pd.Series(ev_hash.to_numpy(dtype=object), dtype="str").str.lower().tolist(),
            "effective_date": list(eff.dt.date), "min_end": list(min_end.dt.date), "max_end": list(max_end.dt.date),
            "policy_id": [described[j]["id"] for j in pack_of], "policy_version": [described[j]["version"] for j in pack_of],
            "policy_hash": [described[j]["hash"] for j in pack_of], "proposed_by": [by] * n,
        }
        rows = [dict(zip(cols, values, strict=True)) for values in zip(*cols.values(), strict=True)]
        masked_list, ref_list = masked_keys.tolist(), refs.tolist()
        events = [{"actor": by, "kind": "listing.proposed", "entity_id": row["listing_id"], "payload": {
            "subject_masked": masked_list[i], "subject_ref": ref_list[i], "category": row["category"],
            "severity": row["severity"], "effective_date": row["effective_date"], "min_end": row["min_end"],
            "max_end": row["max_end"], "document_number": row["document_number"], "policy": described[pack_of[i]],
            "table": "bl_listings", "row_hash": _row_hash(row)}}
            for i, row in enumerate(rows)]  # each listing is its own state change with its own event
        versions = [{"listing_id": lid, "status": "pending", "listed_from": None, "listed_to": None, "reason": None,
                     "note": "", "actor": by} for lid in listing_ids]
        events += [{"actor": by, "kind": "listing.pending", "entity_id": v["listing_id"], "payload": {
            "status": "pending", "listed_from": None, "listed_to": None, "reason": None,
            "table": "bl_listing_versions", "row_hash": _row_hash(v)}} for v in versions]
        with self.store.transaction() as conn:
            self.store.lock(conn)
            existing = self._frame(conn, None)
            existing = existing[existing["status"].isin(["pending", "active"])]
            clash = pd.DataFrame({"subject_key": key, "category": df["category"],
                                  "document_number": df["document_number"].str.strip()}).merge(
                existing[["subject_key", "category", "document_number"]], how="inner")
            if len(clash):
                raise RegistryError(f"{len(clash)} listings are already pending or active for the same subject, "
                                    "category and document number", code="duplicate")
            evs = self.store.append_events(conn, events)
            for row, ev in zip(rows + versions, evs, strict=True):
                row.update(recorded_at=ev.time, event_seq=ev.seq)
            conn.execute(insert(t.bl_listings), rows)
            conn.execute(insert(t.bl_listing_versions), versions)
        return pd.DataFrame({"listing_id": np.array(listing_ids, dtype=object),
                             "subject_masked": masked_keys.to_numpy(dtype=object),
                             "category": df["category"].to_numpy(dtype=object),
                             "severity": df["severity"].to_numpy(dtype=object), "effective_date": eff.to_numpy(),
                             "min_end": min_end.to_numpy(), "max_end": max_end.to_numpy()})

    def approve_many(self, listing_ids: Sequence[str], *, by: str, note: str = "") -> int:
        """Approve many pending listings in one transaction (the checker's step for :meth:`propose_many`).

        Raises
        ------
        RegistryError
            ``"self_approval"`` if ``by`` proposed any of them, ``"not_pending"`` or ``"unknown_listing"``;
            nothing is approved then.

        Returns
        -------
        int
            How many were approved.
        """
        by = _text(by, "by", max_len=200)
        wanted = pd.Index(list(listing_ids))
        if wanted.has_duplicates:
            raise InputError("repeats a listing id", argument="listing_ids")
        with self.store.transaction() as conn:
            self.store.lock(conn)
            cur = self._frame(conn, None).set_index("listing_id")
            unknown = wanted.difference(cur.index)
            if len(unknown):
                raise RegistryError(f"{len(unknown)} unknown listing ids, e.g. {unknown[0]!r}",
                                    listing_id=str(unknown[0]), code="unknown_listing")
            cur = cur.loc[wanted]
            bad = cur.index[cur["status"] != "pending"]
            if len(bad):
                raise RegistryError(f"{len(bad)} listings are not pending, e.g. {bad[0]}", listing_id=str(bad[0]),
                                    code="not_pending")
            own = cur.index[cur["proposed_by"] == by]
            if len(own):
                raise RegistryError(f"{by} proposed {len(own)} of these listings, e.g. {own[0]}: a different user "
                                    "must approve them", listing_id=str(own[0]), code="self_approval")
            versions = [{"listing_id": lid, "status": "active", "listed_from": f.date(), "listed_to": m.date(),
                         "reason": None, "note": note, "actor": by}
                        for lid, f, m in zip(cur.index, cur["effective_date"], cur["max_end"], strict=True)]
            evs = self.store.append_events(conn, [
                {"actor": by, "kind": "listing.approved", "entity_id": v["listing_id"], "payload": {
                    "status": "active", "listed_from": v["listed_from"], "listed_to": v["listed_to"], "reason": None,
                    "table": "bl_listing_versions", "row_hash": _row_hash(v)}} for v in versions])
            for v, ev in zip(versions, evs, strict=True):
                v.update(recorded_at=ev.time, event_seq=ev.seq)
            if versions:
                conn.execute(insert(t.bl_listing_versions), versions)
            return len(versions)

    def approve(self, listing_id: str, *, by: str, note: str = "") -> Listing:
        """Approve a pending listing (the checker's step): it is in force from its effective date.

        Raises
        ------
        RegistryError
            ``code="self_approval"`` when ``by`` proposed it, ``"not_pending"`` when it is not pending,
            ``"unknown_listing"``.
        """
        by = _text(by, "by", max_len=200)
        with self.store.transaction() as conn:
            self.store.lock(conn)
            cur = self._get(conn, listing_id, None)
            if cur.status != "pending":
                raise RegistryError(f"listing {listing_id} is {cur.status}, not pending", listing_id=listing_id,
                                    code="not_pending")
            if by == cur.proposed_by:
                raise RegistryError(f"listing {listing_id} was proposed by {by}: a different user must approve it",
                                    listing_id=listing_id, code="self_approval")
            self._add_version(conn, listing_id, "active", listed_from=cur.effective_date, listed_to=cur.max_end,
                              reason=None, note=note, actor=by, kind="listing.approved")
            return self._get(conn, listing_id, None)

    def reject(self, listing_id: str, *, by: str, note: str) -> Listing:
        """Reject a pending listing (by a user other than its maker); it never takes effect.

        Raises
        ------
        RegistryError
            ``"self_approval"``, ``"not_pending"``, ``"unknown_listing"``.
        """
        by = _text(by, "by", max_len=200)
        note = _text(note, "note")
        with self.store.transaction() as conn:
            self.store.lock(conn)
            cur = self._get(conn, listing_id, None)
            if cur.status != "pending":
                raise RegistryError(f"listing {listing_id} is {cur.status}, not pending", listing_id=listing_id,
                                    code="not_pending")
            if by == cur.proposed_by:
                raise RegistryError(f"listing {listing_id} was proposed by {by}: a different user must decide",
                                    listing_id=listing_id, code="self_approval")
            self._add_version(conn, listing_id, "rejected", listed_from=None, listed_to=None, reason="rejected",
                              note=note, actor=by, kind="listing.rejected")
            return self._get(conn, listing_id, None)

    def _file(self, conn: Connection, cur: Listing, *, kind: str, reason: str, on: dt.date,
              obligations_met: bool | None, by: str, note: str) -> Request:
        open_ = self._requests(conn, listing_id=cur.listing_id)
        open_ = open_[(open_["kind"] == kind) & open_["decision"].isna()]
        if len(open_):
            raise RegistryError(f"listing {cur.listing_id} already has an open {kind} request "
                                f"{open_['request_id'].iloc[0]}", listing_id=cur.listing_id, code="duplicate_request")
        request_id = _new_id("R" if kind == "removal" else "A")
        row = {"request_id": request_id, "listing_id": cur.listing_id, "kind": kind, "reason": reason, "on_date": on,
               "obligations_met": obligations_met, "note": note, "filed_by": by}
        self._write(conn, t.bl_requests, row, actor=by, kind=f"listing.{kind}_filed", entity_id=cur.listing_id,
                    info={"request_id": request_id, "reason": reason, "on_date": on,
                          "obligations_met": obligations_met})
        return self._request(conn, request_id)

    def request_removal(self, listing_id: str, *, reason: str, by: str, on: Any, obligations_met: bool = False,
                        note: str = "") -> Request:
        """Ask for an active listing to end on day ``on`` (approved by another user with :meth:`approve_removal`).

        Parameters
        ----------
        listing_id : str
        reason : {"repaid", "credit_repair", "data_error"}
            ``data_error`` voids the listing from its start once approved.
        by : str
        on : date-like
            The day the listing should end.
        obligations_met : bool, default False
            Whether the subject has met the obligations (repaid, corrected); required for
            ``credit_repair`` and ``repaid`` under the built-in policy.
        note : str

        Raises
        ------
        RegistryError
            ``code="before_minimum"`` when the reason needs the minimum period to have passed and ``on`` is
            before it; ``"obligations_not_met"``; ``"not_active"``; ``"already_ended"`` (on or after the
            maximum the listing ends by itself); ``"reason_not_requestable"``; ``"duplicate_request"``.
        """
        if reason not in REMOVAL_REASONS:
            raise InputError(f"unknown removal reason {reason!r}; known: {sorted(REMOVAL_REASONS)}",
                             argument="reason", value=reason)
        if not REMOVAL_REASONS[reason].requestable:
            raise RegistryError(f"removal reason {reason!r} cannot be requested (it comes from "
                                f"{'the expiry sweep' if reason == 'expired' else 'an upheld appeal'})",
                                listing_id=listing_id, code="reason_not_requestable")
        if not isinstance(obligations_met, bool):
            raise InputError("must be True or False", argument="obligations_met", value=obligations_met)
        by = _text(by, "by", max_len=200)
        day = _day(on, "on")
        with self.store.transaction() as conn:
            self.store.lock(conn)
            cur = self._get(conn, listing_id, None)
            self._check_removable(cur, reason, day, obligations_met)
            return self._file(conn, cur, kind="removal", reason=reason, on=day, obligations_met=obligations_met,
                              by=by, note=note)

    def request_repair(self, listing_id: str, *, by: str, on: Any, obligations_met: bool, note: str = "") -> Request:
        """Request credit repair (信用修复): a removal with reason ``credit_repair``.

        Allowed only on or after the listing's minimum publicity period (``min_end``) and with the
        obligations met; see :meth:`request_removal`.
        """
        return self.request_removal(listing_id, reason="credit_repair", by=by, on=on,
                                    obligations_met=obligations_met, note=note)

    def _check_removable(self, cur: Listing, reason: str, day: dt.date, obligations_met: bool) -> None:
        lid = cur.listing_id
        if cur.status != "active":
            raise RegistryError(f"listing {lid} is {cur.status}, not active", listing_id=lid, code="not_active")
        if day >= cur.max_end:
            raise RegistryError(f"listing {lid} ends by itself on {cur.max_end} (maximum publicity period)",
                                listing_id=lid, code="already_ended")
        pack = self.policy(cur.effective_date).payload
        if reason in pack.reasons_after_minimum and day < cur.min_end:
            raise RegistryError(f"listing {lid}: {reason} may be requested from {cur.min_end} (minimum publicity "
                                f"period), not on {day}", listing_id=lid, code="before_minimum")
        if reason in pack.reasons_need_obligations and not obligations_met:
            raise RegistryError(f"listing {lid}: {reason} requires the obligations to be met", listing_id=lid,
                                code="obligations_not_met")

    def _decide(self, request_id: str, *, by: str, approve: bool, note: str, kind: str) -> Request:
        by = _text(by, "by", max_len=200)
        with self.store.transaction() as conn:
            self.store.lock(conn)
            req = self._request(conn, request_id)
            if req.kind != kind:
                raise RegistryError(f"request {request_id} is an {req.kind} request, not {kind}",
                                    listing_id=req.listing_id, code="wrong_request_kind")
            if req.decision is not None:
                raise RegistryError(f"request {request_id} was already {req.decision}", listing_id=req.listing_id,
                                    code="already_decided")
            if by == req.filed_by:
                raise RegistryError(f"request {request_id} was filed by {by}: a different user must decide it",
                                    listing_id=req.listing_id, code="self_approval")
            cur = self._get(conn, req.listing_id, None)
            if kind == "appeal" and by in (cur.proposed_by, self._approver(conn, cur.listing_id)):
                raise RegistryError(f"{by} made or approved listing {cur.listing_id}: an appeal needs an independent "
                                    "reviewer", listing_id=cur.listing_id, code="not_independent")
            if approve:
                if kind == "removal":
                    self._check_removable(cur, req.reason, req.on_date, bool(req.obligations_met))
                elif cur.status != "active":
                    raise RegistryError(f"listing {cur.listing_id} is {cur.status}, not active",
                                        listing_id=cur.listing_id, code="not_active")
            decision = "approved" if approve else "rejected"
            row = {"request_id": request_id, "decision": decision, "note": note, "decided_by": by}
            self._write(conn, t.bl_request_decisions, row, actor=by, kind=f"listing.{kind}_{decision}",
                        entity_id=req.listing_id, info={"request_id": request_id, "decision": decision})
            if approve:
                reason = req.reason if kind == "removal" else "appeal_upheld"
                if REMOVAL_REASONS[reason].void:
                    start = end = None
                else:
                    start, end = cur.listed_from, min(max(req.on_date, cur.effective_date), cur.max_end)
                self._add_version(conn, cur.listing_id, "removed", listed_from=start, listed_to=end, reason=reason,
                                  note=note, actor=by, kind="listing.removed", info={"request_id": request_id})
            return self._request(conn, request_id)

    def approve_removal(self, request_id: str, *, by: str, note: str = "") -> Request:
        """Approve a removal request (by a user other than its filer): the listing ends on the request's day.

        Raises
        ------
        RegistryError
            ``"self_approval"``, ``"already_decided"``, ``"not_active"``, ``"unknown_request"``, and the
            checks of :meth:`request_removal` again.
        """
        return self._decide(request_id, by=by, approve=True, note=note, kind="removal")

    def reject_removal(self, request_id: str, *, by: str, note: str) -> Request:
        """Reject a removal request (by a user other than its filer)."""
        return self._decide(request_id, by=by, approve=False, note=_text(note, "note"), kind="removal")

    def file_appeal(self, listing_id: str, *, by: str, grounds: str, on: Any) -> Request:
        """File an appeal (异议) against an active listing.

        Raises
        ------
        RegistryError
            ``"not_active"``, ``"duplicate_request"``, ``"unknown_listing"``.
        """
        by = _text(by, "by", max_len=200)
        grounds = _text(grounds, "grounds")
        day = _day(on, "on")
        with self.store.transaction() as conn:
            self.store.lock(conn)
            cur = self._get(conn, listing_id, None)
            if cur.status != "active":
                raise RegistryError(f"listing {listing_id} is {cur.status}, not active", listing_id=listing_id,
                                    code="not_active")
            return self._file(conn, cur, kind="appeal", reason="appeal", on=day, obligations_met=None, by=by,
                              note=grounds)

    def uphold_appeal(self, appeal_id: str, *, by: str, note: str = "") -> Request:
        """Uphold an appeal: the listing is removed as void from its start (reason ``appeal_upheld``).

        The reviewer must be neither the appellant nor the listing's maker or checker.

        Raises
        ------
        RegistryError
            ``"self_approval"``, ``"not_independent"``, ``"already_decided"``, ``"not_active"``.
        """
        return self._decide(appeal_id, by=by, approve=True, note=note, kind="appeal")

    def reject_appeal(self, appeal_id: str, *, by: str, note: str) -> Request:
        """Reject an appeal: the listing stays as it is."""
        return self._decide(appeal_id, by=by, approve=False, note=_text(note, "note"), kind="appeal")

    def expire(self, as_of: Any, *, by: str = "system") -> list[str]:
        """Record the end of every active listing whose maximum publicity period has passed by ``as_of``.

        Queries by date already treat such listings as ended (lazily); the sweep writes the status change
        and one event per listing, in one transaction.

        Returns
        -------
        list of str
            The listing ids marked expired.
        """
        day = _day(as_of, "as_of")
        by = _text(by, "by", max_len=200)
        with self.store.transaction() as conn:
            self.store.lock(conn)
            cur = self._frame(conn, None)
            due = cur[(cur["status"] == "active") & (cur["max_end"] <= pd.Timestamp(day))]
            versions = [{"listing_id": lid, "status": "expired", "listed_from": f.date(), "listed_to": m.date(),
                         "reason": "expired", "note": "", "actor": by}
                        for lid, f, m in zip(due["listing_id"], due["listed_from"], due["listed_to"], strict=True)]
            evs = self.store.append_events(conn, [  # one event per state change, appended together
                {"actor": by, "kind": "listing.expired", "entity_id": v["listing_id"], "payload": {
                    "status": "expired", "listed_from": v["listed_from"], "listed_to": v["listed_to"],
                    "reason": "expired", "table": "bl_listing_versions", "row_hash": _row_hash(v)}}
                for v in versions])
            for v, ev in zip(versions, evs, strict=True):
                v.update(recorded_at=ev.time, event_seq=ev.seq)
            if versions:
                conn.execute(insert(t.bl_listing_versions), versions)
            return due["listing_id"].tolist()

    # --- reading ---------------------------------------------------------------------------------------

    def _rows(self, conn: Connection, as_known_at: Any, *, subject_key: str | None = None,
              listing_id: str | None = None, on: dt.date | None = None, fast: bool = False) -> list[Any]:
        """Listings with their latest version as known at ``as_known_at`` (raw keys; private).

        ``fast``: only the columns batch matching needs, dates as ISO text (parsed vectorised later).
        """
        known = _known(as_known_at)
        v, lst = t.bl_listing_versions, t.bl_listings
        q = select(v.c.listing_id, func.max(v.c.event_seq).label("last_seq"))
        if isinstance(known, int):
            q = q.where(v.c.event_seq <= known)
        elif isinstance(known, str):
            q = q.where(v.c.recorded_at <= known)
        if listing_id is not None:
            q = q.where(v.c.listing_id == listing_id)
        latest = q.group_by(v.c.listing_id).subquery()
        if fast:
            cols = [lst.c[c] for c in _FAST_COLS[:6]] + [cast(v.c.listed_from, String).label("listed_from"),
                                                         cast(v.c.listed_to, String).label("listed_to")]
        else:
            cols = [lst.c[c] for c in _LISTING_COLS] + [v.c.status, v.c.listed_from, v.c.listed_to, v.c.reason]
        sel = select(*cols).select_from(
            lst.join(latest, latest.c.listing_id == lst.c.listing_id).join(v, v.c.event_seq == latest.c.last_seq))
        if subject_key is not None:
            sel = sel.where(lst.c.subject_key == subject_key)
        if listing_id is not None:
            sel = sel.where(lst.c.listing_id == listing_id)
        if on is not None:
            sel = sel.where(v.c.listed_from <= on, v.c.listed_to > on)
        return conn.execute(sel if fast else sel.order_by(lst.c.event_seq)).all()

    def _frame(self, conn: Connection, as_known_at: Any, **where: Any) -> pd.DataFrame:
        """:meth:`_rows` as a frame with datetime64 date columns."""
        rows = self._rows(conn, as_known_at, **where)
        names = [*_LISTING_COLS, "status", "listed_from", "listed_to", "reason"]
        columns = list(zip(*rows, strict=True)) if rows else [()] * len(names)
        df = pd.DataFrame({n: np.array(c, dtype=object) for n, c in zip(names, columns, strict=True)})
        for c in ("effective_date", "min_end", "max_end", "listed_from", "listed_to"):
            df[c] = pd.to_datetime(df[c]).astype("datetime64[ns]")
        return df

    def _get(self, conn: Connection, listing_id: str, as_known_at: Any) -> Listing:
        if not isinstance(listing_id, str):
            raise InputError("expected a listing id", argument="listing_id", value=type(listing_id).__name__)
        rows = self._rows(conn, as_known_at, listing_id=listing_id)
        if not rows:
            raise RegistryError(f"no listing {listing_id!r}" + (" as known then" if as_known_at is not None else ""),
                                listing_id=listing_id, code="unknown_listing")
        r = rows[0]._mapping
        return Listing(**{f.name: r[f.name] for f in fields(Listing)})

    def _approver(self, conn: Connection, listing_id: str) -> str | None:
        v = t.bl_listing_versions
        return conn.execute(select(v.c.actor).where(v.c.listing_id == listing_id, v.c.status == "active")
                            .order_by(v.c.event_seq)).scalars().first()

    def _requests(self, conn: Connection, *, listing_id: str | None = None) -> pd.DataFrame:
        r, d = t.bl_requests, t.bl_request_decisions
        q = select(r.c.request_id, r.c.listing_id, r.c.kind, r.c.reason, r.c.on_date, r.c.obligations_met,
                   r.c.filed_by, r.c.note, r.c.recorded_at, d.c.decision, d.c.decided_by).select_from(
            r.outerjoin(d, d.c.request_id == r.c.request_id)).order_by(r.c.event_seq)
        if listing_id is not None:
            q = q.where(r.c.listing_id == listing_id)
        cols = ["request_id", "listing_id", "kind", "reason", "on_date", "obligations_met", "filed_by", "note",
                "recorded_at", "decision", "decided_by"]
        return pd.DataFrame(conn.execute(q).all(), columns=cols).astype(object)

    def _request(self, conn: Connection, request_id: str) -> Request:
        if not isinstance(request_id, str):
            raise InputError("expected a request id", argument="request_id", value=type(request_id).__name__)
        df = self._requests(conn)
        df = df[df["request_id"] == request_id]
        if df.empty:
            raise RegistryError(f"no request {request_id!r}", code="unknown_request")
        r = df.iloc[0].to_dict()
        return Request(**{k: (None if k in ("decision", "decided_by", "obligations_met") and pd.isna(v) else v)
                          for k, v in r.items()})

    def get(self, listing_id: str, *, as_known_at: Any = None) -> Listing:
        """One listing, as known now or at ``as_known_at`` (a time, or a registry version as int).

        Raises
        ------
        RegistryError
            ``code="unknown_listing"``.
        """
        with self.store.read() as conn:
            return self._get(conn, listing_id, as_known_at)

    def requests(self, listing_id: str | None = None) -> pd.DataFrame:
        """Removal requests and appeals with their decisions (one row each)."""
        with self.store.read() as conn:
            return self._requests(conn, listing_id=listing_id)

    def listings(self, *, on: Any = None, as_known_at: Any = None, status: str | None = None,
                 subject: str | None = None) -> pd.DataFrame:
        """Listings as known now or at ``as_known_at``; with ``on``, only those in force that day.

        Identifiers appear masked (``subject_masked``) with the store's keyed pseudonym (``subject_ref``);
        the raw numbers are not returned.

        Raises
        ------
        InputError, IdentifierError
        """
        key = normalise_subject(subject)[0] if subject is not None else None
        if status is not None and status not in _STATUSES:
            raise InputError(f"unknown status {status!r}; known: {list(_STATUSES)}", argument="status", value=status)
        day = _day(on, "on") if on is not None else None
        with self.store.read() as conn:
            df = self._frame(conn, as_known_at, subject_key=key, on=day)
        if status is not None:
            df = df[df["status"] == status]
        return self._public(df)

    def _public(self, df: pd.DataFrame) -> pd.DataFrame:
        out = df.copy()
        out.insert(1, "subject_masked", display_series(out["subject_key"], out["id_kind"]).to_numpy(dtype=object))
        refs = pd.Series(None, index=out.index, dtype=object)
        for kind in ("resident_id", "uscc"):
            sel = (out["id_kind"] == kind).to_numpy()
            if sel.any():
                refs[sel] = ids.pseudonymize_series(out.loc[sel, "subject_key"], self.store.pseudonym_key,
                                                    kind=kind).to_numpy(dtype=object)  # type: ignore[arg-type]
        out.insert(2, "subject_ref", refs.to_numpy(dtype=object))
        out.insert(5, "category_zh", out["category"].map({code: c.zh for code, c in CATEGORIES.items()}))
        return out.drop(columns=["subject_key"]).reset_index(drop=True)

    def is_listed(self, subject: str, *, on: Any, as_known_at: Any = None, id_kind: str | None = None) -> bool:
        """Was ``subject`` directly listed on day ``on``, as the registry knew it at ``as_known_at``?

        Parameters
        ----------
        subject : str
            Resident ID number or USCC (any accepted spelling).
        on : date-like
            The day asked about (valid time).
        as_known_at : datetime-like or int, optional
            Transaction time: a time (naive = UTC) or a registry version (event seq). Default: now.
        id_kind : str, optional

        Returns
        -------
        bool
            Pending, rejected and voided listings never count; a listing counts on the days
            ``[listed_from, listed_to)`` of its latest version recorded by ``as_known_at``.

        Notes
        -----
        For listings reached through roles (joint punishment) use :meth:`related_hits`.
        """
        key, _ = normalise_subject(subject, id_kind)
        day = _day(on, "on")
        with self.store.read() as conn:
            return len(self._rows(conn, as_known_at, subject_key=key, on=day)) > 0

    def in_force(self, *, on: Any, as_known_at: Any = None, conn: Connection | None = None) -> pd.DataFrame:
        """Listings in force on ``on`` as known at ``as_known_at``, with raw keys (for batch matching).

        Columns: ``listing_id, subject_key, id_kind, subject_name, category, severity, listed_from,
        listed_to``. The frame holds raw identifiers: use it for joins, never show it.
        """
        day = _day(on, "on")
        if conn is not None:
            rows = self._rows(conn, as_known_at, on=day, fast=True)
        else:
            with self.store.read() as c:
                rows = self._rows(c, as_known_at, on=day, fast=True)
        columns = list(zip(*rows, strict=True)) if rows else [()] * len(_FAST_COLS)
        df = pd.DataFrame({n: np.array(c, dtype=object) for n, c in zip(_FAST_COLS, columns, strict=True)})
        for c in ("listed_from", "listed_to"):
            df[c] = pd.to_datetime(df[c].astype(str).str[:10], format="%Y-%m-%d").astype("datetime64[ns]")
        return df

    def history(self, listing_id: str) -> pd.DataFrame:
        """Every version of a listing, oldest first (status, valid-time interval, reason, who, when)."""
        v = t.bl_listing_versions
        with self.store.read() as conn:
            self._get(conn, listing_id, None)
            rows = conn.execute(select(v.c.event_seq, v.c.recorded_at, v.c.actor, v.c.status, v.c.listed_from,
                                       v.c.listed_to, v.c.reason, v.c.note).where(v.c.listing_id == listing_id)
                                .order_by(v.c.event_seq)).all()
        return pd.DataFrame(rows, columns=["event_seq", "recorded_at", "actor", "status", "listed_from", "listed_to",
                                           "reason", "note"])

    def audit_trail(self, listing_id: str | None = None) -> pd.DataFrame:
        """The registry's events (hash-chained; identifiers only masked or pseudonymised), oldest first."""
        return self.store.events(entity_id=listing_id)

    # --- joint punishment --------------------------------------------------------------------------------

    def related_hits(self, subject: str, roles: pd.DataFrame, persons: pd.DataFrame, enterprises: pd.DataFrame,
                     *, on: Any, as_known_at: Any = None, id_kind: str | None = None) -> pd.DataFrame:
        """Listings that reach ``subject`` through roles on day ``on`` (joint punishment, 联合惩戒).

        An organisation's listing reaches the persons who held the policy's roles while it was listed
        (no retroactive clearing after a change of legal representative, no retroactive reach before a
        person took the role); a person's listing shows on the entities they hold a role in when the
        policy says so. Direct listings of ``subject`` itself are not included (see :meth:`is_listed`).

        Parameters
        ----------
        subject : str
            Resident ID number or USCC.
        roles, persons, enterprises : DataFrame
            The ``roles``, ``persons`` and ``enterprises`` tables (validated; see :mod:`ruralcredit.schema`).
        on : date-like
        as_known_at : datetime-like or int, optional

        Returns
        -------
        DataFrame
            One row per derived hit: ``listing_id, via, subject, listed_subject, entity_id, entity_name,
            entity, role, person_id, person, role_from, role_to, listed_from, listed_to, category,
            severity, path`` (identifiers masked).
        """
        key, _ = normalise_subject(subject, id_kind)
        day = _day(on, "on")
        links = _joint.validate_links(roles, persons, enterprises)
        listed = self.in_force(on=day, as_known_at=as_known_at)
        hits = _joint.derived_hits(listed, links, pd.Timestamp(day), self.policy(day).payload.joint)
        hits = hits[hits["hit_key"] == key].reset_index(drop=True)
        return _joint.describe_paths(hits)

    # --- screening ---------------------------------------------------------------------------------------

    def screen(self, subjects: pd.DataFrame, *, by: str, on: Any, as_known_at: Any = None) -> pd.DataFrame:
        """Screen subjects against the listings in force on ``on``, and record the screening.

        Exact matches on normalised identifiers (15-digit ID numbers upgraded) are ``listed``; a partially
        masked resident ID number (``530102********123X``) whose visible characters and name both match a
        listing is ``review`` (a person must check); a name alone never matches.

        Parameters
        ----------
        subjects : DataFrame
            ``subject_id`` and ``id_number`` and/or ``uscc`` (one per row), optionally ``name``.
        by : str
            Who screens.
        on : date-like
        as_known_at : datetime-like or int, optional

        Returns
        -------
        DataFrame
            ``subject_id, subject_masked, result, match, listing_ids, categories, severity``; its
            ``attrs`` hold ``screening_id`` and ``registry_version``.

        Notes
        -----
        The record holds who, when, the date, the registry version (last event seq), an input hash and
        per subject a keyed pseudonym of the identifier (never the raw number) with the result.
        """
        by = _text(by, "by", max_len=200)
        day = _day(on, "on")
        known = _known(as_known_at)
        prepared = _screening.prepare_subjects(subjects)
        with self.store.transaction() as conn:
            version = self.store.lock(conn)
            listed = self.in_force(on=day, as_known_at=as_known_at, conn=conn)
            result = _screening.match(prepared, listed)
            refs, ref_kinds = _screening.subject_refs(prepared, self.store.pseudonym_key)
            sid = self._record_screening(conn, "screen", by, day, known, version, result, refs, ref_kinds)
        result.attrs.update(screening_id=sid, registry_version=version)
        return result

    def _record_screening(self, conn: Connection, kind: str, by: str, day: dt.date, known: Any, version: int,
                          result: pd.DataFrame, refs: pd.Series, ref_kinds: pd.Series) -> str:
        screening_id = _new_id("S")
        records = pd.DataFrame({
            "screening_id": screening_id, "subject_id": result["subject_id"].to_numpy(dtype=object),
            "ref_kind": ref_kinds.to_numpy(dtype=object), "subject_ref": refs.to_numpy(dtype=object),
            "subject_masked": result["subject_masked"].to_numpy(dtype=object),
            "result": result["result"].to_numpy(dtype=object),
            "listing_ids": result["listing_ids"].map(lambda s: json.dumps(s.split(";") if s else [])).to_numpy(dtype=object),
        })
        input_hash = hashlib.sha256(pd.util.hash_pandas_object(
            records[["subject_id", "subject_ref"]].fillna(""), index=False).to_numpy().tobytes()).hexdigest()
        counts = result["result"].value_counts()
        row = {"screening_id": screening_id, "kind": kind, "screened_by": by, "on_date": day,
               "as_known_at": None if known is None else str(known), "registry_version": version,
               "n_subjects": len(result), "n_listed": int(counts.get("listed", 0)),
               "n_review": int(counts.get("review", 0)), "input_hash": input_hash}
        results_hash = hashlib.sha256(pd.util.hash_pandas_object(
            records.fillna(""), index=False).to_numpy().tobytes()).hexdigest()
        self._write(conn, t.bl_screenings, row, actor=by, kind=f"screening.{kind}", entity_id=screening_id,
                    info={"on_date": day, "registry_version": version, "n_subjects": len(result),
                          "n_listed": row["n_listed"], "n_review": row["n_review"], "input_hash": input_hash,
                          "results_hash": results_hash})
        if len(records):
            conn.execute(insert(t.bl_screening_results), records.to_dict("records"))
        return screening_id

    def screenings(self) -> pd.DataFrame:
        """Every recorded screening (who, when, date, registry version, counts), oldest first."""
        s = t.bl_screenings
        with self.store.read() as conn:
            rows = conn.execute(select(s).order_by(s.c.event_seq)).all()
        return pd.DataFrame(rows, columns=[c.name for c in s.columns])

    def rescreen(self, *, by: str, on: Any) -> pd.DataFrame:
        """Re-check every previously screened subject against the registry as it is now, for day ``on``.

        Uses only what screenings recorded (pseudonyms, masked numbers), never raw identifiers. The
        rescreen is itself recorded, so the next call reports only later changes.

        Returns
        -------
        DataFrame
            The subjects whose result or listings changed since their latest screening:
            ``subject_id, subject_masked, previous_screening_id, previous_result, result,
            previous_listing_ids, listing_ids``.
        """
        by = _text(by, "by", max_len=200)
        day = _day(on, "on")
        r, s = t.bl_screening_results, t.bl_screenings
        key = self.store.pseudonym_key
        with self.store.transaction() as conn:
            version = self.store.lock(conn)
            rows = conn.execute(select(r.c.screening_id, r.c.subject_id, r.c.ref_kind, r.c.subject_ref,
                                       r.c.subject_masked, r.c.result, r.c.listing_ids, s.c.event_seq)
                                .select_from(r.join(s, s.c.screening_id == r.c.screening_id))).all()
            prev = pd.DataFrame(rows, columns=["screening_id", "subject_id", "ref_kind", "subject_ref",
                                               "subject_masked", "result", "listing_ids", "seq"])
            prev = prev.sort_values("seq").drop_duplicates("subject_id", keep="last").reset_index(drop=True)
            listed = self.in_force(on=day, as_known_at=None, conn=conn)
            now_ids = _rematch(prev, listed, key)
            prev_ids = prev["listing_ids"].map(lambda x: ";".join(json.loads(x)))
            result = np.where(now_ids["exact"] != "", "listed",
                              np.where(now_ids["masked"] != "", "review",
                                       np.where(prev["ref_kind"] == "none", "unknown", "clear")))
            new_ids = now_ids["exact"].where(now_ids["exact"] != "", now_ids["masked"])
            current = pd.DataFrame({"subject_id": prev["subject_id"], "subject_masked": prev["subject_masked"],
                                    "result": result, "listing_ids": new_ids})
            sid = self._record_screening(conn, "rescreen", by, day, None, version, current,
                                         prev["subject_ref"], prev["ref_kind"])
        changed = (current["result"].to_numpy() != prev["result"].to_numpy()) | (
            new_ids.to_numpy() != prev_ids.to_numpy())
        out = pd.DataFrame({"subject_id": prev["subject_id"], "subject_masked": prev["subject_masked"],
                            "previous_screening_id": prev["screening_id"], "previous_result": prev["result"],
                            "result": result, "previous_listing_ids": prev_ids, "listing_ids": new_ids})[changed]
        out = out.reset_index(drop=True)
        out.attrs.update(screening_id=sid, registry_version=version)
        return out

    # --- integrity --------------------------------------------------------------------------------------

    def verify(self) -> VerifyResult:
        """Check the event chain, then that every registry row matches the event recorded with it.

        Returns
        -------
        VerifyResult
            ``problem="edited"`` with the event's seq when a row differs from what its event recorded,
            ``"deleted"`` when a row an event recorded is gone.
        """
        chain = self.store.verify()
        if not chain.ok:
            return chain
        tables = (t.bl_listings, t.bl_listing_versions, t.bl_requests, t.bl_request_decisions, t.bl_screenings)
        names = {table.name for table in tables}
        expected: dict[int, tuple[str, str, str]] = {}
        for ev in self.store.events().itertuples(index=False):
            data = json.loads(ev.payload)
            # Other components (cases, decisions) share the store's log: only the registry's rows count.
            if isinstance(data, dict) and "row_hash" in data and data.get("table") in names:
                expected[int(ev.seq)] = (data["table"], data["row_hash"], ev.time)
        seen: set[int] = set()
        with self.store.read() as conn:
            for table in tables:
                skip = {"recorded_at", "event_seq", "version_id"}
                for row in conn.execute(select(table).order_by(table.c.event_seq)).mappings():
                    seq = int(row["event_seq"])
                    body = {k: v for k, v in row.items() if k not in skip}
                    want = expected.get(seq)
                    if want is None or want[0] != table.name or want[1] != _row_hash(body) or want[2] != row["recorded_at"]:
                        return VerifyResult(False, chain.checked, seq, "edited",
                                            f"a {table.name} row differs from what event {seq} recorded")
                    seen.add(seq)
        missing = sorted(set(expected) - seen)
        if missing:
            return VerifyResult(False, chain.checked, missing[0], "deleted",
                                f"the row recorded by event {missing[0]} ({expected[missing[0]][0]}) is gone")
        return chain


def _rematch(prev: pd.DataFrame, listed: pd.DataFrame, key: bytes) -> pd.DataFrame:
    """Listing ids now matching each previously screened subject, from its recorded pseudonym."""
    exact = pd.Series("", index=prev.index, dtype=object)
    masked = pd.Series("", index=prev.index, dtype=object)
    if listed.empty:
        return pd.DataFrame({"exact": exact, "masked": masked})
    refs = pd.Series(None, index=listed.index, dtype=object)
    for kind in ("resident_id", "uscc"):
        sel = (listed["id_kind"] == kind).to_numpy()
        if sel.any():
            refs[sel] = ids.pseudonymize_series(listed.loc[sel, "subject_key"], key, kind=kind).to_numpy(dtype=object)  # type: ignore[arg-type]
    lref = listed.assign(subject_ref=refs)
    pe = prev[prev["ref_kind"] == "exact"].reset_index().merge(lref[["subject_ref", "listing_id"]], on="subject_ref")
    if len(pe):
        agg = pe.sort_values("listing_id").groupby("index")["listing_id"].agg(";".join)
        exact[agg.index] = agg.to_numpy()
    pm = prev[prev["ref_kind"] == "masked"].reset_index()
    if len(pm):
        probes = pd.DataFrame({"index": pm["index"], "masked": pm["subject_masked"], "ref": pm["subject_ref"],
                               "name_norm": "?"})
        people = listed[listed["id_kind"] == RESIDENT]
        patterns = probes["masked"].str.replace(r"[0-9X]", "d", regex=True)
        found = []
        for pattern in patterns.unique():  # few distinct mask patterns
            part = probes[patterns.to_numpy() == pattern]
            sig = people.assign(masked=_screening._signature(people["subject_key"], pattern),
                                name_norm=normalise_names(people["subject_name"]))
            m = part.drop(columns="name_norm").merge(sig[["masked", "name_norm", "listing_id"]], on="masked")
            m = m[_screening.masked_refs(m["masked"], m["name_norm"], key).to_numpy() == m["ref"].to_numpy()]
            found.append(m)
        pm2 = pd.concat(found, ignore_index=True)
        if len(pm2):
            agg = pm2.sort_values("listing_id").groupby("index")["listing_id"].agg(";".join)
            masked[agg.index] = agg.to_numpy()
    return pd.DataFrame({"exact": exact, "masked": masked})


def category_leaf(code: str) -> str:
    """``code`` if it is a leaf category, else an :class:`InputError`."""
    c = category(code)
    if not c.is_leaf:
        raise InputError(f"category {code!r} is a group; choose one of its leaves", argument="category", value=code)
    return c.code

