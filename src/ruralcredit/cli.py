"""The ``ruralcredit`` command line: a thin face over the library.

Every command prints what it did and where it wrote; ID numbers are masked in everything printed;
bad input ends with a one-line error a person can act on and exit code 2 (no traceback).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from ruralcredit import __version__
from ruralcredit.errors import RuralCreditError

__all__ = ["main"]

#: Exit codes: 0 success, 2 bad input (a RuralCreditError), 1 anything unexpected.
EXIT_BAD_INPUT = 2


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {value}")
    return value


def _cmd_synth(args: argparse.Namespace) -> int:
    from ruralcredit.synth import make_county

    county = make_county(households=args.households, seed=args.seed, as_of=args.as_of)
    out = Path(args.out)
    county.to_parquet(out)
    print(f"synthetic county: {args.households} households, seed {args.seed}, as of {county.as_of.date()}")
    for name, df in county.tables.items():
        print(f"  {name:<13} {len(df):>9,} rows")
    print(f"written to {out.resolve()}")
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from ruralcredit.demo import run_demo

    run_demo(out=Path(args.out), households=args.households, seed=args.seed)
    return 0


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="ruralcredit", description="A county's rural credit system end to end.")
    p.add_argument("--version", action="version", version=f"ruralcredit {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("synth", help="generate a synthetic county and write it as Parquet")
    s.add_argument("--households", type=_positive_int, default=2000)
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--as-of", default="2026-06-30", help="snapshot date (YYYY-MM-DD)")
    s.add_argument("--out", required=True, help="output directory")
    s.set_defaults(func=_cmd_synth)

    d = sub.add_parser("demo", help="run the whole pipeline on a synthetic county with an embedded SQLite store")
    d.add_argument("--out", default="demo-output", help="output directory (report, store, tables)")
    d.add_argument("--households", type=_positive_int, default=3000)
    d.add_argument("--seed", type=int, default=7)
    d.set_defaults(func=_cmd_demo)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit code."""
    args = _parser().parse_args(argv)
    try:
        return int(args.func(args))
    except RuralCreditError as exc:
        print(f"ruralcredit {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
