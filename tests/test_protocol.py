"""Tests of the scorer protocol (ruralcredit.models.protocol): the three scorers are interchangeable."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from ruralcredit.errors import InputError, ModelError
from ruralcredit.features import build_features
from ruralcredit.models import ExpertScorecard, Scorecard, load, save
from ruralcredit.models.gbm import GbmScorer
from ruralcredit.models.protocol import (
    SCORE_COLUMNS,
    Scorer,
    check_scorer,
    required_features,
    scorer_grade_scale,
)
from ruralcredit.synth import make_county
from ruralcredit.templates import load_template

AS_OF = "2026-06-30"
#: The household template's veto columns, in template order.
VETO_COLUMNS = ["blacklisted", "bad_credit_5y", "criminal_5y"]


def _vetoed(frame: pd.DataFrame) -> pd.Series:
    """Rows some veto of the household template applies to (missing catalogue flags pass)."""
    return frame[VETO_COLUMNS].fillna(False).astype(bool).any(axis=1)


@pytest.fixture(scope="module")
def county_data() -> tuple[pd.DataFrame, np.ndarray]:
    county = make_county(households=800, seed=5, as_of=AS_OF)
    feats = build_features(county, "household", county.as_of)
    truth = county.truth["defaults"].set_index("subject_id")
    y = truth.loc[feats["subject_id"], "default_12m"].to_numpy().astype(int)
    return feats, y


@pytest.fixture(scope="module")
def scorers(county_data) -> dict[str, Any]:
    feats, y = county_data
    tpl = load_template("household", AS_OF)
    return {
        "expert": ExpertScorecard(tpl).fit(),
        "gbm": GbmScorer(template=tpl, n_estimators=60, num_leaves=7, early_stopping_rounds=15).fit(feats, y),
        # the statistical scorecard put on the same 100-point scale and grades as the other two
        "scorecard": Scorecard(template=tpl, grade_scale=tpl.grade_scale, pdo=10, base_score=60,
                               base_odds=19).fit(feats, y),
        # two features: every subject has fewer than three reasons (the "" rule, frame and record);
        # the grade scale is the template's by default
        "scorecard_2": Scorecard(template=tpl, pdo=10, base_score=60, base_odds=19, max_features=2).fit(feats, y),
    }


@pytest.fixture(scope="module")
def sample(county_data) -> pd.DataFrame:
    # a feature frame as services hold it: every feature plus the external veto flag
    return county_data[0].head(60).assign(blacklisted=False)


@pytest.mark.parametrize("name", ["expert", "gbm", "scorecard", "scorecard_2"])
def test_scorer_keeps_the_protocol(scorers, sample, name):
    scorer = scorers[name]
    assert isinstance(scorer, Scorer)
    check_scorer(scorer, sample)


def test_few_reasons_are_empty_text(scorers, sample):
    card = scorers["scorecard_2"]
    assert len(card.features_) == 2 and scorer_grade_scale(card) == card.template.grade_scale
    # subjects with no veto: a veto is a reason of its own, ahead of the two features'
    out = card.score(sample[~_vetoed(sample)])
    assert (out["reason_3"] == "").all() and (out["reason_3_zh"] == "").all() and (out["reason_3_en"] == "").all()
    assert (out["reason_1"] != "").any()


@pytest.mark.parametrize("name", ["expert", "gbm", "scorecard"])
def test_scorers_are_interchangeable_downstream(scorers, sample, name, tmp_path):
    """What a caller does with 'a scorer' works the same for each: frame, credit households, record,
    save and load."""
    scorer = scorers[name]
    out = scorer.score(sample)
    assert set(SCORE_COLUMNS) <= set(out.columns)
    scale = scorer_grade_scale(scorer)
    credit = scale.is_credit(out["grade"])
    assert credit.dtype == bool and len(credit) == len(sample)
    rec = scorer.score_record(sample.iloc[0].to_dict())
    assert {c: rec[c] for c in ("subject_id", "grade", "reason_1")} == \
        {c: out[c].astype(object).iloc[0] for c in ("subject_id", "grade", "reason_1")}
    again = load(save(scorer, tmp_path / f"{name}.rcmodel.json"))
    pd.testing.assert_frame_equal(again.score(sample), out)


def test_required_features(scorers):
    expert, gbm, card = scorers["expert"], scorers["gbm"], scorers["scorecard"]
    assert "blacklisted" in required_features(expert) and "head_age" in required_features(expert)
    # a templated scorer reads its model's features, then the template's veto columns (never model inputs)
    assert required_features(gbm) == [*gbm.feature_names_in_, *VETO_COLUMNS]
    assert "subject_id" not in required_features(gbm)
    assert required_features(card) == [*card.feature_names_in_, *VETO_COLUMNS]
    assert "subject_id" not in required_features(card)
    for scorer in (gbm, card):
        assert not set(VETO_COLUMNS) & set(scorer.feature_names_in_)
    with pytest.raises(ModelError, match="names no input"):
        required_features(object())


@pytest.mark.parametrize("name", ["expert", "gbm", "scorecard"])
def test_extra_columns_are_ignored_and_missing_ones_raise(scorers, sample, name):
    scorer = scorers[name]
    out = scorer.score(sample)
    extra = sample.assign(not_a_feature=1.5, another="x")
    pd.testing.assert_frame_equal(scorer.score(extra[[*extra.columns[::-1]]]), out)
    needed = [c for c in required_features(scorer) if c not in VETO_COLUMNS][0]
    with pytest.raises(ModelError, match=needed):
        scorer.score(sample.drop(columns=needed))


# -- check_scorer catches each broken rule -------------------------------------------------------------------
class _Broken:
    """A GBM scorer wrapper that breaks one rule of the protocol."""

    def __init__(self, inner: GbmScorer, fault: str) -> None:
        self.inner = inner
        self.fault = fault
        self.feature_names_in_ = inner.feature_names_in_
        self.grade_scale_ = inner.grade_scale_

    def score(self, features: pd.DataFrame) -> pd.DataFrame:
        out = self.inner.score(features)
        f = self.fault
        if f == "drop_column":
            return out.drop(columns="reason_2_en")
        if f == "no_identity":
            return out.drop(columns=["scorer_id", "scorer_version"])
        if f == "sorted_rows":
            return out.sort_values("score").reset_index(drop=True)
        if f == "pd_out_of_range":
            return out.assign(pd=out["pd"] * 3)
        if f == "some_pd_missing":
            return out.assign(pd=out["pd"].where(out.index % 2 == 0))
        if f == "missing_grade":
            return out.assign(grade=out["grade"].astype(object).where(out.index > 0, None))
        if f == "grade_off_scale":
            return out.assign(grade="Z")
        if f == "none_reason":
            return out.assign(reason_3=None)
        if f == "code_without_text":
            return out.assign(reason_1="X1", reason_1_en="")
        if f == "order_dependent":
            return out.assign(score=out["score"] + np.arange(len(out)) * 0.5)
        return out

    def score_record(self, record: dict) -> dict:
        one = self.inner.score_record(record)
        if self.fault == "record_differs":
            one["score"] += 1.0
        if self.fault == "record_lacks_keys":
            del one["reason_1_zh"]
        return one

    def to_dict(self) -> dict:
        return self.inner.to_dict()

    @classmethod
    def from_dict(cls, data: Any) -> Any:
        raise NotImplementedError


@pytest.mark.parametrize(("fault", "message"), [
    ("drop_column", "lacks columns ['reason_2_en']"),
    ("no_identity", "no identity columns"),
    ("sorted_rows", "subject_id differs"),
    ("pd_out_of_range", "pd outside"),
    ("some_pd_missing", "pd is missing for some rows only"),
    ("missing_grade", "grade is missing"),
    ("grade_off_scale", "not on the scorer's grade scale"),
    ("none_reason", "reason_3 has missing"),
    ("code_without_text", "reason_1_en is empty where reason_1 has a code"),
    ("order_dependent", "score changes with the row order"),
    ("record_differs", "score_record differs from the score frame in ['score'"),
    ("record_lacks_keys", "score_record lacks keys ['reason_1_zh']"),
])
def test_check_scorer_names_what_is_broken(scorers, sample, fault, message):
    with pytest.raises(ModelError) as info:
        check_scorer(_Broken(scorers["gbm"], fault), sample, check_persistence=False)
    assert any(message in p for p in info.value.details["problems"]), info.value.details["problems"]


def test_check_scorer_checks_persistence(scorers, sample):
    # a class outside ruralcredit, not registered: save works, load refuses it
    with pytest.raises(ModelError, match="save/load failed"):
        check_scorer(_Broken(scorers["gbm"], "none"), sample)


def test_check_scorer_refuses_non_scorers_and_bad_samples(scorers, sample):
    with pytest.raises(ModelError, match="not a scorer"):
        check_scorer(object(), sample)
    with pytest.raises(InputError, match="subject_id"):
        check_scorer(scorers["gbm"], sample.drop(columns="subject_id"))
    with pytest.raises(InputError, match="unique"):
        check_scorer(scorers["gbm"], pd.concat([sample.head(2), sample.head(2)]))
    with pytest.raises(InputError, match="lacks columns"):
        check_scorer(scorers["expert"], sample.drop(columns="blacklisted"))


# -- vetoes: every scorer given an indicator template applies them ---------------------------------------
@pytest.mark.parametrize("name", ["expert", "gbm", "scorecard"])
def test_a_blacklisted_subject_is_vetoed_by_every_templated_scorer(scorers, sample, name):
    scorer = scorers[name]
    scale = scorer_grade_scale(scorer)
    clean = sample[~_vetoed(sample)].head(6).copy()
    listed = clean["subject_id"].iloc[[1, 4]].tolist()
    frame = clean.assign(blacklisted=clean["subject_id"].isin(listed))
    out = scorer.score(frame)
    base = scorer.score(clean).set_index("subject_id")
    hit = out.set_index("subject_id").loc[listed]
    assert (hit["grade"].astype(str) == scale.veto_grade).all()
    assert not scale.is_credit(hit["grade"]).any()
    assert (hit["reason_1"].astype(str) == "blacklisted").all()
    assert (hit["reason_1_zh"].astype(str).str.len() > 0).all() and (hit["reason_1_en"].astype(str) != "").all()
    assert (hit["vetoes"].astype(str) == "blacklisted").all()
    # the veto changes the grade and the reasons, not the score or the PD; the model's reasons follow it
    want = base.loc[listed]
    np.testing.assert_array_equal(hit["score"].to_numpy(dtype=float), want["score"].to_numpy(dtype=float))
    np.testing.assert_array_equal(hit["pd"].to_numpy(dtype=float), want["pd"].to_numpy(dtype=float))
    assert hit["reason_2"].astype(str).tolist() == want["reason_1"].astype(str).tolist()
    assert hit["reason_3"].astype(str).tolist() == want["reason_2"].astype(str).tolist()
    others = out[~out["subject_id"].isin(listed)]
    assert (others["grade"].astype(str) != scale.veto_grade).all() and (others["vetoes"].astype(str) == "").all()
    # the record path gives the vetoed subject's row exactly
    rows = out.set_index("subject_id")
    for rec in frame[frame["subject_id"].isin(listed)].to_dict("records"):
        one = scorer.score_record(rec)
        row = rows.loc[rec["subject_id"]]
        for c in ("grade", "vetoes", *(f"reason_{k}{s}" for k in (1, 2, 3) for s in ("", "_zh", "_en"))):
            assert one[c] == row[c], (c, one[c], row[c])
        assert one["score"] == pytest.approx(float(row["score"]))
    # and a reloaded scorer still applies the vetoes
    pd.testing.assert_frame_equal(type(scorer).from_dict(scorer.to_dict()).score(frame), out)


@pytest.mark.parametrize("name", ["gbm", "scorecard"])
def test_several_vetoes_come_first_in_template_order(scorers, sample, name):
    scorer = scorers[name]
    clean = sample[~_vetoed(sample)].head(3)
    frame = clean.assign(blacklisted=True, criminal_5y=[True, None, False])
    out = scorer.score(frame)
    assert out["vetoes"].astype(str).tolist() == ["blacklisted,criminal_5y", "blacklisted", "blacklisted"]
    assert out["reason_1"].astype(str).tolist() == ["blacklisted"] * 3
    assert out["reason_2"].astype(str).iloc[0] == "criminal_5y"  # criminal_5y: if_missing pass
    rec = scorer.score_record(frame.iloc[0].to_dict())
    assert (rec["reason_1"], rec["reason_2"], rec["vetoes"]) == ("blacklisted", "criminal_5y",
                                                                  "blacklisted,criminal_5y")


@pytest.mark.parametrize("name", ["expert", "gbm", "scorecard"])
def test_templated_scorers_need_the_blacklist_flag(scorers, sample, name):
    scorer = scorers[name]
    with pytest.raises(ModelError, match="blacklisted"):
        scorer.score(sample.drop(columns="blacklisted"))
    # a missing value of an if_missing: error veto refuses to score, frame and record alike
    unknown = sample.head(3).astype({"blacklisted": object}).assign(blacklisted=[False, None, False])
    with pytest.raises(ModelError, match="blacklisted"):
        scorer.score(unknown)
    rec = sample.iloc[0].to_dict()
    del rec["blacklisted"]
    with pytest.raises(ModelError, match="blacklisted"):
        scorer.score_record(rec)


def test_veto_columns_are_never_model_inputs(county_data):
    feats, y = county_data
    tpl = load_template("household", AS_OF)
    frame = feats.assign(blacklisted=False)
    card = Scorecard(template=tpl, pdo=10, base_score=60, base_odds=19).fit(frame, y)
    gbm = GbmScorer(template=tpl, n_estimators=20, early_stopping_rounds=None).fit(frame, y)
    for scorer in (card, gbm):
        assert not set(VETO_COLUMNS) & set(scorer.feature_names_in_)
    assert not set(VETO_COLUMNS) & set(card.selection_["feature"])
    with pytest.raises(InputError, match="veto"):
        GbmScorer(template=tpl, features=["head_age", "blacklisted"]).fit(frame, y)
    # without a template nothing is a veto: no vetoes column, blacklisted is an ordinary column
    plain = Scorecard(pdo=10, base_score=60, base_odds=19, grade_scale=tpl.grade_scale).fit(feats, y)
    assert "vetoes" not in plain.score(feats.head(5)).columns
    assert required_features(plain) == list(plain.feature_names_in_)
