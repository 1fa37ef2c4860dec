"""Storage through SQLAlchemy Core: engine, tables, schema versions, hash-chained event log.

>>> from ruralcredit.store import open_store
>>> store = open_store("sqlite://")            # in memory; a file path or a PostgreSQL URL in real use
>>> with store.transaction() as conn:
...     ev = store.append_event(conn, actor="clerk", kind="note.added", entity_id="n1", payload={"x": 1})
>>> store.verify().ok
True
"""

from ruralcredit.store.engine import Store, format_time, open_store
from ruralcredit.store.events import GENESIS_HASH, Event, VerifyResult, canonical_json, event_hash
from ruralcredit.store.tables import SCHEMA_VERSION

__all__ = [
    "GENESIS_HASH",
    "SCHEMA_VERSION",
    "Event",
    "Store",
    "VerifyResult",
    "canonical_json",
    "event_hash",
    "format_time",
    "open_store",
]
