"""One scorer protocol: what ratings, eligibility, services and the command line may rely on.

The expert scorecard (:class:`~ruralcredit.models.ExpertScorecard`), the statistical scorecard
(:class:`~ruralcredit.models.Scorecard`) and the gradient-boosted scorer
(:class:`~ruralcredit.models.GbmScorer`) are interchangeable wherever "a scorer" is taken. A
scorer

* **scores a frame**: ``score(features) -> DataFrame`` with one row per input row, in the input's
  order, and the shared columns :data:`SCORE_COLUMNS`::

      subject_id, score, pd, grade, reason_1..3, reason_1_zh..reason_3_zh, reason_1_en..reason_3_en

  plus identity columns: ``scorer_id`` and ``scorer_version``, or, for a scorer that *is* a
  template, ``template_id`` and ``template_version`` (:data:`IDENTITY_COLUMNS`). ``score`` is a
  finite number (higher = safer); ``pd`` a probability of default in [0, 1], or NaN for every row
  when the scorer has none (the expert scorecard); ``grade`` a grade of the scorer's grade scale
  (or its veto grade), never missing; a reason is a code with Chinese and English texts, ``""``
  where fewer reasons apply (never missing), and a non-empty code always has non-empty texts;
* **scores one record**: ``score_record(record: dict) -> dict`` with the same keys and values as
  that subject's row of ``score`` (the single-record path of a service: no pandas);
* **names its inputs**: ``input_columns_`` (a template's inputs, veto flags included) or
  ``feature_names_in_`` (scikit-learn's fitted attribute), read by :func:`required_features`;
* **persists**: ``to_dict()`` and the classmethod ``from_dict()``, so that
  :func:`ruralcredit.models.save` writes a checksummed JSON model file with metadata and
  :func:`ruralcredit.models.load` rebuilds a scorer that scores identically.

:class:`Scorer` is the :class:`typing.Protocol` (``isinstance`` checks the methods only);
:func:`check_scorer` checks the behaviour on a sample frame and is what tests, and anything that
accepts "a scorer" from outside, should call.
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
import pandas as pd

from ruralcredit.errors import InputError, ModelError
from ruralcredit.models.protected import check_no_protected

__all__ = ["IDENTITY_COLUMNS", "SCORE_COLUMNS", "Scorer", "check_scorer", "required_features", "scorer_grade_scale"]

#: Reasons per subject in the shared frame.
N_REASONS = 3
#: The columns every scorer's score frame has.
SCORE_COLUMNS: tuple[str, ...] = (
    "subject_id", "score", "pd", "grade",
    *(f"reason_{k}" for k in range(1, N_REASONS + 1)),
    *(f"reason_{k}_zh" for k in range(1, N_REASONS + 1)),
    *(f"reason_{k}_en" for k in range(1, N_REASONS + 1)),
)
#: Either pair identifies what scored a row.
IDENTITY_COLUMNS: tuple[tuple[str, str], ...] = (("scorer_id", "scorer_version"), ("template_id", "template_version"))

_TEXT_COLUMNS = tuple(c for c in SCORE_COLUMNS if c.startswith("reason_"))
_SCORE_TOL = 1e-9
_PD_TOL = 1e-12


@runtime_checkable
class Scorer(Protocol):
    """What every scorer implements (see the module docstring for the behaviour behind it)."""

    def score(self, features: pd.DataFrame) -> pd.DataFrame:
        """The shared score frame, one row per row of ``features``, in order."""
        ...

    def score_record(self, record: Mapping[str, Any]) -> dict[str, Any]:
        """One subject's row of :meth:`score`, from a plain dict."""
        ...

    def to_dict(self) -> dict[str, Any]:
        """The fitted scorer as JSON-able values."""
        ...

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Any:
        """Rebuild a scorer from :meth:`to_dict` output."""
        ...


def required_features(scorer: Any) -> list[str]:
    """The columns a scorer reads (besides ``subject_id``).

    ``input_columns_`` when the scorer has it (a template's indicator features and veto flags; a
    statistical scorecard's or GBM's fitted features and its template's veto columns), else ``feature_names_in_`` less the scorer's ``id_column``.

    Raises
    ------
    ModelError
        The scorer names no inputs (unfitted, or not a scorer).
    """
    for attr in ("input_columns_", "feature_names_in_"):
        value = getattr(scorer, attr, None)
        if value is not None:
            id_col = getattr(scorer, "id_column", "subject_id")
            names = [str(v) for v in value if str(v) != id_col]
            if names:
                return names
    raise ModelError(f"{type(scorer).__name__} names no input columns (input_columns_ or feature_names_in_); "
                     "is it fitted?")


def scorer_grade_scale(scorer: Any) -> Any:
    """The scorer's :class:`~ruralcredit.templates.GradeScale` (fitted ``grade_scale_`` or the
    ``grade_scale`` parameter), or ``None`` when it has none."""
    from ruralcredit.templates import GradeScale, GradeScalePack

    for attr in ("grade_scale_", "grade_scale"):
        value = getattr(scorer, attr, None)
        if isinstance(value, GradeScale):
            return value
        if isinstance(value, GradeScalePack):
            return value.payload
    return None


def _same(a: Any, b: Any, key: str) -> bool:
    """Whether a record value equals the frame's value (numbers to rounding, NaN equal to NaN)."""
    if key in ("score", "pd"):
        try:
            fa, fb = float(a), float(b)
        except (TypeError, ValueError):
            return False
        if math.isnan(fa) or math.isnan(fb):
            return math.isnan(fa) and math.isnan(fb)
        return abs(fa - fb) <= (_SCORE_TOL if key == "score" else _PD_TOL) * max(1.0, abs(fb))
    if key == "subject_id":
        return str(a) == str(b)
    return a == b


def _text(values: pd.Series) -> np.ndarray:
    """A column as an object array of its values (categoricals decoded)."""
    return values.astype(object).to_numpy()


def _check_frame(out: Any, sample: pd.DataFrame, scale: Any, problems: list[str]) -> pd.DataFrame | None:
    if not isinstance(out, pd.DataFrame):
        problems.append(f"score() returned {type(out).__name__}, not a DataFrame")
        return None
    missing = [c for c in SCORE_COLUMNS if c not in out.columns]
    if missing:
        problems.append(f"score frame lacks columns {missing}")
    if not any(a in out.columns and b in out.columns for a, b in IDENTITY_COLUMNS):
        problems.append(f"score frame has no identity columns (one of {list(IDENTITY_COLUMNS)})")
    if len(out) != len(sample):
        problems.append(f"score frame has {len(out)} rows for {len(sample)} input rows")
        return None
    if "subject_id" in out.columns:
        got = [str(v) for v in _text(out["subject_id"])]
        want = [str(v) for v in _text(sample["subject_id"])]
        if got != want:
            problems.append("subject_id differs from the input's (order or values)")
    if "score" in out.columns:
        s = pd.to_numeric(out["score"], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
        if not np.isfinite(s).all():
            problems.append("score has missing, infinite or non-numeric values")
    if "pd" in out.columns:
        p = pd.to_numeric(out["pd"], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
        nan = np.isnan(p)
        if nan.any() and not nan.all():
            problems.append("pd is missing for some rows only (NaN is allowed for every row or none)")
        if ((p[~nan] < 0) | (p[~nan] > 1)).any():
            problems.append("pd outside [0, 1]")
    if "grade" in out.columns:
        g = pd.Series(_text(out["grade"]))
        if g.isna().any() or not g.map(lambda v: isinstance(v, str) and v != "").all():
            problems.append("grade is missing or not text for some rows (a scorer must grade every subject)")
        elif scale is not None:
            allowed = {*scale.grade_names, scale.veto_grade}
            off = sorted(set(g) - allowed)
            if off:
                problems.append(f"grades {off[:5]} are not on the scorer's grade scale {sorted(allowed)}")
    present = [c for c in _TEXT_COLUMNS if c in out.columns]
    for c in present:
        v = pd.Series(_text(out[c]))
        if v.isna().any() or not v.map(lambda x: isinstance(x, str)).all():
            problems.append(f"{c} has missing or non-text values (use '' where there is no reason)")
    for k in range(1, N_REASONS + 1):
        cols = [f"reason_{k}", f"reason_{k}_zh", f"reason_{k}_en"]
        if all(c in out.columns for c in cols):
            code = pd.Series(_text(out[cols[0]])).fillna("")
            for t in cols[1:]:
                txt = pd.Series(_text(out[t])).fillna("")
                if ((code != "") & (txt == "")).any():
                    problems.append(f"{t} is empty where reason_{k} has a code")
    return out


def check_scorer(scorer: Any, sample_frame: pd.DataFrame, *, n_records: int = 5,
                 check_persistence: bool = True) -> None:
    """Check that a fitted scorer keeps the scorer protocol on a sample frame.

    Checks, collecting every failure before raising: the :class:`Scorer` methods; the inputs it
    names (none protected, all in the sample); the score frame (columns, identity columns, one row
    per input row in order, finite scores, PDs in [0, 1] or NaN throughout, grades on its scale,
    reasons as text with ``""`` for none and texts for every code); that the frame does not depend
    on the row order; that :meth:`score_record` on the first ``n_records`` rows returns the same
    keys and values as their rows; and, with ``check_persistence``, that
    :func:`~ruralcredit.models.save` / :func:`~ruralcredit.models.load` round-trip it (checksummed
    metadata naming its class; the reloaded scorer's frame equal to the original's).

    Parameters
    ----------
    scorer : object
        A fitted scorer.
    sample_frame : DataFrame
        ``subject_id`` (unique) and the columns the scorer reads; a few dozen rows suffice.
    n_records : int
        Rows checked through :meth:`score_record`.
    check_persistence : bool
        Also save and load it (in a temporary directory).

    Raises
    ------
    InputError
        ``sample_frame`` is not a DataFrame with a unique ``subject_id`` and at least one row.
    ModelError
        The scorer does not conform; ``details["problems"]`` lists every failure.
    """
    if not isinstance(sample_frame, pd.DataFrame) or "subject_id" not in sample_frame.columns:
        raise InputError("must be a DataFrame with a subject_id column", argument="sample_frame")
    if sample_frame.empty or not sample_frame["subject_id"].is_unique:
        raise InputError("needs at least one row and unique subject_id values", argument="sample_frame")
    name = type(scorer).__name__
    problems: list[str] = []
    if not isinstance(scorer, Scorer):
        absent = [m for m in ("score", "score_record", "to_dict", "from_dict") if not hasattr(scorer, m)]
        raise ModelError(f"{name} is not a scorer: it lacks {absent}", problems=[f"lacks {absent}"])
    try:
        feats = required_features(scorer)
        check_no_protected(feats, f"{name} inputs")
        absent = [c for c in feats if c not in sample_frame.columns]
        if absent:
            raise InputError(f"lacks columns {absent} that {name} reads", argument="sample_frame")
    except ModelError as exc:
        problems.append(str(exc))
    scale = scorer_grade_scale(scorer)
    if scale is None:
        problems.append("no grade scale (grade_scale_ or grade_scale)")

    try:
        first = scorer.score(sample_frame)
    except Exception as exc:  # a scorer that cannot score the sample does not conform; say why
        problems.append(f"score() raised {type(exc).__name__}: {exc}")
        first = None
    out = None if first is None else _check_frame(first, sample_frame, scale, problems)
    if out is not None:
        columns = [c for c in out.columns if c in SCORE_COLUMNS]
        base = out.assign(subject_id=out["subject_id"].astype(str)).set_index("subject_id")
        try:
            rev = scorer.score(sample_frame.iloc[::-1])
        except Exception as exc:  # reported
            problems.append(f"score() raised {type(exc).__name__} on the reversed sample: {exc}")
            rev = None
        if isinstance(rev, pd.DataFrame) and "subject_id" in rev.columns:
            rev = rev.assign(subject_id=rev["subject_id"].astype(str)).set_index("subject_id").loc[base.index]
            for c in (c for c in columns if c != "subject_id"):
                a, b = _text(base[c]), _text(rev[c])
                if not all(_same(x, y, c) for x, y in zip(a, b, strict=True)):
                    problems.append(f"{c} changes with the row order of the input")

        rows = out.head(n_records).to_dict("records")
        for rec, row in zip(sample_frame.head(n_records).to_dict("records"), rows, strict=True):
            try:
                one = scorer.score_record(rec)
            except Exception as exc:  # report, do not stop: the other checks still run
                problems.append(f"score_record raised {type(exc).__name__}: {exc}")
                break
            if not isinstance(one, dict):
                problems.append(f"score_record returned {type(one).__name__}, not a dict")
                break
            lacking = [c for c in out.columns if c not in one]
            if lacking:
                problems.append(f"score_record lacks keys {lacking} of the score frame")
            wrong = [c for c in out.columns if c in one and not _same(one[c], row[c], c)]
            if wrong:
                problems.append(f"score_record differs from the score frame in {wrong} "
                                f"(subject {row.get('subject_id')!s})")
            if lacking or wrong:
                break

        if check_persistence:
            _check_round_trip(scorer, sample_frame, out, problems)
    if problems:
        raise ModelError(f"{name} does not keep the scorer protocol: " + "; ".join(problems), problems=problems)


def _check_round_trip(scorer: Any, sample: pd.DataFrame, out: pd.DataFrame, problems: list[str]) -> None:
    from ruralcredit.models.persistence import load, read_metadata, save

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "scorer.rcmodel.json"
        try:
            save(scorer, path)
            meta = read_metadata(path)
            loaded = load(path, allow_pickle=False)
        except Exception as exc:  # any failure to persist is a conformance problem
            problems.append(f"save/load failed: {type(exc).__name__}: {exc}")
            return
    if meta.get("payload_encoding") != "json":
        problems.append("saved as a pickle, not JSON (to_dict/from_dict)")
    if type(loaded) is not type(scorer):
        problems.append(f"load rebuilt a {type(loaded).__name__}")
        return
    try:
        again = loaded.score(sample)
    except Exception as exc:  # reported
        problems.append(f"the reloaded scorer cannot score: {type(exc).__name__}: {exc}")
        return
    if not isinstance(again, pd.DataFrame) or list(again.columns) != list(out.columns) or len(again) != len(out):
        problems.append("the reloaded scorer's frame has other columns or rows")
        return
    for c in out.columns:
        a, b = _text(out[c]), _text(again[c])
        if not all(_same(x, y, c) if c in ("score", "pd") else (x == y or (pd.isna(x) and pd.isna(y)))
                   for x, y in zip(a, b, strict=True)):
            problems.append(f"the reloaded scorer gives another {c}")
