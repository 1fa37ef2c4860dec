"""Benchmark: point-in-time feature building on a synthetic county.

Builds the features of every subject type at the county's ``as_of`` date and reports the wall time of
``build_features`` (validation included) and the rows per second. The target is a million households
with their loans and repayments in about a minute on 2 cores.

Usage::

    python benchmarks/bench_features.py --households 100000
    python benchmarks/bench_features.py --households 1000000 --types household

The county comes from :func:`ruralcredit.synth.make_county` (its generation time is reported
separately and is not part of the feature timing).
"""

from __future__ import annotations

import argparse
import platform
import resource
import sys
import time

import pandas as pd

from ruralcredit.features import build_features
from ruralcredit.schema import SUBJECT_TYPES
from ruralcredit.synth import make_county


def _peak_rss_mib() -> float:
    """Peak resident memory of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=1, help="timed runs per subject type (best is shown)")
    parser.add_argument("--types", nargs="*", default=list(SUBJECT_TYPES), choices=SUBJECT_TYPES)
    args = parser.parse_args(argv)

    t0 = time.perf_counter()
    county = make_county(households=args.households, seed=args.seed)
    gen = time.perf_counter() - t0
    sizes = {k: len(v) for k, v in county.tables.items()}
    print(f"python {platform.python_version()}, pandas {pd.__version__}, {platform.machine()}")
    print(f"county: {args.households:,} households generated in {gen:.1f} s; "
          + ", ".join(f"{k} {sizes[k]:,}" for k in ("loans", "repayments", "guarantees", "enterprises",
                                                      "persons", "roles")))
    print()
    print("| subject type | subjects | features | best time (s) | subjects / s |")
    print("|---|---:|---:|---:|---:|")
    for subject_type in args.types:
        best = float("inf")
        frame = None
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            frame = build_features(county, subject_type, county.as_of)
            best = min(best, time.perf_counter() - t0)
        assert frame is not None
        rate = len(frame) / best if best > 0 else float("nan")
        print(f"| {subject_type} | {len(frame):,} | {frame.shape[1] - 1} | {best:.2f} | {rate:,.0f} |")
    print()
    print(f"peak memory: {_peak_rss_mib():,.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
