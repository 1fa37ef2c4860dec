"""``make demo``: the whole pipeline on a synthetic county with the embedded SQLite store (layer 5).

The story it tells, on a synthetic rural county of Kunming:

1. a synthetic county is generated (every table, with ground truth kept aside) and written as Parquet;
2. a month before the rating date, the risk platform's warnings become cases; the malicious-evasion
   candidates it confirms are put on the blacklist by a clerk and approved by a supervisor
   (maker-checker), and the illegal-fundraising cooperative is transferred to the authorities and
   listed, which reaches its legal representative through joint punishment;
3. on the rating date the county runs end to end (:func:`ruralcredit.pipeline.run_county`):
   features, expert scores with reasons and vetoes, credit households, credit villages, townships
   and the county, loan terms, subsidy eligibility, cases, a fairness audit;
4. stability against the previous year's scores and the model's discrimination against the
   synthetic truth are added, the store's hash chain is verified, and an HTML report is written.

Everything lands in one output directory; the report's path is printed last.
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd

from ruralcredit._progress import ProgressBar
from ruralcredit.blacklist import Registry
from ruralcredit.features import build_features
from ruralcredit.models import ExpertScorecard
from ruralcredit.pipeline import CountyRun, count_steps, run_county
from ruralcredit.report import write_report
from ruralcredit.risk import scan
from ruralcredit.risk.cases import CaseBook
from ruralcredit.store import open_store
from ruralcredit.synth import make_county

__all__ = ["run_demo", "simulate_case_analysis"]

_CLERK = "clerk.li"
_SUPERVISOR = "supervisor.wang"
_ANALYST = "analyst.zhao"


def _evidence_hash(evidence: object) -> str:
    text = json.dumps(evidence, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def simulate_case_analysis(county, registry: Registry, book: CaseBook, on: pd.Timestamp
                           ) -> tuple[pd.DataFrame, dict[str, int]]:
    """Stand in for a county's analysts on a synthetic county: warnings -> cases -> confirmed listings.

    A warning is a candidate, not a fact. Here the early-warning scan runs on ``on``, every warning
    joins or opens a case, and a simulated analyst confirms only the strong candidates:

    * a household named by **two or more** malicious-evasion rules at orange or red (e.g. long
      overdue while deposits could pay *and* assets moved away) is verified and listed; one rule
      alone stays an open case under monitoring (on the synthetic county this keeps nearly every
      true evader and drops most false ones);
    * a cooperative warned for illegal fundraising is verified, transferred to the authorities and
      listed (joint punishment then reaches its legal representative);
    * one guarantee-exposure case is analysed and dismissed as a false alarm.

    Every listing is proposed by a clerk and approved by a supervisor (maker-checker); every case move
    is an event in the store's hash chain. Real analysts decide from evidence the synthetic county
    does not have: use this for demos and examples, never as a listing rule.

    Returns
    -------
    (warnings, counts)
        The scan's warnings and ``{"listed", "transferred", "dismissed"}`` counts.
    """
    warnings = scan(county, "early-warning", on)
    book.open_cases(warnings, by="system")
    cases = book.cases(open_only=True)
    households = county.households.set_index("subject_id")
    enterprises = county.enterprises.set_index("subject_id")
    counts = {"listed": 0, "transferred": 0, "dismissed": 0}

    def case_of(subject_id: str, category: str) -> str | None:
        found = cases[(cases["subject_id"] == subject_id) & (cases["category"] == category)]
        return None if found.empty else str(found["case_id"].iloc[0])

    evasion = warnings[(warnings["category"] == "malicious_evasion") & (warnings["subject_type"] == "household")
                       & warnings["severity"].isin(["orange", "red"])]
    for subject_id, group in evasion.groupby("subject_id", sort=True):
        case_id = case_of(subject_id, "malicious_evasion")
        if case_id is None or group["rule_id"].nunique() < 2:
            continue
        book.assign(case_id, _ANALYST, by=_SUPERVISOR)
        book.analyse(case_id, by=_ANALYST, note="long overdue while deposits could repay; collection notices refused")
        book.verify_risk(case_id, by=_ANALYST, note="ability to pay confirmed from deposits and assets")
        head = households.loc[subject_id]
        listing = registry.propose(
            head["head_id_number"], name=head["head_name"], category="debt.malicious_evasion", severity="ordinary",
            legal_basis="昆明市方案（2019）第22条：对恶意逃废银行贷款的经营主体实行“黑名单”制",
            source_institution="county rural credit cooperative", document_number=f"RCC-BL-{case_id[-8:]}",
            evidence_hash=_evidence_hash(group["evidence"].tolist()), effective_date=on, by=_CLERK)
        registry.approve(listing.listing_id, by=_SUPERVISOR)
        book.resolve(case_id, by=_SUPERVISOR, note=f"listed as {listing.listing_id}")
        counts["listed"] += 1

    fundraisers = warnings[(warnings["category"] == "illegal_fundraising")
                           & (warnings["subject_type"] == "cooperative")]
    for subject_id, group in fundraisers.groupby("subject_id", sort=True):
        case_id = case_of(subject_id, "illegal_fundraising")
        if case_id is None or subject_id not in enterprises.index:
            continue
        book.analyse(case_id, by=_ANALYST, note="money taken from non-members at promised yields")
        book.verify_risk(case_id, by=_ANALYST, note="confirmed with the township")
        book.transfer(case_id, by=_SUPERVISOR, note="transferred to the public security bureau")
        coop = enterprises.loc[subject_id]
        ident = coop["uscc"] if isinstance(coop["uscc"], str) else coop["operator_id_number"]
        listing = registry.propose(
            ident, name=coop["name"], category="finance.illegal_fundraising", severity="serious",
            legal_basis="防范和处置非法集资条例（2021）", source_institution="county financial office",
            document_number=f"FIN-{case_id[-8:]}", evidence_hash=_evidence_hash(group["evidence"].tolist()),
            effective_date=on, by=_CLERK)
        registry.approve(listing.listing_id, by=_SUPERVISOR)
        counts["listed"] += 1
        counts["transferred"] += 1

    # A false alarm closed after analysis, so the case book shows every kind of outcome.
    rest = book.cases(open_only=True)
    rest = rest[rest["category"] == "guarantee_exposure"]
    if len(rest):
        case_id = rest["case_id"].iloc[0]
        book.analyse(case_id, by=_ANALYST, note="guarantees are within the household's own cooperative group")
        book.dismiss(case_id, by=_SUPERVISOR, note="false alarm: exposure covered by pledged deposits")
        counts["dismissed"] += 1
    return warnings, counts


def _previous_scores(county, as_of: pd.Timestamp) -> pd.DataFrame:
    """Household scores a year earlier with the same template, for stability (PSI)."""
    before = as_of - pd.DateOffset(years=1)
    feats = build_features(county, "household", before)
    feats["blacklisted"] = False
    return ExpertScorecard("household", as_of=before).fit(feats).score(feats)


def _print_summary(run: CountyRun, counts: dict[str, int], registry: Registry, verify_ok: bool,
                   report: Path, out: Path, seconds: float) -> None:
    hh = run.households
    mix = hh["grade"].astype(object).value_counts()
    grades = ", ".join(f"{g} {int(mix.get(g, 0))}" for g in ["AAA", "AA", "A", "B", "C", "VETO"])
    v = run.villages.summary
    print(f"\nruralcredit demo: county as of {run.as_of.date()} ({seconds:.0f} s)")
    print(f"  households scored     {len(hh):,}  ({grades})")
    print(f"  credit households     {int(hh['credit_household'].sum()):,} "
          f"({hh['credit_household'].mean():.0%})")
    towns = ""
    if run.townships is not None:
        t = run.townships.summary
        towns = f"; credit townships {int(t['credit_township'].sum())} of {len(t)}"
    print(f"  credit villages       {int(v['credit_village'].sum())} of {len(v)}{towns}")
    lines = run.terms[run.terms["line"] > 0]
    print(f"  credit lines          {len(lines):,} households, {lines['line'].sum():,.0f} yuan in all")
    by_cat = run.warnings.groupby("category").size().sort_values(ascending=False)
    print(f"  early warnings        {len(run.warnings)}: " + ", ".join(f"{k} {n}" for k, n in by_cat.items()))
    print(f"  blacklist             {counts['listed']} listed after case analysis (maker-checker), "
          f"{counts['transferred']} case(s) transferred, {counts['dismissed']} dismissed")
    for row in registry.listings().head(3).itertuples():
        print(f"      {row.subject_masked}  {row.category}  {row.status}")
    if run.eligibility is not None:
        d = run.eligibility.decisions
        print(f"  subsidy eligibility   {int(d['eligible'].sum()):,} of {len(d):,} eligible "
              f"({run.eligibility.record['policy_id']} v{run.eligibility.record['policy_version']})")
    flagged = run.fairness.flagged()
    print(f"  fairness              {len(flagged)} group(s) flagged for adverse impact; "
          f"{sum('too small' in w for w in run.fairness.warnings)} too small to judge")
    print(f"  audit chain           {'verified' if verify_ok else 'BROKEN'}")
    sample = hh[hh["grade"].astype(object) == "A"].head(1)
    if len(sample):
        s = sample.iloc[0]
        print(f"  e.g. household {s['subject_id']}: score {s['score']:.1f}, grade {s['grade']}; "
              f"reasons: {s['reason_1_en']}; {s['reason_2_en']}")
    print(f"\n  results:  {out.resolve()}")
    print(f"  report:   {report.resolve()}")


def run_demo(out: Path | str = "demo-output", households: int = 3000, seed: int = 7) -> Path:
    """Run the whole pipeline on a synthetic county and write everything under ``out``.

    Parameters
    ----------
    out : path
        Output directory: ``tables/`` (the synthetic county as Parquet), ``results/`` (every result
        table), ``ruralcredit.db`` (the SQLite store: registry, cases, event log) and
        ``report.html``. An existing store there is replaced, so each run starts clean.
    households : int
        Size of the synthetic county.
    seed : int
        Its random seed.

    Returns
    -------
    Path
        The report's path.
    """
    t0 = time.perf_counter()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    # two steps of the demo's own, the county run's, one more after it
    step = ProgressBar(2 + count_steps(registry=True, case_book=True) + 1)
    step(f"synthetic county: {households:,} households, seed {seed}")
    county = make_county(households=households, seed=seed)
    county.to_parquet(out / "tables")
    as_of = county.as_of

    db = out / "ruralcredit.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    store = open_store(f"sqlite:///{db}")
    registry = Registry(store)
    book = CaseBook(store)

    step("warnings a month earlier -> cases -> listings (maker-checker)")
    _, counts = simulate_case_analysis(county, registry, book, as_of - pd.Timedelta(days=30))

    run = run_county(county, as_of, registry=registry, case_book=book, progress=step)

    step("stability against last year's scores, discrimination against the synthetic truth")
    previous = _previous_scores(county, as_of)
    truth = county.truth["defaults"]
    outcomes = run.households[["subject_id", "score"]].merge(
        truth.loc[truth["subject_type"] == "household", ["subject_id", "default_12m"]], on="subject_id")
    outcomes = outcomes.rename(columns={"default_12m": "y"})
    outcomes["y"] = outcomes["y"].astype(np.int8)

    run.write(out / "results")
    verify_ok = bool(store.verify().ok and registry.verify().ok)
    cases = book.cases()
    data = run.report_data(
        "禄劝彝族苗族自治县（合成）",
        county_code=county.county_code,
        outcomes=outcomes[["y", "score"]],
        psi=(previous["score"].to_numpy(dtype=float), run.households["score"].to_numpy(dtype=float)),
        psi_labels=(str((as_of - pd.DateOffset(years=1)).date()), str(as_of.date())),
        cases=cases,
        blacklist=registry,
    )
    report = write_report(data, out / "report.html")
    step.close()
    _print_summary(run, counts, registry, verify_ok, report, out, time.perf_counter() - t0)
    return report
