"""Run ruralcredit's statistical scorecard on one benchmark data set, in the library's venv; write JSON.

Preferred path: ``run_ours(n_rows, n_features, seed)`` from ``benchmarks/bench_scorecard.py`` (owned
by the scorecard's author), which returns a dict of figures. When that function does not exist yet,
this worker says so in its result (``run_ours_missing``) and measures the scorecard itself through
the public API on the very Parquet file the peers read, exactly as ``peer_worker.py`` measures them:
fit on all rows, batch scoring (``decision_function``: scores only, like the peers' totals),
single-record latency (``score_record`` on a dict), k-fold AUC. To match the peers, no feature is
dropped (``min_iv=0``, ``max_correlation=1``).
"""

from __future__ import annotations

import argparse
import importlib.util
import inspect
import json
import math
import resource
import sys
import time
import traceback
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from synthdata import TARGET  # noqa: E402

warnings.filterwarnings("ignore")


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _run_ours_function(data: Path) -> Any:
    path = HERE.parent / "bench_scorecard.py"
    if not path.exists():
        return None
    spec = importlib.util.spec_from_file_location("bench_scorecard", path)
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    if hasattr(module, "DATA_DIR"):
        # Read the very file the harness wrote (run_ours would otherwise generate its own copy under
        # benchmarks/out/peers-data when --work points elsewhere, and the generation would count in
        # its peak RSS).
        module.DATA_DIR = data.parent
    return getattr(module, "run_ours", None)


def _fallback(data: Path, folds: int, cv_max_rows: int, single_n: int, seed: int) -> dict[str, Any]:
    from ruralcredit.models.scorecard import Scorecard

    def make() -> Scorecard:
        return Scorecard(min_iv=0.0, max_correlation=1.0)

    df = pd.read_parquet(data)
    y = df.pop(TARGET).to_numpy().astype(np.int64)
    X = df
    out: dict[str, Any] = {"rows": len(X), "features": X.shape[1], "rss_after_load_mb": _rss_mb()}
    t0 = time.perf_counter()
    model = make().fit(X, y)
    out["fit_s"] = time.perf_counter() - t0
    out["peak_rss_fit_mb"] = _rss_mb()
    out["features_kept"] = len(model.compiled_.feature_names)

    def batch() -> np.ndarray:
        return model.decision_function(X)

    best, total, reps = math.inf, 0.0, 0
    while reps < 5 and (reps == 0 or total < 1.0):
        t0 = time.perf_counter()
        batch()
        dt = time.perf_counter() - t0
        best, total, reps = min(best, dt), total + dt, reps + 1
    out["batch_rows_per_s"] = len(X) / best
    t0 = time.perf_counter()
    model.score(X)
    out["batch_frame_with_reasons_rows_per_s"] = len(X) / (time.perf_counter() - t0)

    records = X.iloc[:single_n].to_dict(orient="records")
    lat = []
    for rec in records:
        t0 = time.perf_counter()
        model.score_record(rec)
        lat.append(time.perf_counter() - t0)
    lat_ms = np.asarray(lat) * 1e3
    out["single_p50_ms"] = float(np.percentile(lat_ms, 50))
    out["single_p95_ms"] = float(np.percentile(lat_ms, 95))

    rng = np.random.default_rng(seed)
    idx = (
        np.arange(len(X))
        if len(X) <= cv_max_rows
        else np.sort(rng.choice(len(X), cv_max_rows, replace=False))
    )
    Xc, yc = X.iloc[idx].reset_index(drop=True), y[idx]
    aucs = []
    t0 = time.perf_counter()
    for tr, te in StratifiedKFold(folds, shuffle=True, random_state=seed).split(Xc, yc):
        m = make().fit(Xc.iloc[tr].reset_index(drop=True), yc[tr])
        aucs.append(float(roc_auc_score(yc[te], m.decision_function(Xc.iloc[te].reset_index(drop=True)))))
    out["cv_s"] = time.perf_counter() - t0
    out["cv_rows"] = len(idx)
    out["cv_auc_mean"] = float(np.mean(aucs))
    out["cv_auc_std"] = float(np.std(aucs))
    out["peak_rss_mb"] = _rss_mb()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--rows", type=int, required=True)
    ap.add_argument("--features", type=int, default=30)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--cv-max-rows", type=int, default=200_000)
    ap.add_argument("--single", type=int, default=200)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--mode", choices=["bench", "fitmem"], default="bench",
                    help="fitmem: one fit on all rows, the resident memory sampled (peer_worker.py's fitmem)")
    args = ap.parse_args()
    import ruralcredit

    result: dict[str, Any] = {
        "peer": "ruralcredit",
        "versions": {
            "peer": ruralcredit.__version__,
            "pandas": pd.__version__,
            "numpy": np.__version__,
            "python": sys.version.split()[0],
        },
    }
    if args.mode == "fitmem":
        from peer_worker import fit_memory

        from ruralcredit.models.scorecard import Scorecard

        df = pd.read_parquet(args.data)
        y = df.pop(TARGET).to_numpy().astype(np.int64)
        result["rss_after_load_mb"] = _rss_mb()
        result.update(fit_memory(lambda: Scorecard(min_iv=0.0, max_correlation=1.0).fit(df, y)))
        result["ok"] = True
        args.out.write_text(json.dumps(result, indent=1, default=str), encoding="utf-8")
        return
    try:
        run_ours = _run_ours_function(args.data)
        if run_ours is not None:
            result["source"] = "benchmarks/bench_scorecard.py:run_ours"
            wanted = {"folds": args.folds, "cv_max_rows": args.cv_max_rows, "single_n": args.single}
            accepted = inspect.signature(run_ours).parameters
            kwargs = {k: v for k, v in wanted.items() if k in accepted}
            figures = run_ours(args.rows, args.features, args.seed, **kwargs)
            result.update(dict(figures))
            result.setdefault("peak_rss_mb", _rss_mb())
        else:
            result["run_ours_missing"] = (
                "benchmarks/bench_scorecard.py does not define run_ours(n_rows, n_features, seed) yet; "
                "measured through ruralcredit.models.scorecard.Scorecard by benchmarks/peers/ours_worker.py"
            )
            result["source"] = "benchmarks/peers/ours_worker.py fallback"
            result.update(_fallback(args.data, args.folds, args.cv_max_rows, args.single, args.seed))
        result["ok"] = True
    except Exception as exc:
        result["ok"] = False
        result["error"] = f"{type(exc).__name__}: {str(exc).splitlines()[0][:300] if str(exc) else ''}"
        result["traceback_tail"] = traceback.format_exc().strip().splitlines()[-6:]
    args.out.write_text(json.dumps(result, indent=1, default=str), encoding="utf-8")


if __name__ == "__main__":
    main()
