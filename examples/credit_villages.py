"""Credit villages and townships of a synthetic county, with the criteria each met or missed.

Steps: make a synthetic county -> a month before the rating date the risk platform scans it
(:func:`ruralcredit.risk.scan`) and its warnings become cases; a simulated analyst
(:func:`ruralcredit.demo.simulate_case_analysis`) confirms the malicious
debt evaders and the illegal-fundraising cooperative, a clerk proposes them for the blacklist and a
supervisor approves (maker-checker, :class:`ruralcredit.blacklist.Registry` on an in-memory SQLite
store) -> on the rating date the county runs end to end (:func:`ruralcredit.pipeline.run_county`):
expert scores with the blacklist veto, credit households, villages, townships and the county under a
``village_criteria`` policy pack, whose vetoes count the listings in force and the confirmed cases
-> each area's figures and every criterion's value against its threshold -> the village star level
each household carries into its loan terms -> the same county under a local variant of the pack.

Run::

    .venv/bin/python examples/credit_villages.py --households 3000 --pack zhaoyang-2014
"""

from __future__ import annotations

import argparse
import time

import pandas as pd

from ruralcredit.blacklist import Registry
from ruralcredit.demo import simulate_case_analysis
from ruralcredit.pipeline import confirmed_cases, listed_subjects, run_county
from ruralcredit.rating.villages import AreaRating, rate_villages
from ruralcredit.risk import CaseBook
from ruralcredit.store import open_store
from ruralcredit.synth import make_county


def show(rating: AreaRating, name_col: str | None, columns: list[str]) -> None:
    s = rating.summary
    table = s[[rating.code_column, *([name_col] if name_col else []), *columns]].copy()
    for c in ("credit_household_share", "on_time_borrower_share", "npl_ratio", "credit_village_share",
              "credit_township_share"):
        if c in table.columns:
            table[c] = table[c].map(lambda x: "—" if pd.isna(x) else f"{x:.1%}")
    print(table.to_string(index=False))
    print()
    for code, rows in rating.criteria.groupby(rating.code_column, sort=True):
        label = code
        if name_col:
            label += " " + s.loc[s[rating.code_column] == code, name_col].iloc[0]
        verdict = s.loc[s[rating.code_column] == code]
        credit = bool(verdict[rating.credit_column].iloc[0])
        stars = int(verdict["stars"].iloc[0])
        print(f"  {label}: {'CREDIT ' + rating.level.upper() + ' ' + '*' * stars if credit else 'not rated credit'}")
        base = rows[rows["kind"] != "star"]
        for r in base.itertuples():
            mark = "ok " if r.met and r.status == "met" else ("?  " if r.status == "unknown" else "NO ")
            print(f"      {mark}{r.reason_en}")
            print(f"         {r.reason_zh}")
        nxt = rows[(rows["kind"] == "star") & (rows["star_level"] == stars + 1) & ~rows["met"]]
        if credit and len(nxt):
            print(f"      next star needs: {', '.join(nxt['reason_en'])}")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--households", type=int, default=3000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--as-of", default="2026-06-30")
    ap.add_argument("--pack", default="zhaoyang-2014", help="built-in village_criteria pack id or a YAML path")
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    county = make_county(households=args.households, seed=args.seed, as_of=args.as_of)
    as_of = county.as_of
    print(f"Synthetic county {county.county_code}: {len(county.households):,} households in "
          f"{len(county.villages)} villages, {len(county.loans):,} loans, as of {as_of.date()}")

    store = open_store("sqlite://")  # in memory: registry, cases and their hash-chained events
    registry, book = Registry(store), CaseBook(store)
    earlier = as_of - pd.Timedelta(days=30)
    # warnings -> cases -> the confirmed ones listed by a clerk, approved by a supervisor (simulated analysts)
    warnings, _ = simulate_case_analysis(county, registry, book, earlier)
    # The vetoes count confirmed matters only: listings in force and confirmed cases, not raw warnings.
    listed = listed_subjects(county.tables, registry, as_of)[["subject_id", "category"]]
    confirmed = confirmed_cases(book)
    print(f"Risk scan on {earlier.date()}: {len(warnings)} warning(s) -> {len(book.cases())} case(s); "
          f"confirmed: {confirmed['category'].value_counts().to_dict()}")
    in_force = registry.in_force(on=as_of)
    print(f"Blacklist (maker-checker): {len(in_force)} listing(s) in force on "
          f"{as_of.date()}, reaching {listed['subject_id'].nunique()} subject id(s) of the tables")
    for row in registry.listings().itertuples():
        print(f"  {row.listing_id} {row.subject_masked} {row.category} {row.status}")
    print()

    run = run_county(county, as_of, registry=registry, case_book=book, templates={"household": "household"},
                     criteria=args.pack, recorded_by="system")
    villages, townships, counties = run.villages, run.townships, run.county
    scores = run.scores["household"]
    mix = scores["grade"].astype(object).value_counts().to_dict()
    print(f"Household grades from the expert scorecard, template {run.record['templates']['household']['id']} "
          f"(listed heads vetoed): {mix}")
    p = villages.policy
    print(f"Policy {p['policy_id']} v{p['policy_version']} (hash {p['policy_hash'][:12]}): {p['policy_source']}")
    print(f"Rated in {time.perf_counter() - t0:.1f} s; valid until {villages.summary['valid_until'].iloc[0].date()}, "
          f"next re-rating {villages.summary['next_rerating'].iloc[0].date()}\n")

    print(f"== Villages (信用村): {int(villages.summary['credit_village'].sum())} of {len(villages.summary)} credit")
    show(villages, "village_name", ["households", "archived_households", "credit_household_share", "borrowers",
                                    "on_time_borrower_share", "npl_ratio", "blacklisted", "open_warnings",
                                    "credit_village", "stars"])
    if townships is not None:  # a pack may rate villages only
        print(f"\n== Townships (信用乡镇): {int(townships.summary['credit_township'].sum())} of "
              f"{len(townships.summary)} credit")
        show(townships, "township_name", ["villages", "credit_villages", "credit_village_share", "borrowers",
                                          "on_time_borrower_share", "npl_ratio", "credit_township"])
    if counties is not None:
        print("\n== County (信用县)")
        show(counties, None, ["townships", "credit_townships", "credit_township_share", "credit_county"])

    stars = run.households["village_stars"]
    print("\nVillage stars carried into loan terms (households per star level): "
          f"{stars.value_counts().sort_index().to_dict()}")

    # Definitions are policy parameters: the same county under a local variant whose on-time borrowers are
    # read from the loan snapshot (no arrears on the rating date) instead of 12 months of instalments.
    base = villages.pack
    variant = base.model_copy(update={
        "id": f"{base.id}-snapshot", "version": f"{base.version}-local",
        "payload": base.payload.model_copy(update={"on_time": base.payload.on_time.model_copy(
            update={"basis": "snapshot"})})})
    local = rate_villages(scores, county.tables, variant, as_of, blacklisted=listed, warnings=confirmed)
    s = local.summary
    print(f"\n== Local variant {variant.id} v{variant.version} (hash {variant.policy_hash[:12]}): on-time = no "
          f"arrears on {as_of.date()}: {int(s['credit_village'].sum())} of {len(s)} credit villages")
    table = s[["village_code", "village_name", "on_time_borrower_share", "npl_ratio", "vetoed", "credit_village",
               "stars"]].copy()
    for c in ("on_time_borrower_share", "npl_ratio"):
        table[c] = table[c].map(lambda x: "—" if pd.isna(x) else f"{x:.1%}")
    print(table.to_string(index=False))
    verified = store.verify()
    print(f"\nAudit chain of listings and cases: {'verified' if verified.ok else 'BROKEN'} ({verified.detail})")
    store.close()


if __name__ == "__main__":
    main()
