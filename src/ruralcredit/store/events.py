"""The append-only, hash-chained event log.

Every event's hash is ``sha256(prev_hash + canonical_record)`` where the canonical record is the JSON
of ``seq, time, actor, kind, entity_id, payload`` with sorted keys and no whitespace, so any change to
an event, its position or its predecessor breaks the chain. The head of the chain (last seq, hash and
time) is also kept in the ``meta`` table, so removing events from the end is detected too.
"""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from ruralcredit.errors import StoreError

__all__ = [
    "GENESIS_HASH",
    "Event",
    "VerifyResult",
    "canonical_json",
    "event_hash",
]

#: The ``prev_hash`` of the first event.
GENESIS_HASH = "0" * 64

Problem = Literal["edited", "deleted", "reordered", "inserted"]


def _plain(value: Any, where: str) -> Any:
    """A JSON-ready copy of ``value``; dates as ISO text; NaN and unknown types refused."""
    if value is None or isinstance(value, (str, bool)):
        return value
    if isinstance(value, (np.bool_,)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        if not math.isfinite(float(value)):
            raise StoreError(f"event payload {where}: {value!r} is not a finite number")
        return float(value)
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, pd.Timestamp):
        if pd.isna(value):
            return None
        return value.isoformat()
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, Mapping):
        out = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise StoreError(f"event payload {where}: keys must be text, got {type(k).__name__}")
            out[k] = _plain(v, f"{where}.{k}")
        return out
    if isinstance(value, (list, tuple, np.ndarray)):
        return [_plain(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if value is pd.NA or value is pd.NaT:
        return None
    raise StoreError(f"event payload {where}: cannot store a {type(value).__name__}")


def canonical_json(value: Any) -> str:
    """Canonical JSON text: sorted keys, no whitespace, UTF-8 kept, dates as ISO text.

    Raises
    ------
    StoreError
        For NaN/infinite numbers, non-text keys or values of a type with no JSON form.
    """
    return json.dumps(_plain(value, "$"), sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False)


def _record(seq: int, time: str, actor: str, kind: str, entity_id: str, payload: str) -> str:
    # payload is already canonical text; it is hashed as text so that the stored bytes are what is checked
    return json.dumps({"seq": int(seq), "time": time, "actor": actor, "kind": kind, "entity_id": entity_id,
                       "payload": payload}, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def event_hash(prev_hash: str, seq: int, time: str, actor: str, kind: str, entity_id: str,
               payload: str) -> str:
    """``sha256(prev_hash + canonical record)`` as 64 hex characters."""
    text = prev_hash + _record(seq, time, actor, kind, entity_id, payload)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Event:
    """One event of the log.

    Attributes
    ----------
    seq : int
        Position in the chain, from 1, without gaps.
    time : str
        When it was recorded (UTC, ISO-8601 with microseconds); never decreases along the chain.
    actor, kind, entity_id : str
        Who did what to which entity.
    payload : str
        Canonical JSON text (never holds a raw resident ID number).
    prev_hash, hash : str
    """

    seq: int
    time: str
    actor: str
    kind: str
    entity_id: str
    payload: str
    prev_hash: str
    hash: str

    @property
    def data(self) -> Any:
        """The payload parsed from JSON."""
        return json.loads(self.payload)


@dataclass(frozen=True)
class VerifyResult:
    """Outcome of :meth:`Store.verify <ruralcredit.store.Store.verify>`.

    Attributes
    ----------
    ok : bool
        True when the chain is intact.
    checked : int
        How many events were read.
    first_bad_seq : int or None
        The first position where the chain breaks.
    problem : {"edited", "deleted", "reordered", "inserted"} or None
        Why: an event's content was changed, an event is missing, events were moved, or events exist
        past the recorded head of the chain.
    detail : str
        A sentence for a person.
    """

    ok: bool
    checked: int
    first_bad_seq: int | None = None
    problem: Problem | None = None
    detail: str = "the chain is intact"

    def __bool__(self) -> bool:
        return self.ok


def _own_ok(row: tuple[Any, ...], seq: int | None = None) -> bool:
    s, time, actor, kind, entity_id, payload, prev_hash, h = row
    return event_hash(prev_hash, s if seq is None else seq, time, actor, kind, entity_id, payload) == h


def _fits_elsewhere(row: tuple[Any, ...], last_seq: int) -> int | None:
    """The seq at which the row's content would verify, if not its own (a moved event)."""
    for s in range(1, last_seq + 2):
        if s != row[0] and _own_ok(row, s):
            return s
    return None


def verify_rows(rows: Iterable[tuple[Any, ...]], head_seq: int, head_hash: str) -> VerifyResult:
    """Check a chain given its rows in seq order and the recorded head (see :class:`VerifyResult`).

    ``rows`` are tuples ``(seq, time, actor, kind, entity_id, payload, prev_hash, hash)``.
    """
    rows = list(rows)
    by_prev: dict[str, list[int]] = {}
    for r in rows:
        by_prev.setdefault(r[6], []).append(int(r[0]))
    last_seq = int(rows[-1][0]) if rows else 0
    prev = GENESIS_HASH
    expected = 1
    for r in rows:
        seq = int(r[0])
        if seq != expected:
            return VerifyResult(False, expected - 1, expected, "deleted",
                                f"event {expected} is missing (the next stored event is {seq})")
        if not _own_ok(r):
            elsewhere = [s for s in by_prev.get(prev, []) if s != seq]
            if elsewhere:
                return VerifyResult(False, seq, seq, "reordered",
                                    f"event {seq} is out of place: the event that follows event {seq - 1} "
                                    f"is stored at seq {elsewhere[0]}")
            moved = _fits_elsewhere(r, last_seq)
            if moved is not None:
                return VerifyResult(False, seq, seq, "deleted",
                                    f"the event at seq {seq} belongs at seq {moved}: an event was removed and "
                                    "the later ones renumbered")
            return VerifyResult(False, seq, seq, "edited",
                                f"event {seq}'s content does not match its hash (edited)")
        if r[6] != prev:
            return VerifyResult(False, seq, seq - 1, "edited",
                                f"event {seq - 1} was rewritten: its hash is not the one event {seq} "
                                "chained to")
        prev = r[7]
        expected += 1
    checked = expected - 1
    if checked < head_seq:
        return VerifyResult(False, checked, checked + 1, "deleted",
                            f"events {checked + 1}..{head_seq} were removed from the end of the log")
    if checked > head_seq:
        return VerifyResult(False, checked, head_seq + 1, "inserted",
                            f"events {head_seq + 1}..{checked} were added outside the store")
    if prev != head_hash:
        return VerifyResult(False, checked, checked, "edited",
                            f"event {checked} does not match the recorded head of the chain")
    return VerifyResult(True, checked)
