"""Benchmark: subsidy eligibility for many subjects against a large blacklist registry.

Builds a SQLite store with ``--listings`` approved listings (bulk ``propose_many`` + ``approve_many``:
every listing still gets its rows and hash-chained events), ``--n`` subjects with synthetic facts, and
organisations with legal representatives for joint punishment; then times ``check_eligibility`` with the
built-in ``preferential-credit`` policy (six conditions, joint punishment on) and prints one JSON line.

Usage::

    .venv/bin/python benchmarks/bench_eligibility.py --n 1000000 --listings 100000
    .venv/bin/python benchmarks/bench_eligibility.py --n 100000 --listings 10000 --db /tmp/bench.db
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from ruralcredit import ids
from ruralcredit.blacklist import Registry, check_eligibility
from ruralcredit.blacklist.cases import link_tables
from ruralcredit.store import open_store


def _people(n: int, offset: int = 0) -> np.ndarray:
    i = np.arange(offset, offset + n)
    births = pd.Timestamp("1950-01-01") + pd.to_timedelta(i // 999, unit="D")
    return ids.make_resident_ids(np.full(n, "530128"), births.date, (i % 999) + 1)


def _orgs(n: int) -> np.ndarray:
    body = np.char.zfill(np.arange(n).astype(str), 8)
    return ids.make_usccs(np.full(n, "93"), np.full(n, "530128"), body)


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=1_000_000, help="subjects to decide")
    ap.add_argument("--listings", type=int, default=100_000, help="approved listings in the registry")
    ap.add_argument("--orgs", type=int, default=None, help="organisations with a legal representative "
                    "(default n/20)")
    ap.add_argument("--db", type=Path, default=None, help="SQLite file (default: a temporary one)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    n, n_list = args.n, args.listings
    n_orgs = args.orgs if args.orgs is not None else max(1, n // 20)
    tmp = tempfile.TemporaryDirectory()
    db = args.db or Path(tmp.name) / "bench.db"

    t = time.perf_counter()
    people = _people(n)
    orgs = _orgs(n_orgs)
    t_ids = time.perf_counter() - t

    # registry: 90% of the listings on persons among the subjects (and some outside), 10% on organisations
    n_org_list = min(n_orgs, n_list // 10)
    n_person_list = n_list - n_org_list
    listed_people = np.concatenate([rng.choice(people, min(n, n_person_list // 2), replace=False),
                                    _people(n_person_list - min(n, n_person_list // 2), offset=n)])
    frame = pd.DataFrame({
        "id_number": np.concatenate([listed_people, np.full(n_org_list, None, dtype=object)]),
        "uscc": np.concatenate([np.full(len(listed_people), None, dtype=object),
                                rng.choice(orgs, n_org_list, replace=False)]),
        "name": "某人", "category": rng.choice(["debt.malicious_evasion", "court.dishonest_debtor",
                                                "subsidy.fraud"], n_list),
        "severity": rng.choice(["ordinary", "serious"], n_list, p=[0.4, 0.6]),
        "legal_basis": "bench", "source_institution": "bench", "document_number": [f"B{i}" for i in range(n_list)],
        "evidence_hash": "0" * 64,
        "effective_date": pd.Timestamp("2025-07-01") + pd.to_timedelta(rng.integers(0, 360, n_list), unit="D"),
    })
    store = open_store(db)
    reg = Registry(store)
    t = time.perf_counter()
    proposed = reg.propose_many(frame, by="importer")
    t_propose = time.perf_counter() - t
    t = time.perf_counter()
    reg.approve_many(proposed["listing_id"].tolist(), by="checker")
    t_approve = time.perf_counter() - t

    subjects = pd.DataFrame({
        "subject_id": [f"S{i}" for i in range(n)],
        "id_number": people,
        "grade": pd.Categorical(rng.choice(["AAA", "AA", "A", "B", "C"], n, p=[.15, .3, .3, .15, .1])).astype(object),
        "has_npl": rng.random(n) < 0.03,
        "worst_overdue_days_24m": np.where(rng.random(n) < 0.05, np.nan, rng.exponential(10, n).round()),
        "credit_household": rng.random(n) < 0.6,
        "village_is_credit": rng.random(n) < 0.5,
    })
    reps = rng.choice(people, n_orgs, replace=False)
    links = link_tables({"person": p, "organisation": o, "role": "legal_representative",
                         "valid_from": "2015-01-01", "valid_to": None} for p, o in zip(reps, orgs, strict=True))
    t = time.perf_counter()
    snapshot = reg.in_force(on="2026-06-30")
    t_snapshot = time.perf_counter() - t
    t = time.perf_counter()
    direct = check_eligibility(subjects.drop(columns=[]), "agri-subsidy", reg, "2026-06-30", **links)
    t_agri = time.perf_counter() - t
    t, c = time.perf_counter(), time.process_time()
    res = check_eligibility(subjects, "preferential-credit", reg, "2026-06-30", **links)
    t_pref, c_pref = time.perf_counter() - t, time.process_time() - c
    nl = res.details[res.details["condition"] == "not_listed"]
    out = {
        "subjects": n, "listings": n_list, "organisations": n_orgs, "in_force": len(snapshot),
        "seconds": {"make_ids": round(t_ids, 2), "propose_many": round(t_propose, 2),
                    "approve_many": round(t_approve, 2), "registry_snapshot": round(t_snapshot, 2),
                    "check_agri_subsidy_3_conditions": round(t_agri, 2),
                    "check_preferential_credit_6_conditions": round(t_pref, 2)},
        "cpu_seconds_preferential_credit": round(c_pref, 2),
        "subjects_per_second": int(n / t_pref),
        "eligible": int(res.decisions["eligible"].sum()),
        "not_listed_unmet": int((nl["outcome"] == "unmet").sum()),
        "joint_hits": int(nl["value"].astype(str).str.startswith("joint:").sum()),
        "agri_eligible": int(direct.decisions["eligible"].sum()),
        "events": store.version(),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }
    store.close()
    tmp.cleanup()
    print(json.dumps(out))
    return out


if __name__ == "__main__":
    main()
