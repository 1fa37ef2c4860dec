"""Tests of joint punishment: listings reaching persons and entities through dated roles."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from ruralcredit import ids
from ruralcredit.blacklist import BlacklistPolicy, Registry, check_eligibility
from ruralcredit.blacklist.cases import link_tables
from ruralcredit.errors import InputError, SchemaError
from ruralcredit.store import open_store

COOP = ids.make_uscc("93", "530102", "MA6K0001")
FIRM = ids.make_uscc("91", "530112", "MA6K0002")
OLD_REP = ids.make_resident_id("530102", dt.date(1975, 6, 15), 31)
NEW_REP = ids.make_resident_id("530112", dt.date(1990, 3, 8), 44)
GONE = ids.make_resident_id("530102", dt.date(1966, 2, 2), 71)  # responsible person who left before listing
MEMBER = ids.make_resident_id("530102", dt.date(1985, 11, 30), 57)
CONTROLLER = ids.make_resident_id("530102", dt.date(1970, 7, 7), 93)

LINKS = [
    {"person": OLD_REP, "organisation": COOP, "role": "legal_representative", "valid_from": "2018-01-01",
     "valid_to": "2025-06-30", "person_name": "王五"},
    {"person": NEW_REP, "organisation": COOP, "role": "legal_representative", "valid_from": "2025-07-01",
     "valid_to": None, "person_name": "赵六"},
    {"person": GONE, "organisation": COOP, "role": "responsible_person", "valid_from": "2016-01-01",
     "valid_to": "2024-12-31"},
    {"person": MEMBER, "organisation": COOP, "role": "member", "valid_from": "2016-01-01", "valid_to": None},
    {"person": CONTROLLER, "organisation": FIRM, "role": "actual_controller", "valid_from": "2025-03-01",
     "valid_to": "2025-12-31"},
]


def registry(policy=None) -> Registry:
    reg = Registry(open_store("sqlite://"), **({"policy": policy} if policy is not None else {}))
    coop = reg.propose(COOP, name="某种植专业合作社", category="debt.malicious_evasion", severity="serious",
                       legal_basis="law", source_institution="bank", document_number="c1", evidence_hash="0" * 64,
                       effective_date="2025-01-10", by="maker")
    reg.approve(coop.listing_id, by="checker")
    person = reg.propose(CONTROLLER, name="孙七", category="court.dishonest_debtor", severity="ordinary",
                         legal_basis="law", source_institution="court", document_number="p1",
                         evidence_hash="0" * 64, effective_date="2025-01-10", by="maker")  # max_end 2026-01-10
    reg.approve(person.listing_id, by="checker")
    return reg


@pytest.fixture(scope="module")
def reg() -> Registry:
    return registry()


@pytest.fixture(scope="module")
def links() -> dict[str, pd.DataFrame]:
    return link_tables(LINKS)


def hit(reg, links, subject, on) -> bool:
    return not reg.related_hits(subject, **links, on=on).empty


def test_an_organisations_listing_reaches_its_legal_representative_for_the_dates_held(reg, links):
    assert not hit(reg, links, OLD_REP, "2025-01-09")  # before the listing
    assert hit(reg, links, OLD_REP, "2025-01-10")
    assert hit(reg, links, OLD_REP, "2025-06-30")


def test_a_change_of_legal_representative_clears_nobody_retroactively(reg, links):
    # the former representative stays reached after leaving the role, as long as the listing lasts
    for day in ("2025-07-01", "2026-06-01", "2028-01-09"):
        assert hit(reg, links, OLD_REP, day)
    assert not hit(reg, links, OLD_REP, "2028-01-10")  # the listing's maximum period ended


def test_a_new_legal_representative_is_not_listed_retroactively(reg, links):
    assert not hit(reg, links, NEW_REP, "2025-03-01")
    assert not hit(reg, links, NEW_REP, "2025-06-30")
    assert hit(reg, links, NEW_REP, "2025-07-01")
    assert hit(reg, links, NEW_REP, "2026-01-01")


def test_roles_outside_the_policy_and_holders_gone_before_the_listing_are_not_reached(reg, links):
    for day in ("2025-01-10", "2025-08-01"):
        assert not hit(reg, links, MEMBER, day)
        assert not hit(reg, links, GONE, day)


def test_a_persons_listing_shows_on_the_entity_they_control_while_they_do(reg, links):
    assert not hit(reg, links, FIRM, "2025-02-28")  # not yet the controller
    assert hit(reg, links, FIRM, "2025-03-01")
    assert hit(reg, links, FIRM, "2025-12-31")
    assert not hit(reg, links, FIRM, "2026-01-01")  # no longer the controller


def test_each_derived_hit_names_its_path(reg, links):
    hits = reg.related_hits(OLD_REP.lower(), **links, on="2025-08-01")
    assert len(hits) == 1
    row = hits.iloc[0]
    assert row["via"] == "organisation_to_person" and row["role"] == "legal_representative"
    assert row["entity"] == COOP and row["person"] == ids.mask_resident_id(OLD_REP)
    assert row["role_from"] == pd.Timestamp("2018-01-01") and row["role_to"] == pd.Timestamp("2025-06-30")
    assert row["listed_from"] == pd.Timestamp("2025-01-10")
    assert row["listing_id"] in row["path"] and "2018-01-01..2025-06-30" in row["path"]
    assert OLD_REP not in hits.to_string()
    firm = reg.related_hits(FIRM, **links, on="2025-06-01").iloc[0]
    assert firm["via"] == "person_to_entity" and firm["person"] == ids.mask_resident_id(CONTROLLER)


def test_policy_can_stop_reaching_after_the_role_ends_and_turn_off_person_to_entity(links):
    base = Registry(open_store("sqlite://")).policy("2025-06-01").model_dump(mode="json")
    base["payload"]["joint"]["after_role_end"] = "stop"
    base["payload"]["joint"]["person_to_entity"] = False
    reg = registry(policy=BlacklistPolicy.model_validate(base))
    assert hit(reg, links, OLD_REP, "2025-06-30")
    assert not hit(reg, links, OLD_REP, "2025-07-01")
    assert hit(reg, links, NEW_REP, "2025-07-01")
    assert not hit(reg, links, FIRM, "2025-06-01")


def test_joint_hits_reach_eligibility_only_with_the_role_tables(reg, links):
    facts = pd.DataFrame({"subject_id": ["old", "new", "member"], "id_number": [OLD_REP, NEW_REP, MEMBER],
                          "has_npl": False, "worst_overdue_days_24m": 0})
    with_roles = check_eligibility(facts, "agri-subsidy", reg, "2026-06-01", **links)
    d = with_roles.details[with_roles.details["condition"] == "not_listed"].set_index("subject_id")
    assert d["outcome"].astype(str).to_dict() == {"old": "unmet", "new": "unmet", "member": "met"}
    assert d.loc["old", "value"].startswith("joint:")
    without = check_eligibility(facts, "agri-subsidy", reg, "2026-06-01")
    d = without.details[without.details["condition"] == "not_listed"].set_index("subject_id")
    assert set(d["outcome"].astype(str)) == {"unknown"} and set(d["value"]) == {"roles not given"}
    with pytest.raises(InputError):
        check_eligibility(facts, "agri-subsidy", reg, "2026-06-01", roles=links["roles"])


def test_malformed_role_tables_are_schema_errors(reg, links):
    bad = links["roles"].copy()
    bad.loc[0, "role"] = "godfather"
    with pytest.raises(SchemaError):
        reg.related_hits(OLD_REP, bad, links["persons"], links["enterprises"], on="2025-08-01")
    dangling = links["roles"].copy()
    dangling.loc[0, "person_id"] = "P999"
    with pytest.raises(SchemaError) as err:
        reg.related_hits(OLD_REP, dangling, links["persons"], links["enterprises"], on="2025-08-01")
    assert err.value.problem == "reference"
    backwards = links["roles"].copy()
    backwards.loc[0, "valid_to"] = pd.Timestamp("2010-01-01")
    with pytest.raises(SchemaError):
        reg.related_hits(OLD_REP, backwards, links["persons"], links["enterprises"], on="2025-08-01")
