"""Policy packs: loading, validation errors naming file and field, selection by date and jurisdiction."""

from __future__ import annotations

import datetime as dt

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ConfigDict

from ruralcredit.errors import InputError, PolicyError
from ruralcredit.packs import PolicyPack, builtin_pack_ids, load_pack, load_packs, pack_hash, select_pack


class _Payload(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    threshold: float


class DemoPack(PolicyPack):
    KIND = "demo"
    payload: _Payload


def _doc(version="2024.1", start="2024-01-01", end=None, jurisdiction="5301", pack_id="demo-pack", **payload):
    return {"id": pack_id, "kind": "demo", "version": version, "effective_from": start, "effective_to": end,
            "jurisdiction": jurisdiction, "source": "DOMAIN.md section 3",
            "payload": {"threshold": 0.5, **payload}}


VERSIONS = [_doc("2024.1", "2024-01-01", "2024-12-31"), _doc("2025.1", "2025-01-01"),
            _doc("2025.2", "2025-07-01", threshold=0.7)]


def test_load_from_mappings_sorts_by_date():
    packs = load_packs(reversed(VERSIONS), DemoPack)
    assert [p.version for p in packs] == ["2024.1", "2025.1", "2025.2"]
    assert packs[2].payload.threshold == 0.7


@pytest.mark.parametrize("day, version", [
    ("2024-01-01", "2024.1"), ("2024-12-31", "2024.1"), ("2025-01-01", "2025.1"), ("2025-06-30", "2025.1"),
    ("2025-07-01", "2025.2"), ("2030-01-01", "2025.2"),
])
def test_select_by_date(day, version):
    assert select_pack(load_packs(VERSIONS, DemoPack), day).version == version


def test_uncovered_dates_are_errors():
    packs = load_packs(VERSIONS, DemoPack)
    with pytest.raises(PolicyError, match="no version is in force on 2023-12-31"):
        select_pack(packs, "2023-12-31")
    gap = load_packs([_doc("1", "2024-01-01", "2024-06-30"), _doc("2", "2024-08-01")], DemoPack)
    with pytest.raises(PolicyError, match="2024-07-15"):
        select_pack(gap, dt.date(2024, 7, 15))
    with pytest.raises(InputError):
        select_pack(packs, None)


@given(st.dates(min_value=dt.date(2023, 1, 1), max_value=dt.date(2027, 1, 1)))
def test_selected_version_is_the_newest_in_force(day):
    packs = load_packs(VERSIONS, DemoPack)
    live = [p for p in packs if p.covers(day)]
    if not live:
        with pytest.raises(PolicyError):
            select_pack(packs, day)
    else:
        chosen = select_pack(packs, day)
        assert chosen.covers(day)
        assert all(p.effective_from <= chosen.effective_from for p in live)


def test_jurisdiction_most_specific_wins():
    packs = load_packs([_doc("a", jurisdiction="53"), _doc("b", "2024-02-01", jurisdiction="5301")], DemoPack)
    assert select_pack(packs, "2025-01-01", jurisdiction="530112").version == "b"
    assert select_pack(packs, "2025-01-01", jurisdiction="532301").version == "a"
    with pytest.raises(PolicyError):
        select_pack(packs, "2025-01-01", jurisdiction="110105")
    assert packs[1].applies_to("530112101201") and not packs[1].applies_to("530201")


def test_several_ids_must_be_named():
    packs = load_packs([_doc(pack_id="one"), _doc(pack_id="two")], DemoPack)
    with pytest.raises(PolicyError, match="several pack ids"):
        select_pack(packs, "2025-01-01")
    assert select_pack(packs, "2025-01-01", pack_id="two").id == "two"


@pytest.mark.parametrize("change, field", [
    ({"version": 1.1}, "version"),
    ({"jurisdiction": 5301}, "jurisdiction"),
    ({"id": "Has Spaces"}, "id"),
    ({"kind": "template"}, None),
    ({"effective_to": "2023-01-01"}, None),
    ({"extra_key": 1}, "extra_key"),
    ({"source": ""}, "source"),
    ({"payload": {"threshold": "high"}}, "payload.threshold"),
])
def test_bad_headers_and_payloads_name_the_field(change, field):
    with pytest.raises(PolicyError) as info:
        load_packs({**_doc(), **change}, DemoPack)
    assert info.value.field == field or (field is None and info.value.field in (None, ""))
    assert info.value.pack_id == change.get("id", "demo-pack")


def test_errors_name_the_file_and_document(tmp_path):
    path = tmp_path / "demo.yaml"
    path.write_text(yaml.safe_dump_all([_doc(), {**_doc("2", "2025-01-01"), "payload": {}}]), encoding="utf-8")
    with pytest.raises(PolicyError) as info:
        load_packs(path, DemoPack)
    assert info.value.file == str(path)
    assert info.value.field == "payload.threshold"
    assert "document 2" in str(info.value)


def test_same_start_twice_is_an_error(tmp_path):
    with pytest.raises(PolicyError, match="both start on"):
        load_packs([_doc("1"), _doc("2")], DemoPack)


def test_files_and_directories(tmp_path):
    (tmp_path / "a.yaml").write_text(yaml.safe_dump(VERSIONS[0]), encoding="utf-8")
    (tmp_path / "b.yml").write_text(yaml.safe_dump(VERSIONS[1]), encoding="utf-8")
    assert [p.version for p in load_packs(tmp_path, DemoPack)] == ["2024.1", "2025.1"]
    assert load_pack(tmp_path / "a.yaml", DemoPack, "2024-05-01").version == "2024.1"
    with pytest.raises(PolicyError, match="no such file"):
        load_packs(tmp_path / "absent.yaml", DemoPack)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(PolicyError, match="no .yaml files"):
        load_packs(empty, DemoPack)
    (tmp_path / "blank.yaml").write_text("", encoding="utf-8")
    with pytest.raises(PolicyError, match="holds no policy pack"):
        load_packs(tmp_path / "blank.yaml", DemoPack)


def test_unknown_builtin_is_an_error():
    assert builtin_pack_ids("demo") == []
    with pytest.raises(PolicyError, match="no built-in demo pack"):
        load_pack("nothing-here", DemoPack, "2025-01-01")
    assert "household" in builtin_pack_ids("template")
    assert "household-micro-credit" in builtin_pack_ids("loan_terms")


def test_hash_is_stable_and_sensitive():
    a, b = load_packs([VERSIONS[1]], DemoPack)[0], load_packs([VERSIONS[1]], DemoPack)[0]
    assert pack_hash(a) == pack_hash(b) == a.policy_hash
    c = load_packs([{**VERSIONS[1], "payload": {"threshold": 0.50001}}], DemoPack)[0]
    assert c.policy_hash != a.policy_hash
    d = a.describe()
    assert d == {"policy_id": "demo-pack", "policy_version": "2025.1", "policy_hash": a.policy_hash,
                 "policy_source": "DOMAIN.md section 3"}


def test_packs_are_immutable():
    p = load_packs([VERSIONS[0]], DemoPack)[0]
    with pytest.raises(Exception):  # noqa: B017 - pydantic raises its own ValidationError subtype
        p.version = "x"  # type: ignore[misc]
