"""Tests of ruralcredit.models.save / load: exact round trips, tampering, versions, trusted classes."""

from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ruralcredit
from ruralcredit.errors import InputError, ModelError, ModelFileError
from ruralcredit.models import persistence
from ruralcredit.models.persistence import SaveableScorer, load, read_metadata, register_scorer, save

HAS_COMPILED = importlib.util.find_spec("ruralcredit.models.compiled") is not None
HAS_SCORECARD = importlib.util.find_spec("ruralcredit.models.scorecard") is not None


@register_scorer
class TinyScorer:
    """A minimal saveable scorer: points per numeric bin (bins [e[i-1], e[i])), summed over features."""

    def __init__(
        self, edges: dict[str, list[float]], points: dict[str, list[float]], base: float = 0.0
    ) -> None:
        self.edges = {k: [float(v) for v in e] for k, e in edges.items()}
        self.points = {k: [float(v) for v in p] for k, p in points.items()}
        self.base = float(base)
        self.pdo = 20.0

    @property
    def feature_names(self) -> list[str]:
        return list(self.edges)

    def score(self, df: pd.DataFrame) -> np.ndarray:
        total = np.full(len(df), self.base)
        for name, e in self.edges.items():
            idx = np.searchsorted(np.asarray(e), df[name].to_numpy(dtype=float), side="right")
            total += np.asarray(self.points[name])[idx]
        return total

    def to_dict(self) -> dict[str, Any]:
        return {"edges": self.edges, "points": self.points, "base": self.base}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TinyScorer:
        if "edges" not in data:
            raise ModelError("TinyScorer state lacks edges")
        return cls(data["edges"], data["points"], data["base"])

    def model_summary(self) -> dict[str, Any]:
        return {"n_features": len(self.edges)}


@register_scorer
class PickledScorer:
    """A scorer without to_dict(): saved through the joblib fallback."""

    def __init__(self, weights: np.ndarray) -> None:
        self.weights = np.asarray(weights, dtype=float)

    def score(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(x, dtype=float) @ self.weights


class UnregisteredScorer(TinyScorer):
    """Defined in the test module but never registered: load must refuse it."""


def _tiny() -> TinyScorer:
    return TinyScorer(
        edges={"income": [1000.0, 5000.0, 20000.0], "land_mu": [2.5, 10.0]},
        points={"income": [0.0, 7.5, 12.25, 20.0], "land_mu": [1.0, 3.0, 9.5]},
        base=41.0,
    )


def _frame(n: int = 200, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"income": rng.lognormal(8.5, 1.2, n), "land_mu": rng.gamma(2.0, 3.0, n)})


def _rewrite(path: Path, mutate) -> None:
    """Change a saved document and give it a valid checksum again (a forger's edit)."""
    doc = json.loads(path.read_text(encoding="utf-8"))
    mutate(doc)
    doc["checksum"] = persistence._checksum(doc)
    path.write_text(json.dumps(doc, indent=1), encoding="utf-8")


# ------------------------------------------------------------------------------------------ round trip


def test_protocol_is_recognised() -> None:
    assert isinstance(_tiny(), SaveableScorer)
    assert not isinstance(PickledScorer(np.ones(2)), SaveableScorer)


def test_json_round_trip_reproduces_scores_and_records_metadata(tmp_path: Path) -> None:
    scorer = _tiny()
    train = _frame(300, seed=1)
    path = save(
        scorer,
        tmp_path / "m.rcmodel.json",
        metadata={"owner": "county credit station", 5: "int key"},
        training_data=train,
        metrics={"auc": 0.7312, "ks": 0.41},
    )
    back = load(path)
    assert type(back) is TinyScorer
    df = _frame(500, seed=2)
    np.testing.assert_array_equal(back.score(df), scorer.score(df))

    meta = read_metadata(path)
    assert meta["library_version"] == ruralcredit.__version__
    assert meta["scorer_class"] == f"{__name__}.TinyScorer"
    assert meta["payload_encoding"] == "json"
    assert meta["features"] == ["income", "land_mu"]
    assert meta["scaling"] == {"pdo": 20.0}
    assert meta["summary"] == {"n_features": 2}
    assert meta["metrics"] == {"auc": 0.7312, "ks": 0.41}
    assert meta["user"] == {"owner": "county credit station", "5": "int key"}
    assert meta["training_data"]["rows"] == 300
    assert meta["training_data"]["columns"] == ["income", "land_mu"]
    assert meta["created"].endswith("+00:00")
    # The training-data hash follows the content.
    changed = train.copy()
    changed.iloc[0, 0] += 1.0
    other = save(scorer, tmp_path / "m2.rcmodel.json", training_data=changed)
    assert read_metadata(other)["training_data"]["value"] != meta["training_data"]["value"]
    same = save(scorer, tmp_path / "m3.rcmodel.json", training_data=train.copy())
    assert read_metadata(same)["training_data"]["value"] == meta["training_data"]["value"]


def test_the_file_is_readable_json(tmp_path: Path) -> None:
    path = save(_tiny(), tmp_path / "m.json")
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert doc["format"] == "ruralcredit-model"
    assert doc["format_version"] == 1
    assert doc["checksum"].startswith("sha256:")
    assert doc["payload"]["points"]["income"] == [0.0, 7.5, 12.25, 20.0]
    assert not list(tmp_path.glob(".*.tmp"))  # no temporary file left behind


def test_joblib_fallback_round_trip(tmp_path: Path) -> None:
    scorer = PickledScorer(np.array([0.1, -2.5, 3.0]))
    path = save(scorer, tmp_path / "p.rcmodel.json")
    assert read_metadata(path)["payload_encoding"] == "joblib-base64"
    x = np.random.default_rng(0).normal(size=(50, 3))
    np.testing.assert_array_equal(load(path).score(x), scorer.score(x))
    with pytest.raises(ModelFileError, match="allow_pickle"):
        load(path, allow_pickle=False)


_floats = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)


@st.composite
def _tiny_scorers(draw) -> TinyScorer:
    names = draw(st.lists(st.sampled_from(["a", "b", "c", "d"]), min_size=1, max_size=4, unique=True))
    edges, points = {}, {}
    for name in names:
        e = sorted(set(draw(st.lists(_floats, min_size=0, max_size=5))))
        edges[name] = e
        points[name] = draw(st.lists(_floats, min_size=len(e) + 1, max_size=len(e) + 1))
    return TinyScorer(edges, points, draw(_floats))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(scorer=_tiny_scorers(), seed=st.integers(0, 2**16))
def test_reloaded_scores_are_identical(tmp_path: Path, scorer: TinyScorer, seed: int) -> None:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({name: rng.normal(0, 1e6, 64) for name in scorer.edges})
    path = save(scorer, tmp_path / "h.rcmodel.json")
    np.testing.assert_array_equal(load(path).score(df), scorer.score(df))


# ------------------------------------------------------------------------------------- tampering


def test_tampered_value_raises(tmp_path: Path) -> None:
    path = save(_tiny(), tmp_path / "m.json")
    text = path.read_text(encoding="utf-8")
    assert "12.25" in text
    path.write_text(text.replace("12.25", "12.75"), encoding="utf-8")
    with pytest.raises(ModelFileError, match="checksum") as info:
        load(path)
    assert info.value.file == str(path)
    with pytest.raises(ModelFileError, match="checksum"):
        read_metadata(path)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_every_single_character_change_is_caught_or_harmless(tmp_path: Path, data) -> None:
    path = tmp_path / "c.json"
    if not path.exists():
        save(_tiny(), path, metrics={"auc": 0.7})
    original = path.read_text(encoding="utf-8")
    i = data.draw(st.integers(0, len(original) - 1))
    replacement = data.draw(st.sampled_from(list('0123456789abcdefxyz.,:"{}[] -eE\n')))
    changed = original[:i] + replacement + original[i + 1 :]
    target = tmp_path / "changed.json"
    target.write_text(changed, encoding="utf-8")
    try:
        back = load(target)
    except ModelFileError:
        return
    # Accepted only when the change does not alter what the file says (e.g. whitespace, 1e1 vs 1E1).
    assert json.loads(changed) == json.loads(original)
    df = _frame(20)
    np.testing.assert_array_equal(back.score(df), _tiny().score(df))


def test_not_a_model_file(tmp_path: Path) -> None:
    bad = tmp_path / "x.json"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(ModelFileError, match="invalid JSON"):
        load(bad)
    bad.write_text('{"format": "something-else"}', encoding="utf-8")
    with pytest.raises(ModelFileError, match="not a ruralcredit model file"):
        load(bad)
    with pytest.raises(ModelFileError, match="cannot read"):
        load(tmp_path / "absent.json")


# -------------------------------------------------------------------------------------- versions


def test_newer_major_version_is_refused_naming_both(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ruralcredit, "__version__", "7.2.0")
    path = save(_tiny(), tmp_path / "future.json")
    monkeypatch.setattr(ruralcredit, "__version__", "6.9.1")
    with pytest.raises(ModelFileError) as info:
        load(path)
    assert "7.2.0" in str(info.value) and "6.9.1" in str(info.value)
    # Same major, newer minor: accepted.
    monkeypatch.setattr(ruralcredit, "__version__", "7.0.0")
    assert type(load(path)) is TinyScorer
    # An older major wrote it: accepted.
    monkeypatch.setattr(ruralcredit, "__version__", "8.0.0")
    assert type(load(path)) is TinyScorer


def test_newer_file_format_is_refused(tmp_path: Path) -> None:
    path = save(_tiny(), tmp_path / "m.json")
    _rewrite(path, lambda d: d.update(format_version=2))
    with pytest.raises(ModelFileError, match="format version 2"):
        load(path)


# ------------------------------------------------------------------------------------------ classes


def test_unknown_class_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="inside a function"):

        def make() -> Any:
            class Local(TinyScorer):
                pass

            return Local({"a": []}, {"a": [1.0]})

        save(make(), tmp_path / "local.json")

    path = save(UnregisteredScorer({"a": [0.0]}, {"a": [1.0, 2.0]}), tmp_path / "u.json")
    with pytest.raises(ModelFileError, match="unknown scorer class"):
        load(path)
    # A file pointing at an arbitrary importable class outside ruralcredit is refused, not imported.
    path = save(_tiny(), tmp_path / "os.json")
    _rewrite(path, lambda d: d["metadata"].update(scorer_class="subprocess.Popen"))
    with pytest.raises(ModelFileError, match="unknown scorer class 'subprocess.Popen'"):
        load(path)
    _rewrite(path, lambda d: d["metadata"].update(scorer_class="ruralcredit.models.NoSuchScorer"))
    with pytest.raises(ModelFileError, match="unknown scorer class"):
        load(path)


def test_payload_of_another_class_is_refused(tmp_path: Path) -> None:
    path = save(_tiny(), tmp_path / "m.json")
    _rewrite(path, lambda d: d.update(payload={"nothing": 1}))
    with pytest.raises(ModelFileError, match="rejected the payload"):
        load(path)
    # A payload the class chokes on with a plain KeyError is reported the same way.
    path = save(_tiny(), tmp_path / "m.json")
    _rewrite(path, lambda d: d["payload"].pop("points"))
    with pytest.raises(ModelFileError, match="rejected the payload"):
        load(path)


def test_save_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="JSON"):
        save(_tiny(), tmp_path / "m.json", metrics={"auc": object()})
    with pytest.raises(InputError, match="directory"):
        save(_tiny(), tmp_path)
    with pytest.raises(InputError):
        register_scorer(42)  # type: ignore[arg-type]


# ------------------------------------------------------------------------------- compiled scorecard


@pytest.mark.skipif(not HAS_COMPILED, reason="ruralcredit.models.compiled not written yet")
def test_compiled_scorecard_round_trip(tmp_path: Path) -> None:
    from ruralcredit.models.compiled import CompiledFeature, CompiledScorecard, ScoreToPD

    card = CompiledScorecard(
        features=(
            CompiledFeature(
                "income",
                "numeric",
                edges=(1000.0, 5000.0, 20000.0),
                points=(-3.5, 0.0, 4.25, 9.0),
                missing_points=-1.0,
                special_values=(-1.0,),
                special_points=(2.0,),
            ),
            CompiledFeature(
                "village",
                "categorical",
                categories=("v1", "v2", "v3"),
                points=(1.0, 5.5, -2.0),
                missing_points=0.5,
            ),
        ),
        base_points=47.125,
        score_to_pd=ScoreToPD(kind="logistic", offset=60.0, factor=20.0 / math.log(2.0)),
        name="demo",
        version="1",
    )
    path = save(card, tmp_path / "card.rcmodel.json", metrics={"auc": 0.7})
    back = load(path)
    assert back == card
    rng = np.random.default_rng(5)
    df = pd.DataFrame(
        {
            "income": np.where(rng.random(300) < 0.1, np.nan, rng.lognormal(8.5, 1.3, 300)),
            "village": pd.Series(rng.choice(["v1", "v2", "v3", "v9"], 300), dtype="str"),
        }
    )
    s0, p0 = card.score_frame(df)
    s1, p1 = back.score_frame(df)
    np.testing.assert_array_equal(s1, s0)
    np.testing.assert_array_equal(p1, p0)
    np.testing.assert_array_equal(back.pd(s1), card.pd(s0))
    assert read_metadata(path)["features"] == ["income", "village"]


@pytest.mark.skipif(not HAS_SCORECARD, reason="ruralcredit.models.scorecard not written yet")
def test_statistical_scorecard_round_trip(tmp_path: Path) -> None:
    from ruralcredit.models.scorecard import Scorecard

    rng = np.random.default_rng(11)
    n = 800
    X = pd.DataFrame(
        {
            "income": rng.lognormal(9.0, 0.8, n),
            "overdue_months": rng.poisson(0.7, n).astype(float),
            "village": pd.Series(rng.choice(["v1", "v2", "v3"], n), dtype="str"),
        }
    )
    logit = -2.0 - 0.8 * (np.log(X["income"]) - 9.0) + 0.6 * X["overdue_months"]
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    model = Scorecard(min_iv=0.0, pdo=10, base_score=60, base_odds=19).fit(X, y)
    path = save(model, tmp_path / "stat.rcmodel.json", training_data=X, metrics={"auc": 0.7})
    back = load(path)
    assert type(back) is Scorecard
    np.testing.assert_array_equal(back.decision_function(X), model.decision_function(X))
    pd.testing.assert_frame_equal(back.score(X), model.score(X))
    meta = read_metadata(path)
    assert meta["payload_encoding"] == "json"
    assert meta["scaling"]["pdo"] == model.pdo
    # the reloaded scorecard is the same scorecard: its description round-trips exactly
    assert back.to_dict() == model.to_dict()
    assert back.grade_scale_ == model.grade_scale_
    rec = X.iloc[3].to_dict()
    assert back.score_record(rec) == model.score_record(rec)


def _statistical_card(**params: Any) -> tuple[Any, pd.DataFrame]:
    from ruralcredit.models.scorecard import Scorecard

    rng = np.random.default_rng(12)
    n = 600
    X = pd.DataFrame({"income": rng.lognormal(9.0, 0.8, n), "plots": rng.poisson(2.0, n).astype(float)})
    y = (rng.random(n) < 1 / (1 + np.exp(2.0 + 0.9 * (np.log(X["income"]) - 9.0)))).astype(int)
    return Scorecard(min_iv=0.0, pdo=10, base_score=60, base_odds=19, **params).fit(X, y), X


@pytest.mark.skipif(not HAS_SCORECARD, reason="ruralcredit.models.scorecard not written yet")
def test_statistical_scorecard_with_a_grade_scale_pack_round_trips(tmp_path: Path) -> None:
    from ruralcredit.rating import load_grade_scale
    from ruralcredit.templates import GradeScalePack

    pack = GradeScalePack.model_validate({
        "id": "test-100", "kind": "grade_scale", "version": "1", "effective_from": "2024-01-01",
        "jurisdiction": "53", "source": "test", "payload": load_grade_scale("kunming-100", "2026-01-01")})
    model, X = _statistical_card(grade_scale=pack)
    back = load(save(model, tmp_path / "pack.rcmodel.json"))
    assert back.grade_scale_ == pack.payload
    pd.testing.assert_frame_equal(back.score(X), model.score(X))
    assert back.to_dict() == model.to_dict()


@pytest.mark.skipif(not HAS_SCORECARD, reason="ruralcredit.models.scorecard not written yet")
def test_statistical_scorecard_reads_format_version_1(tmp_path: Path) -> None:
    """A scorecard saved before it kept a grade scale and full reason texts (format version 1) still
    loads: same scores, PDs and codes; graded on the built-in pack; empty texts filled."""
    from ruralcredit.models.scorecard import Scorecard
    from ruralcredit.packs import load_pack
    from ruralcredit.templates import GradeScalePack

    model, X = _statistical_card()
    v1 = model.to_dict()
    del v1["grade_scale"]
    v1["format_version"] = 1
    v1["reason_info"] = [[code, "", ""] for code, _zh, _en in v1["reason_info"]]  # v1 left unknown texts empty
    old = Scorecard.from_dict(v1)
    out, new = old.score(X), model.score(X)
    pd.testing.assert_frame_equal(out.drop(columns="grade"), new.drop(columns="grade"))
    pack = load_pack("kunming-100", GradeScalePack, pd.Timestamp.today()).payload
    assert old.grade_scale_ == pack and (out["grade"] == new["grade"]).all()
    assert old.to_dict()["format_version"] == 3
    # re-saved, it is a current-version file that loads to the same frame
    again = load(save(old, tmp_path / "v1.rcmodel.json"))
    pd.testing.assert_frame_equal(again.score(X), out)
    with pytest.raises(ModelError, match="format version 4 is not supported"):
        Scorecard.from_dict({**v1, "format_version": 4})


def _templated_data() -> tuple[pd.DataFrame, np.ndarray]:
    """Two household-template features plus the blacklist flag (two subjects listed)."""
    rng = np.random.default_rng(21)
    n = 800
    X = pd.DataFrame({"subject_id": [f"S{i:04d}" for i in range(n)],
                      "deposits": rng.lognormal(9.0, 1.0, n), "head_age": rng.uniform(22, 70, n).round()})
    y = (rng.random(n) < 1 / (1 + np.exp(1.5 + 0.9 * (np.log(X["deposits"]) - 9.0)))).astype(int)
    X["blacklisted"] = X["subject_id"].isin(["S0003", "S0007"])
    X["bad_credit_5y"] = False
    X["criminal_5y"] = False
    return X, y


@pytest.mark.skipif(not HAS_SCORECARD, reason="ruralcredit.models.scorecard not written yet")
@pytest.mark.parametrize("kind", ["scorecard", "gbm"])
def test_templated_scorers_keep_their_vetoes_through_save_and_load(tmp_path: Path, kind: str) -> None:
    """The template's veto plan is saved with a statistical scorecard or a GBM: a reloaded scorer still
    grades a blacklisted subject VETO. Files from before it was kept (scorecard version 2, GBM version 1)
    still load, applying no vetoes, as they did."""
    from ruralcredit.models.gbm import GbmScorer
    from ruralcredit.models.scorecard import Scorecard
    from ruralcredit.templates import load_template

    tpl = load_template("household", "2026-06-30")
    X, y = _templated_data()
    if kind == "scorecard":
        model = Scorecard(template=tpl, min_iv=0.0, pdo=10, base_score=60, base_odds=19).fit(X, y)
    else:
        model = GbmScorer(template=tpl, n_estimators=20, early_stopping_rounds=None).fit(X, y)
    out = model.score(X)
    vetoed = out.set_index("subject_id").loc[["S0003", "S0007"]]
    assert (vetoed["grade"].astype(str) == "VETO").all() and (vetoed["reason_1"].astype(str) == "blacklisted").all()
    back = load(save(model, tmp_path / f"{kind}.rcmodel.json"))
    assert [v.code for v in back.vetoes_] == ["blacklisted", "bad_credit_5y", "criminal_5y"]
    pd.testing.assert_frame_equal(back.score(X), out)
    assert back.score_record(X.iloc[3].to_dict()) == model.score_record(X.iloc[3].to_dict())
    with pytest.raises(ModelError, match="blacklisted"):
        back.score(X.drop(columns="blacklisted"))
    # an older file has no veto plan: it loads and scores as before (no vetoes column, no VETO grade)
    doc = model.to_dict()
    old_version = {"scorecard": 2, "gbm": 1}[kind]
    assert doc["format_version"] == old_version + 1
    doc.pop("vetoes")
    old = type(model).from_dict({**doc, "format_version": old_version})
    assert old.vetoes_ is None
    plain = old.score(X)
    assert "vetoes" not in plain.columns and (plain["grade"].astype(str) != "VETO").all()
    np.testing.assert_array_equal(plain["score"].to_numpy(dtype=float), out["score"].to_numpy(dtype=float))
