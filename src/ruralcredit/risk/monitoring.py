"""Drift monitoring (监测): PSI of scores and CSI of features between two periods, as warnings.

:func:`drift_warnings` compares a reference period (development or last quarter) with the current
one using :func:`ruralcredit.models.metrics.psi` / :func:`~ruralcredit.models.metrics.csi` (bins
frozen on the reference, missing values in a bin of their own) and raises a warning per model and
per feature whose index passes the thresholds of the pack's drift rules (``score_psi``,
``feature_csi``; the built-in ``early-warning`` pack uses the usual 0.1 = moderate shift, yellow and
0.25 = major shift, red). The warnings have ``kind == "drift"``, the model (``subject_type ==
"model"``) or the feature (``"feature"``, ``subject_id == "<model>:<feature>"``) as subject, and
the same columns as :func:`~ruralcredit.risk.scan`'s.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ruralcredit.errors import InputError
from ruralcredit.models import metrics
from ruralcredit.risk._warnings import assemble, evaluate
from ruralcredit.risk.rules import Rule, WarningRules, load_rules
from ruralcredit.schema import parse_as_of

__all__ = ["drift_warnings"]


def _bounds(rule: Rule) -> tuple[float, float]:
    t = [v for _, v in rule.thresholds()]
    return min(t), max(t)


def _score_frame(rule: Rule, reference: pd.DataFrame, current: pd.DataFrame, model: str, score: str) -> pd.DataFrame:
    bins = int(rule.effective_params["bins"])
    table = metrics.psi_table(reference[score], current[score], bins)
    value = float(table["psi"].sum())
    moderate, major = _bounds(rule)
    return pd.DataFrame({
        "subject_id": [model], "subject_type": ["model"], "key": [score], "value": [value],
        "model": [model], "score_column": [score],
        "stability": [metrics.stability_label(value, moderate=moderate, major=major)],
        "n_reference": [int(reference[score].notna().sum())], "n_current": [int(current[score].notna().sum())],
        "n_bins": [len(table)]})


def _feature_frame(rule: Rule, reference: pd.DataFrame, current: pd.DataFrame, model: str,
                   features: Sequence[str]) -> pd.DataFrame:
    moderate, major = _bounds(rule)
    table = metrics.csi(reference, current, list(features), bins=int(rule.effective_params["bins"]),
                        moderate=moderate, major=major)
    return pd.DataFrame({
        "subject_id": (model + ":" + table["feature"].astype(str)).to_numpy(dtype=object),
        "subject_type": "feature", "key": table["feature"].astype(str).to_numpy(dtype=object),
        "value": table["psi"].to_numpy(dtype=np.float64), "model": model,
        "feature": table["feature"].astype(str).to_numpy(dtype=object),
        "feature_kind": table["kind"].to_numpy(dtype=object), "stability": table["stability"].to_numpy(dtype=object),
        "n_bins": table["n_bins"].to_numpy(dtype=np.int64),
        "ref_missing_share": np.round(table["ref_missing_share"].to_numpy(dtype=np.float64), 6),
        "cur_missing_share": np.round(table["cur_missing_share"].to_numpy(dtype=np.float64), 6)})


def drift_warnings(reference: pd.DataFrame, current: pd.DataFrame, rules: str | Path | WarningRules = "early-warning",
                   as_of: Any = None, *, model: str = "model", score: str | None = "score",
                   features: Sequence[str] | None = None, select: Sequence[str] | str | None = None) -> pd.DataFrame:
    """Warnings for score and feature drift between a reference and a current period.

    Parameters
    ----------
    reference, current : DataFrame
        Scores and/or features of the two periods (one row per subject).
    rules : str, Path or WarningRules, default "early-warning"
        The rules pack; its drift rules (signals ``score_psi`` and ``feature_csi``) run.
    as_of : date-like
        The date of the current period (the warnings' ``as_of``; chooses the pack version).
    model : str, default "model"
        The model's id (the subject of score warnings, the prefix of feature subjects).
    score : str or None, default "score"
        The score column (``None``: no score PSI).
    features : sequence of str, optional
        Feature columns for CSI; default every column both frames share except ``score`` and
        ``subject_id``.
    select : rule id or ids, optional
        Only these drift rules.

    Returns
    -------
    DataFrame
        A warnings frame (see :func:`~ruralcredit.risk.scan`), ``kind == "drift"``; the evidence
        holds the index, the stability label, the counts and bins.

    Raises
    ------
    InputError
        Not DataFrames, a missing score or feature column, a selected rule that is not a drift rule,
        or a bad ``as_of``.
    """
    day = parse_as_of(as_of)
    for name, frame in (("reference", reference), ("current", current)):
        if not isinstance(frame, pd.DataFrame):
            raise InputError(f"expected a DataFrame, got {type(frame).__name__}", argument=name)
    if not isinstance(model, str) or not model:
        raise InputError("must be non-empty text", argument="model", value=model)
    pack = load_rules(rules, day)
    chosen = pack.select(select)
    wrong = [r.id for r in chosen if r.spec.kind != "drift"]
    if select is not None and wrong:
        raise InputError(f"rules {wrong} are not drift rules: run them with scan", argument="select")
    chosen = [r for r in chosen if r.spec.kind == "drift"]
    if features is None:
        features = [c for c in reference.columns if c in current.columns and c not in (score, "subject_id")]
    parts = []
    for r in chosen:  # a loop over rules
        if r.signal == "score_psi":
            if score is None:
                continue
            for name, frame in (("reference", reference), ("current", current)):
                if score not in frame.columns:
                    raise InputError(f"no score column {score!r}", argument=name, value=score)
            frame = _score_frame(r, reference, current, model, score)
        else:
            if not features:
                continue
            frame = _feature_frame(r, reference, current, model, features)
        parts.append(evaluate(r, frame, pack, day))
    out = assemble(parts)
    from ruralcredit import __version__

    out.attrs["record"] = {**pack.describe(), "as_of": day.date().isoformat(), "model": model,
                           "library_version": __version__,
                           "time": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                           "rules_run": [r.id for r in chosen], "n_warnings": len(out)}
    return out
