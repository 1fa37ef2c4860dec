"""Benchmark: point-in-time feature building on a synthetic county.

Builds the features of every subject type at the county's ``as_of`` date and reports the wall time of
``build_features`` (validation included) and the rows per second. The target is a million households
with their loans and repayments in about a minute on 2 cores.

Usage::

    python benchmarks/bench_features.py --households 100000
    python benchmarks/bench_features.py --households 1000000 --types household

The county comes from :func:`ruralcredit.synth.make_county` (``--source synth``, the default) or from a
simple inline generator of households, loans, repayments and guarantees (``--source inline``), used
when the synthetic county is unavailable at that size. Generation time is reported separately and is
not part of the feature timing.
"""

from __future__ import annotations

import argparse
import platform
import resource
import sys
import time

import numpy as np
import pandas as pd

from ruralcredit.features import build_features
from ruralcredit.ids import make_resident_ids
from ruralcredit.schema import FIVE_CLASSES, SUBJECT_TYPES

AS_OF = pd.Timestamp("2026-06-30")
_NAT = np.datetime64("NaT", "ns")


def _ids(prefix: str, n: int, width: int) -> pd.Series:
    return prefix + pd.Series(np.arange(1, n + 1), dtype="int64").astype("str").str.zfill(width)


def inline_tables(households: int, seed: int) -> dict[str, pd.DataFrame]:
    """Households with their loans (about 0.9 each), 12 monthly instalments per loan and guarantees.

    Enough to time household features at scale; it has no enterprises or persons.
    """
    rng = np.random.default_rng(seed)
    n = households
    hid = _ids("H", n, 8)
    birth = pd.Timestamp("1950-01-01") + pd.to_timedelta(rng.integers(0, 365 * 50, n), unit="D")
    size = rng.integers(1, 8, n)
    labour = np.minimum(size, rng.integers(0, 5, n))
    village = pd.Series(rng.integers(200, 300, n)).astype("str").radd("530128101")
    money = lambda lo, hi: np.round(rng.uniform(lo, hi, n), -2)  # noqa: E731
    archived = rng.random(n) < 0.8
    h = pd.DataFrame({
        "subject_id": hid, "village_code": village,
        "head_id_number": make_resident_ids("530128", birth, rng.integers(0, 1000, n)),
        "head_name": "户主", "size": size, "labour_force": labour, "archived": archived,
        "archived_date": np.where(archived, np.datetime64(AS_OF - pd.Timedelta(days=900), "ns"), _NAT),
        "survey_date": AS_OF - pd.Timedelta(days=100),
        "head_education": rng.choice(["none", "primary", "junior", "senior", "college"], n),
        "head_health": rng.choice(["good", "fair", "poor"], n), "head_marital_status": "married",
        "annual_income": money(5e3, 2e5), "operating_income": money(0, 1e5), "annual_expenses": money(0, 5e4),
        "house_area": money(0, 300), "house_structure": rng.choice(["brick_concrete", "brick_wood"], n),
        "house_value": money(1e4, 5e5), "land_mu": rng.uniform(0, 30, n).round(1),
        "livestock_units": rng.uniform(0, 5, n).round(1), "machinery_value": money(0, 5e4),
        "vehicle_value": money(0, 1e5), "deposits": money(0, 1e5), "other_assets": money(0, 2e4),
        "informal_debt": money(0, 2e4), "insurance_cover": money(0, 3e4), "honours": rng.integers(0, 3, n),
        "village_assessment": rng.choice(np.array(["excellent", "good", "fair", "poor", None], dtype=object), n),
        "credit_report_status": rng.choice(["normal", "none", "bad"], n, p=[0.7, 0.27, 0.03]),
        "bad_credit_date": pd.NaT, "criminal_record_date": pd.NaT,
    })
    m = int(n * 0.9)
    borrower = rng.integers(0, n, m)
    issue = AS_OF - pd.to_timedelta(rng.integers(31, 365 * 5, m), unit="D")
    amount = np.round(rng.uniform(5e3, 2e5, m), -2)
    late_loan = rng.random(m) < 0.08
    matured = (issue + pd.Timedelta(days=365)) < AS_OF
    closed = np.where(matured & ~late_loan, (issue + pd.Timedelta(days=365)).to_numpy(), _NAT)
    lid = _ids("L", m, 9)
    loans = pd.DataFrame({
        "loan_id": lid, "borrower_id": hid.to_numpy()[borrower], "borrower_type": "household",
        "institution": rng.choice(["RCC", "PSBC", "ABC", "CCB", "VB"], m), "officer_id": "O1",
        "product": "micro_credit", "purpose": "planting", "amount": amount, "interest_rate": 0.06,
        "issue_date": issue, "maturity_date": issue + pd.Timedelta(days=365),
        "snapshot_date": AS_OF - pd.Timedelta(days=30),
        "balance": np.where(np.isnat(closed), amount * 0.5, 0.0),
        "overdue_days": np.where(late_loan, rng.integers(1, 400, m), 0),
        "five_class": np.where(late_loan, FIVE_CLASSES[1], FIVE_CLASSES[0]),
        "closed_date": closed,
    })
    k = 12
    rep_loan = np.repeat(np.arange(m), k)
    inst = np.tile(np.arange(1, k + 1), m)
    due = issue.to_numpy()[rep_loan] + (inst * 30).astype("timedelta64[D]")
    late = np.where(late_loan[rep_loan] & (rng.random(m * k) < 0.3), rng.integers(1, 200, m * k), 0)
    paid = due + late.astype("timedelta64[D]")
    paid = np.where(paid <= AS_OF.to_datetime64(), paid, _NAT)
    due_amount = np.round(amount[rep_loan] / k, 2)
    reps = pd.DataFrame({
        "loan_id": lid.take(rep_loan).reset_index(drop=True), "instalment": inst, "due_date": due,
        "due_amount": due_amount, "paid_date": paid,
        "paid_amount": np.where(np.isnat(paid), np.nan, due_amount),
    })
    g = int(m * 0.3)
    gl = rng.integers(0, m, g)
    guarantees = pd.DataFrame({
        "guarantee_id": _ids("G", g, 9), "loan_id": lid.take(gl).reset_index(drop=True),
        "guarantor_id": hid.to_numpy()[rng.integers(0, n, g)], "amount": amount[gl],
        "start_date": issue[gl], "end_date": pd.NaT,
    })
    return {"households": h, "loans": loans, "repayments": reps, "guarantees": guarantees}


def _peak_rss_mib() -> float:
    """Peak resident memory of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=1, help="timed runs per subject type (best is shown)")
    parser.add_argument("--types", nargs="*", default=None, choices=SUBJECT_TYPES,
                        help="subject types to time (default: all for synth, household for inline)")
    parser.add_argument("--source", choices=("synth", "inline"), default="synth")
    args = parser.parse_args(argv)

    t0 = time.perf_counter()
    if args.source == "synth":
        from ruralcredit.synth import make_county

        county = make_county(households=args.households, seed=args.seed)
        tables, as_of = county.tables, county.as_of
        types = args.types or list(SUBJECT_TYPES)
    else:
        tables, as_of = inline_tables(args.households, args.seed), AS_OF
        types = args.types or ["household"]
    gen = time.perf_counter() - t0
    sizes = {k: len(v) for k, v in tables.items()}
    print(f"python {platform.python_version()}, pandas {pd.__version__}, {platform.machine()}")
    print(f"{args.source} data: {args.households:,} households generated in {gen:.1f} s; "
          + ", ".join(f"{k} {v:,}" for k, v in sizes.items() if k != "households"))
    print()
    # CPU time is reported next to wall time: on a shared machine it is the better guide to the
    # uncontended wall time (the work is single-threaded apart from a few Arrow kernels).
    print("| subject type | subjects | features | wall (s) | CPU (s) | subjects / s (wall) |")
    print("|---|---:|---:|---:|---:|---:|")
    for subject_type in types:
        best, best_cpu = float("inf"), float("inf")
        frame = None
        for _ in range(args.repeat):
            t0, c0 = time.perf_counter(), time.process_time()
            frame = build_features(tables, subject_type, as_of)
            best = min(best, time.perf_counter() - t0)
            best_cpu = min(best_cpu, time.process_time() - c0)
        assert frame is not None
        rate = len(frame) / best if best > 0 else float("nan")
        print(f"| {subject_type} | {len(frame):,} | {frame.shape[1] - 1} | {best:.2f} | {best_cpu:.2f} | "
              f"{rate:,.0f} |")
    print()
    print(f"peak memory: {_peak_rss_mib():,.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
