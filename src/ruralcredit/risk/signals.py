"""Warning signals: what each rule reads, computed vectorised and point-in-time.

A *signal* turns the tables as known on ``as_of`` into one row per subject that shows the pattern,
with one or more numeric *measures* (``value`` first) and the facts behind them (the evidence). A
*rule* (:mod:`ruralcredit.risk.rules`) names a signal, its parameters and the thresholds of each
severity. :data:`SIGNALS` lists them all; ``docs/risk.md`` explains each.

Credit signals (this module): ``overdue_days``, ``five_class_migration``, ``distinct_lenders``,
``evasion_candidate``. Graph signals (:mod:`ruralcredit.risk.graph`): ``guarantee_circle``,
``guarantee_exposure``, ``shared_contact``, ``simultaneous_overdue``, ``blacklist_link``. Fund-flow and
issuance signals (:mod:`ruralcredit.risk.flows`): ``officer_concentration``,
``guarantor_receives_funds``, ``third_party_repayment``, ``loan_misuse``, ``officer_misdirected``,
``relending``, ``flagged_words``, ``small_payer_inflows``, ``non_member_inflows``, ``promised_yield``.
Model signals: ``anomaly_score`` (:mod:`ruralcredit.risk.anomaly`), ``score_psi`` and ``feature_csi``
(:mod:`ruralcredit.risk.monitoring`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ruralcredit.risk import flows, graph
from ruralcredit.risk._context import Context, iso_days
from ruralcredit.risk._frames import best_per, empty, listed
from ruralcredit.schema import FIVE_CLASSES, INDUSTRIES, LOAN_PURPOSES

__all__ = ["SIGNALS", "SignalSpec"]

SignalFunc = Callable[[Context, Mapping[str, Any]], pd.DataFrame]


@dataclass(frozen=True)
class SignalSpec:
    """What a signal is: its function, tables, parameters, measures and evidence fields.

    Attributes
    ----------
    name : str
    kind : {"rule", "graph", "anomaly", "drift"}
        The family shown in the warnings' ``kind`` column.
    func : callable or None
        ``func(context, params) -> frame``; None for signals computed outside :func:`scan`.
    tables : tuple of str
        Tables the signal needs.
    params : mapping
        Parameters and their defaults (a rule may override them; types must match).
    measures : tuple of str
        Numeric columns a rule may threshold (``value`` first, the default).
    fields : tuple of str
        Scalar evidence fields a rule's texts may quote, besides the measures.
    subject : str
        What the subjects are (borrowers, guarantors, officers, accounts, ...).
    """

    name: str
    kind: str
    func: SignalFunc | None
    tables: tuple[str, ...]
    params: Mapping[str, Any] = field(default_factory=dict)
    measures: tuple[str, ...] = ("value",)
    fields: tuple[str, ...] = ()
    subject: str = "borrower"
    check: Callable[[Mapping[str, Any]], None] | None = None


# ------------------------------------------------------------------------------------------ credit signals


def overdue_days(ctx: Context, p: Mapping[str, Any]) -> pd.DataFrame:
    """Days overdue on ``as_of`` of each borrower's worst open loan (逾期升级).

    value: the largest days overdue; evidence: that loan, since when, its class, the number of loans
    overdue at least ``min_days`` and their balance.
    """
    cols = ["value", "loan_id", "overdue_since", "five_class", "overdue_balance", "overdue_loans",
            "n_overdue_loans"]
    L = ctx.loans
    s = ctx.status_on(ctx.day)
    od = s["overdue_days"].to_numpy()
    hit = s["known"].to_numpy() & (od >= int(p["min_days"]))
    if not hit.any():
        return empty(cols)
    items = pd.DataFrame({
        "subject_id": L["borrower_id"].to_numpy()[hit], "subject_type": L["borrower_type"].to_numpy()[hit],
        "loan_id": L["loan_id"].to_numpy()[hit], "value": od[hit],
        "overdue_since": iso_days(s["overdue_start"].to_numpy()[hit]),
        "five_class": np.asarray(FIVE_CLASSES, dtype=object)[s["five_class"].to_numpy()[hit]],
        "balance": s["balance"].to_numpy()[hit]})
    best = best_per(items, ["subject_id"], "value", "loan_id")
    bal = items.groupby("subject_id", sort=True)["balance"].sum().round(2).rename("overdue_balance")
    loans = listed(items, ["subject_id"], "loan_id").rename(
        columns={"loan_ids": "overdue_loans", "n_loan_ids": "n_overdue_loans"})
    out = best.drop(columns="balance").merge(bal.reset_index(), on="subject_id").merge(loans, on="subject_id")
    out["key"] = out["loan_id"]
    return out


def five_class_migration(ctx: Context, p: Mapping[str, Any]) -> pd.DataFrame:
    """Loans whose five-category class worsened in the last ``window_months`` (五级分类迁徙).

    value: the class reached (1 special mention, 2 substandard, 3 doubtful, 4 loss) by the borrower's
    worst migrated loan; evidence: the loan, its class at the start of the window and now.
    """
    cols = ["value", "loan_id", "from_class", "to_class", "from_date", "overdue_days", "migrated_loans",
            "n_migrated_loans"]
    then_day = ctx.months_back(int(p["window_months"]))
    now = ctx.status_on(ctx.day)
    then = ctx.status_on(then_day)
    c_now = now["five_class"].to_numpy()
    c_then = np.maximum(then["five_class"].to_numpy(), 0)  # not yet issued then: normal
    hit = now["known"].to_numpy() & (c_now > c_then)
    if not hit.any():
        return empty(cols)
    L = ctx.loans
    names = np.asarray(FIVE_CLASSES, dtype=object)
    items = pd.DataFrame({
        "subject_id": L["borrower_id"].to_numpy()[hit], "subject_type": L["borrower_type"].to_numpy()[hit],
        "loan_id": L["loan_id"].to_numpy()[hit], "value": c_now[hit],
        "from_class": names[c_then[hit]], "to_class": names[c_now[hit]],
        "overdue_days": now["overdue_days"].to_numpy()[hit]})
    items["from_date"] = iso_days(np.array([then_day]))[0]
    best = best_per(items, ["subject_id"], "value", "loan_id")
    loans = listed(items, ["subject_id"], "loan_id").rename(
        columns={"loan_ids": "migrated_loans", "n_loan_ids": "n_migrated_loans"})
    out = best.merge(loans, on="subject_id")
    out["key"] = out["loan_id"]
    return out


def distinct_lenders(ctx: Context, p: Mapping[str, Any]) -> pd.DataFrame:
    """Institutions that lent to a borrower in the last ``window_months`` (多头借贷).

    value: the number of distinct institutions with a loan issued in ``(as_of - window, as_of]``.
    """
    cols = ["value", "window_from", "institutions", "loans", "n_loans"]
    L = ctx.loans
    start = ctx.months_back(int(p["window_months"]))
    recent = L.loc[L["issue"].to_numpy() > start]
    if recent.empty:
        return empty(cols)
    n = recent.groupby("borrower_id", sort=True)["institution"].nunique()
    hit = n[n >= 2].index  # one lender is never "many"
    recent = recent.loc[recent["borrower_id"].isin(hit)]
    if recent.empty:
        return empty(cols)
    inst = listed(recent, ["borrower_id"], "institution")
    loans = listed(recent, ["borrower_id"], "loan_id").rename(columns={"loan_ids": "loans", "n_loan_ids": "n_loans"})
    out = inst.merge(loans, on="borrower_id").rename(columns={"borrower_id": "subject_id"})
    out["value"] = out.pop("n_institutions").astype(np.int64)
    types = recent.drop_duplicates("borrower_id").set_index("borrower_id")["borrower_type"]
    out["subject_type"] = types.reindex(out["subject_id"]).to_numpy()
    out["window_from"] = iso_days(np.array([start + 1]))[0]
    out["key"] = out["institutions"].map(lambda x: ",".join(x))
    return out


def evasion_candidate(ctx: Context, p: Mapping[str, Any]) -> pd.DataFrame:
    """Long overdue while the household's own assets could pay (恶意逃废债务 candidates).

    Borrowers with an open loan at least ``min_overdue_days`` overdue; value: ``coverage`` = the
    party's ``assets`` (household facts surveyed by ``as_of``, e.g. deposits) / the balance of those
    overdue loans; ``moved_share``: money moved out to individuals since the arrears began
    (transactions, when given) / that balance. Evidence adds the other assets named in
    ``context_assets``. A candidate only: the legal line
    is "able to pay but refuses", which needs the collection record (DOMAIN.md section 5).
    """
    cols = ["value", "moved_share", "overdue_days", "overdue_since", "overdue_balance", "assets", "loans", "n_loans",
            "moved_to_individuals"]
    L = ctx.loans
    s = ctx.status_on(ctx.day)
    od = s["overdue_days"].to_numpy()
    hit = s["known"].to_numpy() & (od >= int(p["min_overdue_days"])) & (s["balance"].to_numpy() > 0)
    if not hit.any() or not ctx.has("households"):
        return empty(cols)
    items = pd.DataFrame({
        "subject_id": L["borrower_id"].to_numpy()[hit], "subject_type": L["borrower_type"].to_numpy()[hit],
        "party": L["borrower_party"].to_numpy()[hit], "loan_id": L["loan_id"].to_numpy()[hit],
        "overdue_days": od[hit], "start": s["overdue_start"].to_numpy()[hit], "balance": s["balance"].to_numpy()[hit]})
    per = items.groupby(["subject_id", "subject_type", "party"], sort=True).agg(
        overdue_days=("overdue_days", "max"), start=("start", "min"), overdue_balance=("balance", "sum")).reset_index()
    per["overdue_balance"] = per["overdue_balance"].round(2)
    h = ctx.households_known
    pay_cols = list(p["assets"])
    ctx_cols = [c for c in p["context_assets"] if c not in pay_cols]
    pos = pd.Index(h["subject_id"].to_numpy(dtype=object)).get_indexer(per["party"].to_numpy(dtype=object))
    per = per.loc[pos >= 0].reset_index(drop=True)
    pos = pos[pos >= 0]
    if per.empty:
        return empty(cols)
    ability = np.zeros(len(per))
    facts: dict[str, np.ndarray] = {}
    for c in (*pay_cols, *ctx_cols):  # a few named columns, not records
        v = h[c].to_numpy(dtype=np.float64)[pos]
        facts[c] = v
        if c in pay_cols:
            ability += v
    per["value"] = ability / per["overdue_balance"].to_numpy()
    per["assets"] = pd.DataFrame(facts).round(2).to_dict("records")
    loans = listed(items, ["subject_id"], "loan_id").rename(columns={"loan_ids": "loans", "n_loan_ids": "n_loans"})
    per = per.merge(loans, on="subject_id")
    per["overdue_since"] = iso_days(per["start"].to_numpy())
    moved = np.zeros(len(per))
    if ctx.has("transactions"):
        t = ctx.transactions
        out_ind = t.loc[(t["direction"].to_numpy() == "out") & t["to_individual"].to_numpy()]
        m = out_ind.merge(per[["subject_id", "start"]], on="subject_id")
        m = m.loc[m["day"].to_numpy() >= m["start"].to_numpy()]
        got = m.groupby("subject_id", sort=True)["amount"].sum().round(2)
        moved = got.reindex(per["subject_id"]).fillna(0.0).to_numpy()
    per["moved_to_individuals"] = moved
    per["moved_share"] = moved / per["overdue_balance"].to_numpy()
    per["key"] = per["loans"].map(lambda x: ",".join(x))
    return per.drop(columns=["party", "start"])


# ---------------------------------------------------------------------------------- computed outside scan


def _from_cache(name: str) -> SignalFunc:
    def func(ctx: Context, p: Mapping[str, Any]) -> pd.DataFrame:
        return ctx.cache[("external", name)]

    return func


def _check_group_by(p: Mapping[str, Any]) -> None:
    if p.get("group_by") not in ("village", "guarantor"):
        raise ValueError(f"group_by must be 'village' or 'guarantor', got {p.get('group_by')!r}")


def _check_purposes(p: Mapping[str, Any]) -> None:
    allowed = p.get("allowed_industries", {})
    bad = sorted(set(allowed) - set(LOAN_PURPOSES))
    if bad:
        raise ValueError(f"unknown loan purposes {bad}; known: {list(LOAN_PURPOSES)}")
    for key in ("neutral_industries", "industries"):
        vals = list(p.get(key, []))
        for v in allowed.values():
            vals.extend(v)
        unknown = sorted(set(vals) - set(INDUSTRIES))
        if unknown:
            raise ValueError(f"unknown industries {unknown}; known: {list(INDUSTRIES)}")


_MISUSE_ALLOWED = {
    "planting": ["agriculture", "trade"], "livestock": ["agriculture", "trade"],
    "processing": ["processing", "agriculture", "construction", "trade"],
    "trade": ["trade", "agriculture", "processing"],
    "tourism": ["tourism", "construction", "services", "trade"],
    "consumption": ["trade", "services"], "housing": ["construction", "real_estate"],
    "education": ["services"], "medical": ["services"],
    "other": ["agriculture", "processing", "trade", "tourism", "construction", "services"],
}

#: Every signal, by name.
SIGNALS: dict[str, SignalSpec] = {s.name: s for s in (
    SignalSpec("overdue_days", "rule", overdue_days, ("loans",), {"min_days": 1},
               fields=("loan_id", "overdue_since", "five_class", "overdue_balance", "n_overdue_loans")),
    SignalSpec("five_class_migration", "rule", five_class_migration, ("loans",), {"window_months": 3},
               fields=("loan_id", "from_class", "to_class", "from_date", "overdue_days", "n_migrated_loans")),
    SignalSpec("distinct_lenders", "rule", distinct_lenders, ("loans",), {"window_months": 3},
               fields=("window_from", "n_loans")),
    SignalSpec("evasion_candidate", "rule", evasion_candidate, ("loans", "households"),
               {"min_overdue_days": 181, "assets": ["deposits"],
                "context_assets": ["house_value", "vehicle_value", "other_assets"]},
               measures=("value", "moved_share"),
               fields=("overdue_days", "overdue_since", "overdue_balance", "n_loans", "moved_to_individuals")),
    SignalSpec("guarantee_circle", "graph", graph.guarantee_circle, ("loans", "guarantees"),
               {"exempt_joint_liability_groups": True, "joint_group_min_size": 3, "history_months": 0},
               fields=("circle_id", "n_members", "n_guarantees", "mutual_pairs", "guaranteed_amount"),
               subject="guarantor or borrower in the circle"),
    SignalSpec("guarantee_exposure", "graph", graph.guarantee_exposure, ("loans", "guarantees"),
               {"min_net_assets": 1000.0},
               measures=("value", "exposure"), fields=("net_assets", "n_guarantees", "n_borrowers"),
               subject="guarantor"),
    SignalSpec("shared_contact", "graph", graph.shared_contact, ("loans", "contacts"),
               {"kinds": ["phone", "address", "device"], "subject_types": ["household", "person",
                                                                          "professional_manager"],
                "lookback_months": 24},
               measures=("value", "n_sharers"), fields=("contact_kind", "contact", "contact_ref", "n_sharers"),
               subject="every subject sharing the contact"),
    SignalSpec("simultaneous_overdue", "graph", graph.simultaneous_overdue, ("loans", "guarantees"),
               {"window_days": 30, "min_overdue_days": 1},
               fields=("guarantor_id", "window_from", "window_to", "n_borrowers", "n_loans", "role"),
               subject="the common guarantor and the borrowers"),
    SignalSpec("blacklist_link", "graph", graph.blacklist_link, (),
               {"edges": ["guarantee", "contact", "role", "household"], "max_contact_group": 10},
               fields=("via", "blacklisted", "edge"), subject="party one or two hops from a listed party"),
    SignalSpec("officer_concentration", "rule", flows.officer_concentration, ("loans",),
               {"window_days": 14, "lookback_months": 24, "group_by": "village",
                "exclude_joint_liability_groups": True},
               fields=("group", "window_from", "window_to", "n_borrowers"), subject="loan officer",
               check=_check_group_by),
    SignalSpec("guarantor_receives_funds", "rule", flows.guarantor_receives_funds,
               ("loans", "guarantees", "transactions"), {"window_days": 30, "lookback_months": 36},
               measures=("value", "amount_to_guarantor"),
               fields=("loan_id", "guarantor_id", "borrower_id", "loan_amount", "role"),
               subject="the borrower and the guarantor"),
    SignalSpec("third_party_repayment", "rule", flows.third_party_repayment, ("loans", "transactions"),
               {"lookback_months": 24}, fields=("n_loans", "amount_paid"), subject="the payer"),
    SignalSpec("loan_misuse", "rule", flows.loan_misuse, ("loans", "transactions"),
               {"window_days": 30, "allowed_industries": _MISUSE_ALLOWED, "neutral_industries": ["individual"],
                "lookback_months": 36},
               measures=("value", "misused_amount"),
               fields=("loan_id", "purpose", "misused_amount", "loan_amount"), check=_check_purposes),
    SignalSpec("officer_misdirected", "rule", flows.officer_misdirected, ("loans", "transactions"),
               {"window_days": 30, "industries": ["real_estate", "finance"], "min_share": 0.3,
                "lookback_months": 36},
               fields=("n_borrowers", "amount"), subject="loan officer", check=_check_purposes),
    SignalSpec("relending", "rule", flows.relending, ("loans", "transactions"),
               {"window_days": 30, "lookback_months": 36},
               measures=("value", "share"), fields=("loan_id", "amount_to_individuals", "share", "loan_amount")),
    SignalSpec("flagged_words", "rule", flows.flagged_words, ("enterprises",),
               {"words": ["金融", "理财", "财富管理", "交易所", "股权众筹", "资金互助"]},
               fields=("name",), subject="organisation"),
    SignalSpec("small_payer_inflows", "rule", flows.small_payer_inflows, ("transactions",),
               {"lookback_days": 180, "max_amount": 50000.0, "min_payers": 30},
               measures=("value", "total_amount"), fields=("window_from", "largest_payment", "n_payments"),
               subject="account owner"),
    SignalSpec("non_member_inflows", "rule", flows.non_member_inflows, ("transactions", "enterprises", "roles"),
               {"lookback_days": 365, "join_grace_days": 365,
                "member_roles": ["member", "legal_representative", "principal", "actual_controller",
                                 "responsible_person", "manager"]},
               measures=("value", "amount"), fields=("members", "window_from", "n_payments"), subject="cooperative"),
    SignalSpec("promised_yield", "rule", flows.promised_yield, ("enterprises",), {}, fields=("name",),
               subject="organisation"),
    SignalSpec("anomaly_score", "anomaly", _from_cache("anomaly_score"), (), {},
               fields=("detector", "top_feature"), subject="scored subject"),
    SignalSpec("score_psi", "drift", _from_cache("score_psi"), (), {"bins": 10},
               fields=("model", "stability", "n_reference", "n_current"), subject="model"),
    SignalSpec("feature_csi", "drift", _from_cache("feature_csi"), (), {"bins": 10},
               fields=("model", "feature", "stability", "feature_kind"), subject="feature"),
)}
