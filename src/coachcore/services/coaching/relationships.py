"""Coaching relationships: request, accept, decline, withdraw, pause, resume,
complete, and the member's coaching overview (seed 000's "connected" /
"unconnected" page)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs

from coachcore.domain import checks
from coachcore.domain.entities import CoachProfile, User
from coachcore.domain.enums import NotificationKind
from coachcore.domain.relations import (
    MAX_DECLINE_REASON,
    CoachingRelationship,
    InterestStatus,
    MemberSessionSettings,
    RelationshipStatus,
)
from coachcore.errors import BusinessRuleViolation, Conflict, Forbidden, NotFound
from coachcore.policies import relations as policy
from coachcore.ports.storage import UnitOfWork
from coachcore.services.accounts.coaches import with_stats
from coachcore.services.accounts.profiles import require_coach_role, require_member_role
from coachcore.services.compliance import audit
from coachcore.services.delivery import outgoing
from coachcore.services.runtime import records
from coachcore.services.runtime.transaction import Tx, UseCases, new_id

CONNECTED = "connected"
UNCONNECTED = "unconnected"


@attrs.frozen(kw_only=True)
class CoachConnection:
    """One of the member's coaches: the user, the profile (with live statistics),
    and the relationship (None for a primary coach assigned without one)."""

    coach: User
    profile: CoachProfile
    relationship: CoachingRelationship | None = None
    is_primary: bool = False


@attrs.frozen(kw_only=True)
class CoachingOverview:
    """What a member's coaching page shows.

    ``state`` is ``"connected"`` when the member has a primary coach or an
    active or paused relationship (``coaches`` lists them), else
    ``"unconnected"`` with ``coaches`` empty. ``pending`` holds open requests;
    ``next_steps`` names what the member can do next, e.g. ``"book_session"``,
    ``"accept_request"``, ``"await_coach"``, ``"submit_interest"``.
    ``settings`` are the member's session settings (stored or default).
    """

    member_id: str
    state: str
    coaches: tuple[CoachConnection, ...] = ()
    pending: tuple[CoachingRelationship, ...] = ()
    next_steps: tuple[str, ...] = ()
    settings: MemberSessionSettings | None = None


def relationship(uow: UnitOfWork, relationship_id: object) -> CoachingRelationship:
    key = checks.identifier("relationship_id", relationship_id)
    found = uow.relationships.get(key)
    if found is None:
        raise NotFound("Relationship not found", details={"relationship_id": key})
    return found


def open_between(uow: UnitOfWork, coach_id: str, member_id: str) -> CoachingRelationship | None:
    """The pair's relationship that is not completed, if any (there is at most one)."""
    for found in uow.relationships.list(member_id=member_id):
        if found.coach_id == coach_id and found.is_open:
            return found
    return None


def active_between(uow: UnitOfWork, coach_id: str, member_id: str) -> bool:
    """True if the coach and the member have an active relationship."""
    found = open_between(uow, coach_id, member_id)
    return found is not None and found.status == RelationshipStatus.ACTIVE


def start(
    tx: Tx,
    coach_id: str,
    member_id: str,
    *,
    status: RelationshipStatus = RelationshipStatus.PENDING,
    requested_by: str | None = None,
) -> CoachingRelationship:
    """A new relationship between an active coach and an active member (409 if
    the pair already has one that is not completed). Policies are the caller's."""
    for key in sorted({coach_id, member_id}):  # before reading roles, in one order:
        tx.uow.lock_coach(key)  # a role change of either side locks its key too
    coach = records.active_user(tx.uow, coach_id, "coach_id")
    records.coach(tx.uow, coach.id)
    require_coach_role(tx, coach)
    member = records.active_user(tx.uow, member_id, "member_id")
    records.member(tx.uow, member.id)
    require_member_role(tx, member)
    if open_between(tx.uow, coach.id, member.id) is not None:
        raise Conflict(
            "This coach and member already have an open relationship",
            details={"coach_id": coach.id, "member_id": member.id},
        )
    started = tx.now if status == RelationshipStatus.ACTIVE else None
    created = CoachingRelationship(
        id=new_id(),
        coach_id=coach.id,
        member_id=member.id,
        status=status,
        requested_by=requested_by or tx.actor.user_id,
        started_at=started,
        created_at=tx.now,
        updated_at=tx.now,
    )
    tx.uow.relationships.add(created)
    audit.record(
        tx,
        "relationship.created",
        "relationship",
        created.id,
        coach_id=coach.id,
        member_id=member.id,
        status=created.status,
    )
    return created


_ENDED_NOTICE = {
    RelationshipStatus.DECLINED: (
        NotificationKind.RELATIONSHIP_DECLINED,
        "Coaching request declined",
        "{actor} declined the coaching request.",
    ),
    RelationshipStatus.WITHDRAWN: (
        NotificationKind.RELATIONSHIP_WITHDRAWN,
        "Coaching request withdrawn",
        "{actor} withdrew the coaching request.",
    ),
}


def move(
    tx: Tx, found: CoachingRelationship, to: RelationshipStatus, *, reason: str | None = None
) -> CoachingRelationship:
    """Store the relationship moved to ``to`` (compare-and-set), audit it, and
    tell the other people involved when a request is declined or withdrawn.
    Policies are the caller's."""
    if to == RelationshipStatus.ACTIVE:
        tx.uow.lock_coach(found.coach_id)
        coach = records.user(tx.uow, found.coach_id)
        member = records.user(tx.uow, found.member_id)
        for user, field in ((coach, "coach_id"), (member, "member_id")):
            if not user.is_active:
                raise BusinessRuleViolation(f"{field} is not an active user")
        require_coach_role(tx, coach)
        require_member_role(tx, member)
    moved = found.move(to, tx.now, reason=reason)
    tx.uow.relationships.update(moved)
    audit.record(
        tx,
        "relationship.status_changed",
        "relationship",
        moved.id,
        old=found.status,
        new=moved.status,
    )
    notice = _ENDED_NOTICE.get(to)
    if notice is not None:
        kind, title, body = notice
        actor = tx.uow.users.get(tx.actor.user_id)
        text = body.format(actor=actor.name if actor is not None else "An administrator")
        if reason:
            text = f"{text}\nReason: {reason}"
        involved = {found.coach_id, found.member_id, found.requested_by}
        for recipient in sorted(involved - {tx.actor.user_id}):
            if tx.uow.users.get(recipient) is not None:
                outgoing.notify(tx, recipient, kind, title, text)
    return moved


def _connections(
    tx: Tx, member_id: str
) -> tuple[list[CoachConnection], list[CoachingRelationship]]:
    profile = records.member(tx.uow, member_id)
    rows = tx.uow.relationships.list(member_id=member_id)
    current = [
        r for r in rows if r.status in (RelationshipStatus.ACTIVE, RelationshipStatus.PAUSED)
    ]
    pending = [r for r in rows if r.status == RelationshipStatus.PENDING]
    coaches: list[CoachConnection] = []
    seen: set[str] = set()
    for rel in current:
        if rel.coach_id in seen:
            continue
        seen.add(rel.coach_id)
        coaches.append(_connection(tx, rel.coach_id, rel, profile.coach_id == rel.coach_id))
    if profile.coach_id is not None and profile.coach_id not in seen:
        coaches.insert(0, _connection(tx, profile.coach_id, None, True))
    coaches.sort(key=lambda c: not c.is_primary)
    return coaches, pending


def _connection(
    tx: Tx, coach_id: str, rel: CoachingRelationship | None, primary: bool
) -> CoachConnection:
    user = records.user(tx.uow, coach_id)
    profile = with_stats(tx.uow, records.coach(tx.uow, coach_id))
    return CoachConnection(coach=user, profile=profile, relationship=rel, is_primary=primary)


def overview(tx: Tx, member_id: str, *, interest_open: bool = False) -> CoachingOverview:
    """The member's coaches (connected) or the next steps (unconnected);
    ``interest_open``: the member has an interest submission not yet handled."""
    coaches, pending = _connections(tx, member_id)
    steps: list[str] = []
    if coaches:
        steps.append("book_session")
    if any(p.requested_by != member_id for p in pending):
        steps.append("accept_request")
    if any(p.requested_by == member_id for p in pending):
        steps.append("await_coach")
    if not coaches and not pending:
        steps.append("await_admin" if interest_open else "submit_interest")
    return CoachingOverview(
        member_id=member_id,
        state=CONNECTED if coaches else UNCONNECTED,
        coaches=tuple(coaches),
        pending=tuple(pending),
        next_steps=tuple(steps),
        settings=tx.uow.session_settings.get(member_id)
        or MemberSessionSettings(member_id=member_id),
    )


def _mover(
    relationship_id: Any, to: RelationshipStatus, reason: str | None = None
) -> Callable[[Tx], CoachingRelationship]:
    """The use case moving one relationship to ``to``, checked by its policy."""

    def run(tx: Tx) -> CoachingRelationship:
        found = relationship(tx.uow, relationship_id)
        policy.check_move_relationship(tx.actor, found, to)
        return move(tx, found, to, reason=reason)

    return run


class Relationships(UseCases):
    """``scope.relationships``: who coaches whom, across organizations."""

    def request(self, *, coach_id: Any, member_id: Any = None) -> CoachingRelationship:
        """A pending relationship: a coach asks to coach a member, a member asks
        for a coach (``member_id`` defaults to the actor); admins for anyone."""
        coach = checks.identifier("coach_id", coach_id)
        member = checks.optional_identifier("member_id", member_id)

        def run(tx: Tx) -> CoachingRelationship:
            who = member or tx.actor.user_id
            policy.check_request_relationship(tx.actor, coach, who)
            return start(tx, coach, who)

        return self._rt.write(self._actor, run, action="relationships.request")

    def get(self, relationship_id: Any) -> CoachingRelationship:
        def run(tx: Tx) -> CoachingRelationship:
            found = relationship(tx.uow, relationship_id)
            policy.check_view_relationship(tx.actor, found)
            return found

        return self._rt.read(self._actor, run)

    def list(
        self, *, coach_id: Any = None, member_id: Any = None, status: Any = None
    ) -> list[CoachingRelationship]:
        """The actor's relationships (all for admins), oldest first, filtered."""
        coach = checks.optional_identifier("coach_id", coach_id)
        member = checks.optional_identifier("member_id", member_id)
        wanted = None if status is None else checks.choice("status", status, RelationshipStatus)

        def run(tx: Tx) -> list[CoachingRelationship]:
            tx.actor.require("relationships:read")
            if tx.actor.sees_all:
                rows = tx.uow.relationships.list(coach_id=coach, member_id=member)
            else:
                me = tx.actor.user_id
                mine = {r.id: r for r in tx.uow.relationships.list(coach_id=me)}
                mine.update({r.id: r for r in tx.uow.relationships.list(member_id=me)})
                rows = sorted(mine.values(), key=lambda r: (r.created_at, r.id))
            return [
                r
                for r in rows
                if (coach is None or r.coach_id == coach)
                and (member is None or r.member_id == member)
                and (wanted is None or r.status == wanted)
            ]

        return self._rt.read(self._actor, run)

    def set_status(self, relationship_id: Any, status: Any) -> CoachingRelationship:
        """Move the relationship; ``pending -> active <-> paused -> completed``
        (and ``active -> completed``), ``pending -> declined`` (the side asked)
        and ``pending -> withdrawn`` (the side that asked); anything else is a
        BusinessRuleViolation."""
        to = checks.choice("status", status, RelationshipStatus)
        run = _mover(relationship_id, to)
        return self._rt.write(self._actor, run, action="relationships.set_status")

    def decline(self, relationship_id: Any, reason: Any = None) -> CoachingRelationship:
        """pending -> declined, by the side the request was made to (or an
        admin), with an optional ``reason`` the requester is told. The pair may
        ask again afterwards."""
        why = checks.text("reason", reason, max_len=MAX_DECLINE_REASON)
        run = _mover(relationship_id, RelationshipStatus.DECLINED, why)
        return self._rt.write(self._actor, run, action="relationships.decline")

    def withdraw(self, relationship_id: Any) -> CoachingRelationship:
        """pending -> withdrawn, by the side that made the request (or an admin).
        The pair may ask again afterwards."""
        run = _mover(relationship_id, RelationshipStatus.WITHDRAWN)
        return self._rt.write(self._actor, run, action="relationships.withdraw")

    def accept(self, relationship_id: Any) -> CoachingRelationship:
        """pending -> active, by the side that did not ask (or an admin)."""
        return self.set_status(relationship_id, RelationshipStatus.ACTIVE)

    def pause(self, relationship_id: Any) -> CoachingRelationship:
        return self.set_status(relationship_id, RelationshipStatus.PAUSED)

    def resume(self, relationship_id: Any) -> CoachingRelationship:
        return self.set_status(relationship_id, RelationshipStatus.ACTIVE)

    def complete(self, relationship_id: Any) -> CoachingRelationship:
        return self.set_status(relationship_id, RelationshipStatus.COMPLETED)

    def overview(self, member_id: Any = None) -> CoachingOverview:
        """The member's coaching page: their coaches with profiles, or nothing
        plus what to do next. ``member_id`` defaults to the actor; admins may
        look at anyone's."""
        member = checks.optional_identifier("member_id", member_id)

        def run(tx: Tx) -> CoachingOverview:
            who = member or tx.actor.user_id
            if not tx.actor.sees_all and who != tx.actor.user_id:
                raise Forbidden("You may only see your own coaching overview")
            pending_interest = bool(tx.uow.interests.list(member_id=who, status=InterestStatus.NEW))
            return overview(tx, who, interest_open=pending_interest)

        return self._rt.read(self._actor, run)
