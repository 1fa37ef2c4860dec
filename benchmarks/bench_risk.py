"""Benchmark: the early-warning scan on a synthetic county.

Generates ``--households`` households with ``ruralcredit.synth.make_county`` (loans, repayments,
guarantees, contacts, transactions and the injected risk patterns), then times, in wall and CPU
seconds (CPU = this process's ``time.process_time``, all threads):

- ``validate``: ``schema.validate_all`` on every table (``scan`` runs it first);
- the shared point-in-time views every signal reads (``Context``: subjects and parties, loans, loan
  status on ``as_of`` from the instalments, guarantees, contacts, transactions), built once per scan;
- each signal of the built-in ``early-warning`` pack with its rules (signals shared by several rules
  are computed once, as in ``scan``), given the shared views;
- ``scan`` end to end without and with the input hash (validation, views, every rule, the warnings
  frame, the record), and ``tables_hash`` alone;
- ``open_cases``: recording the warnings as cases in an in-memory SQLite store (``--cases``).

Usage::

    python benchmarks/bench_risk.py --households 100000 [--seed 0] [--cases]

Prints one Markdown table per part (paste into ``docs/benchmarks.md``). The brief's target is a
million households in minutes on 2 cores; every phase is close to linear in the rows.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import os
import platform
import resource
import time
from collections.abc import Callable
from typing import Any

import pandas as pd

from ruralcredit import __version__
from ruralcredit.risk import CaseBook, load_rules, precision_recall, scan
from ruralcredit.risk._context import Context
from ruralcredit.risk._warnings import evaluate
from ruralcredit.risk.scan import tables_hash
from ruralcredit.schema import validate_all
from ruralcredit.store import open_store
from ruralcredit.synth import make_county


def _peak_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 ** 2


def _rss_gib() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1024 ** 3


def _timed(func: Callable[[], Any]) -> tuple[Any, float, float]:
    gc.collect()
    w, c = time.perf_counter(), time.process_time()
    out = func()
    return out, time.perf_counter() - w, time.process_time() - c


def _table(header: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" if i == 0 else "---:" for i in range(len(header))) + "|"]
    lines += ["| " + " | ".join(str(v) for v in r) + " |" for r in rows]
    return "\n".join(lines)


def _views_and_signals(valid: dict[str, pd.DataFrame], as_of: pd.Timestamp
                       ) -> tuple[list[list[Any]], list[list[Any]], dict[str, list[float]]]:
    """Time the shared views (in the order the signals first need them), then every signal."""
    ctx = Context(valid, as_of)
    views = [("subjects and parties", lambda: (ctx.subjects, ctx.subject_index, ctx.is_natural_person)),
             ("loans", lambda: (ctx.loans, ctx.loan_index)),
             ("loan status on as_of", lambda: ctx.status_on(ctx.day)),
             ("guarantees in force", lambda: ctx.guarantees),
             ("contacts in use", lambda: ctx.contacts),
             ("transactions", lambda: ctx.transactions)]
    view_rows = []
    for name, func in views:
        _, w, c = _timed(func)
        view_rows.append([name, f"{w:.2f}", f"{c:.2f}"])

    pack = load_rules("early-warning", as_of)
    frames: dict[tuple[str, str], pd.DataFrame] = {}
    timing: dict[str, list[float]] = {}
    n_warn: dict[str, int] = {}
    for rule in pack.select(kinds=("rule", "graph")):
        if rule.signal == "blacklist_link":
            continue  # needs a blacklist (none in the synthetic county)
        key = (rule.signal, repr(sorted(rule.effective_params.items())))
        w0, c0 = time.perf_counter(), time.process_time()
        if key not in frames:
            frames[key] = rule.spec.func(ctx, rule.effective_params)
        out = evaluate(rule, frames[key], pack, as_of)
        t = timing.setdefault(rule.signal, [0.0, 0.0])
        t[0] += time.perf_counter() - w0
        t[1] += time.process_time() - c0
        n_warn[rule.signal] = n_warn.get(rule.signal, 0) + len(out)
    signal_rows = [[name, f"{w:.2f}", f"{c:.2f}", f"{n_warn[name]:,}"]
                   for name, (w, c) in sorted(timing.items(), key=lambda kv: -kv[1][0])]
    return view_rows, signal_rows, timing


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--households", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cases", action="store_true", help="also time opening cases from the warnings")
    args = parser.parse_args(argv)

    load = " / ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"# bench_risk: {args.households:,} households, seed {args.seed}, "
          f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, load average {load} (1/5/15 min), "
          f"{os.cpu_count()} CPUs, Python {platform.python_version()}, pandas {pd.__version__}, "
          f"ruralcredit {__version__}\n")

    county, w_synth, c_synth = _timed(lambda: make_county(households=args.households, seed=args.seed))
    print("rows: " + ", ".join(f"{k} {len(v):,}" for k, v in county.tables.items()) + "\n")
    phases: list[list[Any]] = [["synth (make_county)", f"{w_synth:.2f}", f"{c_synth:.2f}", f"{_rss_gib():.1f}"]]

    valid, w, c = _timed(lambda: validate_all(county.tables))
    phases.append(["validate_all", f"{w:.2f}", f"{c:.2f}", f"{_rss_gib():.1f}"])

    view_rows, signal_rows, timing = _views_and_signals(valid, county.as_of)
    del valid
    gc.collect()

    _, w, c = _timed(lambda: scan(county, as_of=county.as_of, input_hash=False))
    phases.append(["scan, no input hash", f"{w:.2f}", f"{c:.2f}", f"{_rss_gib():.1f}"])
    warnings, w, c = _timed(lambda: scan(county, as_of=county.as_of))
    phases.append([f"scan ({len(warnings):,} warnings)", f"{w:.2f}", f"{c:.2f}", f"{_rss_gib():.1f}"])
    _, w, c = _timed(lambda: tables_hash(county.tables))
    phases.append(["of which tables_hash (all tables)", f"{w:.2f}", f"{c:.2f}", ""])
    if args.cases:
        book = CaseBook(open_store("sqlite://"))
        out, w, c = _timed(lambda: book.open_cases(warnings, by="bench"))
        opened = int((out["outcome"] == "opened").sum())
        phases.append([f"open_cases ({opened:,} cases)", f"{w:.2f}", f"{c:.2f}", f"{_rss_gib():.1f}"])

    print(_table(["phase", "wall s", "CPU s", "RSS GiB after"], phases))
    print(f"\npeak RSS {_peak_gib():.1f} GiB\n")
    print(_table(["shared view (Context)", "wall s", "CPU s"], view_rows))
    print()
    print(_table(["signal (with its rules)", "wall s", "CPU s", "warnings"], signal_rows))
    print(f"\nsignals total {sum(t[0] for t in timing.values()):.2f} s wall, "
          f"{sum(t[1] for t in timing.values()):.2f} s CPU\n")
    table = precision_recall(warnings, county.truth["patterns"])
    pat = table.loc[table["level"] == "pattern"]
    print(_table(["pattern", "flagged", "precision", "targets", "recall"],
                 [[r.pattern, r.flagged, f"{r.precision:.3f}", int(r.targets), f"{r.recall:.3f}"]
                  for r in pat.itertuples()]))


if __name__ == "__main__":
    main()
