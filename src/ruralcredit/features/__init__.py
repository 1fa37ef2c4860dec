"""Point-in-time features: raw tables -> one indicator row per subject at an ``as_of`` date (layer 2)."""

from __future__ import annotations

from ruralcredit.catalog import FEATURES, FeatureSpec, catalogue_frame, feature_names
from ruralcredit.features.build import build_features, tables_needed, tables_present, validate_tables

__all__ = [
    "FEATURES",
    "FeatureSpec",
    "build_features",
    "catalogue_frame",
    "feature_names",
    "tables_needed",
    "tables_present",
    "validate_tables",
]
