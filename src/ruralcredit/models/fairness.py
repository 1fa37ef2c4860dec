"""Fairness audit across protected groups and places (DESIGN.md section 8).

Kunming is multi-ethnic: a credit model must be shown not to disadvantage any ethnic group (or gender,
or village). :func:`fairness_report` compares, per grouping variable (ethnicity, gender, village,
township, ...):

- the approval rate of each group and its ratio to the best-served group (the "four-fifths" rule of
  thumb flags ratios below 0.8), with a stratified bootstrap confidence interval;
- the model's discrimination (AUC) within each group, with a bootstrap interval, when outcomes exist;
- calibration within each group: mean predicted PD against the observed default rate;
- an explicit warning where a group is too small to judge (fewer than ``min_group_size`` subjects or
  too few events for an AUC).

Protected attributes are only *read* here, never fed to a model.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import rankdata

from ruralcredit.errors import InputError

__all__ = ["FairnessReport", "fairness_report"]


@dataclass(frozen=True)
class FairnessReport:
    """The result of :func:`fairness_report`.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per (variable, group): ``variable, group, n, approvals, approval_rate,
        approval_ratio, ratio_ci_low, ratio_ci_high, events, observed_rate, mean_pd, auc,
        auc_ci_low, auc_ci_high, small_group, adverse_impact``.
    warnings : list of str
        Human-readable findings: adverse impact (ratio below the threshold with the whole
        confidence interval below 1), groups too small to judge.
    params : dict
        The settings used (threshold ratio, bootstrap draws, seed, minimum group size).
    """

    table: pd.DataFrame
    warnings: list[str] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)

    def flagged(self) -> pd.DataFrame:
        """The rows with adverse impact."""
        return self.table[self.table["adverse_impact"]]

    def to_markdown(self) -> str:
        """The report as a Markdown section."""
        cols = ["variable", "group", "n", "approval_rate", "approval_ratio", "ratio_ci_low", "ratio_ci_high",
                "observed_rate", "mean_pd", "auc", "small_group", "adverse_impact"]
        t = self.table[cols].copy()
        lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
        for row in t.itertuples(index=False):
            cells = [f"{v:.3f}" if isinstance(v, float) else str(v) for v in row]
            lines.append("| " + " | ".join(cells) + " |")
        out = "\n".join(lines)
        if self.warnings:
            out += "\n\n" + "\n".join(f"- {w}" for w in self.warnings)
        return out


def _auc_matrix(y: np.ndarray, s: np.ndarray) -> np.ndarray:
    """AUC of each row of ``s`` (draws x n) against the matching row of ``y``; NaN without both classes."""
    ranks = rankdata(s, axis=1)
    pos = y.sum(axis=1)
    neg = y.shape[1] - pos
    rank_sum = (ranks * y).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        auc = (rank_sum - pos * (pos + 1) / 2.0) / (pos * neg)
    auc[(pos == 0) | (neg == 0)] = np.nan
    return auc


def _as_array(name: str, values: Any, n: int | None) -> np.ndarray:
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise InputError("must be one-dimensional", argument=name)
    if n is not None and len(arr) != n:
        raise InputError(f"has {len(arr)} values, expected {n}", argument=name)
    return arr


def fairness_report(
    approved: Any,
    groups: pd.DataFrame | Mapping[str, Any],
    *,
    y: Any = None,
    pd_pred: Any = None,
    score: Any = None,
    min_group_size: int = 30,
    min_events: int = 5,
    ratio_threshold: float = 0.8,
    n_boot: int = 200,
    ci: float = 0.95,
    seed: int = 0,
) -> FairnessReport:
    """Audit approvals, discrimination and calibration across groups.

    Parameters
    ----------
    approved : array-like of bool
        Whether each subject was approved (e.g. ``grade`` is a credit grade, or eligible).
    groups : DataFrame or mapping of name to array-like
        One column per grouping variable (``ethnicity``, ``gender``, ``village_code``, ...), aligned
        with ``approved``. Missing group values form their own group ``"(missing)"``.
    y : array-like of {0, 1}, optional
        Observed defaults, for AUC and calibration.
    pd_pred : array-like of float, optional
        Predicted probabilities of default, for calibration (and AUC when ``score`` is absent).
    score : array-like of float, optional
        Scores, higher = safer, for the AUC (defaults to ``-pd_pred``).
    min_group_size : int
        Groups smaller than this are reported with ``small_group=True`` and a warning, and are never
        flagged for adverse impact.
    min_events : int
        An AUC needs at least this many events and non-events in the group.
    ratio_threshold : float
        Approval-rate ratio below which a group is flagged (0.8: the four-fifths rule of thumb),
        when the whole bootstrap interval lies below 1.
    n_boot : int
        Bootstrap draws (stratified by group).
    ci : float
        Confidence level of the intervals.
    seed : int
        Random seed: the report is deterministic.

    Returns
    -------
    FairnessReport

    Raises
    ------
    InputError
        Misaligned lengths, non-binary ``y`` or ``approved``, an empty input, bad settings.
    """
    appr = _as_array("approved", approved, None)
    n = len(appr)
    if n == 0:
        raise InputError("no subjects to audit", argument="approved")
    if appr.dtype != bool:
        if not np.isin(pd.unique(appr), [0, 1, True, False]).all():
            raise InputError("must be booleans (approved or not)", argument="approved")
        appr = appr.astype(bool)
    if not 0 < ci < 1:
        raise InputError("must lie strictly between 0 and 1", argument="ci", value=ci)
    if n_boot < 10:
        raise InputError("at least 10 bootstrap draws are needed", argument="n_boot", value=n_boot)
    gframe = pd.DataFrame(groups) if not isinstance(groups, pd.DataFrame) else groups
    if len(gframe) != n:
        raise InputError(f"has {len(gframe)} rows, expected {n}", argument="groups")
    if gframe.shape[1] == 0:
        raise InputError("give at least one grouping variable", argument="groups")
    yv = None
    if y is not None:
        yv = _as_array("y", y, n)
        if not np.isin(pd.unique(yv), [0, 1, True, False]).all():
            raise InputError("outcomes must be 0/1", argument="y")
        yv = yv.astype(np.int8)
    pdv = None if pd_pred is None else _as_array("pd_pred", pd_pred, n).astype(float)
    if pdv is not None and (np.isnan(pdv).any() or (pdv < 0).any() or (pdv > 1).any()):
        raise InputError("probabilities must lie in [0, 1] without missing values", argument="pd_pred")
    sv = None
    if score is not None:
        sv = _as_array("score", score, n).astype(float)
    elif pdv is not None:
        sv = -pdv
    if sv is not None and np.isnan(sv).any():
        raise InputError("scores must not be missing", argument="score")

    rng = np.random.default_rng(seed)
    alpha = (1 - ci) / 2
    rows: list[dict[str, Any]] = []
    warnings: list[str] = []
    for var in gframe.columns:
        labels = gframe[var].astype(object).where(gframe[var].notna(), "(missing)").astype(str).to_numpy()
        uniq, inv = np.unique(labels, return_inverse=True)
        counts = np.bincount(inv, minlength=len(uniq))
        approvals = np.bincount(inv, weights=appr, minlength=len(uniq))
        rates = approvals / counts
        judged = counts >= min_group_size
        # The reference group: the best-served among those large enough to judge.
        ref_pool = np.where(judged, rates, -np.inf)
        ref = int(np.argmax(ref_pool)) if judged.any() else int(np.argmax(rates))
        # Stratified bootstrap of group approval rates: binomial draws are equivalent to resampling
        # the rows of each group with replacement.
        boot_rates = rng.binomial(counts[None, :], rates[None, :], size=(n_boot, len(uniq))) / counts[None, :]
        with np.errstate(divide="ignore", invalid="ignore"):
            ratios = rates / rates[ref] if rates[ref] > 0 else np.full(len(uniq), np.nan)
            boot_ratio = boot_rates / boot_rates[:, [ref]]
        lo = np.nanquantile(np.where(np.isfinite(boot_ratio), boot_ratio, np.nan), alpha, axis=0)
        hi = np.nanquantile(np.where(np.isfinite(boot_ratio), boot_ratio, np.nan), 1 - alpha, axis=0)
        for g in range(len(uniq)):
            members = np.flatnonzero(inv == g)
            row: dict[str, Any] = {
                "variable": str(var), "group": uniq[g], "n": int(counts[g]), "approvals": int(approvals[g]),
                "approval_rate": float(rates[g]), "approval_ratio": float(ratios[g]),
                "ratio_ci_low": float(lo[g]), "ratio_ci_high": float(hi[g]),
                "events": np.nan, "observed_rate": np.nan, "mean_pd": np.nan,
                "auc": np.nan, "auc_ci_low": np.nan, "auc_ci_high": np.nan,
                "small_group": bool(not judged[g]), "reference": g == ref,
            }
            if yv is not None:
                yg = yv[members]
                row["events"] = int(yg.sum())
                row["observed_rate"] = float(yg.mean())
                if pdv is not None:
                    row["mean_pd"] = float(pdv[members].mean())
                if sv is not None and yg.sum() >= min_events and len(yg) - yg.sum() >= min_events:
                    sg = sv[members]
                    # Higher score = safer, so the AUC of predicting default uses -score.
                    row["auc"] = float(_auc_matrix(yg[None, :], -sg[None, :])[0])
                    idx = rng.integers(0, len(members), size=(n_boot, len(members)))
                    boot_auc = _auc_matrix(yg[idx], -sg[idx])
                    row["auc_ci_low"] = float(np.nanquantile(boot_auc, alpha))
                    row["auc_ci_high"] = float(np.nanquantile(boot_auc, 1 - alpha))
                elif sv is not None:
                    warnings.append(f"{var}={uniq[g]}: too few events or non-events (need {min_events} each) "
                                    "to judge the AUC")
            adverse = bool(judged[g] and g != ref and ratios[g] < ratio_threshold and hi[g] < 1.0)
            row["adverse_impact"] = adverse
            if not judged[g]:
                warnings.append(f"{var}={uniq[g]}: only {counts[g]} subjects (< {min_group_size}); too small "
                                "to judge")
            elif adverse:
                warnings.append(f"{var}={uniq[g]}: approval rate {rates[g]:.1%} is {ratios[g]:.2f} of the "
                                f"best-served group {uniq[ref]} ({rates[ref]:.1%}); interval "
                                f"[{lo[g]:.2f}, {hi[g]:.2f}] below 1: adverse impact")
            rows.append(row)
    table = pd.DataFrame(rows)
    params = {"ratio_threshold": ratio_threshold, "n_boot": n_boot, "ci": ci, "seed": seed,
              "min_group_size": min_group_size, "min_events": min_events}
    return FairnessReport(table=table, warnings=warnings, params=params)
