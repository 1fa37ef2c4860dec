"""OpenFisca-style YAML test cases for eligibility policies: input facts -> expected outcome per condition.

A county that writes its own eligibility pack writes cases beside it and runs them with
:func:`run_cases`. A case file:

.. code-block:: yaml

    policy: agri-subsidy            # a built-in id, or a path relative to this file
    cases:
      - name: household whose company is listed (joint punishment)
        as_of: 2026-06-01
        listings:                   # the registry before the decision (approved unless status: pending)
          - {subject: "91530102MA6K000013", name: 某合作社, category: debt.malicious_evasion,
             severity: serious, effective_date: 2025-01-10}
        links:                      # roles, compactly: person and organisation by identifier
          - {person: "530102198001010012", organisation: "91530102MA6K000013",
             role: legal_representative, valid_from: 2020-01-01, valid_to: null}
        input: {id_number: "530102198001010012", has_npl: false, worst_overdue_days_24m: 0}
        output:
          eligible: false
          conditions: {not_listed: unmet, no_npl: met, no_overdue_90d_24m: met}

A listing may carry ``removed: {reason: credit_repair, date: 2026-02-01, obligations_met: true}``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from ruralcredit import ids
from ruralcredit.errors import PolicyError

__all__ = ["link_tables", "run_cases"]

_VILLAGE = "530102001001"


def link_tables(links: Iterable[Mapping[str, Any]]) -> dict[str, pd.DataFrame]:
    """Minimal, schema-valid ``roles``, ``persons`` and ``enterprises`` tables from compact link records.

    Parameters
    ----------
    links : iterable of mappings
        Each with ``person`` (resident ID number), ``organisation`` (USCC), ``role`` and ``valid_from``,
        optionally ``valid_to``, ``person_name`` and ``organisation_name``.

    Returns
    -------
    dict
        ``{"roles": ..., "persons": ..., "enterprises": ...}`` (person ids ``P0, P1, ...``, enterprise ids
        ``E0, E1, ...``); facts other than identifiers and roles are placeholders.
    """
    links = list(links)
    people = list(dict.fromkeys(ids.normalize_resident_id(x["person"]) for x in links))
    orgs = list(dict.fromkeys(ids.normalize_uscc(x["organisation"]) for x in links))
    pid = {k: f"P{i}" for i, k in enumerate(people)}
    eid = {k: f"E{i}" for i, k in enumerate(orgs)}
    names_p = {k: "某人" for k in people}
    names_e = {k: "某单位" for k in orgs}
    for x in links:  # a name given on any link of the person or organisation is kept
        if x.get("person_name"):
            names_p[ids.normalize_resident_id(x["person"])] = x["person_name"]
        if x.get("organisation_name"):
            names_e[ids.normalize_uscc(x["organisation"])] = x["organisation_name"]
    persons = pd.DataFrame({
        "person_id": [pid[k] for k in people], "id_number": people, "name": [names_p[k] for k in people],
        "household_id": pd.Series([None] * len(people), dtype=object), "relation": "none",
        "birth_date": pd.to_datetime([ids.parse_resident_id(k).birth_date for k in people]),
        "gender": [ids.parse_resident_id(k).gender for k in people], "ethnicity": "汉族", "education": "junior",
    })
    n = len(orgs)
    enterprises = pd.DataFrame({
        "subject_id": [eid[k] for k in orgs], "kind": "enterprise", "name": [names_e[k] for k in orgs],
        "uscc": orgs, "operator_id_number": pd.Series([None] * n, dtype=object), "village_code": _VILLAGE,
        "registered_date": pd.Timestamp("2015-01-01"), "business_scope": "agriculture",
        "registered_capital": 1e6, "members": pd.Series([None] * n, dtype="Int64"), "employees": 5,
        "land_mu": 10.0, "total_assets": 1e6, "total_liabilities": 5e5, "revenue_last_year": 1e6,
        "revenue_prev_year": 1e6, "net_profit": 1e5, "insurance_cover": 0.0, "honours": 0,
        "demonstration_level": "none",
    })
    roles = pd.DataFrame({
        "person_id": [pid[ids.normalize_resident_id(x["person"])] for x in links],
        "enterprise_id": [eid[ids.normalize_uscc(x["organisation"])] for x in links],
        "role": [x["role"] for x in links],
        "valid_from": pd.to_datetime([x["valid_from"] for x in links]),
        "valid_to": pd.to_datetime([x.get("valid_to") for x in links]),
    })
    if not links:
        persons = persons.astype({"birth_date": "datetime64[ns]"})
        roles = roles.astype({"valid_from": "datetime64[ns]", "valid_to": "datetime64[ns]"})
    return {"roles": roles, "persons": persons, "enterprises": enterprises}


def _load(path: Path) -> dict[str, Any]:
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise PolicyError(f"cannot read the case file: {exc}", file=str(path)) from exc
    if not isinstance(doc, dict) or "policy" not in doc or not isinstance(doc.get("cases"), list):
        raise PolicyError("a case file is a mapping with 'policy' and a list of 'cases'", file=str(path))
    return doc


def run_cases(path: str | Path) -> pd.DataFrame:
    """Run the cases of one YAML file against a fresh in-memory registry each.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    DataFrame
        One row per case and checked item: ``case, item, expected, actual, passed`` (``item`` is a
        condition code or ``eligible``). All rows pass when the policy behaves as the cases say.

    Raises
    ------
    PolicyError
        For an unreadable or malformed case file.
    """
    from ruralcredit.blacklist.eligibility import check_eligibility
    from ruralcredit.blacklist.registry import Registry
    from ruralcredit.store import open_store

    path = Path(path)
    doc = _load(path)
    policy = doc["policy"]
    if isinstance(policy, str) and policy.endswith((".yaml", ".yml")):
        policy = path.parent / policy
    rows = []
    for i, case in enumerate(doc["cases"]):
        name = case.get("name", f"case {i + 1}")
        store = open_store("sqlite://")
        try:
            reg = Registry(store, policy=doc.get("blacklist_policy", "credit-repair"))
            for j, lst in enumerate(case.get("listings", []) or []):
                made = reg.propose(str(lst["subject"]), name=lst.get("name", "某人"), category=lst["category"],
                                   severity=lst["severity"], legal_basis=lst.get("legal_basis", "case file"),
                                   source_institution=lst.get("source_institution", "case file"),
                                   document_number=lst.get("document_number", f"case-{i}-{j}"),
                                   evidence_hash="0" * 64, effective_date=lst["effective_date"], by="maker")
                if lst.get("status", "active") == "active":
                    reg.approve(made.listing_id, by="checker")
                removed = lst.get("removed")
                if removed:
                    req = reg.request_removal(made.listing_id, reason=removed["reason"], by="subject",
                                              on=removed["date"], obligations_met=removed.get("obligations_met", True))
                    reg.approve_removal(req.request_id, by="reviewer")
            links = link_tables(case["links"]) if case.get("links") is not None else {}
            facts = {"subject_id": "case", **{k: v for k, v in (case.get("input") or {}).items()}}
            subjects = pd.DataFrame([facts])
            for col in subjects.columns:
                if subjects[col].isna().all():
                    subjects[col] = pd.Series([None], dtype=object)
            result = check_eligibility(subjects, policy, reg, case["as_of"], **links)
        finally:
            store.close()
        expected = case.get("output") or {}
        actual = dict(zip(result.details["condition"].astype(str), result.details["outcome"].astype(str),
                          strict=True))
        for cond, want in (expected.get("conditions") or {}).items():
            got = actual.get(cond, "<no such condition>")
            rows.append({"case": name, "item": cond, "expected": want, "actual": got, "passed": got == want})
        if "eligible" in expected:
            got_e = bool(result.decisions["eligible"].iloc[0])
            rows.append({"case": name, "item": "eligible", "expected": expected["eligible"], "actual": got_e,
                         "passed": got_e == expected["eligible"]})
        rows.append({"case": name, "item": "policy_version", "expected": expected.get("policy_version"),
                     "actual": result.record["policy_version"],
                     "passed": expected.get("policy_version") in (None, result.record["policy_version"])})
    return pd.DataFrame(rows, columns=["case", "item", "expected", "actual", "passed"])

