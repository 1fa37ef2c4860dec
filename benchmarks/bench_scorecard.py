"""Benchmark of ruralcredit's statistical scorecard (our side of the peer comparison).

``run_ours(n_rows, n_features, seed)`` measures, on the very data the peers read
(``benchmarks/peers/synthdata.py``, written once as Parquet under ``benchmarks/out/peers-data``):

* fit time and peak memory (``ru_maxrss`` after the fit, and the tracemalloc peak of a second fit);
* batch scoring throughput: the public ``decision_function`` (scores only, as the peers' totals),
  the compiled scorer alone (on the raw columns), the full score frame with reasons, and a
  hand-written NumPy scorer of the same bins and points (one ``searchsorted`` or category lookup per
  feature, summed), in wall and CPU time;
* single-record latency for a dict: ``Scorecard.score_record`` (score, PD and reasons) and the
  compiled scorer's ``score_record`` (score only);
* k-fold ROC AUC (on at most ``cv_max_rows`` rows).

No feature is dropped by information value or correlation (``min_iv=0``, ``max_correlation=1``), so
every tool sees the same inputs. The peers are run by ``benchmarks/bench_peers.py``, which calls
this function. Run directly::

    .venv/bin/python benchmarks/bench_scorecard.py --rows 10000 100000 --features 30
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import resource
import sys
import time
import tracemalloc
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "peers"))
from synthdata import TARGET, ensure_parquet  # noqa: E402

from ruralcredit.models.compiled import CompiledScorecard  # noqa: E402
from ruralcredit.models.scorecard import Scorecard  # noqa: E402

DATA_DIR = HERE / "out" / "peers-data"


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


def _best_times(fn: Callable[[], Any], min_total: float = 1.0, max_reps: int = 7) -> tuple[float, float]:
    """Best wall and best CPU time of repeated calls (CPU time is steadier on a shared machine)."""
    best, best_cpu, total, reps = math.inf, math.inf, 0.0, 0
    while reps < max_reps and (reps == 0 or total < min_total):
        c0, t0 = time.process_time(), time.perf_counter()
        fn()
        dt = time.perf_counter() - t0
        best, best_cpu = min(best, dt), min(best_cpu, time.process_time() - c0)
        total, reps = total + dt, reps + 1
    return best, best_cpu


def _best_time(fn: Callable[[], Any], min_total: float = 1.0, max_reps: int = 7) -> float:
    return _best_times(fn, min_total, max_reps)[0]


def make_model() -> Scorecard:
    """The scorecard as benchmarked: default binning and scaling, no IV/correlation filter."""
    return Scorecard(min_iv=0.0, max_correlation=1.0)


def load_data(n_rows: int, n_features: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    """The peers' data set (same Parquet file), features and 0/1 target."""
    path = ensure_parquet(DATA_DIR, n_rows, n_features, seed)
    df = pd.read_parquet(path)
    y = df.pop(TARGET).to_numpy().astype(np.int64)
    return df, y


def numpy_reference_scorer(card: CompiledScorecard) -> Callable[[pd.DataFrame], np.ndarray]:
    """A hand-written NumPy scorer of the same bins and points, the speed reference.

    Per numeric feature one ``searchsorted`` into the edges, per categorical feature one encoding of
    the column (``pd.factorize``) and a lookup of its distinct values, a ``take`` of the points and a
    running sum.
    """
    plan = []
    for f in card.features:
        if f.kind == "numeric":
            plan.append((f.name, True, np.asarray(f.edges), np.asarray([*f.points, f.missing_points]),
                         list(zip(f.special_values, f.special_points, strict=True))))
        else:
            unseen = f.missing_points if f.unseen_points is None else f.unseen_points
            plan.append((f.name, False, pd.Index(list(f.categories), dtype=object),
                         np.asarray([*f.points, unseen]), f.missing_points))
    base = card.base_points

    def score(X: pd.DataFrame) -> np.ndarray:
        total = np.full(len(X), base)
        for name, numeric, a, pts, extra in plan:
            if numeric:
                x = X[name].to_numpy(dtype=np.float64, na_value=np.nan)
                p = pts.take(np.searchsorted(a, x, side="right"))
                p[np.isnan(x)] = pts[-1]
                for v, sp in extra:
                    p[x == v] = sp
            else:
                # encode the column once (hash of every row), then look up its few distinct values
                codes, uniques = pd.factorize(X[name], use_na_sentinel=True)
                lut = np.append(pts.take(a.get_indexer(uniques)), extra)  # -1 (unseen) -> last of pts
                p = lut.take(codes)  # factorize's -1 (missing) -> the appended missing points
            total += p
        return total

    return score


def run_ours(n_rows: int, n_features: int = 30, seed: int = 0, *, folds: int = 5, cv_max_rows: int = 200_000,
             single_n: int = 2000, measure_alloc: bool = True) -> dict[str, Any]:
    """Measure the statistical scorecard on the peers' data set; return the figures.

    Keys match ``benchmarks/peers/peer_worker.py`` where the quantity is the same (``fit_s``,
    ``peak_rss_fit_mb``, ``batch_rows_per_s``, ``single_p50_ms``, ``cv_auc_mean`` ...), plus our own
    (``numpy_reference_rows_per_s``, ``batch_vs_numpy``, ``single_compiled_p50_us``, ...).
    """
    warnings.filterwarnings("ignore")
    X, y = load_data(n_rows, n_features, seed)
    out: dict[str, Any] = {"rows": len(X), "features": X.shape[1], "rss_after_load_mb": _rss_mb()}

    gc.collect()
    c0, t0 = time.process_time(), time.perf_counter()
    model = make_model().fit(X, y)
    out["fit_s"] = time.perf_counter() - t0
    out["fit_cpu_s"] = time.process_time() - c0  # robust to other processes sharing the cores
    out["peak_rss_fit_mb"] = _rss_mb()
    out["features_kept"] = len(model.features_)
    if measure_alloc:
        gc.collect()
        tracemalloc.start()
        make_model().fit(X, y)
        out["fit_alloc_peak_mb"] = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        gc.collect()

    scores = model.compiled_.score_frame(X)[0]
    out["nan_scores"] = int(np.isnan(scores).sum())
    out["train_auc"] = float(roc_auc_score(y, -scores))
    reference = numpy_reference_scorer(model.compiled_)
    if not np.array_equal(reference(X), scores):
        raise AssertionError("the NumPy reference scorer disagrees with the compiled scorer")

    wall, cpu = _best_times(lambda: model.decision_function(X))
    out["batch_rows_per_s"], out["batch_cpu_rows_per_s"] = len(X) / wall, len(X) / cpu
    out["batch_compiled_rows_per_s"] = len(X) / _best_time(lambda: model.compiled_.total_scores(X))
    wall, cpu = _best_times(lambda: reference(X))
    out["numpy_reference_rows_per_s"], out["numpy_reference_cpu_rows_per_s"] = len(X) / wall, len(X) / cpu
    out["batch_vs_numpy"] = out["numpy_reference_rows_per_s"] / out["batch_rows_per_s"]
    out["batch_vs_numpy_cpu"] = out["numpy_reference_cpu_rows_per_s"] / out["batch_cpu_rows_per_s"]
    out["batch_frame_with_reasons_rows_per_s"] = len(X) / _best_time(lambda: model.score(X), max_reps=3)

    records = X.iloc[:single_n].to_dict(orient="records")
    for rec in records[:50]:  # warm-up
        model.score_record(rec)
    lat = np.empty(len(records))
    for i, rec in enumerate(records):
        t0 = time.perf_counter()
        model.score_record(rec)
        lat[i] = time.perf_counter() - t0
    out["single_p50_ms"] = float(np.percentile(lat, 50) * 1e3)
    out["single_p95_ms"] = float(np.percentile(lat, 95) * 1e3)
    for i, rec in enumerate(records):
        t0 = time.perf_counter()
        model.score_record(rec, reasons=False)
        lat[i] = time.perf_counter() - t0
    out["single_no_reasons_p50_us"] = float(np.percentile(lat, 50) * 1e6)
    card = model.compiled_
    for i, rec in enumerate(records):
        t0 = time.perf_counter()
        card.score_record(rec)
        lat[i] = time.perf_counter() - t0
    out["single_compiled_p50_us"] = float(np.percentile(lat, 50) * 1e6)
    out["single_compiled_p95_us"] = float(np.percentile(lat, 95) * 1e6)
    out["single_p50_us"] = out["single_p50_ms"] * 1e3

    rng = np.random.default_rng(seed)
    idx = np.arange(len(X)) if len(X) <= cv_max_rows else np.sort(rng.choice(len(X), cv_max_rows, replace=False))
    Xc, yc = X.iloc[idx].reset_index(drop=True), y[idx]
    aucs = []
    t0 = time.perf_counter()
    for tr, te in StratifiedKFold(folds, shuffle=True, random_state=seed).split(Xc, yc):
        m = make_model().fit(Xc.iloc[tr].reset_index(drop=True), yc[tr])
        aucs.append(float(roc_auc_score(yc[te], m.decision_function(Xc.iloc[te].reset_index(drop=True)))))
    out["cv_s"] = time.perf_counter() - t0
    out["cv_rows"] = len(idx)
    out["cv_auc_mean"] = float(np.mean(aucs))
    out["cv_auc_std"] = float(np.std(aucs))
    out["peak_rss_mb"] = _rss_mb()
    return out


def _markdown(results: list[dict[str, Any]]) -> str:
    head = ("| rows | fit s (CPU s) | peak RSS after fit MB | fit alloc peak MB | batch rows/s (decision_function) | "
            "NumPy reference rows/s | ours / NumPy time, wall (CPU) | score frame rows/s | "
            "record p50 us (score+pd+reasons) | record p50 us (score+pd) | compiled record p50 us | 5-fold AUC |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in results:
        lines.append(
            f"| {r['rows']:,} | {r['fit_s']:.2f} ({r.get('fit_cpu_s', float('nan')):.2f}) | {r['peak_rss_fit_mb']:.0f} | {r.get('fit_alloc_peak_mb', float('nan')):.0f} "
            f"| {r['batch_rows_per_s'] / 1e6:.2f} M | {r['numpy_reference_rows_per_s'] / 1e6:.2f} M "
            f"| {r['batch_vs_numpy']:.2f} ({r['batch_vs_numpy_cpu']:.2f}) "
            f"| {r['batch_frame_with_reasons_rows_per_s'] / 1e6:.2f} M | {r['single_p50_us']:.1f} "
            f"| {r['single_no_reasons_p50_us']:.1f} "
            f"| {r['single_compiled_p50_us']:.1f} | {r['cv_auc_mean']:.4f} |"
        )
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    ap.add_argument("--features", type=int, default=30)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--no-alloc", action="store_true", help="skip the tracemalloc fit")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    args = ap.parse_args()
    results = []
    for n in args.rows:
        r = run_ours(n, args.features, args.seed, folds=args.folds, measure_alloc=not args.no_alloc)
        results.append(r)
        print(json.dumps(r), flush=True)
    print(_markdown(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
