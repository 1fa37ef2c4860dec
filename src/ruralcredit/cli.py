"""The ``ruralcredit`` command line: a thin face over the library (layer 5).

Commands::

    ruralcredit synth        --households N --seed S --out DIR
    ruralcredit features     --tables DIR --subject-type household --as-of D --out FILE
    ruralcredit score        --features FILE (--template NAME|PATH | --model FILE) --as-of D --out FILE
    ruralcredit rate households --scores FILE --features FILE --as-of D --out FILE
    ruralcredit rate villages|townships --scores FILE --tables DIR --as-of D --out FILE
    ruralcredit warn         --tables DIR --as-of D --out FILE [--store DB --by USER]
    ruralcredit blacklist    propose|approve|reject|remove|approve-removal|repair|list|screen|verify --store DB ...
    ruralcredit eligibility  --subjects FILE --policy ID --store DB --as-of D --out FILE [--tables DIR]
    ruralcredit report       --tables DIR --as-of D --out report.html [--store DB]
    ruralcredit demo         [--out DIR]

Tables and results are Parquet (``.parquet``) or CSV (``.csv``) by file extension; a tables
directory holds one file per table (``loans.parquet`` or ``loans.csv``, ...). Every command prints
what it did and where it wrote; resident ID numbers are masked in everything printed; bad input ends
with a one-line error a person can act on and exit code 2 (no traceback). Long work reports its
steps on standard error.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from ruralcredit import __version__
from ruralcredit.errors import InputError, RuralCreditError

__all__ = ["main", "read_table", "read_tables", "write_table"]

#: Exit codes: 0 success, 2 bad input (a RuralCreditError or an unreadable file), 1 anything unexpected.
EXIT_BAD_INPUT = 2


# -- files -----------------------------------------------------------------------------------------
def _text_columns(table: str | None) -> dict[str, Any]:
    """CSV dtypes that keep identifier codes as text (leading zeros, a trailing X)."""
    from ruralcredit.schema import TABLES

    if table is None or table not in TABLES:
        return {}
    return {c.name: str for c in TABLES[table].columns if c.dtype == "str"}


def read_table(path: str | Path, table: str | None = None) -> pd.DataFrame:
    """Read one table from Parquet or CSV (chosen by extension).

    CSV text columns declared in :mod:`ruralcredit.schema` are read as text, so ID numbers and
    division codes keep their leading zeros; everything else is validated by the command that uses
    the table.

    Raises
    ------
    InputError
        Missing file, unknown extension, unreadable content.
    """
    p = Path(path)
    if not p.is_file():
        raise InputError(f"no such file: {p}", argument=table or "file", value=str(p))
    try:
        if p.suffix == ".parquet":
            return pd.read_parquet(p)
        if p.suffix == ".csv":
            return pd.read_csv(p, dtype=_text_columns(table), keep_default_na=True, na_values=[""])
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read {p}: {exc}", argument=table or "file", value=str(p)) from exc
    raise InputError(f"{p}: expected a .parquet or .csv file", argument=table or "file", value=str(p))


def read_tables(directory: str | Path) -> dict[str, pd.DataFrame]:
    """Every known table found in a directory (``<table>.parquet`` or ``<table>.csv``)."""
    from ruralcredit.schema import TABLES

    d = Path(directory)
    if not d.is_dir():
        raise InputError(f"no such directory: {d}", argument="tables", value=str(d))
    out = {}
    for name in TABLES:
        for ext in (".parquet", ".csv"):
            if (d / f"{name}{ext}").is_file():
                out[name] = read_table(d / f"{name}{ext}", name)
                break
    if not out:
        raise InputError(f"{d} holds no table files (expected e.g. households.parquet, loans.csv)",
                         argument="tables", value=str(d))
    return out


def write_table(df: pd.DataFrame, path: str | Path) -> Path:
    """Write a result as Parquet or CSV (by extension); returns the resolved path."""
    from ruralcredit.pipeline import _parquet_safe

    p = Path(path)
    if p.suffix not in (".parquet", ".csv"):
        raise InputError(f"{p}: the output must end in .parquet or .csv", argument="out", value=str(p))
    p.parent.mkdir(parents=True, exist_ok=True)
    if p.suffix == ".parquet":
        _parquet_safe(df).to_parquet(p, index=False)
    else:
        df.to_csv(p, index=False)
    return p.resolve()


def _sibling(path: str | Path, suffix: str) -> Path:
    p = Path(path)
    return p.with_name(f"{p.stem}_{suffix}{p.suffix}")


def _step(message: str) -> None:
    print(f"  .. {message}", file=sys.stderr, flush=True)


def _counts(series: pd.Series) -> str:
    vc = series.astype(object).value_counts()
    return ", ".join(f"{k} {v}" for k, v in vc.items())


# -- commands --------------------------------------------------------------------------------------
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


def _cmd_features(args: argparse.Namespace) -> int:
    from ruralcredit.features import build_features

    tables = read_tables(args.tables)
    _step(f"building {args.subject_type} features as of {args.as_of}")
    feats = build_features(tables, args.subject_type, args.as_of)
    path = write_table(feats, args.out)
    print(f"{len(feats):,} {args.subject_type} subjects x {feats.shape[1] - 1} features -> {path}")
    return 0


def _cmd_score(args: argparse.Namespace) -> int:
    from ruralcredit.models import ExpertScorecard, load

    feats = read_table(args.features)
    if args.model:
        scorer = load(args.model)
    else:
        scorer = ExpertScorecard(args.template, as_of=args.as_of)
    if "blacklisted" not in feats.columns and isinstance(scorer, ExpertScorecard):
        if not args.assume_not_listed:
            raise InputError("the features lack the 'blacklisted' column the template's veto reads: add it from "
                             "the blacklist registry, or pass --assume-not-listed to score everyone as not listed",
                             argument="features")
        feats["blacklisted"] = False
    if isinstance(scorer, ExpertScorecard):
        scorer.fit(feats)
    _step(f"scoring {len(feats):,} subjects")
    scores = scorer.score(feats)
    path = write_table(scores, args.out)
    print(f"{len(scores):,} scored; grades: {_counts(scores['grade'])} -> {path}")
    return 0


def _cmd_rate(args: argparse.Namespace) -> int:
    from ruralcredit import rating

    scores = read_table(args.scores)
    if args.level == "households":
        feats = read_table(args.features)
        terms = rating.loan_terms(scores, feats, args.policy, args.as_of)
        path = write_table(terms, args.out)
        lines = terms[terms["line"] > 0]
        print(f"{len(terms):,} households: {len(lines):,} credit lines, {lines['line'].sum():,.0f} yuan "
              f"({args.policy}) -> {path}")
        return 0
    tables = read_tables(args.tables)
    villages = rating.rate_villages(scores, tables, args.criteria, args.as_of)
    result = villages if args.level == "villages" else rating.rate_townships(villages, tables, args.criteria,
                                                                               args.as_of)
    path = write_table(result.summary, args.out)
    crit = write_table(result.criteria, _sibling(args.out, "criteria"))
    flag = f"credit_{result.level}"
    print(f"{int(result.summary[flag].sum())} of {len(result.summary)} {args.level} rated credit "
          f"({args.criteria}) -> {path}; criteria -> {crit}")
    return 0


def _open(args: argparse.Namespace) -> Any:
    from ruralcredit.store import open_store

    db = str(args.store)
    return open_store(db if "://" in db else f"sqlite:///{db}")


def _cmd_warn(args: argparse.Namespace) -> int:
    from ruralcredit.risk import scan

    tables = read_tables(args.tables)
    _step(f"scanning {len(tables)} tables as of {args.as_of} with rules {args.rules}")
    warnings = scan(tables, args.rules, args.as_of)
    out = warnings.copy()
    out["evidence"] = out["evidence"].map(lambda e: __import__("json").dumps(e, ensure_ascii=False, default=str))
    path = write_table(out, args.out)
    print(f"{len(warnings)} warnings: {_counts(warnings['category']) or 'none'} -> {path}")
    if args.store:
        from ruralcredit.risk.cases import CaseBook

        if not args.by:
            raise InputError("--by (who records the cases) is required with --store", argument="by")
        assigned = CaseBook(_open(args)).open_cases(warnings, by=args.by)
        print(f"cases: {_counts(assigned['outcome']) if len(assigned) else 'none'}")
    return 0


def _cmd_blacklist(args: argparse.Namespace) -> int:
    from ruralcredit.blacklist import Registry

    registry = Registry(_open(args))
    action = args.action
    if action == "propose":
        listing = registry.propose(args.subject, name=args.name, category=args.category, severity=args.severity,
                                   legal_basis=args.legal_basis, source_institution=args.institution,
                                   document_number=args.document, evidence_hash=args.evidence_hash,
                                   effective_date=args.effective, by=args.by, note=args.note)
        print(f"proposed {listing.listing_id} for {listing.subject_masked} ({listing.category}, "
              f"{listing.severity}); it takes effect when another user approves it")
    elif action == "approve":
        listing = registry.approve(args.listing_id, by=args.by, note=args.note)
        print(f"approved {listing.listing_id}: {listing.subject_masked} listed from {listing.listed_from} "
              f"(repair possible from {listing.min_end}, publication ends {listing.max_end})")
    elif action == "reject":
        listing = registry.reject(args.listing_id, by=args.by, note=args.note)
        print(f"rejected {listing.listing_id}")
    elif action == "remove":
        req = registry.request_removal(args.listing_id, reason=args.reason, by=args.by, on=args.on,
                                       obligations_met=args.obligations_met, note=args.note)
        print(f"removal requested: {req.request_id} ({args.reason}); another user approves it with "
              f"'blacklist approve-removal --request-id {req.request_id}'")
    elif action == "repair":
        req = registry.request_repair(args.listing_id, by=args.by, on=args.on,
                                      obligations_met=args.obligations_met, note=args.note)
        print(f"credit repair requested: {req.request_id}")
    elif action == "approve-removal":
        req = registry.approve_removal(args.request_id, by=args.by, note=args.note)
        print(f"removal approved: {req.request_id}")
    elif action == "list":
        listings = registry.listings(on=args.on)
        cols = [c for c in ("listing_id", "subject_masked", "subject_name", "category", "severity", "status",
                            "listed_from", "listed_to") if c in listings.columns]
        print(listings[cols].to_string(index=False) if len(listings) else "no listings")
    elif action == "screen":
        subjects = read_table(args.subjects)
        result = registry.screen(subjects, by=args.by, on=args.on)
        if args.out:
            print(f"results -> {write_table(result, args.out)}")
        print(f"screened {len(result):,}: {_counts(result['result'])} (registry version "
              f"{result.attrs.get('registry_version')})")
        hits = result[result["result"] != "clear"]
        if len(hits):
            print(hits[["subject_id", "subject_masked", "result", "listing_ids"]].head(20).to_string(index=False))
    elif action == "verify":
        res = registry.verify()
        if not res.ok:
            print(f"audit chain BROKEN at event {res.seq}: {res.problem} ({res.detail})")
            return 1
        print(f"audit chain verified: {res.checked} events")
    return 0


def _cmd_eligibility(args: argparse.Namespace) -> int:
    from ruralcredit.blacklist import Registry, check_eligibility

    subjects = read_table(args.subjects)
    registry = Registry(_open(args)) if args.store else None
    links: dict[str, Any] = {}
    if args.tables:
        t = read_tables(args.tables)
        links = {k: t[k] for k in ("roles", "persons", "enterprises") if k in t}
    result = check_eligibility(subjects, args.policy, registry, args.as_of, **links)
    path = write_table(result.decisions, args.out)
    details = write_table(result.details, _sibling(args.out, "details"))
    rec = result.record
    d = result.decisions
    print(f"{int(d['eligible'].sum()):,} of {len(d):,} eligible under {rec['policy_id']} v{rec['policy_version']} "
          f"-> {path}; every condition -> {details}")
    if registry is None:
        print("note: no --store given, so every 'not listed' condition is unknown")
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from ruralcredit._progress import ProgressBar
    from ruralcredit.pipeline import count_steps, run_county
    from ruralcredit.report import write_report

    tables = read_tables(args.tables)
    registry = book = None
    if args.store:
        from ruralcredit.blacklist import Registry
        from ruralcredit.risk.cases import CaseBook

        store = _open(args)
        registry, book = Registry(store), CaseBook(store)
    bar = ProgressBar(count_steps(registry=registry, case_book=book))
    run = run_county(tables, args.as_of, registry=registry, case_book=book, criteria=args.criteria,
                     progress=bar)
    bar.close()
    extra: dict[str, Any] = {}
    if book is not None:
        extra["cases"] = book.cases()
    if registry is not None:
        extra["blacklist"] = registry
    path = write_report(run.report_data(args.county_name, **extra), args.out)
    if args.results:
        run.write(args.results)
        print(f"results -> {Path(args.results).resolve()}")
    print(f"report -> {path}")
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from ruralcredit.demo import run_demo

    run_demo(out=Path(args.out), households=args.households, seed=args.seed)
    return 0


# -- parser ----------------------------------------------------------------------------------------
def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {value}")
    return value


def _date(text: str) -> str:
    from ruralcredit.schema import parse_as_of

    try:
        return str(parse_as_of(text).date())
    except RuralCreditError:
        raise argparse.ArgumentTypeError(f"expected a date YYYY-MM-DD, got {text!r}") from None


def _parser() -> argparse.ArgumentParser:
    from ruralcredit.schema import SUBJECT_TYPES

    p = argparse.ArgumentParser(prog="ruralcredit", description="A county's rural credit system end to end.")
    p.add_argument("--version", action="version", version=f"ruralcredit {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("synth", help="generate a synthetic county and write it as Parquet")
    s.add_argument("--households", type=_positive_int, default=2000)
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--as-of", type=_date, default="2026-06-30", help="snapshot date (YYYY-MM-DD)")
    s.add_argument("--out", required=True, help="output directory")
    s.set_defaults(func=_cmd_synth)

    f = sub.add_parser("features", help="build point-in-time features of one subject type")
    f.add_argument("--tables", required=True, help="directory of table files")
    f.add_argument("--subject-type", choices=SUBJECT_TYPES, default="household")
    f.add_argument("--as-of", type=_date, required=True)
    f.add_argument("--out", required=True, help="features file (.parquet or .csv)")
    f.set_defaults(func=_cmd_features)

    sc = sub.add_parser("score", help="score a feature file with a template or a saved model")
    sc.add_argument("--features", required=True)
    how = sc.add_mutually_exclusive_group()
    how.add_argument("--template", default="household", help="built-in template id or YAML path")
    how.add_argument("--model", help="a model saved with ruralcredit.models.save")
    sc.add_argument("--as-of", type=_date, required=True)
    sc.add_argument("--assume-not-listed", action="store_true",
                    help="score subjects without a 'blacklisted' column as not listed (stated explicitly)")
    sc.add_argument("--out", required=True)
    sc.set_defaults(func=_cmd_score)

    r = sub.add_parser("rate", help="credit lines of households; credit villages and townships")
    r.add_argument("level", choices=["households", "villages", "townships"])
    r.add_argument("--scores", required=True, help="household scores (from 'score')")
    r.add_argument("--features", help="household features (for 'households')")
    r.add_argument("--tables", help="directory of table files (for villages and townships)")
    r.add_argument("--criteria", default="zhaoyang-2014", help="village-criteria pack id or YAML path")
    r.add_argument("--policy", default="household-micro-credit", help="loan-terms pack id or YAML path")
    r.add_argument("--as-of", type=_date, required=True)
    r.add_argument("--out", required=True)
    r.set_defaults(func=_cmd_rate)

    w = sub.add_parser("warn", help="scan the tables for early warnings; optionally record them as cases")
    w.add_argument("--tables", required=True)
    w.add_argument("--rules", default="early-warning", help="warning-rules pack id or YAML path")
    w.add_argument("--as-of", type=_date, required=True)
    w.add_argument("--out", required=True)
    w.add_argument("--store", help="SQLite file or database URL: record warnings in cases")
    w.add_argument("--by", help="who records the cases")
    w.set_defaults(func=_cmd_warn)

    b = sub.add_parser("blacklist", help="the blacklist registry: propose, approve, remove, repair, screen, verify")
    b.add_argument("action", choices=["propose", "approve", "reject", "remove", "approve-removal", "repair", "list",
                                      "screen", "verify"])
    b.add_argument("--store", required=True, help="SQLite file or database URL")
    b.add_argument("--by", help="the user acting (maker or checker)")
    b.add_argument("--subject", help="resident ID number or USCC (propose)")
    b.add_argument("--name", help="subject's name (propose)")
    b.add_argument("--category", default="debt.malicious_evasion")
    b.add_argument("--severity", choices=["minor", "ordinary", "serious"], default="ordinary")
    b.add_argument("--legal-basis", help="the law or rule the listing rests on (propose)")
    b.add_argument("--institution", help="the source institution (propose)")
    b.add_argument("--document", help="document number of the decision (propose)")
    b.add_argument("--evidence-hash", help="SHA-256 of the evidence file (propose)")
    b.add_argument("--effective", type=_date, help="effective date (propose)")
    b.add_argument("--listing-id")
    b.add_argument("--request-id")
    b.add_argument("--reason", choices=["expired", "repaid", "appeal_upheld", "credit_repair", "data_error"],
                   default="repaid")
    b.add_argument("--on", type=_date, help="date (remove, repair, list, screen)")
    b.add_argument("--obligations-met", action="store_true")
    b.add_argument("--subjects", help="subjects file to screen: subject_id, id_number or uscc, name")
    b.add_argument("--out", help="screening results file")
    b.add_argument("--note", default="")
    b.set_defaults(func=_cmd_blacklist)

    e = sub.add_parser("eligibility", help="decide subsidy eligibility, every condition with its outcome")
    e.add_argument("--subjects", required=True, help="subject_id, id_number/uscc, grade, has_npl, ...")
    e.add_argument("--policy", default="agri-subsidy", help="eligibility pack id or YAML path")
    e.add_argument("--store", help="SQLite file or database URL of the registry")
    e.add_argument("--tables", help="directory with roles, persons, enterprises (joint punishment)")
    e.add_argument("--as-of", type=_date, required=True)
    e.add_argument("--out", required=True)
    e.set_defaults(func=_cmd_eligibility)

    rp = sub.add_parser("report", help="run the county end to end and write the HTML report")
    rp.add_argument("--tables", required=True)
    rp.add_argument("--as-of", type=_date, required=True)
    rp.add_argument("--store", help="SQLite file or database URL (registry and cases)")
    rp.add_argument("--criteria", default="zhaoyang-2014")
    rp.add_argument("--county-name", default="county")
    rp.add_argument("--results", help="also write every result table into this directory")
    rp.add_argument("--out", default="report.html")
    rp.set_defaults(func=_cmd_report)

    d = sub.add_parser("demo", help="run the whole pipeline on a synthetic county with an embedded SQLite store")
    d.add_argument("--out", default="demo-output", help="output directory (report, store, tables)")
    d.add_argument("--households", type=_positive_int, default=3000)
    d.add_argument("--seed", type=int, default=7)
    d.set_defaults(func=_cmd_demo)
    return p


_REQUIRED: dict[tuple[str, str], tuple[str, ...]] = {
    ("blacklist", "propose"): ("by", "subject", "name", "effective", "legal_basis", "institution", "document",
                               "evidence_hash"),
    ("blacklist", "approve"): ("by", "listing_id"),
    ("blacklist", "reject"): ("by", "listing_id"),
    ("blacklist", "remove"): ("by", "listing_id", "on"),
    ("blacklist", "repair"): ("by", "listing_id", "on"),
    ("blacklist", "approve-removal"): ("by", "request_id"),
    ("blacklist", "screen"): ("by", "subjects", "on"),
    ("rate", "households"): ("features",),
    ("rate", "villages"): ("tables",),
    ("rate", "townships"): ("tables",),
}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    sub = getattr(args, "action", None) or getattr(args, "level", None)
    for name in _REQUIRED.get((args.command, sub or ""), ()):
        if getattr(args, name) in (None, ""):
            parser.error(f"{args.command} {sub} needs --{name.replace('_', '-')}")
    try:
        return int(args.func(args))
    except RuralCreditError as exc:
        from ruralcredit.ids import mask_ids_in_text

        print(f"ruralcredit {args.command}: error: {mask_ids_in_text(str(exc))}", file=sys.stderr)
        return EXIT_BAD_INPUT


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
