"""The feature catalogue: every feature :func:`~ruralcredit.features.build_features` computes.

A pure declaration (layer 1, beside the table contracts): indicator templates validate against it
and the feature builder (layer 2) implements it, so neither needs to import the other.

Indicator templates (信用信息指标模板) name the feature each indicator reads; the template validator
checks the name against :data:`FEATURES` for the template's subject type. Names are stable: a
renamed feature breaks every template that reads it.

Conventions of the built frame (one row per subject, ``subject_id`` first):

- ``float`` features are ``float64``; ``int`` features are nullable ``Int64``; ``bool`` features are
  nullable ``boolean``; ``category`` features are pandas ``Categorical`` over :attr:`FeatureSpec.categories`.
- A feature that cannot be computed for a subject (data absent, a zero denominator) is missing
  (NaN / ``<NA>``); it is never filled. The scorer applies the template's missing-value policy.
- Protected attributes (ethnicity, gender, religion) are never features.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pandas as pd

from ruralcredit.errors import InputError
from ruralcredit.schema import (
    ASSESSMENT,
    CREDIT_REPORT,
    DEMONSTRATION,
    EDUCATION,
    HEALTH,
    HOUSE_STRUCTURE,
    SUBJECT_TYPES,
)

__all__ = ["FEATURES", "FeatureSpec", "catalogue_frame", "feature_names"]

FeatureDType = Literal["float", "int", "bool", "category"]

_HH = ("household",)
_ORG = ("family_farm", "cooperative", "enterprise")
_PM = ("professional_manager",)
_ALL = _HH + _ORG + _PM
_CREDIT_TABLES = ("loans", "repayments")


@dataclass(frozen=True)
class FeatureSpec:
    """One feature of the catalogue.

    Parameters
    ----------
    name : str
        Stable ASCII name; the column of the feature frame and what a template indicator reads.
    description_zh, description_en : str
        What it is, in Chinese and English (for reason texts and documentation).
    unit : str
        ``"yuan"``, ``"mu"``, ``"years"``, ``"months"``, ``"days"``, ``"persons"``, ``"ratio"``,
        ``"count"``, ``"class"`` (0..4 ordinal of the five-category classification), ``""``.
    dtype : {"float", "int", "bool", "category"}
    subject_types : tuple of str
        The subject types the feature exists for.
    sources : tuple of str
        The schema tables it is computed from.
    categories : tuple of str, optional
        The allowed values of a category feature.
    """

    name: str
    description_zh: str
    description_en: str
    unit: str
    dtype: FeatureDType
    subject_types: tuple[str, ...]
    sources: tuple[str, ...]
    categories: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if (self.dtype == "category") != (self.categories is not None):
            raise ValueError(f"feature {self.name!r}: categories are given exactly for category features")
        unknown = set(self.subject_types) - set(SUBJECT_TYPES)
        if unknown or not self.subject_types:
            raise ValueError(f"feature {self.name!r}: bad subject types {sorted(unknown)}")


def _f(name: str, zh: str, en: str, unit: str, dtype: FeatureDType, subject_types: tuple[str, ...],
       sources: tuple[str, ...], categories: tuple[str, ...] | None = None) -> FeatureSpec:
    return FeatureSpec(name, zh, en, unit, dtype, subject_types, sources, categories)


_HHT = ("households",)
_ENT = ("enterprises",)
_SPECS: tuple[FeatureSpec, ...] = (
    # --- household: basic facts (基本情况) ---
    _f("head_age", "户主年龄", "age of the household head in completed years (birth date in the ID number)",
       "years", "float", _HH, _HHT),
    _f("head_education", "户主文化程度", "head's education", "", "category", _HH, _HHT, EDUCATION),
    _f("head_health", "户主健康状况", "head's health", "", "category", _HH, _HHT, HEALTH),
    _f("household_size", "家庭人口", "household size", "persons", "int", _HH, _HHT),
    _f("labour_force", "劳动力人数", "labour force", "persons", "int", _HH, _HHT),
    _f("dependency_ratio", "抚养比", "dependants (size - labour force) per labourer; NaN without labour",
       "ratio", "float", _HH, _HHT),
    # --- household: income and operation (经营与收入) ---
    _f("annual_income", "家庭年纯收入", "household net income in the last year", "yuan", "float", _HH, _HHT),
    _f("income_per_labourer", "劳均纯收入", "net income per labourer; NaN without labour", "yuan", "float",
       _HH, _HHT),
    _f("income_per_capita", "人均纯收入", "net income per household member", "yuan", "float", _HH, _HHT),
    _f("operating_income", "生产经营收入", "income from farming and business operations", "yuan", "float",
       _HH, _HHT),
    # --- household: assets (资产) ---
    _f("land_mu", "土地面积", "contracted and transferred-in land", "mu", "float", _HH + _ORG, _HHT + _ENT),
    _f("land_per_capita", "人均土地", "land per household member", "mu", "float", _HH, _HHT),
    _f("livestock_units", "牲畜存栏", "livestock in cattle equivalents", "head", "float", _HH, _HHT),
    _f("house_value", "房屋价值", "value of the house", "yuan", "float", _HH, _HHT),
    _f("house_structure", "房屋结构", "structure of the house", "", "category", _HH, _HHT, HOUSE_STRUCTURE),
    _f("deposits", "存款", "bank deposits", "yuan", "float", _HH, _HHT),
    _f("total_assets", "家庭总资产",
       "total assets: house + machinery + vehicles + deposits + other assets (households); "
       "balance-sheet total assets (organisations)", "yuan", "float", _HH + _ORG, _HHT + _ENT),
    _f("net_assets", "净资产", "total assets less total debt (bank balances at as_of + informal debt for "
       "households; total liabilities for organisations)", "yuan", "float", _HH + _ORG,
       _HHT + _ENT + ("loans", "repayments")),
    # --- debt (负债) ---
    _f("bank_debt", "银行贷款余额", "outstanding bank loan balances at as_of", "yuan", "float", _ALL,
       _CREDIT_TABLES),
    _f("informal_debt", "民间借款", "debts outside banks", "yuan", "float", _HH, _HHT),
    _f("total_debt", "负债总额", "bank balances at as_of + informal debt", "yuan", "float", _HH,
       _HHT + _CREDIT_TABLES),
    _f("debt_to_income", "负债收入比", "total debt / annual net income; NaN when income is 0", "ratio",
       "float", _HH, _HHT + _CREDIT_TABLES),
    _f("debt_to_assets", "资产负债率",
       "households: total debt / total assets; organisations: total liabilities / total assets; "
       "NaN when assets are 0", "ratio", "float", _HH + _ORG, _HHT + _ENT + _CREDIT_TABLES),
    _f("guarantees_given", "对外担保金额", "sum of guarantees given that are active at as_of", "yuan", "float",
       _HH + _ORG, ("guarantees", "loans")),
    _f("guarantees_to_net_assets", "对外担保占净资产比",
       "active guarantees given / net assets; NaN when net assets <= 0", "ratio", "float", _HH + _ORG,
       _HHT + _ENT + ("guarantees", "loans", "repayments")),
    # --- credit record (信用记录), every subject type ---
    _f("open_loans", "未结清贷款笔数", "loans issued <= as_of and not closed at as_of", "count", "int", _ALL,
       ("loans",)),
    _f("overdue_count_12m", "近12个月逾期期数", "instalments overdue during the last 12 months (fell due in "
       "it and paid late, or overdue in part of it: paid late inside it or still unpaid at as_of)", "count",
       "int", _ALL, _CREDIT_TABLES),
    _f("overdue_count_24m", "近24个月逾期期数", "instalments overdue during the last 24 months", "count", "int",
       _ALL, _CREDIT_TABLES),
    _f("max_overdue_days_12m", "近12个月最长逾期天数", "worst days late of an instalment overdue during the "
       "last 12 months (paid_date - due_date, or as_of - due_date if unpaid at as_of), or of a loan "
       "snapshot taken in the window", "days", "int", _ALL, _CREDIT_TABLES),
    _f("max_overdue_days_24m", "近24个月最长逾期天数", "worst days late over the last 24 months", "days", "int",
       _ALL, _CREDIT_TABLES),
    _f("worst_five_class_5y", "近5年最差五级分类", "worst five-category class over 5 years as 0..4 (normal, "
       "special mention, substandard, doubtful, loss), from overdue-day floors and snapshot classes; NaN "
       "without loans in the window", "class", "int", _ALL, _CREDIT_TABLES),
    _f("has_npl_now", "当前有不良贷款", "an open loan is non-performing at as_of (substandard or worse)", "",
       "bool", _ALL, _CREDIT_TABLES),
    _f("lenders_3m", "近3个月授信机构数", "distinct lenders with credit open in the last 3 months (open at as_of or closed inside the window)", "count",
       "int", _ALL, ("loans",)),
    _f("lenders_6m", "近6个月授信机构数", "distinct lenders with credit open in the last 6 months", "count",
       "int", _ALL, ("loans",)),
    _f("lenders_12m", "近12个月授信机构数", "distinct lenders with credit open in the last 12 months", "count",
       "int", _ALL, ("loans",)),
    _f("credit_history_months", "信贷历史月数", "months since the first loan was issued; NaN without loans",
       "months", "float", _ALL, ("loans",)),
    _f("on_time_ratio_24m", "近24个月按时还款比例", "share of instalments due in the last 24 months paid on "
       "or before the due date; NaN when none fell due", "ratio", "float", _ALL, _CREDIT_TABLES),
    # --- household: insurance, moral and credit-report facts ---
    _f("insurance_cover", "农业保险保额", "agricultural insurance sum insured", "yuan", "float", _HH + _ORG,
       _HHT + _ENT),
    _f("insurance_cover_ratio", "保险覆盖率", "sum insured / operating income (households) or last year's "
       "revenue (organisations); NaN when the denominator is 0", "ratio", "float", _HH + _ORG, _HHT + _ENT),
    _f("honours", "荣誉数", "honours at village level or above", "count", "int", _HH + _ORG, _HHT + _ENT),
    _f("village_assessment", "村委会评价", "village committee's assessment of conduct; missing when not assessed",
       "", "category", _HH, _HHT, ASSESSMENT),
    _f("credit_report_status", "征信报告状况", "credit report: normal / none (thin file) / bad", "", "category",
       _HH, _HHT, CREDIT_REPORT),
    _f("bad_credit_5y", "近5年不良信用记录", "a bad credit-report record within 5 years before as_of", "",
       "bool", _HH, _HHT),
    _f("criminal_5y", "近5年犯罪记录", "a criminal conviction within 5 years before as_of", "", "bool", _HH,
       _HHT),
    _f("is_archived", "已建档", "a credit file exists at as_of", "", "bool", _HH, _HHT),
    _f("years_since_archived", "建档年限", "years since the credit file was opened; NaN when not archived",
       "years", "float", _HH, _HHT),
    # --- organisations: family farms, cooperatives, enterprises ---
    _f("years_in_operation", "经营年限", "years since registration", "years", "float", _ORG, _ENT),
    _f("employees", "从业人数", "employees", "persons", "int", _ORG, _ENT),
    _f("members", "社员人数", "cooperative members", "persons", "int", ("cooperative",), _ENT),
    _f("registered_capital", "注册资本", "registered capital", "yuan", "float", _ORG, _ENT),
    _f("revenue_last_year", "上年营业收入", "last year's revenue", "yuan", "float", _ORG, _ENT),
    _f("revenue_growth", "营业收入增长率", "last year's revenue / the previous year's - 1; NaN when the "
       "previous year's revenue is 0", "ratio", "float", _ORG, _ENT),
    _f("profit_margin", "销售利润率", "net profit / last year's revenue; NaN when revenue is 0", "ratio",
       "float", _ORG, _ENT),
    _f("total_liabilities", "负债总额", "balance-sheet total liabilities", "yuan", "float", _ORG, _ENT),
    _f("demonstration_level", "示范等级", "model farm / cooperative / enterprise level", "", "category", _ORG,
       _ENT, DEMONSTRATION),
    _f("has_uscc", "已登记注册", "registered with a unified social credit code", "", "bool", _ORG, _ENT),
    _f("legal_rep_bad_credit_5y", "法定代表人近5年不良信用记录", "the legal representative at as_of has a bad "
       "credit record within 5 years; NaN when unknown (no representative on file, or not a household head)",
       "", "bool", _ORG, ("roles", "persons", "households")),
    _f("legal_rep_criminal_5y", "法定代表人近5年犯罪记录", "the legal representative at as_of has a criminal "
       "conviction within 5 years; NaN when unknown", "", "bool", _ORG, ("roles", "persons", "households")),
    # --- professional farm managers (农业职业经理人) ---
    _f("age", "年龄", "age at as_of in completed years", "years", "float", _PM, ("persons",)),
    _f("education", "文化程度", "education", "", "category", _PM, ("persons",), EDUCATION),
    _f("certificate_level", "职业经理人证书等级", "professional farm manager certificate level; missing when "
       "none", "", "category", _PM, ("persons",), ("junior", "intermediate", "senior")),
    _f("years_experience", "从业年限", "years of experience as recorded", "years", "float", _PM, ("persons",)),
    _f("managed_entities", "经营管理主体数", "entities the person manages at as_of", "count", "int", _PM,
       ("roles",)),
    _f("managed_land_mu", "经营管理土地面积", "land of the entities the person manages at as_of", "mu", "float",
       _PM, ("roles", "enterprises")),
)

#: Every feature, by name (stable names: templates refer to them).
FEATURES: dict[str, FeatureSpec] = {s.name: s for s in _SPECS}
if len(FEATURES) != len(_SPECS):  # pragma: no cover - guards against a duplicated name while editing
    raise AssertionError("duplicate feature names in the catalogue")


def feature_names(subject_type: str) -> list[str]:
    """The names of the features built for ``subject_type``, in the feature frame's column order.

    Parameters
    ----------
    subject_type : str
        One of :data:`ruralcredit.schema.SUBJECT_TYPES`.

    Returns
    -------
    list of str

    Raises
    ------
    InputError
        For an unknown subject type.
    """
    if subject_type not in SUBJECT_TYPES:
        raise InputError(f"unknown subject type {subject_type!r}; expected one of {list(SUBJECT_TYPES)}",
                         argument="subject_type", value=subject_type)
    return [s.name for s in _SPECS if subject_type in s.subject_types]


def catalogue_frame(subject_type: str | None = None) -> pd.DataFrame:
    """The catalogue as a table (for documentation and review).

    Parameters
    ----------
    subject_type : str, optional
        Only the features of this subject type; all features when omitted.

    Returns
    -------
    pandas.DataFrame
        Columns ``name, description_zh, description_en, unit, dtype, subject_types, sources, categories``
        (the tuple fields joined with ``", "``).
    """
    names = feature_names(subject_type) if subject_type is not None else list(FEATURES)
    rows = []
    for n in names:
        s = FEATURES[n]
        rows.append({
            "name": s.name,
            "description_zh": s.description_zh,
            "description_en": s.description_en,
            "unit": s.unit,
            "dtype": s.dtype,
            "subject_types": ", ".join(s.subject_types),
            "sources": ", ".join(s.sources),
            "categories": ", ".join(s.categories) if s.categories else "",
        })
    return pd.DataFrame(rows, columns=["name", "description_zh", "description_en", "unit", "dtype",
                                       "subject_types", "sources", "categories"])
