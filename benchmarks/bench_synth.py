"""Benchmark: generate a synthetic county; print wall time, peak RSS and rows per table.

Usage::

    .venv/bin/python benchmarks/bench_synth.py --households 100000 [--seed 0] [--validate] [--parquet DIR]

Peak RSS comes from ``resource.getrusage`` (the whole process, including the interpreter and imports).
CPU time (``time.process_time``) is printed next to wall time: on a shared machine it is the steadier figure.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time


def _peak_rss_mib() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024 / (1024 if sys.platform == "darwin" else 1)  # bytes on macOS, KiB on Linux


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--households", type=int, default=100_000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--validate", action="store_true", help="also time schema.validate_all on every table")
    p.add_argument("--parquet", nargs="?", const="", default=None,
                   help="also time writing Parquet (to DIR, or a temporary directory)")
    args = p.parse_args(argv)

    import ruralcredit.synth as synth  # imported here so that import time is reported apart

    t0, c0 = time.perf_counter(), time.process_time()
    county = synth.make_county(households=args.households, seed=args.seed)
    t_gen, c_gen = time.perf_counter() - t0, time.process_time() - c0
    rows = {k: len(v) for k, v in county.tables.items()}
    mem = sum(int(v.memory_usage(deep=True).sum()) for v in county.tables.values())
    print(f"households={args.households:,} seed={args.seed} cpus={os.cpu_count()} "
          f"load={os.getloadavg()[0]:.1f}")
    print(f"generate: {t_gen:.2f} s wall, {c_gen:.2f} s CPU; peak RSS {_peak_rss_mib():,.0f} MiB; frames {mem / 2**20:,.0f} MiB; "
          f"{sum(rows.values()):,} rows")
    for k, v in rows.items():
        print(f"  {k:<13}{v:>12,}")
    if args.validate:
        t0 = time.perf_counter()
        county.validate()
        print(f"validate_all: {time.perf_counter() - t0:.2f} s; peak RSS {_peak_rss_mib():,.0f} MiB")
    if args.parquet is not None:
        with tempfile.TemporaryDirectory() as tmp:
            out = args.parquet or tmp
            t0 = time.perf_counter()
            county.to_parquet(out)
            print(f"to_parquet: {time.perf_counter() - t0:.2f} s; peak RSS {_peak_rss_mib():,.0f} MiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
