"""Coaching relationships and what leads to them (seeds 000 and 001).

A member may have several coaches, each through a :class:`CoachingRelationship`
that moves ``pending -> active <-> paused -> completed`` (an active one may
also be completed directly). Relationships may cross organizations. Pure
attrs entities and transition rules; no I/O, no clock reads.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any

import attrs

from coachcore.domain import checks
from coachcore.errors import BusinessRuleViolation


def _aware(_: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    checks.aware(attribute.name, value)


def _optional_aware(_: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    checks.optional_aware(attribute.name, value)


class RelationshipStatus(StrEnum):
    PENDING = "pending"
    ACTIVE = "active"
    PAUSED = "paused"
    COMPLETED = "completed"


#: status -> the statuses a relationship may move to from there
RELATIONSHIP_MOVES: Mapping[RelationshipStatus, frozenset[RelationshipStatus]] = {
    RelationshipStatus.PENDING: frozenset({RelationshipStatus.ACTIVE}),
    RelationshipStatus.ACTIVE: frozenset({RelationshipStatus.PAUSED, RelationshipStatus.COMPLETED}),
    RelationshipStatus.PAUSED: frozenset({RelationshipStatus.ACTIVE, RelationshipStatus.COMPLETED}),
    RelationshipStatus.COMPLETED: frozenset(),
}

OPEN_RELATIONSHIP = frozenset(
    {RelationshipStatus.PENDING, RelationshipStatus.ACTIVE, RelationshipStatus.PAUSED}
)
"""Statuses of a relationship that is not over; a coach and a member have at most one."""


@attrs.frozen(kw_only=True)
class CoachingRelationship:
    """A coach coaching a member; ``requested_by`` is the user who asked for it."""

    id: str
    coach_id: str
    member_id: str
    status: RelationshipStatus = RelationshipStatus.PENDING
    requested_by: str
    started_at: datetime | None = attrs.field(default=None, validator=_optional_aware)
    ended_at: datetime | None = attrs.field(default=None, validator=_optional_aware)
    created_at: datetime = attrs.field(validator=_aware)
    updated_at: datetime = attrs.field(validator=_aware)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_RELATIONSHIP

    def move(self, to: RelationshipStatus, now: datetime) -> CoachingRelationship:
        """The relationship in status ``to``; an invalid move is a 422."""
        if to not in RELATIONSHIP_MOVES[self.status]:
            raise BusinessRuleViolation(
                f"A {self.status} relationship cannot become {to}",
                details={"from": str(self.status), "to": str(to)},
            )
        changes: dict[str, Any] = {"status": to, "updated_at": now}
        if to == RelationshipStatus.ACTIVE and self.started_at is None:
            changes["started_at"] = now
        if to == RelationshipStatus.COMPLETED:
            changes["ended_at"] = now
        return attrs.evolve(self, **changes)
