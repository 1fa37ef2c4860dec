"""Build the feature frame of one subject type at an ``as_of`` date (work in progress)."""

from __future__ import annotations

from typing import Any

import pandas as pd


def build_features(tables: Any, subject_type: str, as_of: Any) -> pd.DataFrame:
    """Not yet implemented: the catalogue is published first so that templates can refer to it."""
    raise NotImplementedError("build_features is being written")
