"""Private helpers: normalising subject identifiers (scalar and vectorised) and displaying them masked."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ruralcredit import ids
from ruralcredit.errors import IdentifierError, InputError, SchemaError

RESIDENT = "resident_id"
USCC = "uscc"
_MASKED_RE = r"[0-9*]{17}[0-9X*]"


def is_text(s: pd.Series) -> np.ndarray:
    """Mask of the entries that are text (missing entries count as text); C-speed when the column is all text."""
    if isinstance(s.dtype, pd.StringDtype) or pd.api.types.infer_dtype(s, skipna=True) in ("string", "empty"):
        return np.ones(len(s), dtype=bool)
    return s.astype(object).map(lambda v: isinstance(v, str), na_action="ignore").fillna(True).to_numpy(dtype=bool)


def isin(values: pd.Series, pool: pd.Series) -> np.ndarray:
    """``values.isin(pool)`` for text keys as a bool array, through Arrow (pandas' Arrow-string ``isin``
    converts the pool value by value; this stays vectorised). Missing values are never in the pool."""
    def arrow(s: pd.Series) -> pa.ChunkedArray:
        raw = s.array._pa_array if hasattr(s.array, "_pa_array") else pa.array(
            s.astype(object).where(s.notna(), None).to_numpy(dtype=object), type=pa.large_string())
        return pa.chunked_array(raw).cast(pa.large_string())

    mask = pc.is_in(arrow(values), value_set=arrow(pool).combine_chunks(), skip_nulls=True)
    return mask.fill_null(False).to_numpy(zero_copy_only=False).astype(bool)


def normalise_subject(value: Any, kind: str | None = None) -> tuple[str, str]:
    """``(normalised key, kind)`` of one resident ID number or USCC (15-digit IDs upgraded).

    Without ``kind``, a value valid as both is read as a resident ID number.

    Raises
    ------
    IdentifierError
        For an invalid number.
    InputError
        For an unknown ``kind``.
    """
    if kind == RESIDENT:
        return ids.normalize_resident_id(value), RESIDENT
    if kind == USCC:
        return ids.normalize_uscc(value), USCC
    if kind is not None:
        raise InputError(f"unknown identifier kind {kind!r}; use 'resident_id' or 'uscc'", argument="id_kind",
                         value=kind)
    # about 1 in 30 all-digit resident ID numbers also pass the USCC check; reading such a value as a
    # resident ID number is the safe choice (it is then always masked); pass id_kind="uscc" otherwise
    rid = ids.is_resident_id(value)
    org = not rid and ids.is_uscc(value)
    if rid:
        return ids.normalize_resident_id(value), RESIDENT
    if org:
        return ids.normalize_uscc(value), USCC
    raise IdentifierError("not a valid resident ID number or USCC: " + ids.mask_resident_id(value), kind="auto",
                          value=ids.mask_resident_id(value), reason="unknown")


def display(key: str, kind: str) -> str:
    """A key as a person may read it: resident ID numbers masked, USCCs (public codes) as they are."""
    return ids.mask_resident_id(key) if kind == RESIDENT else key


def display_series(keys: pd.Series, kinds: pd.Series) -> pd.Series:
    """Vectorised :func:`display`."""
    masked = ids.mask_resident_ids(keys)
    return masked.where(kinds.to_numpy() == RESIDENT, keys)


def normalise_names(names: pd.Series) -> pd.Series:
    """Names for exact comparison: NFKC, no whitespace (missing stays missing)."""
    s = names.astype(object).where(names.notna(), None)
    text = pd.Series(s, dtype="str")
    return text.str.normalize("NFKC").str.replace(r"\s+", "", regex=True)


def id_column(df: pd.DataFrame, column: str, kind: str, table: str, key_column: str) -> tuple[pd.Series, pd.Series]:
    """Normalise one identifier column of a frame.

    Returns
    -------
    (keys, masked)
        ``keys``: normalised identifiers (missing where absent or masked); ``masked``: the partially
        masked resident ID numbers (e.g. ``530102********123X``) as given, upper-cased, else missing.

    Raises
    ------
    SchemaError
        Naming the rows (by ``key_column``) whose values are neither valid, missing, nor (for resident
        ID numbers) a well-formed 18-character masked number.
    """
    s = df[column]
    present = s.notna().to_numpy()
    bad_type = present & ~is_text(s)
    if bad_type.any():
        raise SchemaError("identifiers must be text", table=table, columns=[column],
                          keys=df.loc[bad_type, key_column].head(20).tolist(), count=int(bad_type.sum()),
                          problem="dtype")
    text = s if isinstance(s.dtype, pd.StringDtype) else pd.Series(
        s.astype(object).where(present, None).to_numpy(), index=df.index, dtype="str")
    text = text.str.strip().str.upper()
    masked = np.zeros(len(df), dtype=bool)
    if kind == RESIDENT:
        has_star = text.str.contains("*", regex=False).fillna(False).to_numpy(dtype=bool)
        if has_star.any():
            well_formed = text.str.fullmatch(_MASKED_RE).fillna(False).to_numpy(dtype=bool)
            masked = present & has_star & well_formed
            bad_mask = present & has_star & ~well_formed
            if bad_mask.any():
                raise SchemaError("a masked resident ID number must keep 18 characters (digits, X or *)",
                                  table=table, columns=[column], keys=df.loc[bad_mask, key_column].head(20).tolist(),
                                  count=int(bad_mask.sum()), problem="identifier")
        ok = ids.validate_resident_ids(text.where(~masked) if masked.any() else text).to_numpy(dtype=bool)
    else:
        ok = ids.validate_usccs(text).to_numpy(dtype=bool)
    bad = present & ~masked & ~ok
    if bad.any():
        what = "resident ID number" if kind == RESIDENT else "unified social credit code"
        raise SchemaError(f"invalid {what}", table=table, columns=[column],
                          keys=df.loc[bad, key_column].head(20).tolist(), count=int(bad.sum()), problem="identifier")
    valid = present & ok & ~masked
    # valid 18-character codes are already canonical once stripped and upper-cased; only legacy
    # 15-digit resident ID numbers need the upgrade (validated once above, not again)
    keys = text.where(valid)  # text dtype kept: no conversion to Python objects
    legacy = valid & (text.str.len() == 15).fillna(False).to_numpy(dtype=bool)
    if legacy.any():
        keys[legacy] = ids.normalize_resident_ids(text[legacy]).to_numpy()
    masked_text = pd.Series(None, index=df.index, dtype=object)
    if masked.any():
        masked_text[masked] = text[masked].to_numpy(dtype=object)
    return keys, masked_text


def subject_ids(df: pd.DataFrame, table: str, column: str = "subject_id") -> pd.Series:
    """Check a frame's subject id column: present, text, no missing, unique.

    Raises
    ------
    SchemaError
    """
    if not isinstance(df, pd.DataFrame):
        raise SchemaError(f"expected a pandas DataFrame, got {type(df).__name__}", table=table, problem="type")
    if column not in df.columns:
        raise SchemaError("missing required columns", table=table, columns=[column], problem="missing_columns")
    s = df[column]
    missing = s.isna().to_numpy()
    if missing.any():
        raise SchemaError("missing values are not allowed", table=table, columns=[column],
                          keys=df.index[missing][:20].tolist(), count=int(missing.sum()), problem="null")
    is_str = is_text(s)
    if not is_str.all():
        raise SchemaError("expected text values", table=table, columns=[column],
                          keys=df.index[~is_str][:20].tolist(), count=int((~is_str).sum()), problem="dtype")
    dup = s.duplicated(keep=False).to_numpy()
    if dup.any():
        raise SchemaError("duplicate key", table=table, columns=[column], keys=s[dup].head(20).tolist(),
                          count=int(dup.sum()), problem="duplicate_key")
    return s.astype(object)
