"""``scan``: run the warning rules of a pack over the tables as known on ``as_of``.

The result is a plain DataFrame (the *warnings frame*), one row per subject and rule that fired:

=================  ======================================================================================
``warning_id``     deterministic: digest of rule, subject, ``as_of`` and the key facts (e.g. the loan)
``as_of``          the date the warning is as of
``subject_id``     the subject (household, organisation, person, loan officer, ...)
``subject_type``   ``household``, ``cooperative``, ``person``, ``officer``, ``model``, ``feature``, ...
``rule_id``        the rule; ``signal`` the signal it reads; ``kind`` rule / graph / anomaly / drift
``category``       the risk pattern (``illegal_fundraising``, ``impersonated_loan``, ...)
``severity``       blue < yellow < orange < red
``value``          the measure; ``threshold`` the threshold of the severity reached
``text_zh/en``     the warning in Chinese and English
``evidence``       a JSON-ready dict: the facts and values that fired it, with the levels and parameters
``policy_*``       id, version and hash of the rules pack
=================  ======================================================================================

Rows are sorted by rule, subject type and subject, and do not depend on the order of the input
rows. ``frame.attrs["record"]`` holds the decision record: policy, ``as_of``, a hash of the inputs,
the library version, the time, the rules run and the rules skipped (with why).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ruralcredit.errors import InputError
from ruralcredit.risk._context import Context, text
from ruralcredit.risk._frames import empty
from ruralcredit.risk._warnings import assemble, evaluate
from ruralcredit.risk.rules import Rule, WarningRules, load_rules
from ruralcredit.schema import parse_as_of, validate_all

__all__ = ["scan", "tables_hash"]


def tables_hash(tables: Mapping[str, pd.DataFrame], names: Sequence[str] | None = None) -> str:
    """SHA-256 of the tables' contents, independent of row order (sorted row hashes).

    Parameters
    ----------
    tables : mapping of str to DataFrame
    names : sequence of str, optional
        Only these tables (default: all).
    """
    h = hashlib.sha256()
    for name in sorted(names if names is not None else tables):
        if name not in tables:
            continue
        df = tables[name]
        cols = sorted(df.columns)
        rows = np.sort(pd.util.hash_pandas_object(df[cols], index=False).to_numpy())
        h.update(f"{name}|{','.join(cols)}|{len(df)}|".encode())
        h.update(rows.tobytes())
    return h.hexdigest()


def _blacklisted_ids(blacklisted: Any, tables: Mapping[str, pd.DataFrame], as_of: pd.Timestamp) -> np.ndarray:
    """Subject ids listed on ``as_of`` from a Series/list of ids or a frame with ``subject_id`` (or
    ``subject_key``: resident ID numbers / USCCs) and optional ``listed_date`` / ``delisted_date``."""
    if isinstance(blacklisted, (pd.Series, list, tuple, np.ndarray, pd.Index)):
        frame = pd.DataFrame({"subject_id": np.asarray(blacklisted, dtype=object)})
    elif isinstance(blacklisted, pd.DataFrame):
        frame = blacklisted
    else:
        raise InputError(f"expected subject ids or a DataFrame, got {type(blacklisted).__name__}",
                         argument="blacklisted")
    if "subject_id" not in frame.columns and "subject_key" not in frame.columns:
        raise InputError("needs a 'subject_id' (or 'subject_key') column", argument="blacklisted")
    ok = np.ones(len(frame), dtype=bool)
    for col, started in (("listed_date", True), ("delisted_date", False)):
        if col in frame.columns:
            try:
                d = pd.to_datetime(frame[col], format="ISO8601")
            except (TypeError, ValueError) as exc:
                raise InputError(f"column {col!r} must hold dates", argument="blacklisted") from exc
            nat = d.isna().to_numpy()
            ok &= nat | ((d <= as_of).to_numpy() if started else (d > as_of).to_numpy())
    if "subject_id" in frame.columns:
        ids = text(frame["subject_id"])[ok]
        if pd.isna(ids).any():
            raise InputError("rows without subject_id", argument="blacklisted")
        return pd.unique(ids)
    keys = pd.Series(text(frame["subject_key"])[ok], dtype=object).str.upper()
    found = []
    for table, key_col, id_col in (("households", "head_id_number", "subject_id"), ("persons", "id_number", "person_id"),
                                   ("enterprises", "uscc", "subject_id"),
                                   ("enterprises", "operator_id_number", "subject_id")):
        if table in tables:
            t = tables[table]
            hit = t[key_col].isin(keys.to_numpy()).to_numpy(dtype=bool, na_value=False)
            found.append(text(t[id_col])[hit])
    return pd.unique(np.concatenate(found)) if found else np.array([], dtype=object)


def _needs(rule: Rule) -> tuple[str, ...]:
    return rule.spec.tables


def scan(tables: Any, rules: str | Path | WarningRules = "early-warning", as_of: Any = None, *,
         blacklisted: Any = None, select: Sequence[str] | str | None = None, detector: Any = None,
         features: pd.DataFrame | None = None, input_hash: bool = True) -> pd.DataFrame:
    """Run warning rules over the tables as known on ``as_of`` (预警扫描).

    Parameters
    ----------
    tables : mapping of str to DataFrame, or an object with a ``tables`` mapping (a synthetic County)
        Any of the schema tables; each rule needs the tables its signal reads (see ``docs/risk.md``).
        They are validated first.
    rules : str, Path or WarningRules, default "early-warning"
        The rules pack: a built-in id, a YAML path, or a loaded pack; the version in force on
        ``as_of`` is used.
    as_of : date-like
        Only facts dated on or before this day are used.
    blacklisted : ids or DataFrame, optional
        Listed parties for the ``blacklist_link`` rules: subject ids, or a frame with ``subject_id``
        (or ``subject_key``: resident ID numbers / USCCs, matched to the tables) and optional
        ``listed_date`` / ``delisted_date`` (only those listed on ``as_of`` count).
    select : rule id or sequence of rule ids, optional
        Run only these rules (default: every enabled rule of kind rule, graph and anomaly).
    detector : AnomalyDetector, optional
        A fitted detector for the ``anomaly_score`` rules.
    features : DataFrame, optional
        Features for the detector (``subject_id`` plus its columns); default: the household features
        built by :func:`ruralcredit.features.build_features` on ``as_of``.
    input_hash : bool, default True
        Record a hash of the tables the rules read in ``attrs["record"]`` (costs a few seconds on a
        million households).

    Returns
    -------
    pandas.DataFrame
        The warnings frame (see the module docstring).

    Raises
    ------
    InputError
        A bad ``as_of`` or ``blacklisted``; a selected rule whose tables (or detector, or blacklist) are
        not given; a drift rule selected (those run in :func:`~ruralcredit.risk.drift_warnings`).
    SchemaError
        A table that breaks its contract.
    PolicyError
        No rules pack in force on ``as_of``.
    """
    day = parse_as_of(as_of)
    pack = load_rules(rules, day)
    explicit = select is not None
    chosen = pack.select(select)
    drift = [r.id for r in chosen if r.spec.kind == "drift"]
    if explicit and drift:
        raise InputError(f"drift rules {drift} compare two periods: run them with drift_warnings", argument="select")
    chosen = [r for r in chosen if r.spec.kind != "drift"]
    if not isinstance(tables, Mapping) and hasattr(tables, "tables"):
        tables = tables.tables
    if not isinstance(tables, Mapping):
        raise InputError(f"expected a mapping of table name to DataFrame, got {type(tables).__name__}",
                         argument="tables")
    valid = validate_all(tables)
    ctx = Context(valid, day)
    skipped: dict[str, str] = {}
    run: list[Rule] = []
    for r in chosen:  # a loop over rules
        missing = [t for t in _needs(r) if t not in valid]
        reason = None
        if missing:
            reason = f"needs table(s) {missing}"
        elif r.signal == "blacklist_link" and blacklisted is None:
            reason = "needs blacklisted="
        elif r.spec.kind == "anomaly" and detector is None:
            reason = "needs detector="
        if reason is None:
            run.append(r)
        elif explicit:
            raise InputError(f"rule {r.id!r} {reason}", argument="select", value=r.id)
        else:
            skipped[r.id] = reason
    if blacklisted is not None:
        ctx.cache[("external", "blacklisted")] = _blacklisted_ids(blacklisted, valid, day)
    if detector is not None and any(r.spec.kind == "anomaly" for r in run):
        if features is None:
            from ruralcredit.features import build_features

            features = build_features(valid, "household", day)
        ctx.cache[("external", "anomaly_score")] = detector.signal_frame(features)
    parts = []
    frames: dict[tuple[str, str], pd.DataFrame] = {}
    for r in run:  # a loop over rules; each signal is vectorised and computed once per parameter set
        key = (r.signal, repr(sorted(r.effective_params.items())))
        if key not in frames:
            assert r.spec.func is not None
            frame = r.spec.func(ctx, r.effective_params)
            frames[key] = frame if frame is not None else empty(r.spec.measures)
        parts.append(evaluate(r, frames[key], pack, day))
    out = assemble(parts)
    from ruralcredit import __version__

    needed = sorted({t for r in run for t in _needs(r)} | ({"households", "persons", "enterprises"} & set(valid)))
    out.attrs["record"] = {
        **pack.describe(), "as_of": day.date().isoformat(),
        "input_hash": tables_hash(valid, needed) if input_hash else None,
        "library_version": __version__,
        "time": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "rules_run": [r.id for r in run], "rules_skipped": skipped, "n_warnings": len(out)}
    return out
