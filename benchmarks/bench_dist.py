"""Benchmark: household features + expert scores, single process vs Dask ``LocalCluster`` (2 workers).

For each county size (synthetic, seed 0, as of 2026-06-30) it times, on the same tables:

* ``single process``: ``build_features(county, "household")`` then ``ExpertScorecard.score``;
* ``dask, bundles``: ``build_features_dask`` on the pandas tables (validated and cut into
  subject bundles on the client, scattered to the workers), ``score_dask``, gathered with
  ``to_pandas`` (sorted like the single-process frame) -- the whole wall time, split into the client
  side (validate and bundle, or build the graph), the cluster (features and scores persisted in the
  workers) and gathering;
* ``dask, Dask tables from Parquet`` (``--dask-tables``): the same from Parquet datasets (one file
  per partition, written beforehand, read by the workers inside the timing), keyed and shuffled on
  the cluster.

Every Dask result is checked equal to the single-process one (features exactly; scores value for
value). The cluster is ``LocalCluster(n_workers=2, threads_per_worker=1)``, in-process threads by
default or worker processes with ``--processes``. CPU time is this process's (``time.process_time``):
with ``--processes`` the workers' CPU is not in it. Output: a Markdown table on standard output.

Run::

    .venv/bin/python benchmarks/bench_dist.py --households 100000 300000
    .venv/bin/python benchmarks/bench_dist.py --households 100000 --processes --dask-tables
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ruralcredit import dist
from ruralcredit.features import build_features
from ruralcredit.models import ExpertScorecard
from ruralcredit.synth import make_county


def _timed(fn: Callable[[], Any]) -> tuple[Any, float, float]:
    w, c = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - w, time.process_time() - c


def _one_size(n: int, args: argparse.Namespace, client: Any, dd: Any) -> None:
    """Time the three paths on one county and print their rows."""
    county = make_county(households=n, seed=args.seed, as_of="2026-06-30")
    as_of = county.as_of
    card = ExpertScorecard("household", as_of=as_of).fit()

    def single() -> tuple[pd.DataFrame, pd.DataFrame]:
        feats = build_features(county, "household", as_of)
        feats["blacklisted"] = False  # no registry here: nobody is listed
        return feats, card.score(feats)

    (feats, scores), w, c = _timed(single)
    print(f"| single process | {n:,} | 1 | {w:.2f} | {c:.2f} | {n / w:,.0f} | reference |", flush=True)

    def on_dask(tables: Any) -> tuple[pd.DataFrame, pd.DataFrame, list[float]]:
        from distributed import wait

        t0 = time.perf_counter()
        ddf = dist.build_features_dask(tables, "household", as_of, npartitions=args.npartitions, client=client)
        t1 = time.perf_counter()  # client side: validate and bundle (pandas) or build the graph (Dask)
        ddf = ddf.assign(blacklisted=False).persist()
        scored = dist.score_dask(ddf, card).persist()
        wait([ddf, scored])
        t2 = time.perf_counter()  # on the cluster: features and scores, kept in the workers' memory
        out = dist.to_pandas(ddf), dist.to_pandas(scored)
        t3 = time.perf_counter()  # gathered to the client and sorted like the single-process frames
        return *out, [t1 - t0, t2 - t1, t3 - t2]

    paths: list[tuple[str, Any]] = [("dask, bundles", lambda: county.tables)]
    tmp = tempfile.TemporaryDirectory()
    if args.dask_tables:
        # as a data platform holds them: Parquet datasets of several files, read lazily by the workers
        root = Path(tmp.name)
        needed = dist.tables_needed("household")
        for k in needed:
            (root / k).mkdir()
            df = county.tables[k]
            bounds = np.linspace(0, len(df), args.npartitions + 1).astype(int)
            for i in range(args.npartitions):
                df.iloc[bounds[i]:bounds[i + 1]].to_parquet(root / k / f"part.{i}.parquet", index=False)
        paths.append(("dask, Dask tables from Parquet", lambda: {k: dd.read_parquet(root / k) for k in needed}))
    kind = "processes" if args.processes else "threads"
    for label, tables in paths:
        (f2, s2, phases), w, c = _timed(lambda t=tables: on_dask(t()))
        pd.testing.assert_frame_equal(f2, feats, check_exact=True)
        pd.testing.assert_frame_equal(s2, scores, check_exact=True, check_categorical=False)
        split = " / ".join(f"{p:.2f}" for p in phases)
        print(f"| {label} (2 workers, {kind}) | {n:,} | {args.npartitions} | {w:.2f} ({split}) | {c:.2f} | "
              f"{n / w:,.0f} | yes |", flush=True)
    tmp.cleanup()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--households", type=int, nargs="+", default=[50_000])
    ap.add_argument("--npartitions", type=int, default=8, help="subject partitions (bundles)")
    ap.add_argument("--processes", action="store_true", help="worker processes instead of threads")
    ap.add_argument("--dask-tables", action="store_true", help="also time the Dask-tables (shuffle) path")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)

    import dask
    import dask.dataframe as dd
    from distributed import Client, LocalCluster

    logging.getLogger("distributed.shuffle").setLevel(logging.ERROR)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"<!-- {platform.python_version()}, pandas {pd.__version__}, dask {dask.__version__}, "
          f"cpus {os.cpu_count()}, load average at start {load:.1f} -->")
    print("| path | households | partitions | wall s (client / cluster / gather) | client CPU s | households/s "
          "| equal |")
    print("|---|---:|---:|---:|---:|---:|---|")
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=args.processes,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        for n in args.households:
            _one_size(n, args, client, dd)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
