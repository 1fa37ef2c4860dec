"""Opening a store: engine, connection settings, schema creation and versions, transactions, events."""

from __future__ import annotations

import datetime as dt
import json
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import Connection, Engine, MetaData, create_engine, event, insert, inspect, select, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.pool import StaticPool

from ruralcredit.errors import InputError, RuralCreditError, StoreError
from ruralcredit.store import tables as t
from ruralcredit.store.events import (
    GENESIS_HASH,
    Event,
    VerifyResult,
    canonical_json,
    event_hash,
    verify_rows,
)

__all__ = ["Store", "open_store"]

Clock = Callable[[], dt.datetime]

#: Migrations from version ``v`` to ``v + 1`` (none yet: version 1 is the first).
_MIGRATIONS: dict[int, Callable[[Connection], None]] = {}

_BEGIN_OPTION = "ruralcredit_begin"


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def format_time(value: dt.datetime) -> str:
    """A datetime as the store's transaction-time text: UTC, ISO-8601, microseconds."""
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value.isoformat(timespec="microseconds")


def _sqlite_settings(engine: Engine, *, file: bool, busy_timeout_ms: int) -> None:
    """WAL, busy timeout and ``BEGIN IMMEDIATE`` for SQLite (SQLAlchemy's "pysqlite serializable" recipe).

    pysqlite's own transaction handling is switched off so that SQLAlchemy's ``begin`` event issues the
    ``BEGIN``: writers take the database's write lock at the start of the transaction (``IMMEDIATE``), so
    two processes never both read the chain head and then collide; readers use a deferred ``BEGIN``
    (a snapshot under WAL).
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cur = dbapi_connection.cursor()
        cur.execute(f"PRAGMA busy_timeout = {busy_timeout_ms}")
        if file:
            cur.execute("PRAGMA journal_mode = WAL")
            cur.execute("PRAGMA synchronous = FULL")
        cur.execute("PRAGMA foreign_keys = ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        mode = conn.get_execution_options().get(_BEGIN_OPTION, "IMMEDIATE")
        conn.exec_driver_sql(f"BEGIN {mode}")


class Store:
    """A database holding the registry, decisions and the hash-chained event log.

    Create it with :func:`open_store`. Writes go through :meth:`transaction`; every state change writes
    its rows and one event (:meth:`append_event`) in the same transaction, so a crash leaves either both
    or neither.

    Attributes
    ----------
    engine : sqlalchemy.Engine
    metadata : sqlalchemy.MetaData
        The store's tables.
    url : str
        The database URL with any password hidden.
    """

    def __init__(self, engine: Engine, *, clock: Clock | None = None) -> None:
        self.engine = engine
        self.metadata: MetaData = t.metadata
        self.url = engine.url.render_as_string(hide_password=True)
        self._clock: Clock = clock or _utc_now
        self._pseudonym_key: bytes | None = None

    def __repr__(self) -> str:
        return f"Store({self.url!r})"

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Release the engine's connections."""
        self.engine.dispose()

    # --- transactions ----------------------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """A write transaction: committed on normal exit, rolled back on any exception.

        On SQLite it starts with ``BEGIN IMMEDIATE`` (waiting up to the busy timeout for another writer).

        Raises
        ------
        StoreError
            When the database fails (locked past the timeout, disk full, constraint broken, ...). Errors
            raised by the caller's own code pass through unchanged after the rollback.
        """
        try:
            with self.engine.begin() as conn:
                yield conn
        except RuralCreditError:
            raise
        except SQLAlchemyError as exc:
            cause = getattr(exc, "orig", None) or "see the chained exception"  # no SQL parameters: they may hold IDs
            raise StoreError(f"store {self.url}: write failed: {exc.__class__.__name__}: {cause}") from exc

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read-only snapshot transaction (a deferred ``BEGIN`` on SQLite)."""
        try:
            with self.engine.connect() as conn:
                conn.execution_options(**{_BEGIN_OPTION: "DEFERRED"})
                with conn.begin():
                    yield conn
        except RuralCreditError:
            raise
        except SQLAlchemyError as exc:
            raise StoreError(f"store {self.url}: read failed: {exc.__class__.__name__}") from exc

    # --- the event log ----------------------------------------------------------------------------------

    @staticmethod
    def _head(conn: Connection, *, lock: bool) -> dict[str, Any]:
        q = select(t.meta.c.value).where(t.meta.c.key == "chain_head")
        if lock:
            q = q.with_for_update()  # serialises appenders on PostgreSQL; SQLite holds the write lock already
        text = conn.execute(q).scalar_one_or_none()
        if text is None:
            raise StoreError("the store has no chain head: not a ruralcredit store, or damaged")
        return json.loads(text)

    def lock(self, conn: Connection) -> int:
        """Serialise writers: take the chain-head lock now (before reading state to be changed).

        On SQLite the ``BEGIN IMMEDIATE`` of :meth:`transaction` already holds the write lock; on
        PostgreSQL this is a ``SELECT ... FOR UPDATE`` of the chain head. Returns the current version.
        """
        return int(self._head(conn, lock=True)["seq"])

    def append_event(self, conn: Connection, *, actor: str, kind: str, entity_id: str,
                     payload: Any = None) -> Event:
        """Append one event inside the caller's transaction and return it.

        Parameters
        ----------
        conn : sqlalchemy.Connection
            A connection from :meth:`transaction`.
        actor : str
            Who acts (a user name, ``"system"``).
        kind : str
            What happens (``"listing.proposed"``, ...).
        entity_id : str
            The entity concerned (a listing id, a case id, ...). Never a raw resident ID number.
        payload : JSON-ready object, optional
            Details; dates become ISO text.

        Returns
        -------
        Event
            With its seq, time (never earlier than the previous event's) and hash.

        Raises
        ------
        InputError
            For empty actor, kind or entity id.
        StoreError
            For a payload with no JSON form, or a damaged chain head.
        """
        for name, value in (("actor", actor), ("kind", kind), ("entity_id", entity_id)):
            if not isinstance(value, str) or not value.strip():
                raise InputError("must be non-empty text", argument=name, value=value)
        body = canonical_json(payload if payload is not None else {})
        head = self._head(conn, lock=True)
        seq = int(head["seq"]) + 1
        time = max(format_time(self._clock()), head["time"])  # transaction time never goes backwards
        h = event_hash(head["hash"], seq, time, actor, kind, entity_id, body)
        conn.execute(insert(t.events).values(seq=seq, time=time, actor=actor, kind=kind, entity_id=entity_id,
                                             payload=body, prev_hash=head["hash"], hash=h))
        conn.execute(update(t.meta).where(t.meta.c.key == "chain_head")
                     .values(value=json.dumps({"seq": seq, "hash": h, "time": time})))
        return Event(seq, time, actor, kind, entity_id, body, head["hash"], h)

    def append_events(self, conn: Connection, events: list[dict[str, Any]]) -> list[Event]:
        """Append many events inside the caller's transaction (one insert); see :meth:`append_event`.

        Parameters
        ----------
        conn : sqlalchemy.Connection
        events : list of dict
            Each with ``actor``, ``kind``, ``entity_id`` and optionally ``payload``.

        Returns
        -------
        list of Event
            In order; they share one transaction time.
        """
        if not events:
            return []
        bodies = []
        for i, e in enumerate(events):
            for name in ("actor", "kind", "entity_id"):
                value = e.get(name)
                if not isinstance(value, str) or not value.strip():
                    raise InputError(f"event {i}: must be non-empty text", argument=name, value=value)
            bodies.append(canonical_json(e.get("payload") if e.get("payload") is not None else {}))
        head = self._head(conn, lock=True)
        seq, prev = int(head["seq"]), head["hash"]
        time = max(format_time(self._clock()), head["time"])
        out: list[Event] = []
        for e, body in zip(events, bodies, strict=True):  # the chain is sequential by nature
            seq += 1
            h = event_hash(prev, seq, time, e["actor"], e["kind"], e["entity_id"], body)
            out.append(Event(seq, time, e["actor"], e["kind"], e["entity_id"], body, prev, h))
            prev = h
        conn.execute(insert(t.events), [ev.__dict__ for ev in out])
        conn.execute(update(t.meta).where(t.meta.c.key == "chain_head")
                     .values(value=json.dumps({"seq": seq, "hash": prev, "time": time})))
        return out

    def version(self, conn: Connection | None = None) -> int:
        """The registry version: the seq of the last event (0 for an empty log)."""
        if conn is not None:
            return int(self._head(conn, lock=False)["seq"])
        with self.read() as c:
            return int(self._head(c, lock=False)["seq"])

    def events(self, *, entity_id: str | None = None, kind: str | None = None,
               since_seq: int = 0) -> pd.DataFrame:
        """The event log (or part of it) as a frame ordered by seq.

        Columns: ``seq, time, actor, kind, entity_id, payload, prev_hash, hash``.
        """
        q = select(t.events).where(t.events.c.seq > int(since_seq)).order_by(t.events.c.seq)
        if entity_id is not None:
            q = q.where(t.events.c.entity_id == entity_id)
        if kind is not None:
            q = q.where(t.events.c.kind == kind)
        with self.read() as conn:
            rows = conn.execute(q).all()
        return pd.DataFrame(rows, columns=[c.name for c in t.events.columns])

    def verify(self) -> VerifyResult:
        """Check the whole event chain.

        Returns
        -------
        VerifyResult
            ``ok`` and, when broken, the first bad seq and why: ``"edited"`` (an event's content or hash
            was changed), ``"deleted"`` (an event is missing, in the middle or at the end),
            ``"reordered"`` (events were moved or swapped) or ``"inserted"`` (events beyond the head).
        """
        with self.read() as conn:
            head = self._head(conn, lock=False)
            cols = t.events.c
            rows = conn.execute(select(cols.seq, cols.time, cols.actor, cols.kind, cols.entity_id, cols.payload,
                                       cols.prev_hash, cols.hash).order_by(cols.seq)).all()
        return verify_rows([tuple(r) for r in rows], int(head["seq"]), head["hash"])

    # --- other components ---------------------------------------------------------------------------------

    def ensure_component(self, name: str, version: int, metadata: MetaData) -> None:
        """Create another component's tables (e.g. risk cases) and record its schema version.

        Parameters
        ----------
        name : str
            The component (``"cases"``).
        version : int
            The schema version the caller's code writes.
        metadata : sqlalchemy.MetaData
            The component's tables.

        Raises
        ------
        StoreError
            When the store holds a newer version of the component than ``version``.
        """
        key = f"component.{name}"
        with self.transaction() as conn:
            stored = conn.execute(select(t.meta.c.value).where(t.meta.c.key == key)).scalar_one_or_none()
            if stored is not None and int(stored) > version:
                raise StoreError(f"store {self.url}: component {name!r} has schema version {stored}, newer "
                                 f"than this code's {version}; upgrade ruralcredit")
            metadata.create_all(conn)
            if stored is None:
                conn.execute(insert(t.meta).values(key=key, value=str(version)))
            elif int(stored) < version:
                conn.execute(update(t.meta).where(t.meta.c.key == key).values(value=str(version)))

    @property
    def pseudonym_key(self) -> bytes:
        """The store's secret key for HMAC pseudonyms of identifiers in logs (made when the store is)."""
        if self._pseudonym_key is None:  # pragma: no cover - set by open_store
            raise StoreError("the store was not opened with open_store")
        return self._pseudonym_key

    def now(self) -> str:
        """The store clock's current time as transaction-time text (UTC)."""
        return format_time(self._clock())


def _schema_version(conn: Connection, url: str) -> int | None:
    if not inspect(conn).has_table("meta"):
        return None
    value = conn.execute(select(t.meta.c.value).where(t.meta.c.key == "schema_version")).scalar_one_or_none()
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        raise StoreError(f"store {url}: unknown schema version {value!r}") from None


def _create_or_upgrade(store: Store) -> None:
    from ruralcredit import __version__

    with store.transaction() as conn:
        version = _schema_version(conn, store.url)
        if version is not None and version > t.SCHEMA_VERSION:
            raise StoreError(f"store {store.url}: schema version {version} is newer than this library's "
                             f"{t.SCHEMA_VERSION}; upgrade ruralcredit to open it")
        if version is not None and version < 1:
            raise StoreError(f"store {store.url}: unknown schema version {version}")
        t.metadata.create_all(conn)
        if version is None:
            conn.execute(insert(t.meta), [
                {"key": "schema_version", "value": str(t.SCHEMA_VERSION)},
                {"key": "chain_head", "value": json.dumps({"seq": 0, "hash": GENESIS_HASH, "time": ""})},
                {"key": "pseudonym_key", "value": secrets.token_hex(32)},
                {"key": "created_by_library", "value": __version__},
            ])
        while version is not None and version < t.SCHEMA_VERSION:
            _MIGRATIONS[version](conn)
            version += 1
            conn.execute(update(t.meta).where(t.meta.c.key == "schema_version").values(value=str(version)))
        key = conn.execute(select(t.meta.c.value).where(t.meta.c.key == "pseudonym_key")).scalar_one_or_none()
        if key is None:
            raise StoreError(f"store {store.url}: no pseudonym key: not a ruralcredit store, or damaged")
        store._pseudonym_key = bytes.fromhex(key)


def open_store(url: str | Path, *, busy_timeout: float = 60.0, clock: Clock | None = None,
               echo: bool = False) -> Store:
    """Open (creating or upgrading if needed) a store.

    Parameters
    ----------
    url : str or Path
        A SQLAlchemy URL (``"sqlite:///county.db"``, ``"postgresql+psycopg://user@host/db"``) or a plain
        file path, read as a SQLite file. ``"sqlite://"`` is an in-memory store (one process only).
    busy_timeout : float, default 60
        Seconds a SQLite writer waits for another process's write lock before failing.
    clock : callable returning datetime, optional
        Source of transaction time (default: the system clock, UTC). Tests pass a fake clock.
    echo : bool, default False
        Log SQL statements.

    Returns
    -------
    Store

    Raises
    ------
    InputError
        For a URL that is not a database URL, or a non-positive timeout.
    StoreError
        When the database cannot be opened, or holds a schema of a newer or unknown version.
    """
    if isinstance(url, Path) or (isinstance(url, str) and "://" not in url):
        url = f"sqlite:///{Path(url)}"
    if not isinstance(url, str) or not url:
        raise InputError("expected a database URL or a file path", argument="url", value=url)
    if isinstance(busy_timeout, bool) or not isinstance(busy_timeout, (int, float)) or busy_timeout <= 0:
        raise InputError("must be a positive number of seconds", argument="busy_timeout", value=busy_timeout)
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise InputError("not a database URL", argument="url", value=url) from exc
    try:
        if parsed.get_backend_name() == "sqlite":
            memory = parsed.database in (None, "", ":memory:")
            kwargs: dict[str, Any] = {"connect_args": {"timeout": float(busy_timeout)}}
            if memory:
                kwargs.update(poolclass=StaticPool, connect_args={"check_same_thread": False})
            engine = create_engine(parsed, echo=echo, hide_parameters=True, **kwargs)
            _sqlite_settings(engine, file=not memory, busy_timeout_ms=int(busy_timeout * 1000))
        else:
            engine = create_engine(parsed, echo=echo, hide_parameters=True, pool_pre_ping=True)
    except (ArgumentError, ImportError) as exc:
        raise StoreError(f"cannot open store {parsed.render_as_string(hide_password=True)}: {exc}") from exc
    store = Store(engine, clock=clock)
    try:
        _create_or_upgrade(store)
    except BaseException:
        engine.dispose()
        raise
    return store
