"""Benchmark: credit villages, townships and counties on a large synthetic province.

The frames are generated directly with numpy (not through ``ruralcredit.synth``): ``--households``
households in ``households / 200`` villages (20 villages per township, 25 townships per county),
40% of households borrowing (some twice), 5% late, 2% of loans non-performing, a thousand
warnings and listings, rated under the ``zhaoyang-2014`` pack (on-time basis ``--basis``; the
``repayments`` basis adds 12 instalments per loan). Timed phases: generating the frames, validating them
(``schema.validate_all``, which ``rate_villages`` also runs first), ``rate_villages`` end to end
(validation included), ``rate_townships`` and ``rate_counties``.

Usage::

    python benchmarks/bench_villages.py --households 1000000 [--basis snapshot|repayments]

The brief's target is 10 million households in 50,000 villages; on a shared 2-core machine run
1-2 million and extrapolate (every phase is linear in the number of rows).
"""

from __future__ import annotations

import argparse
import gc
import os
import time

import numpy as np
import pandas as pd

from ruralcredit.ids import make_resident_ids
from ruralcredit.packs import load_pack
from ruralcredit.rating.villages import VillageCriteria, rate_counties, rate_townships, rate_villages
from ruralcredit.schema import validate_all

AS_OF = pd.Timestamp("2025-12-31")


def _codes(n_villages: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    v = np.arange(n_villages)
    village_in_township = v % 20
    township = v // 20
    township_in_county = township % 25
    county = township // 25
    prefecture = 1 + county // 5
    county_code = np.char.add(np.char.add("53", np.char.zfill(prefecture.astype(str), 2)),
                              (21 + county % 5).astype(str))
    township_code = np.char.add(county_code, (100 + township_in_county).astype(str))
    village_code = np.char.add(township_code, (201 + village_in_township).astype(str))
    return village_code, township_code, county_code


def make_frames(n_households: int, *, basis: str, seed: int = 0) -> tuple[dict[str, pd.DataFrame], pd.DataFrame,
                                                                          pd.DataFrame, pd.DataFrame]:
    """Tables, scores, blacklist and warnings for ``n_households`` households."""
    rng = np.random.default_rng(seed)
    nv = max(n_households // 200, 1)
    vcode, tcode, ccode = _codes(nv)
    villages = pd.DataFrame({"village_code": vcode, "village_name": "村", "township_code": tcode,
                             "township_name": "乡", "county_code": ccode})
    hv = rng.integers(0, nv, n_households)
    sid = pd.Series(np.arange(n_households)).astype(str).radd("H")
    archived = rng.random(n_households) < 0.8
    n = n_households
    households = pd.DataFrame({
        "subject_id": sid, "village_code": vcode[hv],
        "head_id_number": make_resident_ids("530102", np.datetime64("1960-01-01")
                                            + rng.integers(0, 15000, n).astype("timedelta64[D]"),
                                            rng.integers(0, 1000, n)),
        "head_name": "户主", "size": 4, "labour_force": 2, "archived": archived,
        "archived_date": np.where(archived, np.datetime64("2020-01-01", "ns"), np.datetime64("NaT", "ns")),
        "survey_date": pd.Timestamp("2025-06-01"), "head_education": "junior", "head_health": "good",
        "head_marital_status": "married", "annual_income": 5e4, "operating_income": 3e4, "annual_expenses": 2e4,
        "house_area": 100.0, "house_structure": "brick_concrete", "house_value": 1e5, "land_mu": 5.0,
        "livestock_units": 1.0, "machinery_value": 0.0, "vehicle_value": 0.0, "deposits": 1e4, "other_assets": 0.0,
        "informal_debt": 0.0, "insurance_cover": 0.0, "honours": 0, "village_assessment": "good",
        "credit_report_status": "normal", "bad_credit_date": pd.NaT, "criminal_record_date": pd.NaT,
    })
    grades = np.array(["AAA", "AA", "A", "B", "C"])[rng.choice(5, n, p=[0.1, 0.25, 0.3, 0.25, 0.1])]
    scores = pd.DataFrame({"subject_id": sid, "grade": grades})

    borrowers = rng.choice(n, int(0.4 * n), replace=False)
    borrowers = np.concatenate([borrowers, borrowers[: len(borrowers) // 10]])  # 10% borrow twice
    nl = len(borrowers)
    late = rng.random(nl) < 0.05
    npl = rng.random(nl) < 0.02
    amount = rng.integers(10, 200, nl) * 1000.0
    issue = AS_OF - pd.to_timedelta(rng.integers(30, 700, nl), unit="D")
    loans = pd.DataFrame({
        "loan_id": pd.Series(np.arange(nl)).astype(str).radd("L"), "borrower_id": sid.to_numpy()[borrowers],
        "borrower_type": "household", "institution": "RCC", "officer_id": "O1", "product": "micro_credit",
        "purpose": "planting", "amount": amount, "interest_rate": 0.05, "issue_date": issue,
        "maturity_date": issue + pd.Timedelta(days=1095), "snapshot_date": AS_OF,
        "balance": amount * 0.6, "overdue_days": np.where(late, 45, 0),
        "five_class": np.where(npl, "substandard", np.where(late, "special_mention", "normal")),
        "closed_date": pd.NaT,
    })
    tables = {"villages": villages, "households": households, "loans": loans}
    if basis == "repayments":
        k = 12
        lid = np.repeat(loans["loan_id"].to_numpy(), k)
        due = np.repeat(AS_OF.to_datetime64(), nl * k) - np.tile(np.arange(k) * 30, nl).astype("timedelta64[D]")
        paid_late = np.repeat(late, k) & (np.tile(np.arange(k), nl) == 0)
        tables["repayments"] = pd.DataFrame({
            "loan_id": lid, "instalment": np.tile(np.arange(1, k + 1), nl), "due_date": due, "due_amount": 1000.0,
            "paid_date": np.where(paid_late, np.datetime64("NaT", "ns"), due.astype("datetime64[ns]")),
            "paid_amount": np.where(paid_late, np.nan, 1000.0),
        })
    pick = rng.choice(n, 1000, replace=False)
    blacklisted = pd.DataFrame({"subject_id": sid.to_numpy()[pick[:500]], "reason": "malicious_evasion"})
    warnings = pd.DataFrame({"subject_id": sid.to_numpy()[pick[500:]], "category": "illegal_fundraising"})
    return tables, scores, blacklisted, warnings


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--households", type=int, default=1_000_000)
    ap.add_argument("--basis", choices=("snapshot", "repayments"), default="snapshot",
                    help="on-time definition: the zhaoyang-2014 pack with its on_time.basis set to this")
    args = ap.parse_args()
    pack_id = "zhaoyang-2014"
    base = load_pack(pack_id, VillageCriteria, AS_OF)
    payload = base.payload.model_copy(update={"on_time": base.payload.on_time.model_copy(update={"basis": args.basis})})
    pack = base.model_copy(update={"payload": payload})

    timings: dict[str, tuple[float, float]] = {}

    def timed(name: str, fn):  # wall and CPU seconds (CPU time is the steadier figure on a shared machine)
        gc.collect()
        w0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        timings[name] = (time.perf_counter() - w0, time.process_time() - c0)
        return out

    # warm up (imports, Arrow kernels) on a small county so that the timings below are steady-state
    small, small_scores, small_bl, small_wn = make_frames(4000, basis=args.basis, seed=1)
    rate_counties(rate_townships(rate_villages(small_scores, small, pack, AS_OF, blacklisted=small_bl,
                                               warnings=small_wn)))
    tables, scores, blacklisted, warnings = timed("generate frames",
                                                  lambda: make_frames(args.households, basis=args.basis))
    timed("validate_all", lambda: validate_all(tables))
    v = timed("rate_villages (all)", lambda: rate_villages(scores, tables, pack, AS_OF, blacklisted=blacklisted,
                                                           warnings=warnings))
    t = timed("rate_townships", lambda: rate_townships(v))
    c = timed("rate_counties", lambda: rate_counties(t))

    nv = len(v.summary)
    rows = {k: len(df) for k, df in tables.items()}
    print(f"households={args.households:,} villages={nv:,} townships={len(t.summary):,} counties={len(c.summary):,} "
          f"basis={args.basis} pack={pack_id} rows={rows} cpus={os.cpu_count()} load={os.getloadavg()[0]:.1f}")
    print(f"  {'phase':24s} {'wall s':>8s} {'cpu s':>8s}")
    for name, (wall, cpu) in timings.items():
        print(f"  {name:24s} {wall:8.2f} {cpu:8.2f}")
    wall_v, cpu_v = timings["rate_villages (all)"]
    wall_val, cpu_val = timings["validate_all"]
    print(f"  rate_villages beyond validation: ~{cpu_v - cpu_val:.2f} s CPU")
    print(f"  credit villages {int(v.summary['credit_village'].sum()):,} of {nv:,}; criteria rows {len(v.criteria):,}")
    scale = 10_000_000 / args.households
    print(f"  linear extrapolation to 10M households / 50k villages: rate_villages ~{cpu_v * scale:.0f} s CPU "
          f"(~{wall_v * scale:.0f} s wall at this load), of which validation ~{cpu_val * scale:.0f} s CPU")


if __name__ == "__main__":
    main()
