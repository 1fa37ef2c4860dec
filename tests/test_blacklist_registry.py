"""Tests of the blacklist registry: maker-checker, periods, repair, expiry, appeals, bitemporal queries."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from ruralcredit import ids
from ruralcredit.blacklist import BlacklistPolicy, Registry, check_eligibility
from ruralcredit.errors import IdentifierError, InputError, PolicyError, RegistryError
from ruralcredit.store import open_store

RID = ids.make_resident_id("530102", dt.date(1980, 1, 1), 12)
RID2 = ids.make_resident_id("530102", dt.date(1975, 6, 15), 31)
USCC = ids.make_uscc("93", "530102", "MA6K0001")
T0 = dt.datetime(2026, 1, 1, 9, 0, 0)


class Clock:
    """A settable clock for transaction time."""

    def __init__(self, start: dt.datetime = T0) -> None:
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now

    def tick(self, **kw) -> dt.datetime:
        self.now += dt.timedelta(**kw)
        return self.now


def make(policy=None) -> tuple[Registry, Clock]:
    clock = Clock()
    reg = Registry(open_store("sqlite://", clock=clock), **({"policy": policy} if policy is not None else {}))
    return reg, clock


def propose(reg: Registry, subject: str = RID, **kw):
    args = dict(name="张三", category="debt.malicious_evasion", severity="serious", legal_basis="合同法第107条",
                source_institution="某农商行", document_number="2025-001", evidence_hash="ab" * 32,
                effective_date="2025-01-10", by="maker")
    args.update(kw)
    return reg.propose(subject, **args)


def active(reg: Registry, subject: str = RID, **kw):
    lst = propose(reg, subject, **kw)
    return reg.approve(lst.listing_id, by="checker")


# --- maker-checker ------------------------------------------------------------------------------------------


def test_a_listing_without_its_checkers_approval_has_no_effect():
    reg, _ = make()
    lst = propose(reg)
    assert lst.status == "pending" and lst.listed_from is None
    for day in ("2025-01-09", "2025-01-10", "2025-06-01", "2027-12-31"):
        assert not reg.is_listed(RID, on=day)
    assert reg.listings(on="2025-06-01").empty
    screened = reg.screen(pd.DataFrame({"subject_id": ["s1"], "id_number": [RID]}), by="screener", on="2025-06-01")
    assert screened["result"].tolist() == ["clear"]
    facts = pd.DataFrame({"subject_id": ["s1"], "id_number": [RID], "has_npl": [False],
                          "worst_overdue_days_24m": [0]})
    decided = check_eligibility(facts, "agri-subsidy", reg, "2025-06-01")
    assert decided.explain("s1").set_index("condition").loc["not_listed", "outcome"] == "met"


def test_the_maker_cannot_approve_and_a_listing_is_approved_once():
    reg, _ = make()
    lst = propose(reg)
    with pytest.raises(RegistryError) as err:
        reg.approve(lst.listing_id, by="maker")
    assert err.value.code == "self_approval" and err.value.listing_id == lst.listing_id
    assert not reg.is_listed(RID, on="2025-06-01")
    approved = reg.approve(lst.listing_id, by="checker")
    assert approved.status == "active" and reg.is_listed(RID, on="2025-06-01")
    with pytest.raises(RegistryError) as err:
        reg.approve(lst.listing_id, by="someone")
    assert err.value.code == "not_pending"


def test_a_rejected_listing_never_takes_effect():
    reg, _ = make()
    lst = propose(reg)
    with pytest.raises(RegistryError, match="different user"):
        reg.reject(lst.listing_id, by="maker", note="withdrawn")
    rejected = reg.reject(lst.listing_id, by="checker", note="evidence does not show ability to pay")
    assert rejected.status == "rejected"
    assert not reg.is_listed(RID, on="2025-06-01")
    with pytest.raises(RegistryError) as err:
        reg.approve(lst.listing_id, by="checker")
    assert err.value.code == "not_pending"


def test_the_same_listing_cannot_be_proposed_twice():
    reg, _ = make()
    propose(reg)
    with pytest.raises(RegistryError) as err:
        propose(reg, subject=RID.lower())
    assert err.value.code == "duplicate"
    assert RID not in str(err.value)
    propose(reg, document_number="2025-002")  # another document is another listing


# --- periods from the policy pack -------------------------------------------------------------------------------


def test_publicity_periods_come_from_the_policy_pack():
    reg, _ = make()
    serious = propose(reg, severity="serious", effective_date="2025-01-31")
    ordinary = propose(reg, RID2, severity="ordinary", effective_date="2025-01-31")
    assert (serious.min_end, serious.max_end) == (dt.date(2026, 1, 31), dt.date(2028, 1, 31))
    assert (ordinary.min_end, ordinary.max_end) == (dt.date(2025, 4, 30), dt.date(2026, 1, 31))
    with pytest.raises(RegistryError) as err:
        propose(reg, severity="minor", document_number="m")
    assert err.value.code == "not_published"
    assert serious.policy_id == "credit-repair" and serious.policy_version == "2023.1"
    later = propose(reg, severity="serious", effective_date="2026-05-01", document_number="x")
    assert later.policy_version == "2026.1"


def test_a_local_policy_changes_the_periods():
    base = Registry(open_store("sqlite://")).policy("2025-06-01").model_dump(mode="json")
    base["payload"]["publicity"]["serious"] = {"published": True, "min_months": 6, "max_months": 24}
    base["jurisdiction"] = "5301"
    reg, _ = make(policy=BlacklistPolicy.model_validate(base))
    lst = propose(reg)
    assert (lst.min_end, lst.max_end) == (dt.date(2025, 7, 10), dt.date(2027, 1, 10))


def test_a_listing_before_any_policy_version_is_refused():
    reg, _ = make()
    with pytest.raises(PolicyError):
        propose(reg, effective_date="2020-01-01")


# --- repair, removal, expiry ------------------------------------------------------------------------------------


def test_repair_before_the_minimum_period_is_refused():
    reg, _ = make()
    lst = active(reg)  # serious: min_end 2026-01-10
    with pytest.raises(RegistryError) as err:
        reg.request_repair(lst.listing_id, by="张三", on="2026-01-09", obligations_met=True)
    assert err.value.code == "before_minimum"
    with pytest.raises(RegistryError) as err:
        reg.request_repair(lst.listing_id, by="张三", on="2026-01-10", obligations_met=False)
    assert err.value.code == "obligations_not_met"
    assert reg.requests().empty
    req = reg.request_repair(lst.listing_id, by="张三", on="2026-01-10", obligations_met=True)
    with pytest.raises(RegistryError) as err:
        reg.request_repair(lst.listing_id, by="张三", on="2026-01-11", obligations_met=True)
    assert err.value.code == "duplicate_request"
    with pytest.raises(RegistryError) as err:
        reg.approve_removal(req.request_id, by="张三")
    assert err.value.code == "self_approval"
    decided = reg.approve_removal(req.request_id, by="checker")
    assert decided.decision == "approved"
    assert reg.is_listed(RID, on="2026-01-09") and not reg.is_listed(RID, on="2026-01-10")
    now = reg.get(lst.listing_id)
    assert (now.status, now.reason, now.listed_to) == ("removed", "credit_repair", dt.date(2026, 1, 10))
    with pytest.raises(RegistryError) as err:
        reg.approve_removal(req.request_id, by="other")
    assert err.value.code == "already_decided"


def test_a_rejected_removal_leaves_the_listing():
    reg, _ = make()
    lst = active(reg)
    req = reg.request_removal(lst.listing_id, reason="repaid", by="张三", on="2026-03-01", obligations_met=True)
    reg.reject_removal(req.request_id, by="checker", note="repayment not confirmed")
    assert reg.is_listed(RID, on="2026-03-02")
    assert reg.requests(lst.listing_id)["decision"].tolist() == ["rejected"]


@pytest.mark.parametrize("reason, code", [("expired", "reason_not_requestable"),
                                          ("appeal_upheld", "reason_not_requestable")])
def test_system_reasons_cannot_be_requested(reason, code):
    reg, _ = make()
    lst = active(reg)
    with pytest.raises(RegistryError) as err:
        reg.request_removal(lst.listing_id, reason=reason, by="x", on="2026-03-01", obligations_met=True)
    assert err.value.code == code


def test_expiry_at_the_maximum_period():
    reg, _ = make()
    lst = active(reg, severity="ordinary", effective_date="2025-01-10")  # max_end 2026-01-10
    assert reg.is_listed(RID, on="2026-01-09")
    assert not reg.is_listed(RID, on="2026-01-10")  # lazily ended, no sweep needed
    with pytest.raises(RegistryError) as err:
        reg.request_repair(lst.listing_id, by="张三", on="2026-01-10", obligations_met=True)
    assert err.value.code == "already_ended"
    assert reg.expire("2026-01-09") == []
    before = reg.version
    assert reg.expire("2026-01-10") == [lst.listing_id]
    assert reg.version == before + 1
    assert reg.audit_trail(lst.listing_id)["kind"].iloc[-1] == "listing.expired"
    got = reg.get(lst.listing_id)
    assert (got.status, got.reason, got.listed_to) == ("expired", "expired", dt.date(2026, 1, 10))
    assert reg.is_listed(RID, on="2026-01-09") and not reg.is_listed(RID, on="2026-01-10")
    assert reg.expire("2027-01-01") == []
    assert reg.history(lst.listing_id)["status"].tolist() == ["pending", "active", "expired"]


def test_data_error_removal_voids_the_listing_from_its_start():
    reg, clock = make()
    lst = active(reg)
    clock.tick(days=30)
    req = reg.request_removal(lst.listing_id, reason="data_error", by="clerk", on="2025-03-01")
    clock.tick(days=1)
    reg.approve_removal(req.request_id, by="checker2")
    assert not reg.is_listed(RID, on="2025-02-01")
    assert reg.is_listed(RID, on="2025-02-01", as_known_at=T0 + dt.timedelta(days=30))


# --- appeals --------------------------------------------------------------------------------------------------


def test_appeal_upheld_by_an_independent_reviewer():
    reg, clock = make()
    lst = active(reg)
    clock.tick(hours=1)
    appeal = reg.file_appeal(lst.listing_id, by="张三", grounds="the debt was repaid before listing", on="2025-02-01")
    for who, code in (("张三", "self_approval"), ("maker", "not_independent"), ("checker", "not_independent")):
        with pytest.raises(RegistryError) as err:
            reg.uphold_appeal(appeal.request_id, by=who)
        assert err.value.code == code
    with pytest.raises(RegistryError) as err:
        reg.approve_removal(appeal.request_id, by="reviewer")
    assert err.value.code == "wrong_request_kind"
    clock.tick(hours=1)
    upheld_at = clock.now
    reg.uphold_appeal(appeal.request_id, by="reviewer")
    assert reg.get(lst.listing_id).reason == "appeal_upheld"
    assert not any(reg.is_listed(RID, on=d) for d in ("2025-01-10", "2025-06-01", "2027-01-01"))
    assert reg.is_listed(RID, on="2025-06-01", as_known_at=upheld_at - dt.timedelta(microseconds=1))


def test_rejected_appeal_keeps_the_listing():
    reg, _ = make()
    lst = active(reg)
    appeal = reg.file_appeal(lst.listing_id, by="张三", grounds="disagree", on="2025-02-01")
    reg.reject_appeal(appeal.request_id, by="reviewer", note="evidence stands")
    assert reg.is_listed(RID, on="2025-06-01")
    pending = propose(reg, RID2)
    with pytest.raises(RegistryError) as err:
        reg.file_appeal(pending.listing_id, by="李四", grounds="x", on="2025-02-01")
    assert err.value.code == "not_active"


# --- bitemporal ----------------------------------------------------------------------------------------------


def test_bitemporal_answers_the_day_before_on_and_after_each_date():
    reg, clock = make()
    t_propose = clock.now
    lst = propose(reg, effective_date="2025-03-10")  # serious: min 2026-03-10, max 2028-03-10
    t_approve = clock.tick(days=2)
    reg.approve(lst.listing_id, by="checker")
    t_request = clock.tick(days=400)
    req = reg.request_repair(lst.listing_id, by="张三", on="2026-04-01", obligations_met=True)
    t_remove = clock.tick(days=3)
    reg.approve_removal(req.request_id, by="checker")
    eps = dt.timedelta(microseconds=1)

    def listed(day, known):
        return reg.is_listed(RID, on=day, as_known_at=known)

    for known in (t_propose, t_approve - eps):  # before approval nothing is listed, on any day
        assert not any(listed(d, known) for d in ("2025-03-09", "2025-03-10", "2025-03-11", "2026-04-01"))
    for known in (t_approve, t_request, t_remove - eps):  # approved, removal not yet known
        assert [listed(d, known) for d in ("2025-03-09", "2025-03-10", "2025-03-11")] == [False, True, True]
        assert [listed(d, known) for d in ("2026-03-31", "2026-04-01", "2026-04-02")] == [True, True, True]
        assert [listed(d, known) for d in ("2028-03-09", "2028-03-10", "2028-03-11")] == [True, False, False]
    for known in (t_remove, t_remove + eps, None):  # removal known: ends on its day
        assert [listed(d, known) for d in ("2025-03-09", "2025-03-10", "2025-03-11")] == [False, True, True]
        assert [listed(d, known) for d in ("2026-03-31", "2026-04-01", "2026-04-02")] == [True, False, False]
    # a registry version (event seq) works as a transaction time too
    versions = reg.history(lst.listing_id)["event_seq"].tolist()
    assert listed("2026-05-01", versions[1]) and not listed("2026-05-01", versions[2])
    assert not listed("2026-05-01", versions[1] - 1)


def _months(day: dt.date, months: int) -> dt.date:
    return (pd.Timestamp(day) + pd.DateOffset(months=months)).date()


_BASE = dt.date(2025, 1, 1)
_op = st.one_of(
    st.tuples(st.just("propose"), st.integers(0, 700), st.sampled_from(["ordinary", "serious"])),
    st.tuples(st.just("approve"), st.integers(0, 3)),
    st.tuples(st.just("reject"), st.integers(0, 3)),
    st.tuples(st.just("remove"), st.integers(0, 3), st.sampled_from(["repaid", "credit_repair", "data_error"]),
              st.integers(-30, 1200)),
    st.tuples(st.just("appeal"), st.integers(0, 3)),
    st.tuples(st.just("expire"), st.integers(300, 1500)),
)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=st.lists(_op, min_size=1, max_size=9), data=st.data())
def test_bitemporal_answers_match_a_reference_model(ops, data):
    """Random operation sequences: acceptance and every (day, known-at) answer agree with a plain model."""
    reg, clock = make()
    model: list[dict] = []  # per listing: facts and a list of (time, interval or None)
    times = []
    for op in ops:
        now = clock.tick(seconds=1)
        times.append(now)
        kind = op[0]
        if kind == "propose":
            eff = _BASE + dt.timedelta(days=op[1])
            lst = propose(reg, effective_date=eff, severity=op[2], document_number=f"d{len(model)}")
            mn, mx = (3, 12) if op[2] == "ordinary" else (12, 36)
            model.append({"id": lst.listing_id, "eff": eff, "min": _months(eff, mn), "max": _months(eff, mx),
                          "status": "pending", "versions": [(now, None)]})
            continue
        if op[1] >= len(model) and kind != "expire":
            continue
        m = model[op[1]] if kind != "expire" else None
        if kind in ("approve", "reject"):
            ok = m["status"] == "pending"
            try:
                (reg.approve if kind == "approve" else reg.reject)(m["id"], by="checker",
                                                                    **({} if kind == "approve" else {"note": "n"}))
                assert ok
            except RegistryError:
                assert not ok
                continue
            m["status"] = "active" if kind == "approve" else "rejected"
            m["versions"].append((now, (m["eff"], m["max"]) if kind == "approve" else None))
        elif kind == "remove":
            on = m["eff"] + dt.timedelta(days=op[3])
            ok = m["status"] == "active" and on < m["max"] and (op[2] == "data_error" or on >= m["min"])
            try:
                req = reg.request_removal(m["id"], reason=op[2], by="subject", on=on, obligations_met=True)
                reg.approve_removal(req.request_id, by="checker2")
                assert ok
            except RegistryError:
                assert not ok
                continue
            m["status"] = "removed"
            end = min(max(on, m["eff"]), m["max"])
            m["versions"].append((now, None if op[2] == "data_error" or end <= m["eff"] else (m["eff"], end)))
        elif kind == "appeal":
            ok = m["status"] == "active"
            try:
                appeal = reg.file_appeal(m["id"], by="subject", grounds="g", on=m["eff"])
                reg.uphold_appeal(appeal.request_id, by="reviewer")
                assert ok
            except RegistryError:
                assert not ok
                continue
            m["status"] = "removed"
            m["versions"].append((now, None))
        elif kind == "expire":
            day = _BASE + dt.timedelta(days=op[1])
            expired = reg.expire(day)
            want = [x["id"] for x in model if x["status"] == "active" and x["max"] <= day]
            assert sorted(expired) == sorted(want)
            for x in model:
                if x["id"] in want:
                    x["status"] = "expired"
                    x["versions"].append((now, x["versions"][-1][1]))

    def expected(day, known):
        for x in model:
            seen = [iv for t, iv in x["versions"] if known is None or t <= known]
            if seen and seen[-1] is not None and seen[-1][0] <= day < seen[-1][1]:
                return True
        return False

    interesting = [_BASE - dt.timedelta(days=1)]
    for x in model:
        for d in (x["eff"], x["min"], x["max"], *[iv[1] for _, iv in x["versions"] if iv]):
            interesting += [d - dt.timedelta(days=1), d, d + dt.timedelta(days=1)]
    knowns = [None, T0] + [t for t in times] + [t - dt.timedelta(microseconds=1) for t in times]
    checked = [None, *times, *data.draw(st.lists(st.sampled_from(knowns), max_size=3))]
    for known in checked:  # the whole valid-time state as known at each time
        frame = reg.listings(as_known_at=known).set_index("listing_id")
        for x in model:
            seen = [iv for t, iv in x["versions"] if known is None or t <= known]
            if not seen:
                assert x["id"] not in frame.index
                continue
            got = frame.loc[x["id"], ["listed_from", "listed_to"]]
            want = seen[-1] or (None, None)
            assert [None if pd.isna(v) else v.date() for v in got] == list(want), (x, known)
    for _ in range(15):
        day = data.draw(st.sampled_from(interesting))
        known = data.draw(st.sampled_from(knowns))
        assert reg.is_listed(RID, on=day, as_known_at=known) == expected(day, known), (day, known)


# --- malformed input ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("change, error", [
    ({"subject": "530102198001010121"}, IdentifierError),
    ({"subject": 5301021980}, IdentifierError),
    ({"category": "debt"}, InputError),
    ({"category": "nonsense.thing"}, InputError),
    ({"severity": "grave"}, InputError),
    ({"evidence_hash": "xyz"}, InputError),
    ({"evidence_hash": "g" * 64}, InputError),
    ({"effective_date": "2025-02-30"}, InputError),
    ({"effective_date": None}, InputError),
    ({"by": ""}, InputError),
    ({"name": "  "}, InputError),
    ({"legal_basis": None}, InputError),
    ({"id_kind": "passport"}, InputError),
])
def test_malformed_proposals_are_typed_errors(change, error):
    reg, _ = make()
    subject = change.pop("subject", RID)
    with pytest.raises(error):
        propose(reg, subject, **change)
    assert reg.version == 0


def test_malformed_queries_and_operations_are_typed_errors():
    reg, _ = make()
    lst = active(reg)
    with pytest.raises(InputError):
        reg.is_listed(RID, on="not a date")
    with pytest.raises(InputError):
        reg.is_listed(RID, on="2025-06-01", as_known_at="yesterday-ish")
    with pytest.raises(InputError):
        reg.is_listed(RID, on="2025-06-01", as_known_at=True)
    with pytest.raises(InputError):
        reg.is_listed(RID, on="2025-06-01", as_known_at=-1)
    with pytest.raises(IdentifierError):
        reg.is_listed("12345", on="2025-06-01")
    with pytest.raises(RegistryError) as err:
        reg.get("L-missing")
    assert err.value.code == "unknown_listing"
    with pytest.raises(RegistryError) as err:
        reg.approve_removal("R-missing", by="x")
    assert err.value.code == "unknown_request"
    with pytest.raises(InputError):
        reg.request_removal(lst.listing_id, reason="bored", by="x", on="2026-03-01")
    with pytest.raises(InputError):
        reg.request_removal(lst.listing_id, reason="repaid", by="x", on="2026-03-01", obligations_met="yes")
    with pytest.raises(InputError):
        reg.listings(status="gone")
    with pytest.raises(InputError):
        Registry("sqlite://")
    with pytest.raises(PolicyError):
        Registry(open_store("sqlite://"), policy="no-such-pack")
    with pytest.raises(InputError):
        Registry(open_store("sqlite://"), policy=42)


# --- identifiers, masking, integrity -----------------------------------------------------------------------


def test_fifteen_digit_numbers_are_upgraded_and_x_normalised():
    legacy = RID[:6] + RID[8:17]  # 15-digit form of a 19xx number
    reg, _ = make()
    active(reg, legacy)
    assert reg.is_listed(RID, on="2025-06-01")
    assert reg.is_listed(RID.lower(), on="2025-06-01")
    active(reg, USCC.lower(), category="finance.illegal_fundraising", document_number="u")
    assert reg.is_listed(USCC, on="2025-06-01")


def test_resident_ids_are_masked_in_reprs_frames_messages_and_the_audit_trail():
    reg, _ = make()
    lst = active(reg)
    masked = ids.mask_resident_id(RID)
    assert masked in repr(lst) and RID not in repr(lst)
    frame = reg.listings()
    assert frame["subject_masked"].tolist() == [masked]
    assert RID not in frame.to_string() and "subject_key" not in frame.columns
    with pytest.raises(RegistryError) as err:
        propose(reg)
    assert RID not in str(err.value) and masked in str(err.value)
    reg.screen(pd.DataFrame({"subject_id": ["s"], "id_number": [RID]}), by="screener", on="2025-06-01")
    trail = reg.audit_trail()
    assert not trail["payload"].str.contains(RID[:14]).any()
    assert masked in trail["payload"].iloc[0]
    with reg.store.read() as conn:
        dump = "\n".join(str(r) for table in ("bl_screenings", "bl_screening_results", "events")
                         for r in conn.execute(text(f"SELECT * FROM {table}")).all())
    assert RID not in dump


def test_registry_verify_catches_edited_and_deleted_rows():
    reg, _ = make()
    lst = active(reg)
    assert reg.verify().ok
    with reg.store.engine.begin() as conn:
        conn.execute(text("UPDATE bl_listing_versions SET listed_to = '2099-01-01' WHERE status = 'active'"))
    r = reg.verify()
    assert not r.ok and r.problem == "edited" and reg.store.verify().ok
    reg2, _ = make()
    lst = active(reg2)
    with reg2.store.engine.begin() as conn:
        conn.execute(text("DELETE FROM bl_listing_versions WHERE status = 'active'"))
    r = reg2.verify()
    assert (r.ok, r.problem) == (False, "deleted")
    assert not reg2.is_listed(RID, on="2025-06-01")  # the query sees the damage; verify names it
    assert lst.listing_id in reg2.audit_trail()["entity_id"].tolist()
    payload = json.loads(reg2.audit_trail()["payload"].iloc[2])
    assert payload["status"] == "active"


# --- bulk import ----------------------------------------------------------------------------------------------


def _bulk(n: int = 4) -> pd.DataFrame:
    people = [ids.make_resident_id("530102", dt.date(1960, 1, 1) + dt.timedelta(days=i), 11) for i in range(n)]
    return pd.DataFrame({
        "id_number": people, "name": "某人", "category": "debt.malicious_evasion",
        "severity": ["serious", "ordinary"] * (n // 2), "legal_basis": "law", "source_institution": "bank",
        "document_number": [f"b{i}" for i in range(n)], "evidence_hash": "0" * 64,
        "effective_date": pd.to_datetime(["2025-01-31", "2026-05-01"] * (n // 2)),
    })


def test_bulk_import_keeps_maker_checker_periods_and_the_chain():
    reg, _ = make()
    frame = _bulk()
    out = reg.propose_many(frame, by="importer")
    assert out["subject_masked"].tolist() == [ids.mask_resident_id(x) for x in frame["id_number"]]
    assert out["max_end"].tolist() == [pd.Timestamp("2028-01-31"), pd.Timestamp("2027-05-01")] * 2
    assert not reg.is_listed(frame["id_number"][0], on="2025-06-01")
    with pytest.raises(RegistryError) as err:
        reg.approve_many(out["listing_id"].tolist(), by="importer")
    assert err.value.code == "self_approval"
    assert reg.approve_many(out["listing_id"].tolist(), by="checker") == 4
    assert reg.is_listed(frame["id_number"][0], on="2025-06-01")
    assert reg.get(out["listing_id"][1]).policy_version == "2026.1"
    with pytest.raises(RegistryError) as err:
        reg.approve_many(out["listing_id"].tolist()[:1], by="checker")
    assert err.value.code == "not_pending"
    with pytest.raises(RegistryError) as err:
        reg.propose_many(frame.iloc[:1], by="importer")
    assert err.value.code == "duplicate"
    assert reg.store.version() == 12 and reg.verify().ok
    # one-by-one and bulk proposals record the same kind of rows: verify checks both
    single = active(reg, RID)
    assert reg.verify().ok and single.status == "active"


@pytest.mark.parametrize("change, problem", [
    ({"id_number": ["530102198001010121"] * 4}, "identifier"),
    ({"id_number": [RID[:6] + "********" + RID[-4:]] * 4}, "identifier"),
    ({"category": "debt"}, "allowed"),
    ({"severity": "grave"}, "allowed"),
    ({"evidence_hash": "zz"}, "dtype"),
    ({"effective_date": ["2025-02-30"] * 4}, "date"),
    ({"name": [None, "a", "b", "c"]}, "null"),
])
def test_malformed_bulk_imports_are_schema_errors(change, problem):
    from ruralcredit.errors import SchemaError

    reg, _ = make()
    frame = _bulk()
    for k, v in change.items():
        frame[k] = v
    with pytest.raises(SchemaError) as err:
        reg.propose_many(frame, by="importer")
    assert err.value.problem == problem and err.value.table == "listings"
    assert reg.version == 0
    with pytest.raises(SchemaError):
        reg.propose_many(frame.drop(columns=["name"]), by="importer")
