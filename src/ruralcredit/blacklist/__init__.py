"""Blacklist registry, joint punishment, credit repair, screening and subsidy eligibility (layer 4).

- :class:`Registry`: listings with maker-checker approval, removal, appeals, credit repair, expiry,
  bitemporal queries (``is_listed(subject, on=..., as_known_at=...)``), screening and joint punishment.
- :func:`check_eligibility`: subsidy-eligibility decisions from dated policy packs, every condition
  met / unmet / unknown with its reason code and legal reference.
- :func:`run_cases`: OpenFisca-style YAML cases (facts -> expected outcome per condition) for a policy.
- :mod:`~ruralcredit.blacklist.vocabulary`: categories, severities, removal reasons.
"""

from ruralcredit.blacklist.cases import run_cases
from ruralcredit.blacklist.eligibility import (
    CONDITION_TYPES,
    EligibilityPolicy,
    EligibilityResult,
    check_eligibility,
    load_decisions,
)
from ruralcredit.blacklist.policy import BlacklistPolicy
from ruralcredit.blacklist.registry import Listing, Registry, Request
from ruralcredit.blacklist.vocabulary import CATEGORIES, REMOVAL_REASONS, SEVERITIES

__all__ = [
    "CATEGORIES",
    "CONDITION_TYPES",
    "REMOVAL_REASONS",
    "SEVERITIES",
    "BlacklistPolicy",
    "EligibilityPolicy",
    "EligibilityResult",
    "Listing",
    "Registry",
    "Request",
    "check_eligibility",
    "load_decisions",
    "run_cases",
]
