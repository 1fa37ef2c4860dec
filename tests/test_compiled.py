"""Compiled scorecards: batch and record paths agree, points sum to the score, persistence is exact."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ruralcredit.errors import ModelError
from ruralcredit.models.compiled import (
    MISSING,
    SPECIAL_BASE,
    UNSEEN,
    CompiledFeature,
    CompiledScorecard,
    ScoreToPD,
)

INCOME = CompiledFeature("income", "numeric", edges=(1000.0, 5000.0), points=(0.0, 5.0, 10.0),
                         missing_points=1.0, special_values=(-1.0,), special_points=(3.0,),
                         valid_range=(-1.0, 1e7))
EDU = CompiledFeature("edu", "categorical", categories=("none", "primary", "college"), points=(0.0, 2.0, 4.0),
                      missing_points=1.0)
CARD = CompiledScorecard((INCOME, EDU), base_points=50.0, name="t", version="1")


# -- strategies --------------------------------------------------------------------------------------
_points = st.integers(-20, 20).map(float) | st.floats(-50, 50, allow_nan=False).map(lambda x: round(x, 3))


@st.composite
def numeric_features(draw, name):
    edges = sorted(draw(st.sets(st.integers(-100, 100), max_size=6)))
    n = len(edges) + 1
    specials = draw(st.lists(st.sampled_from([-999.0, -1.0, 0.0, 7.0]), unique=True, max_size=2))
    return CompiledFeature(name, "numeric", edges=tuple(float(e) for e in edges),
                           points=tuple(draw(st.lists(_points, min_size=n, max_size=n))),
                           missing_points=draw(_points), special_values=tuple(specials),
                           special_points=tuple(draw(st.lists(_points, min_size=len(specials),
                                                              max_size=len(specials)))))


@st.composite
def categorical_features(draw, name):
    cats = draw(st.lists(st.sampled_from(["a", "b", "c", "d", "e"]), unique=True, min_size=1, max_size=4))
    policy = draw(st.sampled_from(["missing", "points"]))
    return CompiledFeature(name, "categorical", categories=tuple(cats),
                           points=tuple(draw(st.lists(_points, min_size=len(cats), max_size=len(cats)))),
                           missing_points=draw(_points), unseen_policy=policy,
                           unseen_points=draw(_points) if policy == "points" else None)


@st.composite
def cards_and_frames(draw):
    p = draw(st.integers(1, 5))
    feats = [draw(numeric_features(f"x{j}") | categorical_features(f"x{j}")) for j in range(p)]
    card = CompiledScorecard(tuple(feats), base_points=draw(_points))
    n = draw(st.integers(1, 25))
    cols = {}
    for f in feats:
        if f.kind == "numeric":
            vals = st.one_of(st.none(), st.just(math.nan), st.integers(-150, 150).map(float),
                             st.sampled_from([*f.special_values, *f.edges] or [0.0]),
                             st.floats(-150, 150, allow_nan=False))
            cols[f.name] = pd.Series(draw(st.lists(vals, min_size=n, max_size=n)), dtype="float64")
        else:
            vals = st.one_of(st.none(), st.sampled_from(["a", "b", "c", "d", "e", "zz"]))
            cols[f.name] = pd.Series(draw(st.lists(vals, min_size=n, max_size=n)), dtype="str")
    return card, pd.DataFrame(cols)


# -- invariants --------------------------------------------------------------------------------------
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cards_and_frames())
def test_points_sum_to_score_and_paths_agree(data):
    card, df = data
    scores, points, codes = card.explain_frame(df)
    assert points.shape == (len(df), len(card.features))
    np.testing.assert_allclose(scores, card.base_points + points.sum(axis=1), rtol=0, atol=1e-9)
    for i, rec in enumerate(df.to_dict("records")):
        s, pts, cds = card.explain_record(rec)
        s2, pts2 = card.score_record(rec)
        # the batch and the record paths add in the same order: bit-identical
        assert s == scores[i] == s2
        assert pts == pts2 == points[i].tolist()
        assert cds == codes[i].tolist()
        assert card.reasons_record(pts) == card.reasons(points[i:i + 1])[0].tolist()
        flags = [c < 0 for c in cds]
        assert (card.reasons_record(pts, k=4, flagged=flags)
                == card.reasons(points[i:i + 1], k=4, flagged=codes[i:i + 1] < 0)[0].tolist())


@settings(max_examples=80, deadline=None)
@given(cards_and_frames(), st.randoms(use_true_random=False))
def test_scores_independent_of_row_order(data, rnd):
    card, df = data
    perm = list(range(len(df)))
    rnd.shuffle(perm)
    scores, points = card.score_frame(df)
    s2, p2 = card.score_frame(df.iloc[perm])
    np.testing.assert_array_equal(s2, scores[perm])
    np.testing.assert_array_equal(card.reasons(p2), card.reasons(points)[perm])


@settings(max_examples=80, deadline=None)
@given(cards_and_frames())
def test_round_trip_exact(data):
    card, _ = data
    again = CompiledScorecard.from_dict(json.loads(json.dumps(card.to_dict())))
    assert again == card
    assert again.to_dict() == card.to_dict()


# -- bins, missing, special, unseen ------------------------------------------------------------------
def test_bins_are_closed_on_the_left():
    df = pd.DataFrame({"income": [999.999, 1000.0, 4999.0, 5000.0, None, -1.0],
                       "edu": ["none", "primary", "college", "x", None, "none"]})
    scores, points, codes = CARD.explain_frame(df)
    assert points[:, 0].tolist() == [0.0, 5.0, 5.0, 10.0, 1.0, 3.0]
    assert codes[:, 0].tolist() == [0, 1, 1, 2, MISSING, SPECIAL_BASE]
    # unseen category "x": scored as missing (default policy) and flagged
    assert points[3, 1] == EDU.missing_points and codes[3, 1] == UNSEEN
    assert codes[4, 1] == MISSING
    assert scores.tolist() == [50.0, 57.0, 59.0, 61.0, 52.0, 53.0]


def test_record_missing_forms():
    for missing in ({}, {"income": None}, {"income": math.nan}, {"income": pd.NA}, {"income": np.nan}):
        assert CARD.explain_record({**missing, "edu": "none"})[2] == [MISSING, 0]


def test_categorical_column_and_unseen_points():
    f = CompiledFeature("c", "categorical", categories=("a", "b"), points=(1.0, 2.0), missing_points=0.0,
                        unseen_policy="points", unseen_points=-5.0)
    card = CompiledScorecard((f,))
    s = pd.Series(pd.Categorical(["b", "z", None, "a"], categories=["z", "a", "b"]))
    scores, _, codes = card.explain_frame(pd.DataFrame({"c": s}))
    assert scores.tolist() == [2.0, -5.0, 0.0, 1.0]
    assert codes[:, 0].tolist() == [1, UNSEEN, MISSING, 0]
    assert card.score_record({"c": "z"})[0] == -5.0


def test_unseen_error_policy():
    f = CompiledFeature("c", "categorical", categories=("a",), points=(1.0,), unseen_policy="error")
    card = CompiledScorecard((f,))
    with pytest.raises(ModelError, match="never seen"):
        card.score_frame(pd.DataFrame({"c": ["a", "q"]}))
    with pytest.raises(ModelError, match="never seen"):
        card.score_record({"c": "q"})


def test_best_points_and_reasons():
    assert INCOME.best_points == 10.0 and EDU.best_points == 4.0
    pts = np.array([[10.0, 4.0], [5.0, 4.0], [0.0, 0.0], [6.0, 0.0]])
    r = CARD.reasons(pts, k=2)
    assert r.tolist() == [[-1, -1], [0, -1], [0, 1], [0, 1]]  # tie (4 vs 4) goes to the first feature
    assert CARD.reasons(pts, k=5).shape == (4, 5)


def test_flagged_features_come_first():
    pts = np.array([[0.0, 4.0], [10.0, 0.0]])
    flagged = np.array([[False, True], [True, False]])
    # row 0: edu is flagged though it lost nothing; row 1: income flagged with no shortfall
    assert CARD.reasons(pts, k=2, flagged=flagged).tolist() == [[1, 0], [0, 1]]
    assert CARD.reasons_record([0.0, 4.0], k=2, flagged=[False, True]) == [1, 0]
    with pytest.raises(ModelError, match="shape"):
        CARD.reasons(pts, flagged=np.ones((2, 3), dtype=bool))


def test_pd_maps():
    assert np.isnan(CARD.pd(np.array([50.0]))).all()
    logistic = ScoreToPD("logistic", offset=600.0, factor=20 / math.log(2))
    assert logistic.pd(np.array([600.0]))[0] == pytest.approx(0.5)
    # 20 points double the good:bad odds
    p1, p2 = logistic.pd(np.array([620.0, 640.0]))
    assert (1 - p2) / p2 == pytest.approx(2 * (1 - p1) / p1)
    table = ScoreToPD("table", edges=(60.0, 80.0), pds=(0.2, 0.05, 0.01))
    assert table.pd(np.array([59.9, 60.0, 80.0])).tolist() == [0.2, 0.05, 0.01]
    assert table.pd_one(60.0) == 0.05 and logistic.pd_one(600.0) == pytest.approx(0.5)
    card = CompiledScorecard((INCOME,), score_to_pd=table)
    assert CompiledScorecard.from_dict(json.loads(json.dumps(card.to_dict()))) == card


# -- bad input -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs, match", [
    ({"name": "a", "kind": "numeric", "edges": (2.0, 1.0), "points": (0, 1, 2)}, "strictly increasing"),
    ({"name": "a", "kind": "numeric", "edges": (1.0,), "points": (0,)}, "2 bins"),
    ({"name": "a", "kind": "numeric", "edges": (math.inf,), "points": (0, 1)}, "finite"),
    ({"name": "a", "kind": "numeric", "edges": (), "points": (math.nan,)}, "finite"),
    ({"name": "a", "kind": "categorical", "categories": ("x", "x"), "points": (0, 1)}, "unique"),
    ({"name": "a", "kind": "categorical", "categories": ("x",), "points": (0,), "unseen_policy": "points"},
     "unseen_points"),
    ({"name": "a", "kind": "weird", "points": (0,)}, "kind"),
    ({"name": "", "kind": "numeric", "points": (0,)}, "name"),
])
def test_bad_features_refused(kwargs, match):
    with pytest.raises(ModelError, match=match):
        CompiledFeature(**kwargs)


def test_bad_frames_and_records_refused():
    with pytest.raises(ModelError, match="missing from the frame"):
        CARD.score_frame(pd.DataFrame({"income": [1.0]}))
    with pytest.raises(ModelError, match="non-numeric"):
        CARD.score_frame(pd.DataFrame({"income": ["12"], "edu": ["none"]}))
    with pytest.raises(ModelError, match="valid range"):
        CARD.score_frame(pd.DataFrame({"income": [-5.0], "edu": ["none"]}))
    with pytest.raises(ModelError, match="valid range"):
        CARD.score_record({"income": 2e7})
    with pytest.raises(ModelError, match="wrong type"):
        CARD.score_record({"income": "12"})
    with pytest.raises(ModelError, match="duplicate"):
        CompiledScorecard((INCOME, INCOME))
    with pytest.raises(ModelError, match="not a compiled scorecard"):
        CompiledScorecard.from_dict({"features": []})
    with pytest.raises(ModelError, match="format version"):
        CompiledScorecard.from_dict({**CARD.to_dict(), "format_version": 99})


def test_non_numeric_refused_even_without_edges():
    card = CompiledScorecard((CompiledFeature("k", "numeric", points=(2.0,)),))
    assert card.score_record({"k": 3})[0] == 2.0
    with pytest.raises(ModelError):
        card.score_record({"k": "3"})
