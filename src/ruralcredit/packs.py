"""Policy packs: versioned, dated YAML configuration validated by pydantic (DESIGN.md section 4).

Everything a county or bank may set differently (indicator templates, loan terms, credit-village
criteria, eligibility policies, warning rules) is a *policy pack*: a YAML document with a header

.. code-block:: yaml

    id: household-kunming            # stable identifier
    kind: template                   # what the payload is
    version: "2026.1"
    effective_from: 2026-01-01
    effective_to: null               # optional, inclusive
    jurisdiction: "5301"             # division-code prefix it applies to (Kunming)
    source: "..."                    # legal or documentary reference
    payload: {...}                   # validated by the pack kind's own pydantic model

A file may hold several versions as separate YAML documents (``---``). Built-in packs ship inside
the package (``ruralcredit/templates/builtin/<kind>/<id>.yaml``); a user passes a path to override.
A pack is chosen by date: the version with the newest ``effective_from`` on or before ``as_of``
whose ``effective_to`` has not passed. A date that no version covers raises
:class:`~ruralcredit.errors.PolicyError`; there is never a silent default.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Iterable, Sequence
from importlib import resources
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ruralcredit.errors import PolicyError
from ruralcredit.schema import parse_as_of

__all__ = [
    "PolicyPack",
    "as_date",
    "builtin_pack_ids",
    "load_pack",
    "load_packs",
    "pack_hash",
    "select_pack",
]

PackT = TypeVar("PackT", bound="PolicyPack")

_ID_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,99}$")


class PolicyPack(BaseModel):
    """Base of every policy pack: the dated, versioned header.

    Subclasses set ``KIND`` and declare ``payload`` with their own pydantic model.
    Instances are immutable.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    KIND: ClassVar[str] = ""

    id: str = Field(description="stable identifier, lowercase")
    kind: str
    version: str = Field(min_length=1, max_length=40)
    effective_from: dt.date
    effective_to: dt.date | None = None
    jurisdiction: str = Field(description="division-code prefix (2-12 digits) the pack applies to")
    source: str = Field(min_length=3, description="legal or documentary reference")
    title: str = ""
    notes: str = ""

    @field_validator("id")
    @classmethod
    def _check_id(cls, v: str) -> str:
        if not _ID_RE.match(v):
            raise ValueError("id must be lowercase letters, digits, '.', '_' or '-'")
        return v

    @field_validator("version", mode="before")
    @classmethod
    def _version_text(cls, v: Any) -> Any:
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            raise ValueError("version must be quoted text (e.g. \"2026.1\"), so 1.10 is not read as 1.1")
        return v

    @field_validator("jurisdiction", mode="before")
    @classmethod
    def _check_jurisdiction(cls, v: Any) -> Any:
        if not isinstance(v, str) or not re.fullmatch(r"\d{2,12}", v):
            raise ValueError("jurisdiction must be a quoted division-code prefix of 2 to 12 digits, e.g. \"5301\"")
        return v

    @model_validator(mode="after")
    def _check_header(self) -> PolicyPack:
        if self.KIND and self.kind != self.KIND:
            raise ValueError(f"kind must be {self.KIND!r} for this pack type, got {self.kind!r}")
        if self.effective_to is not None and self.effective_to < self.effective_from:
            raise ValueError("effective_to is before effective_from")
        return self

    @property
    def policy_hash(self) -> str:
        """SHA-256 of the pack's canonical JSON form (recorded with every decision)."""
        return pack_hash(self)

    def covers(self, as_of: Any) -> bool:
        """Whether the pack is in force on ``as_of``."""
        day = parse_as_of(as_of).date()
        return self.effective_from <= day and (self.effective_to is None or day <= self.effective_to)

    def applies_to(self, division_code: str) -> bool:
        """Whether a division code lies inside the pack's jurisdiction."""
        return str(division_code).startswith(self.jurisdiction)

    def describe(self) -> dict[str, Any]:
        """The header fields recorded beside every result: id, version, hash, source."""
        return {
            "policy_id": self.id,
            "policy_version": self.version,
            "policy_hash": self.policy_hash,
            "policy_source": self.source,
        }


def pack_hash(pack: BaseModel) -> str:
    """SHA-256 hex digest of a pack's canonical JSON (sorted keys, no whitespace)."""
    data = pack.model_dump(mode="json")
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _field_path(loc: Sequence[Any]) -> str:
    return ".".join(str(p) for p in loc)


def _parse_documents(text: str, file: str) -> list[Any]:
    try:
        docs = [d for d in yaml.safe_load_all(text) if d is not None]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        raise PolicyError(f"not valid YAML{where}: {getattr(exc, 'problem', exc)}", file=file) from exc
    if not docs:
        raise PolicyError("the file holds no policy pack", file=file)
    return docs


def _validate_document(doc: Any, model: type[PackT], file: str, index: int, many: bool) -> PackT:
    prefix = f"document {index + 1}: " if many else ""
    if not isinstance(doc, dict):
        raise PolicyError(f"{prefix}a policy pack must be a mapping, got {type(doc).__name__}", file=file)
    pack_id = doc.get("id") if isinstance(doc.get("id"), str) else None
    try:
        return model.model_validate(doc)
    except ValidationError as exc:
        err = exc.errors()[0]
        more = f" (and {exc.error_count() - 1} more problem(s))" if exc.error_count() > 1 else ""
        raise PolicyError(f"{prefix}{err['msg']}{more}", file=file, field=_field_path(err["loc"]) or None,
                          pack_id=pack_id) from exc


def load_packs(source: str | Path | dict[str, Any] | Iterable[dict[str, Any]],
               model: type[PackT]) -> list[PackT]:
    """Load every version of a pack from a YAML file, a directory of YAML files, or mappings.

    Parameters
    ----------
    source : path, mapping or iterable of mappings
        A ``.yaml``/``.yml`` file (one or more documents), a directory (all its YAML files), or
        already-parsed mappings (handy in tests).
    model : type
        The pack kind's pydantic model (a :class:`PolicyPack` subclass).

    Returns
    -------
    list
        The validated packs, sorted by ``effective_from``.

    Raises
    ------
    PolicyError
        Naming the file (and document), the pack id and the offending field, for unreadable files,
        bad YAML, failed validation, or two versions of one id starting on the same day.
    """
    packs: list[PackT] = []
    if isinstance(source, dict):
        packs.append(_validate_document(source, model, "<mapping>", 0, False))
    elif isinstance(source, (str, Path)):
        path = Path(source)
        if path.is_dir():
            files = sorted([*path.glob("*.yaml"), *path.glob("*.yml")])
            if not files:
                raise PolicyError("no .yaml files in the directory", file=str(path))
        elif path.is_file():
            files = [path]
        else:
            raise PolicyError("no such file or directory", file=str(path))
        for f in files:
            try:
                text = f.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise PolicyError(f"cannot read: {exc}", file=str(f)) from exc
            docs = _parse_documents(text, str(f))
            packs.extend(_validate_document(d, model, str(f), i, len(docs) > 1) for i, d in enumerate(docs))
    else:
        docs = list(source)
        packs.extend(_validate_document(d, model, "<mapping>", i, len(docs) > 1) for i, d in enumerate(docs))
    seen: dict[tuple[str, dt.date], PackT] = {}
    for p in packs:
        k = (p.id, p.effective_from)
        if k in seen:
            raise PolicyError(f"two versions ({seen[k].version!r}, {p.version!r}) both start on "
                              f"{p.effective_from}", pack_id=p.id, field="effective_from")
        seen[k] = p
    return sorted(packs, key=lambda p: (p.id, p.effective_from))


def select_pack(packs: Sequence[PackT], as_of: Any, *, pack_id: str | None = None,
                jurisdiction: str | None = None) -> PackT:
    """The version in force on ``as_of``: newest ``effective_from`` <= as_of, not yet expired.

    Parameters
    ----------
    packs : sequence of packs
    as_of : date-like
    pack_id : str, optional
        Consider only this id (required when ``packs`` hold several ids).
    jurisdiction : str, optional
        A division code; only packs whose jurisdiction is a prefix of it are considered, the most
        specific (longest prefix) winning over a wider one.

    Raises
    ------
    PolicyError
        When no version covers the date (never a silent default), or the choice is ambiguous.
    """
    day = parse_as_of(as_of).date()
    cands = [p for p in packs if pack_id is None or p.id == pack_id]
    ids = {p.id for p in cands}
    if len(ids) > 1:
        raise PolicyError(f"several pack ids {sorted(ids)}: name one", pack_id=pack_id)
    if jurisdiction is not None:
        cands = [p for p in cands if str(jurisdiction).startswith(p.jurisdiction)]
        if cands:
            longest = max(len(p.jurisdiction) for p in cands)
            cands = [p for p in cands if len(p.jurisdiction) == longest]
    live = [p for p in cands if p.effective_from <= day and (p.effective_to is None or day <= p.effective_to)]
    if not live:
        spans = ", ".join(f"{p.version}: {p.effective_from}..{p.effective_to or 'open'}" for p in cands)
        raise PolicyError(f"no version is in force on {day} (versions: {spans or 'none'})",
                          pack_id=pack_id or (next(iter(ids)) if ids else None))
    return max(live, key=lambda p: p.effective_from)


def _builtin_root() -> Path:
    return Path(str(resources.files("ruralcredit") / "templates" / "builtin"))


def builtin_pack_ids(kind: str) -> list[str]:
    """The ids of the built-in packs of one kind (e.g. ``"template"``, ``"loan_terms"``)."""
    root = _builtin_root() / kind
    if not root.is_dir():
        return []
    return sorted(p.stem for p in root.glob("*.yaml"))


def load_pack(name_or_path: str | Path, model: type[PackT], as_of: Any, *,
              jurisdiction: str | None = None) -> PackT:
    """Load a pack by built-in id or by path and choose the version in force on ``as_of``.

    Parameters
    ----------
    name_or_path : str or Path
        A built-in id of ``model.KIND`` (see :func:`builtin_pack_ids`), or a path to a YAML file or
        a directory of them.
    model : type
        The pack kind's model.
    as_of : date-like
    jurisdiction : str, optional
        Division code to match against the packs' jurisdictions.

    Raises
    ------
    PolicyError
        Unknown built-in id, bad file, or no version covering ``as_of``.
    """
    path = Path(name_or_path)
    as_text = str(name_or_path)
    if path.suffix in (".yaml", ".yml") or path.is_dir() or path.exists():
        packs = load_packs(path, model)
    else:
        builtin = _builtin_root() / model.KIND / f"{as_text}.yaml"
        if not builtin.is_file():
            raise PolicyError(f"no built-in {model.KIND} pack {as_text!r}; built-ins: "
                              f"{builtin_pack_ids(model.KIND)}; or pass a path to a YAML file",
                              pack_id=as_text)
        packs = load_packs(builtin, model)
    ids = {p.id for p in packs}
    pack_id = as_text if as_text in ids else (next(iter(ids)) if len(ids) == 1 else None)
    return select_pack(packs, as_of, pack_id=pack_id, jurisdiction=jurisdiction)


def as_date(value: Any) -> dt.date:
    """``parse_as_of`` as a :class:`datetime.date` (helper for pack comparisons)."""
    ts: pd.Timestamp = parse_as_of(value)
    return ts.date()
