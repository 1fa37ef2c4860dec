"""Template vetoes (一票否决), shared by every scorer that is given an indicator template.

A template's vetoes (``payload.vetoes``) override the score: a vetoed subject gets the grade scale's
``veto_grade`` whatever its score (so it is never a credit household), its vetoes are its first
reasons (then the scorer's own, at most ``k`` in all), and the ``vetoes`` column lists their codes.
The score and PD stay the model's. :class:`VetoPlan` holds that logic once, for the expert
scorecard, the statistical scorecard and the GBM scorer alike:

* every veto column must be in a scored frame (an external one such as ``blacklisted`` is supplied
  by the caller from the blacklist registry), and must be boolean;
* a missing value follows the veto's ``if_missing``: ``error`` refuses to score, ``veto`` vetoes,
  ``pass`` does not veto;
* veto columns are never model inputs (:attr:`VetoPlan.features`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ruralcredit.errors import ModelError

_NA: Any = pd.NA


class VetoPlan:
    """The vetoes of a template, applied to a frame or one record.

    Parameters
    ----------
    vetoes : sequence of :class:`~ruralcredit.templates.templates.Veto`
    owner : str
        What reads them, for error messages (e.g. ``"template 'household'"``).
    """

    def __init__(self, vetoes: Sequence[Any], owner: str) -> None:
        self.vetoes = tuple(vetoes)
        self.owner = owner
        self.codes = [v.code for v in self.vetoes]
        self.features = [v.feature for v in self.vetoes]
        self.plan = [(v.code, v.feature, v.if_missing) for v in self.vetoes]
        #: per veto, its reason (code, Chinese text, English text)
        self.texts = [(v.code, f"一票否决：{v.name_zh}", f"veto: {v.name_en}") for v in self.vetoes]
        #: where :attr:`texts` stand in the scorer's reason table (set by :meth:`place_texts`)
        self.text_ids: list[int] = []
        self._text_id: dict[str, int] = {}

    def place_texts(self, first: int) -> None:
        """Record that the scorer's reason table holds :attr:`texts` at ids ``first, first + 1, ...``."""
        self.text_ids = list(range(first, first + len(self.vetoes)))
        self._text_id = dict(zip(self.codes, self.text_ids, strict=True))

    def __len__(self) -> int:
        return len(self.vetoes)

    # -- frames -----------------------------------------------------------------------------------------
    def absent_message(self, absent: Sequence[str]) -> str:
        """The hint for absent columns that the caller must supply (external vetoes), or ``""``."""
        external = {v.feature for v in self.vetoes if v.external} & set(absent)
        if not external:
            return ""
        return (f"; {sorted(external)} must be supplied by the caller (e.g. blacklisted = subject_id in the "
                "blacklist registry at as_of)")

    def check_columns(self, frame: pd.DataFrame) -> None:
        """ModelError when a veto column is absent from ``frame``."""
        absent = [c for c in self.features if c not in frame.columns]
        if absent:
            raise ModelError(f"feature frame lacks veto columns {absent} read by {self.owner}"
                             f"{self.absent_message(absent)}", missing=absent)

    def matrix(self, features: pd.DataFrame, id_column: str = "subject_id") -> np.ndarray:
        """Boolean ``(n, n_vetoes)``: which vetoes apply to which row (``if_missing`` applied)."""
        n = len(features)
        m = np.zeros((n, len(self.vetoes)), dtype=bool)
        for j, v in enumerate(self.vetoes):
            s = features[v.feature]
            if not (pd.api.types.is_bool_dtype(s.dtype)
                    or (s.dtype == object and pd.api.types.infer_dtype(s, skipna=True) in ("boolean", "empty"))):
                raise ModelError(f"veto {v.code!r}: column {v.feature!r} must be boolean, got {s.dtype}")
            na = s.isna().to_numpy(dtype=bool)
            val = s.fillna(False).to_numpy(dtype=bool) if na.any() else s.to_numpy(dtype=bool)
            if na.any():
                if v.if_missing == "error":
                    keys = features[id_column][na].head(20).tolist() if id_column in features else []
                    raise ModelError(f"veto {v.code!r}: {int(na.sum())} subject(s) with {v.feature!r} unknown; "
                                     f"the template requires it (first: {keys})")
                if v.if_missing == "veto":
                    val = val | na
            m[:, j] = val
        return m

    def joined(self, matrix: np.ndarray) -> pd.Categorical:
        """The ``vetoes`` column: per row the codes that apply, comma-joined (``""`` when none)."""
        return joined(matrix, self.codes)

    def prepend(self, matrix: np.ndarray, text_id: np.ndarray) -> np.ndarray:
        """``text_id`` (``(n, k)`` reason text ids) with each vetoed row's veto texts first.

        The row's own reasons shift right and the last ones drop off so that ``k`` stay (the veto
        texts' ids come from :meth:`place_texts`).
        """
        veto_text_ids = self.text_ids
        if not matrix.shape[1] or not matrix.any():
            return text_id
        k = text_id.shape[1]
        out = text_id.copy()
        # vetoed rows are few: group them by their veto pattern and shift each group at once
        weights = 1 << np.arange(matrix.shape[1], dtype="int64")
        pattern = matrix.astype("int64") @ weights
        for pat in np.unique(pattern[pattern > 0]).tolist():
            rows = np.flatnonzero(pattern == pat)
            hit = [veto_text_ids[b] for b in range(matrix.shape[1]) if pat >> b & 1][:k]
            h = len(hit)
            out[np.ix_(rows, range(h, k))] = text_id[np.ix_(rows, range(k - h))]
            out[rows, :h] = hit
        return out

    # -- one record -------------------------------------------------------------------------------------
    def prepend_record(self, hits: Sequence[str], ids: list[int], k: int) -> list[int]:
        """One record's reason text ids with its vetoes (``hits``) first, ``k`` in all."""
        return ([self._text_id[h] for h in hits] + ids)[:k] if hits else ids

    def record_hits(self, record: Mapping[str, Any]) -> list[str]:
        """The codes of the vetoes that apply to one record (pure Python; ``if_missing`` applied)."""
        hits = []
        get = record.get
        for code, feature, if_missing in self.plan:
            x = get(feature)
            if x is True or x is False or isinstance(x, np.bool_):
                if x:
                    hits.append(code)
            elif x is None or x is _NA or (isinstance(x, float) and math.isnan(x)):
                if if_missing == "error":
                    raise ModelError(f"veto {code!r}: {feature!r} is unknown; the template requires it")
                if if_missing == "veto":
                    hits.append(code)
            else:
                raise ModelError(f"veto {code!r}: {feature!r} must be a bool, got {type(x).__name__}")
        return hits


def template_vetoes(template: Any) -> tuple[Any, ...] | None:
    """The vetoes of an indicator :class:`~ruralcredit.templates.Template`, or ``None`` for anything
    else (no template, a mapping of reason texts)."""
    from ruralcredit.templates import Template

    if isinstance(template, Template):
        return tuple(template.payload.vetoes)
    return None


def vetoes_from_json(data: Any) -> tuple[Any, ...] | None:
    """Vetoes stored by :func:`vetoes_to_json` (``None`` stays ``None``)."""
    if data is None:
        return None
    from ruralcredit.templates.templates import Veto

    return tuple(Veto.model_validate(v) for v in data)


def vetoes_to_json(vetoes: Sequence[Any] | None) -> list[dict[str, Any]] | None:
    """Vetoes as JSON-able data (for model files)."""
    return None if vetoes is None else [v.model_dump(mode="json") for v in vetoes]


def joined(mask: np.ndarray, names: list[str]) -> pd.Categorical:
    """Per row, the names whose column in ``mask`` is True, comma-joined (``""`` when none).

    Rows are grouped by their pattern (a bitmask), so each distinct string is built once; the result
    is a categorical over those strings.
    """
    n, p = mask.shape
    if p == 0:
        return pd.Categorical.from_codes(np.zeros(n, dtype="int8"), categories=pd.Index([""], dtype="str"))
    if p > 62:  # pragma: no cover - templates are far smaller; keep the bitmask exact
        texts = pd.Series([",".join(np.asarray(names)[r]) for r in mask], dtype="str")
        return pd.Categorical(texts)
    pattern = mask.astype("int64") @ (1 << np.arange(p, dtype="int64"))
    uniq, inverse = np.unique(pattern, return_inverse=True)
    texts = [",".join(_set_bits(u, names)) for u in uniq.tolist()]
    return pd.Categorical.from_codes(inverse.reshape(-1), categories=pd.Index(texts, dtype="str"))


def _set_bits(u: int, names: list[str]) -> list[str]:
    """``names[b]`` for each set bit ``b`` of ``u``, lowest first (iterates set bits only)."""
    out = []
    while u:
        low = u & -u
        out.append(names[low.bit_length() - 1])
        u ^= low
    return out
