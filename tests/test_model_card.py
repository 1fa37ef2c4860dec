"""Tests of model cards and the fairness audit they carry (ruralcredit.models.model_card)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from ruralcredit.errors import InputError
from ruralcredit.features import build_features
from ruralcredit.models import ExpertScorecard, metrics
from ruralcredit.models.gbm import GbmScorer
from ruralcredit.models.model_card import ModelCard, household_groups, model_card
from ruralcredit.synth import make_county
from ruralcredit.templates import GradeScale, load_template

AS_OF = "2026-06-30"


@pytest.fixture(scope="module")
def county():
    return make_county(households=1200, seed=11, as_of=AS_OF)


@pytest.fixture(scope="module")
def data(county):
    feats = build_features(county, "household", county.as_of).assign(blacklisted=False)
    truth = county.truth["defaults"].set_index("subject_id")
    y = truth.loc[feats["subject_id"], "default_12m"].to_numpy().astype(int)
    test = np.arange(len(feats)) % 3 == 0
    return feats, y, test


@pytest.fixture(scope="module")
def gbm(data):
    feats, y, test = data
    return GbmScorer(template="household", as_of=AS_OF, n_estimators=80, num_leaves=7,
                     early_stopping_rounds=15).fit(feats[~test].drop(columns="blacklisted"), y[~test])


def test_model_card_of_the_gbm_on_the_synthetic_county(county, data, gbm):
    feats, y, test = data
    X, yt = feats[test], y[test]
    groups = household_groups(county, X["subject_id"])
    card = model_card(gbm, X, yt, groups=groups, X_reference=feats[~test], data_window=("2021-06-30", AS_OF),
                      fairness_options={"n_boot": 50})
    assert isinstance(card, ModelCard)
    out = gbm.score(X)
    # metrics are the metrics module's, on the PD
    assert card.metrics["ranked_by"] == "pd"
    assert card.metrics["auc"] == pytest.approx(metrics.auc(yt, out["pd"]))
    assert card.metrics["ks"] == pytest.approx(metrics.ks(yt, out["pd"]).statistic)
    assert card.metrics["gini"] == pytest.approx(2 * card.metrics["auc"] - 1)
    assert card.metrics["brier"] == pytest.approx(metrics.brier(yt, out["pd"]))
    assert card.metrics["auc"] > 0.6
    pd.testing.assert_frame_equal(card.calibration, metrics.calibration_table(yt, out["pd"], 10))
    # score bands at the grade thresholds, lowest first; subjects per grade add up
    assert card.score_bands["band"].tolist() == ["C", "B", "A", "AA", "AAA"]
    assert card.score_bands["count"].sum() == len(X) == card.grades["subjects"].sum()
    # stability: PSI of the scores and of every input feature against the development sample
    assert card.stability["score_psi"] >= 0 and card.stability["score_stability"] in ("stable", "moderate shift",
                                                                                        "major shift")
    # (the model's features, then the template's veto columns it reads)
    assert card.stability["features"]["feature"].tolist() == [*gbm.feature_names_in_, "blacklisted",
                                                              "bad_credit_5y", "criminal_5y"]
    # features with their sources and constraints
    f = card.features.set_index("feature")
    assert f.loc["deposits", "indicator"].startswith("HH12") and f.loc["deposits", "sources"] == "households"
    assert f.loc["deposits", "monotone"] == "PD falls as it rises"
    # the fairness section covers the four groupings
    assert set(card.fairness.table["variable"]) == {"ethnicity", "gender", "village_code", "township_code"}
    assert card.data_window == {"start": "2021-06-30", "end": AS_OF}
    # the renderings
    md = card.to_markdown()
    for heading in ("## Intended use", "## Data", "## Features and their sources", "## Metrics", "### Calibration",
                    "## Score bands", "## Stability", "## Fairness", "## Limits"):
        assert heading in md
    doc = json.loads(card.to_json())
    assert doc["metrics"]["auc"] == pytest.approx(card.metrics["auc"])
    assert {r["variable"] for r in doc["fairness"]["table"]} == {"ethnicity", "gender", "village_code",
                                                                  "township_code"}
    assert doc["scorer"]["hash"] == gbm.model_hash_ and doc["scorer"]["summary"]["kind"] == "gbm"
    with pytest.raises(ValueError, match="constant"):
        json.loads('{"a": NaN}', parse_constant=_no_constants)
    json.loads(card.to_json(), parse_constant=_no_constants)  # no NaN / Infinity tokens


def _no_constants(token: str) -> None:
    raise ValueError(f"JSON constant {token}")


def test_model_card_of_the_expert_scorecard_has_no_pd_sections(county, data):
    feats, y, test = data
    card = model_card(ExpertScorecard("household", as_of=AS_OF).fit(), feats[test], y[test],
                      groups=household_groups(county, feats["subject_id"][test]), fairness_options={"n_boot": 20})
    assert card.metrics["ranked_by"].startswith("score")
    assert card.metrics["brier"] is None and card.calibration is None
    assert any("no probability of default" in n for n in card.notes)
    out = ExpertScorecard("household", as_of=AS_OF).fit().score(feats[test])
    assert card.metrics["auc"] == pytest.approx(metrics.auc(y[test], -out["score"].to_numpy()))
    assert card.population["vetoed"] == int((out["grade"] == "VETO").sum())
    assert "VETO" in card.grades["grade"].tolist() or card.population["vetoed"] == 0
    assert card.stability is None and "No reference sample given" in card.to_markdown()
    assert card.scorer["scorer_id"] == "household" and card.scorer["scorer_version"] == "2024.1"
    json.loads(card.to_json())


def _biased_world(n: int, seed: int, biased: bool) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Households in two groups with the same true risk. In the biased world the historical labels
    punish the minority and a proxy feature (remote village) reveals membership."""
    rng = np.random.default_rng(seed)
    minority = rng.random(n) < 0.3
    income = rng.lognormal(9.5, 0.5, n)
    z = -3.2 - 1.2 * (np.log(income) - 9.5)
    if biased:
        z = z + 2.5 * minority  # the labels carry the historical bias
    y = (rng.random(n) < 1 / (1 + np.exp(-z))).astype(int)
    remote = np.where(rng.random(n) < 0.95, minority, ~minority) if biased else rng.random(n) < 0.3
    X = pd.DataFrame({"subject_id": pd.Series([f"H{i}" for i in range(n)], dtype="str"), "income": income,
                      "remote_village": remote.astype(float)})
    return X, y, np.where(minority, "minority", "majority")


@pytest.mark.parametrize("biased", [True, False])
def test_the_fairness_section_flags_a_deliberately_biased_model(biased):
    X, y, group = _biased_world(2500, seed=1, biased=biased)
    model = GbmScorer(grade_scale=GradeScale.default(), monotone={"income": -1}, n_estimators=80,
                      num_leaves=7).fit(X, y)
    card = model_card(model, X, y, groups={"ethnicity": group}, fairness_options={"n_boot": 100})
    flagged = card.fairness.flagged()
    if biased:
        assert flagged[["variable", "group"]].values.tolist() == [["ethnicity", "minority"]]
        assert "**Adverse impact flagged** for: ethnicity=minority" in card.to_markdown()
        assert json.loads(card.to_json())["fairness"]["adverse_impact"] == [
            {"variable": "ethnicity", "group": "minority"}]
    else:
        assert flagged.empty and "No group flagged" in card.to_markdown()


def test_household_groups_reads_the_head_and_the_place(county):
    ids = list(county.households["subject_id"].iloc[[5, 0, 3]]) + ["H-UNKNOWN"]
    g = household_groups(county, ids)
    assert list(g.columns) == ["ethnicity", "gender", "village_code", "township_code"]
    persons = county.persons
    heads = persons[persons["relation"] == "head"].set_index("household_id")
    assert g["ethnicity"].iloc[:3].tolist() == heads.loc[ids[:3], "ethnicity"].tolist()
    assert g["gender"].iloc[:3].tolist() == heads.loc[ids[:3], "gender"].tolist()
    hh = county.households.set_index("subject_id")
    assert g["village_code"].iloc[:3].tolist() == hh.loc[ids[:3], "village_code"].tolist()
    assert all(v.startswith(t) for v, t in zip(g["village_code"].iloc[:3], g["township_code"].iloc[:3], strict=True))
    assert g.iloc[3].isna().all()
    with pytest.raises(InputError, match="lacks tables"):
        household_groups({"households": county.households}, ids)


def test_model_card_refuses_bad_input(data, gbm):
    feats, y, test = data
    X = feats[test]
    with pytest.raises(InputError, match="both"):
        model_card(gbm, X, np.zeros(len(X)))
    with pytest.raises(InputError, match="one value per row|values"):
        model_card(gbm, X, y[test][:-1])
    with pytest.raises(InputError, match="rows"):
        model_card(gbm, X, y[test], groups={"ethnicity": np.array(["a"] * (len(X) - 1))})
    with pytest.raises(InputError, match="data_window"):
        model_card(gbm, X, y[test], data_window=3)
    tpl = load_template("household", AS_OF)
    assert model_card(gbm, X, y[test], intended_use="test only", limits=["none"]).limits == ["none"]
    assert tpl.grade_scale == gbm.grade_scale_
