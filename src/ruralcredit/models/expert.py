"""The expert scorecard: score subjects straight from an indicator template, no default labels needed.

This is how credit stations start (DESIGN.md section 1): a template (信用信息指标模板) gives each
indicator's bands and points; :class:`ExpertScorecard` compiles it to arrays
(:class:`~ruralcredit.models.compiled.CompiledScorecard`) and scores a feature frame from
:func:`ruralcredit.features.build_features`, or one record given as a dict.

Output (one row per subject)::

    subject_id, score, pd, grade, vetoes,
    reason_1, reason_2, reason_3, reason_1_zh, ..., reason_3_zh, reason_1_en, ..., reason_3_en,
    missing, template_id, template_version, template_hash

* ``score``: the sum of the indicators' points (0..100 on the built-in templates);
* ``pd``: NaN (an expert scorecard has no probability of default);
* ``grade``: from the template's grade scale; a **vetoed** subject gets the scale's ``veto_grade``
  (``"VETO"``) whatever its score, so it is never a credit household
  (:func:`ruralcredit.rating.is_credit_household` is False for it);
* ``vetoes``: the codes of the vetoes that apply, comma-separated, or ``""``;
* ``reason_k``: a code, with Chinese and English text. For a vetoed subject the vetoes come first;
  then indicators whose value was **missing** (or an unrecognised category), each saying
  ``"missing: ..."`` and the points the template's missing-value rule gave; then the indicators
  that lost the most points against their best. An indicator whose template says
  ``missing_reason: no_record`` (e.g. no loan in 5 years, so no worst loan class) is not a missing
  fact: its reason reads ``"no record: ..."`` and ranks by points lost. ``""`` when fewer reasons
  apply;
* ``missing``: codes of the indicators whose fact was missing (or unrecognised), comma-separated.

Dtypes: ``subject_id`` as given, ``score`` and ``pd`` float64; every text column (``grade``, the
reasons, ``vetoes``, ``missing``, the template columns) is a pandas categorical over str: few
distinct texts, so a million rows cost little memory and time. ``grade``'s categories run from the
best grade to the worst, then the veto grade.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from ruralcredit.errors import ModelError
from ruralcredit.models._vetoes import VetoPlan, joined
from ruralcredit.models.compiled import MISSING, UNSEEN, CompiledFeature, CompiledScorecard
from ruralcredit.models.protected import check_no_protected
from ruralcredit.templates import Template, load_template

__all__ = ["ExpertScorecard", "compile_template"]


class ExpertScorecard(BaseEstimator):
    """Score subjects with an indicator template (scikit-learn style).

    Parameters
    ----------
    template : Template, str or Path
        A loaded :class:`~ruralcredit.templates.Template`, or a built-in id / YAML path (then
        ``as_of`` chooses the version).
    as_of : date-like, optional
        Needed when ``template`` is an id or path.
    n_reasons : int
        Reasons per subject (``reason_1`` .. ``reason_{n}``); 3 by default.

    Attributes
    ----------
    template_ : Template
    compiled_ : ruralcredit.models.compiled.CompiledScorecard
    grade_scale_ : GradeScale
    indicator_codes_ : list of str
    input_columns_ : list of str
        Every column read: indicator features, then veto columns.
    template_hash_ : str
        SHA-256 of the template (its ``policy_hash``).

    Examples
    --------
    >>> card = ExpertScorecard("household", as_of="2026-01-01").fit()
    >>> card.compiled_.max_score
    100.0
    """

    def __init__(self, template: Template | str | Path = "household", as_of: Any = None,
                 n_reasons: int = 3) -> None:
        self.template = template
        self.as_of = as_of
        self.n_reasons = n_reasons

    # -- fit --------------------------------------------------------------------------------------------
    def fit(self, X: pd.DataFrame | None = None, y: Any = None) -> ExpertScorecard:
        """Compile the template (no labels needed; ``y`` is ignored).

        Parameters
        ----------
        X : DataFrame, optional
            A feature frame; when given, its columns are checked (no protected attribute, every
            input present).
        y : ignored

        Raises
        ------
        ModelError
            A protected column or a missing input column in ``X``, or a bad ``n_reasons``.
        PolicyError
            The template cannot be loaded or is invalid.
        """
        if isinstance(self.template, Template):
            template = self.template
        elif isinstance(self.template, (str, Path)):
            if self.as_of is None:
                raise ModelError("ExpertScorecard: pass as_of to choose the template version in force "
                                 f"(template {str(self.template)!r})")
            template = load_template(self.template, self.as_of)
        else:
            raise ModelError(f"template must be a Template, a built-in id or a path, got "
                             f"{type(self.template).__name__}")
        if not isinstance(self.n_reasons, int) or isinstance(self.n_reasons, bool) or self.n_reasons < 1:
            raise ModelError(f"n_reasons must be a positive integer, got {self.n_reasons!r}")
        check_no_protected(template.input_columns, "ExpertScorecard.fit (template inputs)")
        self.template_ = template
        self.compiled_ = compile_template(template)
        self.grade_scale_ = template.grade_scale
        self.indicator_codes_ = [i.code for i in template.indicators]
        self.input_columns_ = template.input_columns
        self.template_hash_ = template.policy_hash  # computed once: hashing the template is not free
        self._build_texts()
        if X is not None:
            self._check_frame(X)
        return self

    def _build_texts(self) -> None:
        """Per indicator and bin code, the reason texts; per veto, its texts (lookup tables)."""
        tpl = self.template_
        codes, zh, en, offsets = [], [], [], []
        for ind, feat in zip(tpl.indicators, self.compiled_.features, strict=True):
            offsets.append(len(codes))
            top = ind.max_points
            for label, pts in zip(feat.labels, feat.points, strict=True):
                codes.append(ind.code)
                zh.append(f"{ind.name_zh}：{label}，得{pts:g}/{top:g}分")
                en.append(f"{ind.name_en}: {label}, {pts:g} of {top:g} points")
            miss = feat.missing_points
            codes.append(ind.code)  # local index n_bins: missing
            if ind.missing_reason == "no_record":
                zh.append(f"无记录：{ind.name_zh}（按模板规则得{miss:g}/{top:g}分）")
                en.append(f"no record: {ind.name_en} (scored {miss:g} of {top:g} by the template's rule)")
            else:
                zh.append(f"缺失：{ind.name_zh}（按模板缺失值规则得{miss:g}/{top:g}分）")
                en.append(f"missing: {ind.name_en} (scored {miss:g} of {top:g} by the template's missing-value rule)")
            codes.append(ind.code)  # local index n_bins + 1: unseen category, scored as missing
            zh.append(f"缺失：{ind.name_zh}（无法识别的取值，按缺失计{miss:g}/{top:g}分）")
            en.append(f"missing: {ind.name_en} (unrecognised value, scored {miss:g} of {top:g} as missing)")
        # then one entry per veto, and last the empty "no reason" entry
        self._veto_plan = VetoPlan(tpl.payload.vetoes, f"template {tpl.id!r}")
        self._veto_plan.place_texts(len(codes))
        for code, vzh, ven in self._veto_plan.texts:
            codes.append(code)
            zh.append(vzh)
            en.append(ven)
        self._reason_codes = np.asarray([*codes, ""], dtype=object)
        self._reason_zh = np.asarray([*zh, ""], dtype=object)
        self._reason_en = np.asarray([*en, ""], dtype=object)
        # reason columns are categoricals over these texts: text id -> (categories, code)
        self._reason_cats = []
        for table in (self._reason_codes, self._reason_zh, self._reason_en):
            uniq, inverse = np.unique(table.astype(str), return_inverse=True)
            self._reason_cats.append((pd.Index(uniq, dtype="str"), inverse.astype("int32")))
        self._offsets = np.asarray(offsets, dtype="int64")
        self._n_bins = np.asarray([f.n_bins for f in self.compiled_.features], dtype="int64")
        # a missing value is flagged (listed first, in the missing column) unless it means "no record"
        self._no_record = np.asarray([i.missing_reason == "no_record" for i in tpl.indicators], dtype=bool)
        self._reason_plan = self.compiled_._reason_plan((~self._no_record).tolist())
        self._text_by_local = [
            (off, n) for off, n in zip(offsets, self._n_bins.tolist(), strict=True)
        ]
        # plain-Python lookups for the single-record path
        self._reason_lists = (self._reason_codes.tolist(), self._reason_zh.tolist(), self._reason_en.tolist())
        self._empty_text_id = len(self._reason_codes) - 1
        self._constant_out = {"template_id": tpl.id, "template_version": tpl.version,
                              "template_hash": self.template_hash_}
        k = self.n_reasons
        self._reason_keys = ([f"reason_{j + 1}" for j in range(k)] + [f"reason_{j + 1}_zh" for j in range(k)]
                             + [f"reason_{j + 1}_en" for j in range(k)])

    def _check_fitted(self) -> None:
        if not hasattr(self, "compiled_"):
            raise ModelError("ExpertScorecard is not fitted: call fit() first (it needs no labels)")

    def _check_frame(self, X: Any) -> None:
        if not isinstance(X, pd.DataFrame):
            raise ModelError(f"expected a pandas DataFrame of features, got {type(X).__name__}")
        check_no_protected(X.columns, "ExpertScorecard")
        absent = [c for c in self.input_columns_ if c not in X.columns]
        if absent:
            hint = self._veto_plan.absent_message(absent)
            raise ModelError(f"feature frame lacks columns {absent} read by template "
                             f"{self.template_.id!r}{hint}")

    # -- batch ------------------------------------------------------------------------------------------
    def score(self, features: pd.DataFrame) -> pd.DataFrame:
        """Score a feature frame (one row per subject).

        Parameters
        ----------
        features : DataFrame
            ``subject_id`` plus every column the template reads (:attr:`input_columns_`), e.g.
            from :func:`ruralcredit.features.build_features` with external veto columns such as
            ``blacklisted`` added.

        Returns
        -------
        DataFrame
            The columns listed in the module docstring, in the input's row order.

        Raises
        ------
        ModelError
            Not fitted; not a DataFrame; a protected column; missing columns; ``subject_id``
            missing, empty or duplicated; values outside an indicator's valid range or of the wrong
            type; a veto value missing where the template says it must be known.
        """
        self._check_fitted()
        self._check_frame(features)
        if "subject_id" not in features.columns:
            raise ModelError("feature frame lacks the subject_id column")
        sid = features["subject_id"]
        if sid.isna().any():
            raise ModelError(f"{int(sid.isna().sum())} row(s) without a subject_id")
        if not sid.is_unique:
            dup = sid.duplicated(keep=False)
            raise ModelError(f"duplicate subject_id values {sorted(map(str, sid[dup].unique()))[:20]}")
        n = len(features)
        k = self.n_reasons
        scores, points, codes = self.compiled_.explain_frame(features)
        # MISSING or UNSEEN (templates have no special values); "no record" missing is not flagged
        flagged = (codes == UNSEEN) | ((codes == MISSING) & ~self._no_record[None, :])
        veto_matrix = self._veto_plan.matrix(features)
        vetoed = veto_matrix.any(axis=1) if veto_matrix.shape[1] else np.zeros(n, dtype=bool)
        grades = self._grades(scores, vetoed)

        ridx = self.compiled_.reasons(points, k=k, flagged=flagged)  # (n, k) feature index or -1
        rows = np.arange(n)[:, None]
        safe = np.maximum(ridx, 0)
        c = codes[rows, safe].astype("int64")
        local = np.where(c >= 0, c, np.where(c == MISSING, self._n_bins[safe], self._n_bins[safe] + 1))
        text_id = np.where(ridx >= 0, self._offsets[safe] + local, len(self._reason_codes) - 1)

        veto_text = self._veto_plan.joined(veto_matrix)
        # a vetoed subject's first reasons are its vetoes, then its indicator reasons
        text_id = self._veto_plan.prepend(veto_matrix, text_id)
        missing_text = joined(flagged, self.indicator_codes_)

        out: dict[str, Any] = {
            "subject_id": sid.array,
            "score": scores,
            "pd": np.full(n, np.nan),
            "grade": grades,
            "vetoes": veto_text,
        }
        for (cats, inverse), suffix in zip(self._reason_cats, ("", "_zh", "_en"), strict=True):
            for j in range(k):
                out[f"reason_{j + 1}{suffix}"] = pd.Categorical.from_codes(inverse.take(text_id[:, j]),
                                                                           categories=cats)
        out["missing"] = missing_text
        one = np.zeros(n, dtype="int8")
        for col, value in (("template_id", self.template_.id), ("template_version", self.template_.version),
                           ("template_hash", self.template_hash_)):
            out[col] = pd.Categorical.from_codes(one, categories=pd.Index([value], dtype="str"))
        return pd.DataFrame(out)

    def _grades(self, scores: np.ndarray, vetoed: np.ndarray) -> pd.Categorical:
        """Grades as a categorical (best grade first, then the veto grade), vectorised."""
        scale = self.grade_scale_
        bad = np.isnan(scores) | (scores < 0) | (scores > scale.max_score)
        if bad.any():  # pragma: no cover - template points are validated to stay within the scale
            raise ModelError(f"{int(bad.sum())} score(s) outside 0..{scale.max_score:g}")
        thresholds = np.asarray([g.min_score for g in scale.grades[:-1]][::-1], dtype="float64")
        ng = len(scale.grades)
        # searchsorted counts thresholds passed: 0 -> the lowest grade (index ng - 1), ng - 1 -> the best (0)
        codes = (ng - 1) - np.searchsorted(thresholds, scores, side="right")
        codes[vetoed] = ng
        return pd.Categorical.from_codes(codes, categories=pd.Index([*scale.grade_names, scale.veto_grade],
                                                                    dtype="str"))

    # -- persistence ----------------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The fitted scorecard as JSON-able data: the template itself and ``n_reasons``.

        Works with :func:`ruralcredit.models.save`; :meth:`from_dict` rebuilds an equal scorecard.
        """
        self._check_fitted()
        return {"template": self.template_.model_dump(mode="json"), "n_reasons": self.n_reasons}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ExpertScorecard:
        """Rebuild (and fit) a scorecard from :meth:`to_dict` output.

        Raises
        ------
        PolicyError
            The stored template no longer validates (e.g. the feature catalogue changed).
        """
        from ruralcredit.packs import load_packs

        template = load_packs(dict(data["template"]), Template)[0]
        return cls(template=template, n_reasons=int(data["n_reasons"])).fit()

    def model_summary(self) -> dict[str, Any]:
        """Template id, version and hash, subject type and indicator codes (for model metadata)."""
        self._check_fitted()
        return {"template_id": self.template_.id, "template_version": self.template_.version,
                "template_hash": self.template_hash_, "subject_type": self.template_.subject_type,
                "indicators": list(self.indicator_codes_)}

    # -- single record ----------------------------------------------------------------------------------
    def score_record(self, record: Mapping[str, Any]) -> dict[str, Any]:
        """Score one subject given as a dict (pure Python: no pandas, no numpy).

        Parameters
        ----------
        record : mapping
            Feature name to value, plus ``subject_id`` (optional) and the veto columns. An absent
            key, ``None`` or NaN is a missing value (for an external veto such as ``blacklisted``
            whose template says ``if_missing: error``, that is an error).

        Returns
        -------
        dict
            The same keys and values as one row of :meth:`score`.

        Raises
        ------
        ModelError
            As :meth:`score` for one row.
        """
        self._check_fitted()
        card = self.compiled_
        k = self.n_reasons
        total, reasons, flagged = card._record_reasons(record, k, self._reason_plan)
        get = record.get
        hits = self._veto_plan.record_hits(record)
        grade = self.grade_scale_.assign_one(total, bool(hits))
        ids = []
        for j, c in reasons:
            o, nb = self._text_by_local[j]
            ids.append(o + (c if c >= 0 else nb if c == MISSING else nb + 1))
        ids = self._veto_plan.prepend_record(hits, ids, k)
        ids += [self._empty_text_id] * (k - len(ids))
        missing = [self.indicator_codes_[j] for j in flagged]
        r_codes, r_zh, r_en = self._reason_lists
        out: dict[str, Any] = {"subject_id": get("subject_id"), "score": total, "pd": math.nan,
                               "grade": grade, "vetoes": ",".join(hits)}
        keys = self._reason_keys
        for i, t in enumerate(ids):
            out[keys[i]] = r_codes[t]
        for i, t in enumerate(ids, k):
            out[keys[i]] = r_zh[t]
        for i, t in enumerate(ids, 2 * k):
            out[keys[i]] = r_en[t]
        out["missing"] = ",".join(missing)
        out.update(self._constant_out)
        return out


def compile_template(template: Template) -> CompiledScorecard:
    """The template as a :class:`~ruralcredit.models.compiled.CompiledScorecard`.

    One compiled feature per indicator, named after the feature it reads, in indicator order;
    base points 0; no PD map. Numeric bands become edges (the bands' inner bounds) with the
    valid range enforced; categorical maps become categories, unseen ones scored as missing
    and flagged.
    """
    feats = []
    for ind in template.payload.indicators:
        labels = tuple(ind.band_labels())
        if ind.bands is not None:
            feats.append(CompiledFeature(
                name=ind.feature, kind="numeric",
                edges=tuple(float(b.lower) for b in ind.bands[1:]),  # type: ignore[arg-type]
                points=tuple(b.points for b in ind.bands), missing_points=ind.missing_points,
                valid_range=ind.valid_range if ind.valid_range != (None, None) else None,
                labels=labels))
        else:
            cats = ind.categories or {}
            feats.append(CompiledFeature(
                name=ind.feature, kind="categorical", categories=tuple(cats), points=tuple(cats.values()),
                missing_points=ind.missing_points, unseen_policy="missing", labels=labels))
    return CompiledScorecard(features=tuple(feats), base_points=0.0, name=template.id, version=template.version,
                             meta={"kind": "expert", "template_hash": template.policy_hash,
                                   "subject_type": template.subject_type,
                                   "indicator_codes": [i.code for i in template.payload.indicators]})
