"""Table contracts: the columns, dtypes, units, allowed values, keys and references of every table.

Every public function in ruralcredit that takes a table validates it first with :func:`validate` and
raises :class:`~ruralcredit.errors.SchemaError` naming the table, the columns, up to 20 offending row
keys and the count. Nothing is coerced silently and nothing is dropped silently: the only conversions
are lossless widenings (an integer money column becomes float64, ISO date strings become datetime64,
a lowercase ``x`` check character becomes ``X``); extra columns a bank carries are kept untouched.

Conventions (DESIGN.md section 3): money in yuan (float64), land in mu (亩), dates as datetime64.
Subjects are keyed by ``subject_id`` (households, enterprises) or ``person_id`` (persons, who are
subjects as professional farm managers); loans, guarantees, contacts, transactions and subsidies
refer to any subject.

Protected attributes (ethnicity 民族, gender, religion) are declared here with ``protected=True``;
:func:`protected_columns` lists them so that templates and model fitting can refuse them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from ruralcredit.errors import ModelError, SchemaError

__all__ = [
    "BORROWER_TYPES",
    "FIVE_CLASSES",
    "NON_PERFORMING_CLASSES",
    "ROLE_TYPES",
    "SUBJECT_TYPES",
    "TABLES",
    "Column",
    "Reference",
    "TableSchema",
    "parse_as_of",
    "check_no_protected",
    "is_protected_name",
    "protected_columns",
    "validate",
    "validate_all",
]

DType = Literal["str", "float", "int", "bool", "date"]

#: Subject types that have a credit-indicator template.
SUBJECT_TYPES = ("household", "family_farm", "cooperative", "enterprise", "professional_manager")
#: Who can borrow: the subject types, individual businesses and persons.
BORROWER_TYPES = (*SUBJECT_TYPES, "individual_business", "person")
#: Five-category loan classification (贷款五级分类), in order of worsening.
FIVE_CLASSES = ("normal", "special_mention", "substandard", "doubtful", "loss")
#: Classes counted as non-performing (不良贷款).
NON_PERFORMING_CLASSES = ("substandard", "doubtful", "loss")
#: Roles a person holds in an entity (joint punishment reaches the first four).
ROLE_TYPES = (
    "legal_representative",
    "principal",
    "actual_controller",
    "responsible_person",
    "manager",
    "member",
)
ENTERPRISE_KINDS = ("family_farm", "cooperative", "enterprise", "individual_business")
EDUCATION = ("none", "primary", "junior", "senior", "college")
HEALTH = ("good", "fair", "poor")
HOUSE_STRUCTURE = ("brick_concrete", "brick_wood", "earth_wood", "other")
ASSESSMENT = ("excellent", "good", "fair", "poor")
CREDIT_REPORT = ("normal", "none", "bad")
LOAN_PRODUCTS = ("micro_credit", "guaranteed", "mortgage", "business", "consumer")
LOAN_PURPOSES = (
    "planting",
    "livestock",
    "processing",
    "trade",
    "tourism",
    "consumption",
    "housing",
    "education",
    "medical",
    "other",
)
INDUSTRIES = (
    "agriculture",
    "processing",
    "trade",
    "tourism",
    "construction",
    "real_estate",
    "finance",
    "services",
    "individual",
    "unknown",
)
CONTACT_KINDS = ("phone", "address", "device")
SUBSIDY_STATUS = ("applied", "granted", "refused", "revoked")
DEMONSTRATION = ("none", "county", "city", "province", "national")

_MIN_DATE = pd.Timestamp("1900-01-01")
_MAX_DATE = pd.Timestamp("2100-12-31")


@dataclass(frozen=True)
class Column:
    """One declared column of a table.

    Parameters
    ----------
    name : str
    dtype : {"str", "float", "int", "bool", "date"}
    required : bool
        The column must be present.
    nullable : bool
        Missing values are allowed.
    unit : str, optional
        ``"yuan"``, ``"mu"``, ``"m2"``, ``"days"``, ``"persons"``, ...
    allowed : tuple of str, optional
        The only values allowed (a closed vocabulary).
    min, max : float, optional
        Inclusive bounds for numbers.
    identifier : {"resident_id", "uscc", "village_code", "township_code", "county_code"}, optional
        The values must be valid codes of that kind.
    protected : bool
        A protected attribute (ethnicity, gender, religion): never a model input.
    description : str
    """

    name: str
    dtype: DType
    required: bool = True
    nullable: bool = False
    unit: str | None = None
    allowed: tuple[str, ...] | None = None
    min: float | None = None
    max: float | None = None
    identifier: str | None = None
    protected: bool = False
    description: str = ""


@dataclass(frozen=True)
class Reference:
    """A foreign key: ``column`` of this table must exist in ``target_column`` of ``target_table``.

    ``target_table`` may be ``"subjects"``: the union of households, enterprises and persons.
    """

    column: str
    target_table: str
    target_column: str


@dataclass(frozen=True)
class _RowCheck:
    """A cross-column rule: ``bad(df)`` returns a boolean mask of offending rows."""

    name: str
    columns: tuple[str, ...]
    message: str
    bad: Callable[[pd.DataFrame], pd.Series]


@dataclass(frozen=True)
class TableSchema:
    """The contract of one table."""

    name: str
    description: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    references: tuple[Reference, ...] = ()
    checks: tuple[_RowCheck, ...] = field(default=(), repr=False)

    @property
    def column_names(self) -> list[str]:
        """All declared column names, in order."""
        return [c.name for c in self.columns]

    @property
    def required_columns(self) -> list[str]:
        """The columns that must be present."""
        return [c.name for c in self.columns if c.required]

    def column(self, name: str) -> Column:
        """The declared column called ``name``."""
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    def empty(self) -> pd.DataFrame:
        """An empty, correctly typed frame with every declared column."""
        return pd.DataFrame({c.name: pd.Series([], dtype=_EMPTY_DTYPES[c.dtype]) for c in self.columns})


_EMPTY_DTYPES: dict[str, Any] = {
    "str": object,
    "float": "float64",
    "int": "int64",
    "bool": "bool",
    "date": "datetime64[ns]",
}


#: dtypes of optional columns that are absent from the input (added as all-missing).
_ABSENT_DTYPES: dict[str, Any] = {
    "str": object,
    "float": "float64",
    "int": "Int64",
    "bool": "boolean",
    "date": "datetime64[ns]",
}


def _later(a: str, b: str) -> Callable[[pd.DataFrame], pd.Series]:
    """Rows where ``df[a] < df[b]`` (both present)."""

    def bad(df: pd.DataFrame) -> pd.Series:
        return (df[a] < df[b]).fillna(False).astype(bool)

    return bad


def _money(name: str, description: str = "", *, nullable: bool = False, required: bool = True) -> Column:
    return Column(name, "float", required=required, nullable=nullable, unit="yuan", min=0.0,
                  description=description)


VILLAGES = TableSchema(
    "villages",
    "Villages (行政村) with their township and county; one row per village.",
    (
        Column("village_code", "str", identifier="village_code",
               description="12-digit statistical division code of the village (GB/T 2260 + township + village)"),
        Column("village_name", "str"),
        Column("township_code", "str", identifier="township_code", description="9-digit township code"),
        Column("township_name", "str"),
        Column("county_code", "str", identifier="county_code", description="6-digit county code"),
        Column("urban_rural_class", "str", required=False, nullable=True,
               allowed=("111", "112", "121", "122", "123", "210", "220"),
               description="urban-rural classification code (220 = village)"),
        Column("vintage", "int", required=False, min=1980, max=2100,
               description="year of the division-code table the codes come from"),
    ),
    key=("village_code",),
    checks=(
        _RowCheck("township_prefix", ("village_code", "township_code"),
                  "village code does not start with its township code",
                  lambda df: df["village_code"].str[:9] != df["township_code"]),
        _RowCheck("county_prefix", ("township_code", "county_code"),
                  "township code does not start with its county code",
                  lambda df: df["township_code"].str[:6] != df["county_code"]),
    ),
)

HOUSEHOLDS = TableSchema(
    "households",
    "Farm households (农户), the master record of the collection template; facts as last surveyed.",
    (
        Column("subject_id", "str", description="household key"),
        Column("village_code", "str", identifier="village_code"),
        Column("head_id_number", "str", identifier="resident_id", description="head's resident ID number"),
        Column("head_name", "str"),
        Column("size", "int", unit="persons", min=1, max=50),
        Column("labour_force", "int", unit="persons", min=0, max=50),
        Column("archived", "bool", description="a credit file (建档) exists for the household"),
        Column("archived_date", "date", nullable=True, description="when the credit file was opened"),
        Column("survey_date", "date", description="when these facts were collected"),
        Column("head_education", "str", allowed=EDUCATION),
        Column("head_health", "str", allowed=HEALTH),
        Column("head_marital_status", "str", allowed=("single", "married", "divorced", "widowed")),
        _money("annual_income", "total household net income in the last year"),
        _money("operating_income", "income from farming and business operations in the last year"),
        _money("annual_expenses"),
        Column("house_area", "float", unit="m2", min=0.0),
        Column("house_structure", "str", allowed=HOUSE_STRUCTURE),
        _money("house_value"),
        Column("land_mu", "float", unit="mu", min=0.0, description="contracted and transferred-in land"),
        Column("livestock_units", "float", unit="head", min=0.0, description="livestock in cattle equivalents"),
        _money("machinery_value"),
        _money("vehicle_value"),
        _money("deposits", "bank deposits"),
        _money("other_assets"),
        _money("informal_debt", "debts outside banks (relatives, private lenders)"),
        _money("insurance_cover", "agricultural insurance sum insured"),
        Column("honours", "int", min=0, max=100, description="honours at village level or above (count)"),
        Column("village_assessment", "str", nullable=True, allowed=ASSESSMENT,
               description="village committee's assessment of conduct (品行): missing when not assessed"),
        Column("credit_report_status", "str", allowed=CREDIT_REPORT,
               description="credit report: normal / none (thin file) / bad"),
        Column("bad_credit_date", "date", nullable=True,
               description="date of the latest bad record in the credit report"),
        Column("criminal_record_date", "date", nullable=True, description="date of the latest criminal conviction"),
    ),
    key=("subject_id",),
    references=(Reference("village_code", "villages", "village_code"),),
    checks=(
        _RowCheck("labour_le_size", ("labour_force", "size"), "labour force exceeds household size",
                  lambda df: df["labour_force"] > df["size"]),
        _RowCheck("archived_date", ("archived", "archived_date"), "archived household without archived_date",
                  lambda df: df["archived"] & df["archived_date"].isna()),
    ),
)

PERSONS = TableSchema(
    "persons",
    "Natural persons: household members, legal representatives, professional farm managers.",
    (
        Column("person_id", "str"),
        Column("id_number", "str", identifier="resident_id"),
        Column("name", "str"),
        Column("household_id", "str", nullable=True, description="the household the person belongs to"),
        Column("relation", "str", allowed=("head", "spouse", "child", "parent", "other", "none")),
        Column("birth_date", "date"),
        Column("gender", "str", allowed=("male", "female"), protected=True),
        Column("ethnicity", "str", protected=True, description="民族: audit only, never a model input"),
        Column("religion", "str", required=False, nullable=True, protected=True),
        Column("education", "str", allowed=EDUCATION),
        Column("manager_certificate", "str", required=False, nullable=True,
               allowed=("junior", "intermediate", "senior"),
               description="professional farm manager (农业职业经理人) certificate level"),
        Column("years_experience", "float", required=False, nullable=True, unit="years", min=0, max=80),
    ),
    key=("person_id",),
    references=(Reference("household_id", "households", "subject_id"),),
)

ENTERPRISES = TableSchema(
    "enterprises",
    "New agricultural operating entities and businesses: family farms (家庭农场), farmers' cooperatives "
    "(农民专业合作社), agricultural enterprises (农业企业) and individual businesses (个体工商户).",
    (
        Column("subject_id", "str"),
        Column("kind", "str", allowed=ENTERPRISE_KINDS),
        Column("name", "str"),
        Column("uscc", "str", nullable=True, identifier="uscc",
               description="unified social credit code; missing when unregistered"),
        Column("operator_id_number", "str", nullable=True, identifier="resident_id",
               description="operator's ID number (required when there is no USCC)"),
        Column("village_code", "str", identifier="village_code"),
        Column("registered_date", "date"),
        Column("business_scope", "str"),
        _money("registered_capital"),
        Column("members", "int", nullable=True, min=0, unit="persons", description="cooperative members"),
        Column("employees", "int", min=0, unit="persons"),
        Column("land_mu", "float", unit="mu", min=0.0),
        _money("total_assets"),
        _money("total_liabilities"),
        _money("revenue_last_year"),
        _money("revenue_prev_year"),
        Column("net_profit", "float", unit="yuan", description="last year's net profit (may be negative)"),
        _money("insurance_cover"),
        Column("honours", "int", min=0, max=100),
        Column("demonstration_level", "str", allowed=DEMONSTRATION,
               description="model farm / model cooperative (示范) level"),
        Column("promised_yield", "float", required=False, nullable=True, unit="ratio", min=0.0,
               description="yearly return promised to members or investors, if any"),
    ),
    key=("subject_id",),
    references=(Reference("village_code", "villages", "village_code"),),
    checks=(
        _RowCheck("uscc_or_operator", ("uscc", "operator_id_number"),
                  "neither a USCC nor an operator ID number",
                  lambda df: df["uscc"].isna() & df["operator_id_number"].isna()),
    ),
)

ROLES = TableSchema(
    "roles",
    "Who holds which role in which entity, and when (for joint punishment).",
    (
        Column("person_id", "str"),
        Column("enterprise_id", "str"),
        Column("role", "str", allowed=ROLE_TYPES),
        Column("valid_from", "date"),
        Column("valid_to", "date", nullable=True, description="missing while the role is held"),
    ),
    key=("person_id", "enterprise_id", "role", "valid_from"),
    references=(
        Reference("person_id", "persons", "person_id"),
        Reference("enterprise_id", "enterprises", "subject_id"),
    ),
    checks=(_RowCheck("dates", ("valid_from", "valid_to"), "valid_to before valid_from",
                      _later("valid_to", "valid_from")),),
)

LOANS = TableSchema(
    "loans",
    "Loans with the lender's status at a snapshot date.",
    (
        Column("loan_id", "str"),
        Column("borrower_id", "str"),
        Column("borrower_type", "str", allowed=BORROWER_TYPES),
        Column("institution", "str", description="lending institution code"),
        Column("officer_id", "str", description="loan officer who issued it"),
        Column("product", "str", allowed=LOAN_PRODUCTS),
        Column("purpose", "str", allowed=LOAN_PURPOSES),
        Column("amount", "float", unit="yuan", min=0.01),
        Column("interest_rate", "float", unit="ratio", min=0.0, max=0.36, description="yearly rate"),
        Column("issue_date", "date"),
        Column("maturity_date", "date"),
        Column("snapshot_date", "date", description="date of balance, overdue days and class below"),
        _money("balance", "outstanding principal at the snapshot"),
        Column("overdue_days", "int", unit="days", min=0, max=20000),
        Column("five_class", "str", allowed=FIVE_CLASSES),
        Column("closed_date", "date", nullable=True, description="when repaid in full or written off"),
    ),
    key=("loan_id",),
    references=(Reference("borrower_id", "subjects", "subject_id"),),
    checks=(
        _RowCheck("maturity", ("maturity_date", "issue_date"), "matures before it is issued",
                  _later("maturity_date", "issue_date")),
        _RowCheck("snapshot", ("snapshot_date", "issue_date"), "snapshot before issue",
                  _later("snapshot_date", "issue_date")),
        _RowCheck("closed", ("closed_date", "issue_date"), "closed before issue",
                  _later("closed_date", "issue_date")),
        _RowCheck("balance", ("balance", "amount"), "balance exceeds the amount lent",
                  lambda df: df["balance"] > df["amount"] * 1.0000001),
    ),
)

REPAYMENTS = TableSchema(
    "repayments",
    "Instalment schedule and what was paid: one row per instalment.",
    (
        Column("loan_id", "str"),
        Column("instalment", "int", min=1, max=10000),
        Column("due_date", "date"),
        _money("due_amount"),
        Column("paid_date", "date", nullable=True, description="when the instalment was fully paid"),
        _money("paid_amount", nullable=True),
    ),
    key=("loan_id", "instalment"),
    references=(Reference("loan_id", "loans", "loan_id"),),
)

GUARANTEES = TableSchema(
    "guarantees",
    "Guarantees (担保): who guarantees which loan, for how much.",
    (
        Column("guarantee_id", "str"),
        Column("loan_id", "str"),
        Column("guarantor_id", "str"),
        Column("amount", "float", unit="yuan", min=0.01),
        Column("start_date", "date"),
        Column("end_date", "date", nullable=True),
    ),
    key=("guarantee_id",),
    references=(
        Reference("loan_id", "loans", "loan_id"),
        Reference("guarantor_id", "subjects", "subject_id"),
    ),
    checks=(_RowCheck("dates", ("end_date", "start_date"), "ends before it starts",
                      _later("end_date", "start_date")),),
)

CONTACTS = TableSchema(
    "contacts",
    "Phones, addresses and devices per subject, with the dates they were used.",
    (
        Column("subject_id", "str"),
        Column("kind", "str", allowed=CONTACT_KINDS),
        Column("value", "str"),
        Column("valid_from", "date"),
        Column("valid_to", "date", nullable=True),
    ),
    key=("subject_id", "kind", "value", "valid_from"),
    references=(Reference("subject_id", "subjects", "subject_id"),),
    checks=(_RowCheck("dates", ("valid_to", "valid_from"), "valid_to before valid_from",
                      _later("valid_to", "valid_from")),),
)

TRANSACTIONS = TableSchema(
    "transactions",
    "Account flows of subjects with their counterparties (for re-lending and fundraising signals).",
    (
        Column("txn_id", "str"),
        Column("subject_id", "str", description="account owner"),
        Column("date", "date"),
        Column("amount", "float", unit="yuan", min=0.01),
        Column("direction", "str", allowed=("in", "out")),
        Column("counterparty_id", "str", nullable=True, description="the counterparty's subject_id, if known"),
        Column("counterparty_name", "str"),
        Column("counterparty_industry", "str", allowed=INDUSTRIES),
        Column("loan_id", "str", nullable=True, description="the loan whose funds move, when traceable"),
    ),
    key=("txn_id",),
    references=(
        Reference("subject_id", "subjects", "subject_id"),
        Reference("loan_id", "loans", "loan_id"),
    ),
)

SUBSIDIES = TableSchema(
    "subsidies",
    "Applications for fiscal subsidies (财政补贴) and their outcome.",
    (
        Column("subsidy_id", "str"),
        Column("subject_id", "str"),
        Column("program", "str"),
        _money("amount"),
        Column("application_date", "date"),
        Column("decision_date", "date", nullable=True),
        Column("status", "str", allowed=SUBSIDY_STATUS),
    ),
    key=("subsidy_id",),
    references=(Reference("subject_id", "subjects", "subject_id"),),
    checks=(_RowCheck("dates", ("decision_date", "application_date"), "decided before applied",
                      _later("decision_date", "application_date")),),
)

#: Every table contract, by name.
TABLES: dict[str, TableSchema] = {
    t.name: t
    for t in (VILLAGES, HOUSEHOLDS, PERSONS, ENTERPRISES, ROLES, LOANS, REPAYMENTS, GUARANTEES, CONTACTS,
              TRANSACTIONS, SUBSIDIES)
}

#: Tables whose keys are subjects, with their key column.
_SUBJECT_TABLES = {"households": "subject_id", "enterprises": "subject_id", "persons": "person_id"}


def protected_columns() -> dict[str, list[str]]:
    """The protected attributes of every table: ``{"persons": ["gender", "ethnicity", "religion"]}``."""
    out = {}
    for t in TABLES.values():
        cols = [c.name for c in t.columns if c.protected]
        if cols:
            out[t.name] = cols
    return out


# Name stems of protected attributes in English, pinyin and Chinese; "sex", "race" and "nation" only as
# whole words, so that "essex_loans" or "national_honours" are not caught.
_PROTECTED_RE = re.compile(r"ethnic|minzu|gender|xingbie|religio|zongjiao|民族|性别|宗教|(^|[^a-z])(sex|race|"
                           r"nation|nationality)([^a-z]|$)", re.IGNORECASE)


def is_protected_name(name: str) -> bool:
    """Whether a column or feature name denotes a protected attribute (ethnicity, gender, religion).

    True for the schema's declared protected columns and for any name containing a protected stem
    (``head_ethnicity``, ``gender_code``, ``民族``).
    """
    text = str(name)
    declared = {c for cols in protected_columns().values() for c in cols}
    return text in declared or bool(_PROTECTED_RE.search(text))


def check_no_protected(names: Iterable[str], where: str) -> None:
    """Raise :class:`~ruralcredit.errors.ModelError` if any of ``names`` is a protected attribute.

    Every scorer calls it on its inputs when fitted, and templates refuse such inputs too: protected
    attributes are kept only to audit fairness (DESIGN.md section 8).

    Parameters
    ----------
    names : iterable of str
        Input column (feature) names.
    where : str
        What is being fitted or built, for the message (e.g. ``"Scorecard.fit"``).
    """
    bad = sorted({str(n) for n in names if is_protected_name(str(n))})
    if bad:
        raise ModelError(
            f"{where}: protected attribute(s) {bad} cannot be model inputs; they are kept only to audit "
            "fairness (pass them as `groups` to fairness_report instead)",
            columns=bad,
        )


def _row_keys(df: pd.DataFrame, schema: TableSchema, mask: np.ndarray | pd.Series) -> list[Any]:
    """Up to 20 keys of the rows in ``mask``: key values when present, else index labels."""
    mask = np.asarray(mask, dtype=bool)
    rows = df.loc[mask].head(20)
    if all(k in df.columns for k in schema.key):
        if len(schema.key) == 1:
            return [_display_key(v) for v in rows[schema.key[0]].tolist()]
        return [tuple(_display_key(v) for v in t) for t in rows[list(schema.key)].itertuples(index=False)]
    return rows.index.tolist()


def _display_key(v: Any) -> Any:
    if isinstance(v, pd.Timestamp):
        return v.date().isoformat()
    return v


def _fail(df: pd.DataFrame, schema: TableSchema, mask: Any, columns: Iterable[str], message: str,
          problem: str) -> None:
    mask = np.asarray(mask, dtype=bool)
    count = int(mask.sum())
    if count:
        raise SchemaError(message, table=schema.name, columns=list(columns), keys=_row_keys(df, schema, mask),
                          count=count, problem=problem)


def _is_str_column(s: pd.Series) -> bool:
    if s.dtype == object or pd.api.types.is_string_dtype(s.dtype):
        kind = pd.api.types.infer_dtype(s, skipna=True)
        return kind in ("string", "empty")
    return False


def _coerce_column(df: pd.DataFrame, schema: TableSchema, col: Column) -> pd.Series:
    """Check one column's dtype; return it with a lossless canonical dtype, or raise."""
    s = df[col.name]
    name = col.name
    if col.dtype != "str" and s.dtype == object and s.isna().all():
        # An all-missing column read as objects (e.g. all None): missing values of the declared type.
        return pd.Series(None, index=s.index, dtype=_ABSENT_DTYPES[col.dtype])
    if col.dtype == "str":
        if not _is_str_column(s):
            bad = s.notna() & ~s.map(lambda v: isinstance(v, str), na_action="ignore").fillna(False).astype(bool)
            _fail(df, schema, bad, [name], "expected text values", "dtype")
            if not bad.any():  # e.g. an all-NaN float column
                return s.astype(object)
        return s
    if col.dtype == "float":
        if pd.api.types.is_bool_dtype(s.dtype) or not pd.api.types.is_numeric_dtype(s.dtype):
            raise SchemaError(f"expected numbers, got dtype {s.dtype}", table=schema.name, columns=[name],
                              problem="dtype")
        out = s.astype("float64")
        _fail(df, schema, ~np.isfinite(out.fillna(0.0).to_numpy()), [name], "infinite value", "range")
        return out
    if col.dtype == "int":
        if pd.api.types.is_bool_dtype(s.dtype) or not pd.api.types.is_numeric_dtype(s.dtype):
            raise SchemaError(f"expected integers, got dtype {s.dtype}", table=schema.name, columns=[name],
                              problem="dtype")
        if pd.api.types.is_integer_dtype(s.dtype):
            return s if not col.nullable else s.astype("Int64")
        values = s.to_numpy(dtype="float64", na_value=np.nan)
        frac = np.isfinite(values) & (values != np.round(values))
        _fail(df, schema, frac | np.isinf(values), [name], "expected whole numbers", "dtype")
        if np.isnan(values).any():
            return s.astype("Int64")
        return s.astype("int64")
    if col.dtype == "bool":
        if pd.api.types.is_bool_dtype(s.dtype):
            return s
        bad = s.notna() & ~s.map(lambda v: isinstance(v, (bool, np.bool_)), na_action="ignore").fillna(False)
        _fail(df, schema, bad.astype(bool), [name], "expected true/false values", "dtype")
        return s.astype("boolean") if s.isna().any() else s.astype(bool)
    if col.dtype == "date":
        if pd.api.types.is_datetime64_any_dtype(s.dtype):
            if getattr(s.dt, "tz", None) is not None:
                raise SchemaError("dates must be timezone-naive", table=schema.name, columns=[name],
                                  problem="date")
            return s.astype("datetime64[ns]")
        if not (s.dtype == object or pd.api.types.is_string_dtype(s.dtype)):
            raise SchemaError(f"expected dates, got dtype {s.dtype}", table=schema.name, columns=[name],
                              problem="dtype")
        parsed = pd.to_datetime(s, errors="coerce", format="ISO8601")
        _fail(df, schema, s.notna().to_numpy() & parsed.isna().to_numpy(), [name],
              "not a real date (expected ISO YYYY-MM-DD)", "date")
        return parsed.astype("datetime64[ns]")
    raise AssertionError(col.dtype)  # pragma: no cover - the declared dtypes are closed


def _check_identifier(df: pd.DataFrame, schema: TableSchema, col: Column, s: pd.Series) -> pd.Series:
    present = s.notna().to_numpy()
    if col.identifier in ("resident_id", "uscc"):
        from ruralcredit import ids  # same layer; imported late so that ids may use schema's helpers
    if col.identifier == "resident_id":
        upper = s.str.upper() if present.any() else s
        ok = ids.validate_resident_ids(upper).to_numpy()
        _fail(df, schema, present & ~ok, [col.name], "invalid resident ID number", "identifier")
        return upper
    if col.identifier == "uscc":
        ok = ids.validate_usccs(s).to_numpy()
        _fail(df, schema, present & ~ok, [col.name], "invalid unified social credit code", "identifier")
        return s
    length = {"village_code": 12, "township_code": 9, "county_code": 6}[col.identifier or ""]
    text = s.fillna("").astype(str)
    ok = (text.str.len() == length) & text.str.fullmatch(r"\d+")
    if col.identifier == "village_code":
        ok &= text.str[9:12] != "000"
        ok &= text.str[6:9] != "000"
    elif col.identifier == "township_code":
        ok &= text.str[6:9] != "000"
    ok &= text.str[:2] != "00"
    _fail(df, schema, present & ~ok.to_numpy(), [col.name], f"not a valid {length}-digit {col.identifier}",
          "identifier")
    return s


def validate(table: str, df: pd.DataFrame) -> pd.DataFrame:
    """Validate one table against its contract and return the typed frame.

    Parameters
    ----------
    table : str
        The table's name, one of :data:`TABLES`.
    df : pandas.DataFrame

    Returns
    -------
    pandas.DataFrame
        A new frame: declared columns in canonical dtypes (float64 money, datetime64[ns] dates,
        int64 / nullable Int64 counts), optional declared columns that are absent added as missing,
        extra columns kept as they were. The input is not modified.

    Raises
    ------
    SchemaError
        Naming the table, the columns, up to 20 offending row keys and the count, for: not a
        DataFrame, missing columns, wrong dtypes, missing values where none are allowed, values
        outside the allowed vocabulary or range, impossible dates, invalid identifier codes,
        duplicate keys, and cross-column rules (e.g. a loan maturing before it is issued).
    """
    if table not in TABLES:
        raise SchemaError(f"unknown table; known tables: {sorted(TABLES)}", table=table, problem="unknown_table")
    schema = TABLES[table]
    if not isinstance(df, pd.DataFrame):
        raise SchemaError(f"expected a pandas DataFrame, got {type(df).__name__}", table=table, problem="type")
    if df.columns.duplicated().any():
        dup = df.columns[df.columns.duplicated()].tolist()
        raise SchemaError("duplicate column names", table=table, columns=dup, problem="duplicate_columns")
    missing = [c for c in schema.required_columns if c not in df.columns]
    if missing:
        raise SchemaError("missing required columns", table=table, columns=missing, problem="missing_columns")

    out = df.copy()
    for col in schema.columns:
        if col.name not in out.columns:
            out[col.name] = pd.Series(None, index=out.index, dtype=_ABSENT_DTYPES[col.dtype])
            continue
        s = _coerce_column(out, schema, col)
        isna = s.isna().to_numpy()
        if not col.nullable:
            _fail(out, schema, isna, [col.name], "missing values are not allowed", "null")
        if col.allowed is not None:
            bad = ~isna & ~s.isin(col.allowed).to_numpy()
            if bad.any():
                seen = sorted({str(v) for v in s[bad].head(100)})[:5]
                _fail(out, schema, bad, [col.name], f"values {seen} not in the allowed set {list(col.allowed)}",
                      "allowed")
        if col.min is not None or col.max is not None:
            lo = col.min if col.min is not None else -np.inf
            hi = col.max if col.max is not None else np.inf
            values = s.to_numpy(dtype="float64", na_value=np.nan)
            bad = ~isna & ((values < lo) | (values > hi))
            _fail(out, schema, bad, [col.name], f"values outside [{lo:g}, {hi:g}]"
                  + (f" {col.unit}" if col.unit else ""), "range")
        if col.dtype == "date":
            bad = ~isna & ((s < _MIN_DATE) | (s > _MAX_DATE)).fillna(False).to_numpy()
            _fail(out, schema, bad, [col.name], f"implausible dates outside {_MIN_DATE.date()}.."
                  f"{_MAX_DATE.date()}", "date")
        if col.identifier is not None:
            s = _check_identifier(out, schema, col, s)
        out[col.name] = s

    key = list(schema.key)
    dup = out.duplicated(subset=key, keep=False).to_numpy()
    _fail(out, schema, dup, key, "duplicate key", "duplicate_key")
    for check in schema.checks:
        _fail(out, schema, check.bad(out).to_numpy(dtype=bool, na_value=False), check.columns, check.message,
              f"rule:{check.name}")
    return out


def _found_in(values: pd.Series, target: pd.Series) -> np.ndarray:
    """Membership by a hash lookup (Series.isin on Arrow strings loops in Python over the targets)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        v = pa.array(values, from_pandas=True)
        t = pa.array(target.dropna(), from_pandas=True)
        if pa.types.is_string(v.type) or pa.types.is_large_string(v.type):
            v, t = v.cast(pa.large_string()), t.cast(pa.large_string())
        return pc.fill_null(pc.is_in(v, value_set=t), False).to_numpy(zero_copy_only=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        return pd.Index(target.dropna().unique()).get_indexer(values) >= 0


def validate_all(tables: Mapping[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Validate several tables and the references between them.

    Parameters
    ----------
    tables : mapping of table name to DataFrame
        Any subset of :data:`TABLES` (an object with a ``tables`` mapping, such as a synthetic
        ``County``, is accepted too). References are checked only when the target table is given;
        ``"subjects"`` is the union of the households, enterprises and persons given.

    Returns
    -------
    dict of str to DataFrame
        The validated, typed tables.

    Raises
    ------
    SchemaError
        On the first table or reference that fails; a reference failure names the column, the
        target table and the offending keys.
    """
    if not isinstance(tables, Mapping) and hasattr(tables, "tables"):
        tables = tables.tables
    unknown = sorted(set(tables) - set(TABLES))
    if unknown:
        raise SchemaError(f"unknown tables {unknown}; known tables: {sorted(TABLES)}", table=",".join(unknown),
                          problem="unknown_table")
    out = {name: validate(name, df) for name, df in tables.items()}
    subject_ids = [out[t][c] for t, c in _SUBJECT_TABLES.items() if t in out]
    for name, df in out.items():
        schema = TABLES[name]
        for ref in schema.references:
            if ref.target_table == "subjects":
                if not subject_ids:
                    continue
                target = pd.concat(subject_ids, ignore_index=True)
            elif ref.target_table in out:
                target = out[ref.target_table][ref.target_column]
            else:
                continue
            values = df[ref.column]
            bad = values.notna().to_numpy() & ~_found_in(values, target)
            _fail(df, schema, bad, [ref.column], f"refers to {ref.target_table}.{ref.target_column} that does "
                  "not exist", "reference")
    if "subjects" not in out and len(subject_ids) > 1:
        all_ids = pd.concat(subject_ids, ignore_index=True)
        dup = all_ids.duplicated(keep=False)
        if dup.any():
            raise SchemaError("subject ids must be unique across households, enterprises and persons",
                              table="subjects", columns=["subject_id"], keys=all_ids[dup].head(20).tolist(),
                              count=int(dup.sum()), problem="duplicate_key")
    return out


def parse_as_of(as_of: Any, argument: str = "as_of") -> pd.Timestamp:
    """An ``as_of`` date (date, datetime, Timestamp or ISO string) as a midnight ``Timestamp``.

    Raises
    ------
    InputError
        When the value is missing, not a date, or has a time zone.
    """
    from ruralcredit.errors import InputError

    if as_of is None or (isinstance(as_of, float) and np.isnan(as_of)):
        raise InputError("a date is required (no default: every result is as of an explicit date)",
                         argument=argument)
    if isinstance(as_of, bool) or isinstance(as_of, (int, float)):
        raise InputError(f"expected a date, got {type(as_of).__name__}", argument=argument, value=as_of)
    try:
        ts = pd.Timestamp(as_of)
    except (ValueError, TypeError) as exc:
        raise InputError(f"not a date: {as_of!r}", argument=argument, value=as_of) from exc
    if ts is pd.NaT or pd.isna(ts):
        raise InputError("not a date", argument=argument, value=as_of)
    if ts.tzinfo is not None:
        raise InputError("dates must be timezone-naive", argument=argument, value=as_of)
    return ts.normalize()
