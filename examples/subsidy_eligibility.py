"""Blacklist and subsidy eligibility on a small synthetic county, end to end.

Lists the county's malicious debt evaders and its illegal-fundraising cooperative (a clerk proposes,
a supervisor approves), screens the household heads, decides agricultural-subsidy eligibility with
joint punishment through the roles table, stores the decisions, and prints the hash-chained audit
trail with masked identifiers.

Run::

    .venv/bin/python examples/subsidy_eligibility.py                 # a temporary SQLite file
    .venv/bin/python examples/subsidy_eligibility.py --db county.db  # keep the store
"""

from __future__ import annotations

import argparse
import hashlib
import json
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from ruralcredit import ids
from ruralcredit.blacklist import Registry, check_eligibility
from ruralcredit.schema import NON_PERFORMING_CLASSES
from ruralcredit.store import open_store


def county_tables(households: int, seed: int) -> tuple[dict[str, pd.DataFrame], pd.Timestamp, list[str], str | None]:
    """Tables of a synthetic county (ruralcredit.synth), or a hand-made hamlet if synth is missing.

    Returns the tables, the snapshot date, the household ids of malicious evaders and the subject id
    of an illegal-fundraising cooperative (if any).
    """
    try:
        from ruralcredit.synth import make_county
    except ImportError:
        return _hamlet()
    county = make_county(households=households, seed=seed, as_of="2026-06-30")
    truth = county.truth["patterns"]
    evaders = truth.loc[(truth["pattern"] == "malicious_evader") & (truth["entity_kind"] == "household"),
                        "entity_id"].unique().tolist()
    coop = truth.loc[(truth["pattern"] == "illegal_fundraising") & (truth["entity_kind"] == "enterprise"),
                     "entity_id"].unique().tolist()
    return dict(county.tables), county.as_of, evaders, (coop[0] if coop else None)


def _hamlet() -> tuple[dict[str, pd.DataFrame], pd.Timestamp, list[str], str | None]:
    """A tiny hand-made county: three households, one cooperative and its two legal representatives.

    The representative changes two weeks after the cooperative is listed: both are reached (the former
    is not cleared retroactively, the new one is reached from the day of taking over).
    """
    from ruralcredit.blacklist.cases import link_tables

    heads = [ids.make_resident_id("530128", pd.Timestamp(f"19{70 + i}-03-0{i + 1}").date(), 11 + 2 * i)
             for i in range(3)]
    coop = ids.make_uscc("93", "530128", "MA6K0001")
    links = link_tables([
        {"person": heads[1], "organisation": coop, "role": "legal_representative", "valid_from": "2019-01-01",
         "valid_to": "2026-06-15", "person_name": "段光顺", "organisation_name": "某种植专业合作社"},
        {"person": heads[2], "organisation": coop, "role": "legal_representative", "valid_from": "2026-06-16",
         "valid_to": None, "person_name": "徐德富"},
    ])
    households = pd.DataFrame({"subject_id": ["H1", "H2", "H3"], "head_id_number": heads,
                               "head_name": ["彭昌明", "段光顺", "徐德富"]})
    loans = pd.DataFrame({"loan_id": ["L1"], "borrower_id": ["H1"], "five_class": ["loss"],
                          "closed_date": [pd.NaT], "overdue_days": [400]})
    repayments = pd.DataFrame({"loan_id": ["L1"], "due_date": [pd.Timestamp("2025-03-01")],
                               "paid_date": [pd.NaT]})
    tables = {"households": households, "loans": loans, "repayments": repayments, **links}
    return tables, pd.Timestamp("2026-06-30"), ["H1"], links["enterprises"]["subject_id"].iloc[0]


def household_facts(tables: dict[str, pd.DataFrame], as_of: pd.Timestamp) -> pd.DataFrame:
    """Per household head: identifier, name, non-performing loan, worst days overdue within 24 months."""
    hh = tables["households"]
    loans = tables["loans"]
    open_loans = loans[loans["closed_date"].isna() | (loans["closed_date"] > as_of)]
    npl = open_loans.loc[open_loans["five_class"].isin(NON_PERFORMING_CLASSES), "borrower_id"].unique()
    rep = tables["repayments"].merge(loans[["loan_id", "borrower_id"]], on="loan_id")
    window = rep[(rep["due_date"] <= as_of) & (rep["due_date"] > as_of - pd.DateOffset(months=24))]
    late = (window["paid_date"].fillna(as_of) - window["due_date"]).dt.days.clip(lower=0)
    worst = late.groupby(window["borrower_id"]).max()
    return pd.DataFrame({
        "subject_id": hh["subject_id"].to_numpy(),
        "id_number": hh["head_id_number"].to_numpy(),
        "name": hh["head_name"].to_numpy(),
        "has_npl": hh["subject_id"].isin(npl).to_numpy(),
        "worst_overdue_days_24m": hh["subject_id"].map(worst).fillna(0.0).to_numpy(dtype=float),
    })


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", type=Path, default=None, help="SQLite file for the store (default: a temporary one)")
    ap.add_argument("--households", type=int, default=400)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args(argv)
    tmp = tempfile.TemporaryDirectory()
    db = args.db or Path(tmp.name) / "county.db"

    tables, as_of, evaders, coop_id = county_tables(args.households, args.seed)
    facts = household_facts(tables, as_of)
    print(f"county snapshot {as_of.date()}: {len(facts)} households; store {db}")

    registry = Registry(open_store(db))
    # 1. list: a clerk proposes, a supervisor approves (maker-checker)
    for sid in evaders:
        row = facts[facts["subject_id"] == sid].iloc[0]
        listing = registry.propose(row["id_number"], name=row["name"], category="debt.malicious_evasion",
                                   severity="serious", legal_basis="《商业银行法》第7条；昆明市方案第22条黑名单制",
                                   source_institution="县农村信用合作联社", document_number=f"逃废-{sid}",
                                   evidence_hash=hashlib.sha256(f"collection file {sid}".encode()).hexdigest(),
                                   effective_date=as_of - pd.DateOffset(months=2), by="clerk_li")
        registry.approve(listing.listing_id, by="supervisor_wang")
        print("listed:", registry.get(listing.listing_id))
    if coop_id is not None:
        ent = tables["enterprises"].set_index("subject_id").loc[coop_id]
        subject = ent["uscc"] if isinstance(ent["uscc"], str) else ent["operator_id_number"]
        listing = registry.propose(subject, name=ent["name"], category="finance.illegal_fundraising",
                                   severity="serious", legal_basis="《防范和处置非法集资条例》",
                                   source_institution="县金融办", document_number=f"集资-{coop_id}",
                                   evidence_hash="0" * 64, effective_date=as_of - pd.DateOffset(months=1),
                                   by="clerk_li")
        registry.approve(listing.listing_id, by="supervisor_wang")
        print("listed:", registry.get(listing.listing_id))

    # 2. screen the household heads (one arrives with a partially masked number, as on a paper form)
    to_screen = facts[["subject_id", "id_number", "name"]].copy()
    if evaders:
        i = int(np.flatnonzero(to_screen["subject_id"] == evaders[0])[0])
        to_screen.loc[i, "subject_id"] = "paper-form-1"
        to_screen.loc[i, "id_number"] = ids.mask_resident_id(to_screen.loc[i, "id_number"])
    screened = registry.screen(to_screen, by="screener_zhao", on=as_of)
    print("\nscreening", screened.attrs["screening_id"], "at registry version", screened.attrs["registry_version"])
    print(screened["result"].value_counts().to_string())
    print(screened[screened["result"] != "clear"][["subject_id", "subject_masked", "result", "match"]]
          .to_string(index=False))

    # 3. decide agricultural-subsidy eligibility with joint punishment through the roles table
    links = {k: tables[k] for k in ("roles", "persons", "enterprises")}
    result = check_eligibility(facts, "agri-subsidy", registry, as_of, **links)
    d = result.decisions
    print(f"\neligibility ({result.record['policy_id']} {result.record['policy_version']}, policy hash "
          f"{result.record['policy_hash'][:12]}..., input hash {result.record['input_hash'][:12]}...): "
          f"{int(d['eligible'].sum())} of {len(d)} eligible")
    print(d["unmet_conditions"].astype(str).replace("", "(none)").value_counts().to_string())
    refused = d.loc[~d["eligible"] & d["unmet_conditions"].astype(str).str.contains("not_listed"), "subject_id"]
    for sid in refused.head(3):
        print(f"\nwhy {sid} is refused:")
        print(result.explain(sid)[["condition", "outcome", "reason_code", "value"]].to_string(index=False))
        head = facts.set_index("subject_id").loc[sid, "id_number"]
        paths = registry.related_hits(head, **links, on=as_of)
        for p in paths["path"]:
            print("  joint punishment:", p)
    run_id = result.save(registry.store, by="officer_chen")
    print("\nstored decisions as run", run_id)

    # 4. the audit trail: hash-chained, identifiers masked or pseudonymised
    trail = registry.audit_trail()
    print(f"\naudit trail: {len(trail)} events; chain check: {registry.verify().detail}")
    for ev in trail.tail(8).itertuples(index=False):
        data = json.loads(ev.payload)
        shown = {k: data[k] for k in ("subject_masked", "category", "status", "n_subjects", "n_eligible",
                                      "registry_version") if k in data}
        print(f"  #{ev.seq} {ev.time[:19]} {ev.actor:<16} {ev.kind:<22} {ev.entity_id}  {shown}  {ev.hash[:12]}")
    registry.store.close()
    tmp.cleanup()


if __name__ == "__main__":
    main()
