"""The main job: a county's credit system run end to end on one date (layer 5).

:func:`run_county` chains the library's parts in the order of DESIGN.md section 2::

    tables ─► warnings (risk.scan) ─► blacklist flags (registry) ─► features ─► expert scores
           ─► grades, credit households ─► credit villages / townships / county ─► loan terms
           ─► subsidy eligibility ─► cases opened from warnings ─► fairness audit

and returns a :class:`CountyRun` holding every result, with :meth:`CountyRun.report_data` for the
HTML report and :meth:`CountyRun.write` to save every table. Each step is an ordinary public
function of the library; the pipeline adds only the joins between them (a household's head ID
number for the blacklist, its village for stars and credit-village eligibility, its head's
ethnicity and gender for the fairness audit -- never as a model input).

The command line (``ruralcredit report``, ``ruralcredit demo``) and ``make demo`` run it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ruralcredit.blacklist import EligibilityResult, Registry, check_eligibility
from ruralcredit.errors import InputError
from ruralcredit.features import build_features
from ruralcredit.models import ExpertScorecard
from ruralcredit.models.fairness import FairnessReport, fairness_report
from ruralcredit.rating import (
    AreaRating,
    VillageCriteria,
    is_credit_household,
    load_loan_terms,
    loan_terms,
    rate_counties,
    rate_townships,
    rate_villages,
    village_stars_for,
)
from ruralcredit.risk import scan
from ruralcredit.schema import parse_as_of, validate_all

__all__ = ["CONFIRMED_CASE_STATES", "CountyRun", "blacklisted_flags", "confirmed_cases", "count_steps",
           "household_facts", "listed_subjects", "run_county"]

#: The subject types scored by default, each with its built-in template.
DEFAULT_TEMPLATES: dict[str, str] = {
    "household": "household",
    "family_farm": "family_farm",
    "cooperative": "cooperative",
    "enterprise": "enterprise",
    "professional_manager": "professional_manager",
}

Progress = Callable[[str], None]


@dataclass
class CountyRun:
    """Every result of one :func:`run_county` call.

    Attributes
    ----------
    as_of : pandas.Timestamp
    features, scores : dict of subject type to DataFrame
        Point-in-time features and expert-scorecard results per subject type.
    households : DataFrame
        Household scores joined with village, township, credit-household flag and village stars.
    terms : DataFrame
        Household credit lines, terms and rates with the rule that set each.
    villages, townships, county : AreaRating
        Credit village / township / county ratings with every criterion against its threshold;
        ``townships`` and ``county`` are ``None`` when the criteria pack has no rules for that level.
    warnings : DataFrame
        Early warnings with their evidence.
    cases : DataFrame or None
        Case assignments of the warnings (when a case book was given).
    eligibility : EligibilityResult or None
        Subsidy-eligibility decisions of the households (when a registry was given).
    fairness : FairnessReport
        Credit-household rates across ethnicity, gender, village and township of household heads.
    record : dict
        Policies used (id, version, hash), the input row counts, library version and time.
    """

    as_of: pd.Timestamp
    features: dict[str, pd.DataFrame]
    scores: dict[str, pd.DataFrame]
    households: pd.DataFrame
    terms: pd.DataFrame
    villages: AreaRating
    townships: AreaRating | None
    county: AreaRating | None
    warnings: pd.DataFrame
    cases: pd.DataFrame | None
    eligibility: EligibilityResult | None
    fairness: FairnessReport
    record: dict[str, Any] = field(default_factory=dict)

    def report_data(self, county_name: str, **extra: Any) -> Any:
        """A :class:`~ruralcredit.report.ReportData` of this run (``extra`` adds or overrides fields)."""
        from ruralcredit.report import ReportData

        fields: dict[str, Any] = {
            "county_name": county_name,
            "as_of": self.as_of,
            "scores": self.households,
            "villages": self.villages,
            "townships": self.townships,
            "warnings": self.warnings,
            "fairness": self.fairness,
        }
        if self.eligibility is not None:
            fields["eligibility"] = self.eligibility
        fields.update(extra)
        return ReportData(**fields)

    def write(self, directory: str | Path) -> dict[str, Path]:
        """Write every result table as Parquet under ``directory``; returns the paths by name.

        Evidence dictionaries of warnings are written as JSON text. Ratings are written as their
        summary and their long criteria frame.
        """
        import json

        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        frames: dict[str, pd.DataFrame] = {f"scores_{k}": v for k, v in self.scores.items()}
        frames.update({
            "households": self.households,
            "loan_terms": self.terms,
            "villages": self.villages.summary,
            "village_criteria": self.villages.criteria,
            "fairness": self.fairness.table,
        })
        if self.townships is not None:
            frames.update({"townships": self.townships.summary, "township_criteria": self.townships.criteria})
        if self.county is not None:
            frames["county"] = self.county.summary
        w = self.warnings.copy()
        if "evidence" in w.columns:
            w["evidence"] = w["evidence"].map(lambda e: json.dumps(e, ensure_ascii=False, default=str))
        frames["warnings"] = w
        if self.cases is not None:
            frames["cases"] = self.cases
        if self.eligibility is not None:
            frames["eligibility"] = self.eligibility.decisions
            frames["eligibility_details"] = self.eligibility.details
        paths = {}
        for name, df in frames.items():
            path = out / f"{name}.parquet"
            _parquet_safe(df).to_parquet(path, index=False)
            paths[name] = path
        return paths


def _parquet_safe(df: pd.DataFrame) -> pd.DataFrame:
    """Columns of mixed Python types (e.g. a condition's value: a grade or a number) as text for Parquet."""
    mixed = [c for c in df.columns if df[c].dtype == object
             and pd.api.types.infer_dtype(df[c], skipna=True).startswith("mixed")]
    if not mixed:
        return df
    out = df.copy()
    for c in mixed:
        out[c] = out[c].map(lambda v: None if v is None or (isinstance(v, float) and np.isnan(v)) else str(v))
    return out


def _quiet(_: str) -> None:
    return None


def listed_subjects(tables: Mapping[str, pd.DataFrame], registry: Registry | None, as_of: Any) -> pd.DataFrame:
    """Subjects directly listed on ``as_of``, by subject id: ``subject_id, category, listing_id``.

    The registry keys listings by resident ID number or USCC; a household is matched by its head's
    ID number, a person (professional manager) by theirs, an organisation by its USCC or its
    operator's ID number.
    """
    columns = ["subject_id", "category", "listing_id"]
    if registry is None:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    listed = registry.in_force(on=as_of)
    if listed.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    listed = listed.assign(subject_key=listed["subject_key"].astype(object).str.upper())
    found = []
    for table, key_col, id_col in (("households", "head_id_number", "subject_id"),
                                   ("persons", "id_number", "person_id"),
                                   ("enterprises", "uscc", "subject_id"),
                                   ("enterprises", "operator_id_number", "subject_id")):
        if table in tables:
            keys = tables[table][[id_col, key_col]].dropna().rename(columns={id_col: "subject_id",
                                                                              key_col: "subject_key"})
            keys["subject_key"] = keys["subject_key"].astype(object).str.upper()
            found.append(keys.merge(listed[["subject_key", "category", "listing_id"]], on="subject_key"))
    if not found:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    return pd.concat(found, ignore_index=True)[columns].drop_duplicates().reset_index(drop=True)


def blacklisted_flags(features: pd.DataFrame, listed: pd.DataFrame) -> pd.Series:
    """Whether each scored subject is directly listed (the templates' blacklist veto).

    Parameters
    ----------
    features : DataFrame with ``subject_id``
    listed : DataFrame from :func:`listed_subjects`

    Returns
    -------
    Series of bool aligned with ``features``.
    """
    flags = features["subject_id"].isin(listed["subject_id"]).to_numpy(dtype=bool, na_value=False)
    return pd.Series(flags, index=features.index, name="blacklisted")


#: Case states in which a warning's risk has been confirmed (verified, interviewed, transferred or
#: closed after action); only confirmed cases count as "cases" for the credit-village vetoes.
CONFIRMED_CASE_STATES = ("verified", "interview", "transferred_to_authorities", "closed_resolved")


def household_facts(tables: Mapping[str, pd.DataFrame], features: pd.DataFrame) -> pd.DataFrame:
    """The facts an eligibility policy reads about each household, from its point-in-time features.

    Parameters
    ----------
    tables : mapping with ``households``
    features : DataFrame
        Household features (:func:`~ruralcredit.features.build_features`) on the decision date.

    Returns
    -------
    DataFrame
        One row per household, in the households table's order: ``subject_id``, ``id_number`` and
        ``name`` (the head's), ``has_npl`` (a non-performing loan now) and
        ``worst_overdue_days_24m``; missing where the features have no value (a condition on it is
        then *unknown*).
    """
    hh = tables["households"]
    feats = features.set_index("subject_id").reindex(hh["subject_id"])
    return pd.DataFrame({
        "subject_id": hh["subject_id"].to_numpy(),
        "id_number": hh["head_id_number"].to_numpy(),
        "name": hh["head_name"].to_numpy(),
        "has_npl": feats["has_npl_now"].astype("boolean").to_numpy(),
        "worst_overdue_days_24m": feats["max_overdue_days_24m"].astype("Float64").to_numpy(),
    })


def confirmed_cases(case_book: Any) -> pd.DataFrame | None:
    """``subject_id, category`` of confirmed cases in a case book (``None`` without one)."""
    if case_book is None:
        return None
    cases = case_book.cases()
    cases = cases[cases["state"].isin(CONFIRMED_CASE_STATES)]
    return cases[["subject_id", "category"]].reset_index(drop=True)


def _household_frame(tables: Mapping[str, pd.DataFrame], scores: pd.DataFrame, scorer: ExpertScorecard,
                     villages: AreaRating | None = None) -> pd.DataFrame:
    hh = tables["households"][["subject_id", "village_code"]]
    vil = tables["villages"][["village_code", "township_code"]]
    out = scores.merge(hh, on="subject_id", how="left").merge(vil, on="village_code", how="left")
    out["credit_household"] = np.asarray(is_credit_household(out["grade"].astype(object), scorer.template_),
                                         dtype=bool)
    if villages is not None:
        out["village_stars"] = village_stars_for(out[["subject_id", "village_code"]], villages).to_numpy()
    return out


def _head_groups(tables: Mapping[str, pd.DataFrame], households: pd.DataFrame) -> pd.DataFrame:
    """Ethnicity and gender of each household's head, for the fairness audit only."""
    persons = tables.get("persons")
    groups = households[["subject_id", "village_code", "township_code"]].copy()
    if persons is None:
        return groups
    heads = persons.loc[persons["relation"] == "head", ["household_id", "ethnicity", "gender"]]
    heads = heads.drop_duplicates("household_id")
    return groups.merge(heads, left_on="subject_id", right_on="household_id", how="left").drop(
        columns=["household_id"])


def count_steps(*, templates: Mapping[str, str | Path] | None = None, registry: Any = None,
                case_book: Any = None) -> int:
    """How many times :func:`run_county` with these arguments calls its ``progress`` callback.

    For a progress bar that knows its total before the run starts (the command line's).
    """
    n_types = len(DEFAULT_TEMPLATES if templates is None else templates)
    return 5 + n_types + (registry is not None) + (case_book is not None)


def run_county(
    tables: Any,
    as_of: Any,
    *,
    registry: Registry | None = None,
    case_book: Any = None,
    templates: Mapping[str, str | Path] | None = None,
    criteria: str | Path | VillageCriteria = "zhaoyang-2014",
    rules: str | Path = "early-warning",
    loan_terms_policy: str | Path = "household-micro-credit",
    eligibility_policy: str | Path = "agri-subsidy",
    recorded_by: str = "system",
    progress: Progress | None = None,
) -> CountyRun:
    """Run a county's credit system on one date.

    Parameters
    ----------
    tables : mapping of table name to DataFrame, or an object with ``.tables`` (a synthetic County)
        Every table of :data:`ruralcredit.schema.TABLES` the steps read (villages, households,
        persons, enterprises, roles, loans, repayments, guarantees, contacts, transactions).
    as_of : date-like
        The date everything is as of; only facts known on it are used.
    registry : Registry, optional
        The blacklist registry: its listings in force on ``as_of`` veto credit grades, count in the
        village ratings and decide subsidy eligibility (with joint punishment through ``roles``).
        Without it nobody is treated as listed and eligibility is not decided.
    case_book : CaseBook, optional
        When given, every warning is recorded and joins or opens a case.
    templates : mapping of subject type to template id or path, optional
        Which subject types to score with which template (default: all five built-ins).
    criteria, rules, loan_terms_policy, eligibility_policy : str or Path
        Policy packs by built-in id or path: credit-village criteria (also a ``VillageCriteria``
        pack), warning rules, loan terms, subsidy eligibility.
    recorded_by : str
        The user recorded on cases opened from warnings.
    progress : callable, optional
        Called with a short message before each step, :func:`count_steps` times in all (the command
        line draws them as a progress bar).

    Returns
    -------
    CountyRun

    Raises
    ------
    SchemaError, PolicyError, InputError, ModelError
        From the step that found the problem (bad tables, a policy not in force on ``as_of``, ...).
    """
    say = progress or _quiet
    day = parse_as_of(as_of)
    if not isinstance(tables, Mapping) and hasattr(tables, "tables"):
        tables = tables.tables
    if not isinstance(tables, Mapping):
        raise InputError(f"expected a mapping of table names to frames, got {type(tables).__name__}",
                         argument="tables")
    chosen = dict(DEFAULT_TEMPLATES if templates is None else templates)
    if "household" not in chosen:
        raise InputError("the household template is required (villages are rated from households)",
                         argument="templates")

    say("validating tables")
    tables = validate_all(tables)

    listed = listed_subjects(tables, registry, day)
    say("scanning for early warnings")
    warnings = scan(tables, rules, day, blacklisted=listed[["subject_id"]] if registry is not None else None)

    features: dict[str, pd.DataFrame] = {}
    scores: dict[str, pd.DataFrame] = {}
    scorers: dict[str, ExpertScorecard] = {}
    for subject_type, template in chosen.items():
        say(f"features and scores: {subject_type}")
        feats = build_features(tables, subject_type, day)
        feats["blacklisted"] = blacklisted_flags(feats, listed).to_numpy()
        scorer = ExpertScorecard(template, as_of=day).fit(feats)
        features[subject_type] = feats
        scores[subject_type] = scorer.score(feats)
        scorers[subject_type] = scorer

    say("rating credit villages, townships and the county")
    hh_scorer = scorers["household"]
    hh_scores = scores["household"]
    # Village vetoes count confirmed matters only: listings in force and confirmed cases, not raw
    # warnings (a warning is a candidate until analysed).
    villages = rate_villages(hh_scores, tables, criteria, day,
                             blacklisted=listed[["subject_id", "category"]] if registry is not None else None,
                             warnings=confirmed_cases(case_book))
    # a pack may rate villages only, or villages and townships: the levels it has no rules for are None
    levels = villages.pack.payload
    townships = rate_townships(villages, tables, criteria, day) if levels.township is not None else None
    county = (rate_counties(townships, tables, criteria, day)
              if townships is not None and levels.county is not None else None)
    households = _household_frame(tables, hh_scores, hh_scorer, villages)

    say("loan terms for credit households")
    terms_pack = load_loan_terms(loan_terms_policy, day)
    terms = loan_terms(hh_scores, features["household"], terms_pack, day,
                       village_stars=households.set_index("subject_id")["village_stars"])

    eligibility = None
    if registry is not None:
        say("subsidy eligibility")
        credit_villages = villages.summary.loc[villages.summary["credit_village"], "village_code"]
        subjects = household_facts(tables, features["household"]).set_index("subject_id").reindex(
            households["subject_id"]).reset_index()
        subjects["grade"] = households["grade"].astype(object).to_numpy()
        subjects["credit_household"] = households["credit_household"].to_numpy()
        subjects["village_is_credit"] = households["village_code"].isin(credit_villages).to_numpy()
        subjects = subjects[["subject_id", "id_number", "grade", "has_npl", "worst_overdue_days_24m",
                             "credit_household", "village_is_credit"]]
        eligibility = check_eligibility(subjects, eligibility_policy, registry, day, roles=tables["roles"],
                                        persons=tables["persons"], enterprises=tables["enterprises"])

    cases = None
    if case_book is not None:
        say("recording warnings in cases")
        if len(warnings):
            cases = case_book.open_cases(warnings, by=recorded_by)

    say("fairness audit of credit-household ratings")
    groups = _head_groups(tables, households)
    fairness = fairness_report(households["credit_household"].to_numpy(),
                               groups.drop(columns=["subject_id"]), seed=0)

    record = {
        "as_of": day.date().isoformat(),
        "templates": {k: {"id": s.template_.id, "version": s.template_.version,
                          "hash": s.template_.policy_hash} for k, s in scorers.items()},
        "village_criteria": villages.pack.describe(),
        "loan_terms": terms_pack.describe(),
        "eligibility": None if eligibility is None else {
            k: eligibility.record[k] for k in ("policy_id", "policy_version", "policy_hash")},
        "warning_rules": None if warnings.empty else {
            "policy_id": warnings["policy_id"].iloc[0], "policy_version": warnings["policy_version"].iloc[0],
            "policy_hash": warnings["policy_hash"].iloc[0]},
        "rows": {name: len(df) for name, df in tables.items()},
        "registry": registry is not None,
        "library_version": _version(),
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    return CountyRun(as_of=day, features=features, scores=scores, households=households, terms=terms,
                     villages=villages, townships=townships, county=county, warnings=warnings, cases=cases,
                     eligibility=eligibility, fairness=fairness, record=record)


def _version() -> str:
    from ruralcredit import __version__

    return __version__
