"""Benchmark: the early-warning scan on a synthetic county.

Generates ``--households`` households with ``ruralcredit.synth.make_county`` (loans, repayments,
guarantees, contacts, transactions and the injected risk patterns), then times:

- ``validate``: ``schema.validate_all`` on every table (``scan`` runs it first);
- each signal of the built-in ``early-warning`` pack with its rules (signals shared by several rules are
  computed once, as in ``scan``);
- ``scan`` end to end (validation, every rule, assembling the warnings frame, the input hash);
- ``open_cases``: recording the warnings as cases in an in-memory store (``--cases``).

Usage::

    python benchmarks/bench_risk.py --households 100000 [--seed 0] [--cases]

The brief's target is a million households in minutes on 2 cores; on a shared machine run 100k and
extrapolate (every phase is close to linear in the rows; the figures say so when taken under contention).
"""

from __future__ import annotations

import argparse
import gc
import os
import resource
import time

import pandas as pd

from ruralcredit.risk import CaseBook, load_rules, precision_recall, scan
from ruralcredit.risk._context import Context
from ruralcredit.risk._warnings import evaluate
from ruralcredit.schema import validate_all
from ruralcredit.store import open_store
from ruralcredit.synth import make_county


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--households", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cases", action="store_true", help="also time opening cases from the warnings")
    args = parser.parse_args()

    t0 = time.perf_counter()
    county = make_county(households=args.households, seed=args.seed)
    t_synth = time.perf_counter() - t0
    rows = {name: len(df) for name, df in county.tables.items()}
    print(f"households={args.households:,} seed={args.seed} cpus={os.cpu_count()} load={os.getloadavg()[0]:.1f}")
    print("rows: " + ", ".join(f"{k}={v:,}" for k, v in rows.items()))
    print(f"synth        {t_synth:8.2f} s")

    gc.collect()
    t0 = time.perf_counter()
    valid = validate_all(county.tables)
    print(f"validate     {time.perf_counter() - t0:8.2f} s")

    pack = load_rules("early-warning", county.as_of)
    ctx = Context(valid, county.as_of)
    frames: dict[tuple[str, str], pd.DataFrame] = {}
    timing: dict[str, float] = {}
    for rule in pack.select(kinds=("rule", "graph")):
        if rule.signal == "blacklist_link":
            continue
        key = (rule.signal, repr(sorted(rule.effective_params.items())))
        t0 = time.perf_counter()
        if key not in frames:
            frames[key] = rule.spec.func(ctx, rule.effective_params)
        evaluate(rule, frames[key], pack, county.as_of)
        timing[rule.signal] = timing.get(rule.signal, 0.0) + time.perf_counter() - t0
    for name, sec in sorted(timing.items(), key=lambda kv: -kv[1]):
        print(f"  {name:26s} {sec:8.2f} s")
    del ctx, frames
    gc.collect()

    t0 = time.perf_counter()
    warnings = scan(county, as_of=county.as_of)
    t_scan = time.perf_counter() - t0
    print(f"scan         {t_scan:8.2f} s   warnings={len(warnings):,}   peak RSS {_rss_mb():,.0f} MB")
    t0 = time.perf_counter()
    scan(county, as_of=county.as_of, input_hash=False)
    print(f"scan (no input hash) {time.perf_counter() - t0:8.2f} s")
    table = precision_recall(warnings, county.truth["patterns"])
    print(table.loc[table["level"] == "pattern", ["pattern", "flagged", "precision", "recall"]].to_string(index=False))
    if args.cases:
        book = CaseBook(open_store("sqlite://"))
        t0 = time.perf_counter()
        out = book.open_cases(warnings, by="bench")
        print(f"open_cases   {time.perf_counter() - t0:8.2f} s   cases={int((out['outcome'] == 'opened').sum()):,}")


if __name__ == "__main__":
    main()
