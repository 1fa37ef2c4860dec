"""Subsidy eligibility (财政补贴资格): honesty as a precondition for support (失信惩戒, 守信激励).

An eligibility policy is a dated YAML policy pack (``kind: eligibility``) listing conditions, each with
a reason code and a legal reference:

==================  ==========================================  =====================================
type                met when                                    input column
==================  ==========================================  =====================================
not_listed          not listed on the decision date, directly   ``id_number`` or ``uscc`` (+ roles,
                    or (``joint: true``) through roles          persons, enterprises for ``joint``)
min_grade           grade at least ``grade`` (e.g. A)           ``grade``
no_npl              no non-performing loan                      ``has_npl``
no_overdue_over     worst overdue <= ``days`` within            ``worst_overdue_days_<window>m``
                    ``window_months``
credit_household    a credit household (信用户)                 ``credit_household``
credit_village      in a credit village (信用村)                ``village_is_credit``
==================  ==========================================  =====================================

:func:`check_eligibility` evaluates **every** condition for every subject (vectorised): ``met``,
``unmet`` or ``unknown`` (the fact is missing: a missing column or value is never taken as met). A
subject is eligible only when all conditions are met.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import insert, select

from ruralcredit.blacklist import joint as _joint
from ruralcredit.blacklist._subjects import RESIDENT, USCC, id_column, isin, subject_ids
from ruralcredit.blacklist.vocabulary import CATEGORIES
from ruralcredit.errors import InputError, PolicyError, SchemaError, StoreError
from ruralcredit.packs import PolicyPack, load_pack
from ruralcredit.schema import parse_as_of
from ruralcredit.store import Store, canonical_json, format_time
from ruralcredit.store import tables as t

__all__ = [
    "CONDITION_TYPES",
    "DECISION_COLUMNS",
    "DETAIL_COLUMNS",
    "OUTCOMES",
    "Condition",
    "EligibilityPayload",
    "EligibilityPolicy",
    "EligibilityResult",
    "check_eligibility",
    "load_decisions",
]

#: The condition types an eligibility pack may use.
CONDITION_TYPES = ("not_listed", "min_grade", "no_npl", "no_overdue_over", "credit_household", "credit_village")
#: Outcomes of a condition, in code order (0, 1, 2).
OUTCOMES = ("met", "unmet", "unknown")
#: Columns of the decisions frame.
DECISION_COLUMNS = ["subject_id", "eligible", "n_met", "n_unmet", "n_unknown", "unmet_conditions",
                    "unknown_conditions", "policy_id", "policy_version", "policy_hash", "input_hash",
                    "library_version", "decided_at", "as_of"]
#: Columns of the long per-condition frame.
DETAIL_COLUMNS = ["subject_id", "condition", "outcome", "reason_code", "legal_reference", "value"]

_MET, _UNMET, _UNKNOWN = 0, 1, 2
_DEFAULT_SCALE = ["AAA", "AA", "A", "B", "C"]
_PARAMS = {
    "not_listed": {"joint", "categories"},
    "min_grade": {"grade", "grade_scale"},
    "no_npl": set(),
    "no_overdue_over": {"days", "window_months"},
    "credit_household": set(),
    "credit_village": set(),
}
_REQUIRED = {"min_grade": {"grade"}, "no_overdue_over": {"days", "window_months"}, "not_listed": {"joint"}}


class Condition(BaseModel):
    """One condition of an eligibility policy.

    Attributes
    ----------
    code : str
        Its name in results (lowercase, unique in the policy), e.g. ``"not_listed"``.
    type : str
        One of :data:`CONDITION_TYPES`.
    reason_code : str
        The code printed when the condition is not met (e.g. ``"EL01"``).
    legal_reference : str
        The rule it comes from.
    label_zh, label_en : str
    joint : bool
        ``not_listed`` only: also unmet when a listing reaches the subject through roles.
    categories : list of str, optional
        ``not_listed`` only: count only listings in these category nodes (default: all).
    grade : str
        ``min_grade`` only: the lowest grade that passes.
    grade_scale : list of str, optional
        ``min_grade`` only: grades best first (default AAA, AA, A, B, C).
    days, window_months : int
        ``no_overdue_over`` only: the most overdue days allowed within the window; the input column is
        ``worst_overdue_days_<window_months>m``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str = Field(pattern=r"^[a-z][a-z0-9_]{0,49}$")
    type: Literal[CONDITION_TYPES]  # type: ignore[valid-type]
    reason_code: str = Field(min_length=1, max_length=40)
    legal_reference: str = Field(min_length=3)
    label_zh: str = Field(min_length=1)
    label_en: str = Field(min_length=1)
    joint: bool | None = None
    categories: list[str] | None = None
    grade: str | None = None
    grade_scale: list[str] | None = None
    days: int | None = Field(default=None, ge=0, le=36500)
    window_months: int | None = Field(default=None, ge=1, le=240)

    @model_validator(mode="after")
    def _params(self) -> Condition:
        given = {k for k in ("joint", "categories", "grade", "grade_scale", "days", "window_months")
                 if getattr(self, k) is not None}
        extra = given - _PARAMS[self.type]
        if extra:
            raise ValueError(f"{self.type} takes no {sorted(extra)}")
        missing = _REQUIRED.get(self.type, set()) - given
        if missing:
            raise ValueError(f"{self.type} needs {sorted(missing)}")
        if self.categories is not None:
            unknown = [c for c in self.categories if c not in CATEGORIES]
            if unknown:
                raise ValueError(f"unknown categories {unknown}")
        if self.type == "min_grade":
            scale = self.grade_scale or _DEFAULT_SCALE
            if len(set(scale)) != len(scale):
                raise ValueError("grade_scale repeats a grade")
            if self.grade not in scale:
                raise ValueError(f"grade {self.grade!r} is not on the scale {scale}")
        return self

    @property
    def column(self) -> str:
        """The input column the condition reads (``id_number``/``uscc`` for not_listed)."""
        return {
            "not_listed": "id_number",
            "min_grade": "grade",
            "no_npl": "has_npl",
            "no_overdue_over": f"worst_overdue_days_{self.window_months}m",
            "credit_household": "credit_household",
            "credit_village": "village_is_credit",
        }[self.type]


class EligibilityPayload(BaseModel):
    """Payload of an eligibility pack: its conditions (all must be met)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    conditions: list[Condition] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> EligibilityPayload:
        codes = [c.code for c in self.conditions]
        dup = sorted({c for c in codes if codes.count(c) > 1})
        if dup:
            raise ValueError(f"condition codes repeat: {dup}")
        return self


class EligibilityPolicy(PolicyPack):
    """A dated eligibility policy pack (``kind: eligibility``)."""

    KIND = "eligibility"
    payload: EligibilityPayload


@dataclass
class EligibilityResult:
    """Decisions with every condition's outcome, and the record of how they were made.

    Attributes
    ----------
    decisions : DataFrame
        One row per subject: :data:`DECISION_COLUMNS`.
    details : DataFrame
        Long format, one row per subject and condition: :data:`DETAIL_COLUMNS` (``value`` is the fact the
        condition looked at, or the listing ids that made it unmet).
    record : dict
        ``policy_id, policy_version, policy_hash, policy_source, input_hash, library_version,
        decided_at, as_of, registry_version, as_known_at, conditions``.
    """

    decisions: pd.DataFrame
    details: pd.DataFrame
    record: dict[str, Any] = field(default_factory=dict)

    def explain(self, subject_id: str) -> pd.DataFrame:
        """The per-condition rows of one subject.

        Raises
        ------
        InputError
            For a subject not in the result.
        """
        rows = self.details[self.details["subject_id"] == subject_id]
        if rows.empty:
            raise InputError("not among the decided subjects", argument="subject_id", value=subject_id)
        return rows.reset_index(drop=True)

    def save(self, store: Store, *, by: str) -> str:
        """Store the decisions: one run row, one row per subject and one event, in one transaction.

        Returns
        -------
        str
            The run id (see :func:`load_decisions`).
        """
        if not isinstance(store, Store):
            raise InputError(f"expected a Store, got {type(store).__name__}", argument="store")
        if not isinstance(by, str) or not by.strip():
            raise InputError("must be non-empty text", argument="by", value=by)
        conds = self.record["conditions"]
        outcome_codes = self.details["outcome"].cat.codes.to_numpy().reshape(len(conds), -1).T
        chars = np.array([b"M", b"U", b"?"], dtype="S1")[outcome_codes]
        outcomes = np.ascontiguousarray(chars).view(f"S{len(conds)}").ravel().astype(str)
        d = self.decisions
        rows = pd.DataFrame({"subject_id": d["subject_id"].to_numpy(dtype=object),
                             "eligible": d["eligible"].to_numpy(dtype=bool),
                             "n_unmet": d["n_unmet"].to_numpy(dtype=np.int64),
                             "n_unknown": d["n_unknown"].to_numpy(dtype=np.int64), "outcomes": outcomes})
        run_id = f"E{uuid.uuid4().hex[:20]}"
        rows.insert(0, "run_id", run_id)
        decisions_hash = _decisions_digest(rows)
        rec = self.record
        run = {"run_id": run_id, "policy_id": rec["policy_id"], "policy_version": rec["policy_version"],
               "policy_hash": rec["policy_hash"], "as_of": pd.Timestamp(rec["as_of"]).date(),
               "input_hash": rec["input_hash"], "library_version": rec["library_version"],
               "decided_at": rec["decided_at"], "registry_version": rec["registry_version"],
               "n_subjects": len(rows), "n_eligible": int(rows["eligible"].sum()),
               "conditions": json.dumps(conds, ensure_ascii=False), "recorded_by": by.strip()}
        run_hash = hashlib.sha256(canonical_json(run).encode("utf-8")).hexdigest()
        with store.transaction() as conn:
            ev = store.append_event(conn, actor=by.strip(), kind="eligibility.decided", entity_id=run_id,
                                    payload={"table": "el_runs", "run_hash": run_hash, "decisions_hash": decisions_hash,
                                             "policy_id": rec["policy_id"], "policy_version": rec["policy_version"],
                                             "n_subjects": len(rows), "n_eligible": run["n_eligible"]})
            conn.execute(insert(t.el_runs).values(**run, recorded_at=ev.time, event_seq=ev.seq))
            if len(rows):
                conn.execute(insert(t.el_decisions), rows.to_dict("records"))
        return run_id


def load_decisions(store: Store, run_id: str) -> EligibilityResult:
    """Read stored decisions back (details without the fact values), checking them against their event.

    Raises
    ------
    StoreError
        For an unknown run, or rows that no longer match the hash their event recorded.
    """
    with store.read() as conn:
        run = conn.execute(select(t.el_runs).where(t.el_runs.c.run_id == run_id)).mappings().first()
        if run is None:
            raise StoreError(f"no stored eligibility run {run_id!r}")
        rows = conn.execute(select(t.el_decisions).where(t.el_decisions.c.run_id == run_id)
                            .order_by(t.el_decisions.c.subject_id)).all()
        ev = conn.execute(select(t.events.c.payload).where(t.events.c.seq == run["event_seq"])).scalar_one()
    df = pd.DataFrame(rows, columns=[c.name for c in t.el_decisions.columns]).astype(
        {"run_id": object, "subject_id": object, "outcomes": object})
    df = df.sort_values("subject_id", kind="stable").reset_index(drop=True)  # not the database's collation
    want = json.loads(ev)
    got = _decisions_digest(df)
    body = {k: v for k, v in run.items() if k not in ("recorded_at", "event_seq")}
    if got != want.get("decisions_hash") or hashlib.sha256(
            canonical_json(body).encode("utf-8")).hexdigest() != want.get("run_hash"):
        raise StoreError(f"stored eligibility run {run_id} does not match its event {run['event_seq']}")
    conds = json.loads(run["conditions"])
    k = len(conds)
    codes = np.frombuffer("".join(df["outcomes"]).encode("ascii"), dtype="S1").reshape(-1, k) if len(df) else \
        np.empty((0, k), dtype="S1")
    outcome = np.select([codes == b"M", codes == b"U"], [_MET, _UNMET], _UNKNOWN).T.ravel()
    n = len(df)
    details = pd.DataFrame({
        "subject_id": np.tile(df["subject_id"].to_numpy(dtype=object), k),
        "condition": pd.Categorical.from_codes(np.repeat(np.arange(k), n), [c[0] for c in conds]),
        "outcome": pd.Categorical.from_codes(outcome.astype(np.int8), list(OUTCOMES)),
        "reason_code": _labels([c[2] for c in conds], n),
        "legal_reference": _labels([c[3] for c in conds], n),
        "value": None,
    })
    decisions = pd.DataFrame({"subject_id": df["subject_id"], "eligible": df["eligible"].astype(bool),
                              "n_unmet": df["n_unmet"], "n_unknown": df["n_unknown"]})
    record = {k2: run[k2] for k2 in ("policy_id", "policy_version", "policy_hash", "input_hash", "library_version",
                                     "decided_at", "registry_version")}
    record.update(as_of=run["as_of"], conditions=conds, run_id=run_id)
    return EligibilityResult(decisions, details, record)


def _decisions_digest(rows: pd.DataFrame) -> str:
    """Hash of stored decision rows in a canonical form (sorted by subject, fixed dtypes)."""
    canon = pd.DataFrame({
        "run_id": rows["run_id"].astype("str"), "subject_id": rows["subject_id"].astype("str"),
        "eligible": rows["eligible"].astype(bool), "n_unmet": rows["n_unmet"].astype(np.int64),
        "n_unknown": rows["n_unknown"].astype(np.int64), "outcomes": rows["outcomes"].astype("str"),
    }).sort_values("subject_id", kind="stable").reset_index(drop=True)
    return _hash_frames({"el_decisions": canon})


def _unique_labels(labels: list[str]) -> tuple[list[str], np.ndarray]:
    uniq = list(dict.fromkeys(labels))
    return uniq, np.array([uniq.index(x) for x in labels])


# --- evaluation ---------------------------------------------------------------------------------------------


def _resolve_policy(policy: Any, as_of: pd.Timestamp, jurisdiction: str | None) -> EligibilityPolicy:
    if isinstance(policy, EligibilityPolicy):
        if not policy.covers(as_of):
            raise PolicyError(f"version {policy.version} is not in force on {as_of.date()} "
                              f"({policy.effective_from}..{policy.effective_to or 'open'})", pack_id=policy.id)
        return policy
    if isinstance(policy, (str, Path)):
        return load_pack(policy, EligibilityPolicy, as_of, jurisdiction=jurisdiction)
    raise InputError("expected an EligibilityPolicy, a built-in eligibility pack id or a path", argument="policy",
                     value=type(policy).__name__)


def _bool_column(df: pd.DataFrame, column: str, sid: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(values, missing) of a true/false column; anything else is a SchemaError."""
    s = df[column]
    missing = s.isna().to_numpy()
    if pd.api.types.is_bool_dtype(s.dtype):
        return s.fillna(False).to_numpy(dtype=bool), missing
    if s.dtype == object and pd.api.types.infer_dtype(s, skipna=True) in ("boolean", "empty"):
        return s.where(~missing, False).to_numpy(dtype=bool), missing
    ok = s.astype(object).map(lambda v: isinstance(v, (bool, np.bool_)), na_action="ignore").fillna(True).to_numpy(bool)
    raise SchemaError("expected true/false values", table="subjects", columns=[column], keys=sid[~ok].head(20).tolist(),
                      count=int((~ok).sum()), problem="dtype")


def _number_column(df: pd.DataFrame, column: str, sid: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    s = df[column]
    if s.isna().all():  # e.g. an all-None object column: every value missing
        return np.zeros(len(s)), np.ones(len(s), dtype=bool)
    if pd.api.types.is_bool_dtype(s.dtype) or not pd.api.types.is_numeric_dtype(s.dtype):
        raise SchemaError(f"expected numbers, got dtype {s.dtype}", table="subjects", columns=[column], problem="dtype")
    values = s.to_numpy(dtype="float64", na_value=np.nan)
    missing = np.isnan(values)
    bad = ~missing & ((values < 0) | ~np.isfinite(values))
    if bad.any():
        raise SchemaError("values outside [0, inf) days", table="subjects", columns=[column],
                          keys=sid[bad].head(20).tolist(), count=int(bad.sum()), problem="range")
    return values, missing


def _grade_column(df: pd.DataFrame, scale: list[str], sid: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    s = df["grade"]
    missing = s.isna().to_numpy()
    ranks = s.astype(object).map({g: i for i, g in enumerate(scale)}).to_numpy(dtype="float64", na_value=np.nan)
    bad = ~missing & np.isnan(ranks)
    if bad.any():
        seen = sorted({str(v) for v in s[bad].head(100)})[:5]
        raise SchemaError(f"grades {seen} not on the policy's scale {scale}", table="subjects", columns=["grade"],
                          keys=sid[bad].head(20).tolist(), count=int(bad.sum()), problem="allowed")
    return ranks, missing, s.astype(object).where(~missing, None).to_numpy(dtype=object)


def _join_ids(hits: pd.DataFrame, n: int) -> np.ndarray:
    """Per subject position, the ``;``-joined listing ids of ``hits`` (columns ``pos``, ``listing_id``)."""
    out = np.full(n, "", dtype=object)
    if len(hits):
        h = hits[["pos", "listing_id"]].drop_duplicates().sort_values(["pos", "listing_id"])
        pos = h["pos"].to_numpy(dtype=np.int64)
        ids_ = h["listing_id"].to_numpy(dtype=object)
        multi = pd.Series(pos).duplicated(keep=False).to_numpy()
        out[pos[~multi]] = ids_[~multi]  # most subjects have one hit: no grouping needed
        if multi.any():
            agg = h[multi].groupby("pos")["listing_id"].agg(";".join)
            out[agg.index.to_numpy(dtype=np.int64)] = agg.to_numpy(dtype=object)
    return out


def _text_digest(s: pd.Series) -> bytes | None:
    """SHA-256 of a text column's content via its Arrow buffers (None when it is not all text)."""
    try:
        arr = s.array._pa_array if hasattr(s.array, "_pa_array") else pa.array(s.to_numpy(dtype=object),
                                                                                 type=pa.large_string())
        arr = pa.chunked_array(arr).cast(pa.large_string()).combine_chunks()
    except (pa.ArrowException, TypeError):
        return None
    bufs = arr.buffers()
    h = hashlib.sha256(np.packbits(np.asarray(arr.is_valid(), dtype=bool)).tobytes())
    offsets = np.frombuffer(bufs[1], dtype=np.int64)[arr.offset: arr.offset + len(arr) + 1]
    h.update((offsets - offsets[0]).tobytes())
    if bufs[2] is not None:
        h.update(memoryview(bufs[2])[offsets[0]:offsets[-1]])
    return h.digest()


def _hash_frames(frames: Mapping[str, pd.DataFrame]) -> str:
    """One SHA-256 over the content of named frames (column by column; text columns via Arrow buffers)."""
    h = hashlib.sha256()
    for name in sorted(frames):
        df = frames[name]
        h.update(name.encode() + b"\x00" + str(len(df)).encode() + b"\x00")
        for col in sorted(df.columns, key=str):
            s = df[col].reset_index(drop=True)
            h.update(str(col).encode() + b"\x00" + str(s.dtype).encode() + b"\x00")
            digest = None
            if s.dtype == object or isinstance(s.dtype, pd.StringDtype):
                digest = _text_digest(s)
            if digest is None:
                digest = hashlib.sha256(pd.util.hash_pandas_object(s, index=False).to_numpy().tobytes()).digest()
            h.update(digest)
    return h.hexdigest()


def check_eligibility(subjects: pd.DataFrame, policy: EligibilityPolicy | str | Path, registry: Any, as_of: Any,
                      *, roles: pd.DataFrame | None = None, persons: pd.DataFrame | None = None,
                      enterprises: pd.DataFrame | None = None, as_known_at: Any = None,
                      jurisdiction: str | None = None) -> EligibilityResult:
    """Decide subsidy eligibility for many subjects at once, evaluating every condition.

    Parameters
    ----------
    subjects : DataFrame
        ``subject_id`` (unique text) plus the facts the policy's conditions read: ``id_number`` (resident
        ID number) or ``uscc``; ``grade``; ``has_npl``; ``worst_overdue_days_24m`` (per the window);
        ``credit_household``; ``village_is_credit``. A missing column or value makes the condition
        ``unknown``, never ``met``.
    policy : EligibilityPolicy, str or Path
        A pack, a built-in id (``"agri-subsidy"``, ``"preferential-credit"``) or a path; the version in
        force on ``as_of`` is used.
    registry : Registry or None
        The blacklist registry (``None``: every ``not_listed`` condition is unknown).
    as_of : date-like
        The decision date: listings in force on it count.
    roles, persons, enterprises : DataFrame, optional
        The ``roles``, ``persons`` and ``enterprises`` tables for joint punishment (all three or none).
        Without them a ``joint`` condition is ``unknown`` for subjects not listed directly.
    as_known_at : datetime-like or int, optional
        Read the registry as known at this time or version (default: now).
    jurisdiction : str, optional
        Division code to choose among packs of several jurisdictions.

    Returns
    -------
    EligibilityResult
        ``decisions`` (one row per subject, in input order), ``details`` (long: subject, condition,
        outcome, reason code, legal reference, value) and ``record`` (policy id/version/hash, input hash,
        library version, time, registry version).

    Raises
    ------
    SchemaError
        For a bad subjects frame (missing/duplicate ids, invalid identifiers, wrong types, grades off
        the scale, negative days) or bad link tables.
    PolicyError
        When no policy version covers ``as_of``.
    InputError
        For a bad date, registry or an incomplete set of link tables.
    """
    from ruralcredit import __version__
    from ruralcredit.blacklist.registry import Registry

    day = parse_as_of(as_of)
    pack = _resolve_policy(policy, day, jurisdiction)
    if registry is not None and not isinstance(registry, Registry):
        raise InputError(f"expected a Registry or None, got {type(registry).__name__}", argument="registry")
    given = [x is not None for x in (roles, persons, enterprises)]
    if any(given) and not all(given):
        raise InputError("pass roles, persons and enterprises together (or none)", argument="roles")
    sid = subject_ids(subjects, "subjects")
    n = len(subjects)
    conds = pack.payload.conditions
    outcomes = np.empty((len(conds), n), dtype=np.int8)
    values: list[np.ndarray] = []
    registry_version = None
    links = None
    if all(given):
        links = _joint.validate_links(roles, persons, enterprises)  # type: ignore[arg-type]

    listed = None
    keys: list[np.ndarray] = []
    key_missing = np.ones(n, dtype=bool)
    if any(c.type == "not_listed" for c in conds):
        for column, kind in (("id_number", RESIDENT), ("uscc", USCC)):
            if column in subjects.columns:
                k, _masked = id_column(subjects, column, kind, "subjects", "subject_id")
                keys.append(k.reset_index(drop=True))
                key_missing &= k.isna().to_numpy()
        if registry is not None:
            with registry.store.read() as conn:
                registry_version = registry.store.version(conn)
                listed = registry.in_force(on=day, as_known_at=as_known_at, conn=conn)
            joint_rules = registry.policy(day).payload.joint

    for i, cond in enumerate(conds):
        out = np.full(n, _UNKNOWN, dtype=np.int8)
        val = np.full(n, None, dtype=object)
        if cond.type == "not_listed":
            val[:] = "no registry" if listed is None else None
            val[key_missing] = "no identifier"
            if listed is not None:
                sel = listed
                if cond.categories:
                    mask = np.zeros(len(listed), dtype=bool)
                    for node in cond.categories:
                        cat = listed["category"].astype(str)
                        mask |= (cat.eq(node) | cat.str.startswith(node + ".")).to_numpy(dtype=bool)
                    sel = listed[mask]
                key_all = pd.concat(keys, ignore_index=True) if keys else pd.Series([], dtype="str")
                probe = pd.DataFrame({"pos": np.tile(np.arange(n), len(keys)), "key": key_all})
                probe = probe[probe["key"].notna().to_numpy()]
                # a hash-set test first, then the merge on the (few) subjects that hit
                near = probe[isin(probe["key"], sel["subject_key"])]
                direct = near.merge(sel[["subject_key", "listing_id"]], left_on="key", right_on="subject_key")
                direct_ids = _join_ids(direct, n)
                is_direct = direct_ids != ""
                out[~key_missing] = _MET
                val[is_direct] = direct_ids[is_direct]
                if cond.joint:
                    if links is not None:
                        hits = _joint.derived_hits(sel, links, day, joint_rules)
                        near = probe[isin(probe["key"], hits["hit_key"])]
                        jh = near.merge(hits[["hit_key", "listing_id"]], left_on="key", right_on="hit_key")
                        joint_ids = _join_ids(jh, n)
                        is_joint = (joint_ids != "") & ~is_direct
                        val[is_joint] = np.char.add("joint:", joint_ids[is_joint].astype(str))  # numpy 1.26 has no str + ndarray
                        out[is_joint] = _UNMET
                    else:
                        out[~key_missing] = _UNKNOWN  # links needed to confirm "not jointly listed"
                        val[~key_missing & ~is_direct] = "roles not given"
                out[is_direct] = _UNMET
        elif cond.type == "min_grade":
            if "grade" in subjects.columns:
                scale = cond.grade_scale or _DEFAULT_SCALE
                ranks, missing, raw = _grade_column(subjects, scale, sid)
                out = np.where(missing, _UNKNOWN, np.where(ranks <= scale.index(cond.grade), _MET, _UNMET)).astype(np.int8)
                val = raw
        elif cond.type == "no_overdue_over":
            if cond.column in subjects.columns:
                days, missing = _number_column(subjects, cond.column, sid)
                out = np.where(missing, _UNKNOWN, np.where(days <= cond.days, _MET, _UNMET)).astype(np.int8)
                val = np.where(missing, None, days).astype(object)
        else:  # boolean facts
            if cond.column in subjects.columns:
                flag, missing = _bool_column(subjects, cond.column, sid)
                good = ~flag if cond.type == "no_npl" else flag
                out = np.where(missing, _UNKNOWN, np.where(good, _MET, _UNMET)).astype(np.int8)
                val = np.where(missing, None, flag).astype(object)
        outcomes[i] = out
        values.append(val)

    k = len(conds)
    n_unmet = (outcomes == _UNMET).sum(axis=0)
    n_unknown = (outcomes == _UNKNOWN).sum(axis=0)
    codes = [c.code for c in conds]
    decided_at = format_time(dt.datetime.now(dt.UTC))
    read = {"subject_id", *(c.column for c in conds)}
    if any(c.type == "not_listed" for c in conds):
        read.add("uscc")
    frames = {"subjects": subjects[[c for c in subjects.columns if c in read]]}  # what the policy reads
    if links is not None and any(c.type == "not_listed" and c.joint for c in conds):
        frames.update({name: links[name] for name in ("roles", "persons", "enterprises")})
    input_hash = _hash_frames(frames)
    desc = pack.describe()
    decisions = pd.DataFrame({
        "subject_id": sid.reset_index(drop=True),
        "eligible": (outcomes == _MET).all(axis=0),
        "n_met": (outcomes == _MET).sum(axis=0),
        "n_unmet": n_unmet,
        "n_unknown": n_unknown,
        "unmet_conditions": _code_lists(outcomes == _UNMET, codes),
        "unknown_conditions": _code_lists(outcomes == _UNKNOWN, codes),
        **{name: _constant(value, n) for name, value in (
            ("policy_id", desc["policy_id"]), ("policy_version", desc["policy_version"]),
            ("policy_hash", desc["policy_hash"]), ("input_hash", input_hash), ("library_version", __version__),
            ("decided_at", decided_at))},
        "as_of": np.full(n, day.to_datetime64()),
    })
    details = pd.DataFrame({
        "subject_id": pd.Categorical.from_codes(np.tile(np.arange(n), k), sid.to_numpy(dtype=object)),
        "condition": pd.Categorical.from_codes(np.repeat(np.arange(k, dtype=np.int16), n), codes),
        "outcome": pd.Categorical.from_codes(outcomes.ravel(), list(OUTCOMES)),
        "reason_code": _labels([c.reason_code for c in conds], n),
        "legal_reference": _labels([c.legal_reference for c in conds], n),
        "value": pd.Series(np.concatenate(values) if values else np.empty(0, dtype=object), dtype=object),
    })
    record = {**desc, "input_hash": input_hash, "library_version": __version__, "decided_at": decided_at,
              "as_of": day.date().isoformat(), "registry_version": registry_version,
              "as_known_at": None if as_known_at is None else str(as_known_at),
              "conditions": [[c.code, c.type, c.reason_code, c.legal_reference] for c in conds]}
    return EligibilityResult(decisions, details, record)


def _constant(value: str, n: int) -> pd.Categorical:
    """A column holding one text value, cheaply (a one-category categorical)."""
    return pd.Categorical.from_codes(np.zeros(n, dtype=np.int8), [value])


def _labels(labels: list[str], n: int) -> pd.Categorical:
    uniq, codes = _unique_labels(labels)
    return pd.Categorical.from_codes(np.repeat(codes.astype(np.int16), n), uniq)


def _code_lists(mask: np.ndarray, codes: list[str]) -> pd.Categorical:
    """Per subject, the ``;``-joined codes where ``mask`` (conditions x subjects) is set, via a bitmask lookup."""
    k = len(codes)
    if k > 16:  # pragma: no cover - policies are small; keep the lookup table bounded
        raise PolicyError("an eligibility policy may have at most 16 conditions")
    bits = np.zeros(mask.shape[1], dtype=np.int32)
    for j in range(k):
        bits |= mask[j].astype(np.int32) << j
    used = np.flatnonzero(np.bincount(bits, minlength=1 << k))
    remap = np.full(1 << k, -1, dtype=np.int32)
    remap[used] = np.arange(len(used), dtype=np.int32)
    table = [";".join(c for j, c in enumerate(codes) if b >> j & 1) for b in used]  # distinct masks, distinct texts
    return pd.Categorical.from_codes(remap[bits], table)
