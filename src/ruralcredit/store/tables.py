"""Table definitions of the store (SQLAlchemy Core) and the schema version.

Every table except ``meta`` is append-only: a state change inserts a row (a new listing version, a
request decision, a screening) and an event in the same transaction; no row is updated in place, so
history is never lost. ``meta`` holds the schema version, the head of the event chain and the store's
pseudonym key.

Times of recording (transaction time) are stored as ISO-8601 text in UTC with microseconds
(``2026-05-01T08:30:00.000123``) so that they round-trip exactly into the hash chain on every dialect;
valid-time dates are SQL ``DATE`` columns.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

__all__ = [
    "SCHEMA_VERSION",
    "metadata",
]

#: Version of the schema below. Bump it and add a migration in ``engine._MIGRATIONS`` on any change.
SCHEMA_VERSION = 1

#: The store's tables.
metadata = MetaData()

_TIME = 32  # ISO-8601 text with microseconds
_HASH = 64  # sha256 hex
_ID = 64

meta = Table(
    "meta",
    metadata,
    Column("key", String(100), primary_key=True),
    Column("value", Text, nullable=False),
)

events = Table(
    "events",
    metadata,
    Column("seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False),
    Column("time", String(_TIME), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("kind", String(100), nullable=False),
    Column("entity_id", String(200), nullable=False),
    Column("payload", Text, nullable=False),
    Column("prev_hash", String(_HASH), nullable=False),
    Column("hash", String(_HASH), nullable=False, unique=True),
    Index("ix_events_entity", "entity_id"),
)

# --- blacklist registry --------------------------------------------------------------------------------

bl_listings = Table(
    "bl_listings",
    metadata,
    Column("listing_id", String(_ID), primary_key=True),
    Column("subject_key", String(40), nullable=False, comment="normalised resident ID number or USCC"),
    Column("id_kind", String(20), nullable=False),
    Column("subject_name", String(200), nullable=False),
    Column("category", String(100), nullable=False),
    Column("severity", String(20), nullable=False),
    Column("legal_basis", Text, nullable=False),
    Column("source_institution", String(200), nullable=False),
    Column("document_number", String(200), nullable=False),
    Column("evidence_hash", String(_HASH), nullable=False),
    Column("effective_date", Date, nullable=False),
    Column("min_end", Date, nullable=False, comment="earliest day credit repair may be requested"),
    Column("max_end", Date, nullable=False, comment="first day no longer published"),
    Column("policy_id", String(100), nullable=False),
    Column("policy_version", String(40), nullable=False),
    Column("policy_hash", String(_HASH), nullable=False),
    Column("proposed_by", String(200), nullable=False),
    Column("recorded_at", String(_TIME), nullable=False),
    Column("event_seq", BigInteger, nullable=False),
    Index("ix_bl_listings_subject", "subject_key"),
)

bl_listing_versions = Table(
    "bl_listing_versions",
    metadata,
    Column("version_id", Integer, primary_key=True, autoincrement=True),
    Column("listing_id", String(_ID), ForeignKey("bl_listings.listing_id"), nullable=False),
    Column("status", String(20), nullable=False),
    Column("listed_from", Date, nullable=True, comment="valid time: first day listed"),
    Column("listed_to", Date, nullable=True, comment="valid time: first day no longer listed"),
    Column("reason", String(40), nullable=True),
    Column("note", Text, nullable=False, default=""),
    Column("actor", String(200), nullable=False),
    Column("recorded_at", String(_TIME), nullable=False, comment="transaction time"),
    Column("event_seq", BigInteger, nullable=False, unique=True),
    Index("ix_bl_versions_listing", "listing_id", "event_seq", "recorded_at"),  # covers "latest version as known at"
)

bl_requests = Table(
    "bl_requests",
    metadata,
    Column("request_id", String(_ID), primary_key=True),
    Column("listing_id", String(_ID), ForeignKey("bl_listings.listing_id"), nullable=False),
    Column("kind", String(20), nullable=False, comment="removal or appeal"),
    Column("reason", String(40), nullable=False),
    Column("on_date", Date, nullable=False),
    Column("obligations_met", Boolean, nullable=True),
    Column("note", Text, nullable=False, default=""),
    Column("filed_by", String(200), nullable=False),
    Column("recorded_at", String(_TIME), nullable=False),
    Column("event_seq", BigInteger, nullable=False, unique=True),
    Index("ix_bl_requests_listing", "listing_id"),
)

bl_request_decisions = Table(
    "bl_request_decisions",
    metadata,
    Column("request_id", String(_ID), ForeignKey("bl_requests.request_id"), primary_key=True),
    Column("decision", String(20), nullable=False, comment="approved or rejected"),
    Column("note", Text, nullable=False, default=""),
    Column("decided_by", String(200), nullable=False),
    Column("recorded_at", String(_TIME), nullable=False),
    Column("event_seq", BigInteger, nullable=False, unique=True),
)

bl_screenings = Table(
    "bl_screenings",
    metadata,
    Column("screening_id", String(_ID), primary_key=True),
    Column("kind", String(20), nullable=False, comment="screen or rescreen"),
    Column("screened_by", String(200), nullable=False),
    Column("on_date", Date, nullable=False),
    Column("as_known_at", String(_TIME), nullable=True),
    Column("registry_version", BigInteger, nullable=False, comment="last event seq the screening saw"),
    Column("n_subjects", Integer, nullable=False),
    Column("n_listed", Integer, nullable=False),
    Column("n_review", Integer, nullable=False),
    Column("input_hash", String(_HASH), nullable=False),
    Column("recorded_at", String(_TIME), nullable=False),
    Column("event_seq", BigInteger, nullable=False, unique=True),
)

bl_screening_results = Table(
    "bl_screening_results",
    metadata,
    Column("screening_id", String(_ID), ForeignKey("bl_screenings.screening_id"), primary_key=True),
    Column("subject_id", String(200), primary_key=True),
    Column("ref_kind", String(20), nullable=False, comment="exact, masked or none"),
    Column("subject_ref", String(_HASH), nullable=True, comment="keyed pseudonym, never the raw number"),
    Column("subject_masked", String(40), nullable=True, comment="masked identifier for people to read"),
    Column("result", String(20), nullable=False, comment="listed, review or clear"),
    Column("listing_ids", Text, nullable=False, comment="JSON list"),
    Index("ix_bl_screening_results_subject", "subject_id"),
)

# --- eligibility decisions -----------------------------------------------------------------------------

el_runs = Table(
    "el_runs",
    metadata,
    Column("run_id", String(_ID), primary_key=True),
    Column("policy_id", String(100), nullable=False),
    Column("policy_version", String(40), nullable=False),
    Column("policy_hash", String(_HASH), nullable=False),
    Column("as_of", Date, nullable=False),
    Column("input_hash", String(_HASH), nullable=False),
    Column("library_version", String(40), nullable=False),
    Column("decided_at", String(_TIME), nullable=False),
    Column("registry_version", BigInteger, nullable=True),
    Column("n_subjects", Integer, nullable=False),
    Column("n_eligible", Integer, nullable=False),
    Column("conditions", Text, nullable=False, comment="JSON list of [code, type, reason_code, legal_reference]"),
    Column("recorded_by", String(200), nullable=False),
    Column("recorded_at", String(_TIME), nullable=False),
    Column("event_seq", BigInteger, nullable=False, unique=True),
)

el_decisions = Table(
    "el_decisions",
    metadata,
    Column("run_id", String(_ID), ForeignKey("el_runs.run_id"), primary_key=True),
    Column("subject_id", String(200), primary_key=True),
    Column("eligible", Boolean, nullable=False),
    Column("n_unmet", Integer, nullable=False),
    Column("n_unknown", Integer, nullable=False),
    Column("outcomes", String(100), nullable=False,
           comment="one character per condition in the run's order: M met, U unmet, ? unknown"),
)
