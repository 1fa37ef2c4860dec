"""Issuance and fund-flow signals: impersonated loans, loan misuse, re-lending, illegal fundraising.

Loan funds are traced through ``transactions`` rows that carry a ``loan_id``: the borrower's
outflows within ``window_days`` of the issue date are the use of the loan. Counterparties are
compared as parties (a household and its members are one party), so a transfer to a guarantor
household's head counts as a transfer to the guarantor. An *individual* counterparty is one whose
industry is ``individual`` or whose ``counterparty_id`` is a household or person; individuals
without an id are told apart by name.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from ruralcredit.risk._context import Context, day_numbers, iso_days, text
from ruralcredit.risk._frames import best_per, empty, listed, segments, window_counts
from ruralcredit.risk.graph import all_guarantees, joint_liability_loans

__all__ = [
    "flagged_words",
    "guarantor_receives_funds",
    "loan_misuse",
    "non_member_inflows",
    "officer_concentration",
    "officer_misdirected",
    "promised_yield",
    "relending",
    "small_payer_inflows",
    "third_party_repayment",
]


def _recent_loans(ctx: Context, months: int) -> pd.DataFrame:
    L = ctx.loans
    return L.loc[L["issue"].to_numpy() > ctx.months_back(months)]


def _loan_use(ctx: Context, window_days: int, lookback_months: int) -> pd.DataFrame:
    """The borrowers' outflows of each recent loan within ``window_days`` of its issue, with the loan's
    facts: ``loan_id, borrower_id, borrower_type, officer_id, purpose, loan_amount, issue`` and the
    transaction's ``day, amount, industry, counterparty_party, counterparty_name, to_individual,
    individual_key``."""
    key = ("loan_use", window_days, lookback_months)
    if key in ctx.cache:
        return ctx.cache[key]
    t = ctx.transactions
    t = t.loc[(t["direction"].to_numpy() == "out") & pd.notna(t["loan_id"].to_numpy())]
    L = _recent_loans(ctx, lookback_months)
    m = t.merge(L[["loan_id", "borrower_id", "borrower_type", "borrower_party", "officer_id", "purpose", "amount",
                   "issue"]].rename(columns={"amount": "loan_amount"}), on="loan_id")
    spend = (ctx.party_of(m["subject_id"]) == m["borrower_party"].to_numpy()) \
        & (m["day"].to_numpy() >= m["issue"].to_numpy()) \
        & (m["day"].to_numpy() <= m["issue"].to_numpy() + window_days) \
        & (m["counterparty_party"].to_numpy(dtype=object) != m["borrower_party"].to_numpy(dtype=object))
    ctx.cache[key] = m.loc[spend].reset_index(drop=True)
    return ctx.cache[key]


# ------------------------------------------------------------------------------------ impersonated loans


def officer_concentration(ctx: Context, p: Mapping[str, Any]) -> pd.DataFrame:
    """One officer's loans bunched in a short window (信贷员集中放贷).

    Loans issued in the last ``lookback_months``, grouped by officer and by ``group_by``: the
    borrowers' ``village`` (bunching in one village) or the loans' ``guarantor`` (one guarantor behind
    the bunch, the mark of nominee loans); value: the most loans of one group issued within
    ``window_days``. Loans of formal joint-liability groups, issued together by design, are left out
    when ``exclude_joint_liability_groups``. The subject is the officer.
    """
    cols = ["value", "group", "window_from", "window_to", "loans", "n_loans", "borrowers", "n_borrowers"]
    L = _recent_loans(ctx, int(p["lookback_months"]))
    if p["exclude_joint_liability_groups"]:
        L = L.loc[~L["loan_id"].isin(joint_liability_loans(ctx))]
    if p["group_by"] == "guarantor":
        if not ctx.has("guarantees"):
            return empty(cols)
        g = all_guarantees(ctx)
        g = pd.DataFrame({"loan_id": g["loan_id"].to_numpy(dtype=object),
                          "group": ctx.party_of(g["guarantor_id"])}).drop_duplicates()
        L = L.merge(g, on="loan_id")
        L = L.loc[L["group"].to_numpy(dtype=object) != L["borrower_party"].to_numpy(dtype=object)]
    else:
        L = L.assign(group=ctx.village_of(L["borrower_id"]))
    if L.empty:
        return empty(cols)
    key = L["officer_id"].astype(str) + "|" + L["group"].astype(str)
    gcode, _ = pd.factorize(key.to_numpy(dtype=object))
    order, count, end = window_counts(gcode, L["issue"].to_numpy(), int(p["window_days"]))
    s = L.iloc[order].reset_index(drop=True).assign(count=count, end=end, i=np.arange(len(order)))
    best = s.sort_values(["officer_id", "count", "issue", "loan_id"], ascending=[True, False, True, True],
                         kind="mergesort").drop_duplicates("officer_id")
    best = best.loc[best["count"].to_numpy() >= 2]
    if best.empty:
        return empty(cols)
    _, posn = segments(best["i"].to_numpy(), best["end"].to_numpy())
    inwin = s.iloc[posn].reset_index(drop=True)
    loans = listed(inwin, ["officer_id"], "loan_id").rename(columns={"loan_ids": "loans", "n_loan_ids": "n_loans"})
    bor = listed(inwin, ["officer_id"], "borrower_id").rename(
        columns={"borrower_ids": "borrowers", "n_borrower_ids": "n_borrowers"})
    span = inwin.groupby("officer_id", sort=True)["issue"].agg(["min", "max"])
    out = best[["officer_id", "group"]].merge(loans, on="officer_id").merge(bor, on="officer_id")
    out["window_from"] = iso_days(span["min"].reindex(out["officer_id"]).to_numpy())
    out["window_to"] = iso_days(span["max"].reindex(out["officer_id"]).to_numpy())
    out["value"] = out["n_loans"].astype(np.int64)
    out = out.rename(columns={"officer_id": "subject_id"})
    out["subject_type"] = "officer"
    out["key"] = out["subject_id"] + "|" + out["group"].astype(str) + "|" + out["window_from"].astype(str)
    return out[["subject_id", "subject_type", "key", *cols]]


def guarantor_receives_funds(ctx: Context, p: Mapping[str, Any]) -> pd.DataFrame:
    """Loan funds sent to the loan's own guarantor (担保人为实际用款人).

    value: the share of the loan amount the borrower paid to a guarantor (party) of that loan within
    ``window_days`` of issue. Both the borrower and the guarantor get a row.
    """
    cols = ["value", "amount_to_guarantor", "loan_amount", "loan_id", "guarantor_id", "borrower_id", "role"]
    use = _loan_use(ctx, int(p["window_days"]), int(p["lookback_months"]))
    if use.empty:
        return empty(cols)
    g = all_guarantees(ctx)
    gp = pd.DataFrame({"loan_id": g["loan_id"].to_numpy(dtype=object),
                       "counterparty_party": ctx.party_of(g["guarantor_id"])}).drop_duplicates()
    m = use.merge(gp, on=["loan_id", "counterparty_party"])
    if m.empty:
        return empty(cols)
    per = m.groupby(["loan_id", "counterparty_party"], sort=True).agg(
        amount_to_guarantor=("amount", "sum"), loan_amount=("loan_amount", "first"),
        borrower_id=("borrower_id", "first"), borrower_type=("borrower_type", "first")).reset_index()
    per["amount_to_guarantor"] = per["amount_to_guarantor"].round(2)
    per["value"] = per["amount_to_guarantor"].to_numpy() / per["loan_amount"].to_numpy()
    per["guarantor_id"] = per["counterparty_party"]
    per["key"] = per["loan_id"] + "|" + per["guarantor_id"]
    rows = pd.concat([per.assign(subject_id=per["borrower_id"], subject_type=per["borrower_type"], role="borrower"),
                      per.assign(subject_id=per["guarantor_id"], subject_type=ctx.type_of(per["guarantor_id"]),
                                 role="guarantor")], ignore_index=True)
    out = best_per(rows, ["subject_id"], "value", "key")
    return out[["subject_id", "subject_type", "key", *cols]]


def third_party_repayment(ctx: Context, p: Mapping[str, Any]) -> pd.DataFrame:
    """Someone paying other parties' loans (集中还款): outflows that carry the ``loan_id`` of a loan
    whose borrower is another party, in the last ``lookback_months``.

    value: the number of distinct borrowers (parties) whose loans the payer paid.
    """
    cols = ["value", "n_loans", "amount_paid", "borrowers", "loans"]
    t = ctx.transactions
    since = ctx.months_back(int(p["lookback_months"]))
    t = t.loc[(t["direction"].to_numpy() == "out") & pd.notna(t["loan_id"].to_numpy()) & (t["day"].to_numpy() > since)]
    L = ctx.loans
    pos = ctx.loan_index.get_indexer(t["loan_id"].to_numpy(dtype=object))
    t = t.loc[pos >= 0].assign(borrower_party=L["borrower_party"].to_numpy(dtype=object)[pos[pos >= 0]])
    t = t.assign(payer=ctx.party_of(t["subject_id"]))
    t = t.loc[t["payer"].to_numpy(dtype=object) != t["borrower_party"].to_numpy(dtype=object)]
    # funds passed on to the payer by the borrower are the borrower's use of the loan, not a repayment
    if t.empty:
        return empty(cols)
    per = t.groupby("payer", sort=True).agg(amount_paid=("amount", "sum"))
    per["amount_paid"] = per["amount_paid"].round(2)
    bor = listed(t, ["payer"], "borrower_party").set_index("payer")
    loans = listed(t, ["payer"], "loan_id").set_index("payer")
    per = per.join(bor).join(loans).rename(columns={"borrower_partys": "borrowers", "loan_ids": "loans",
                                                    "n_loan_ids": "n_loans"})
    per["value"] = per.pop("n_borrower_partys").astype(np.int64)
    out = per.reset_index().rename(columns={"payer": "subject_id"})
    out["subject_type"] = ctx.type_of(out["subject_id"])
    out["key"] = out["loans"].map(",".join)
    return out[["subject_id", "subject_type", "key", *cols]]


# ----------------------------------------------------------------------------------- misuse, re-lending


def _misuse(ctx: Context, p: Mapping[str, Any]) -> pd.DataFrame:
    """Per loan: amount paid to industries not allowed for its purpose (neutral industries ignored)."""
    use = _loan_use(ctx, int(p["window_days"]), int(p["lookback_months"]))
    allowed = pd.DataFrame([(k, ind) for k, v in dict(p["allowed_industries"]).items() for ind in v],
                           columns=["purpose", "industry"]).assign(ok=True)
    m = use.merge(allowed, on=["purpose", "industry"], how="left")
    bad = m["ok"].isna().to_numpy() & ~m["industry"].isin(list(p["neutral_industries"])).to_numpy()
    return m.loc[bad].reset_index(drop=True)


def loan_misuse(ctx: Context, p: Mapping[str, Any]) -> pd.DataFrame:
    """Loan funds paid to a payee whose industry does not fit the loan's purpose (贷款挪用).

    value: the share of the loan paid within ``window_days`` of issue to industries that
    ``allowed_industries[purpose]`` does not list (``neutral_industries``, e.g. payments to individuals,
    are judged by the re-lending rule instead). The borrower's worst loan gives the row.
    """
    cols = ["value", "misused_amount", "loan_amount", "loan_id", "purpose", "payee_industries", "payees"]
    bad = _misuse(ctx, p)
    if bad.empty:
        return empty(cols)
    per = bad.groupby("loan_id", sort=True).agg(
        misused_amount=("amount", "sum"), loan_amount=("loan_amount", "first"), purpose=("purpose", "first"),
        subject_id=("borrower_id", "first"), subject_type=("borrower_type", "first")).reset_index()
    per["misused_amount"] = per["misused_amount"].round(2)
    per["value"] = np.minimum(per["misused_amount"].to_numpy() / per["loan_amount"].to_numpy(), 1.0)
    ind = listed(bad, ["loan_id"], "industry").rename(columns={"industrys": "payee_industries"})
    names = listed(bad, ["loan_id"], "counterparty_name").rename(columns={"counterparty_names": "payees"})
    per = per.merge(ind.drop(columns="n_industrys"), on="loan_id").merge(
        names.drop(columns="n_counterparty_names"), on="loan_id")
    out = best_per(per, ["subject_id"], "value", "loan_id")
    out["key"] = out["loan_id"]
    return out[["subject_id", "subject_type", "key", *cols]]


def officer_misdirected(ctx: Context, p: Mapping[str, Any]) -> pd.DataFrame:
    """An officer whose loans' funds went to real estate or finance (信贷员贷款流向集中).

    A loan counts when at least ``min_share`` of it was paid within ``window_days`` of issue to the
    ``industries`` named; value: the officer's number of such loans issued in ``lookback_months``.
    """
    cols = ["value", "loans", "borrowers", "n_borrowers", "amount"]
    use = _loan_use(ctx, int(p["window_days"]), int(p["lookback_months"]))
    use = use.loc[use["industry"].isin(list(p["industries"])).to_numpy()]
    if use.empty:
        return empty(cols)
    per = use.groupby("loan_id", sort=True).agg(amount=("amount", "sum"), loan_amount=("loan_amount", "first"),
                                                officer_id=("officer_id", "first"),
                                                borrower_id=("borrower_id", "first")).reset_index()
    per = per.loc[per["amount"].to_numpy() >= float(p["min_share"]) * per["loan_amount"].to_numpy()]
    if per.empty:
        return empty(cols)
    loans = listed(per, ["officer_id"], "loan_id").rename(columns={"loan_ids": "loans", "n_loan_ids": "value"})
    bor = listed(per, ["officer_id"], "borrower_id").rename(
        columns={"borrower_ids": "borrowers", "n_borrower_ids": "n_borrowers"})
    amt = per.groupby("officer_id", sort=True)["amount"].sum().round(2).reset_index()
    out = loans.merge(bor, on="officer_id").merge(amt, on="officer_id").rename(columns={"officer_id": "subject_id"})
    out["subject_type"] = "officer"
    out["key"] = out["loans"].map(",".join)
    return out[["subject_id", "subject_type", "key", *cols]]


def relending(ctx: Context, p: Mapping[str, Any]) -> pd.DataFrame:
    """Loan funds passed on to many individuals soon after disbursement (转贷).

    value: the number of distinct individuals the borrower paid from one loan within ``window_days``
    of its issue; evidence: the amount and its share of the loan.
    """
    cols = ["value", "share", "amount_to_individuals", "loan_amount", "loan_id", "recipients"]
    use = _loan_use(ctx, int(p["window_days"]), int(p["lookback_months"]))
    use = use.loc[use["to_individual"].to_numpy()]
    if use.empty:
        return empty(cols)
    per = use.groupby("loan_id", sort=True).agg(
        amount_to_individuals=("amount", "sum"), loan_amount=("loan_amount", "first"),
        subject_id=("borrower_id", "first"), subject_type=("borrower_type", "first")).reset_index()
    per["amount_to_individuals"] = per["amount_to_individuals"].round(2)
    per["share"] = per["amount_to_individuals"].to_numpy() / per["loan_amount"].to_numpy()
    rec = listed(use, ["loan_id"], "individual_key").rename(columns={"individual_keys": "recipients",
                                                                    "n_individual_keys": "value"})
    per = per.merge(rec, on="loan_id")
    out = best_per(per, ["subject_id"], "value", "loan_id")
    out["value"] = out["value"].astype(np.int64)
    out["key"] = out["loan_id"]
    return out[["subject_id", "subject_type", "key", *cols]]


# ----------------------------------------------------------------------------------- illegal fundraising


def _enterprises_on(ctx: Context) -> pd.DataFrame:
    e = ctx.tables["enterprises"]
    return e.loc[day_numbers(e["registered_date"]) <= ctx.day]


def flagged_words(ctx: Context, p: Mapping[str, Any]) -> pd.DataFrame:
    """Organisations whose name or business scope holds flagged words (金融, 理财, 财富管理, ...).

    value: the number of distinct flagged words found.
    """
    cols = ["value", "words", "name"]
    e = _enterprises_on(ctx)
    if e.empty:
        return empty(cols)
    body = (e["name"].astype(str) + " " + e["business_scope"].astype(str)).reset_index(drop=True)
    words = list(p["words"])
    hits = pd.DataFrame({w: body.str.contains(w, regex=False).to_numpy() for w in words})  # loop over words
    n = hits.to_numpy().sum(axis=1)
    keep = n > 0
    if not keep.any():
        return empty(cols)
    found = hits.loc[keep]
    word_arr = np.array(words, dtype=object)
    out = pd.DataFrame({"subject_id": text(e["subject_id"])[keep], "subject_type": text(e["kind"])[keep],
                        "name": text(e["name"])[keep], "value": n[keep].astype(np.int64)})
    out["words"] = [sorted(word_arr[r].tolist()) for r in found.to_numpy()]
    out["key"] = out["words"].map("|".join)
    return out[["subject_id", "subject_type", "key", *cols]]


def _inflows_from_individuals(ctx: Context, lookback_days: int) -> pd.DataFrame:
    t = ctx.transactions
    t = t.loc[(t["direction"].to_numpy() == "in") & t["to_individual"].to_numpy()
              & (t["day"].to_numpy() > ctx.day - lookback_days)]
    return t.loc[ctx.party_of(t["subject_id"]) != t["counterparty_party"].to_numpy(dtype=object)]


def small_payer_inflows(ctx: Context, p: Mapping[str, Any]) -> pd.DataFrame:
    """Many small payments from individuals into one account (资金分散转入).

    In the last ``lookback_days``, payments of at most ``max_amount`` from individuals; accounts with
    at least ``min_payers`` distinct payers get a row. value: distinct payers (the 2022 interpretation
    of illegal fundraising counts 150 depositors as serious); ``total_amount``: their sum (1,000,000
    yuan is the 2022 threshold).
    """
    cols = ["value", "total_amount", "n_payments", "largest_payment", "window_from"]
    t = _inflows_from_individuals(ctx, int(p["lookback_days"]))
    t = t.loc[t["amount"].to_numpy() <= float(p["max_amount"])]
    if t.empty:
        return empty(cols)
    per = t.groupby("subject_id", sort=True).agg(value=("individual_key", "nunique"), total_amount=("amount", "sum"),
                                                 n_payments=("amount", "size"), largest_payment=("amount", "max"))
    per = per.loc[per["value"].to_numpy() >= int(p["min_payers"])]
    if per.empty:
        return empty(cols)
    per["total_amount"] = per["total_amount"].round(2)
    out = per.reset_index()
    out["value"] = out["value"].astype(np.int64)
    out["n_payments"] = out["n_payments"].astype(np.int64)
    out["window_from"] = iso_days(np.array([ctx.day - int(p["lookback_days"]) + 1]))[0]
    out["subject_type"] = ctx.type_of(out["subject_id"])
    out["key"] = out["window_from"]
    return out[["subject_id", "subject_type", "key", *cols]]


def non_member_inflows(ctx: Context, p: Mapping[str, Any]) -> pd.DataFrame:
    """A cooperative taking money from individuals who are not its members (向非社员吸收资金).

    In the last ``lookback_days``, payments into a cooperative's account from individuals (parties)
    who held none of ``member_roles`` in it on the day they paid nor took one up within
    ``join_grace_days`` after (share capital paid before joining). value: distinct such payers.
    """
    cols = ["value", "amount", "n_payments", "members", "window_from"]
    e = _enterprises_on(ctx)
    coops = pd.Index(text(e["subject_id"])[text(e["kind"]) == "cooperative"])
    t = _inflows_from_individuals(ctx, int(p["lookback_days"]))
    t = t.loc[coops.get_indexer(t["subject_id"].to_numpy(dtype=object)) >= 0]
    if t.empty:
        return empty(cols)
    r = ctx.tables["roles"]
    r = r.loc[r["role"].isin(list(p["member_roles"])).to_numpy()]
    roles = pd.DataFrame({"subject_id": text(r["enterprise_id"]), "counterparty_party": ctx.party_of(r["person_id"]),
                          "from": day_numbers(r["valid_from"]), "to": day_numbers(r["valid_to"])})
    t = t.reset_index(drop=True).assign(row=lambda x: np.arange(len(x)))
    m = t[["row", "subject_id", "counterparty_party", "day"]].merge(roles, on=["subject_id", "counterparty_party"])
    grace = int(p["join_grace_days"])  # share capital paid shortly before joining is a member's
    member_rows = m.loc[(m["from"].to_numpy() <= m["day"].to_numpy() + grace)
                        & (m["day"].to_numpy() < m["to"].to_numpy()), "row"].unique()
    out_rows = t.loc[~t["row"].isin(member_rows)]
    if out_rows.empty:
        return empty(cols)
    per = out_rows.groupby("subject_id", sort=True).agg(value=("individual_key", "nunique"), amount=("amount", "sum"),
                                                        n_payments=("amount", "size")).reset_index()
    per["amount"] = per["amount"].round(2)
    now = ctx.roles_on(ctx.day)
    now = now.loc[now["role"].to_numpy() == "member"]
    members = now.groupby("enterprise_id")["person_id"].nunique()
    per["members"] = members.reindex(per["subject_id"]).fillna(0).astype(np.int64).to_numpy()
    per["value"] = per["value"].astype(np.int64)
    per["n_payments"] = per["n_payments"].astype(np.int64)
    per["window_from"] = iso_days(np.array([ctx.day - int(p["lookback_days"]) + 1]))[0]
    per["subject_type"] = "cooperative"
    per["key"] = per["window_from"]
    return per[["subject_id", "subject_type", "key", *cols]]


def promised_yield(ctx: Context, p: Mapping[str, Any]) -> pd.DataFrame:
    """The yearly return an organisation promises its members or investors (承诺高收益).

    value: ``enterprises.promised_yield`` (a ratio) where one is recorded.
    """
    cols = ["value", "name"]
    e = _enterprises_on(ctx)
    y = e["promised_yield"].to_numpy(dtype=np.float64, na_value=np.nan)
    keep = ~np.isnan(y)
    if not keep.any():
        return empty(cols)
    out = pd.DataFrame({"subject_id": text(e["subject_id"])[keep], "subject_type": text(e["kind"])[keep],
                        "value": y[keep], "name": text(e["name"])[keep]})
    out["key"] = out["value"].map(lambda v: f"{v:.6f}")
    return out[["subject_id", "subject_type", "key", *cols]]
