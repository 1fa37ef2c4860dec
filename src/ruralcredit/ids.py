"""Identifier codes: resident ID numbers, unified social credit codes, division codes; masking, pseudonyms.

Layer 0 of ruralcredit: it imports only the standard library, numpy, pandas and :mod:`ruralcredit.errors`.

What it covers
--------------
- **Resident ID numbers** (居民身份证号码, GB 11643-1999, check character ISO 7064 MOD 11-2): validate,
  normalise (strip, ``x`` -> ``X``, upgrade 15-digit legacy numbers), parse (address code, birth date,
  sequence, gender), reject impossible or future birth dates. The address code is *not* looked up in a
  division table: codes are abolished over time and old numbers stay valid.
- **Unified social credit codes** (统一社会信用代码, USCC, GB 32100-2015, check character MOD 31): validate,
  normalise, parse (registering authority, category, division, organisation code), optionally verify the
  organisation code's own GB 11714 check character. ``N``-, ``A``- and ``Y``-prefixed codes (village
  collective economic organisations are ``N2...``) are accepted.
- **Administrative division codes** (行政区划代码, GB/T 2260 and the 12-digit statistical codes): level,
  parts, enclosing codes, range-based kinds and types, the optional urban-rural class.
- **Masking** (:func:`mask_resident_id`) for everything a person reads, and keyed **HMAC-SHA256 pseudonyms**
  (:func:`pseudonymize`) so institutions can match records without exchanging raw numbers.
- **Vectorised batch forms** over pandas Series (``validate_resident_ids``, ``normalize_resident_ids``, ...):
  numpy arithmetic on a fixed-width code-point matrix, no Python loop per record.
- **Generators** (:func:`make_resident_id`, :func:`make_resident_ids`, :func:`make_uscc`,
  :func:`make_usccs`) that compute the check characters, for synthetic data.

Error-detection guarantees (proved in ``docs/ids.md`` and tested in ``tests/test_ids.py``)
-----------------------------------------------------------------------------------------
- Resident ID, MOD 11-2: every single-character substitution and every transposition of two *adjacent*
  characters is caught; more generally any transposition of two characters except those exactly 10
  positions apart (weights ``2^k mod 11`` repeat with period 10).
- USCC, MOD 31: every single-character substitution and every adjacent transposition is caught; any
  transposition of two characters except positions 1 and 18 (both have weight 1).

Every invalid input raises :class:`~ruralcredit.errors.IdentifierError` (``kind``, masked ``value``,
``reason``); resident ID numbers never appear unmasked in a message or a repr.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

import numpy as np
import pandas as pd

from ruralcredit.errors import IdentifierError, RuralCreditError

__all__ = [
    "DivisionCode",
    "ResidentId",
    "Uscc",
    "is_division_code",
    "is_resident_id",
    "is_uscc",
    "make_resident_id",
    "make_resident_ids",
    "make_uscc",
    "make_usccs",
    "mask_ids_in_text",
    "mask_resident_id",
    "mask_resident_ids",
    "normalize_resident_id",
    "normalize_resident_ids",
    "normalize_uscc",
    "normalize_usccs",
    "parse_division_code",
    "parse_resident_id",
    "parse_uscc",
    "pseudonymize",
    "pseudonymize_series",
    "resident_id_birth_dates",
    "resident_id_genders",
    "validate_resident_ids",
    "validate_usccs",
]

# ---------------------------------------------------------------------------------------------------------
# Constants (all from GB 11643-1999, GB 32100-2015, GB 11714, GB/T 2260; see DOMAIN.md section 1)
# ---------------------------------------------------------------------------------------------------------

#: Weights of positions 1..17 of a resident ID number: 2^(18-i) mod 11.
_RID_WEIGHTS_PY = tuple(pow(2, 17 - i, 11) for i in range(17))
_RID_WEIGHTS = np.array(_RID_WEIGHTS_PY, dtype=np.int64)
#: Check character indexed by (weighted sum mod 11).
_RID_CHECK = "10X98765432"
#: The same as values 0..10 (X = 10), for vectorised comparison.
_RID_CHECK_VALUES = np.array([10 if c == "X" else int(c) for c in _RID_CHECK], dtype=np.int64)
#: Character of a check value (0..9, 10 = X).
_RID_VALUE_CHARS = np.array(list("0123456789X"), dtype=object)
#: 17 digits @ this (17, 4) matrix = (weighted check sum, birth year, month, day).
_RID_COMBINED = np.zeros((17, 4), dtype=np.float32)
_RID_COMBINED[:, 0] = _RID_WEIGHTS
_RID_COMBINED[6:10, 1] = (1000, 100, 10, 1)
_RID_COMBINED[10:12, 2] = (10, 1)
_RID_COMBINED[12:14, 3] = (10, 1)

#: The 31 symbols of a USCC, in value order (no I, O, Z, S, V).
_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_VALUE = {c: i for i, c in enumerate(_USCC_ALPHABET)}
#: Weights of positions 1..17 of a USCC: 3^(i-1) mod 31.
_USCC_WEIGHTS_PY = tuple(pow(3, i, 31) for i in range(17))
_USCC_WEIGHTS = np.array(_USCC_WEIGHTS_PY, dtype=np.int64)
#: GB 11714 organisation-code weights over its first 8 characters.
_ORG_WEIGHTS_PY = (3, 7, 9, 10, 5, 8, 4, 2)
_ORG_WEIGHTS = np.array(_ORG_WEIGHTS_PY, dtype=np.int64)

_DIGITS = frozenset("0123456789")
#: Whitespace stripped from around identifiers: ASCII whitespace, no-break space, ideographic space.
#: An explicit set, so that the scalar and the vectorised paths strip exactly the same characters.
_STRIP = " \t\n\r\x0b\x0c\u00a0\u3000"
#: ASCII-only uppercasing (str.upper would turn e.g. the ligature "\ufb00" into "FF").
_ASCII_UPPER = str.maketrans("abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ")

#: Registering authorities (position 1) with English names.
_USCC_AUTHORITIES: dict[str, str] = {
    "1": "organisation establishment",
    "2": "foreign affairs",
    "3": "justice administration",
    "4": "culture",
    "5": "civil affairs",
    "6": "tourism",
    "7": "religious affairs",
    "8": "trade unions",
    "9": "industry and commerce",
    "A": "military reform and establishment office",
    "N": "agriculture",
    "Y": "other",
}
#: Organisation categories (positions 1-2) named in DOMAIN.md; other digit categories are accepted unnamed.
_USCC_CATEGORIES: dict[str, str] = {
    "11": "organ",
    "12": "public institution",
    "51": "social group",
    "52": "private non-enterprise unit",
    "53": "foundation",
    "91": "enterprise",
    "92": "individual business",
    "93": "farmers' professional cooperative",
    "N1": "group-level collective economic organisation",
    "N2": "village-level collective economic organisation",
    "N3": "township-level collective economic organisation",
    "N9": "other agricultural organisation",
}

#: Urban-rural classification codes (统计用城乡划分代码) of village-level units.
_URBAN_RURAL_CLASSES: dict[str, str] = {
    "111": "main urban area",
    "112": "urban-rural fringe",
    "121": "town centre",
    "122": "town-rural fringe",
    "123": "special area",
    "210": "township centre",
    "220": "village",
}

DivisionLevel = Literal["province", "prefecture", "county", "township", "village"]
_LEVELS: tuple[str, ...] = ("province", "prefecture", "county", "township", "village")
#: Code length -> number of parts it carries (2-digit and 4-digit prefixes are accepted too).
_DIVISION_LENGTHS = {2: 1, 4: 2, 6: 3, 9: 4, 12: 5}
_PART_SLICES = ((0, 2), (2, 4), (4, 6), (6, 9), (9, 12))

_DAYS_IN_MONTH = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int32)

#: Rows per chunk in the vectorised paths: bounds temporary memory (~40 MB) without a per-record loop.
_CHUNK = 1 << 18

_PSEUDONYM_TAG = b"ruralcredit.pseudonym.v1"
_MIN_KEY_BYTES = 16

#: How many offending rows a batch error names.
_MAX_SHOWN = 20

# ---------------------------------------------------------------------------------------------------------
# Masking
# ---------------------------------------------------------------------------------------------------------


def _is_missing(value: object) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, (float, np.floating)) and bool(np.isnan(value))


def _mask_text(text: str) -> str:
    text = text.strip(_STRIP)
    n = len(text)
    if n >= 15:
        return text[:6] + "*" * (n - 10) + text[-4:]
    return "*" * n


def mask_resident_id(value: object) -> str:
    """Mask a resident ID number for display: keep the first 6 and the last 4 characters.

    ``"53010219900101123X"`` becomes ``"530102********123X"``. Works on anything: invalid numbers are
    masked the same way and never shown raw; strings shorter than 15 characters are masked entirely;
    ``bytes`` are decoded, other objects go through ``str``; a missing value (None, NaN, NA) gives ``""``.

    Parameters
    ----------
    value : object
        Usually a str holding a resident ID number (valid or not).

    Returns
    -------
    str
        The masked text (surrounding whitespace removed).

    Examples
    --------
    >>> mask_resident_id("11010519491231002X")
    '110105********002X'
    >>> mask_resident_id("12345")
    '*****'
    """
    if _is_missing(value):
        return ""
    if isinstance(value, (bytes, bytearray)):
        text = bytes(value).decode("utf-8", "replace")
    else:
        text = value if isinstance(value, str) else str(value)
    return _mask_text(text)


def _looks_like_resident_id(text: str) -> bool:
    """Broadly: 14-20 characters, nearly all digits (any script). Such text is masked in messages."""
    t = text.strip(_STRIP)
    return 14 <= len(t) <= 20 and sum(c.isdigit() for c in t) >= len(t) - 3


def _display(value: object, *, mask: bool = False) -> str:
    """Text of a bad value safe for a message: masked if ``mask`` or if it could be a resident ID number."""
    if _is_missing(value):
        return "<missing>"
    if not isinstance(value, str):
        return f"<{type(value).__name__}>"
    if mask or _looks_like_resident_id(value):
        return repr(_mask_text(value))
    shown = value if len(value) <= 40 else value[:37] + "..."
    return repr(shown)


# ---------------------------------------------------------------------------------------------------------
# Resident ID numbers: scalar
# ---------------------------------------------------------------------------------------------------------

Gender = Literal["male", "female"]


@dataclass(frozen=True, repr=False)
class ResidentId:
    """A parsed resident ID number (GB 11643-1999).

    Attributes
    ----------
    number : str
        The normalised 18-character number (uppercase ``X``; legacy numbers upgraded).
    address_code : str
        Positions 1-6: the division code of the registered residence when the number was issued (it
        may have been abolished since; it is not checked against any table).
    birth_date : datetime.date
        Positions 7-14.
    sequence : str
        Positions 15-17 (three digits, leading zeros kept).
    gender : {"male", "female"}
        ``"male"`` if the sequence is odd, else ``"female"``.
    is_foreign_permanent : bool
        True for foreigners' permanent-residence ID numbers (2023 format, leading ``9``).
    legacy : bool
        True if the input was a 15-digit legacy number.

    Notes
    -----
    The repr shows only the masked number.
    """

    number: str
    address_code: str
    birth_date: date
    sequence: str
    gender: Gender
    is_foreign_permanent: bool
    legacy: bool

    def __repr__(self) -> str:
        return f"ResidentId({mask_resident_id(self.number)!r}, legacy={self.legacy})"


def _today_int(today: date | None) -> tuple[date, int]:
    if today is None:
        today = date.today()
    elif isinstance(today, datetime):  # a datetime (or pandas Timestamp) does not compare with a date
        today = today.date()
    elif not isinstance(today, date):
        raise RuralCreditError(
            f"today must be a datetime.date, got {type(today).__name__}", parameter="today"
        )
    return today, today.year * 10000 + today.month * 100 + today.day


def _rid_error(reason: str, detail: str, value: object) -> IdentifierError:
    shown = _display(value) if not isinstance(value, str) else repr(_mask_text(value))
    return IdentifierError(
        f"invalid resident ID number {shown}: {detail}",
        kind="resident_id",
        value=mask_resident_id(value) if isinstance(value, str) else shown,
        reason=reason,
    )


def _rid_check_char(first17: str) -> str:
    total = sum(int(c) * w for c, w in zip(first17, _RID_WEIGHTS_PY, strict=True))
    return _RID_CHECK[total % 11]


def _normalize_rid(value: object, today: date | None, strict: bool) -> tuple[str, bool]:
    """Return (normalised number, was legacy) or raise IdentifierError. The one scalar rule set."""
    if not isinstance(value, str):
        raise _rid_error("type", f"expected a str, got {type(value).__name__}", value)
    text = value if strict else value.strip(_STRIP)
    n = len(text)
    legacy = n == 15 and not strict
    if n != 18 and not legacy:
        allowed = "18 characters" if strict else "18 characters (or 15 digits for a legacy number)"
        raise _rid_error("length", f"has {n} characters, expected {allowed}", value)
    if legacy:
        if not all(c in _DIGITS for c in text):
            raise _rid_error("characters", "a legacy 15-character number must be all digits", value)
        first17 = text[:6] + "19" + text[6:]
        number = first17 + _rid_check_char(first17)
    else:
        last_ok = text[17] in _DIGITS or text[17] == "X" or (text[17] == "x" and not strict)
        if not (all(c in _DIGITS for c in text[:17]) and last_ok):
            expected = "'X'" if strict else "'X' or 'x'"
            raise _rid_error(
                "characters", f"positions 1-17 must be digits and position 18 a digit or {expected}", value
            )
        number = text[:17] + text[17].upper()
        if _rid_check_char(number[:17]) != number[17]:
            raise _rid_error("check", "the check character does not match (ISO 7064 MOD 11-2)", value)
    year, month, day = int(number[6:10]), int(number[10:12]), int(number[12:14])
    try:
        born = date(year, month, day)
    except ValueError:
        raise _rid_error(
            "birth_date", "the birth date (positions 7-14) is not a real calendar date", value
        ) from None
    today, _ = _today_int(today)
    if born > today:
        raise _rid_error(
            "future_birth_date", f"the birth date (positions 7-14) is after {today.isoformat()}", value
        )
    return number, legacy


def is_resident_id(value: object, *, today: date | None = None, strict: bool = False) -> bool:
    """Tell whether ``value`` is a valid resident ID number.

    Parameters
    ----------
    value : object
        Candidate; anything that is not a ``str`` is not a resident ID number.
    today : datetime.date, optional
        Birth dates after this day are invalid. Default: ``date.today()``.
    strict : bool, default False
        If False, accept what :func:`normalize_resident_id` accepts (surrounding whitespace, lowercase
        ``x``, 15-digit legacy numbers). If True, accept only the canonical 18-character form.

    Returns
    -------
    bool
    """
    try:
        _normalize_rid(value, today, strict)
    except IdentifierError:
        return False
    return True


def normalize_resident_id(value: object, *, today: date | None = None) -> str:
    """Validate a resident ID number and return its canonical 18-character form.

    Strips surrounding whitespace, turns a lowercase ``x`` into ``X`` and upgrades a 15-digit legacy
    number (``YYMMDD`` birth date) by inserting ``19`` after the address code and appending the check
    character.

    Parameters
    ----------
    value : str
        The number.
    today : datetime.date, optional
        Birth dates after this day are rejected. Default: ``date.today()``.

    Returns
    -------
    str
        The canonical number.

    Raises
    ------
    IdentifierError
        ``kind="resident_id"``; ``reason`` is one of ``"type"`` (not a str), ``"length"``,
        ``"characters"``, ``"check"``, ``"birth_date"`` (not a real date), ``"future_birth_date"``. The
        message and ``value`` carry the masked number only.

    Examples
    --------
    >>> normalize_resident_id(" 11010519491231002x ")
    '11010519491231002X'
    >>> normalize_resident_id("110105491231002")
    '11010519491231002X'
    """
    return _normalize_rid(value, today, False)[0]


def parse_resident_id(value: object, *, today: date | None = None) -> ResidentId:
    """Validate, normalise and split a resident ID number.

    Parameters
    ----------
    value : str
        The number (anything :func:`normalize_resident_id` accepts).
    today : datetime.date, optional
        Birth dates after this day are rejected. Default: ``date.today()``.

    Returns
    -------
    ResidentId

    Raises
    ------
    IdentifierError
        As :func:`normalize_resident_id`.

    Examples
    --------
    >>> rid = parse_resident_id("440524188001010014")
    >>> rid.birth_date, rid.gender, rid.address_code
    (datetime.date(1880, 1, 1), 'male', '440524')
    """
    number, legacy = _normalize_rid(value, today, False)
    sequence = number[14:17]
    return ResidentId(
        number=number,
        address_code=number[:6],
        birth_date=date(int(number[6:10]), int(number[10:12]), int(number[12:14])),
        sequence=sequence,
        gender="male" if int(sequence) % 2 == 1 else "female",
        is_foreign_permanent=number[0] == "9",
        legacy=legacy,
    )


def make_resident_id(address_code: str, birth_date: date, sequence: int) -> str:
    """Build a resident ID number with its check character (for synthetic data and tests).

    Parameters
    ----------
    address_code : str
        Six digits.
    birth_date : datetime.date
        The birth date (not checked against today: a caller may build numbers for any date).
    sequence : int
        0..999; odd for a man, even for a woman.

    Returns
    -------
    str
        The 18-character number.

    Raises
    ------
    IdentifierError
        ``reason="address_code"``, ``"birth_date"`` or ``"sequence"`` for bad parts.

    Examples
    --------
    >>> from datetime import date
    >>> make_resident_id("110105", date(1949, 12, 31), 2)
    '11010519491231002X'
    """
    if not (isinstance(address_code, str) and len(address_code) == 6 and set(address_code) <= _DIGITS):
        raise IdentifierError(
            f"address code must be a str of 6 digits, got {_display(address_code)}",
            kind="resident_id",
            value="",
            reason="address_code",
        )
    if not isinstance(birth_date, date):
        raise IdentifierError(
            f"birth_date must be a datetime.date, got {type(birth_date).__name__}",
            kind="resident_id",
            reason="birth_date",
        )
    if isinstance(sequence, bool) or not isinstance(sequence, (int, np.integer)) or not 0 <= sequence <= 999:
        raise IdentifierError(
            f"sequence must be an int in 0..999, got {sequence!r}", kind="resident_id", reason="sequence"
        )
    first17 = (
        f"{address_code}{birth_date.year:04d}{birth_date.month:02d}{birth_date.day:02d}{int(sequence):03d}"
    )
    return first17 + _rid_check_char(first17)


# ---------------------------------------------------------------------------------------------------------
# Vectorised helpers: strings -> code-point matrix
# ---------------------------------------------------------------------------------------------------------


def _as_series(values: Any) -> pd.Series:
    return values if isinstance(values, pd.Series) else pd.Series(values, dtype=object)


def _string_series(values: Any) -> tuple[pd.Series, np.ndarray]:
    """Return (series holding only str or missing, mask of the entries that were str).

    Non-str entries (ints, bytes, ...) are set missing and flagged False: they are never read as
    identifiers. Pure-string input (the pandas 3 default ``str`` dtype, or object columns of str) takes
    the fast path; an object column that mixes types costs one per-element type test.
    """
    s = _as_series(values)
    if isinstance(s.dtype, pd.CategoricalDtype):
        s = s.astype(object)
    if isinstance(s.dtype, pd.StringDtype):
        return s, s.notna().to_numpy(dtype=bool)
    if s.dtype != object:
        # numbers, datetimes, booleans: no entry is a string
        return pd.Series(None, index=s.index, dtype=object, name=s.name), np.zeros(len(s), dtype=bool)
    kind = pd.api.types.infer_dtype(s, skipna=True)
    if kind in ("string", "empty"):
        return s, s.notna().to_numpy(dtype=bool)
    # mixed-type object column: an explicit type test (the only per-element step, dirty input only)
    is_str = np.fromiter((isinstance(v, str) for v in s.to_numpy(dtype=object)), dtype=bool, count=len(s))
    return s.where(is_str, None), is_str


def _codes(texts: np.ndarray, width: int) -> np.ndarray:
    """Code points of an object array of str as an (n, width) uint32 matrix (longer strings truncated)."""
    u = np.asarray(texts, dtype=f"U{width}")
    return np.ascontiguousarray(u).view(np.uint32).reshape(len(u), width)


def _fixed_codes(values: Any, width: int, name: str, kind: str, reason: str) -> np.ndarray:
    """Code points of str values that must all have exactly ``width`` characters, as (n, width) uint32."""
    a = np.atleast_1d(np.asarray(values))
    if a.dtype.kind == "O" and pd.api.types.infer_dtype(a, skipna=False) in ("string", "empty"):
        a = a.astype(str)
    if a.dtype.kind != "U" or a.ndim != 1:
        raise IdentifierError(
            f"{name} must be a str or a 1-d array of str, got dtype {a.dtype}", kind=kind, reason=reason
        )
    a = a.astype(f"U{max(a.dtype.itemsize // 4, width)}")
    c = np.ascontiguousarray(a).view(np.uint32).reshape(len(a), -1)
    bad = (c[:, :width] == 0).any(axis=1) | (c[:, width:] != 0).any(axis=1)
    if bad.any():
        raise IdentifierError(
            f"{int(bad.sum())} of {len(a)} {name} do not have {width} characters", kind=kind, reason=reason
        )
    return c[:, :width]


def _ascii_codes(texts: np.ndarray, width: int) -> np.ndarray:
    """An object array of str as an (n, width) uint8 matrix of ASCII codes (255 for non-ASCII).

    Longer strings are truncated (callers check lengths separately), shorter ones padded with 0.
    """
    try:  # fast path: pure ASCII encodes straight into fixed-width bytes
        b = np.asarray(texts, dtype=f"S{width}")
    except UnicodeEncodeError:
        return _ascii8(_codes(texts, width))
    return b.view(np.uint8).reshape(len(b), width)


def _ascii8(codes: np.ndarray) -> np.ndarray:
    """Code points as uint8, every non-ASCII code point mapped to 255 (never a valid symbol)."""
    return np.minimum(codes, 255).astype(np.uint8)


def _weighted_sum(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Row sums of ``values * weights`` for small non-negative ints, via a float32 BLAS product.

    Exact: every term and sum stays far below 2**24 (at most 35 * 30 * 17).
    """
    return (values.astype(np.float32) @ weights.astype(np.float32)).astype(np.int64)


def _lengths(s: pd.Series, is_str: np.ndarray) -> np.ndarray:
    lens = s.str.len().to_numpy(dtype=np.float64, na_value=-1.0)
    return np.where(is_str, lens, -1).astype(np.int64)


def _date_ok(year: np.ndarray, month: np.ndarray, day: np.ndarray, today_int: int) -> np.ndarray:
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    in_month = (month >= 1) & (month <= 12)
    max_day = _DAYS_IN_MONTH[np.where(in_month, month, 0)] + ((month == 2) & leap)
    real = (year >= 1) & in_month & (day >= 1) & (day <= max_day)
    return real & (year * 10000 + month * 100 + day <= today_int)


# ---------------------------------------------------------------------------------------------------------
# Resident ID numbers: vectorised
# ---------------------------------------------------------------------------------------------------------


@dataclass
class _RidBatch:
    index: pd.Index
    text: pd.Series  # stripped (unless strict) input, str or missing
    missing: np.ndarray  # entry was None/NaN/NA
    valid: np.ndarray
    legacy: np.ndarray
    check_value: np.ndarray  # expected check value 0..10 (computed for every row)
    year: np.ndarray
    month: np.ndarray
    day: np.ndarray
    sequence_digit: np.ndarray  # last digit of the sequence (gender)


def _rid_batch(values: Any, today: date | None, strict: bool) -> _RidBatch:
    values = _as_series(values)
    missing = values.isna().to_numpy(dtype=bool)
    s, is_str = _string_series(values)
    _, today_int = _today_int(today)
    text = s if strict else s.str.strip(_STRIP)
    lens = _lengths(text, is_str)
    objs = text.to_numpy(dtype=object, na_value="")
    n = len(objs)
    valid = np.zeros(n, dtype=bool)
    legacy = np.zeros(n, dtype=bool)
    check_value = np.zeros(n, dtype=np.int64)
    year = np.zeros(n, dtype=np.int32)
    month = np.zeros(n, dtype=np.int32)
    day = np.zeros(n, dtype=np.int32)
    seq = np.zeros(n, dtype=np.int64)
    for start in range(0, n, _CHUNK):  # chunks, not records: bounds memory
        sl = slice(start, min(start + _CHUNK, n))
        c = _ascii_codes(objs[sl], 18)
        ln = lens[sl]
        is18 = ln == 18
        is15 = (ln == 15) & (not strict)
        dv = c - np.uint8(48)  # wraps below "0": digits are exactly the values < 10
        digit = dv < 10
        d = dv * digit
        last = c[:, 17]
        is_x = (last == ord("X")) | ((last == ord("x")) & (not strict))
        chars18 = digit[:, :17].all(axis=1) & (digit[:, 17] | is_x)
        chars15 = digit[:, :15].all(axis=1)
        # the 17 information digits; a legacy number gets "19" inserted before its 2-digit year
        d17 = d[:, :17].copy()
        if is15.any():
            up = np.concatenate(
                [
                    d[is15, :6],
                    np.broadcast_to(np.array([1, 9], np.uint8), (int(is15.sum()), 2)),
                    d[is15, 6:15],
                ],
                axis=1,
            )
            d17[is15] = up
        # one float32 product gives the weighted check sum, the year, the month and the day (exact:
        # every value stays below 2**24)
        parts = (d17.astype(np.float32) @ _RID_COMBINED).astype(np.int32)
        expected = _RID_CHECK_VALUES[parts[:, 0] % 11]
        given = np.where(is_x, 10, d[:, 17])
        y, m, dd = parts[:, 1], parts[:, 2], parts[:, 3]
        well_formed = (is18 & chars18 & (given == expected)) | (is15 & chars15)
        valid[sl] = well_formed & _date_ok(y, m, dd, today_int)
        legacy[sl] = is15
        check_value[sl] = expected
        year[sl], month[sl], day[sl] = y, m, dd
        seq[sl] = d17[:, 16]
    return _RidBatch(s.index, text, missing, valid, legacy, check_value, year, month, day, seq)


def _batch_error(
    kind: str, noun: str, values: Any, index: pd.Index, bad: np.ndarray, reason_of: Any, *, mask: bool
) -> IdentifierError:
    positions = np.flatnonzero(bad)
    count = int(positions.size)
    shown = positions[:_MAX_SHOWN]
    raw = values.to_numpy(dtype=object) if isinstance(values, pd.Series) else list(values)
    labels = [index[p] for p in shown]
    reasons = [reason_of(raw[p]) for p in shown]
    items = ", ".join(
        f"{lab!r}: {_display(raw[p], mask=mask)} ({r})"
        for lab, p, r in zip(labels, shown, reasons, strict=True)
    )
    more = f" (first {len(shown)} shown)" if count > len(shown) else ""
    err = IdentifierError(
        f"{count} invalid {noun}(s) of {len(index)}{more}; by index label: {items}",
        kind=kind,
        value=_display(raw[shown[0]], mask=mask) if count else "",
        reason=",".join(sorted(set(reasons))),
    )
    err.details.update(count=count, positions=[int(p) for p in shown], labels=labels, reasons=reasons)
    return err


def _rid_reason(today: date | None, strict: bool) -> Any:
    def reason(value: object) -> str:
        if _is_missing(value):
            return "missing"
        try:
            _normalize_rid(value, today, strict)
        except IdentifierError as exc:
            return exc.reason
        return "valid"  # pragma: no cover - the vector and scalar rules agree (tested)

    return reason


def validate_resident_ids(values: Any, today: date | None = None, *, strict: bool = False) -> pd.Series:
    """Vectorised :func:`is_resident_id`: a boolean mask of the valid resident ID numbers.

    Parameters
    ----------
    values : pandas.Series or array-like
        Candidates. Missing values (None, NaN, NA) and non-strings are invalid.
    today : datetime.date, optional
        Birth dates after this day are invalid. Default: ``date.today()``.
    strict : bool, default False
        As in :func:`is_resident_id`.

    Returns
    -------
    pandas.Series of bool
        Same index as ``values`` (a fresh RangeIndex for non-Series input).

    Notes
    -----
    The strings become a fixed-width code-point matrix; digits, check characters (a matrix-vector
    product with the weights) and birth dates (month lengths, leap years, not after ``today``) are
    checked with numpy array arithmetic, in chunks of 262,144 rows.
    """
    b = _rid_batch(values, today, strict)
    return pd.Series(b.valid, index=b.index, name=getattr(values, "name", None), dtype=bool)


def _rid_checked(values: Any, today: date | None, allow_missing: bool) -> _RidBatch:
    b = _rid_batch(values, today, False)
    bad = ~b.valid & ~(b.missing & allow_missing)
    if bad.any():
        raise _batch_error(
            "resident_id", "resident ID number", values, b.index, bad, _rid_reason(today, False), mask=True
        )
    return b


def normalize_resident_ids(
    values: Any, today: date | None = None, *, allow_missing: bool = False
) -> pd.Series:
    """Vectorised :func:`normalize_resident_id`.

    Parameters
    ----------
    values : pandas.Series or array-like
        Resident ID numbers.
    today : datetime.date, optional
        Birth dates after this day are rejected. Default: ``date.today()``.
    allow_missing : bool, default False
        If True, missing values stay missing; otherwise they are offending entries.

    Returns
    -------
    pandas.Series
        Canonical 18-character numbers, same index and name.

    Raises
    ------
    IdentifierError
        If any entry is invalid: the message names the count and up to 20 offending index labels with
        their masked values and reasons; ``details`` holds ``count``, ``positions``, ``labels`` and
        ``reasons``.
    """
    b = _rid_checked(values, today, allow_missing)
    out = b.text.str.upper()
    if b.legacy.any():
        old = b.text[b.legacy]
        checks = pd.Series(_RID_VALUE_CHARS[b.check_value[b.legacy]], index=old.index)
        out = out.copy()
        out[b.legacy] = old.str[:6] + "19" + old.str[6:] + checks
    out.name = getattr(values, "name", None)
    return out


def resident_id_birth_dates(
    values: Any, today: date | None = None, *, allow_missing: bool = False
) -> pd.Series:
    """Birth dates of resident ID numbers, vectorised.

    Parameters
    ----------
    values : pandas.Series or array-like
        Resident ID numbers (15- or 18-digit).
    today : datetime.date, optional
        Birth dates after this day are rejected. Default: ``date.today()``.
    allow_missing : bool, default False
        If True, missing numbers give NaT; otherwise they are offending entries.

    Returns
    -------
    pandas.Series of datetime64[s]

    Raises
    ------
    IdentifierError
        As :func:`normalize_resident_ids`.
    """
    b = _rid_checked(values, today, allow_missing)
    ok = b.valid
    y = np.where(ok, b.year, 1970)
    m = np.where(ok, b.month, 1)
    d = np.where(ok, b.day, 1)
    born = (
        ((y - 1970).astype("datetime64[Y]") + (m - 1).astype("timedelta64[M]")).astype("datetime64[D]")
        + (d - 1).astype("timedelta64[D]")
    ).astype("datetime64[s]")
    born[~ok] = np.datetime64("NaT")
    return pd.Series(born, index=b.index, name=getattr(values, "name", None))


def resident_id_genders(values: Any, today: date | None = None, *, allow_missing: bool = False) -> pd.Series:
    """Genders (``"male"`` for an odd sequence, else ``"female"``) of resident ID numbers, vectorised.

    Parameters
    ----------
    values : pandas.Series or array-like
        Resident ID numbers (15- or 18-digit).
    today : datetime.date, optional
        Birth dates after this day are rejected. Default: ``date.today()``.
    allow_missing : bool, default False
        If True, missing numbers give a missing gender; otherwise they are offending entries.

    Returns
    -------
    pandas.Series of str

    Raises
    ------
    IdentifierError
        As :func:`normalize_resident_ids`.
    """
    b = _rid_checked(values, today, allow_missing)
    genders = np.where(b.sequence_digit % 2 == 1, "male", "female").astype(object)
    genders[~b.valid] = None
    return pd.Series(genders, index=b.index, name=getattr(values, "name", None))


def mask_resident_ids(values: Any) -> pd.Series:
    """Vectorised :func:`mask_resident_id`.

    Parameters
    ----------
    values : pandas.Series or array-like
        Anything; non-strings are masked via ``str`` (bytes decoded), missing values stay missing.

    Returns
    -------
    pandas.Series
        Masked text, same index and name.
    """
    s = values if isinstance(values, pd.Series) else pd.Series(values, dtype=object)
    if not isinstance(s.dtype, pd.StringDtype):
        kind = pd.api.types.infer_dtype(s, skipna=True)
        if kind not in ("string", "empty"):
            # non-string entries: rendered as text first (display only; nothing is validated here)
            s = s.astype(object).map(
                lambda v: None if _is_missing(v) else mask_resident_id(v) if not isinstance(v, str) else v
            )
    text = s.str.strip(_STRIP)
    lens = text.str.len()
    present = text.notna()
    stars_by_len = {int(n): "*" * (int(n) - 10 if n >= 15 else int(n)) for n in pd.unique(lens[present])}
    stars = lens.where(present).map(stars_by_len)
    long = (lens >= 15) & present
    out = stars.astype(object)
    if long.any():  # (pandas 3.0.0 cannot add an empty str selection to an empty object one)
        out[long] = (text[long].str[:6] + stars[long] + text[long].str[-4:]).astype(object)
    out[~present] = None
    if isinstance(s.dtype, pd.StringDtype):
        out = out.astype(s.dtype)
    out.name = s.name
    return out


def make_resident_ids(address_codes: Any, birth_dates: Any, sequences: Any) -> np.ndarray:
    """Vectorised :func:`make_resident_id`: build many numbers with their check characters.

    Parameters
    ----------
    address_codes : str or array-like of str
        Six-digit address codes (a single str is broadcast).
    birth_dates : array-like of dates or datetime64, or one date
        Birth dates (broadcast).
    sequences : int or array-like of int
        0..999 (broadcast).

    Returns
    -------
    numpy.ndarray of dtype ``<U18``

    Raises
    ------
    IdentifierError
        ``reason="address_code"``, ``"birth_date"`` or ``"sequence"`` naming the count of bad entries.
    """
    ac = _fixed_codes(address_codes, 6, "address_codes", "resident_id", "address_code")
    if not ((ac >= 48) & (ac <= 57)).all():
        raise IdentifierError("address codes must be 6 digits", kind="resident_id", reason="address_code")
    if not isinstance(birth_dates, (pd.Series, pd.Index, np.ndarray)):
        birth_dates = np.atleast_1d(np.asarray(birth_dates, dtype=object))
    try:
        bd = pd.DatetimeIndex(birth_dates)
    except (TypeError, ValueError) as exc:
        raise IdentifierError(
            f"birth dates not understood: {exc}", kind="resident_id", reason="birth_date"
        ) from None
    if bd.hasnans:
        raise IdentifierError(
            f"{int(bd.isna().sum())} birth date(s) are missing", kind="resident_id", reason="birth_date"
        )
    seq = np.atleast_1d(np.asarray(sequences))
    if seq.dtype.kind not in "iu" or ((seq < 0) | (seq > 999)).any():
        raise IdentifierError("sequences must be ints in 0..999", kind="resident_id", reason="sequence")
    a_codes, years, months, days, seqs = (
        ac,
        bd.year.to_numpy(dtype=np.int64),
        bd.month.to_numpy(dtype=np.int64),
        bd.day.to_numpy(dtype=np.int64),
        seq.astype(np.int64),
    )
    n = max(len(a_codes), len(years), len(seqs))
    for name, arr in (("address_codes", a_codes), ("birth_dates", years), ("sequences", seqs)):
        if len(arr) not in (1, n):
            raise IdentifierError(
                f"{name} has {len(arr)} entries, expected 1 or {n}", kind="resident_id", reason="length"
            )
    digits = np.empty((n, 17), dtype=np.uint8)
    digits[:, :6] = np.broadcast_to(a_codes, (len(a_codes), 6)) - 48
    years, months, days, seqs = (np.broadcast_to(x, (n,)) for x in (years, months, days, seqs))
    for j, (arr, div) in enumerate(
        [(years, 1000), (years, 100), (years, 10), (years, 1), (months, 10), (months, 1)]
        + [(days, 10), (days, 1), (seqs, 100), (seqs, 10), (seqs, 1)]
    ):
        digits[:, 6 + j] = (arr // div) % 10
    check = _RID_CHECK_VALUES[_weighted_sum(digits, _RID_WEIGHTS) % 11]
    out = np.empty((n, 18), dtype=np.uint32)
    out[:, :17] = digits + 48
    out[:, 17] = np.where(check == 10, ord("X"), check + 48)
    return out.view("<U18").reshape(n)


# ---------------------------------------------------------------------------------------------------------
# Unified social credit codes
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Uscc:
    """A parsed unified social credit code (GB 32100-2015).

    Attributes
    ----------
    code : str
        The normalised 18-character code.
    authority : str
        Position 1, the registering authority (``"9"`` industry and commerce, ``"N"`` agriculture, ...).
    category : str
        Positions 1-2, the organisation category (``"93"`` farmers' professional cooperative,
        ``"N2"`` village collective economic organisation, ...).
    division_code : str
        Positions 3-8, the registering division (six digits; not checked against a table).
    org_code : str
        Positions 9-17, the organisation code (GB 11714; position 17 is its own check character).
    authority_name : str
        English name of the authority.
    category_name : str or None
        English name of the category when DOMAIN.md lists it, else None.
    org_code_valid : bool
        Whether the organisation code's own check character (position 17) holds.
    """

    code: str
    authority: str
    category: str
    division_code: str
    org_code: str
    authority_name: str
    category_name: str | None
    org_code_valid: bool


def _uscc_error(reason: str, detail: str, value: object) -> IdentifierError:
    shown = _display(value)
    return IdentifierError(f"invalid USCC {shown}: {detail}", kind="uscc", value=shown, reason=reason)


def _org_value(c: str) -> int:
    return int(c) if c in _DIGITS else ord(c) - 55  # A=10 ... Z=35


def _org_check_char(body8: str) -> str:
    c = 11 - sum(_org_value(ch) * w for ch, w in zip(body8, _ORG_WEIGHTS_PY, strict=True)) % 11
    return {10: "X", 11: "0"}.get(c, str(c))


def _uscc_check_char(first17: str) -> str:
    total = sum(_USCC_VALUE[c] * w for c, w in zip(first17, _USCC_WEIGHTS_PY, strict=True))
    return _USCC_ALPHABET[(31 - total % 31) % 31]


def _normalize_uscc_scalar(value: object, check_org_code: bool, strict: bool) -> str:
    if not isinstance(value, str):
        raise _uscc_error("type", f"expected a str, got {type(value).__name__}", value)
    code = value if strict else value.strip(_STRIP).translate(_ASCII_UPPER)
    if len(code) != 18:
        raise _uscc_error("length", f"has {len(code)} characters, expected 18", value)
    if not all(c in _USCC_VALUE for c in code):
        raise _uscc_error(
            "characters", "only digits and uppercase letters other than I, O, Z, S, V are allowed", value
        )
    if _uscc_check_char(code[:17]) != code[17]:
        raise _uscc_error("check", "the check character does not match (GB 32100 MOD 31)", value)
    if code[0] not in _USCC_AUTHORITIES:
        raise _uscc_error("authority", f"unknown registering authority {code[0]!r}", value)
    if not ("1" <= code[1] <= "9"):
        raise _uscc_error("category", f"category (position 2) must be a digit 1-9, got {code[1]!r}", value)
    if not all(c in _DIGITS for c in code[2:8]):
        raise _uscc_error("division", "the division code (positions 3-8) must be digits", value)
    if check_org_code and _org_check_char(code[8:16]) != code[16]:
        raise _uscc_error(
            "org_code_check",
            "the organisation code's check character (position 17) does not match (GB 11714)",
            value,
        )
    return code


def is_uscc(value: object, *, check_org_code: bool = False, strict: bool = False) -> bool:
    """Tell whether ``value`` is a valid unified social credit code.

    Parameters
    ----------
    value : object
        Candidate; anything that is not a ``str`` is not a USCC.
    check_org_code : bool, default False
        Also require the organisation code's GB 11714 check character (position 17) to hold.
    strict : bool, default False
        If True, accept only the canonical form (no surrounding whitespace, uppercase).

    Returns
    -------
    bool
    """
    try:
        _normalize_uscc_scalar(value, check_org_code, strict)
    except IdentifierError:
        return False
    return True


def normalize_uscc(value: object, *, check_org_code: bool = False) -> str:
    """Validate a unified social credit code and return it stripped and uppercased.

    Parameters
    ----------
    value : str
        The code.
    check_org_code : bool, default False
        Also verify the organisation code's GB 11714 check character (position 17).

    Returns
    -------
    str

    Raises
    ------
    IdentifierError
        ``kind="uscc"``; ``reason`` is one of ``"type"``, ``"length"``, ``"characters"``, ``"check"``,
        ``"authority"`` (position 1 not in 1-9, A, N, Y), ``"category"`` (position 2 not a digit 1-9),
        ``"division"`` (positions 3-8 not digits), ``"org_code_check"``.

    Examples
    --------
    >>> normalize_uscc(" 92340602ma2pbmem24")
    '92340602MA2PBMEM24'
    """
    return _normalize_uscc_scalar(value, check_org_code, False)


def parse_uscc(value: object, *, check_org_code: bool = False) -> Uscc:
    """Validate, normalise and split a unified social credit code.

    Parameters
    ----------
    value : str
        The code.
    check_org_code : bool, default False
        Also verify the organisation code's check character; when False it is still reported in
        :attr:`Uscc.org_code_valid`.

    Returns
    -------
    Uscc

    Raises
    ------
    IdentifierError
        As :func:`normalize_uscc`.

    Examples
    --------
    >>> u = parse_uscc("91110000600037341L")
    >>> u.category, u.category_name, u.division_code
    ('91', 'enterprise', '110000')
    """
    code = _normalize_uscc_scalar(value, check_org_code, False)
    return Uscc(
        code=code,
        authority=code[0],
        category=code[:2],
        division_code=code[2:8],
        org_code=code[8:17],
        authority_name=_USCC_AUTHORITIES[code[0]],
        category_name=_USCC_CATEGORIES.get(code[:2]),
        org_code_valid=_org_check_char(code[8:16]) == code[16],
    )


def _check_uscc_parts(authority_category: object, division: object, org_body: object) -> None:
    if not (
        isinstance(authority_category, str)
        and len(authority_category) == 2
        and authority_category[0] in _USCC_AUTHORITIES
        and "1" <= authority_category[1] <= "9"
    ):
        raise IdentifierError(
            f"authority_category must be 2 characters (authority 1-9/A/N/Y, category digit 1-9), got "
            f"{_display(authority_category)}",
            kind="uscc",
            reason="category",
        )
    if not (isinstance(division, str) and len(division) == 6 and set(division) <= _DIGITS):
        raise IdentifierError(
            f"division must be 6 digits, got {_display(division)}", kind="uscc", reason="division"
        )
    if not (isinstance(org_body, str) and len(org_body) == 8 and all(c in _USCC_VALUE for c in org_body)):
        raise IdentifierError(
            f"org_body must be 8 characters from the USCC alphabet, got {_display(org_body)}",
            kind="uscc",
            reason="characters",
        )


def make_uscc(authority_category: str, division: str, org_body: str) -> str:
    """Build a unified social credit code, computing both check characters (for synthetic data).

    Parameters
    ----------
    authority_category : str
        Positions 1-2, e.g. ``"93"`` or ``"N2"``.
    division : str
        Six digits, e.g. ``"530112"``.
    org_body : str
        The first 8 characters of the organisation code (digits and USCC letters).

    Returns
    -------
    str
        18 characters: position 17 is the GB 11714 check of ``org_body``, position 18 the MOD 31 check.

    Raises
    ------
    IdentifierError
        For malformed parts.

    Examples
    --------
    >>> make_uscc("91", "110000", "60003734")
    '91110000600037341L'
    """
    _check_uscc_parts(authority_category, division, org_body)
    first17 = authority_category + division + org_body + _org_check_char(org_body)
    return first17 + _uscc_check_char(first17)


#: ASCII code point (uint8; 255 = non-ASCII) -> USCC value (-1 outside the alphabet) and GB 11714 value
#: (digits, A=10 ... Z=35; -1 otherwise); which code points are registering authorities.
_USCC_TABLE = np.full(256, -1, dtype=np.int16)
_ORG_TABLE = np.full(256, -1, dtype=np.int16)
for _c, _v in _USCC_VALUE.items():
    _USCC_TABLE[ord(_c)] = _v
for _i in range(128):
    _ch = chr(_i)
    if _ch in _DIGITS or "A" <= _ch <= "Z":
        _ORG_TABLE[_i] = _org_value(_ch)
_AUTHORITY_OK = np.zeros(256, dtype=bool)
for _c in _USCC_AUTHORITIES:
    _AUTHORITY_OK[ord(_c)] = True
del _c, _v, _i, _ch


def _uscc_valid_codes(a: np.ndarray, lens: np.ndarray, check_org_code: bool) -> np.ndarray:
    """Validity of an (n, 18) uint8 ASCII matrix (already uppercased unless strict)."""
    vals = _USCC_TABLE[a]
    ok = (lens == 18) & (vals >= 0).all(axis=1)
    safe = np.maximum(vals, 0)
    expected = (31 - _weighted_sum(safe[:, :17], _USCC_WEIGHTS) % 31) % 31
    ok &= expected == safe[:, 17]
    ok &= _AUTHORITY_OK[a[:, 0]]
    ok &= (a[:, 1] >= ord("1")) & (a[:, 1] <= ord("9"))
    ok &= ((a[:, 2:8] >= 48) & (a[:, 2:8] <= 57)).all(axis=1)
    if check_org_code:
        ok &= a[:, 16] == _org_check_codes(a[:, 8:16])
    return ok


def _org_check_codes(body: np.ndarray) -> np.ndarray:
    """GB 11714 check characters (as code points) of an (n, 8) ASCII matrix of organisation-code bodies."""
    oc = 11 - _weighted_sum(np.maximum(_ORG_TABLE[body], 0), _ORG_WEIGHTS) % 11
    return np.where(oc == 10, ord("X"), np.where(oc == 11, ord("0"), oc + 48)).astype(np.uint8)


def _uscc_batch(values: Any, check_org_code: bool, strict: bool) -> tuple[pd.Series, np.ndarray, np.ndarray]:
    values = _as_series(values)
    missing = values.isna().to_numpy(dtype=bool)
    s, is_str = _string_series(values)
    text = s if strict else s.str.strip(_STRIP)
    lens = _lengths(text, is_str)
    objs = text.to_numpy(dtype=object, na_value="")
    valid = np.zeros(len(objs), dtype=bool)
    for start in range(0, len(objs), _CHUNK):
        sl = slice(start, min(start + _CHUNK, len(objs)))
        a = _ascii_codes(objs[sl], 18)
        if not strict:  # ASCII-only uppercasing, as in the scalar rule
            a = np.where((a >= ord("a")) & (a <= ord("z")), a - np.uint8(32), a)
        valid[sl] = _uscc_valid_codes(a, lens[sl], check_org_code)
    return text, valid, missing


def validate_usccs(values: Any, *, check_org_code: bool = False, strict: bool = False) -> pd.Series:
    """Vectorised :func:`is_uscc`: a boolean mask of the valid unified social credit codes.

    Parameters
    ----------
    values : pandas.Series or array-like
        Candidates; missing values and non-strings are invalid.
    check_org_code : bool, default False
        Also require the organisation code's check character.
    strict : bool, default False
        As in :func:`is_uscc`.

    Returns
    -------
    pandas.Series of bool
    """
    text, valid, _ = _uscc_batch(values, check_org_code, strict)
    return pd.Series(valid, index=text.index, name=getattr(values, "name", None), dtype=bool)


def normalize_usccs(values: Any, *, check_org_code: bool = False, allow_missing: bool = False) -> pd.Series:
    """Vectorised :func:`normalize_uscc` (strip, uppercase, validate).

    Parameters
    ----------
    values : pandas.Series or array-like
        Codes.
    check_org_code : bool, default False
        Also verify the organisation codes' check characters.
    allow_missing : bool, default False
        If True, missing values stay missing; otherwise they are offending entries.

    Returns
    -------
    pandas.Series

    Raises
    ------
    IdentifierError
        Naming the count and up to 20 offending index labels, values and reasons (values that could
        be resident ID numbers are masked); ``details`` as in :func:`normalize_resident_ids`.
    """
    text, valid, missing = _uscc_batch(values, check_org_code, False)
    bad = ~valid & ~(missing & allow_missing)
    if bad.any():

        def reason(v: object) -> str:
            if _is_missing(v):
                return "missing"
            try:
                _normalize_uscc_scalar(v, check_org_code, False)
            except IdentifierError as exc:
                return exc.reason
            return "valid"  # pragma: no cover

        raise _batch_error("uscc", "USCC", values, text.index, bad, reason, mask=False)
    out = text.str.upper()  # every present value is valid, hence ASCII: str.upper is ASCII-only here
    out.name = getattr(values, "name", None)
    return out


def make_usccs(authority_categories: Any, divisions: Any, org_bodies: Any) -> np.ndarray:
    """Vectorised :func:`make_uscc` (arguments broadcast against each other).

    Parameters
    ----------
    authority_categories : str or array-like of str
        Positions 1-2.
    divisions : str or array-like of str
        Six-digit division codes.
    org_bodies : str or array-like of str
        First 8 characters of the organisation codes.

    Returns
    -------
    numpy.ndarray of dtype ``<U18``

    Raises
    ------
    IdentifierError
        If any part is malformed (the count is named).
    """
    parts = [
        _fixed_codes(arr, width, name, "uscc", "characters")
        for name, arr, width in (
            ("authority_categories", authority_categories, 2),
            ("divisions", divisions, 6),
            ("org_bodies", org_bodies, 8),
        )
    ]
    n = max(len(p) for p in parts)
    for p in parts:
        if len(p) not in (1, n):
            raise IdentifierError(f"arguments have {len(p)} and {n} entries", kind="uscc", reason="length")
    c = np.zeros((n, 18), dtype=np.uint32)
    c[:, :2] = parts[0]
    c[:, 2:8] = parts[1]
    c[:, 8:16] = parts[2]
    a = _ascii8(c)
    bad = (
        ~_AUTHORITY_OK[a[:, 0]]
        | (a[:, 1] < ord("1"))
        | (a[:, 1] > ord("9"))
        | ~((a[:, 2:8] >= 48) & (a[:, 2:8] <= 57)).all(axis=1)
        | (_USCC_TABLE[a[:, 8:16]] < 0).any(axis=1)
    )
    if bad.any():
        raise IdentifierError(f"{int(bad.sum())} malformed USCC part(s)", kind="uscc", reason="characters")
    c[:, 16] = _org_check_codes(a[:, 8:16])
    check = (31 - _weighted_sum(_USCC_TABLE[c[:, :17].astype(np.uint8)], _USCC_WEIGHTS) % 31) % 31
    c[:, 17] = np.frombuffer(_USCC_ALPHABET.encode("ascii"), dtype=np.uint8)[check]
    return c.view("<U18").reshape(n)


# ---------------------------------------------------------------------------------------------------------
# Administrative division codes
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DivisionCode:
    """A parsed administrative division code (GB/T 2260 6-digit, statistical 9- or 12-digit).

    Attributes
    ----------
    code : str
        The digits as given (without an urban-rural class suffix).
    level : {"province", "prefecture", "county", "township", "village"}
        Defined by the last non-zero part (``530100`` is a prefecture, ``530112000000`` a county).
    province : str
        Two digits.
    prefecture, county : str or None
        Two-digit parts, None below the code's level. ``county`` is also None for a township directly
        under a prefecture-level city without counties (e.g. Dongguan ``441900003000``).
    township, village : str or None
        Three-digit parts, None below the code's level.
    prefix : str
        The significant prefix (``"5301"`` for ``530100``).
    parents : tuple of str
        Significant prefixes of the enclosing levels, outermost first (``530112101201`` ->
        ``("53", "5301", "530112", "530112101")``).
    prefecture_kind : str or None
        By range only: ``"city"`` (01-20, 51-70), ``"prefecture"`` (21-50: prefectures, autonomous
        prefectures, leagues), ``"province_administered"`` (90), ``"other"``.
    county_kind : str or None
        By range only: ``"district"`` (01-20), ``"county"`` (21-80), ``"county_level_city"`` (81-99);
        ``"province_administered"`` under prefecture 90, where the ranges do not apply.
    township_type : str or None
        ``"subdistrict"`` (001-099), ``"town"`` (100-199), ``"township"`` (200-399), ``"township_like"``
        (400-599), ``"other"`` (600-999).
    village_type : str or None
        ``"residents_committee"`` (001-199), ``"villagers_committee"`` (200-399), ``"village_like"``
        (400-599), ``"other"`` (600-999).
    urban_rural_class : str or None
        The 3-digit urban-rural class of a 15-digit code (111 ... 220).
    urban_rural_class_name : str or None
        Its English name (``"220"`` -> ``"village"``).

    Notes
    -----
    Kinds and types come from code ranges: codes change yearly, so never infer rurality from a range
    alone; the urban-rural class, when present, is the official classification.
    """

    code: str
    level: DivisionLevel
    province: str
    prefecture: str | None
    county: str | None
    township: str | None
    village: str | None
    prefix: str
    parents: tuple[str, ...]
    prefecture_kind: str | None
    county_kind: str | None
    township_type: str | None
    village_type: str | None
    urban_rural_class: str | None = None
    urban_rural_class_name: str | None = None

    def padded(self, width: int = 12) -> str:
        """The code zero-padded (or cut) to ``width`` digits (2, 4, 6, 9 or 12).

        Raises
        ------
        IdentifierError
            If ``width`` is not a division-code width or is shorter than the significant prefix.
        """
        if width not in _DIVISION_LENGTHS or width < len(self.prefix):
            raise IdentifierError(
                f"cannot write division code {self.code!r} with {width} digits",
                kind="division_code",
                value=self.code,
                reason="length",
            )
        return self.prefix.ljust(width, "0")


def _div_error(reason: str, detail: str, value: object) -> IdentifierError:
    shown = _display(value)
    return IdentifierError(
        f"invalid division code {shown}: {detail}", kind="division_code", value=shown, reason=reason
    )


def _prefecture_kind(q: int) -> str:
    if 1 <= q <= 20 or 51 <= q <= 70:
        return "city"
    if 21 <= q <= 50:
        return "prefecture"
    if q == 90:
        return "province_administered"
    return "other"


def _county_kind(q: int, c: int) -> str:
    if q == 90:
        return "province_administered"
    if c <= 20:
        return "district"
    if c <= 80:
        return "county"
    return "county_level_city"


def _township_type(t: int) -> str:
    return (
        "subdistrict"
        if t < 100
        else "town"
        if t < 200
        else "township"
        if t < 400
        else ("township_like" if t < 600 else "other")
    )


def _village_type(v: int) -> str:
    return (
        "residents_committee"
        if v < 200
        else "villagers_committee"
        if v < 400
        else ("village_like" if v < 600 else "other")
    )


def parse_division_code(value: object) -> DivisionCode:
    """Parse an administrative division code.

    Accepts 2 (province prefix), 4 (prefecture prefix), 6 (GB/T 2260), 9 (to township), 12 (to
    village) digits, or 15 digits = a 12-digit village-level code plus its 3-digit urban-rural class.
    Surrounding whitespace is stripped. Codes are not looked up in any vintage table.

    Parameters
    ----------
    value : str
        The code.

    Returns
    -------
    DivisionCode

    Raises
    ------
    IdentifierError
        ``kind="division_code"``; ``reason`` is ``"type"``, ``"length"``, ``"characters"``,
        ``"province"`` (``00``), ``"structure"`` (a zero prefecture or township part followed by
        non-zero parts, e.g. ``530012``) or ``"urban_rural_class"`` (unknown class, or a class on a code
        that is not village-level).

    Examples
    --------
    >>> d = parse_division_code("530112101201")
    >>> d.level, d.parents, d.township_type, d.village_type
    ('village', ('53', '5301', '530112', '530112101'), 'town', 'villagers_committee')
    """
    if not isinstance(value, str):
        raise _div_error("type", f"expected a str, got {type(value).__name__}", value)
    text = value.strip(_STRIP)
    if not (text and all(c in _DIGITS for c in text)):
        raise _div_error("characters", "must be digits only", value)
    urban_class = None
    if len(text) == 15:
        text, urban_class = text[:12], text[12:]
        if urban_class not in _URBAN_RURAL_CLASSES:
            raise _div_error(
                "urban_rural_class",
                f"unknown urban-rural class {urban_class!r} (known: {', '.join(_URBAN_RURAL_CLASSES)})",
                value,
            )
    if len(text) not in _DIVISION_LENGTHS:
        raise _div_error(
            "length", f"has {len(value.strip(_STRIP))} digits, expected 2, 4, 6, 9, 12 or 15", value
        )
    parts = [text[a:b] for a, b in _PART_SLICES[: _DIVISION_LENGTHS[len(text)]]]
    if parts[0] == "00":
        raise _div_error("province", "the province part is 00", value)
    nonzero = [int(p) != 0 for p in parts]
    depth = max(i for i, nz in enumerate(nonzero) if nz)  # index of the last non-zero part
    # a zero prefecture or township followed by non-zero parts is impossible; a zero county followed
    # by a township is how prefecture-level cities without counties (Dongguan 4419, Zhongshan 4420) code
    for i in (1, 3):
        if i < depth and not nonzero[i]:
            raise _div_error(
                "structure", f"the {_LEVELS[i]} part is zero but a lower-level part is not", value
            )
    if urban_class is not None and depth != 4:
        raise _div_error(
            "urban_rural_class", "an urban-rural class belongs to village-level codes only", value
        )
    level: DivisionLevel = _LEVELS[depth]  # type: ignore[assignment]
    prefix_lens = [b for _, b in _PART_SLICES]
    parents = tuple(text[: prefix_lens[i]] for i in range(depth) if nonzero[i])
    part = [p if i <= depth and nonzero[i] else None for i, p in enumerate(parts)] + [None] * (5 - len(parts))
    q = int(parts[1]) if depth >= 1 else 0
    return DivisionCode(
        code=text,
        level=level,
        province=parts[0],
        prefecture=part[1],
        county=part[2],
        township=part[3],
        village=part[4],
        prefix=text[: prefix_lens[depth]],
        parents=parents,
        prefecture_kind=_prefecture_kind(q) if part[1] else None,
        county_kind=_county_kind(q, int(parts[2])) if part[2] else None,
        township_type=_township_type(int(parts[3])) if part[3] else None,
        village_type=_village_type(int(parts[4])) if part[4] else None,
        urban_rural_class=urban_class,
        urban_rural_class_name=_URBAN_RURAL_CLASSES.get(urban_class) if urban_class else None,
    )


def is_division_code(value: object, level: str | None = None) -> bool:
    """Tell whether ``value`` is a division code (of the given level, if any).

    Parameters
    ----------
    value : object
        Candidate.
    level : {"province", "prefecture", "county", "township", "village"}, optional
        Require this level.

    Returns
    -------
    bool

    Raises
    ------
    RuralCreditError
        If ``level`` is not one of the five level names.
    """
    if level is not None and level not in _LEVELS:
        raise RuralCreditError(
            f"unknown division level {level!r}; use one of {list(_LEVELS)}", parameter="level"
        )
    try:
        parsed = parse_division_code(value)
    except IdentifierError:
        return False
    return level is None or parsed.level == level


# ---------------------------------------------------------------------------------------------------------
# Pseudonyms
# ---------------------------------------------------------------------------------------------------------

PseudonymKind = Literal["auto", "resident_id", "uscc"]


def _check_key(key: object) -> bytes:
    if not isinstance(key, (bytes, bytearray, memoryview)):
        raise RuralCreditError(
            f"the pseudonym key must be bytes, got {type(key).__name__}", parameter="key", reason="type"
        )
    raw = bytes(key)
    if len(raw) < _MIN_KEY_BYTES:
        raise RuralCreditError(
            f"the pseudonym key has {len(raw)} bytes; use at least {_MIN_KEY_BYTES} random bytes "
            "(e.g. secrets.token_bytes(32)) shared only between the institutions that match records",
            parameter="key",
            reason="short_key",
        )
    return raw


def _hmac_hex(key: bytes, kind: str, normalized: str) -> str:
    message = _PSEUDONYM_TAG + b"\x00" + kind.encode("ascii") + b"\x00" + normalized.encode("ascii")
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def _resolve_kind(value: object, kind: str) -> tuple[str, str]:
    if kind == "resident_id":
        return kind, normalize_resident_id(value)
    if kind == "uscc":
        return kind, normalize_uscc(value)
    if kind != "auto":
        raise RuralCreditError(
            f"unknown pseudonym kind {kind!r}; use 'auto', 'resident_id' or 'uscc'", parameter="kind"
        )
    rid = is_resident_id(value)
    org = is_uscc(value)
    if rid and org:
        raise IdentifierError(
            f"{_display(value)} is both a valid resident ID number and a valid USCC; pass kind=",
            kind="auto",
            value=_display(value),
            reason="ambiguous",
        )
    if rid:
        return "resident_id", normalize_resident_id(value)
    if org:
        return "uscc", normalize_uscc(value)
    raise IdentifierError(
        f"{_display(value)} is neither a valid resident ID number nor a valid USCC",
        kind="auto",
        value=_display(value),
        reason="unknown",
    )


def pseudonymize(value: object, key: bytes, *, kind: PseudonymKind = "auto") -> str:
    """Keyed pseudonym of an identifier: HMAC-SHA256 over its normalised form, as 64 hex characters.

    The message is ``b"ruralcredit.pseudonym.v1" + b"\\0" + kind + b"\\0" + normalised`` (ASCII), so the
    same number in any accepted spelling (15-digit legacy, lowercase ``x``, whitespace) gives the same
    pseudonym, and a resident ID and a USCC never collide by construction. Institutions that share the
    key can match records without exchanging raw numbers; without the key a pseudonym cannot be
    reversed or recomputed.

    Parameters
    ----------
    value : str
        A resident ID number or a USCC.
    key : bytes
        Secret key, at least 16 bytes (32 random bytes recommended).
    kind : {"auto", "resident_id", "uscc"}, default "auto"
        What ``value`` is; ``"auto"`` decides by validity and refuses a value valid as both.

    Returns
    -------
    str
        64 lowercase hex characters.

    Raises
    ------
    RuralCreditError
        For a missing, non-bytes or short key, or an unknown ``kind``.
    IdentifierError
        If ``value`` is not a valid identifier of the kind (``reason="ambiguous"``/``"unknown"`` in
        auto mode).
    """
    raw = _check_key(key)
    resolved, normalized = _resolve_kind(value, kind)
    return _hmac_hex(raw, resolved, normalized)


def pseudonymize_series(
    values: Any, key: bytes, *, kind: PseudonymKind = "auto", allow_missing: bool = False
) -> pd.Series:
    """Pseudonyms of a Series of identifiers (see :func:`pseudonymize`).

    Validation and normalisation are vectorised; the HMAC itself runs once per value in a Python loop
    because the standard library's ``hmac`` has no vector form (about 1 microsecond per value).

    Parameters
    ----------
    values : pandas.Series or array-like
        Resident ID numbers and/or USCCs.
    key : bytes
        Secret key, at least 16 bytes.
    kind : {"auto", "resident_id", "uscc"}, default "auto"
        What the values are; ``"auto"`` decides per value.
    allow_missing : bool, default False
        If True, missing values give missing pseudonyms; otherwise they are offending entries.

    Returns
    -------
    pandas.Series of str

    Raises
    ------
    RuralCreditError, IdentifierError
        As :func:`pseudonymize`; invalid values are reported together, masked.
    """
    raw = _check_key(key)
    if kind not in ("auto", "resident_id", "uscc"):
        raise RuralCreditError(
            f"unknown pseudonym kind {kind!r}; use 'auto', 'resident_id' or 'uscc'", parameter="kind"
        )
    s = values if isinstance(values, pd.Series) else pd.Series(values, dtype=object)
    missing = s.isna().to_numpy(dtype=bool)
    is_rid = (
        validate_resident_ids(s).to_numpy() if kind in ("auto", "resident_id") else np.zeros(len(s), bool)
    )
    is_org = validate_usccs(s).to_numpy() if kind in ("auto", "uscc") else np.zeros(len(s), bool)
    bad = (~is_rid & ~is_org & ~(missing & allow_missing)) | (is_rid & is_org)
    if bad.any():

        def reason(v: object) -> str:
            if _is_missing(v):
                return "missing"
            try:
                _resolve_kind(v, kind)
            except IdentifierError as exc:
                return exc.reason
            return "valid"  # pragma: no cover

        raise _batch_error(kind, "identifier", s, s.index, bad, reason, mask=kind != "uscc")
    out = np.full(len(s), None, dtype=object)
    for flag, k, norm in (
        (is_rid, "resident_id", normalize_resident_ids),
        (is_org, "uscc", normalize_usccs),
    ):
        if flag.any():
            normalized = norm(s[flag]).to_numpy(dtype=object)
            out[flag] = [_hmac_hex(raw, k, v) for v in normalized]  # hmac has no vector form
    return pd.Series(out, index=s.index, name=s.name)


#: A resident-ID-shaped token inside free text: 18 characters (17 digits + digit or X) or 15 digits.
_ID_TOKEN = re.compile(r"(?<![0-9A-Za-z])(?:\d{17}[0-9Xx]|\d{15})(?![0-9A-Za-z])")


def mask_ids_in_text(text: str) -> str:
    """Mask every resident-ID-shaped token inside ``text``.

    Parameters
    ----------
    text : str
        Any text (a cell, a message, a whole page).

    Returns
    -------
    str
        ``text`` with each 18-character (or legacy 15-digit) ID-shaped token replaced by
        :func:`ruralcredit.ids.mask_resident_id` of it, valid checksum or not.

    Examples
    --------
    >>> mask_ids_in_text("户主 11010519491231002X 已评级")
    '户主 110105********002X 已评级'
    """
    return _ID_TOKEN.sub(lambda m: mask_resident_id(m.group(0)), text)
