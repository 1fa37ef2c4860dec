"""Run every ``benchmarks/bench_*.py`` with its own (modest) default sizes and collect their Markdown.

Each script runs in a subprocess of this interpreter, one after another (never in parallel: the
figures are timings). A script's standard output is its Markdown section; a failing or timed-out
script is reported in place of its section instead of stopping the run. The collected document is
printed and written to ``benchmarks/out/results.md``; copy the figures you keep into
``docs/benchmarks.md`` with the date and the machine's load.

Usage::

    .venv/bin/python benchmarks/run_all.py [--only peers scorecard] [--timeout 7200]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def discover(only: list[str] | None = None) -> list[Path]:
    """The benchmark scripts, sorted by name (``only``: names without ``bench_`` and ``.py``)."""
    scripts = sorted(HERE.glob("bench_*.py"))
    if only:
        wanted = {f"bench_{name}.py" for name in only}
        scripts = [s for s in scripts if s.name in wanted]
    return scripts


def run_one(script: Path, timeout: float) -> tuple[str, float]:
    """Run one script; return its Markdown (or a failure note) and its wall time."""
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(
            [sys.executable, str(script)], capture_output=True, text=True, timeout=timeout, cwd=HERE.parent
        )
    except subprocess.TimeoutExpired:
        return f"_{script.name} timed out after {timeout:.0f} s._\n", time.perf_counter() - t0
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        tail = "\n".join(proc.stderr.strip().splitlines()[-15:])
        return f"_{script.name} failed (exit {proc.returncode}):_\n\n```\n{tail}\n```\n", wall
    return proc.stdout.strip() + "\n", wall


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", nargs="+", help="script names without bench_ and .py")
    ap.add_argument("--timeout", type=float, default=7200.0, help="seconds per script")
    ap.add_argument("--out", type=Path, default=HERE / "out" / "results.md")
    args = ap.parse_args(argv)

    scripts = discover(args.only)
    if not scripts:
        print("no benchmarks/bench_*.py scripts found", file=sys.stderr)
        return 1
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    parts = [
        "# Benchmark run",
        "",
        f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs, load average at start {load:.1f}.",
        "",
    ]
    for script in scripts:
        print(f"running {script.name} ...", file=sys.stderr)
        markdown, wall = run_one(script, args.timeout)
        parts += [f"## {script.stem}", "", markdown, f"_({script.name}: {wall:.0f} s wall)_", ""]
    text = "\n".join(parts)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
