"""Storage through SQLAlchemy Core: engine, tables, schema versions, hash-chained event log."""
