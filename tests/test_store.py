"""Tests of ruralcredit.store: schema versions, the hash-chained event log, verify(), concurrency, crashes."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Column, Integer, MetaData, String, Table, select, text

from ruralcredit.errors import InputError, StoreError
from ruralcredit.store import SCHEMA_VERSION, canonical_json, open_store
from ruralcredit.store import tables as t


def _fill(store, n: int) -> None:
    for i in range(n):
        with store.transaction() as conn:
            store.append_event(conn, actor=f"user{i % 2}", kind="test.write", entity_id=f"e{i}",
                               payload={"i": i, "text": f"第{i}条"})


def _sql(store, statement: str, params: dict | None = None) -> None:
    with store.engine.begin() as conn:
        conn.execute(text(statement), params or {})


@pytest.fixture()
def store(tmp_path):
    s = open_store(tmp_path / "s.db")
    yield s
    s.close()


# --- opening, versions ------------------------------------------------------------------------------------


def test_open_creates_versioned_schema_with_wal(tmp_path):
    s = open_store(f"sqlite:///{tmp_path / 'a.db'}")
    with s.read() as conn:
        version = conn.execute(select(t.meta.c.value).where(t.meta.c.key == "schema_version")).scalar_one()
        mode = conn.exec_driver_sql("PRAGMA journal_mode").scalar_one()
        busy = conn.exec_driver_sql("PRAGMA busy_timeout").scalar_one()
    assert int(version) == SCHEMA_VERSION
    assert mode == "wal"
    assert busy >= 1000
    assert s.version() == 0
    assert s.verify().ok and s.verify().checked == 0
    s.close()
    again = open_store(tmp_path / "a.db")  # reopening keeps the data and the key
    assert again.version() == 0
    again.close()


def test_pseudonym_key_is_stable_across_opens(tmp_path):
    a = open_store(tmp_path / "k.db")
    key = a.pseudonym_key
    a.close()
    b = open_store(tmp_path / "k.db")
    assert b.pseudonym_key == key and len(key) == 32
    b.close()


def test_newer_schema_version_is_refused(tmp_path):
    s = open_store(tmp_path / "v.db")
    _sql(s, "UPDATE meta SET value = :v WHERE key = 'schema_version'", {"v": str(SCHEMA_VERSION + 1)})
    s.close()
    with pytest.raises(StoreError, match="newer"):
        open_store(tmp_path / "v.db")


@pytest.mark.parametrize("value", ["two", "0"])
def test_unknown_schema_version_is_refused(tmp_path, value):
    s = open_store(tmp_path / "u.db")
    _sql(s, "UPDATE meta SET value = :v WHERE key = 'schema_version'", {"v": value})
    s.close()
    with pytest.raises(StoreError, match="unknown schema version"):
        open_store(tmp_path / "u.db")


@pytest.mark.parametrize("url, timeout", [("", 1.0), ("nosuchdialect://x", 1.0), ("sqlite://", 0),
                                          ("sqlite://", True), (42, 1.0)])
def test_bad_open_arguments_are_typed_errors(url, timeout):
    with pytest.raises((InputError, StoreError)):
        open_store(url, busy_timeout=timeout)


def test_an_unopenable_database_is_a_store_error(tmp_path):
    with pytest.raises(StoreError):
        open_store(tmp_path / "no" / "such" / "dir" / "x.db")


def test_component_tables_and_versions(store):
    md = MetaData()
    Table("cases", md, Column("case_id", String(20), primary_key=True), Column("n", Integer))
    store.ensure_component("cases", 2, md)
    store.ensure_component("cases", 2, md)  # idempotent
    with store.read() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM cases").scalar_one() == 0
    with pytest.raises(StoreError, match="newer"):
        store.ensure_component("cases", 1, md)


# --- events ----------------------------------------------------------------------------------------------


def test_append_event_returns_chained_events(store):
    with store.transaction() as conn:
        a = store.append_event(conn, actor="clerk", kind="k", entity_id="x", payload={"b": 1, "a": [1, 2]})
        b = store.append_event(conn, actor="clerk", kind="k", entity_id="x")
    assert (a.seq, b.seq) == (1, 2)
    assert b.prev_hash == a.hash
    assert a.payload == '{"a":[1,2],"b":1}'
    assert a.data == {"a": [1, 2], "b": 1}
    ev = store.events()
    assert ev["seq"].tolist() == [1, 2] and store.version() == 2


def test_transaction_rolls_back_rows_and_event_together(store):
    with pytest.raises(RuntimeError), store.transaction() as conn:
        store.append_event(conn, actor="clerk", kind="k", entity_id="x")
        raise RuntimeError("boom")
    assert store.version() == 0 and store.events().empty
    assert store.verify().ok


def test_event_time_never_goes_backwards(tmp_path):
    times = iter([dt.datetime(2026, 5, 2, 12), dt.datetime(2026, 5, 1, 12), dt.datetime(2026, 5, 3)])
    s = open_store(tmp_path / "c.db", clock=lambda: next(times))
    with s.transaction() as conn:
        e1 = s.append_event(conn, actor="a", kind="k", entity_id="x")
        e2 = s.append_event(conn, actor="a", kind="k", entity_id="x")
        e3 = s.append_event(conn, actor="a", kind="k", entity_id="x")
    assert e1.time == e2.time == "2026-05-02T12:00:00.000000" < e3.time
    s.close()


@pytest.mark.parametrize("kwargs, error", [
    ({"actor": "", "kind": "k", "entity_id": "x"}, InputError),
    ({"actor": "a", "kind": None, "entity_id": "x"}, InputError),
    ({"actor": "a", "kind": "k", "entity_id": "x", "payload": {"v": float("nan")}}, StoreError),
    ({"actor": "a", "kind": "k", "entity_id": "x", "payload": {1: "non-text key"}}, StoreError),
    ({"actor": "a", "kind": "k", "entity_id": "x", "payload": {"v": object()}}, StoreError),
])
def test_bad_events_are_typed_errors(store, kwargs, error):
    with pytest.raises(error), store.transaction() as conn:
        store.append_event(conn, **kwargs)
    assert store.version() == 0


def test_canonical_json_is_order_free_and_handles_dates():
    a = canonical_json({"b": dt.date(2026, 1, 2), "a": {"y": 1, "x": 2}})
    b = canonical_json({"a": {"x": 2, "y": 1}, "b": "2026-01-02"})
    assert a == b == '{"a":{"x":2,"y":1},"b":"2026-01-02"}'


# --- verify: tampering with raw SQL ---------------------------------------------------------------------------


def test_verify_catches_an_edited_event(store):
    _fill(store, 6)
    _sql(store, "UPDATE events SET payload = :p WHERE seq = 4", {"p": '{"i":40,"text":"x"}'})
    r = store.verify()
    assert not r.ok and r.first_bad_seq == 4 and r.problem == "edited"


def test_verify_catches_an_edited_actor(store):
    _fill(store, 3)
    _sql(store, "UPDATE events SET actor = 'mallory' WHERE seq = 2")
    r = store.verify()
    assert (r.ok, r.first_bad_seq, r.problem) == (False, 2, "edited")


def test_verify_catches_an_edit_with_a_recomputed_hash(store):
    from ruralcredit.store import event_hash

    _fill(store, 5)
    with store.read() as conn:
        row = conn.execute(select(t.events).where(t.events.c.seq == 3)).mappings().one()
    forged = event_hash(row["prev_hash"], 3, row["time"], row["actor"], row["kind"], row["entity_id"], '{"i":99}')
    _sql(store, "UPDATE events SET payload = :p, hash = :h WHERE seq = 3", {"p": '{"i":99}', "h": forged})
    r = store.verify()
    assert (r.ok, r.first_bad_seq, r.problem) == (False, 3, "edited")


def test_verify_catches_a_deleted_event(store):
    _fill(store, 6)
    _sql(store, "DELETE FROM events WHERE seq = 3")
    r = store.verify()
    assert (r.ok, r.first_bad_seq, r.problem) == (False, 3, "deleted")


def test_verify_catches_events_deleted_from_the_end(store):
    _fill(store, 6)
    _sql(store, "DELETE FROM events WHERE seq >= 5")
    r = store.verify()
    assert (r.ok, r.first_bad_seq, r.problem) == (False, 5, "deleted")


def test_verify_catches_a_deletion_with_renumbering(store):
    _fill(store, 6)
    _sql(store, "DELETE FROM events WHERE seq = 3")
    for seq in (4, 5, 6):
        _sql(store, "UPDATE events SET seq = :n WHERE seq = :o", {"n": seq - 1, "o": seq})
    r = store.verify()
    assert (r.ok, r.first_bad_seq, r.problem) == (False, 3, "deleted")


def test_verify_catches_swapped_events(store):
    _fill(store, 6)
    _sql(store, "UPDATE events SET seq = -1 WHERE seq = 3")
    _sql(store, "UPDATE events SET seq = 3 WHERE seq = 4")
    _sql(store, "UPDATE events SET seq = 4 WHERE seq = -1")
    r = store.verify()
    assert (r.ok, r.first_bad_seq, r.problem) == (False, 3, "reordered")


def test_verify_catches_an_event_appended_outside_the_store(store):
    from ruralcredit.store import event_hash

    _fill(store, 2)
    with store.read() as conn:
        last = conn.execute(select(t.events).where(t.events.c.seq == 2)).mappings().one()
    h = event_hash(last["hash"], 3, last["time"], "x", "k", "e", "{}")
    _sql(store, "INSERT INTO events VALUES (3, :t, 'x', 'k', 'e', '{}', :p, :h)",
         {"t": last["time"], "p": last["hash"], "h": h})
    r = store.verify()
    assert (r.ok, r.first_bad_seq, r.problem) == (False, 3, "inserted")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(n=st.integers(1, 6), data=st.data())
def test_any_single_character_change_is_caught(tmp_path_factory, n, data):
    s = open_store("sqlite://")
    _fill(s, n)
    seq = data.draw(st.integers(1, n))
    column = data.draw(st.sampled_from(["payload", "actor", "kind", "entity_id", "time", "prev_hash", "hash"]))
    with s.read() as conn:
        value = conn.execute(select(t.events.c[column]).where(t.events.c.seq == seq)).scalar_one()
    pos = data.draw(st.integers(0, len(value) - 1))
    repl = data.draw(st.characters(codec="utf-8").filter(lambda c: c != value[pos]))
    _sql(s, f"UPDATE events SET {column} = :v WHERE seq = :s", {"v": value[:pos] + repl + value[pos + 1:], "s": seq})
    r = s.verify()
    assert not r.ok
    assert r.first_bad_seq in (seq, seq - 1, seq + 1)
    s.close()


# --- two processes, and a crash -------------------------------------------------------------------------------

_WRITER = textwrap.dedent("""
    import sys, os, time
    from ruralcredit.store import open_store
    from ruralcredit.blacklist import Registry
    from ruralcredit import ids
    import datetime as dt
    path, n, tag, go = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    reg = Registry(open_store(path))
    while not os.path.exists(go):
        time.sleep(0.005)
    for i in range(n):
        rid = ids.make_resident_id("530102", dt.date(1970, 1, 1) + dt.timedelta(days=i), 100 + int(tag))
        reg.propose(rid, name="某人", category="debt.malicious_evasion", severity="serious", legal_basis="law",
                    source_institution="bank", document_number=f"{tag}-{i}", evidence_hash="0" * 64,
                    effective_date="2026-05-01", by=f"maker{tag}")
        with reg.store.transaction() as conn:
            reg.store.append_event(conn, actor=f"w{tag}", kind="test.write", entity_id=f"{tag}-{i}")
""")


def _env() -> dict:
    env = dict(os.environ)
    src = str(Path(__file__).resolve().parents[1] / "src")
    env["PYTHONPATH"] = src + os.pathsep + env.get("PYTHONPATH", "")
    return env


def test_two_processes_writing_at_once_lose_nothing(tmp_path):
    from ruralcredit.blacklist import Registry

    db = tmp_path / "shared.db"
    open_store(db).close()
    go = tmp_path / "go"
    n = 15
    procs = [subprocess.Popen([sys.executable, "-c", _WRITER, str(db), str(n), tag, str(go)], env=_env(),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for tag in ("1", "2")]
    time.sleep(0.3)
    go.write_text("go")
    for p in procs:
        _out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err.decode()
    s = open_store(db)
    events = s.events()
    assert len(events) == 2 * n * 3  # per proposal: listing + pending version; plus one plain event
    assert events["seq"].tolist() == list(range(1, 6 * n + 1))
    written = events.loc[events["kind"] == "test.write", "entity_id"]
    for tag in ("1", "2"):
        mine = written[written.str.startswith(tag + "-")]
        assert sorted(mine) == sorted(f"{tag}-{i}" for i in range(n))
    reg = Registry(s)
    assert len(reg.listings()) == 2 * n
    assert s.verify().ok and reg.verify().ok
    s.close()


_KILLED = textwrap.dedent("""
    import sys, time, pathlib
    from sqlalchemy import insert
    from ruralcredit.store import open_store
    from ruralcredit.store import tables as t
    path, ready = sys.argv[1], sys.argv[2]
    s = open_store(path)
    for i in range(3):
        with s.transaction() as conn:
            s.append_event(conn, actor="k", kind="test.committed", entity_id=f"c{i}")
    with s.transaction() as conn:
        for i in range(300):
            s.append_event(conn, actor="k", kind="test.partial", entity_id=f"p{i}", payload={"i": i})
            conn.execute(insert(t.meta).values(key=f"partial{i}", value="x"))
        pathlib.Path(ready).write_text("ready")
        time.sleep(120)
""")


def test_a_process_killed_mid_write_leaves_nothing_half_written(tmp_path):
    db = tmp_path / "crash.db"
    ready = tmp_path / "ready"
    p = subprocess.Popen([sys.executable, "-c", _KILLED, str(db), str(ready)], env=_env(),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while not ready.exists():
        assert p.poll() is None, p.stderr.read().decode()
        assert time.monotonic() < deadline
        time.sleep(0.02)
    os.kill(p.pid, signal.SIGKILL)
    p.wait(timeout=30)
    assert p.returncode == -signal.SIGKILL
    s = open_store(db, busy_timeout=5)
    events = s.events()
    assert events["kind"].tolist() == ["test.committed"] * 3
    with s.read() as conn:
        assert conn.execute(select(t.meta.c.key).where(t.meta.c.key.like("partial%"))).all() == []
        head = json.loads(conn.execute(select(t.meta.c.value).where(t.meta.c.key == "chain_head")).scalar_one())
    assert head["seq"] == 3
    assert s.verify().ok
    with s.transaction() as conn:  # the lock is gone: a new writer gets through
        assert s.append_event(conn, actor="after", kind="test.after", entity_id="a").seq == 4
    assert s.verify().ok
    s.close()
