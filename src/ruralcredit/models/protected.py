"""Protected attributes are never model inputs (DESIGN.md section 8).

Ethnicity (民族), gender and religion exist in the tables only to audit fairness. Every scorer calls
:func:`check_no_protected` on its input columns when it is fitted, and templates refuse them too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from ruralcredit.errors import ModelError
from ruralcredit.schema import protected_columns

__all__ = ["PROTECTED_NAMES", "check_no_protected", "is_protected"]

#: Name stems that mark a protected attribute, in English, pinyin and Chinese.
PROTECTED_NAMES: tuple[str, ...] = (
    "ethnicity", "ethnic", "nation", "minzu", "race", "gender", "sex", "xingbie", "religion", "zongjiao",
    "民族", "性别", "宗教",
)

_STEMS = re.compile("|".join(re.escape(n) for n in PROTECTED_NAMES), re.IGNORECASE)


def is_protected(name: str) -> bool:
    """Whether a column name denotes a protected attribute.

    Matches the schema's protected columns exactly and any name containing a protected stem
    (``head_ethnicity``, ``gender_code``, ``民族``); ``national`` in ``demonstration_level``
    values is not a column name, so it is unaffected.
    """
    declared = {c for cols in protected_columns().values() for c in cols}
    text = str(name)
    if text in declared:
        return True
    # "nation" alone would catch "national_*" names; require it as a whole token.
    for m in _STEMS.finditer(text):
        stem = m.group(0).lower()
        if stem == "nation":
            tokens = re.split(r"[^a-z0-9]+", text.lower())
            if "nation" in tokens or "nationality" in tokens:
                return True
            continue
        if stem == "sex":
            tokens = re.split(r"[^a-z0-9]+", text.lower())
            if "sex" in tokens:
                return True
            continue
        return True
    return False


def check_no_protected(names: Iterable[str], where: str) -> None:
    """Raise :class:`ModelError` if any of ``names`` is a protected attribute.

    Parameters
    ----------
    names : iterable of str
        Input column (feature) names.
    where : str
        What is being fitted or built, for the message (e.g. ``"Scorecard.fit"``).
    """
    bad = sorted({str(n) for n in names if is_protected(str(n))})
    if bad:
        raise ModelError(
            f"{where}: protected attribute(s) {bad} cannot be model inputs; they are kept only to audit "
            "fairness (pass them as `groups` to fairness_report instead)",
            columns=bad,
        )
