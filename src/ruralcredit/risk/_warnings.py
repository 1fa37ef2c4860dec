"""From a signal frame and a rule to warnings: severities, texts, evidence, ids (private)."""

from __future__ import annotations

import hashlib
import string
from typing import Any

import numpy as np
import pandas as pd

from ruralcredit.risk.rules import OPS, SEVERITY_TEXT, Rule, WarningRules

#: Columns of a warnings frame, in order.
WARNING_COLUMNS = (
    "warning_id", "as_of", "subject_id", "subject_type", "rule_id", "signal", "kind", "category", "severity",
    "value", "threshold", "text_zh", "text_en", "evidence", "policy_id", "policy_version", "policy_hash",
)
_SEVERITY_RANK = {s: i for i, s in enumerate(SEVERITY_TEXT)}


def empty_warnings() -> pd.DataFrame:
    """A warnings frame without rows."""
    out = pd.DataFrame({c: pd.Series([], dtype=object) for c in WARNING_COLUMNS})
    out["as_of"] = pd.Series([], dtype="datetime64[ns]")
    out["value"] = pd.Series([], dtype=np.float64)
    out["threshold"] = pd.Series([], dtype=np.float64)
    return out


class _Quiet(string.Formatter):
    """Missing or unformattable values print as a dash instead of failing the whole scan."""

    def format_field(self, value: Any, format_spec: str) -> Any:
        if value is None or (isinstance(value, float) and np.isnan(value)):
            return "—"
        try:
            return super().format_field(value, format_spec)
        except (ValueError, TypeError):
            return str(value)


_FORMATTER = _Quiet()


def _passes(values: np.ndarray, op: str, threshold: float) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        if op == "ge":
            return values >= threshold
        if op == "gt":
            return values > threshold
        if op == "le":
            return values <= threshold
        return values < threshold


def _plain_number(x: float) -> int | float:
    return int(x) if float(x).is_integer() else float(x)


def _json_column(s: pd.Series) -> pd.Series:
    """A column ready for JSON: NaN as None, numpy scalars as Python ones."""
    if pd.api.types.is_float_dtype(s.dtype):
        return s.astype(object).where(s.notna(), None)
    if s.dtype == object or pd.api.types.is_string_dtype(s.dtype):
        # Series.map turns a returned None back into NaN, which JSON refuses: mask instead. List
        # values (ids behind a warning) count as present.
        present = s.map(lambda v: not (v is None or (isinstance(v, float) and np.isnan(v))))
        return s.astype(object).where(present.astype(bool), None)
    return s


def warning_ids(rule_id: str, subject_type: np.ndarray, subject_id: np.ndarray, as_of: pd.Timestamp,
                key: np.ndarray) -> list[str]:
    """Deterministic warning ids: a digest of rule, subject, ``as_of`` and the key facts."""
    day = as_of.date().isoformat()
    return ["W-" + hashlib.sha256(f"{rule_id}|{t}|{s}|{day}|{k}".encode()).hexdigest()[:24]
            for t, s, k in zip(subject_type, subject_id, key, strict=True)]


def evaluate(rule: Rule, frame: pd.DataFrame, pack: WarningRules, as_of: pd.Timestamp) -> pd.DataFrame:
    """The warnings one rule raises on a signal frame.

    A row fires when its measure passes the rule's lowest threshold; its severity is the highest one
    whose threshold it passes. Evidence holds every column of the signal frame (the facts), the
    measure and value, the comparison, the threshold reached, all levels and the scalar parameters.
    """
    if frame.empty:
        return empty_warnings()
    values = pd.to_numeric(frame[rule.measure], errors="coerce").to_numpy(dtype=np.float64)
    levels = rule.thresholds()
    rank = np.full(len(frame), -1)
    for k, (_, t) in enumerate(levels):  # at most four levels
        rank = np.where(_passes(values, rule.op, t), k, rank)
    fired = rank >= 0
    if not fired.any():
        return empty_warnings()
    f = frame.loc[fired].reset_index(drop=True)
    rank = rank[fired]
    sev = np.array([s for s, _ in levels], dtype=object)[rank]
    thr = np.array([t for _, t in levels])[rank]
    ev_cols = [c for c in f.columns if c not in ("subject_id", "subject_type", "key")]
    facts = pd.DataFrame({c: _json_column(f[c]) for c in ev_cols}).to_dict("records")
    common = {"measure": rule.measure, "op": OPS[rule.op],
              "levels": {s: _plain_number(t) for s, t in levels},
              "params": {k: v for k, v in rule.effective_params.items() if isinstance(v, (int, float, str, bool))}}
    measured = f[rule.measure].tolist()
    evidence, zh, en = [], [], []
    for rec, s, t, mv in zip(facts, sev, thr, measured, strict=True):  # one pass over the warnings raised
        t_plain = _plain_number(t)
        evidence.append({**rec, **common, "threshold": t_plain, "severity": s})
        # ``{value}`` in a text is the signal's value; a rule on another measure quotes it by its name
        shown = rec["value"] if rule.measure != "value" and "value" in rec else mv
        fields = {**rec, "value": shown, "threshold": t_plain, "severity": s, "severity_zh": SEVERITY_TEXT[s][0]}
        zh.append(_FORMATTER.vformat(rule.text_zh, (), fields))
        en.append(_FORMATTER.vformat(rule.text_en, (), fields))
    sid = f["subject_id"].to_numpy(dtype=object)
    stype = f["subject_type"].to_numpy(dtype=object)
    out = pd.DataFrame({
        "warning_id": warning_ids(rule.id, stype, sid, as_of, f["key"].astype(str).to_numpy(dtype=object)),
        "as_of": pd.Series(as_of, index=f.index, dtype="datetime64[ns]"),
        "subject_id": sid, "subject_type": stype, "rule_id": rule.id, "signal": rule.signal,
        "kind": rule.spec.kind, "category": rule.category, "severity": sev, "value": values[fired],
        "threshold": thr, "text_zh": zh, "text_en": en, "evidence": evidence,
        "policy_id": pack.id, "policy_version": pack.version, "policy_hash": pack.policy_hash})
    return out


def assemble(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """Concatenate warnings in a fixed order: rule, subject type, subject."""
    parts = [p for p in parts if len(p)]
    if not parts:
        return empty_warnings()
    out = pd.concat(parts, ignore_index=True)
    out = out.sort_values(["rule_id", "subject_type", "subject_id", "warning_id"], kind="mergesort")
    return out.reset_index(drop=True)[list(WARNING_COLUMNS)]


def severity_rank(severity: pd.Series) -> np.ndarray:
    """0 (blue) .. 3 (red) per warning."""
    return severity.map(_SEVERITY_RANK).to_numpy(dtype=np.int64)
