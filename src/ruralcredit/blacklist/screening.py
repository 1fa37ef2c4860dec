"""Screening subjects against the registry: exact matches on normalised identifiers, and partially masked
resident ID numbers with an identical name flagged for manual review. A name alone never matches.
"""

from __future__ import annotations

import hashlib
import hmac

import numpy as np
import pandas as pd

from ruralcredit import ids
from ruralcredit.blacklist._subjects import (
    RESIDENT,
    USCC,
    display_series,
    id_column,
    normalise_names,
    subject_ids,
)
from ruralcredit.errors import SchemaError

__all__ = ["RESULTS", "SCREEN_COLUMNS", "match", "prepare_subjects"]

#: Screening results, most serious first.
RESULTS = ("listed", "review", "clear", "unknown")

#: Columns of a screening result frame.
SCREEN_COLUMNS = ["subject_id", "subject_masked", "result", "match", "listing_ids", "categories", "severity"]

_TABLE = "subjects"


def prepare_subjects(subjects: pd.DataFrame) -> pd.DataFrame:
    """Validate and normalise a subjects frame for screening.

    Parameters
    ----------
    subjects : DataFrame
        ``subject_id`` (unique text) and ``id_number`` and/or ``uscc`` (one per row; missing allowed:
        such a subject is ``unknown``), optionally ``name`` (used only to confirm a masked number).

    Returns
    -------
    DataFrame
        ``subject_id, key, id_kind, masked, name_norm``.

    Raises
    ------
    SchemaError
        For a missing or duplicate ``subject_id``, no identifier column, invalid identifiers, a row
        with both a resident ID number and a USCC.
    """
    sid = subject_ids(subjects, _TABLE)
    cols = [c for c in ("id_number", "uscc") if c in subjects.columns]
    if not cols:
        raise SchemaError("needs an identifier column: id_number and/or uscc", table=_TABLE,
                          columns=["id_number", "uscc"], problem="missing_columns")
    n = len(subjects)
    key = pd.Series(None, index=subjects.index, dtype=object)
    kind = pd.Series(None, index=subjects.index, dtype=object)
    masked = pd.Series(None, index=subjects.index, dtype=object)
    if "id_number" in cols:
        k, masked = id_column(subjects, "id_number", RESIDENT, _TABLE, "subject_id")
        has = k.notna().to_numpy()
        key[has] = k[has]
        kind[has] = RESIDENT
    if "uscc" in cols:
        k, _ = id_column(subjects, "uscc", USCC, _TABLE, "subject_id")
        has = k.notna().to_numpy()
        both = has & (key.notna().to_numpy() | masked.notna().to_numpy())
        if both.any():
            raise SchemaError("give one identifier per subject: both id_number and uscc are set", table=_TABLE,
                              columns=cols, keys=sid[both].head(20).tolist(), count=int(both.sum()),
                              problem="ambiguous_identifier")
        key[has] = k[has]
        kind[has] = USCC
    if "name" in subjects.columns:
        name = normalise_names(subjects["name"]).astype(object)
        name = name.where(name.notna() & (name != ""), None)
    else:
        name = pd.Series([None] * n, index=subjects.index, dtype=object)
    return pd.DataFrame({"subject_id": sid.to_numpy(dtype=object), "key": key.to_numpy(dtype=object),
                         "id_kind": kind.to_numpy(dtype=object), "masked": masked.to_numpy(dtype=object),
                         "name_norm": name.to_numpy(dtype=object)})


def _signature(keys: pd.Series, pattern: str) -> pd.Series:
    """``keys`` with the positions that are ``*`` in ``pattern`` replaced by ``*`` (vectorised slicing)."""
    out = pd.Series("", index=keys.index, dtype=object)
    i = 0
    while i < len(pattern):
        j = i
        star = pattern[i] == "*"
        while j < len(pattern) and (pattern[j] == "*") == star:
            j += 1
        out = out + ("*" * (j - i) if star else keys.str[i:j].astype(object))
        i = j
    return out


def masked_matches(probes: pd.DataFrame, listed: pd.DataFrame) -> pd.DataFrame:
    """Pairs (probe, listing) where a masked number agrees on every visible character and the names are equal.

    ``probes`` has ``masked`` and ``name_norm``; ``listed`` has ``subject_key, id_kind, name_norm``.
    Loops over the distinct mask patterns (usually one), never over records.
    """
    probes = probes[probes["masked"].notna() & probes["name_norm"].notna()]
    people = listed[listed["id_kind"] == RESIDENT]
    if probes.empty or people.empty:
        return pd.DataFrame(columns=[*probes.columns, "listing_id"])
    patterns = probes["masked"].str.replace(r"[0-9X]", "d", regex=True)
    found = []
    for pattern in patterns.unique():
        part = probes[patterns.to_numpy() == pattern]
        sig = people.assign(masked=_signature(people["subject_key"], pattern))
        found.append(part.merge(sig[["masked", "name_norm", "listing_id"]], on=["masked", "name_norm"]))
    return pd.concat(found, ignore_index=True)


def match(prepared: pd.DataFrame, listed: pd.DataFrame) -> pd.DataFrame:
    """Screen prepared subjects against listings in force; one row per subject.

    Parameters
    ----------
    prepared : DataFrame
        From :func:`prepare_subjects`.
    listed : DataFrame
        ``listing_id, subject_key, id_kind, subject_name, category, severity`` of the listings in force.

    Returns
    -------
    DataFrame
        :data:`SCREEN_COLUMNS`: ``result`` is ``listed`` (an exact identifier match), ``review`` (a masked
        number and an identical name: a person must check), ``clear`` or ``unknown`` (no usable identifier:
        missing, or masked without a name); ``listing_ids`` and ``categories`` are ``;``-joined.
    """
    listed = listed.assign(name_norm=normalise_names(listed["subject_name"]))
    exact = prepared[prepared["key"].notna()].merge(
        listed[["subject_key", "listing_id"]], left_on="key", right_on="subject_key")
    exact = exact.assign(match="exact_id")
    masked = masked_matches(prepared, listed).assign(match="masked_id_name")
    hits = pd.concat([exact[["subject_id", "listing_id", "match"]], masked[["subject_id", "listing_id", "match"]]],
                     ignore_index=True)
    # masked hits only count where there is no exact hit for the subject
    exact_ids = set(exact["subject_id"])
    hits = hits[(hits["match"] == "exact_id") | ~hits["subject_id"].isin(exact_ids)]
    hits = hits.merge(listed[["listing_id", "category", "severity"]], on="listing_id").sort_values(
        ["subject_id", "listing_id"])
    sev_rank = hits["severity"].map({"minor": 0, "ordinary": 1, "serious": 2})
    hits = hits.assign(sev_rank=sev_rank)
    agg = hits.groupby("subject_id", sort=False).agg(
        listing_ids=("listing_id", ";".join), categories=("category", lambda s: ";".join(sorted(set(s)))),
        sev_rank=("sev_rank", "max"), match=("match", "first"))
    out = prepared[["subject_id", "key", "id_kind", "masked", "name_norm"]].merge(
        agg.reset_index(), on="subject_id", how="left")
    usable = out["key"].notna() | (out["masked"].notna() & out["name_norm"].notna())
    hit = out["listing_ids"].notna()
    result = np.where(hit & (out["match"] == "exact_id"), "listed",
                      np.where(hit, "review", np.where(usable, "clear", "unknown")))
    shown = display_series(out["key"].fillna(""), out["id_kind"].fillna("")).where(out["key"].notna(),
                                                                                     out["masked"])
    return pd.DataFrame({
        "subject_id": out["subject_id"].to_numpy(dtype=object),
        "subject_masked": shown.fillna("").to_numpy(dtype=object),
        "result": result,
        "match": out["match"].fillna("").to_numpy(dtype=object),
        "listing_ids": out["listing_ids"].fillna("").to_numpy(dtype=object),
        "categories": out["categories"].fillna("").to_numpy(dtype=object),
        "severity": out["sev_rank"].map({0: "minor", 1: "ordinary", 2: "serious"}).fillna("").to_numpy(dtype=object),
    })


def subject_refs(prepared: pd.DataFrame, key: bytes) -> tuple[pd.Series, pd.Series]:
    """Keyed pseudonyms of the screened identifiers (never the raw numbers), and their kind.

    Exact identifiers get :func:`ruralcredit.ids.pseudonymize` pseudonyms; masked numbers an HMAC of the
    masked text and the normalised name; subjects with neither get none.
    """
    refs = pd.Series(None, index=prepared.index, dtype=object)
    kinds = pd.Series("none", index=prepared.index, dtype=object)
    for kind in (RESIDENT, USCC):
        sel = (prepared["id_kind"] == kind).to_numpy()
        if sel.any():
            refs[sel] = ids.pseudonymize_series(prepared.loc[sel, "key"], key, kind=kind).to_numpy(dtype=object)  # type: ignore[arg-type]
            kinds[sel] = "exact"
    sel = (prepared["key"].isna() & prepared["masked"].notna() & prepared["name_norm"].notna()).to_numpy()
    if sel.any():
        refs[sel] = masked_refs(prepared.loc[sel, "masked"], prepared.loc[sel, "name_norm"], key).to_numpy()
        kinds[sel] = "masked"
    return refs, kinds


def masked_refs(masked: pd.Series, names: pd.Series, key: bytes) -> pd.Series:
    """HMAC-SHA256 of ``masked + NUL + name`` (a pseudonym for a masked number with its name)."""
    msgs = (masked.astype(str) + "\x00" + names.astype(str)).to_numpy(dtype=object)
    return pd.Series([hmac.new(key, b"ruralcredit.masked.v1\x00" + m.encode("utf-8"), hashlib.sha256).hexdigest()
                      for m in msgs], index=masked.index, dtype=object)  # hmac has no vector form
