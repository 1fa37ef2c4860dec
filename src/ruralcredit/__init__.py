"""ruralcredit: a county's rural credit system end to end.

The main names are importable from the top level; each lives in its subpackage (DESIGN.md section 2)
and is loaded on first use, so ``import ruralcredit`` stays cheap (no scikit-learn or LightGBM until
a model is asked for)::

    import ruralcredit as rc

    county = rc.make_county(households=2000, seed=0)
    features = rc.build_features(county, "household", county.as_of)
    scores = rc.ExpertScorecard("household", as_of=county.as_of).fit(features).score(features)

The subpackages: :mod:`ruralcredit.ids`, :mod:`ruralcredit.schema`, :mod:`ruralcredit.templates`,
:mod:`ruralcredit.features`, :mod:`ruralcredit.models`, :mod:`ruralcredit.rating`,
:mod:`ruralcredit.risk`, :mod:`ruralcredit.blacklist`, :mod:`ruralcredit.store`,
:mod:`ruralcredit.report`, :mod:`ruralcredit.dist`, :mod:`ruralcredit.synth`,
:mod:`ruralcredit.pipeline`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

#: Top-level name -> the module that defines it.
_EXPORTS: dict[str, str] = {
    # layer 0: identifiers and table contracts
    "is_resident_id": "ruralcredit.ids",
    "mask_resident_id": "ruralcredit.ids",
    "parse_resident_id": "ruralcredit.ids",
    "is_uscc": "ruralcredit.ids",
    "pseudonymize": "ruralcredit.ids",
    "validate": "ruralcredit.schema",
    "validate_all": "ruralcredit.schema",
    # layer 1: indicator templates
    "load_template": "ruralcredit.templates",
    # layer 2: features
    "build_features": "ruralcredit.features",
    # layer 3: scorers
    "ExpertScorecard": "ruralcredit.models",
    "Scorecard": "ruralcredit.models",
    "GbmScorer": "ruralcredit.models",
    "fairness_report": "ruralcredit.models",
    "model_card": "ruralcredit.models",
    "save": "ruralcredit.models",
    "load": "ruralcredit.models",
    # layer 4: ratings, terms, warnings, blacklist, eligibility
    "assign_grades": "ruralcredit.rating",
    "loan_terms": "ruralcredit.rating",
    "rate_villages": "ruralcredit.rating",
    "rate_townships": "ruralcredit.rating",
    "rate_counties": "ruralcredit.rating",
    "scan": "ruralcredit.risk",
    "CaseBook": "ruralcredit.risk",
    "Registry": "ruralcredit.blacklist",
    "check_eligibility": "ruralcredit.blacklist",
    "open_store": "ruralcredit.store",
    # layer 5: faces
    "make_county": "ruralcredit.synth",
    "run_county": "ruralcredit.pipeline",
    "write_report": "ruralcredit.report",
}

__all__ = [
    "__version__",
    "CaseBook", "ExpertScorecard", "GbmScorer", "Registry", "Scorecard", "assign_grades", "build_features",
    "check_eligibility", "fairness_report", "is_resident_id", "is_uscc", "load", "load_template",
    "loan_terms", "make_county", "mask_resident_id", "model_card", "open_store", "parse_resident_id",
    "pseudonymize", "rate_counties", "rate_townships", "rate_villages", "run_county", "save", "scan",
    "validate", "validate_all", "write_report",
]

if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from ruralcredit.blacklist import Registry, check_eligibility
    from ruralcredit.features import build_features
    from ruralcredit.ids import is_resident_id, is_uscc, mask_resident_id, parse_resident_id, pseudonymize
    from ruralcredit.models import (
        ExpertScorecard,
        GbmScorer,
        Scorecard,
        fairness_report,
        load,
        model_card,
        save,
    )
    from ruralcredit.pipeline import run_county
    from ruralcredit.rating import assign_grades, loan_terms, rate_counties, rate_townships, rate_villages
    from ruralcredit.report import write_report
    from ruralcredit.risk import CaseBook, scan
    from ruralcredit.schema import validate, validate_all
    from ruralcredit.store import open_store
    from ruralcredit.synth import make_county
    from ruralcredit.templates import load_template


def __getattr__(name: str) -> Any:
    """Load a top-level name from its subpackage on first use (PEP 562)."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'ruralcredit' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
