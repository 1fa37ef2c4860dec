"""Precision and recall of warning rules against labelled risk patterns (entity-level matching).

The synthetic county (:func:`ruralcredit.synth.make_county`) labels every entity of every injected
pattern in ``truth["patterns"]`` (``pattern, entity_kind, entity_id, group_id, role``). A rule is
scored against the pattern it is meant to find (:data:`RULE_PATTERNS`):

- a warning is a *true positive* when its subject is labelled in that pattern as any subject-like
  entity (household, enterprise, person or officer): the borrowers, the real user behind nominee
  loans, circle members, the fundraiser, its controller and depositors, ...;
- *recall* is the share of the pattern's *target* entities that got at least one warning; the
  targets are the labelled entities of the kinds the rule's subjects are (households and
  enterprises for subject rules, officers for officer rules), so a rule about borrowers is not
  blamed for missing transactions or loans.

Each subject counts once per rule however many warnings it has. Rules without a labelled pattern
(arrears, many lenders, exposure, blacklist links, anomaly) get their warning counts only.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from ruralcredit.errors import InputError

__all__ = ["RULE_PATTERNS", "precision_recall"]

_SUBJECT_KINDS = ("household", "enterprise", "person", "officer")

#: Rule id -> (labelled pattern, entity kinds of its subjects[, roles of the targets]).
RULE_PATTERNS: dict[str, tuple] = {
    "guarantee_circle": ("guarantee_circle", ("household", "enterprise")),
    "shared_contact_borrowers": ("impersonated_loan", ("household",)),
    "guarantor_receives_funds": ("impersonated_loan", ("household",)),
    "centralised_repayment": ("impersonated_loan", ("household",), ("real_user",)),
    "simultaneous_overdue": ("impersonated_loan", ("household",)),
    "officer_concentration": ("impersonated_loan", ("officer",)),
    "officer_guarantor_concentration": ("impersonated_loan", ("officer",)),
    "loan_misuse": ("diverted_funds", ("household",)),
    "officer_misdirected_funds": ("diverted_funds", ("officer",)),
    "relending": ("relending", ("household",)),
    "fundraising_flagged_words": ("illegal_fundraising", ("enterprise",)),
    "fundraising_depositors": ("illegal_fundraising", ("enterprise",)),
    "fundraising_amount": ("illegal_fundraising", ("enterprise",)),
    "cooperative_non_member_funds": ("illegal_fundraising", ("enterprise",)),
    "promised_high_yield": ("illegal_fundraising", ("enterprise",)),
    "malicious_evasion_candidate": ("malicious_evader", ("household",)),
    "evasion_asset_transfer": ("malicious_evader", ("household",)),
}


def _targets(subj: pd.DataFrame, spec: tuple) -> set[str]:
    pattern, kinds = spec[0], spec[1]
    sel = (subj["pattern"] == pattern) & subj["entity_kind"].isin(kinds)
    if len(spec) > 2 and spec[2]:
        sel &= subj["role"].isin(spec[2])
    return set(subj.loc[sel, "entity_id"].astype(str))


def _score(flagged: np.ndarray, positives: set[str], targets: set[str]) -> dict[str, float | int]:
    flagged_set = set(flagged.tolist())
    tp = len(flagged_set & positives)
    found = len(flagged_set & targets)
    return {"flagged": len(flagged_set), "true_positives": tp,
            "precision": tp / len(flagged_set) if flagged_set else float("nan"),
            "targets": len(targets), "found": found,
            "recall": found / len(targets) if targets else float("nan")}


def precision_recall(warnings: pd.DataFrame, patterns: pd.DataFrame,
                     rule_patterns: Mapping[str, tuple] | None = None) -> pd.DataFrame:
    """Precision and recall per rule and per pattern (all its rules together).

    Parameters
    ----------
    warnings : DataFrame
        A warnings frame (:func:`~ruralcredit.risk.scan`).
    patterns : DataFrame
        Labels with ``pattern, entity_kind, entity_id`` (``County.truth["patterns"]``).
    rule_patterns : mapping, optional
        Rule id -> (pattern, target entity kinds) or (pattern, kinds, target roles); default
        :data:`RULE_PATTERNS`. Roles narrow the targets (a payer of others' loans is the real user, not
        the nominee borrowers).

    Returns
    -------
    DataFrame
        ``level`` (``rule`` or ``pattern``), ``rule_id`` (``"(all)"`` on pattern rows), ``pattern``,
        ``flagged`` (distinct subjects warned), ``true_positives``, ``precision``, ``targets``,
        ``found``, ``recall``; rules without a pattern have ``pattern`` missing and NaN scores.
    """
    for name, frame, cols in (("warnings", warnings, ("rule_id", "subject_id")),
                              ("patterns", patterns, ("pattern", "entity_kind", "entity_id"))):
        if not isinstance(frame, pd.DataFrame) or any(c not in frame.columns for c in cols):
            raise InputError(f"expected a DataFrame with columns {list(cols)}", argument=name)
    mapping = dict(RULE_PATTERNS if rule_patterns is None else rule_patterns)
    subj = patterns.loc[patterns["entity_kind"].isin(_SUBJECT_KINDS)]
    positives = {p: set(g["entity_id"].astype(str)) for p, g in subj.groupby("pattern")}
    rows = []
    rules = sorted(set(warnings["rule_id"].astype(str)) | set(mapping))
    for rule in rules:  # a loop over rules
        flagged = warnings.loc[warnings["rule_id"].astype(str) == rule, "subject_id"].astype(str).unique()
        if rule not in mapping:
            rows.append({"level": "rule", "rule_id": rule, "pattern": None, "flagged": len(flagged),
                         "true_positives": np.nan, "precision": np.nan, "targets": np.nan, "found": np.nan,
                         "recall": np.nan})
            continue
        targets = _targets(subj, mapping[rule])
        pattern = mapping[rule][0]
        rows.append({"level": "rule", "rule_id": rule, "pattern": pattern,
                     **_score(flagged, positives.get(pattern, set()), targets)})
    for pattern in sorted({spec[0] for spec in mapping.values()}):
        rules_p = [r for r, spec in mapping.items() if spec[0] == pattern]
        flagged = warnings.loc[warnings["rule_id"].isin(rules_p), "subject_id"].astype(str).unique()
        targets = set().union(*(_targets(subj, mapping[r]) for r in rules_p))
        rows.append({"level": "pattern", "rule_id": "(all)", "pattern": pattern,
                     **_score(flagged, positives.get(pattern, set()), targets)})
    return pd.DataFrame(rows)
