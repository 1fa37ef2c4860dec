"""The blacklist policy pack: publicity periods per severity, repair rules and joint punishment.

Built-in: ``credit-repair`` (``templates/builtin/blacklist/credit-repair.yaml``). A county or bank
passes its own file to :class:`~ruralcredit.blacklist.Registry` instead.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ruralcredit.blacklist.vocabulary import REMOVAL_REASONS, SEVERITIES
from ruralcredit.packs import PolicyPack
from ruralcredit.schema import ROLE_TYPES

__all__ = ["BlacklistPayload", "BlacklistPolicy", "JointRules", "Publicity"]


class Publicity(BaseModel):
    """Publicity of one severity: whether it is published, and its minimum and maximum periods."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    published: bool
    min_months: int | None = Field(default=None, ge=0, le=600)
    max_months: int | None = Field(default=None, ge=1, le=600)

    @model_validator(mode="after")
    def _periods(self) -> Publicity:
        if self.published:
            if self.min_months is None or self.max_months is None:
                raise ValueError("a published severity needs min_months and max_months")
            if self.min_months > self.max_months:
                raise ValueError("min_months exceeds max_months")
        elif self.min_months is not None or self.max_months is not None:
            raise ValueError("an unpublished severity has no publicity periods")
        return self


class JointRules(BaseModel):
    """How far a listing reaches (联合惩戒).

    Attributes
    ----------
    roles : list of str
        Roles in a listed organisation that a listing reaches (legal representative, principal, actual
        controller, directly responsible persons).
    after_role_end : {"keep", "stop"}
        ``keep``: a person who held the role at any time while the organisation was listed stays reached
        after leaving the role (no retroactive clearing by a change of legal representative); ``stop``:
        reached only while holding it. Either way nobody is reached for days before taking the role.
    person_to_entity : bool
        Whether a listed person's listing shows on the entities where they hold one of
        ``person_to_entity_roles`` (for the days they hold it).
    person_to_entity_roles : list of str
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    roles: list[Literal[ROLE_TYPES]] = Field(min_length=1)  # type: ignore[valid-type]
    after_role_end: Literal["keep", "stop"] = "keep"
    person_to_entity: bool = False
    person_to_entity_roles: list[Literal[ROLE_TYPES]] = Field(default_factory=list)  # type: ignore[valid-type]


class BlacklistPayload(BaseModel):
    """Payload of a blacklist pack."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    publicity: dict[Literal["minor", "ordinary", "serious"], Publicity]
    reasons_after_minimum: list[str] = Field(
        default_factory=lambda: ["credit_repair", "repaid"],
        description="removal reasons that may only be requested once the minimum period has passed")
    reasons_need_obligations: list[str] = Field(
        default_factory=lambda: ["credit_repair", "repaid"],
        description="removal reasons that require the subject's obligations to be met")
    joint: JointRules

    @model_validator(mode="after")
    def _complete(self) -> BlacklistPayload:
        missing = sorted(set(SEVERITIES) - set(self.publicity))
        if missing:
            raise ValueError(f"publicity misses severities {missing}")
        for field in (self.reasons_after_minimum, self.reasons_need_obligations):
            unknown = sorted(set(field) - set(REMOVAL_REASONS))
            if unknown:
                raise ValueError(f"unknown removal reasons {unknown}; known: {sorted(REMOVAL_REASONS)}")
        return self


class BlacklistPolicy(PolicyPack):
    """A dated blacklist policy pack (``kind: blacklist``)."""

    KIND = "blacklist"
    payload: BlacklistPayload
