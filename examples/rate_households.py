"""Rate a synthetic county's households and family farms with the built-in indicator templates.

Steps: make a synthetic county -> build point-in-time features -> score with the expert scorecard
(household and family-farm templates) -> grade mix per village -> a few households' reasons (ID
numbers masked) -> credit villages and their stars -> credit lines, terms and rates.

Run::

    .venv/bin/python examples/rate_households.py --households 2000
"""

from __future__ import annotations

import argparse
import time

import pandas as pd

from ruralcredit.features import build_features
from ruralcredit.ids import mask_resident_ids
from ruralcredit.models import ExpertScorecard
from ruralcredit.rating import (
    is_credit_household,
    load_loan_terms,
    loan_terms,
    rate_villages,
    village_stars_for,
)
from ruralcredit.synth import make_county


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--households", type=int, default=2000, help="households in the synthetic county")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--as-of", default="2026-06-30", help="rating date (YYYY-MM-DD)")
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    county = make_county(households=args.households, seed=args.seed, as_of=args.as_of)
    as_of = county.as_of
    print(f"synthetic county: {len(county.households):,} households, {len(county.enterprises):,} organisations, "
          f"{len(county.loans):,} loans, as of {as_of.date()} ({time.perf_counter() - t0:.1f} s)")

    results = {}
    for subject_type in ("household", "family_farm"):
        t1 = time.perf_counter()
        feats = build_features(county, subject_type, as_of)
        # The blacklist veto reads a column the caller supplies from the blacklist registry at as_of;
        # this example has no registry, so nobody is listed.
        feats["blacklisted"] = False
        card = ExpertScorecard(subject_type, as_of=as_of).fit(feats)
        scores = card.score(feats)
        results[subject_type] = (card, feats, scores)
        mix = scores["grade"].value_counts().reindex(["AAA", "AA", "A", "B", "C", "VETO"], fill_value=0)
        print(f"\n{subject_type}: {len(scores):,} scored with template {card.template_.id} "
              f"v{card.template_.version} in {time.perf_counter() - t1:.2f} s; grades: "
              + ", ".join(f"{g} {n}" for g, n in mix.items()))

    card, feats, scores = results["household"]
    households = county.households[["subject_id", "village_code", "head_id_number", "head_name"]]
    villages = county.villages[["village_code", "village_name"]]
    rated = scores.merge(households, on="subject_id").merge(villages, on="village_code")
    rated["credit_household"] = is_credit_household(rated["grade"], card.template_)

    print("\nGrade mix per village (households):")
    mix = pd.crosstab(rated["village_name"], rated["grade"]).reindex(
        columns=["AAA", "AA", "A", "B", "C", "VETO"], fill_value=0)
    mix["credit share"] = rated.groupby("village_name")["credit_household"].mean().map("{:.0%}".format)
    print(mix.to_string())

    print("\nA few households and why (ID numbers masked):")
    sample = pd.concat([rated[rated["grade"] == g].head(1) for g in ["AAA", "A", "B", "C", "VETO"]])
    sample = sample.assign(head_id=mask_resident_ids(sample["head_id_number"]).to_numpy())
    for row in sample.itertuples():
        print(f"  {row.head_id} {row.village_name}: score {row.score:.1f}, grade {row.grade}"
              + (f", vetoes {row.vetoes}" if row.vetoes else ""))
        for k in (1, 2, 3):
            zh, en = getattr(row, f"reason_{k}_zh"), getattr(row, f"reason_{k}_en")
            if en:
                print(f"      {getattr(row, f'reason_{k}')}: {en} / {zh}")

    village_rating = rate_villages(scores, county.tables, "zhaoyang-2014", as_of)
    stars = village_stars_for(households, village_rating)
    credit_villages = int((village_rating.summary["stars"] > 0).sum())
    print(f"\nCredit villages (Zhaoyang 2014 rules): {credit_villages} of {len(village_rating.summary)}")

    policy = load_loan_terms("household-micro-credit", as_of)
    terms = loan_terms(scores, feats, policy, as_of, village_stars=stars)
    lines = terms[terms["line"] > 0]
    print(f"\nLoan terms ({policy.id} v{policy.version}): {len(lines):,} credit households get a line; "
          f"total {lines['line'].sum():,.0f} yuan; median line {lines['line'].median():,.0f}; "
          f"{(terms['line_rule'] == 'cap').sum()} at the cap")
    if terms["lpr_stale"].any():
        print(f"  note: LPR quote of {terms['lpr_date'].iloc[0].date()} is older than the pack's "
              f"{policy.payload.lpr_stale_after_days} days: add the latest quote to the pack")
    print(terms.groupby("grade")[["line", "rate"]].agg(["count", "mean"]).round(4).to_string())
    for row in terms[terms["line"] > 0].head(2).itertuples():
        print(f"  {row.line_detail}\n  {row.rate_rule}, {row.term_months} months")


if __name__ == "__main__":
    main()
