"""Indicator templates (信用信息指标模板): what is scored, in which category, with how many points.

A :class:`Template` is a policy pack (kind ``template``): a dated, versioned YAML document whose
payload lists

* ``categories`` with their maximum points (basic facts, assets, operation and income, debt, credit
  record, moral / village assessment for households; DOMAIN.md section 2), adding up to the scale;
* ``indicators``: each reads one feature of :mod:`ruralcredit.catalog` and maps it to points
  by contiguous numeric ``bands`` (``[lower, upper)``, the last band closed at the valid range's upper
  bound) or by a ``categories`` map, with a missing-value policy;
* ``vetoes``: boolean facts (blacklisted, a bad credit record or a criminal record within 5 years)
  that override the score: a vetoed subject never gets a credit grade;
* the ``grade_scale`` (:class:`~ruralcredit.templates.grade_scale.GradeScale`).

Validation refuses (:class:`~ruralcredit.errors.PolicyError` naming the file, the pack and the field):
indicator maxima that do not add up to their category's maximum, category maxima that do not add
up to the scale, bands with gaps or overlaps or not covering the valid range, points against the
declared direction, a feature the catalogue does not provide for the subject type (or of another
dtype), category maps that do not match the feature's categories, and any protected attribute
(ethnicity, gender, religion) as an input.

:func:`ruralcredit.models.expert.compile_template` turns a template into a
:class:`~ruralcredit.models.compiled.CompiledScorecard` (the compiled form lives in the models layer,
above templates).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from ruralcredit.catalog import FEATURES
from ruralcredit.packs import PolicyPack, builtin_pack_ids, load_pack
from ruralcredit.schema import is_protected_name
from ruralcredit.templates.grade_scale import GradeScale

__all__ = [
    "Band",
    "Category",
    "Indicator",
    "Template",
    "TemplatePayload",
    "Veto",
    "builtin_templates",
    "load_template",
]

SubjectType = Literal["household", "family_farm", "cooperative", "enterprise", "professional_manager"]
Direction = Literal["higher_is_better", "lower_is_better", "banded", "categorical"]
IndicatorDType = Literal["float", "int", "bool", "category"]

_CODE_RE = r"^[A-Za-z][A-Za-z0-9_]{0,39}$"
_TOL = 1e-9



def _fmt(x: float | None) -> str:
    if x is None:
        return "inf"
    return f"{x:g}"


class Band(BaseModel):
    """A numeric band: values in ``[lower, upper)`` score ``points``.

    ``lower: null`` means minus infinity (first band only), ``upper: null`` plus infinity (last
    band only). The last band also includes its finite ``upper`` (the valid range's top).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    lower: float | None
    upper: float | None
    points: float = Field(ge=0, allow_inf_nan=False)
    label: str = ""


class Category(BaseModel):
    """A category of indicators (基本情况, 资产状况, ...) with its maximum points."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str = Field(pattern=_CODE_RE)
    name_zh: str = Field(min_length=1)
    name_en: str = Field(min_length=1)
    max_points: float = Field(gt=0, allow_inf_nan=False)


class Veto(BaseModel):
    """A fact that overrides the score (一票否决): the subject gets the scale's veto grade.

    Parameters
    ----------
    code : str
        Reason code shown in the ``vetoes`` column (e.g. ``"blacklisted"``).
    feature : str
        A boolean feature of the catalogue, or, with ``external: true``, a boolean column the
        caller adds to the feature frame (e.g. ``blacklisted`` from the blacklist registry).
    if_missing : {"error", "veto", "pass"}
        What a missing value means: refuse to score (the fact must be known), veto (cannot rate
        until known), or pass (no veto).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str = Field(pattern=_CODE_RE)
    name_zh: str = Field(min_length=1)
    name_en: str = Field(min_length=1)
    feature: str = Field(pattern=_CODE_RE)
    external: bool = False
    if_missing: Literal["error", "veto", "pass"] = "error"
    basis: str = ""


class Indicator(BaseModel):
    """One scored indicator of a template.

    Parameters
    ----------
    code : str
        Reason code (``"HH07"``).
    name_zh, name_en : str
        Shown in reason texts.
    category : str
        A category code of the template.
    subject_types : tuple of str, optional
        Subject types the indicator applies to; defaults to the template's. Must include it.
    feature : str
        The catalogue feature it reads (:data:`ruralcredit.features.FEATURES`).
    dtype : {"float", "int", "bool", "category"}
        Must equal the feature's dtype.
    unit : str
        Informational; when given, must equal the feature's unit.
    valid_range : (lower, upper)
        Inclusive bounds of valid values (``null`` = unbounded); numeric indicators only. Values
        outside are refused when scoring.
    direction : {"higher_is_better", "lower_is_better", "banded", "categorical"}
        Numeric points must not decrease (increase) across the bands for ``higher_is_better``
        (``lower_is_better``); ``banded`` allows any shape (e.g. age); ``categorical`` uses
        ``categories``.
    missing : "min", "zero" or a number
        Points for a missing value: the indicator's lowest points, zero, or the number given
        (between 0 and the indicator's maximum).
    missing_reason : {"missing", "no_record"}
        What a missing value means. ``"missing"`` (default): a fact that should be known is not;
        the scorer lists it first among the reasons (``"missing: ..."``) and in its ``missing``
        column. ``"no_record"``: nothing to measure (e.g. no loan in 5 years, so no worst loan
        class); the reason reads ``"no record: ..."`` and ranks by points lost like any other.
    bands : list of Band
        Numeric indicators: contiguous, covering ``valid_range`` exactly.
    categories : mapping
        Categorical indicators: every category of the feature (``true``/``false`` for a boolean
        feature) to points.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str = Field(pattern=_CODE_RE)
    name_zh: str = Field(min_length=1)
    name_en: str = Field(min_length=1)
    category: str
    subject_types: tuple[SubjectType, ...] | None = None
    feature: str = Field(pattern=_CODE_RE)
    dtype: IndicatorDType
    unit: str | None = None
    valid_range: tuple[float | None, float | None] = (None, None)
    direction: Direction
    missing: Literal["min", "zero"] | float
    missing_reason: Literal["missing", "no_record"] = "missing"
    bands: tuple[Band, ...] | None = None
    categories: dict[bool | str, float] | None = None
    note: str = ""

    @field_validator("valid_range")
    @classmethod
    def _check_range(cls, v: tuple[float | None, float | None]) -> tuple[float | None, float | None]:
        lo, hi = v
        for x in (lo, hi):
            if x is not None and not math.isfinite(x):
                raise ValueError("valid_range bounds must be finite numbers or null")
        if lo is not None and hi is not None and hi <= lo:
            raise ValueError(f"valid_range upper {hi:g} must exceed lower {lo:g}")
        return v

    @field_validator("bands")
    @classmethod
    def _check_bands(cls, bands: tuple[Band, ...] | None, info: ValidationInfo) -> tuple[Band, ...] | None:
        if bands is None:
            return None
        if not bands:
            raise ValueError("at least one band is needed")
        if "valid_range" not in info.data:
            return bands  # the range itself failed; reported there
        lo, hi = info.data["valid_range"]
        if bands[0].lower != lo:
            raise ValueError(f"the first band starts at {_fmt(bands[0].lower)} but the valid range starts at "
                             f"{_fmt(lo) if lo is not None else '-inf'}: gap or overlap at the bottom")
        if bands[-1].upper != hi:
            raise ValueError(f"the last band ends at {_fmt(bands[-1].upper)} but the valid range ends at "
                             f"{_fmt(hi)}: gap or overlap at the top")
        for i, b in enumerate(bands):
            if b.lower is None and i > 0:
                raise ValueError(f"band {i}: only the first band may start at -inf (lower: null)")
            if b.upper is None and i < len(bands) - 1:
                raise ValueError(f"band {i}: only the last band may end at +inf (upper: null)")
            for x in (b.lower, b.upper):
                if x is not None and not math.isfinite(x):
                    raise ValueError(f"band {i}: bounds must be finite numbers or null")
            if b.lower is not None and b.upper is not None and b.upper <= b.lower:
                raise ValueError(f"band {i}: upper {b.upper:g} must exceed lower {b.lower:g}")
        for i, (a, b) in enumerate(zip(bands, bands[1:], strict=False)):
            if a.upper != b.lower:
                kind = "gap" if (a.upper is not None and b.lower is not None and a.upper < b.lower) else "overlap"
                raise ValueError(f"{kind} between band {i} (ends {_fmt(a.upper)}) and band {i + 1} "
                                 f"(starts {_fmt(b.lower)})")
        return bands

    @field_validator("categories")
    @classmethod
    def _check_categories(cls, cats: dict[bool | str, float] | None) -> dict[bool | str, float] | None:
        if cats is None:
            return None
        if not cats:
            raise ValueError("at least one category is needed")
        for k, p in cats.items():
            if not isinstance(p, (int, float)) or not math.isfinite(p) or p < 0:
                raise ValueError(f"category {k!r}: points must be a finite number >= 0")
        return cats

    @model_validator(mode="after")
    def _check_shape(self) -> Indicator:
        if self.direction == "categorical":
            if self.categories is None or self.bands is not None:
                raise ValueError("a categorical indicator needs 'categories' and no 'bands'")
            if self.dtype not in ("category", "bool"):
                raise ValueError(f"dtype {self.dtype!r} is numeric: use bands, not a categorical map")
            if self.valid_range != (None, None):
                raise ValueError("valid_range applies to numeric indicators only")
        else:
            if self.bands is None or self.categories is not None:
                raise ValueError(f"direction {self.direction!r} needs 'bands' and no 'categories'")
            if self.dtype not in ("float", "int"):
                raise ValueError(f"dtype {self.dtype!r} needs direction 'categorical' with a categories map")
            pts = [b.points for b in self.bands]
            if self.direction == "higher_is_better" and any(b < a for a, b in zip(pts, pts[1:], strict=False)):
                raise ValueError(f"direction higher_is_better but band points decrease: {pts}")
            if self.direction == "lower_is_better" and any(b > a for a, b in zip(pts, pts[1:], strict=False)):
                raise ValueError(f"direction lower_is_better but band points increase: {pts}")
        if self.dtype == "bool":
            keys = set(self.categories or {})
            if keys != {True, False} or any(not isinstance(k, bool) for k in keys):
                raise ValueError("a boolean indicator maps exactly true and false (unquoted) to points")
        if not isinstance(self.missing, str):
            if not math.isfinite(self.missing) or not 0 <= self.missing <= self.max_points + _TOL:
                raise ValueError(f"missing points {self.missing!r} must lie between 0 and the indicator's "
                                 f"maximum {self.max_points:g}")
        return self

    @property
    def points_list(self) -> list[float]:
        """Points per band or category, in order."""
        if self.bands is not None:
            return [b.points for b in self.bands]
        return list((self.categories or {}).values())

    @property
    def max_points(self) -> float:
        """The most points the indicator can give."""
        return max(self.points_list)

    @property
    def missing_points(self) -> float:
        """Points scored for a missing value under the indicator's policy."""
        if self.missing == "min":
            return min(self.points_list)
        if self.missing == "zero":
            return 0.0
        return float(self.missing)

    def band_labels(self) -> list[str]:
        """Readable labels of the bands or categories (``"[5000, 10000)"``, ``"good"``)."""
        if self.bands is None:
            return [str(k).lower() if isinstance(k, bool) else str(k) for k in (self.categories or {})]
        out = []
        last = len(self.bands) - 1
        for i, b in enumerate(self.bands):
            if b.label:
                out.append(b.label)
            elif b.lower is None:
                out.append(f"< {_fmt(b.upper)}")
            elif b.upper is None:
                out.append(f">= {_fmt(b.lower)}")
            else:
                out.append(f"[{_fmt(b.lower)}, {_fmt(b.upper)}{']' if i == last else ')'}")
        return out


class TemplatePayload(BaseModel):
    """The payload of a template pack: subject type, grade scale, categories, indicators, vetoes."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    subject_type: SubjectType
    grade_scale: GradeScale
    categories: tuple[Category, ...]
    indicators: tuple[Indicator, ...]
    vetoes: tuple[Veto, ...] = ()

    @field_validator("categories")
    @classmethod
    def _check_categories(cls, cats: tuple[Category, ...], info: ValidationInfo) -> tuple[Category, ...]:
        codes = [c.code for c in cats]
        if not cats:
            raise ValueError("at least one category is needed")
        if len(set(codes)) != len(codes):
            raise ValueError(f"category codes must be unique, got {codes}")
        scale = info.data.get("grade_scale")
        if scale is not None:
            total = sum(c.max_points for c in cats)
            if abs(total - scale.max_score) > _TOL:
                raise ValueError(f"category maxima add up to {total:g}, not to the scale's {scale.max_score:g} "
                                 f"({', '.join(f'{c.code} {c.max_points:g}' for c in cats)})")
        return cats

    @field_validator("indicators")
    @classmethod
    def _check_indicators(cls, inds: tuple[Indicator, ...], info: ValidationInfo) -> tuple[Indicator, ...]:
        if not inds:
            raise ValueError("at least one indicator is needed")
        subject_type = info.data.get("subject_type")
        cats = info.data.get("categories")
        codes = [i.code for i in inds]
        dup = sorted({c for c in codes if codes.count(c) > 1})
        if dup:
            raise ValueError(f"indicator codes must be unique: {dup}")
        feats = [i.feature for i in inds]
        dup = sorted({f for f in feats if feats.count(f) > 1})
        if dup:
            raise ValueError(f"two indicators read the same feature {dup}")
        for n, ind in enumerate(inds):
            where = f"indicator {n} ({ind.code})"
            for name in (ind.feature, ind.code, ind.name_en):
                if is_protected_name(name):
                    raise ValueError(f"{where}: {name!r} is a protected attribute (ethnicity, gender, religion) "
                                     "and can never be a scoring input")
            if subject_type is not None and ind.subject_types is not None and subject_type not in ind.subject_types:
                raise ValueError(f"{where}: subject_types {list(ind.subject_types)} do not include the "
                                 f"template's {subject_type!r}")
            spec = FEATURES.get(ind.feature)
            if spec is None:
                raise ValueError(f"{where}: no feature {ind.feature!r} in the feature catalogue")
            if subject_type is not None and subject_type not in spec.subject_types:
                raise ValueError(f"{where}: the catalogue does not provide {ind.feature!r} for {subject_type!r} "
                                 f"(only for {list(spec.subject_types)})")
            if spec.dtype != ind.dtype:
                raise ValueError(f"{where}: dtype {ind.dtype!r} but feature {ind.feature!r} is {spec.dtype!r}")
            if ind.unit is not None and ind.unit != spec.unit:
                raise ValueError(f"{where}: unit {ind.unit!r} but feature {ind.feature!r} is in {spec.unit!r}")
            if spec.dtype == "category":
                have = set(ind.categories or {})
                want = set(spec.categories or ())
                if have != want:
                    raise ValueError(f"{where}: categories {sorted(map(str, have))} do not match feature "
                                     f"{ind.feature!r}'s {sorted(want)} (missing {sorted(want - have)}, "
                                     f"unknown {sorted(map(str, have - want))})")
        if cats is not None:
            known = {c.code: c for c in cats}
            for n, ind in enumerate(inds):
                if ind.category not in known:
                    raise ValueError(f"indicator {n} ({ind.code}): unknown category {ind.category!r}; "
                                     f"known: {list(known)}")
            for c in cats:
                members = [i for i in inds if i.category == c.code]
                total = sum(i.max_points for i in members)
                if abs(total - c.max_points) > _TOL:
                    parts = ", ".join(f"{i.code} {i.max_points:g}" for i in members) or "none"
                    raise ValueError(f"category {c.code!r}: indicator maxima add up to {total:g}, not to its "
                                     f"max_points {c.max_points:g} ({parts})")
        return inds

    @field_validator("vetoes")
    @classmethod
    def _check_vetoes(cls, vetoes: tuple[Veto, ...], info: ValidationInfo) -> tuple[Veto, ...]:
        subject_type = info.data.get("subject_type")
        codes = [v.code for v in vetoes]
        if len(set(codes)) != len(codes):
            raise ValueError(f"veto codes must be unique, got {codes}")
        inds = info.data.get("indicators") or ()
        used = {i.feature for i in inds}
        for n, v in enumerate(vetoes):
            where = f"veto {n} ({v.code})"
            if is_protected_name(v.feature) or is_protected_name(v.code):
                raise ValueError(f"{where}: {v.feature!r} is a protected attribute and can never be an input")
            spec = FEATURES.get(v.feature)
            if v.external:
                if spec is not None:
                    raise ValueError(f"{where}: {v.feature!r} is a catalogue feature; external: true is for "
                                     "columns the caller supplies")
                if v.feature in used:
                    raise ValueError(f"{where}: {v.feature!r} is also an indicator's feature")
                continue
            if spec is None:
                raise ValueError(f"{where}: no feature {v.feature!r} in the feature catalogue (mark columns "
                                 "supplied by the caller with external: true)")
            if subject_type is not None and subject_type not in spec.subject_types:
                raise ValueError(f"{where}: the catalogue does not provide {v.feature!r} for {subject_type!r}")
            if spec.dtype != "bool":
                raise ValueError(f"{where}: a veto reads a boolean feature; {v.feature!r} is {spec.dtype!r}")
        return vetoes


class Template(PolicyPack):
    """An indicator template (信用信息指标模板) as a policy pack of kind ``template``.

    Examples
    --------
    >>> t = load_template("household", as_of="2026-01-01")
    >>> t.payload.subject_type, t.payload.grade_scale.max_score
    ('household', 100.0)
    """

    KIND = "template"
    payload: TemplatePayload

    @property
    def subject_type(self) -> str:
        """The subject type the template rates."""
        return self.payload.subject_type

    @property
    def indicators(self) -> tuple[Indicator, ...]:
        """The indicators, in scoring order."""
        return self.payload.indicators

    @property
    def grade_scale(self) -> GradeScale:
        """The template's grade scale."""
        return self.payload.grade_scale

    @property
    def input_columns(self) -> list[str]:
        """Every column the template reads: indicator features, then veto features."""
        return [i.feature for i in self.payload.indicators] + [v.feature for v in self.payload.vetoes]

    def indicator(self, code: str) -> Indicator:
        """The indicator with reason code ``code``."""
        for i in self.payload.indicators:
            if i.code == code:
                return i
        raise KeyError(code)


def builtin_templates() -> list[str]:
    """The ids of the built-in templates (``household``, ``family_farm``, ...)."""
    return builtin_pack_ids(Template.KIND)


def load_template(name_or_path: str | Path, as_of: Any, *, jurisdiction: str | None = None) -> Template:
    """Load the template version in force on ``as_of``.

    Parameters
    ----------
    name_or_path : str or Path
        A built-in id (see :func:`builtin_templates`) or a path to a YAML file / directory.
    as_of : date-like
    jurisdiction : str, optional
        A division code; the most specific matching jurisdiction wins.

    Raises
    ------
    PolicyError
        Unknown id, a malformed template (naming file, pack and field), or no version in force on
        ``as_of``.
    InputError
        ``as_of`` is not a date.
    """
    return load_pack(name_or_path, Template, as_of, jurisdiction=jurisdiction)

