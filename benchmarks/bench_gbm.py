"""GBM benchmark: GbmScorer against plain LightGBM with the same parameters.

Data: ``--rows`` synthetic rows x 30 features (26 float with 5 % missing, 3 nullable integer counts,
1 pandas categorical of 6 levels), a default rate of about 5 %. Both sides train 100 rounds (no early
stopping, so they grow the same number of trees) with ``GbmScorer.lgb_params_``: the same leaves,
learning rate, seed, ``deterministic=True``, ``force_row_wise=True`` and ``num_threads``, on the same
80 % training rows with the same 20 % validation set.

Timed (wall and CPU seconds):

* **fit**: ``GbmScorer.fit`` (frame encoding, stratified split, boosting, calibration by
  cross-validation, scaling) vs ``lightgbm.train`` on the pandas frame (LightGBM's own pandas
  conversion, categorical handled natively);
* **predict**: ``GbmScorer.predict_proba`` (encoding + margin + calibration) and
  ``GbmScorer.score(reasons=False)`` (the full score frame: points, grades, empty reasons) vs
  ``Booster.predict`` on the frame;
* **reasons**: ``GbmScorer.score`` with reasons vs ``Booster.predict(pred_contrib=True)`` on a
  subset (``--contrib-rows``; TreeSHAP costs far more than the margin);
* **one record**: ``GbmScorer.score_record`` (with and without reasons) vs ``Booster.predict`` of a
  1-row NumPy array with ``num_threads=1``: p50 / p99 over ``--calls`` calls.

Run::

    .venv/bin/python benchmarks/bench_gbm.py --rows 1000000
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from collections.abc import Callable
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from ruralcredit.models import GbmScorer
from ruralcredit.templates import GradeScale

N_FLOAT, N_INT = 26, 3
LEVELS = ["a", "b", "c", "d", "e", "f"]


def make_data(n: int, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """``n`` rows x 30 features and a binary outcome (about 5 % events)."""
    rng = np.random.default_rng(seed)
    cols: dict[str, Any] = {"subject_id": pd.array(np.char.add("H", np.arange(n).astype(str)), dtype="str")}
    z = np.full(n, -3.3)
    for j in range(N_FLOAT):
        x = rng.normal(size=n)
        if j < 8:
            z += (0.5 if j % 2 else -0.5) * x
        x[rng.random(n) < 0.05] = np.nan
        cols[f"x{j:02d}"] = x
    for j in range(N_INT):
        c = rng.poisson(1.0 + j, n)
        z += 0.2 * c * (j == 0)
        arr = pd.array(c, dtype="Int64")
        arr[rng.random(n) < 0.05] = pd.NA
        cols[f"count{j}"] = arr
    cat = rng.integers(0, len(LEVELS), n)
    z += np.where(cat == 0, 0.6, 0.0)
    cols["kind"] = pd.Categorical.from_codes(cat, categories=LEVELS)
    y = (rng.random(n) < 1.0 / (1.0 + np.exp(-z))).astype(np.int8)
    return pd.DataFrame(cols), y


def timed(fn: Callable[[], Any]) -> tuple[Any, float, float]:
    w0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - w0, time.process_time() - c0


def percentiles(fn: Callable[[], Any], calls: int) -> tuple[float, float]:
    t = np.empty(calls)
    for i in range(calls):
        t0 = time.perf_counter_ns()
        fn()
        t[i] = time.perf_counter_ns() - t0
    return float(np.percentile(t, 50) / 1e3), float(np.percentile(t, 99) / 1e3)


def run(rows: int, contrib_rows: int, calls: int, threads: int, rounds: int, leaves: int) -> dict[str, Any]:
    X, y = make_data(rows)
    feats = X.drop(columns="subject_id")
    ours = GbmScorer(grade_scale=GradeScale.default(), n_estimators=rounds, num_leaves=leaves, learning_rate=0.1,
                     min_child_samples=50, early_stopping_rounds=None, n_jobs=threads)
    _, fit_w, fit_c = timed(lambda: ours.fit(X, y))
    params = dict(ours.lgb_params_)

    idx = np.arange(rows)
    tr, va = train_test_split(idx, test_size=ours.validation_fraction, stratify=y, random_state=ours.random_state)
    tr.sort()
    va.sort()

    def plain_fit() -> lgb.Booster:
        dtrain = lgb.Dataset(feats.iloc[tr], label=y[tr], params=params)
        dvalid = lgb.Dataset(feats.iloc[va], label=y[va], reference=dtrain, params=params)
        return lgb.train(params, dtrain, num_boost_round=rounds, valid_sets=[dvalid])

    booster, pfit_w, pfit_c = timed(plain_fit)
    res: dict[str, Any] = {"rows": rows, "features": feats.shape[1], "rounds": rounds, "leaves": leaves,
                           "threads": threads, "trees_ours": ours.booster_.num_trees(),
                           "trees_plain": booster.num_trees()}
    res["fit"] = {"ours": (fit_w, fit_c), "plain": (pfit_w, pfit_c)}
    _, w, c = timed(lambda: ours.predict_proba(X))
    _, sw, sc = timed(lambda: ours.score(X, reasons=False))
    _, pw, pc = timed(lambda: booster.predict(feats, num_threads=threads))
    res["predict"] = {"ours predict_proba": (w, c), "ours score (no reasons)": (sw, sc), "plain": (pw, pc)}
    sub = X.head(contrib_rows)
    _, rw, rc = timed(lambda: ours.score(sub))
    _, cw, cc = timed(lambda: booster.predict(sub.drop(columns="subject_id"), pred_contrib=True, num_threads=threads))
    res["reasons"] = {"rows": len(sub), "ours score (reasons)": (rw, rc), "plain pred_contrib": (cw, cc)}
    recs = X.head(50).to_dict("records")
    one = np.ascontiguousarray(ours._encode(X.head(1))[0])
    k = iter(range(10**9))
    res["record_us"] = {
        "ours score_record": percentiles(lambda: ours.score_record(recs[next(k) % 50]), calls),
        "ours score_record (no reasons)": percentiles(lambda: ours.score_record(recs[next(k) % 50], reasons=False),
                                                      calls),
        "plain predict, 1-row array": percentiles(lambda: ours.booster_.predict(one, raw_score=True, num_threads=1),
                                                  calls),
        "plain pred_contrib, 1-row array": percentiles(
            lambda: ours.booster_.predict(one, pred_contrib=True, num_threads=1), calls),
    }
    return res


def markdown(res: dict[str, Any]) -> str:
    n = res["rows"]
    lines = [f"### GBM: {n:,} rows x {res['features']} features, {res['rounds']} rounds, {res['leaves']} leaves, "
             f"{res['threads']} thread(s)", "",
             f"Machine: {platform.machine()}, {os.cpu_count()} cores; load average at the end: "
             f"{', '.join(f'{x:.1f}' for x in os.getloadavg())}. Trees: ours {res['trees_ours']}, "
             f"plain {res['trees_plain']}.", "",
             "| step | side | rows | wall s | CPU s | rows/s (CPU) | ours / plain (CPU) |", "|---|---|---:|---:|---:|---:|---:|"]
    fo, fp = res["fit"]["ours"], res["fit"]["plain"]
    lines.append(f"| fit | GbmScorer.fit | {n:,} | {fo[0]:.2f} | {fo[1]:.2f} | {n / fo[1]:,.0f} | {fo[1] / fp[1]:.2f} |")
    lines.append(f"| fit | lightgbm.train | {n:,} | {fp[0]:.2f} | {fp[1]:.2f} | {n / fp[1]:,.0f} | |")
    p = res["predict"]
    for key in ("ours predict_proba", "ours score (no reasons)", "plain"):
        w, c = p[key]
        ratio = f"{c / p['plain'][1]:.2f}" if key != "plain" else ""
        lines.append(f"| predict | {key} | {n:,} | {w:.2f} | {c:.2f} | {n / c:,.0f} | {ratio} |")
    r = res["reasons"]
    m = r["rows"]
    for key in ("ours score (reasons)", "plain pred_contrib"):
        w, c = r[key]
        ratio = f"{c / r['plain pred_contrib'][1]:.2f}" if key.startswith("ours") else ""
        lines.append(f"| reasons | {key} | {m:,} | {w:.2f} | {c:.2f} | {m / c:,.0f} | {ratio} |")
    lines += ["", "| one record | p50 µs | p99 µs |", "|---|---:|---:|"]
    for key, (p50, p99) in res["record_us"].items():
        lines.append(f"| {key} | {p50:,.0f} | {p99:,.0f} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--contrib-rows", type=int, default=20_000)
    ap.add_argument("--calls", type=int, default=2_000)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--rounds", type=int, default=100)
    ap.add_argument("--leaves", type=int, default=31)
    ap.add_argument("--json", help="also write the raw figures here")
    args = ap.parse_args(argv)
    res = run(args.rows, min(args.contrib_rows, args.rows), args.calls, args.threads, args.rounds, args.leaves)
    print(markdown(res))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(res, fh, indent=1)


if __name__ == "__main__":
    main()
