"""Run one peer scorecard library on one data set, in the peer's own virtualenv; print JSON.

Invoked by ``benchmarks/bench_peers.py`` as a fresh subprocess per (peer, size), so that the peak
resident memory (``resource.getrusage(RUSAGE_SELF).ru_maxrss``) is this run's alone. It must not
import ruralcredit (the peers' environments do not have it).

Modes
-----
``bench``   fit on all rows (time, peak RSS), batch scoring throughput, single-record latency
            through the peer's API (a dict -> one-row DataFrame -> score), and k-fold AUC.
``fitmem``  fit once on all rows while a thread samples the resident memory: the fit's peak above
            the loaded data (``ru_maxrss`` is dominated by the Parquet read at a million rows).
``probe``   fit on a small set and check behaviours a bank relies on: unseen categories, NaN in a
            feature that had no missing values in training, a pickle round trip, and the pandas
            version in use (so pandas 3 breakage shows up as an error here).

Every peer is used the way its own documentation shows: binning of every feature, WOE, scikit-learn
``LogisticRegression``, points with PDO 20. No feature selection, so all tools see the same inputs.
Scores are points (higher = lower risk), so AUC is computed on the negated score.
"""

from __future__ import annotations

import argparse
import json
import math
import pickle
import resource
import sys
import time
import traceback
import warnings
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold

sys.path.insert(0, str(Path(__file__).resolve().parent))
from synthdata import TARGET, categorical_columns, make_data

warnings.filterwarnings("ignore")


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


def _current_rss_mb() -> float:
    """Resident memory now (not the high-water mark), from /proc/self/statm."""
    with open("/proc/self/statm", encoding="ascii") as fh:
        return int(fh.read().split()[1]) * resource.getpagesize() / 2**20


def fit_memory(fit: Any, interval: float = 0.005) -> dict[str, float]:
    """Run ``fit()`` while a thread samples the resident memory; return its growth above the start.

    ``ru_maxrss`` cannot show what a fit needs when reading the data set peaked higher (a Parquet read
    holds the Arrow buffers and the frame at once): this is the fit's own peak above the loaded data.
    """
    import gc
    import threading

    gc.collect()
    base = _current_rss_mb()
    peak = [base]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], _current_rss_mb())
            done.wait(interval)

    t = threading.Thread(target=sample, daemon=True)
    t.start()
    t0 = time.perf_counter()
    try:
        fit()
    finally:
        done.set()
        t.join()
    peak[0] = max(peak[0], _current_rss_mb())
    return {
        "fitmem_rss_before_mb": base,
        "fitmem_rss_peak_mb": peak[0],
        "fit_rss_growth_mb": peak[0] - base,
        "fitmem_fit_s": time.perf_counter() - t0,
    }


# ------------------------------------------------------------------------------------------ the peers


class OptBinningPeer:
    name = "optbinning"

    def fit(self, X: pd.DataFrame, y: np.ndarray) -> Any:
        from optbinning import BinningProcess, Scorecard

        bp = BinningProcess(variable_names=list(X.columns), categorical_variables=categorical_columns(X))
        sc = Scorecard(
            binning_process=bp,
            estimator=LogisticRegression(max_iter=1000),
            scaling_method="pdo_odds",
            scaling_method_params={"pdo": 20, "odds": 50, "scorecard_points": 600},
        )
        sc.fit(X, y)
        return sc

    def score(self, model: Any, X: pd.DataFrame) -> np.ndarray:
        return np.asarray(model.score(X), dtype=float)

    def feature_points(self, model: Any, X: pd.DataFrame, feature: str) -> np.ndarray | None:
        return None  # not exposed per record


class ToadPeer:
    name = "toad"

    def fit(self, X: pd.DataFrame, y: np.ndarray) -> Any:
        import toad

        combiner = toad.transform.Combiner()
        # empty_separate=True: without it, chi-merge raises on any numeric column with NaN (see probe).
        combiner.fit(X, y, method="chi", min_samples=0.05, empty_separate=True)
        transer = toad.transform.WOETransformer()
        woe = transer.fit_transform(combiner.transform(X), y)
        card = toad.ScoreCard(combiner=combiner, transer=transer, pdo=20, base_score=600, base_odds=50)
        card.fit(woe, y)
        return card

    def score(self, model: Any, X: pd.DataFrame) -> np.ndarray:
        return np.asarray(model.predict(X), dtype=float)

    def feature_points(self, model: Any, X: pd.DataFrame, feature: str) -> np.ndarray | None:
        _, sub = model.predict(X, return_sub=True)
        return np.asarray(sub[feature], dtype=float)


class ScorecardPyPeer:
    name = "scorecardpy"

    def fit(self, X: pd.DataFrame, y: np.ndarray) -> Any:
        import scorecardpy as sc

        dt = X.copy()
        # Workaround: a missing category given as None (how pandas 2 reads a null string from Parquet)
        # gets a NaN WOE although the binning has a "missing" bin (see probe); NaN works.
        for c in categorical_columns(dt):
            dt[c] = dt[c].where(dt[c].notna(), np.nan)
        dt[TARGET] = y
        # no_cores=1: one process, like the others (the machine's 2 cores are shared).
        bins = sc.woebin(dt, y=TARGET, no_cores=1, print_step=0)
        woe = sc.woebin_ply(dt, bins, print_step=0)
        xcols = [c for c in woe.columns if c != TARGET]
        lr = LogisticRegression(max_iter=1000).fit(woe[xcols], y)
        card = sc.scorecard(bins, lr, xcols, points0=600, odds0=1 / 50, pdo=20)
        return card

    def score(self, model: Any, X: pd.DataFrame) -> np.ndarray:
        import scorecardpy as sc

        out = sc.scorecard_ply(X, model, only_total_score=True, print_step=0)
        return out["score"].to_numpy(dtype=float)

    def feature_points(self, model: Any, X: pd.DataFrame, feature: str) -> np.ndarray | None:
        import scorecardpy as sc

        out = sc.scorecard_ply(X, model, only_total_score=False, print_step=0)
        return out[f"{feature}_points"].to_numpy(dtype=float)


PEERS = {p.name: p for p in (OptBinningPeer(), ToadPeer(), ScorecardPyPeer())}


# ---------------------------------------------------------------------------------------------- bench


def _best_time(fn, min_total: float = 1.0, max_reps: int = 5) -> float:
    best, total, reps = math.inf, 0.0, 0
    while reps < max_reps and (reps == 0 or total < min_total):
        t0 = time.perf_counter()
        fn()
        dt = time.perf_counter() - t0
        best, total, reps = min(best, dt), total + dt, reps + 1
    return best


def bench(
    peer: Any,
    data: Path,
    folds: int,
    cv_max_rows: int,
    single_n: int,
    seed: int,
    save: Any = None,
) -> dict[str, Any]:
    """The figures; ``save(out, next_stage)`` is called after each stage, so that a run stopped by the
    harness's timeout still reports the stages it finished."""
    df = pd.read_parquet(data)
    y = df.pop(TARGET).to_numpy().astype(np.int64)
    X = df
    out: dict[str, Any] = {"rows": len(X), "features": X.shape[1], "rss_after_load_mb": _rss_mb()}

    def checkpoint(stage: str) -> None:
        if save is not None:
            save(out, stage)

    checkpoint("fit")
    c0, t0 = time.process_time(), time.perf_counter()
    model = peer.fit(X, y)
    out["fit_s"] = time.perf_counter() - t0
    out["fit_cpu_s"] = time.process_time() - c0
    out["peak_rss_fit_mb"] = _rss_mb()
    checkpoint("batch scoring")

    scores = peer.score(model, X)
    out["nan_scores"] = int(np.isnan(scores).sum())
    out["train_auc"] = float(roc_auc_score(y, -np.nan_to_num(scores, nan=np.nanmean(scores))))
    t = _best_time(lambda: peer.score(model, X))
    out["batch_rows_per_s"] = len(X) / t
    checkpoint("single-record latency")

    records = X.iloc[:single_n].to_dict(orient="records")
    lat = []
    for rec in records:
        t0 = time.perf_counter()
        peer.score(model, pd.DataFrame([rec]))
        lat.append(time.perf_counter() - t0)
    lat_ms = np.asarray(lat) * 1e3
    out["single_p50_ms"] = float(np.percentile(lat_ms, 50))
    out["single_p95_ms"] = float(np.percentile(lat_ms, 95))
    model = None  # free it before the k-fold fits
    checkpoint("k-fold AUC")

    # k-fold AUC (on at most cv_max_rows rows, a stratified subsample when larger)
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
        m = peer.fit(Xc.iloc[tr].reset_index(drop=True), yc[tr])
        s = peer.score(m, Xc.iloc[te].reset_index(drop=True))
        aucs.append(float(roc_auc_score(yc[te], -np.nan_to_num(s, nan=np.nanmean(s)))))
        out["cv_folds_done"] = len(aucs)
        out["cv_auc_partial"] = aucs
        checkpoint("k-fold AUC")
    out.pop("cv_auc_partial", None)
    out["cv_s"] = time.perf_counter() - t0
    out["cv_rows"] = len(idx)
    out["cv_auc_mean"] = float(np.mean(aucs))
    out["cv_auc_std"] = float(np.std(aucs))
    out["peak_rss_mb"] = _rss_mb()
    return out


# ---------------------------------------------------------------------------------------------- probe


def _describe(value: float, reference: dict[str, float]) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "NaN score"
    same = [
        label
        for label, ref in reference.items()
        if ref is not None and not math.isnan(ref) and abs(value - ref) < 1e-9
    ]
    return ("same score as " + " and ".join(same)) if same else "a distinct score"


def _one(peer: Any, model: Any, rec: dict[str, Any]) -> tuple[float | None, str | None]:
    try:
        s = peer.score(model, pd.DataFrame([rec]))
        return float(s[0]), None
    except Exception as exc:  # we record what the peer does, whatever it raises
        return None, f"{type(exc).__name__}: {str(exc).splitlines()[0][:160] if str(exc) else ''}"


def probe(peer: Any, n_rows: int, seed: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    df = make_data(n_rows, 30, seed)
    y = df.pop(TARGET).to_numpy().astype(np.int64)
    X = df
    out["pandas_str_dtype_default"] = str(pd.Series(["a"]).dtype)
    if peer.name == "toad":  # the default Combiner on a numeric column with NaN
        import toad

        nan_cols = [c for c in X.columns if c.startswith("num_") and X[c].isna().any()]
        errors = []
        for c in nan_cols:
            try:
                toad.transform.Combiner().fit(X[[c]], y, method="chi", min_samples=0.05)
            except Exception as exc:
                errors.append(f"{c}: {type(exc).__name__}: {str(exc).splitlines()[0][:120]}")
        out["toad_chi_default_with_nan"] = {"columns_with_nan": len(nan_cols), "failed": errors}
    if peer.name == "scorecardpy":  # fit with a None category, as read from Parquet on pandas 2
        import scorecardpy as sc

        try:
            small = X[["cat_1", "num_00"]].copy()
            small[TARGET] = y
            bins = sc.woebin(small, y=TARGET, no_cores=1, print_step=0)
            woe = sc.woebin_ply(small, bins, print_step=0)
            out["scorecardpy_none_category_nan_woe_rows"] = int(woe["cat_1_woe"].isna().sum())
            out["scorecardpy_none_category_rows"] = int(small["cat_1"].isna().sum())
        except Exception as exc:
            out["scorecardpy_none_category"] = f"{type(exc).__name__}: {str(exc).splitlines()[0][:160]}"
    try:
        model = peer.fit(X, y)
    except Exception as exc:
        out["fit_error"] = f"{type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}"
        out["fit_traceback_tail"] = traceback.format_exc().strip().splitlines()[-4:]
        return out
    try:
        base = peer.score(model, X.iloc[:50].reset_index(drop=True))
    except Exception as exc:
        out["score_error"] = f"{type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}"
        return out
    out["nan_scores_on_training_rows"] = int(np.isnan(base).sum())

    # Unseen category in cat_0 (3 known levels, no missing values in training).
    rec = X.iloc[0].to_dict()
    rec_missing = dict(rec, cat_0=None)
    rec_unseen = dict(rec, cat_0="NEVER_SEEN_LEVEL")
    s_orig, _ = _one(peer, model, rec)
    s_miss, e_miss = _one(peer, model, rec_missing)
    s_unseen, e_unseen = _one(peer, model, rec_unseen)
    levels = sorted(X["cat_0"].dropna().unique())
    known = {f"level {lv}": _one(peer, model, dict(rec, cat_0=lv))[0] for lv in levels}
    try:
        pts = peer.feature_points(model, pd.DataFrame([rec, rec_missing, rec_unseen]), "cat_0")
        fp = None if pts is None else [None if math.isnan(v) else float(v) for v in pts]
    except Exception as exc:
        fp = f"{type(exc).__name__}: {str(exc).splitlines()[0][:160]}"
    out["unseen_category"] = {
        "cat_0_points_original_missing_unseen": fp,
        "score": s_unseen,
        "error": e_unseen,
        "missing_score": s_miss,
        "missing_error": e_miss,
        "reading": e_unseen or _describe(s_unseen, {"a missing value": s_miss, **known}),
    }
    # NaN in num_00, which has no missing values in training.
    rec_nan = dict(rec, num_00=float("nan"))
    s_nan, e_nan = _one(peer, model, rec_nan)
    rec_lo = dict(rec, num_00=float(X["num_00"].min()))
    rec_hi = dict(rec, num_00=float(X["num_00"].max()))
    try:
        pts = peer.feature_points(model, pd.DataFrame([rec, rec_nan, rec_lo, rec_hi]), "num_00")
        nan_pts = None if pts is None else [None if math.isnan(v) else float(v) for v in pts]
    except Exception as exc:
        nan_pts = f"{type(exc).__name__}: {str(exc).splitlines()[0][:160]}"
    out["nan_in_feature_without_missing_in_training"] = {
        "num_00_points_original_nan_lowest_highest": nan_pts,
        "score": s_nan,
        "error": e_nan,
        "reading": e_nan
        or _describe(
            s_nan,
            {
                "the original record": s_orig,
                "the lowest bin": _one(peer, model, rec_lo)[0],
                "the highest bin": _one(peer, model, rec_hi)[0],
            },
        ),
    }
    # Batch with the same edits: is the batch path consistent with the single path?
    batch = pd.DataFrame([rec, rec_unseen, rec_nan])
    try:
        bs = peer.score(model, batch)
        out["batch_edited_scores"] = [None if math.isnan(v) else float(v) for v in bs]
    except Exception as exc:
        out["batch_edited_error"] = f"{type(exc).__name__}: {str(exc).splitlines()[0][:160]}"
    # Pickle round trip.
    try:
        again = pickle.loads(pickle.dumps(model))
        s2 = peer.score(again, X.iloc[:500].reset_index(drop=True))
        s1 = peer.score(model, X.iloc[:500].reset_index(drop=True))
        out["pickle_round_trip_identical"] = bool(np.array_equal(s1, s2, equal_nan=True))
    except Exception as exc:
        out["pickle_round_trip_error"] = f"{type(exc).__name__}: {str(exc).splitlines()[0][:160]}"
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--peer", required=True, choices=sorted(PEERS))
    ap.add_argument("--mode", choices=["bench", "probe", "fitmem"], default="bench")
    ap.add_argument("--data", type=Path, help="Parquet file (bench mode)")
    ap.add_argument("--probe-rows", type=int, default=4000)
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--cv-max-rows", type=int, default=200_000)
    ap.add_argument("--single", type=int, default=200, help="records for the single-record latency")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, required=True, help="JSON result file")
    args = ap.parse_args()
    peer = PEERS[args.peer]
    result: dict[str, Any] = {
        "peer": args.peer,
        "mode": args.mode,
        "versions": {
            "peer": version(args.peer),
            "pandas": pd.__version__,
            "numpy": np.__version__,
            "scikit-learn": version("scikit-learn"),
            "python": sys.version.split()[0],
        },
    }
    def save(partial: dict[str, Any], stage: str) -> None:
        """Write what is known so far (``partial``: the harness reads it if it stops this run)."""
        snapshot = dict(result, **partial, ok=False, partial=True, stage=stage)
        tmp = args.out.with_suffix(".partial.tmp")
        tmp.write_text(json.dumps(snapshot, indent=1, default=str), encoding="utf-8")
        tmp.replace(args.out.with_suffix(".partial.json"))

    try:
        if args.mode == "bench":
            result.update(bench(peer, args.data, args.folds, args.cv_max_rows, args.single, args.seed, save))
        elif args.mode == "fitmem":
            df = pd.read_parquet(args.data)
            y = df.pop(TARGET).to_numpy().astype(np.int64)
            result["rss_after_load_mb"] = _rss_mb()
            result.update(fit_memory(lambda: peer.fit(df, y)))
        else:
            result.update(probe(peer, args.probe_rows, args.seed))
        result["ok"] = "fit_error" not in result and "score_error" not in result
    except Exception as exc:
        result["ok"] = False
        result["error"] = f"{type(exc).__name__}: {str(exc).splitlines()[0][:300] if str(exc) else ''}"
        result["traceback_tail"] = traceback.format_exc().strip().splitlines()[-6:]
    args.out.write_text(json.dumps(result, indent=1, default=str), encoding="utf-8")


if __name__ == "__main__":
    main()
