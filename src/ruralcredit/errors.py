"""Typed exceptions of ruralcredit.

Every error carries the structured details it names (table, columns, keys, file, field, ...) as
attributes, so that a calling service can act on them without parsing the message, and a message
that a person can act on. Nothing in the library coerces or drops bad input silently: it raises one
of these.

Hierarchy::

    RuralCreditError
    ├── InputError             an argument is invalid (an as_of date, a parameter out of range, ...)
    ├── SchemaError            a table breaks its contract (columns, dtypes, values, keys, references)
    ├── IdentifierError        an invalid resident ID number, USCC or division code
    ├── PolicyError            a malformed policy pack / template, or no version covers a date
    ├── ModelError             a scorer used wrongly (not fitted, protected input, bad features)
    │   └── ModelFileError     a saved model that is tampered with or of an incompatible version
    ├── RegistryError          an illegal blacklist operation (maker = checker, early repair, ...)
    ├── StoreError             storage failure or a broken hash chain
    └── CaseError              an illegal case transition
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = [
    "CaseError",
    "IdentifierError",
    "InputError",
    "ModelError",
    "ModelFileError",
    "PolicyError",
    "RegistryError",
    "RuralCreditError",
    "SchemaError",
    "StoreError",
]

#: At most this many offending keys are carried (and shown) by a SchemaError.
MAX_KEYS_SHOWN = 20


class RuralCreditError(Exception):
    """Base of every error raised by ruralcredit on purpose."""

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details: dict[str, Any] = details

    def __str__(self) -> str:
        return self.message


class InputError(RuralCreditError, ValueError):
    """An argument is invalid.

    Attributes
    ----------
    argument : str
        The argument's name.
    value : object
        The offending value (never a raw resident ID number).
    """

    def __init__(self, message: str, *, argument: str, value: Any = None) -> None:
        super().__init__(f"argument {argument!r}: {message}", argument=argument, value=value)
        self.argument = argument
        self.value = value


class SchemaError(RuralCreditError, ValueError):
    """A table breaks its contract.

    Attributes
    ----------
    table : str
        The table's name (e.g. ``"loans"``).
    columns : list of str
        The offending columns (may be empty for table-level problems).
    keys : list
        Up to 20 row keys of offending rows (the table's primary key values, or the row index).
    count : int
        How many rows offend in total.
    problem : str
        A short machine-readable problem code (``missing_columns``, ``dtype``, ``null``, ``range``,
        ``allowed``, ``duplicate_key``, ``reference``, ``identifier``, ``date``, ...).
    """

    def __init__(
        self,
        message: str,
        *,
        table: str,
        columns: Sequence[str] = (),
        keys: Sequence[Any] = (),
        count: int = 0,
        problem: str = "invalid",
    ) -> None:
        keys = list(keys)[:MAX_KEYS_SHOWN]
        cols = list(columns)
        full = f"table {table!r}"
        if cols:
            full += f", column(s) {cols}"
        full += f": {message}"
        if count:
            full += f" ({count} row(s)"
            if keys:
                full += f"; first keys: {keys}"
            full += ")"
        super().__init__(full, table=table, columns=cols, keys=keys, count=count, problem=problem)
        self.table = table
        self.columns = cols
        self.keys = keys
        self.count = count
        self.problem = problem


class IdentifierError(RuralCreditError, ValueError):
    """An identifier code is invalid.

    Attributes
    ----------
    kind : str
        ``"resident_id"``, ``"uscc"`` or ``"division_code"``.
    value : str
        The offending value, masked when it is a resident ID number.
    reason : str
        What is wrong (length, characters, check character, birth date, ...).
    """

    def __init__(self, message: str, *, kind: str, value: str = "", reason: str = "") -> None:
        super().__init__(message, kind=kind, value=value, reason=reason)
        self.kind = kind
        self.value = value
        self.reason = reason


class PolicyError(RuralCreditError, ValueError):
    """A policy pack or template is malformed, or no version covers the requested date.

    Attributes
    ----------
    file : str or None
        The file the pack came from, if any.
    field : str or None
        The offending field, as a dotted path (``"payload.indicators.3.bands"``).
    pack_id : str or None
        The pack's id, when known.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        field: str | None = None,
        pack_id: str | None = None,
    ) -> None:
        where = []
        if file:
            where.append(f"file {file}")
        if pack_id:
            where.append(f"pack {pack_id!r}")
        if field:
            where.append(f"field {field!r}")
        full = (", ".join(where) + ": " + message) if where else message
        super().__init__(full, file=file, field=field, pack_id=pack_id)
        self.file = file
        self.field = field
        self.pack_id = pack_id


class ModelError(RuralCreditError, ValueError):
    """A scorer is used wrongly: not fitted, a protected attribute as input, missing features, ..."""


class ModelFileError(ModelError):
    """A saved model failed its checksum or was written by an incompatible library version.

    Attributes
    ----------
    file : str
        The model file.
    """

    def __init__(self, message: str, *, file: str) -> None:
        super().__init__(f"model file {file}: {message}", file=file)
        self.file = file


class RegistryError(RuralCreditError):
    """An illegal blacklist-registry operation (self-approval, repair before the minimum period, ...).

    Attributes
    ----------
    listing_id : str or None
        The listing concerned, when there is one.
    code : str
        A machine-readable reason code.
    """

    def __init__(self, message: str, *, listing_id: str | None = None, code: str = "invalid") -> None:
        super().__init__(message, listing_id=listing_id, code=code)
        self.listing_id = listing_id
        self.code = code


class StoreError(RuralCreditError):
    """Storage failed, the schema version is incompatible, or the event chain is broken."""


class CaseError(RuralCreditError):
    """An illegal case transition or an unknown case.

    Attributes
    ----------
    case_id : str or None
    state : str or None
        The case's current state.
    action : str or None
        The refused action.
    """

    def __init__(
        self,
        message: str,
        *,
        case_id: str | None = None,
        state: str | None = None,
        action: str | None = None,
    ) -> None:
        super().__init__(message, case_id=case_id, state=state, action=action)
        self.case_id = case_id
        self.state = state
        self.action = action
