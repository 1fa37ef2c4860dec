"""Cases from warning to disposal (预警 → 监测 → 分析 → 处置), stored with a hash-chained event log.

A :class:`CaseBook` keeps cases in the store (its own tables, created through
:meth:`ruralcredit.store.Store.ensure_component`). Every change writes its rows and one event of the
store's hash-chained log in the same transaction, so :meth:`CaseBook.verify` detects tampering and
a crash leaves either both or neither. Nothing is updated in place: a case's state is its latest move.

States and actions::

    new ──monitor──► monitoring ──analyse──► analysis ──verify──► verified ──interview──► interview
     │                   │                     │                    │  │                      │  │
     └──analyse──────────┼────────────────────►│                    │  └─transfer─┐  ┌transfer─┘  │
     │                   │                     │                    │             ▼  ▼             │
     └──dismiss──────────┴──dismiss────────────┴─dismiss─► closed_false_alarm   transferred_to_authorities
                                               └─resolve─┐          └─resolve─┐    ┌─resolve──────┘
                                                         ▼                    ▼    ▼
                                                                closed_resolved

- ``monitor`` (监测): watch the subject; ``analyse`` (分析): look into the evidence;
- ``verify`` (核实): the risk is confirmed; ``interview`` (约谈): the subject was interviewed;
- ``transfer`` (移交): handed to the authorities (police, financial regulator) -- final;
- ``dismiss``: closed as a false alarm (误报) -- final; ``resolve``: closed, the risk removed (e.g.
  arrears repaid) -- final;
- ``assign`` (any open state) sets the assignee, ``note`` (any state) adds a note; neither moves.

Any other move raises :class:`~ruralcredit.errors.CaseError` naming the case, its state and the
action. A warning that recurs -- same subject and category (risk pattern) as an open case -- joins
that case instead of opening another; a warning already recorded is not recorded twice.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    func,
    insert,
    select,
)

from ruralcredit.errors import CaseError, InputError
from ruralcredit.store import Store, VerifyResult, canonical_json

__all__ = ["ACTIONS", "CASE_STATES", "FINAL_STATES", "Case", "CaseBook"]

#: Every case state, in workflow order.
CASE_STATES = ("new", "monitoring", "analysis", "verified", "interview", "transferred_to_authorities",
               "closed_false_alarm", "closed_resolved")
#: States that end a case.
FINAL_STATES = ("transferred_to_authorities", "closed_false_alarm", "closed_resolved")
#: Action -> (states it is allowed from, state it leads to).
ACTIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "monitor": (("new",), "monitoring"),
    "analyse": (("new", "monitoring"), "analysis"),
    "verify": (("analysis",), "verified"),
    "interview": (("verified",), "interview"),
    "transfer": (("verified", "interview"), "transferred_to_authorities"),
    "resolve": (("analysis", "verified", "interview"), "closed_resolved"),
    "dismiss": (("new", "monitoring", "analysis"), "closed_false_alarm"),
}
_OPEN_STATES = tuple(s for s in CASE_STATES if s not in FINAL_STATES)
#: Actions that do not change the state, and the states they are allowed in.
_STILL = {"assign": _OPEN_STATES, "note": CASE_STATES}
_SEVERITY_RANK = {"blue": 0, "yellow": 1, "orange": 2, "red": 3}
_COMPONENT = "risk_cases"
_VERSION = 1
_TIME = 32
_ID = 64

metadata = MetaData()

cases_table = Table(
    "risk_cases", metadata,
    Column("case_id", String(_ID), primary_key=True),
    Column("subject_id", String(200), nullable=False),
    Column("subject_type", String(40), nullable=False),
    Column("category", String(64), nullable=False),
    Column("opened_by", String(200), nullable=False),
    Column("recorded_at", String(_TIME), nullable=False),
    Column("event_seq", BigInteger, nullable=False, unique=True),
    Index("ix_risk_cases_subject", "subject_type", "subject_id", "category"),
)

moves_table = Table(
    "risk_case_moves", metadata,
    Column("move_id", Integer, primary_key=True, autoincrement=True),
    Column("case_id", String(_ID), ForeignKey("risk_cases.case_id"), nullable=False),
    Column("action", String(20), nullable=False),
    Column("from_state", String(40), nullable=True),
    Column("to_state", String(40), nullable=False),
    Column("assignee", String(200), nullable=True, comment="the assignee after the move"),
    Column("note", Text, nullable=False, default=""),
    Column("actor", String(200), nullable=False),
    Column("recorded_at", String(_TIME), nullable=False),
    Column("event_seq", BigInteger, nullable=False, unique=True),
    Index("ix_risk_case_moves_case", "case_id"),
)

case_warnings_table = Table(
    "risk_case_warnings", metadata,
    Column("warning_id", String(_ID), primary_key=True),
    Column("case_id", String(_ID), ForeignKey("risk_cases.case_id"), nullable=False),
    Column("rule_id", String(64), nullable=False),
    Column("as_of", Date, nullable=False),
    Column("severity", String(10), nullable=False),
    Column("value", Float, nullable=True),
    Column("text_zh", Text, nullable=False),
    Column("text_en", Text, nullable=False),
    Column("evidence", Text, nullable=False, comment="canonical JSON"),
    Column("policy_id", String(100), nullable=False),
    Column("policy_version", String(40), nullable=False),
    Column("policy_hash", String(64), nullable=False),
    Column("recorded_at", String(_TIME), nullable=False),
    Column("event_seq", BigInteger, nullable=False, unique=True),
    Index("ix_risk_case_warnings_case", "case_id"),
)

_NEEDED = ("warning_id", "as_of", "subject_id", "subject_type", "rule_id", "category", "severity", "value",
           "text_zh", "text_en", "evidence", "policy_id", "policy_version", "policy_hash")


@dataclass(frozen=True)
class Case:
    """A case as it stands (immutable).

    Attributes
    ----------
    case_id, subject_id, subject_type, category : str
    state : str
        One of :data:`CASE_STATES`.
    assignee : str or None
    severity : str
        The highest severity among its warnings.
    n_warnings : int
    opened_by, opened_at, updated_at : str
        Who opened it; transaction times (UTC ISO text) of opening and of the latest move.
    """

    case_id: str
    subject_id: str
    subject_type: str
    category: str
    state: str
    assignee: str | None
    severity: str
    n_warnings: int
    opened_by: str
    opened_at: str
    updated_at: str

    @property
    def is_open(self) -> bool:
        """Whether the case is not in a final state."""
        return self.state not in FINAL_STATES

    @property
    def allowed_actions(self) -> list[str]:
        """The actions allowed in the current state."""
        moves = [a for a, (src, _) in ACTIONS.items() if self.state in src]
        return moves + [a for a, states in _STILL.items() if self.state in states]


def _text(value: Any, argument: str, *, max_len: int = 2000, empty_ok: bool = False) -> str:
    if not isinstance(value, str) or (not value.strip() and not empty_ok):
        raise InputError("must be non-empty text", argument=argument,
                         value=None if value is None else type(value).__name__)
    if len(value) > max_len:
        raise InputError(f"longer than {max_len} characters", argument=argument, value=len(value))
    return value.strip()


class CaseBook:
    """Risk cases in a store: open them from warnings and carry them to disposal.

    Parameters
    ----------
    store : Store
        From :func:`ruralcredit.store.open_store`; the case tables are created on first use (schema
        component ``risk_cases``, version 1).

    Examples
    --------
    >>> from ruralcredit.store import open_store
    >>> book = CaseBook(open_store("sqlite://"))
    >>> book.cases().empty
    True
    """

    def __init__(self, store: Store) -> None:
        if not isinstance(store, Store):
            raise InputError(f"expected a Store, got {type(store).__name__}", argument="store")
        self.store = store
        store.ensure_component(_COMPONENT, _VERSION, metadata)

    def __repr__(self) -> str:
        return f"CaseBook({self.store.url!r})"

    # --- reading ---------------------------------------------------------------------------------------

    def _state_query(self) -> Any:
        latest = select(moves_table.c.case_id, func.max(moves_table.c.move_id).label("move_id")) \
            .group_by(moves_table.c.case_id).subquery()
        return select(cases_table, moves_table.c.to_state.label("state"), moves_table.c.assignee,
                      moves_table.c.recorded_at.label("updated_at")) \
            .join(latest, latest.c.case_id == cases_table.c.case_id) \
            .join(moves_table, moves_table.c.move_id == latest.c.move_id)

    def _frame(self, conn: Connection, *, case_id: str | None = None, open_only: bool = False,
               state: str | None = None, subject_id: str | None = None) -> pd.DataFrame:
        q = self._state_query()
        if case_id is not None:
            q = q.where(cases_table.c.case_id == case_id)
        if subject_id is not None:
            q = q.where(cases_table.c.subject_id == subject_id)
        if open_only:
            q = q.where(moves_table.c.to_state.in_(_OPEN_STATES))
        if state is not None:
            q = q.where(moves_table.c.to_state == state)
        rows = conn.execute(q.order_by(cases_table.c.event_seq)).mappings().all()
        cols = ["case_id", "subject_id", "subject_type", "category", "state", "assignee", "opened_by",
                "recorded_at", "updated_at"]
        frame = pd.DataFrame([{c: r[c] for c in cols} for r in rows], columns=cols)
        frame = frame.rename(columns={"recorded_at": "opened_at"})
        sev = select(case_warnings_table.c.case_id, case_warnings_table.c.severity)
        if case_id is not None:
            sev = sev.where(case_warnings_table.c.case_id == case_id)
        w = pd.DataFrame(conn.execute(sev).all(), columns=["case_id", "severity"])
        if len(w):
            w["rank"] = w["severity"].map(_SEVERITY_RANK)
            agg = w.groupby("case_id").agg(rank=("rank", "max"), n_warnings=("severity", "size"))
            names = np.array(list(_SEVERITY_RANK), dtype=object)
            frame["severity"] = names[agg["rank"].reindex(frame["case_id"]).fillna(0).astype(int).to_numpy()]
            frame["n_warnings"] = agg["n_warnings"].reindex(frame["case_id"]).fillna(0).astype(int).to_numpy()
        else:
            frame["severity"] = pd.Series([], dtype=object) if frame.empty else "blue"
            frame["n_warnings"] = 0
        return frame

    def _get(self, conn: Connection, case_id: str, action: str | None = None) -> Case:
        if not isinstance(case_id, str) or not case_id:
            raise InputError("must be a case id", argument="case_id", value=case_id)
        f = self._frame(conn, case_id=case_id)
        if f.empty:
            raise CaseError(f"no case {case_id!r}", case_id=case_id, action=action)
        r = f.iloc[0]
        return Case(case_id=r["case_id"], subject_id=r["subject_id"], subject_type=r["subject_type"],
                    category=r["category"], state=r["state"], assignee=r["assignee"], severity=r["severity"],
                    n_warnings=int(r["n_warnings"]), opened_by=r["opened_by"], opened_at=r["opened_at"],
                    updated_at=r["updated_at"])

    def get(self, case_id: str) -> Case:
        """The case as it stands.

        Raises
        ------
        CaseError
            No such case.
        """
        with self.store.read() as conn:
            return self._get(conn, case_id)

    def cases(self, *, state: str | None = None, open_only: bool = False, subject_id: str | None = None
              ) -> pd.DataFrame:
        """Cases as they stand: ``case_id, subject_id, subject_type, category, state, assignee,
        opened_by, opened_at, updated_at, severity, n_warnings``, in the order they were opened."""
        if state is not None and state not in CASE_STATES:
            raise InputError(f"unknown state {state!r}; states: {list(CASE_STATES)}", argument="state", value=state)
        with self.store.read() as conn:
            return self._frame(conn, state=state, open_only=open_only, subject_id=subject_id)

    def history(self, case_id: str) -> pd.DataFrame:
        """Every move of a case in order: ``action, from_state, to_state, assignee, note, actor,
        recorded_at, event_seq``."""
        with self.store.read() as conn:
            self._get(conn, case_id)
            m = moves_table.c
            rows = conn.execute(select(m.action, m.from_state, m.to_state, m.assignee, m.note, m.actor,
                                       m.recorded_at, m.event_seq).where(m.case_id == case_id)
                                .order_by(m.move_id)).all()
        return pd.DataFrame(rows, columns=["action", "from_state", "to_state", "assignee", "note", "actor",
                                           "recorded_at", "event_seq"])

    def warnings(self, case_id: str) -> pd.DataFrame:
        """The warnings of a case in the order they joined it (``evidence`` as JSON text)."""
        with self.store.read() as conn:
            self._get(conn, case_id)
            w = case_warnings_table
            rows = conn.execute(select(w).where(w.c.case_id == case_id).order_by(w.c.event_seq)).mappings().all()
        return pd.DataFrame([dict(r) for r in rows], columns=[c.name for c in w.columns])

    def verify(self) -> VerifyResult:
        """Check the store's whole event chain (see :meth:`ruralcredit.store.Store.verify`)."""
        return self.store.verify()

    # --- writing ---------------------------------------------------------------------------------------

    def open_cases(self, warnings: pd.DataFrame, *, by: str) -> pd.DataFrame:
        """Record warnings: each joins the open case of its subject and category, or opens a new one.

        Parameters
        ----------
        warnings : DataFrame
            A warnings frame from :func:`~ruralcredit.risk.scan` or
            :func:`~ruralcredit.risk.drift_warnings` (any subset of its rows).
        by : str
            Who records them (a user, ``"system"``).

        Returns
        -------
        DataFrame
            One row per input warning id: ``warning_id, case_id, outcome`` (``opened`` a new case,
            ``joined`` an open one, ``recorded`` earlier already).

        Raises
        ------
        InputError
            Not a warnings frame (missing columns), an empty ``by``.
        """
        by = _text(by, "by", max_len=200)
        if not isinstance(warnings, pd.DataFrame) or any(c not in warnings.columns for c in _NEEDED):
            missing = [] if not isinstance(warnings, pd.DataFrame) else [c for c in _NEEDED if c not in warnings]
            raise InputError(f"expected a warnings frame; missing columns {missing}", argument="warnings")
        w = warnings.drop_duplicates("warning_id").reset_index(drop=True)
        if w.empty:
            return pd.DataFrame({"warning_id": [], "case_id": [], "outcome": []}, dtype=object)
        key_cols = ["subject_type", "subject_id", "category"]
        with self.store.transaction() as conn:
            self.store.lock(conn)
            known = self._known_warnings(conn, w["warning_id"].tolist())
            fresh = w.loc[~w["warning_id"].isin(known["warning_id"])].copy()
            open_ = self._frame(conn, open_only=True)[["case_id", *key_cols]]
            fresh = fresh.merge(open_, on=key_cols, how="left")
            need = fresh["case_id"].isna().to_numpy()
            new_keys = fresh.loc[need, key_cols].drop_duplicates()
            new_keys["case_id"] = ["C-" + uuid.uuid4().hex[:20] for _ in range(len(new_keys))]
            fresh.loc[need, "case_id"] = fresh.loc[need, key_cols].merge(new_keys, on=key_cols, how="left")[
                "case_id"].to_numpy()
            first = fresh.loc[need].drop_duplicates(key_cols)["warning_id"]
            outcome = np.where(fresh["warning_id"].isin(first), "opened", "joined")
            fresh["outcome"] = outcome
            self._write_open(conn, fresh, new_keys, by)
        result = pd.concat([fresh[["warning_id", "case_id", "outcome"]],
                            known.assign(outcome="recorded")[["warning_id", "case_id", "outcome"]]],
                           ignore_index=True)
        order = pd.Index(w["warning_id"]).get_indexer(result["warning_id"])
        return result.iloc[np.argsort(order, kind="stable")].reset_index(drop=True)

    @staticmethod
    def _known_warnings(conn: Connection, ids: list[str]) -> pd.DataFrame:
        w = case_warnings_table.c
        rows: list[Any] = []
        for lo in range(0, len(ids), 500):  # chunks keep under SQLite's parameter limit
            rows.extend(conn.execute(select(w.warning_id, w.case_id).where(w.warning_id.in_(ids[lo:lo + 500]))).all())
        return pd.DataFrame(rows, columns=["warning_id", "case_id"])

    def _write_open(self, conn: Connection, fresh: pd.DataFrame, new_keys: pd.DataFrame, by: str) -> None:
        if fresh.empty:
            return
        events = []
        for r in new_keys.itertuples(index=False):  # one event per new case (the chain is sequential)
            events.append({"actor": by, "kind": "case.opened", "entity_id": r.case_id,
                           "payload": {"subject_id": r.subject_id, "subject_type": r.subject_type,
                                       "category": r.category, "state": "new"}})
        rows = []
        for r in fresh.itertuples(index=False):  # one event per warning recorded
            evidence = canonical_json(r.evidence)
            value = None if r.value is None or (isinstance(r.value, float) and np.isnan(r.value)) else float(r.value)
            row = {"warning_id": r.warning_id, "case_id": r.case_id, "rule_id": r.rule_id,
                   "as_of": pd.Timestamp(r.as_of).date(), "severity": r.severity, "value": value,
                   "text_zh": r.text_zh, "text_en": r.text_en, "evidence": evidence, "policy_id": r.policy_id,
                   "policy_version": r.policy_version, "policy_hash": r.policy_hash}
            rows.append(row)
            events.append({"actor": by, "kind": f"case.warning_{r.outcome}", "entity_id": r.case_id,
                           "payload": {"warning_id": r.warning_id, "rule_id": r.rule_id, "severity": r.severity,
                                       "as_of": row["as_of"], "row_hash": _row_hash(row)}})
        evs = self.store.append_events(conn, events)
        n_new = len(new_keys)
        case_rows = [{"case_id": r.case_id, "subject_id": r.subject_id, "subject_type": r.subject_type,
                      "category": r.category, "opened_by": by, "recorded_at": ev.time, "event_seq": ev.seq}
                     for r, ev in zip(new_keys.itertuples(index=False), evs[:n_new], strict=True)]
        if case_rows:
            conn.execute(insert(cases_table), case_rows)
            conn.execute(insert(moves_table), [
                {"case_id": c["case_id"], "action": "open", "from_state": None, "to_state": "new", "assignee": None,
                 "note": "", "actor": by, "recorded_at": c["recorded_at"], "event_seq": c["event_seq"]}
                for c in case_rows])
        for row, ev in zip(rows, evs[n_new:], strict=True):
            row["recorded_at"], row["event_seq"] = ev.time, ev.seq
        conn.execute(insert(case_warnings_table), rows)

    def move(self, case_id: str, action: str, *, by: str, note: str = "", assignee: str | None = None) -> Case:
        """Apply an action to a case (see the module docstring for the state machine).

        Parameters
        ----------
        case_id : str
        action : str
            ``monitor``, ``analyse``, ``verify``, ``interview``, ``transfer``, ``resolve``, ``dismiss``,
            ``assign`` (needs ``assignee``) or ``note`` (needs ``note``).
        by : str
            Who acts.
        note : str
            Why (required for ``dismiss``, ``resolve``, ``transfer`` and ``note``).
        assignee : str, optional
            The new assignee (``assign``; any move may also set it).

        Returns
        -------
        Case
            The case after the move.

        Raises
        ------
        CaseError
            No such case, or the action is not allowed in the case's state (naming case, state, action).
        InputError
            An unknown action, an empty ``by``, a missing note or assignee.
        """
        if action not in ACTIONS and action not in _STILL:
            raise InputError(f"unknown action {action!r}; actions: {[*ACTIONS, *_STILL]}", argument="action",
                             value=action)
        by = _text(by, "by", max_len=200)
        note = _text(note, "note", empty_ok=True)
        if action in ("dismiss", "resolve", "transfer", "note") and not note:
            raise InputError(f"action {action!r} needs a note saying why", argument="note")
        if assignee is not None:
            assignee = _text(assignee, "assignee", max_len=200)
        if action == "assign" and assignee is None:
            raise InputError("action 'assign' needs an assignee", argument="assignee")
        with self.store.transaction() as conn:
            self.store.lock(conn)
            cur = self._get(conn, case_id, action)
            if action in ACTIONS:
                allowed_from, target = ACTIONS[action]
            else:
                allowed_from, target = _STILL[action], cur.state
            if cur.state not in allowed_from:
                raise CaseError(f"case {case_id} is in state {cur.state!r}: action {action!r} is not allowed "
                                f"(allowed: {', '.join(cur.allowed_actions) or 'none'})",
                                case_id=case_id, state=cur.state, action=action)
            new_assignee = assignee if assignee is not None else cur.assignee
            ev = self.store.append_event(conn, actor=by, kind=f"case.{action}", entity_id=case_id,
                                         payload={"from_state": cur.state, "to_state": target,
                                                  "assignee": new_assignee, "note": note})
            conn.execute(insert(moves_table).values(case_id=case_id, action=action, from_state=cur.state,
                                                    to_state=target, assignee=new_assignee, note=note, actor=by,
                                                    recorded_at=ev.time, event_seq=ev.seq))
            return self._get(conn, case_id)

    def monitor(self, case_id: str, *, by: str, note: str = "") -> Case:
        """``new`` -> ``monitoring`` (监测)."""
        return self.move(case_id, "monitor", by=by, note=note)

    def analyse(self, case_id: str, *, by: str, note: str = "") -> Case:
        """``new`` / ``monitoring`` -> ``analysis`` (分析)."""
        return self.move(case_id, "analyse", by=by, note=note)

    def verify_risk(self, case_id: str, *, by: str, note: str = "") -> Case:
        """``analysis`` -> ``verified`` (核实: the risk is confirmed)."""
        return self.move(case_id, "verify", by=by, note=note)

    def interview(self, case_id: str, *, by: str, note: str = "") -> Case:
        """``verified`` -> ``interview`` (约谈)."""
        return self.move(case_id, "interview", by=by, note=note)

    def transfer(self, case_id: str, *, by: str, note: str) -> Case:
        """``verified`` / ``interview`` -> ``transferred_to_authorities`` (移交), final."""
        return self.move(case_id, "transfer", by=by, note=note)

    def resolve(self, case_id: str, *, by: str, note: str) -> Case:
        """``analysis`` / ``verified`` / ``interview`` -> ``closed_resolved``, final."""
        return self.move(case_id, "resolve", by=by, note=note)

    def dismiss(self, case_id: str, *, by: str, note: str) -> Case:
        """``new`` / ``monitoring`` / ``analysis`` -> ``closed_false_alarm`` (误报), final."""
        return self.move(case_id, "dismiss", by=by, note=note)

    def assign(self, case_id: str, assignee: str, *, by: str, note: str = "") -> Case:
        """Set the assignee of an open case."""
        return self.move(case_id, "assign", by=by, note=note, assignee=assignee)

    def add_note(self, case_id: str, note: str, *, by: str) -> Case:
        """Add a note to a case (in any state)."""
        return self.move(case_id, "note", by=by, note=note)


def _row_hash(row: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_json(row).encode("utf-8")).hexdigest()

