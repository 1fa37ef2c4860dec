"""Model cards (模型说明书): what a scorer is for, how well it works, for whom, and where it stops.

:func:`model_card` evaluates any scorer of the scorer protocol (:mod:`ruralcredit.models.protocol`)
on a labelled sample and returns a :class:`ModelCard` with

* the scorer's identity (class, id and version, template or model hash, its model summary);
* the **data window** and population (subjects, defaults, default rate, vetoed subjects);
* the **features** and their sources: the feature catalogue's descriptions, unit and source
  tables, the template indicator that reads each one, and a GBM's monotone constraint;
* **metrics** (:mod:`ruralcredit.models.metrics`): AUC, KS (and where it is reached), Gini, and,
  for a scorer with a PD, the Brier score and the calibration table. The ranking measured is the
  PD where the scorer has one, else the negated points score;
* the **score-band table** at the grade thresholds (bands from the lowest score up), and the
  subjects per grade (vetoes included);
* **stability** against a reference sample (e.g. the development period): PSI of the scores and
  the characteristic stability (PSI) of every input feature, with the usual labels;
* the **fairness** section: :func:`~ruralcredit.models.fairness.fairness_report` over the groups
  given (ethnicity, gender, village, township, ...), approval meaning a credit grade
  (信用户: AAA, AA or A on the built-in scale) unless ``approved`` says otherwise;
* **intended use** and **limits**, in words.

:meth:`ModelCard.to_markdown` renders it for people, :meth:`ModelCard.to_json` /
:meth:`ModelCard.to_dict` for registries (NaN becomes ``null``). :func:`household_groups` reads
the groups of households (the head's ethnicity and gender, the village and township) from the
schema tables: protected attributes are read here only to audit, never to score.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ruralcredit.errors import InputError, ModelError
from ruralcredit.models import metrics
from ruralcredit.models.fairness import FairnessReport, fairness_report
from ruralcredit.models.protocol import required_features, scorer_grade_scale

__all__ = ["DEFAULT_INTENDED_USE", "DEFAULT_LIMITS", "ModelCard", "household_groups", "model_card"]

#: Intended use when the caller states none.
DEFAULT_INTENDED_USE = (
    "Decision support for rating rural households and organisations (信用评价) at credit stations and rural "
    "banks: a grade, a probability of default where the scorer has one, and reasons a loan officer can read "
    "out. It informs, and does not replace, the credit committee's decision and the village assessment."
)
#: Limits when the caller states none.
DEFAULT_LIMITS: tuple[str, ...] = (
    "Valid only for the subject type, region and period of its development data; re-validate before use "
    "elsewhere and whenever stability (PSI) shows a major shift.",
    "Outcomes exist only for past applicants and borrowers; subjects never granted credit are not "
    "represented (reject inference is not done).",
    "Protected attributes (ethnicity, gender, religion) are not inputs, but features may correlate with "
    "them: read the fairness section, and re-audit after every refit.",
    "Small groups (flagged in the fairness section) cannot be judged; their ratios and AUCs are not "
    "evidence either way.",
    "A score is not a veto: the template's vetoes (blacklisting, bad credit or criminal record within 5 "
    "years) and the eligibility rules still apply.",
)


def _jsonable(value: Any) -> Any:
    """JSON-able copy: frames as lists of records, NaN / inf as None, numpy scalars as Python."""
    if isinstance(value, pd.DataFrame):
        return [_jsonable(r) for r in value.to_dict("records")]
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (pd.Timestamp, _dt.date, _dt.datetime)):
        return value.isoformat()
    return value


def _cell(v: Any) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA:
        return ""
    if isinstance(v, (float, np.floating)):
        return f"{float(v):.4g}" if abs(float(v)) < 1e5 else f"{float(v):,.0f}"
    if isinstance(v, (bool, np.bool_)):
        return "yes" if v else "no"
    return str(v).replace("|", "\\|").replace("\n", " ")


def _md_table(frame: pd.DataFrame, columns: Sequence[str] | None = None) -> str:
    cols = list(columns) if columns is not None else list(frame.columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for row in frame[cols].itertuples(index=False):
        lines.append("| " + " | ".join(_cell(v) for v in row) + " |")
    return "\n".join(lines)


@dataclass(frozen=True)
class ModelCard:
    """The result of :func:`model_card` (see the module docstring for each part).

    Attributes
    ----------
    scorer : dict
        ``class``, ``scorer_id``, ``scorer_version``, ``hash`` and ``summary``.
    data_window : dict
        ``start`` / ``end`` / ``as_of`` / ``description`` as given.
    population : dict
        ``subjects``, ``defaults``, ``default_rate``, ``vetoed``.
    features : DataFrame
        ``feature, indicator, description_zh, description_en, unit, sources, monotone``.
    metrics : dict
        ``ranked_by`` (``"pd"`` or ``"score"``), ``auc``, ``gini``, ``ks``, ``ks_threshold``,
        ``brier`` (None without a PD), ``mean_pd``, ``default_rate``.
    calibration : DataFrame or None
    score_bands : DataFrame
    grades : DataFrame
        Subjects, defaults and default rate per grade, best first.
    stability : dict or None
        ``score_psi``, ``score_stability`` and ``features`` (the CSI frame).
    fairness : FairnessReport or None
    approval_rule : str
    intended_use : str
    limits : list of str
    notes : list of str
        What could not be computed and why.
    created : str
    library_version : str
    """

    scorer: dict[str, Any]
    data_window: dict[str, Any]
    population: dict[str, Any]
    features: pd.DataFrame
    metrics: dict[str, Any]
    calibration: pd.DataFrame | None
    score_bands: pd.DataFrame
    grades: pd.DataFrame
    stability: dict[str, Any] | None
    fairness: FairnessReport | None
    approval_rule: str
    intended_use: str
    limits: list[str]
    notes: list[str] = field(default_factory=list)
    created: str = ""
    library_version: str = ""

    def to_dict(self) -> dict[str, Any]:
        """The card as JSON-able values (frames as lists of records, NaN as None)."""
        fair = None
        if self.fairness is not None:
            fair = {"table": _jsonable(self.fairness.table), "warnings": list(self.fairness.warnings),
                    "params": _jsonable(self.fairness.params),
                    "adverse_impact": _jsonable(self.fairness.flagged()[["variable", "group"]])}
        stab = None
        if self.stability is not None:
            stab = {k: _jsonable(v) for k, v in self.stability.items()}
        return {
            "model_card_version": 1,
            "scorer": _jsonable(self.scorer),
            "data_window": _jsonable(self.data_window),
            "population": _jsonable(self.population),
            "features": _jsonable(self.features),
            "metrics": _jsonable(self.metrics),
            "calibration": None if self.calibration is None else _jsonable(self.calibration),
            "score_bands": _jsonable(self.score_bands),
            "grades": _jsonable(self.grades),
            "stability": stab,
            "fairness": fair,
            "approval_rule": self.approval_rule,
            "intended_use": self.intended_use,
            "limits": list(self.limits),
            "notes": list(self.notes),
            "created": self.created,
            "library_version": self.library_version,
        }

    def to_json(self, indent: int | None = 1) -> str:
        """The card as a JSON document (UTF-8 text, Chinese kept as is; no NaN)."""
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=indent, allow_nan=False)

    def to_markdown(self) -> str:
        """The card as a Markdown document."""
        s = self.scorer
        m = self.metrics
        out = [f"# Model card: {s['scorer_id']} ({s['class']})", ""]
        out += [f"- scorer version: {s['scorer_version']}", f"- hash: `{s['hash']}`",
                f"- library version: {self.library_version}", f"- created: {self.created}", ""]
        out += ["## Intended use", "", self.intended_use, ""]
        out += ["## Data", ""]
        win = ", ".join(f"{k}: {v}" for k, v in self.data_window.items() if v is not None) or "not stated"
        p = self.population
        out += [f"- window: {win}",
                f"- subjects: {p['subjects']}, defaults: {p['defaults']} ({_cell(p['default_rate'])}), "
                f"vetoed: {p['vetoed']}", ""]
        out += ["## Features and their sources", "", _md_table(self.features), ""]
        out += ["## Metrics", ""]
        out += [f"Ranked by {m['ranked_by']}.", "", "| AUC | Gini | KS | KS at | Brier | mean PD | default rate |",
                "|---|---|---|---|---|---|---|",
                "| " + " | ".join(_cell(m[k]) for k in ("auc", "gini", "ks", "ks_threshold", "brier", "mean_pd",
                                                       "default_rate")) + " |", ""]
        if self.calibration is not None:
            out += ["### Calibration", "", _md_table(self.calibration, ["bin", "lower", "upper", "count", "events",
                                                                         "mean_predicted", "observed_rate",
                                                                         "difference"]), ""]
        out += ["## Score bands", "", _md_table(self.score_bands, ["band", "lower", "upper", "count", "share",
                                                                    "events", "event_rate", "cum_event_share",
                                                                    "ks"]), ""]
        out += ["### Grades", "", _md_table(self.grades), ""]
        out += ["## Stability", ""]
        if self.stability is None:
            out += ["No reference sample given.", ""]
        else:
            out += [f"Score PSI against the reference: {_cell(self.stability['score_psi'])} "
                    f"({self.stability['score_stability']}).", "",
                    _md_table(self.stability["features"], ["feature", "kind", "psi", "stability"]), ""]
        out += ["## Fairness", "", f"Approval: {self.approval_rule}.", ""]
        if self.fairness is None:
            out += ["No groups given: fairness not audited.", ""]
        else:
            flagged = self.fairness.flagged()
            if len(flagged):
                out += ["**Adverse impact flagged** for: "
                        + ", ".join(f"{r.variable}={r.group}" for r in flagged.itertuples()) + ".", ""]
            else:
                out += ["No group flagged for adverse impact.", ""]
            out += [self.fairness.to_markdown(), ""]
        out += ["## Limits", ""] + [f"- {x}" for x in self.limits] + [""]
        if self.notes:
            out += ["## Notes", ""] + [f"- {x}" for x in self.notes] + [""]
        return "\n".join(out)


def _window(data_window: Any) -> dict[str, Any]:
    if data_window is None:
        return {}
    if isinstance(data_window, str):
        return {"description": data_window}
    if isinstance(data_window, Mapping):
        return {str(k): (str(v) if v is not None else None) for k, v in data_window.items()}
    if isinstance(data_window, (tuple, list)) and len(data_window) == 2:
        start, end = (pd.Timestamp(v).date().isoformat() for v in data_window)
        return {"start": start, "end": end}
    raise InputError("must be a description, a mapping or a (start, end) pair", argument="data_window",
                     value=repr(data_window))


def _identity(scorer: Any, out: pd.DataFrame) -> dict[str, Any]:
    def first(col: str) -> Any:
        return str(out[col].iloc[0]) if col in out.columns and len(out) else None

    summary = None
    if callable(getattr(scorer, "model_summary", None)):
        summary = scorer.model_summary()
    return {
        "class": f"{type(scorer).__module__}.{type(scorer).__qualname__}",
        "scorer_id": first("scorer_id") or first("template_id") or type(scorer).__name__,
        "scorer_version": first("scorer_version") or first("template_version"),
        "hash": first("model_hash") or first("template_hash"),
        "summary": summary,
    }


def _features(scorer: Any) -> pd.DataFrame:
    from ruralcredit.features import FEATURES

    used = getattr(scorer, "features_", None)
    names = [str(f) for f in used] if used is not None else required_features(scorer)
    indicator: dict[str, str] = {}
    template = getattr(scorer, "template_", None)
    if template is not None and hasattr(template, "indicators"):
        for ind in template.indicators:
            indicator.setdefault(ind.feature, f"{ind.code} {ind.name_zh} ({ind.direction})")
        for v in template.payload.vetoes:
            indicator.setdefault(v.feature, f"veto {v.code} {v.name_zh}")
    info = getattr(scorer, "reason_info_", None) or getattr(scorer, "_reason_info", None)
    model_feats = [str(f) for f in (used if used is not None else getattr(scorer, "feature_names_in_", []))]
    if info is not None and len(info) == len(model_feats):
        for f, (code, zh, _en) in zip(model_feats, info, strict=True):
            if code != f:
                indicator.setdefault(f, f"{code} {zh}")
    monotone = {}
    cons = getattr(scorer, "monotone_constraints_", None)
    if cons is not None:
        monotone = dict(zip(model_feats, (int(c) for c in cons), strict=True))
    rows = []
    for f in names:
        spec = FEATURES.get(f)
        rows.append({
            "feature": f,
            "indicator": indicator.get(f, ""),
            "description_zh": spec.description_zh if spec else "",
            "description_en": spec.description_en if spec else "(not in the feature catalogue)",
            "unit": spec.unit if spec else "",
            "sources": ", ".join(spec.sources) if spec else "caller-supplied",
            "monotone": {-1: "PD falls as it rises", 1: "PD rises with it", 0: "free"}.get(monotone[f], "")
            if f in monotone else "",
        })
    return pd.DataFrame(rows, columns=["feature", "indicator", "description_zh", "description_en", "unit",
                                       "sources", "monotone"])


def _labels(y: Any, n: int) -> np.ndarray:
    arr = np.asarray(y.to_numpy() if isinstance(y, pd.Series) else y)
    if arr.ndim != 1 or len(arr) != n:
        raise InputError(f"must be one-dimensional with {n} values (one per row of X)", argument="y")
    if pd.isna(arr).any() or not np.isin(pd.unique(arr), [0, 1, True, False]).all():
        raise InputError("outcomes must be 0/1 or booleans (1 = default), without missing values", argument="y")
    return arr.astype(np.int8)


def model_card(
    scorer: Any,
    X: pd.DataFrame,
    y: Any,
    *,
    groups: pd.DataFrame | Mapping[str, Any] | None = None,
    X_reference: pd.DataFrame | None = None,
    data_window: Any = None,
    intended_use: str = DEFAULT_INTENDED_USE,
    limits: Sequence[str] = DEFAULT_LIMITS,
    approved: Any = None,
    bins: int = 10,
    fairness_options: Mapping[str, Any] | None = None,
) -> ModelCard:
    """Evaluate a fitted scorer on a labelled sample and write its model card.

    Parameters
    ----------
    scorer : object
        A fitted scorer of the scorer protocol.
    X : DataFrame
        ``subject_id`` and the scorer's input columns (the evaluation sample, e.g. a test split or
        the latest period).
    y : array-like of 0/1 or bool
        Observed defaults, aligned with ``X``.
    groups : DataFrame or mapping, optional
        Grouping variables aligned with ``X`` (``ethnicity``, ``gender``, ``village_code``,
        ``township_code``, ... e.g. from :func:`household_groups`) for the fairness section.
    X_reference : DataFrame, optional
        A reference sample (the development period) for the stability section.
    data_window : str, mapping or (start, end), optional
        The period the sample covers.
    intended_use : str
    limits : sequence of str
    approved : array-like of bool, optional
        Who counts as approved in the fairness audit; default: a credit grade of the scorer's
        grade scale.
    bins : int
        Calibration bins.
    fairness_options : mapping, optional
        Passed to :func:`~ruralcredit.models.fairness.fairness_report` (``min_group_size``,
        ``n_boot``, ``seed``, ...).

    Returns
    -------
    ModelCard

    Raises
    ------
    InputError
        ``X`` not a DataFrame, ``y`` or ``groups`` misaligned or not binary, a single outcome class,
        a bad ``data_window``.
    ModelError
        What the scorer raises for the sample (missing columns, not fitted, ...).
    """
    if not isinstance(X, pd.DataFrame) or X.empty:
        raise InputError("must be a non-empty DataFrame of features", argument="X")
    yv = _labels(y, len(X))
    if yv.min() == yv.max():
        raise InputError("needs both defaults and non-defaults to measure discrimination", argument="y")
    out = scorer.score(X)
    if not isinstance(out, pd.DataFrame) or len(out) != len(X):
        raise ModelError(f"{type(scorer).__name__}.score did not return one row per subject")
    notes: list[str] = []
    score = out["score"].to_numpy(dtype=np.float64)
    pd_all = out["pd"].to_numpy(dtype=np.float64, na_value=np.nan)
    has_pd = not np.isnan(pd_all).any()
    risk = pd_all if has_pd else -score
    ks = metrics.ks(yv, risk)
    auc = metrics.auc(yv, risk)
    met: dict[str, Any] = {
        "ranked_by": "pd" if has_pd else "score (negated; the scorer has no PD)",
        "auc": auc, "gini": 2.0 * auc - 1.0, "ks": ks.statistic,
        "ks_threshold": (ks.threshold if has_pd else -ks.threshold),
        "brier": metrics.brier(yv, pd_all) if has_pd else None,
        "mean_pd": float(pd_all.mean()) if has_pd else None,
        "default_rate": float(yv.mean()),
    }
    calibration = metrics.calibration_table(yv, pd_all, bins) if has_pd else None
    if not has_pd:
        notes.append("The scorer gives no probability of default: no Brier score or calibration table.")

    scale = scorer_grade_scale(scorer)
    grades = pd.Series(out["grade"].astype(object).to_numpy(), dtype=object)
    if scale is not None:
        asc = scale.grades[::-1]
        bands = metrics.score_band_table(yv, score, [g.min_score for g in asc[1:]],
                                         labels=[g.grade for g in asc])
        order = [*scale.grade_names, scale.veto_grade]
    else:
        bands = metrics.gains_table(yv, score)
        bands = bands.rename(columns={"min_score": "lower", "max_score": "upper"})
        notes.append("No grade scale: score bands are equal-count bands.")
        order = sorted(grades.dropna().unique())
    by = pd.DataFrame({"grade": grades, "y": yv}).groupby("grade", sort=False)["y"].agg(["size", "sum"])
    by = by.reindex([g for g in order if g in by.index])
    grade_table = pd.DataFrame({"grade": by.index, "subjects": by["size"].to_numpy(),
                                "share": by["size"].to_numpy() / len(X), "defaults": by["sum"].to_numpy(),
                                "default_rate": by["sum"].to_numpy() / by["size"].to_numpy()})
    vetoed = int((grades == scale.veto_grade).sum()) if scale is not None else 0

    stability = None
    if X_reference is not None:
        ref = scorer.score(X_reference)
        spsi = metrics.psi(ref["score"].to_numpy(dtype=np.float64), score)
        feats = [f for f in required_features(scorer) if f in X_reference.columns and f in X.columns]
        stability = {"score_psi": spsi, "score_stability": metrics.stability_label(spsi),
                     "features": metrics.csi(X_reference, X, feats), "reference_subjects": len(X_reference)}

    if approved is not None:
        appr = np.asarray(approved, dtype=bool)
        if appr.shape != (len(X),):
            raise InputError(f"must have one value per row of X ({len(X)})", argument="approved")
        rule = "as given by the caller"
    elif scale is not None:
        appr = scale.is_credit(grades)
        rule = f"a credit grade ({', '.join(scale.credit_grades)}; 信用户)"
    else:
        appr = None
        rule = "not defined (no grade scale and no `approved` given)"
    fairness = None
    if groups is not None:
        if appr is None:
            notes.append("Fairness not audited: no approval rule (give `approved` or a scorer with a grade scale).")
        else:
            gframe = groups if isinstance(groups, pd.DataFrame) else pd.DataFrame(dict(groups))
            if len(gframe) != len(X):
                raise InputError(f"has {len(gframe)} rows, expected {len(X)}", argument="groups")
            fairness = fairness_report(appr, gframe.reset_index(drop=True), y=yv,
                                       pd_pred=pd_all if has_pd else None, score=score,
                                       **dict(fairness_options or {}))

    import ruralcredit

    return ModelCard(
        scorer=_identity(scorer, out),
        data_window=_window(data_window),
        population={"subjects": len(X), "defaults": int(yv.sum()), "default_rate": float(yv.mean()),
                    "vetoed": vetoed},
        features=_features(scorer),
        metrics=met,
        calibration=calibration,
        score_bands=bands,
        grades=grade_table,
        stability=stability,
        fairness=fairness,
        approval_rule=rule,
        intended_use=str(intended_use),
        limits=[str(x) for x in limits],
        notes=notes,
        created=_dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        library_version=str(ruralcredit.__version__),
    )


def household_groups(tables: Any, subject_ids: Sequence[str] | pd.Series) -> pd.DataFrame:
    """The fairness groups of households: the head's ethnicity and gender, the village and township.

    Parameters
    ----------
    tables : mapping of str to DataFrame, or an object with ``tables`` (e.g. a synthetic county)
        Needs ``households``, ``persons`` and ``villages``.
    subject_ids : sequence of str
        Household ids, in the order wanted (e.g. the feature frame's ``subject_id``).

    Returns
    -------
    DataFrame
        ``ethnicity``, ``gender``, ``village_code``, ``township_code``, one row per id in the
        order given (index 0..n-1); missing where unknown (no head on file, an unknown id).

    Raises
    ------
    InputError
        ``tables`` is not a mapping of tables or lacks one of the three.
    SchemaError
        A table breaks its contract.
    """
    from ruralcredit import schema

    if not isinstance(tables, Mapping) and hasattr(tables, "tables"):
        tables = tables.tables
    if not isinstance(tables, Mapping):
        raise InputError("expected a mapping of table name to DataFrame", argument="tables")
    absent = [t for t in ("households", "persons", "villages") if t not in tables]
    if absent:
        raise InputError(f"lacks tables {absent}", argument="tables")
    hh = schema.validate("households", tables["households"])
    persons = schema.validate("persons", tables["persons"])
    villages = schema.validate("villages", tables["villages"])
    heads = persons.loc[persons["relation"] == "head", ["household_id", "ethnicity", "gender"]]
    heads = heads.drop_duplicates("household_id").set_index("household_id")
    ids = pd.Index(pd.Series(subject_ids, dtype="str"))
    village = hh.set_index("subject_id")["village_code"].reindex(ids)
    township = villages.set_index("village_code")["township_code"].reindex(pd.Index(village.to_numpy()))
    return pd.DataFrame({
        "ethnicity": heads["ethnicity"].reindex(ids).to_numpy(),
        "gender": heads["gender"].reindex(ids).to_numpy(),
        "village_code": village.to_numpy(),
        "township_code": township.to_numpy(),
    })
