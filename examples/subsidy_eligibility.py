"""Blacklist and subsidy eligibility on a small synthetic county, end to end.

Lists the malicious debt evaders and the illegal-fundraising cooperative that the county's early
warnings name (:func:`ruralcredit.risk.scan`; a clerk proposes, a supervisor approves), screens the
household heads, decides agricultural-subsidy eligibility with joint punishment through the roles
table, stores the decisions, and prints the hash-chained audit trail with masked identifiers.

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
from ruralcredit.features import build_features
from ruralcredit.pipeline import household_facts
from ruralcredit.risk import scan
from ruralcredit.store import open_store
from ruralcredit.synth import make_county


def county_tables(households: int, seed: int) -> tuple[dict[str, pd.DataFrame], pd.Timestamp, list[str], list[str]]:
    """Tables of a synthetic county and the candidates the risk platform's warnings name.

    :func:`ruralcredit.risk.scan` runs the early-warning rules on the snapshot; the households named
    by two or more orange or red malicious-evasion rules and the cooperatives with an
    illegal-fundraising warning are the candidates a clerk proposes for the blacklist. Returns the
    tables, the snapshot date, the household ids of the evaders and the subject ids of the
    fundraising cooperatives.
    """
    county = make_county(households=households, seed=seed, as_of="2026-06-30")
    warnings = scan(county, "early-warning", county.as_of)
    evasion = warnings[(warnings["category"] == "malicious_evasion") & (warnings["subject_type"] == "household")
                       & warnings["severity"].isin(["orange", "red"])]
    # a candidate named by two or more evasion rules (e.g. assets moved away and overdue with the means
    # to pay): one rule alone is a lead for the analyst, not a case for the blacklist
    corroborated = evasion.groupby("subject_id")["rule_id"].nunique()
    evaders = corroborated.index[corroborated >= 2]
    coops = warnings.loc[(warnings["category"] == "illegal_fundraising")
                         & (warnings["subject_type"] == "cooperative"), "subject_id"]
    return dict(county.tables), county.as_of, sorted(evaders), sorted(coops.unique())


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", type=Path, default=None, help="SQLite file for the store (default: a temporary one)")
    ap.add_argument("--households", type=int, default=400)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args(argv)
    tmp = tempfile.TemporaryDirectory()
    db = args.db or Path(tmp.name) / "county.db"

    tables, as_of, evaders, coops = county_tables(args.households, args.seed)
    facts = household_facts(tables, build_features(tables, "household", as_of))
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
    for coop_id in coops:
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
    # refused as listed: two listed directly and, first, one reached by joint punishment (value "joint:...")
    det = result.details
    listed_rows = det[(det["condition"] == "not_listed") & (det["outcome"] == "unmet")]
    joint = listed_rows["value"].astype(str).str.startswith("joint:")
    refused = [*listed_rows.loc[joint, "subject_id"].astype(str).head(1),
               *listed_rows.loc[~joint, "subject_id"].astype(str).head(2)]
    for sid in refused:
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
