"""Fairness audit and the refusal of protected attributes as model inputs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from ruralcredit.errors import InputError, ModelError
from ruralcredit.models.fairness import fairness_report
from ruralcredit.models.protected import check_no_protected, is_protected


def _population(n: int = 4000, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    ethnicity = rng.choice(["汉族", "彝族", "白族", "苗族"], size=n, p=[0.5, 0.25, 0.15, 0.10])
    gender = rng.choice(["male", "female"], size=n)
    risk = rng.normal(size=n)
    pd_true = 1 / (1 + np.exp(-(-3 + 1.2 * risk)))
    y = rng.random(n) < pd_true
    return pd.DataFrame({"ethnicity": ethnicity, "gender": gender, "risk": risk, "pd": pd_true, "y": y})


def test_fair_model_is_not_flagged() -> None:
    df = _population()
    approved = df["pd"] < 0.1  # depends on risk only
    rep = fairness_report(approved, df[["ethnicity", "gender"]], y=df["y"], pd_pred=df["pd"])
    assert not rep.table["adverse_impact"].any(), rep.warnings
    assert set(rep.table["variable"]) == {"ethnicity", "gender"}
    ref = rep.table[rep.table["reference"]]
    assert (ref["approval_ratio"] == 1.0).all()


def test_biased_model_is_flagged() -> None:
    df = _population()
    # A deliberately biased rule: Yi applicants need a much lower PD to be approved.
    approved = np.where(df["ethnicity"] == "彝族", df["pd"] < 0.03, df["pd"] < 0.1)
    rep = fairness_report(approved, df[["ethnicity"]], y=df["y"], pd_pred=df["pd"])
    flagged = rep.flagged()
    assert flagged["group"].tolist() == ["彝族"]
    row = flagged.iloc[0]
    assert row["approval_ratio"] < 0.8 and row["ratio_ci_high"] < 1.0
    assert any("彝族" in w and "adverse impact" in w for w in rep.warnings)


def test_small_groups_are_warned_not_flagged() -> None:
    df = _population(n=1000)
    groups = df[["ethnicity"]].copy()
    groups.iloc[:12, 0] = "傣族"
    approved = np.where(groups["ethnicity"] == "傣族", False, df["pd"] < 0.1)
    rep = fairness_report(approved, groups, min_group_size=30)
    dai = rep.table[rep.table["group"] == "傣族"].iloc[0]
    assert dai["small_group"] and not dai["adverse_impact"]
    assert any("傣族" in w and "too small" in w for w in rep.warnings)


def test_group_auc_matches_sklearn_and_is_deterministic() -> None:
    df = _population()
    approved = df["pd"] < 0.1
    a = fairness_report(approved, df[["gender"]], y=df["y"], pd_pred=df["pd"], seed=3)
    b = fairness_report(approved, df[["gender"]], y=df["y"], pd_pred=df["pd"], seed=3)
    pd.testing.assert_frame_equal(a.table, b.table)
    for row in a.table.itertuples():
        m = (df["gender"] == row.group).to_numpy()
        assert row.auc == pytest.approx(roc_auc_score(df["y"][m], df["pd"][m]))
        assert row.auc_ci_low <= row.auc <= row.auc_ci_high
        assert row.mean_pd == pytest.approx(df["pd"][m].mean())


def test_missing_group_values_form_their_own_group() -> None:
    df = _population(n=500)
    groups = df[["gender"]].astype(object)
    groups.iloc[:40, 0] = None
    rep = fairness_report(df["pd"] < 0.1, groups)
    assert "(missing)" in set(rep.table["group"])
    assert "| variable |" in rep.to_markdown()


@pytest.mark.parametrize(
    "kwargs",
    [
        {"approved": [], "groups": {"g": []}},
        {"approved": [True, False], "groups": {"g": ["a"]}},
        {"approved": [True, 2], "groups": {"g": ["a", "b"]}},
        {"approved": [True, False], "groups": {"g": ["a", "b"]}, "y": [0, 3]},
        {"approved": [True, False], "groups": {"g": ["a", "b"]}, "pd_pred": [0.1, 1.5]},
        {"approved": [True, False], "groups": {"g": ["a", "b"]}, "ci": 1.0},
        {"approved": [True, False], "groups": pd.DataFrame(index=[0, 1])},
    ],
)
def test_bad_inputs_raise(kwargs: dict) -> None:
    approved = kwargs.pop("approved")
    groups = kwargs.pop("groups")
    with pytest.raises(InputError):
        fairness_report(approved, groups, **kwargs)


@pytest.mark.parametrize("name", ["ethnicity", "head_ethnicity", "gender", "Sex", "religion", "民族", "head_性别",
                                  "nationality"])
def test_protected_names_refused(name: str) -> None:
    assert is_protected(name)
    with pytest.raises(ModelError, match="protected"):
        check_no_protected(["income_per_labourer", name], "Scorecard.fit")


@pytest.mark.parametrize("name", ["income_per_labourer", "demonstration_level", "national_honours", "sextant",
                                  "essex_loans"])
def test_ordinary_names_pass(name: str) -> None:
    assert not is_protected(name)
    check_no_protected([name], "Scorecard.fit")


def test_uncertain_shortfall_is_not_flagged() -> None:
    # 11 of 30 approved (ratio 0.73 to a 50% reference) but the interval reaches above 1: not judged adverse.
    groups = pd.DataFrame({"village": ["A"] * 2000 + ["B"] * 30})
    approved = np.r_[np.arange(2000) % 2 == 0, np.arange(30) < 11]
    rep = fairness_report(approved, groups, min_group_size=30, n_boot=400)
    b = rep.table[rep.table["group"] == "B"].iloc[0]
    assert b["approval_ratio"] < 0.8 and b["ratio_ci_high"] > 1.0
    assert not b["adverse_impact"]
