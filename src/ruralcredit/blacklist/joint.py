"""Joint punishment (联合惩戒): listings that reach persons and entities through the ``roles`` table.

Two paths, both dated by the roles' ``valid_from``/``valid_to`` (inclusive days):

- **organisation -> person**: a listed organisation's listing reaches each person who held one of the
  policy's roles (legal representative, principal, actual controller, directly responsible person) at any
  time while it was listed, from the day they took the role. With ``after_role_end: keep`` a change of
  legal representative clears nobody retroactively: the former representative stays reached as long as
  the listing lasts; the new one is reached from the day they take over, never before.
- **person -> entity** (when the policy says so): a listed person's listing shows on the entities where
  they hold one of ``person_to_entity_roles``, on the days they hold it.

Every derived hit carries its path: listing, entity, role, person and the dates.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from ruralcredit import ids
from ruralcredit.blacklist._subjects import RESIDENT, USCC, display_series
from ruralcredit.blacklist.policy import JointRules
from ruralcredit.schema import validate_all

__all__ = ["HIT_COLUMNS", "derived_hits", "validate_links"]

#: Columns of a derived-hits frame.
HIT_COLUMNS = [
    "hit_key", "hit_kind", "listing_id", "via", "listed_key", "listed_kind", "entity_id", "entity_name",
    "entity_key", "entity_kind", "role", "person_id", "person_key", "role_from", "role_to", "listed_from",
    "listed_to", "category", "severity",
]


def validate_links(roles: pd.DataFrame, persons: pd.DataFrame, enterprises: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Validate the three tables joint punishment reads (and the references between them).

    Raises
    ------
    SchemaError
    """
    return validate_all({"roles": roles, "persons": persons, "enterprises": enterprises})


def _entity_keys(enterprises: pd.DataFrame) -> pd.DataFrame:
    uscc = ids.normalize_usccs(enterprises["uscc"], allow_missing=True)
    operator = ids.normalize_resident_ids(enterprises["operator_id_number"], allow_missing=True)
    has_uscc = uscc.notna().to_numpy()
    return pd.DataFrame({
        "entity_id": enterprises["subject_id"].to_numpy(dtype=object),
        "entity_name": enterprises["name"].to_numpy(dtype=object),
        "entity_key": np.where(has_uscc, uscc.to_numpy(dtype=object), operator.to_numpy(dtype=object)),
        "entity_kind": np.where(has_uscc, USCC, RESIDENT),
    })


def _person_keys(persons: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({
        "person_id": persons["person_id"].to_numpy(dtype=object),
        "person_key": ids.normalize_resident_ids(persons["id_number"]).to_numpy(dtype=object),
    })


def derived_hits(listed: pd.DataFrame, links: Mapping[str, pd.DataFrame], on: pd.Timestamp,
                 rules: JointRules) -> pd.DataFrame:
    """Hits that listings reach through roles on day ``on`` (vectorised merges).

    Parameters
    ----------
    listed : DataFrame
        Listings in force on ``on`` with ``listing_id, subject_key, id_kind, listed_from, listed_to,
        category, severity``.
    links : mapping
        Validated ``roles``, ``persons`` and ``enterprises`` (see :func:`validate_links`).
    on : Timestamp
    rules : JointRules

    Returns
    -------
    DataFrame
        :data:`HIT_COLUMNS`; ``hit_key`` is the normalised identifier reached.
    """
    ent = _entity_keys(links["enterprises"])
    per = _person_keys(links["persons"])
    roles = links["roles"].rename(columns={"enterprise_id": "entity_id", "valid_from": "role_from",
                                           "valid_to": "role_to"})[["person_id", "entity_id", "role", "role_from",
                                                                    "role_to"]]
    base = listed.rename(columns={"subject_key": "listed_key", "id_kind": "listed_kind"})[
        ["listing_id", "listed_key", "listed_kind", "listed_from", "listed_to", "category", "severity"]]
    frames = []

    org = base.merge(ent, left_on="listed_key", right_on="entity_key", how="inner")
    org = org.merge(roles[roles["role"].isin(rules.roles)], on="entity_id", how="inner")
    org = org.merge(per, on="person_id", how="inner")
    started = (org["role_from"] <= on).to_numpy()
    if rules.after_role_end == "keep":
        # held at some time while listed: no retroactive clearing after a change of role holder
        not_ended = (org["role_to"].isna() | (org["role_to"] >= org["listed_from"])).to_numpy()
    else:
        not_ended = (org["role_to"].isna() | (org["role_to"] >= on)).to_numpy()
    org = org[started & not_ended]
    frames.append(org.assign(hit_key=org["person_key"], hit_kind=RESIDENT, via="organisation_to_person"))

    if rules.person_to_entity and rules.person_to_entity_roles:
        ppl = base[base["listed_kind"] == RESIDENT].merge(per, left_on="listed_key", right_on="person_key")
        ppl = ppl.merge(roles[roles["role"].isin(rules.person_to_entity_roles)], on="person_id", how="inner")
        ppl = ppl.merge(ent, on="entity_id", how="inner")
        held = ((ppl["role_from"] <= on) & (ppl["role_to"].isna() | (ppl["role_to"] >= on))).to_numpy()
        ppl = ppl[held]
        frames.append(ppl.assign(hit_key=ppl["entity_key"], hit_kind=ppl["entity_kind"], via="person_to_entity"))

    out = pd.concat([f[HIT_COLUMNS] for f in frames], ignore_index=True)
    return out[out["hit_key"] != out["listed_key"]].reset_index(drop=True)


def describe_paths(hits: pd.DataFrame) -> pd.DataFrame:
    """Derived hits for people to read: identifiers masked and a ``path`` sentence per hit."""
    out = hits.copy()
    if out.empty:
        extra = ["listed_subject", "entity", "person", "subject", "path"]
        return pd.DataFrame(columns=[c for c in HIT_COLUMNS if c not in ("hit_key", "listed_key", "entity_key",
                                                                          "person_key")] + extra)
    out["listed_subject"] = display_series(out["listed_key"], out["listed_kind"])
    out["entity"] = display_series(out["entity_key"], out["entity_kind"])
    out["person"] = ids.mask_resident_ids(out["person_key"])
    out["subject"] = display_series(out["hit_key"], out["hit_kind"])

    def day(s: pd.Series) -> pd.Series:
        return s.dt.strftime("%Y-%m-%d").fillna("open")

    span = day(out["role_from"]) + ".." + day(out["role_to"])
    txt = {c: out[c].astype(str) for c in ("listing_id", "entity_name", "entity", "role", "person_id", "person")}
    out["path"] = np.where(
        out["via"] == "organisation_to_person",
        "listing " + txt["listing_id"] + " of " + txt["entity_name"] + " (" + txt["entity"] + ") -> "
        + txt["role"] + " " + span + " -> person " + txt["person_id"] + " (" + txt["person"] + ")",
        "listing " + txt["listing_id"] + " of person " + txt["person_id"] + " (" + txt["person"] + ") -> "
        + txt["role"] + " " + span + " -> " + txt["entity_name"] + " (" + txt["entity"] + ")",
    )
    return out.drop(columns=["hit_key", "listed_key", "entity_key", "person_key"])
