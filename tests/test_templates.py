"""Indicator templates: built-ins validate and compile; every bad template is a PolicyError naming file and field."""

from __future__ import annotations

import copy
import typing
from pathlib import Path

import pytest
import yaml

from ruralcredit.errors import InputError, PolicyError
from ruralcredit.features import FEATURES, feature_names
from ruralcredit.models.expert import compile_template
from ruralcredit.packs import load_packs
from ruralcredit.schema import SUBJECT_TYPES
from ruralcredit.templates import GradeScale, Template, builtin_templates, load_template
from ruralcredit.templates.templates import SubjectType

AS_OF = "2026-06-30"
BUILTIN = Path(__file__).resolve().parents[1] / "src" / "ruralcredit" / "templates" / "builtin" / "template"


def _household_doc() -> dict:
    return yaml.safe_load((BUILTIN / "household.yaml").read_text(encoding="utf-8"))


def _ind(doc: dict, code: str) -> dict:
    return next(i for i in doc["payload"]["indicators"] if i["code"] == code)


def _load_bad(doc: dict, tmp_path: Path) -> PolicyError:
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    with pytest.raises(PolicyError) as info:
        load_template(path, as_of=AS_OF)
    err = info.value
    assert err.file == str(path)
    assert err.pack_id == "household"
    return err


# -- built-ins ------------------------------------------------------------------------------------------
def test_builtin_templates_cover_every_subject_type():
    assert sorted(builtin_templates()) == sorted(SUBJECT_TYPES)
    assert set(typing.get_args(SubjectType)) == set(SUBJECT_TYPES)


@pytest.mark.parametrize("name", SUBJECT_TYPES)
def test_builtin_template_validates_and_compiles(name):
    t = load_template(name, as_of=AS_OF)
    assert t.subject_type == name
    assert t.jurisdiction == "5301" and "DOMAIN.md" in t.source
    assert t.grade_scale.max_score == 100
    assert sum(c.max_points for c in t.payload.categories) == 100
    for ind in t.indicators:
        assert ind.feature in feature_names(name)
    card = compile_template(t)
    assert card.max_score == pytest.approx(100.0)
    assert card.feature_names == [i.feature for i in t.indicators]
    assert card.meta["template_hash"] == t.policy_hash
    # the grade scale is the local norm
    assert t.grade_scale.assign([80.0, 79.9, 70.0, 60.0, 59.9]).tolist() == ["AAA", "AA", "AA", "A", "B"]
    assert t.grade_scale.credit_grades == ["AAA", "AA", "A"]


def test_household_template_has_thirty_indicators_in_six_categories():
    t = load_template("household", as_of=AS_OF)
    assert len(t.indicators) == 30
    assert [c.code for c in t.payload.categories] == ["basic", "assets", "operation", "debt", "credit", "moral"]
    assert {v.code for v in t.payload.vetoes} == {"blacklisted", "bad_credit_5y", "criminal_5y"}


def test_compiled_points_follow_the_bands():
    t = load_template("household", as_of=AS_OF)
    ind = t.indicator("HH13")  # income per labourer, [lower, upper) bands
    card = compile_template(t)
    j = card.feature_names.index(ind.feature)
    for band in ind.bands:
        _, pts = card.score_record({ind.feature: band.lower})
        assert pts[j] == band.points
    _, pts = card.score_record({})
    assert pts[j] == ind.missing_points == min(b.points for b in ind.bands)
    # the last band of a bounded range includes its top
    worst = t.indicator("HH25")
    assert card.score_record({worst.feature: 4})[1][card.feature_names.index(worst.feature)] == 0.0


def test_uncovered_date_is_a_policy_error():
    with pytest.raises(PolicyError, match="no version is in force"):
        load_template("household", as_of="2023-12-31")
    with pytest.raises(InputError):
        load_template("household", as_of="not a date")
    with pytest.raises(PolicyError, match="no built-in template"):
        load_template("village", as_of=AS_OF)


def test_a_later_version_is_chosen_by_date(tmp_path):
    doc = _household_doc()
    newer = copy.deepcopy(doc)
    newer["version"] = "2026.1"
    newer["effective_from"] = "2026-01-01"
    path = tmp_path / "two.yaml"
    path.write_text(yaml.safe_dump_all([doc, newer], allow_unicode=True), encoding="utf-8")
    assert load_template(path, as_of="2025-12-31").version == "2024.1"
    assert load_template(path, as_of="2026-01-01").version == "2026.1"


# -- every validation rule ----------------------------------------------------------------------------
def test_indicator_points_not_adding_up_to_the_category(tmp_path):
    doc = _household_doc()
    _ind(doc, "HH13")["bands"][-1]["points"] = 9  # operation would add up to 23, not 22
    err = _load_bad(doc, tmp_path)
    assert err.field == "payload.indicators" and "category 'operation'" in str(err)


def test_categories_not_adding_up_to_the_scale(tmp_path):
    doc = _household_doc()
    doc["payload"]["categories"][0]["max_points"] = 13
    err = _load_bad(doc, tmp_path)
    assert err.field == "payload.categories" and "not to the scale's 100" in str(err)


@pytest.mark.parametrize("mutate, word", [
    (lambda b: b[1].update(lower=11000), "gap"),
    (lambda b: b[1].update(lower=9000), "overlap"),
    (lambda b: b[0].update(lower=100), "bottom"),
    (lambda b: b[-1].update(upper=1e6), "top"),
    (lambda b: b[2].update(upper=20000), "must exceed"),
])
def test_band_gaps_and_overlaps(tmp_path, mutate, word):
    doc = _household_doc()
    mutate(_ind(doc, "HH13")["bands"])
    err = _load_bad(doc, tmp_path)
    n = [i["code"] for i in doc["payload"]["indicators"]].index("HH13")
    assert err.field == f"payload.indicators.{n}.bands"
    assert word in str(err)


def test_points_against_the_direction(tmp_path):
    doc = _household_doc()
    bands = _ind(doc, "HH13")["bands"]
    bands[0]["points"], bands[1]["points"] = 3, 1
    assert "decrease" in str(_load_bad(doc, tmp_path))


def test_feature_not_in_the_catalogue(tmp_path):
    doc = _household_doc()
    _ind(doc, "HH13")["feature"] = "income_per_worker"
    assert "no feature 'income_per_worker'" in str(_load_bad(doc, tmp_path))


def test_feature_not_provided_for_the_subject_type(tmp_path):
    doc = _household_doc()
    ind = _ind(doc, "HH30")
    assert "members" in FEATURES and "household" not in FEATURES["members"].subject_types
    ind["feature"] = "members"
    ind["unit"] = "persons"
    ind["valid_range"] = [0, None]
    ind["bands"][-1]["upper"] = None
    assert "does not provide 'members' for 'household'" in str(_load_bad(doc, tmp_path))


@pytest.mark.parametrize("name", ["ethnicity", "gender", "religion", "head_ethnicity", "minzu_code"])
def test_protected_attribute_as_input(tmp_path, name):
    doc = _household_doc()
    ind = _ind(doc, "HH02")
    ind["feature"] = name
    err = _load_bad(doc, tmp_path)
    assert "protected attribute" in str(err) and err.field == "payload.indicators"


def test_protected_attribute_as_veto(tmp_path):
    doc = _household_doc()
    doc["payload"]["vetoes"][0]["feature"] = "gender"
    assert "protected attribute" in str(_load_bad(doc, tmp_path))


def test_categories_must_match_the_feature(tmp_path):
    doc = _household_doc()
    del _ind(doc, "HH03")["categories"]["poor"]
    assert "missing ['poor']" in str(_load_bad(doc, tmp_path))


def test_dtype_and_unit_must_match_the_feature(tmp_path):
    doc = _household_doc()
    _ind(doc, "HH13")["dtype"] = "int"
    assert "feature 'income_per_labourer' is 'float'" in str(_load_bad(doc, tmp_path))
    doc = _household_doc()
    _ind(doc, "HH13")["unit"] = "wan_yuan"
    assert "unit 'wan_yuan'" in str(_load_bad(doc, tmp_path))


def test_missing_points_beyond_the_maximum(tmp_path):
    doc = _household_doc()
    _ind(doc, "HH29")["missing"] = 9
    assert "missing points" in str(_load_bad(doc, tmp_path))


def test_duplicate_codes_and_features(tmp_path):
    doc = _household_doc()
    _ind(doc, "HH02")["code"] = "HH01"
    assert "unique" in str(_load_bad(doc, tmp_path))
    doc = _household_doc()
    doc["payload"]["indicators"][1]["feature"] = "head_age"
    assert "same feature" in str(_load_bad(doc, tmp_path))


def test_vetoes_read_known_boolean_features(tmp_path):
    doc = _household_doc()
    doc["payload"]["vetoes"][1]["feature"] = "honours"
    assert "boolean feature" in str(_load_bad(doc, tmp_path))
    doc = _household_doc()
    doc["payload"]["vetoes"][0]["external"] = False
    assert "external: true" in str(_load_bad(doc, tmp_path))


def test_bad_grade_scale(tmp_path):
    doc = _household_doc()
    doc["payload"]["grade_scale"]["grades"][1]["min_score"] = 85
    assert "strictly decrease" in str(_load_bad(doc, tmp_path))
    doc = _household_doc()
    doc["payload"]["grade_scale"]["grades"][3]["credit_household"] = True
    doc["payload"]["grade_scale"]["grades"][2]["credit_household"] = False
    assert "top grades" in str(_load_bad(doc, tmp_path))


def test_unknown_category_and_bad_yaml(tmp_path):
    doc = _household_doc()
    _ind(doc, "HH01")["category"] = "family"
    assert "unknown category 'family'" in str(_load_bad(doc, tmp_path))
    path = tmp_path / "broken.yaml"
    path.write_text("id: household\npayload: [unclosed\n", encoding="utf-8")
    with pytest.raises(PolicyError, match="not valid YAML") as info:
        load_template(path, as_of=AS_OF)
    assert info.value.file == str(path)


def test_indicator_categorical_needs_categories():
    doc = _household_doc()
    ind = _ind(doc, "HH02")
    ind["bands"] = [{"lower": None, "upper": None, "points": 2}]
    with pytest.raises(PolicyError, match="categorical indicator needs 'categories' and no 'bands'"):
        load_packs(doc, Template)


def test_grade_scale_default_and_bad_scores():
    scale = GradeScale.default()
    assert scale.assign([100.0, 0.0]).tolist() == ["AAA", "C"]
    with pytest.raises(InputError):
        scale.assign([float("nan")])
    with pytest.raises(InputError):
        scale.assign([101.0])
