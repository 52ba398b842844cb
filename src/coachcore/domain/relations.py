"""Coaching relationships and what leads to them: invitations.

A member may have several coaches, each through a :class:`CoachingRelationship`
that moves ``pending -> active <-> paused -> completed`` (an active one may
also be completed directly); a pending request may instead be ``declined`` by
the side it was addressed to or ``withdrawn`` by the side that made it.
Relationships may cross organizations. Pure
attrs entities and transition rules; no I/O, no clock reads.
"""

from __future__ import annotations

import hashlib
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
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"


#: status -> the statuses a relationship may move to from there
RELATIONSHIP_MOVES: Mapping[RelationshipStatus, frozenset[RelationshipStatus]] = {
    RelationshipStatus.PENDING: frozenset(
        {RelationshipStatus.ACTIVE, RelationshipStatus.DECLINED, RelationshipStatus.WITHDRAWN}
    ),
    RelationshipStatus.ACTIVE: frozenset({RelationshipStatus.PAUSED, RelationshipStatus.COMPLETED}),
    RelationshipStatus.PAUSED: frozenset({RelationshipStatus.ACTIVE, RelationshipStatus.COMPLETED}),
    RelationshipStatus.COMPLETED: frozenset(),
    RelationshipStatus.DECLINED: frozenset(),
    RelationshipStatus.WITHDRAWN: frozenset(),
}

ENDED_REQUEST = frozenset({RelationshipStatus.DECLINED, RelationshipStatus.WITHDRAWN})
"""Statuses of a request that ended before it became a relationship."""
MAX_DECLINE_REASON = 1000
ENDED_BY_ROLE_CHANGE = "The other side's role changed"
"""The decline reason of a request ended because a party's role changed."""

OPEN_RELATIONSHIP = frozenset(
    {RelationshipStatus.PENDING, RelationshipStatus.ACTIVE, RelationshipStatus.PAUSED}
)
"""Statuses of a relationship that is not over; a coach and a member have at most one."""


@attrs.frozen(kw_only=True)
class CoachingRelationship:
    """A coach coaching a member; ``requested_by`` is the user who asked for it.

    ``ended_at`` is when it was completed, declined or withdrawn;
    ``decline_reason`` what the declining side said, if anything.
    """

    id: str
    coach_id: str
    member_id: str
    status: RelationshipStatus = RelationshipStatus.PENDING
    requested_by: str
    started_at: datetime | None = attrs.field(default=None, validator=_optional_aware)
    ended_at: datetime | None = attrs.field(default=None, validator=_optional_aware)
    decline_reason: str | None = None
    created_at: datetime = attrs.field(validator=_aware)
    updated_at: datetime = attrs.field(validator=_aware)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_RELATIONSHIP

    def addressee_ids(self) -> frozenset[str]:
        """Who may accept or decline the request: the parties that did not make it."""
        return frozenset({self.coach_id, self.member_id} - {self.requested_by})

    def move(
        self, to: RelationshipStatus, now: datetime, *, reason: str | None = None
    ) -> CoachingRelationship:
        """The relationship in status ``to`` (``reason``: why it was declined);
        an invalid move is a 422."""
        if to not in RELATIONSHIP_MOVES[self.status]:
            raise BusinessRuleViolation(
                f"A {self.status} relationship cannot become {to}",
                details={"from": str(self.status), "to": str(to)},
            )
        changes: dict[str, Any] = {"status": to, "updated_at": now}
        if to == RelationshipStatus.ACTIVE and self.started_at is None:
            changes["started_at"] = now
        if to == RelationshipStatus.COMPLETED or to in ENDED_REQUEST:
            changes["ended_at"] = now
        if to == RelationshipStatus.DECLINED:
            changes["decline_reason"] = reason
        return attrs.evolve(self, **changes)


class InvitationStatus(StrEnum):
    """Stored statuses, plus ``expired``: a pending invitation past ``expires_at``
    (derived, never stored)."""

    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    REVOKED = "revoked"
    EXPIRED = "expired"


def token_digest(token: str) -> str:
    """The stored form of an invitation token (SHA-256, hex); tokens are never stored."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


_UNUSABLE = {
    InvitationStatus.ACCEPTED: "This invitation has already been used",
    InvitationStatus.DECLINED: "This invitation was declined",
    InvitationStatus.REVOKED: "This invitation was revoked",
    InvitationStatus.EXPIRED: "This invitation has expired",
}


@attrs.frozen(kw_only=True)
class Invitation:
    """A coach's invitation of a client by email, answered with a secret token.

    Only the token's digest is kept (``token_hash``); the token itself goes to
    the invitee once, in the invitation email, and to the inviting caller.
    ``invitee_id`` binds the invitation to the user who owned ``email`` when
    it was made: only that user (or the host) may answer it.
    """

    id: str
    coach_id: str
    email: str
    invitee_id: str | None = None
    name: str | None = None
    message: str | None = None
    token_hash: str
    status: InvitationStatus = InvitationStatus.PENDING
    expires_at: datetime = attrs.field(validator=_aware)
    member_id: str | None = None
    relationship_id: str | None = None
    responded_at: datetime | None = attrs.field(default=None, validator=_optional_aware)
    created_at: datetime = attrs.field(validator=_aware)
    updated_at: datetime = attrs.field(validator=_aware)

    def status_at(self, now: datetime) -> InvitationStatus:
        """The status, with a pending invitation past its expiry as ``expired``."""
        if self.status == InvitationStatus.PENDING and now >= self.expires_at:
            return InvitationStatus.EXPIRED
        return self.status

    def check_usable(self, now: datetime) -> None:
        """Raise BusinessRuleViolation (422, ``details["reason"]``) unless the
        invitation can still be accepted or declined."""
        status = self.status_at(now)
        if status != InvitationStatus.PENDING:
            raise BusinessRuleViolation(
                _UNUSABLE[status], details={"reason": str(status), "invitation_id": self.id}
            )

    def answer(
        self,
        status: InvitationStatus,
        now: datetime,
        *,
        member_id: str | None = None,
        relationship_id: str | None = None,
    ) -> Invitation:
        """Accepted, declined or revoked, once, while pending and not expired."""
        self.check_usable(now)
        return attrs.evolve(
            self,
            status=status,
            member_id=member_id,
            relationship_id=relationship_id,
            responded_at=now,
            updated_at=now,
        )


class InterestStatus(StrEnum):
    NEW = "new"
    HANDLED = "handled"


@attrs.frozen(kw_only=True)
class CoachingInterest:
    """A member without a coach asks to be matched; admins handle it."""

    id: str
    member_id: str
    goals: str
    preferred_times: str | None = None
    notes: str | None = None
    status: InterestStatus = InterestStatus.NEW
    handled_by: str | None = None
    handled_at: datetime | None = attrs.field(default=None, validator=_optional_aware)
    handling_note: str | None = None
    created_at: datetime = attrs.field(validator=_aware)
    updated_at: datetime = attrs.field(validator=_aware)

    def handle(self, by: str, now: datetime, note: str | None = None) -> CoachingInterest:
        """Marked handled, once (a second time is a 422)."""
        if self.status == InterestStatus.HANDLED:
            raise BusinessRuleViolation(
                "This interest submission is already handled", details={"interest_id": self.id}
            )
        return attrs.evolve(
            self,
            status=InterestStatus.HANDLED,
            handled_by=by,
            handled_at=now,
            handling_note=note,
            updated_at=now,
        )


@attrs.frozen(kw_only=True)
class MemberSessionSettings:
    """A member's preferences for their coaching sessions.

    ``share_context_with_coach`` (default on) lets the member's coaches see the
    member's goals and ``shared_context``; off, coaches see neither. Settings
    never stored have ``created_at``/``updated_at`` None and the defaults.
    """

    member_id: str
    share_context_with_coach: bool = True
    shared_context: str | None = None
    created_at: datetime | None = attrs.field(default=None, validator=_optional_aware)
    updated_at: datetime | None = attrs.field(default=None, validator=_optional_aware)
