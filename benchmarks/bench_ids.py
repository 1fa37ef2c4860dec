"""Benchmark of ruralcredit.ids: vectorised validation and normalisation of identifier codes.

Builds ``--n`` synthetic resident ID numbers and USCCs (with the library's own generators), then times
the batch functions on a pandas Series (the pandas 3 default ``str`` dtype, and an ``object`` column),
best wall-clock and best CPU time of ``--repeat`` runs (CPU time is less disturbed when other processes
share the machine), and a plain Python loop over the scalar validator on a sample for comparison.
Prints a Markdown table (one row per operation) to stdout::

    .venv/bin/python benchmarks/bench_ids.py --n 1000000
"""

from __future__ import annotations

import argparse
import math
import os
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from ruralcredit import ids

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def _best(fn: Callable[[], Any], repeat: int) -> tuple[float, float]:
    """Best wall-clock and best CPU (process) seconds over ``repeat`` runs."""
    wall = cpu = math.inf
    for _ in range(repeat):
        w0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall = min(wall, time.perf_counter() - w0)
        cpu = min(cpu, time.process_time() - c0)
    return wall, cpu


def _row(operation: str, n: int, timing: tuple[float, float]) -> str:
    wall, cpu = timing
    return f"| {operation} | {n:,} | {wall:.3f} | {cpu:.3f} | {n / wall:,.0f} |"


def make_data(n: int, seed: int) -> tuple[pd.Series, pd.Series]:
    """``n`` valid resident ID numbers and ``n`` valid USCCs as ``str`` Series."""
    rng = np.random.default_rng(seed)
    counties = np.array(["530102", "530111", "530112", "530113", "530124", "530181", "532301", "440524"])
    born = np.datetime64("1930-01-01") + rng.integers(0, 30000, n).astype("timedelta64[D]")
    rids = ids.make_resident_ids(counties[rng.integers(0, len(counties), n)], born, rng.integers(0, 1000, n))
    letters = np.frombuffer(USCC_ALPHABET.encode("ascii"), dtype=np.uint8)
    bodies = letters[rng.integers(0, 31, (n, 8))].astype(np.uint32).view("<U8").reshape(n)
    prefixes = np.array(["91", "92", "93", "N2", "N3", "52", "12"])
    divisions = np.array(["530112", "530124", "530181", "532301"])
    usccs = ids.make_usccs(
        prefixes[rng.integers(0, len(prefixes), n)], divisions[rng.integers(0, 4, n)], bodies
    )
    return pd.Series(rids, dtype="str"), pd.Series(usccs, dtype="str")


def run(n: int, repeat: int, seed: int) -> list[str]:
    """Time every operation; return the Markdown table rows."""
    rows: list[str] = []
    rng = np.random.default_rng(seed)
    counties = np.array(["530112", "530124"])
    born = np.datetime64("1950-01-01") + rng.integers(0, 20000, n).astype("timedelta64[D]")
    seqs = rng.integers(0, 1000, n)
    rows.append(
        _row(
            "make_resident_ids",
            n,
            _best(lambda: ids.make_resident_ids(counties[seqs % 2], born, seqs), repeat),
        )
    )
    rid, uscc = make_data(n, seed)
    rid_obj = rid.astype(object)
    rows.append(
        _row("validate_resident_ids (str dtype)", n, _best(lambda: ids.validate_resident_ids(rid), repeat))
    )
    rows.append(
        _row(
            "validate_resident_ids (object dtype)",
            n,
            _best(lambda: ids.validate_resident_ids(rid_obj), repeat),
        )
    )
    rows.append(_row("normalize_resident_ids", n, _best(lambda: ids.normalize_resident_ids(rid), repeat)))
    born_19xx = np.datetime64("1930-01-01") + rng.integers(0, 25000, n).astype("timedelta64[D]")
    full = pd.Series(ids.make_resident_ids(counties[seqs % 2], born_19xx, seqs), dtype="str")
    legacy = full.str[:6] + full.str[8:17]  # the 15-digit form: 2-digit year, no check character
    rows.append(
        _row(
            "normalize_resident_ids (all 15-digit legacy)",
            n,
            _best(lambda: ids.normalize_resident_ids(legacy), repeat),
        )
    )
    rows.append(_row("resident_id_birth_dates", n, _best(lambda: ids.resident_id_birth_dates(rid), repeat)))
    rows.append(_row("mask_resident_ids", n, _best(lambda: ids.mask_resident_ids(rid), repeat)))
    sample = rid.iloc[: min(n, 100_000)].tolist()
    rows.append(
        _row(
            "is_resident_id, Python loop (reference)",
            len(sample),
            _best(lambda: [ids.is_resident_id(v) for v in sample], 1),
        )
    )
    rows.append(_row("validate_usccs", n, _best(lambda: ids.validate_usccs(uscc), repeat)))
    rows.append(
        _row(
            "validate_usccs (check_org_code)",
            n,
            _best(lambda: ids.validate_usccs(uscc, check_org_code=True), repeat),
        )
    )
    rows.append(_row("normalize_usccs", n, _best(lambda: ids.normalize_usccs(uscc), repeat)))
    return rows


def main(argv: list[str] | None = None) -> None:
    """Command-line entry: print the Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="rows per code type (default 1,000,000)")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per operation; the best counts")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    print(f"<!-- bench_ids: n={args.n}, best of {args.repeat}, cores={os.cpu_count()} -->")
    print("| operation | rows | wall s | CPU s | rows/s (wall) |")
    print("|---|---:|---:|---:|---:|")
    for row in run(args.n, args.repeat, args.seed):
        print(row, flush=True)


if __name__ == "__main__":
    main()
