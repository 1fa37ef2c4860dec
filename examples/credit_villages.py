"""Credit villages and townships of a synthetic county, with the criteria each met or missed.

Steps: make a synthetic county -> grade its households (expert scorecard on point-in-time
features; a clearly labelled provisional rule if those modules are missing) -> rate villages,
townships and the county under a ``village_criteria`` policy pack -> print each area's figures and
every criterion's value against its threshold -> the village star level each household carries
into its loan terms.

Run::

    .venv/bin/python examples/credit_villages.py --households 3000 --pack zhaoyang-2014
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from ruralcredit.rating.villages import (
    AreaRating,
    rate_counties,
    rate_townships,
    rate_villages,
    village_stars_for,
)
from ruralcredit.synth import make_county


def grade_households(county, as_of: pd.Timestamp) -> tuple[pd.DataFrame, str]:
    """Household grades: the expert scorecard when available, else a provisional rule (said so)."""
    try:
        from ruralcredit.features import build_features
        from ruralcredit.models import ExpertScorecard
    except ImportError:  # pragma: no cover - the scorecard modules ship with the library
        build_features = ExpertScorecard = None
    if build_features is not None and ExpertScorecard is not None:
        feats = build_features(county, "household", as_of)
        feats["blacklisted"] = False  # no blacklist registry in this example
        card = ExpertScorecard("household", as_of=as_of).fit(feats)
        return card.score(feats)[["subject_id", "grade"]], f"expert scorecard, template {card.template_.id}"
    hh = county.households
    good = (hh["credit_report_status"] == "normal") & hh["village_assessment"].isin(["excellent", "good"])
    bad = hh["credit_report_status"] == "bad"
    grade = np.where(bad, "C", np.where(good, "A", "B"))
    return (pd.DataFrame({"subject_id": hh["subject_id"], "grade": grade}),
            "PROVISIONAL RULE (not a scorecard): normal credit report and good conduct = A, bad report = C, else B")


def stand_in_events(county) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Warnings and listings for the vetoes.

    The risk and blacklist modules would supply these; here the synthetic county's injected
    illegal-fundraising organisations and malicious evaders stand in for their output.
    """
    p = county.truth["patterns"]
    fund = p[(p["pattern"] == "illegal_fundraising") & (p["entity_kind"] == "enterprise")]
    evaders = p[(p["pattern"] == "malicious_evader") & (p["entity_kind"] == "household")]
    warnings = pd.DataFrame({"subject_id": fund["entity_id"].to_numpy(), "category": "illegal_fundraising"})
    blacklisted = pd.DataFrame({"subject_id": evaders["entity_id"].to_numpy(), "reason": "malicious_evasion"})
    return warnings, blacklisted


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
    print(f"Synthetic county {county.villages['county_code'].iloc[0]}: {len(county.households):,} households in "
          f"{len(county.villages)} villages, {len(county.loans):,} loans, as of {as_of.date()}")
    scores, how = grade_households(county, as_of)
    mix = scores["grade"].value_counts().to_dict()
    print(f"Household grades from the {how}: {mix}")
    warnings, blacklisted = stand_in_events(county)
    print(f"Veto inputs (stand-ins from the synthetic county's injected patterns): {len(warnings)} illegal-"
          f"fundraising warning(s), {len(blacklisted)} malicious-evasion listing(s)\n")

    villages = rate_villages(scores, county.tables, args.pack, as_of, warnings=warnings, blacklisted=blacklisted)
    townships = rate_townships(villages)
    counties = rate_counties(townships) if villages.pack.payload.county is not None else None
    p = villages.policy
    print(f"Policy {p['policy_id']} v{p['policy_version']} (hash {p['policy_hash'][:12]}): {p['policy_source']}")
    print(f"Rated in {time.perf_counter() - t0:.1f} s; valid until {villages.summary['valid_until'].iloc[0].date()}, "
          f"next re-rating {villages.summary['next_rerating'].iloc[0].date()}\n")

    print(f"== Villages (信用村): {int(villages.summary['credit_village'].sum())} of {len(villages.summary)} credit")
    show(villages, "village_name", ["households", "archived_households", "credit_household_share", "borrowers",
                                    "on_time_borrower_share", "npl_ratio", "blacklisted", "open_warnings",
                                    "credit_village", "stars"])
    print(f"\n== Townships (信用乡镇): {int(townships.summary['credit_township'].sum())} of "
          f"{len(townships.summary)} credit")
    show(townships, "township_name", ["villages", "credit_villages", "credit_village_share", "borrowers",
                                      "on_time_borrower_share", "npl_ratio", "credit_township"])
    if counties is not None:
        print("\n== County (信用县)")
        show(counties, None, ["townships", "credit_townships", "credit_township_share", "credit_county"])

    stars = village_stars_for(county.households[["subject_id", "village_code"]], villages, on=as_of)
    print("\nVillage stars carried into loan terms (households per star level): "
          f"{stars.value_counts().sort_index().to_dict()}")

    # Definitions are policy parameters: the same county under a local variant whose on-time borrowers are
    # read from the loan snapshot (no arrears on the rating date) instead of 12 months of instalments.
    base = villages.pack
    variant = base.model_copy(update={
        "id": f"{base.id}-snapshot", "version": f"{base.version}-local",
        "payload": base.payload.model_copy(update={"on_time": base.payload.on_time.model_copy(
            update={"basis": "snapshot"})})})
    local = rate_villages(scores, county.tables, variant, as_of, warnings=warnings, blacklisted=blacklisted)
    s = local.summary
    print(f"\n== Local variant {variant.id} v{variant.version} (hash {variant.policy_hash[:12]}): on-time = no "
          f"arrears on {as_of.date()}: {int(s['credit_village'].sum())} of {len(s)} credit villages")
    table = s[["village_code", "village_name", "on_time_borrower_share", "npl_ratio", "vetoed", "credit_village",
               "stars"]].copy()
    for c in ("on_time_borrower_share", "npl_ratio"):
        table[c] = table[c].map(lambda x: "—" if pd.isna(x) else f"{x:.1%}")
    print(table.to_string(index=False))


if __name__ == "__main__":
    main()
