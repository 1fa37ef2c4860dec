"""Warning rules as policy packs (``kind: warning_rules``).

A rule names a signal (:data:`ruralcredit.risk.signals.SIGNALS`), may override the signal's
parameters, and sets the threshold of each severity it uses, blue < yellow < orange < red (DOMAIN.md
section 6). A subject fires when its measure passes the lowest threshold and gets the highest
severity whose threshold it passes, so thresholds escalate a warning::

    - id: overdue_escalation
      signal: overdue_days
      category: credit_deterioration
      op: ge                         # value >= threshold (gt, le, lt also allowed)
      levels: {blue: 1, yellow: 31, orange: 91, red: 181}
      text_zh: 借款人逾期{value}天（最长逾期贷款{loan_id}）
      text_en: borrower {value} days overdue (loan {loan_id})
      source: DOMAIN.md section 4; 贷款风险分类指引 ...

Texts may quote ``{value}`` (the signal's value), ``{threshold}``, ``{severity}`` and the signal's
measures and scalar evidence fields by name, with Python format specs (``{value:.0%}``); a rule
on another measure (``measure: total_amount``) quotes that measure by its name. The built-in pack is
``early-warning`` (``templates/builtin/warning_rules/early-warning.yaml``); a county passes its own
file instead. Thresholds are never constants in code.
"""

from __future__ import annotations

import re
import string
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ruralcredit.errors import PolicyError
from ruralcredit.packs import PolicyPack, load_pack
from ruralcredit.risk.signals import SIGNALS, SignalSpec

__all__ = [
    "OPS",
    "SEVERITIES",
    "SEVERITY_TEXT",
    "Rule",
    "WarningRules",
    "WarningRulesPayload",
    "load_rules",
]

#: Severity colours in rising order (DOMAIN.md section 6).
SEVERITIES = ("blue", "yellow", "orange", "red")
#: Chinese and English names of the severities.
SEVERITY_TEXT = {"blue": ("蓝色", "blue"), "yellow": ("黄色", "yellow"), "orange": ("橙色", "orange"),
                 "red": ("红色", "red")}
#: Comparison operators a rule may use: measure ``op`` threshold.
OPS = {"ge": ">=", "gt": ">", "le": "<=", "lt": "<"}

_RULE_ID = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_STANDARD_FIELDS = ("value", "threshold", "severity", "severity_zh")


def _same_kind(default: Any, value: Any) -> bool:
    if isinstance(default, bool):
        return isinstance(value, bool)
    if isinstance(default, (int, float)):
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if isinstance(default, (list, tuple)):
        return isinstance(value, (list, tuple))
    if isinstance(default, dict):
        return isinstance(value, dict)
    return isinstance(value, type(default))


class Rule(BaseModel):
    """One warning rule.

    Attributes
    ----------
    id : str
        Lowercase identifier, unique in its pack.
    signal : str
        A signal of :data:`~ruralcredit.risk.signals.SIGNALS`.
    category : str
        The risk pattern it belongs to (``illegal_fundraising``, ``impersonated_loan``, ...); cases group
        warnings by subject and category, village ratings count warnings by category.
    measure : str
        The signal's measure to threshold (default ``value``).
    params : dict
        Overrides of the signal's parameters.
    op : {"ge", "gt", "le", "lt"}
        How the measure is compared with the thresholds.
    levels : dict of severity to float
        The threshold of each severity used; they must escalate in the severity order.
    text_zh, text_en : str
        Warning texts (format templates).
    source : str
        The legal or documentary reference of the rule and its thresholds.
    enabled : bool
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    signal: str
    category: str = Field(min_length=1, max_length=64)
    measure: str = "value"
    params: dict[str, Any] = Field(default_factory=dict)
    op: Literal["ge", "gt", "le", "lt"] = "ge"
    levels: dict[Literal["blue", "yellow", "orange", "red"], float] = Field(min_length=1)
    text_zh: str = Field(min_length=1)
    text_en: str = Field(min_length=1)
    source: str = Field(min_length=3)
    enabled: bool = True

    @field_validator("id")
    @classmethod
    def _check_id(cls, v: str) -> str:
        if not _RULE_ID.match(v):
            raise ValueError("a rule id is lowercase letters, digits and '_', starting with a letter")
        return v

    @field_validator("signal")
    @classmethod
    def _check_signal(cls, v: str) -> str:
        if v not in SIGNALS:
            raise ValueError(f"unknown signal {v!r}; known: {sorted(SIGNALS)}")
        return v

    @model_validator(mode="after")
    def _check_rule(self) -> Rule:
        spec = SIGNALS[self.signal]
        unknown = sorted(set(self.params) - set(spec.params))
        if unknown:
            raise ValueError(f"signal {self.signal!r} has no parameter(s) {unknown}; it has {sorted(spec.params)}")
        for k, v in self.params.items():
            if not _same_kind(spec.params[k], v):
                raise ValueError(f"parameter {k!r} must be like {spec.params[k]!r}, got {v!r}")
        if spec.check is not None:
            spec.check(self.effective_params)
        if self.measure not in spec.measures:
            raise ValueError(f"signal {self.signal!r} has no measure {self.measure!r}; it has {list(spec.measures)}")
        ordered = [self.levels[s] for s in SEVERITIES if s in self.levels]
        rising = self.op in ("ge", "gt")
        for a, b in zip(ordered, ordered[1:], strict=False):
            if (rising and not a < b) or (not rising and not a > b):
                raise ValueError(f"levels must escalate with severity: with op {self.op!r} each higher severity "
                                 f"needs a {'larger' if rising else 'smaller'} threshold, got {self.levels}")
        allowed = {*_STANDARD_FIELDS, *spec.measures, *spec.fields}
        for name, template in (("text_zh", self.text_zh), ("text_en", self.text_en)):
            try:
                fields = [f for _, f, _, _ in string.Formatter().parse(template) if f is not None]
            except ValueError as exc:
                raise ValueError(f"{name}: not a valid text template: {exc}") from None
            bad = sorted({f.split(".")[0].split("[")[0] for f in fields} - allowed)
            if bad or any(f == "" for f in fields):
                raise ValueError(f"{name} quotes unknown field(s) {bad or ['{}']}; allowed: {sorted(allowed)}")
        return self

    @property
    def spec(self) -> SignalSpec:
        """The signal's specification."""
        return SIGNALS[self.signal]

    @property
    def effective_params(self) -> dict[str, Any]:
        """The signal's default parameters with this rule's overrides."""
        return {**self.spec.params, **self.params}

    def thresholds(self) -> list[tuple[str, float]]:
        """(severity, threshold) pairs in rising severity."""
        return [(s, float(self.levels[s])) for s in SEVERITIES if s in self.levels]


class WarningRulesPayload(BaseModel):
    """Payload of a warning-rules pack: the rules."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rules: list[Rule] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> WarningRulesPayload:
        seen: set[str] = set()
        for r in self.rules:
            if r.id in seen:
                raise ValueError(f"rule id {r.id!r} appears twice")
            seen.add(r.id)
        return self


class WarningRules(PolicyPack):
    """A dated pack of warning rules (``kind: warning_rules``)."""

    KIND = "warning_rules"
    payload: WarningRulesPayload

    def rule(self, rule_id: str) -> Rule:
        """The rule called ``rule_id``.

        Raises
        ------
        PolicyError
            When the pack has no such rule.
        """
        for r in self.payload.rules:
            if r.id == rule_id:
                return r
        raise PolicyError(f"no rule {rule_id!r}; rules: {[r.id for r in self.payload.rules]}", pack_id=self.id)

    def select(self, rule_ids: Sequence[str] | None = None, *, kinds: Sequence[str] | None = None) -> list[Rule]:
        """Enabled rules, optionally only the named ones (in the pack's order) or of some signal kinds.

        Raises
        ------
        PolicyError
            For a named rule the pack does not have.
        """
        if rule_ids is not None:
            if isinstance(rule_ids, str):
                rule_ids = [rule_ids]
            wanted = [self.rule(i) for i in rule_ids]
            names = {r.id for r in wanted}
            rules = [r for r in self.payload.rules if r.id in names]
        else:
            rules = [r for r in self.payload.rules if r.enabled]
        if kinds is not None:
            rules = [r for r in rules if r.spec.kind in kinds]
        return rules


def load_rules(source: str | Path | WarningRules = "early-warning", as_of: Any = None, *,
               jurisdiction: str | None = None) -> WarningRules:
    """The warning-rules pack in force on ``as_of``.

    Parameters
    ----------
    source : str, Path or WarningRules
        A built-in id (``"early-warning"``), a path to a YAML file or directory, or a pack (returned
        as it is after checking that it covers ``as_of``).
    as_of : date-like
    jurisdiction : str, optional
        Division code for choosing among packs of several jurisdictions.

    Raises
    ------
    PolicyError
        Unknown pack, malformed file, or no version in force on ``as_of``.
    """
    if isinstance(source, WarningRules):
        if as_of is not None and not source.covers(as_of):
            raise PolicyError(f"version {source.version} is not in force on {as_of}", pack_id=source.id)
        return source
    return load_pack(source, WarningRules, as_of, jurisdiction=jurisdiction)
