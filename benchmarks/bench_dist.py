"""Benchmark: household features + expert scores, single process vs Dask ``LocalCluster`` (2 workers).

For each county size (synthetic, seed 0, as of 2026-06-30) it times, on the same tables:

* ``single process``: ``build_features(county, "household")`` then ``ExpertScorecard.score``;
* ``dask, bundles``: ``build_features_dask`` on the pandas tables (validated and cut into
  subject bundles on the client, scattered to the workers), ``score_dask``, gathered with
  ``to_pandas`` (sorted like the single-process frame) -- the whole wall time, client side included;
* ``dask, Dask tables`` (``--dask-tables``): the same from ``dask.dataframe.from_pandas`` tables,
  keyed and shuffled on the cluster.

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
import time
from collections.abc import Callable
from typing import Any

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

    def on_dask(tables: Any) -> tuple[pd.DataFrame, pd.DataFrame]:
        ddf = dist.build_features_dask(tables, "household", as_of, npartitions=args.npartitions, client=client)
        ddf = ddf.assign(blacklisted=False).persist()
        return dist.to_pandas(ddf), dist.to_pandas(dist.score_dask(ddf, card))

    paths: list[tuple[str, Any]] = [("dask, bundles", county.tables)]
    if args.dask_tables:
        needed = dist.tables_needed("household")
        paths.append(("dask, Dask tables", {k: dd.from_pandas(v, npartitions=args.npartitions)
                                            for k, v in county.tables.items() if k in needed}))
    kind = "processes" if args.processes else "threads"
    for label, tables in paths:
        (f2, s2), w, c = _timed(lambda t=tables: on_dask(t))
        pd.testing.assert_frame_equal(f2, feats, check_exact=True)
        pd.testing.assert_frame_equal(s2, scores, check_exact=True, check_categorical=False)
        print(f"| {label} (2 workers, {kind}) | {n:,} | {args.npartitions} | {w:.2f} | {c:.2f} | "
              f"{n / w:,.0f} | yes |", flush=True)


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
    print("| path | households | partitions | wall s | client CPU s | households/s | equal |")
    print("|---|---:|---:|---:|---:|---:|---|")
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=args.processes,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        for n in args.households:
            _one_size(n, args, client, dd)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
