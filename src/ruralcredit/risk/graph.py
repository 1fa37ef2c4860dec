"""Graph signals: guarantee circles, guarantee exposure, shared contacts, simultaneous arrears, links to
blacklisted parties (DOMAIN.md section 6).

The guarantee graph has an edge guarantor -> borrower for every guarantee in force on ``as_of`` (on an
open loan). Guarantee circles (担保圈) are its strongly connected components with two or more members
(``scipy.sparse.csgraph.connected_components(connection="strong")``): every member can reach every
other along guarantees, which covers cycles of any length and mutual guarantees (互保). Guarantees
given inside a formal joint-liability group (联保小组) form such cycles by design and are left out
when ``exempt_joint_liability_groups`` is set: a group is the loans one officer issued on one day to
``joint_group_min_size`` or more borrowers who each guarantee every other one's loan of that batch.

Persons who belong to a household are merged with it into one party for exposure and blacklist
links (a head's guarantee is the household's); see :mod:`ruralcredit.risk._context`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from ruralcredit.risk._context import Context, day_numbers, iso_days, text
from ruralcredit.risk._frames import best_per, empty, listed, mask_contact, segments, window_counts

__all__ = [
    "all_guarantees",
    "blacklist_link",
    "guarantee_circle",
    "guarantee_exposure",
    "joint_liability_loans",
    "shared_contact",
    "simultaneous_overdue",
]


def _digest(parts: pd.Series) -> np.ndarray:
    """Short SHA-256 digests of texts (one per distinct group, output-sized)."""
    return np.array([hashlib.sha256(s.encode("utf-8")).hexdigest()[:12] for s in parts.astype(str)], dtype=object)


def all_guarantees(ctx: Context) -> pd.DataFrame:
    """Every guarantee started by ``as_of`` on a loan issued by then (open or not), with the loan's
    batch (officer and issue day) and borrower."""
    key = ("all_guarantees",)
    if key not in ctx.cache:
        g = ctx.tables["guarantees"]
        pos = ctx.loan_index.get_indexer(text(g["loan_id"]))
        ok = (day_numbers(g["start_date"]) <= ctx.day) & (pos >= 0)
        p = pos[ok]
        L = ctx.loans
        ctx.cache[key] = pd.DataFrame({
            "guarantee_id": text(g["guarantee_id"])[ok], "loan_id": L["loan_id"].to_numpy()[p],
            "guarantor_id": text(g["guarantor_id"])[ok], "borrower_id": L["borrower_id"].to_numpy()[p],
            "officer_id": L["officer_id"].to_numpy()[p], "issue": L["issue"].to_numpy()[p],
            "amount": g["amount"].to_numpy(dtype=np.float64)[ok],
            "until": np.minimum(day_numbers(g["end_date"])[ok], L["closed"].to_numpy()[p])})
    return ctx.cache[key]


def joint_liability_loans(ctx: Context, min_size: int = 3) -> pd.Index:
    """Loans of formal joint-liability groups (联保小组) issued by ``as_of``.

    A batch is the loans one officer issued on one day. Within a batch, borrowers are linked when one
    guarantees another's loan of the batch; a linked set of at least ``min_size`` borrowers in which
    each guarantees every other one's batch loan is a joint-liability group.
    """
    key = ("joint_loans", min_size)
    if key in ctx.cache:
        return ctx.cache[key]
    if not ctx.has("guarantees"):
        ctx.cache[key] = pd.Index([], dtype=object)
        return ctx.cache[key]
    g = all_guarantees(ctx)
    batch = (g["officer_id"].astype(str) + "|" + g["issue"].astype(str)).to_numpy(dtype=object)
    e = pd.DataFrame({"batch": batch, "g": g["guarantor_id"].to_numpy(dtype=object),
                      "b": g["borrower_id"].to_numpy(dtype=object), "loan_id": g["loan_id"].to_numpy(dtype=object)})
    borrowers = e[["batch", "b"]].drop_duplicates()
    inside = e.merge(borrowers.rename(columns={"b": "g"}), on=["batch", "g"])  # guarantor borrows in the batch
    inside = inside.loc[inside["g"].to_numpy() != inside["b"].to_numpy()].drop_duplicates(["batch", "g", "b"])
    if inside.empty:
        ctx.cache[key] = pd.Index([], dtype=object)
        return ctx.cache[key]
    m = len(inside)
    codes, nodes = pd.factorize(np.concatenate([(inside["batch"] + "|" + inside["g"]).to_numpy(dtype=object),
                                                (inside["batch"] + "|" + inside["b"]).to_numpy(dtype=object)]))
    n = len(nodes)
    adj = sp.csr_matrix((np.ones(m), (codes[:m], codes[m:])), shape=(n, n))
    _, label = connected_components(adj, directed=False)
    size = np.bincount(label, minlength=n)
    comp = label[codes[:m]]
    pairs = np.bincount(comp, minlength=n)
    joint_comp = (size >= min_size) & (pairs == size * (size - 1))
    members = pd.DataFrame({"node": nodes.astype(object), "joint": joint_comp[label]})
    joint_nodes = pd.Index(members.loc[members["joint"].to_numpy(), "node"].to_numpy(dtype=object))
    loan_nodes = (e["batch"] + "|" + e["b"]).to_numpy(dtype=object)
    loans = e.loc[joint_nodes.get_indexer(loan_nodes) >= 0, "loan_id"].drop_duplicates()
    ctx.cache[key] = pd.Index(loans.to_numpy(dtype=object))
    return ctx.cache[key]


def guarantee_circle(ctx: Context, p: Mapping[str, Any]) -> pd.DataFrame:
    """Members of guarantee circles and mutual guarantees (担保圈, 互保).

    The graph holds the guarantees in force on ``as_of`` (``history_months: 0``) or at any time in the
    last ``history_months`` (a circle whose loans were just repaid is often renewed, 借新还旧).

    value: the number of members of the circle (2 for a mutual pair); evidence: a circle id (digest of
    the sorted members), the members, guarantees, mutual pairs, amount guaranteed and loans.
    """
    cols = ["value", "circle_id", "members", "n_members", "n_guarantees", "mutual_pairs", "guaranteed_amount",
            "loans", "n_loans"]
    g = all_guarantees(ctx)
    since = ctx.day if int(p["history_months"]) == 0 else ctx.months_back(int(p["history_months"]))
    g = g.loc[g["until"].to_numpy() > since]
    if p["exempt_joint_liability_groups"] and len(g):
        joint = joint_liability_loans(ctx, int(p["joint_group_min_size"]))
        g = g.loc[~g["loan_id"].isin(joint)]
    if g.empty:
        return empty(cols)
    m = len(g)
    codes, nodes = pd.factorize(np.concatenate([g["guarantor_id"].to_numpy(dtype=object),
                                                g["borrower_id"].to_numpy(dtype=object)]))
    src, dst = codes[:m], codes[m:]
    n = len(nodes)
    ok = src != dst
    adj = sp.csr_matrix((np.ones(int(ok.sum())), (src[ok], dst[ok])), shape=(n, n))
    _, label = connected_components(adj, directed=True, connection="strong")
    size = np.bincount(label, minlength=n)
    inside = ok & (label[src] == label[dst]) & (size[label[src]] >= 2)
    if not inside.any():
        return empty(cols)
    e = pd.DataFrame({"comp": label[src][inside], "src": src[inside], "dst": dst[inside],
                      "loan_id": g["loan_id"].to_numpy(dtype=object)[inside],
                      "amount": g["amount"].to_numpy()[inside]})
    pairs = e.drop_duplicates(["src", "dst"])[["comp", "src", "dst"]]
    rev = pairs.merge(pairs.rename(columns={"src": "dst", "dst": "src"}), on=["comp", "src", "dst"])
    mutual = rev.groupby("comp").size() // 2
    per = e.groupby("comp", sort=True).agg(n_guarantees=("loan_id", "size"), guaranteed_amount=("amount", "sum"))
    per["guaranteed_amount"] = per["guaranteed_amount"].round(2)
    per["mutual_pairs"] = mutual.reindex(per.index).fillna(0).astype(np.int64)
    member_nodes = np.flatnonzero(size[label] >= 2)
    mem = pd.DataFrame({"comp": label[member_nodes], "subject_id": nodes[member_nodes].astype(object)})
    mem = mem.loc[mem["comp"].isin(per.index)]
    members = listed(mem, ["comp"], "subject_id", limit=50).set_index("comp")
    loans = listed(e, ["comp"], "loan_id").set_index("comp")
    ids = mem.sort_values(["comp", "subject_id"]).groupby("comp", sort=True)["subject_id"].agg("|".join)
    per["circle_id"] = pd.Series(_digest(ids), index=ids.index).reindex(per.index).radd("GC-")
    per = per.join(members).join(loans).rename(columns={"subject_ids": "members", "n_subject_ids": "n_members",
                                                          "loan_ids": "loans", "n_loan_ids": "n_loans"})
    out = mem.merge(per.reset_index(), on="comp").drop(columns="comp")
    out["value"] = out["n_members"].astype(np.int64)
    out["subject_type"] = ctx.type_of(out["subject_id"])
    out["key"] = out["circle_id"]
    return out


def _net_assets(ctx: Context) -> pd.Series:
    """Net assets by party on ``as_of``: households (surveyed by then) own assets less informal debt and
    their outstanding loans; organisations total assets less liabilities."""
    parts = []
    if ctx.has("households"):
        h = ctx.households_known
        assets = sum(h[c].to_numpy(dtype=np.float64) for c in ("deposits", "house_value", "machinery_value",
                                                                   "vehicle_value", "other_assets"))
        debt = h["informal_debt"].to_numpy(dtype=np.float64)
        parts.append(pd.Series(assets - debt, index=text(h["subject_id"])))
    if ctx.has("enterprises"):
        e = ctx.tables["enterprises"]
        parts.append(pd.Series(e["total_assets"].to_numpy(dtype=np.float64)
                               - e["total_liabilities"].to_numpy(dtype=np.float64), index=text(e["subject_id"])))
    if not parts:
        return pd.Series([], dtype=np.float64)
    net = pd.concat(parts)
    bal = ctx.status_on(ctx.day)["balance"].to_numpy()
    owed = pd.Series(bal).groupby(ctx.loans["borrower_party"].to_numpy(dtype=object)).sum()
    return (net - owed.reindex(net.index).fillna(0.0)).round(2)


def guarantee_exposure(ctx: Context, p: Mapping[str, Any]) -> pd.DataFrame:
    """Guarantees a party has given against its net assets (担保过度).

    value: exposure / net assets, where exposure sums, over guarantees in force, the smaller of the
    guaranteed amount and the loan's balance; net assets below ``min_net_assets`` (or negative) are
    taken as ``min_net_assets``. Parties whose net assets are unknown (no survey by ``as_of``, persons
    outside households) get no row.
    """
    cols = ["value", "exposure", "net_assets", "n_guarantees", "n_borrowers", "borrowers"]
    g = ctx.guarantees
    if g.empty:
        return empty(cols)
    g = g.assign(party=ctx.party_of(g["guarantor_id"]))
    g = g.loc[g["party"].to_numpy() != ctx.party_of(g["borrower_id"])]
    per = g.groupby("party", sort=True).agg(exposure=("exposure", "sum"), n_guarantees=("guarantee_id", "size"))
    per["exposure"] = per["exposure"].round(2)
    net = _net_assets(ctx).reindex(per.index)
    per["net_assets"] = net
    per = per.loc[net.notna().to_numpy() & (per["exposure"].to_numpy() > 0)]
    if per.empty:
        return empty(cols)
    floor = float(p["min_net_assets"])
    per["value"] = per["exposure"].to_numpy() / np.maximum(per["net_assets"].to_numpy(), floor)
    bor = listed(g, ["party"], "borrower_id").set_index("party")
    per = per.join(bor).rename(columns={"borrower_ids": "borrowers", "n_borrower_ids": "n_borrowers"})
    out = per.reset_index().rename(columns={"party": "subject_id"})
    out["subject_type"] = ctx.type_of(out["subject_id"])
    out["key"] = out["subject_id"]
    return out


def shared_contact(ctx: Context, p: Mapping[str, Any]) -> pd.DataFrame:
    """Borrowers sharing a phone, address or device in use on ``as_of`` (冒名贷款 clusters).

    Among subjects of ``subject_types`` (natural persons by default: an organisation sharing its
    operator's address is normal), a contact shared by several parties; value: the number of distinct
    borrowing parties among them (a loan issued in the last ``lookback_months`` or open on ``as_of``).
    Every sharer gets the row of its most-shared contact.
    """
    cols = ["value", "n_sharers", "contact_kind", "contact", "contact_ref", "sharers", "borrowers",
            "n_borrowers"]
    c = ctx.contacts.rename(columns={"value": "contact_value"})
    c = c.loc[c["kind"].isin(list(p["kinds"])).to_numpy()
              & np.isin(ctx.type_of(c["subject_id"]), list(p["subject_types"]))]
    if c.empty:
        return empty(cols)
    group = ["kind", "contact_value"]
    n_parties = c.groupby(group, sort=False)["party"].nunique()
    shared = n_parties[n_parties >= 2].rename("n_sharers").reset_index()
    if shared.empty:
        return empty(cols)
    c = c.merge(shared, on=group)
    L = ctx.loans
    status = ctx.status_on(ctx.day)
    recent = (L["issue"].to_numpy() > ctx.months_back(int(p["lookback_months"]))) | status["open"].to_numpy()
    borrowing = pd.Index(pd.unique(L["borrower_party"].to_numpy(dtype=object)[recent]))
    c["borrows"] = borrowing.get_indexer(c["party"].to_numpy(dtype=object)) >= 0
    nb = c.loc[c["borrows"].to_numpy(), [*group, "party"]].drop_duplicates().groupby(group, sort=False).size()
    c = c.merge(nb.rename("value").reset_index(), on=group)  # groups without borrowers drop out
    if c.empty:
        return empty(cols)
    groups = c[group].drop_duplicates()
    groups["contact_ref"] = "CT-" + pd.Series(_digest(groups["kind"] + "|" + groups["contact_value"]),
                                              index=groups.index)
    c = c.merge(groups, on=group)
    sharers = listed(c, ["contact_ref"], "party").drop(columns="n_partys").rename(columns={"partys": "sharers"})
    bor = listed(c.loc[c["borrows"].to_numpy()], ["contact_ref"], "party").rename(
        columns={"partys": "borrowers", "n_partys": "n_borrowers"})
    c = c.merge(sharers, on="contact_ref").merge(bor, on="contact_ref")
    c["contact_kind"] = c["kind"]
    c["contact"] = mask_contact(c["kind"].to_numpy(), c["contact_value"].to_numpy())
    c["subject_type"] = ctx.type_of(c["subject_id"])
    out = best_per(c, ["subject_id"], "value", "contact_ref")
    out["key"] = out["contact_ref"]
    return out[["subject_id", "subject_type", "key", *cols]]


def simultaneous_overdue(ctx: Context, p: Mapping[str, Any]) -> pd.DataFrame:
    """Loans of one guarantor that fell overdue together (集中逾期).

    Loans at least ``min_overdue_days`` overdue on ``as_of`` are grouped by their guarantor (party);
    value: the most of one guarantor's loans whose arrears began within ``window_days`` of each other.
    The guarantor and each borrower in that window get a row.
    """
    cols = ["value", "guarantor_id", "window_from", "window_to", "loans", "n_loans", "borrowers", "n_borrowers",
            "role"]
    s = ctx.status_on(ctx.day)
    g = ctx.guarantees
    if g.empty:
        return empty(cols)
    late = s["known"].to_numpy() & (s["overdue_days"].to_numpy() >= int(p["min_overdue_days"]))
    pos = ctx.loan_index.get_indexer(g["loan_id"].to_numpy(dtype=object))
    g = g.loc[late[pos]].assign(start=s["overdue_start"].to_numpy()[pos[late[pos]]])
    g = g.assign(party=ctx.party_of(g["guarantor_id"]))
    g = g.loc[g["party"].to_numpy() != ctx.party_of(g["borrower_id"])].drop_duplicates(["party", "loan_id"])
    if g.empty:
        return empty(cols)
    gcode, gnames = pd.factorize(g["party"].to_numpy(dtype=object))
    order, count, end = window_counts(gcode, g["start"].to_numpy(), int(p["window_days"]))
    sg = g.iloc[order].reset_index(drop=True)
    sg["count"] = count
    sg["end"] = end
    sg["i"] = np.arange(len(sg))
    best = sg.sort_values(["party", "count", "start", "loan_id"], ascending=[True, False, True, True],
                          kind="mergesort").drop_duplicates("party")
    best = best.loc[best["count"].to_numpy() >= 2]
    if best.empty:
        return empty(cols)
    which, posn = segments(best["i"].to_numpy(), best["end"].to_numpy())
    members = sg.iloc[posn][["party", "loan_id", "borrower_id", "start"]].reset_index(drop=True)
    loans = listed(members, ["party"], "loan_id").rename(columns={"loan_ids": "loans", "n_loan_ids": "n_loans"})
    bor = listed(members, ["party"], "borrower_id").rename(
        columns={"borrower_ids": "borrowers", "n_borrower_ids": "n_borrowers"})
    span = members.groupby("party", sort=True)["start"].agg(["min", "max"])
    per = loans.merge(bor, on="party")
    per["window_from"] = iso_days(span["min"].reindex(per["party"]).to_numpy())
    per["window_to"] = iso_days(span["max"].reindex(per["party"]).to_numpy())
    per["value"] = per["n_loans"].astype(np.int64)
    per["guarantor_id"] = per["party"]
    per["key"] = per["party"] + "|" + per["window_from"].astype(str)
    guarantor_rows = per.assign(subject_id=per["party"], role="guarantor")
    borrower_rows = members[["party", "borrower_id"]].drop_duplicates().merge(per, on="party")
    borrower_rows = borrower_rows.assign(subject_id=borrower_rows["borrower_id"], role="borrower")
    out = pd.concat([guarantor_rows, borrower_rows.drop(columns="borrower_id")], ignore_index=True)
    out["subject_type"] = ctx.type_of(out["subject_id"])
    out = best_per(out, ["subject_id"], "value", "key")
    return out[["subject_id", "subject_type", "key", *cols]]


def blacklist_link(ctx: Context, p: Mapping[str, Any]) -> pd.DataFrame:
    """Parties one or two hops from a blacklisted party (关联黑名单).

    Nodes are parties; edges (undirected) are guarantees in force, roles held on ``as_of`` (person's
    party -- organisation) and contacts in use shared by at most ``max_contact_group`` parties (an
    office building's address links nobody). value: hops to the nearest listed party (1 or 2); listed
    parties themselves get no row.
    """
    cols = ["value", "blacklisted", "via", "edge", "listed_parties", "via_parties"]
    listed_ids = ctx.cache.get(("external", "blacklisted"))
    if listed_ids is None or len(listed_ids) == 0:
        return empty(cols)
    edges = []
    kinds = set(p["edges"])
    if "guarantee" in kinds and ctx.has("guarantees") and ctx.has("loans"):
        g = ctx.guarantees
        edges.append(pd.DataFrame({"a": ctx.party_of(g["guarantor_id"]), "b": ctx.party_of(g["borrower_id"]),
                                   "edge": "guarantee"}))
    if "role" in kinds and ctx.has("roles"):
        r = ctx.roles_on(ctx.day)
        edges.append(pd.DataFrame({"a": ctx.party_of(r["person_id"]), "b": r["enterprise_id"].to_numpy(dtype=object),
                                   "edge": "role"}))
    if "contact" in kinds and ctx.has("contacts"):
        c = ctx.contacts[["kind", "value", "party"]].drop_duplicates()
        size = c.groupby(["kind", "value"], sort=False)["party"].transform("size")
        c = c.loc[(size >= 2).to_numpy() & (size <= int(p["max_contact_group"])).to_numpy()]
        pair = c.merge(c, on=["kind", "value"])
        pair = pair.loc[pair["party_x"].to_numpy() != pair["party_y"].to_numpy()]
        edges.append(pd.DataFrame({"a": pair["party_x"].to_numpy(dtype=object),
                                   "b": pair["party_y"].to_numpy(dtype=object), "edge": "contact"}))
    if not edges:
        return empty(cols)
    e = pd.concat(edges, ignore_index=True)
    e = e.loc[e["a"].to_numpy() != e["b"].to_numpy()]
    both = pd.concat([e, e.rename(columns={"a": "b", "b": "a"})], ignore_index=True).drop_duplicates()
    listed_parties = pd.unique(ctx.party_of(np.asarray(listed_ids, dtype=object)))
    codes, nodes = pd.factorize(np.concatenate([both["a"].to_numpy(dtype=object), listed_parties]))
    n = len(nodes)
    a = codes[:len(both)]
    b = pd.Index(nodes).get_indexer(both["b"].to_numpy(dtype=object))
    bl = np.zeros(n, dtype=bool)
    bl[codes[len(both):]] = True
    adj = sp.csr_matrix((np.ones(len(a)), (a, b)), shape=(n, n))
    hop1 = (adj @ bl.astype(np.float64) > 0) & ~bl
    hop2 = (adj @ hop1.astype(np.float64) > 0) & ~bl & ~hop1
    both["a_code"], both["b_code"] = a, b
    # hop 1: the listed neighbours and the kinds of edge to them
    e1 = both.loc[bl[b] & hop1[a]]
    l1 = listed(e1, ["a"], "b").rename(columns={"bs": "listed_parties", "n_bs": "n_listed"})
    k1 = e1.groupby("a", sort=True)["edge"].agg(lambda x: ",".join(sorted(set(x))))
    one = l1.assign(value=1, via=None, via_parties=[[] for _ in range(len(l1))],
                    edge=k1.reindex(l1["a"]).to_numpy())
    one["blacklisted"] = one["listed_parties"].map(lambda x: x[0])
    # hop 2: the hop-1 neighbours they reach the listed party through
    e2 = both.loc[hop1[b] & hop2[a]]
    v2 = listed(e2, ["a"], "b").rename(columns={"bs": "via_parties", "n_bs": "n_via"})
    k2 = e2.groupby("a", sort=True)["edge"].agg(lambda x: ",".join(sorted(set(x))))
    two = v2.assign(value=2, edge=k2.reindex(v2["a"]).to_numpy())
    two["via"] = two["via_parties"].map(lambda x: x[0])
    first = one.set_index("a")["blacklisted"]
    two["blacklisted"] = first.reindex(two["via"]).to_numpy()
    two["listed_parties"] = two["blacklisted"].map(lambda x: [x])
    out = pd.concat([one, two], ignore_index=True).rename(columns={"a": "subject_id"})
    out["value"] = out["value"].astype(np.int64)
    out["subject_type"] = ctx.type_of(out["subject_id"])
    out["key"] = out["blacklisted"].astype(str) + "|" + out["value"].astype(str)
    return out[["subject_id", "subject_type", "key", *cols]]

