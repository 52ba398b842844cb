"""What a role change does to the user's coaching (see docs/guides/roles.md).

Becoming a coach or a member (the role is, or inherits, ``coach`` or
``member``) adds the profile that implies, if missing. Leaving the coach
side is refused (422) while someone depends on the user's coaching: members
assigned to them, active or paused relationships as coach, scheduled
sessions as coach. Leaving the member side releases the user from being
coached: the primary coach is unassigned (that coach's private notes become
their quick note, as on any reassignment), active and paused relationships
are completed, open waitlist entries are left (a seat held for one goes to
the next member, as when a member leaves the queue); it is refused while they
have scheduled sessions as member.
Either way, pending requests on the side left end (withdrawn if the user
made them, else declined), and a former coach stops accepting members.
Profiles are kept (history, and a later change back finds them).
"""

from __future__ import annotations

from typing import Any

import attrs

from coachcore.domain.entities import User
from coachcore.domain.enums import SessionStatus
from coachcore.domain.relations import (
    ENDED_BY_ROLE_CHANGE,
    CoachingRelationship,
    RelationshipStatus,
)
from coachcore.domain.rules import OPEN_WAITLIST, WaitlistEntry
from coachcore.errors import BusinessRuleViolation
from coachcore.services.accounts.members import release_coach
from coachcore.services.accounts.profiles import add_implied_profiles, is_coach, is_member
from coachcore.services.coaching import relationships
from coachcore.services.compliance import audit
from coachcore.services.runtime.transaction import Tx
from coachcore.services.scheduling import waitlist


def _scheduled(tx: Tx, **party: str) -> list[str]:
    return [s.id for s in tx.uow.sessions.list(**party) if s.status == SessionStatus.SCHEDULED]


def coach_dependants(tx: Tx, user_id: str) -> dict[str, list[str]]:
    """What still depends on the user coaching (empty lists: nothing)."""
    return {
        "member_ids": [p.user_id for p in tx.uow.members.list(coach_id=user_id)],
        "relationship_ids": [
            r.id
            for r in tx.uow.relationships.list(coach_id=user_id)
            if r.status in (RelationshipStatus.ACTIVE, RelationshipStatus.PAUSED)
        ],
        "session_ids": _scheduled(tx, coach_id=user_id),
    }


def _end_requests(tx: Tx, user: User, rows: list[CoachingRelationship]) -> list[str]:
    """End the user's pending requests; the ids of those ended."""
    ended = []
    for rel in rows:
        if rel.status != RelationshipStatus.PENDING:
            continue
        if rel.requested_by == user.id:
            relationships.move(tx, rel, RelationshipStatus.WITHDRAWN)
        else:
            relationships.move(tx, rel, RelationshipStatus.DECLINED, reason=ENDED_BY_ROLE_CHANGE)
        ended.append(rel.id)
    return ended


def _stop_coaching(tx: Tx, user: User) -> dict[str, Any]:
    tx.uow.lock_coach(user.id)  # no member, session or relationship joins meanwhile
    blocking = coach_dependants(tx, user.id)
    if any(blocking.values()):
        raise BusinessRuleViolation(
            "This coach still coaches: reassign their members, complete their "
            "relationships and cancel or complete their scheduled sessions first",
            details={"user_id": user.id, **blocking},
        )
    profile = tx.uow.coaches.get(user.id)
    if profile is not None and profile.is_accepting_members:
        tx.uow.coaches.update(attrs.evolve(profile, is_accepting_members=False, updated_at=tx.now))
    ended = _end_requests(tx, user, list(tx.uow.relationships.list(coach_id=user.id)))
    return {"requests_ended": ended}


def _open_entries(tx: Tx, user: User) -> list[WaitlistEntry]:
    return [e for e in tx.uow.waitlist.list(member_id=user.id) if e.status in OPEN_WAITLIST]


def _lock_coaches_of(tx: Tx, user: User) -> None:
    """Lock the member's coaches and those whose slots they wait for, and the
    member's own key (in one order): none of them schedules a session with the
    member, links up anew or offers them a seat, and no new coach starts a
    relationship with them, until this unit of work ends."""
    profile = tx.uow.members.get(user.id)
    coaches = {r.coach_id for r in tx.uow.relationships.list(member_id=user.id) if r.is_open}
    coaches.add(user.id)  # relationships.start locks it too
    coaches.update(e.coach_id for e in _open_entries(tx, user))
    if profile is not None and profile.coach_id is not None:
        coaches.add(profile.coach_id)
    for coach_id in sorted(coaches):
        tx.uow.lock_coach(coach_id)


def _stop_being_coached(tx: Tx, user: User) -> dict[str, Any]:
    _lock_coaches_of(tx, user)
    sessions = _scheduled(tx, member_id=user.id)
    if sessions:
        raise BusinessRuleViolation(
            "This member has scheduled sessions: cancel or complete them first",
            details={"user_id": user.id, "session_ids": sessions},
        )
    rows = list(tx.uow.relationships.list(member_id=user.id))
    completed = []
    for rel in rows:
        if rel.status in (RelationshipStatus.ACTIVE, RelationshipStatus.PAUSED):
            relationships.move(tx, rel, RelationshipStatus.COMPLETED)
            completed.append(rel.id)
    profile = tx.uow.members.get(user.id)
    released = None
    if profile is not None and profile.coach_id is not None:
        released = profile.coach_id
        release_coach(tx, profile)
    elif profile is not None:  # compare-and-set it all the same: an assignment
        tx.uow.members.update(profile)  # racing this change cannot also commit
    left = [waitlist.leave_entry(tx, entry).id for entry in _open_entries(tx, user)]
    return {
        "requests_ended": _end_requests(tx, user, rows),
        "relationships_completed": completed,
        "coach_released": released,
        "waitlist_left": left,
    }


def change_role(tx: Tx, user: User, role: str) -> User:
    """Store the user with ``role`` and apply the rules above (policies are the
    caller's); the same role again changes nothing."""
    if role == user.role:
        return user
    changed = attrs.evolve(user, role=role, updated_at=tx.now)
    effects: dict[str, Any] = {}
    if is_coach(tx, user) and not is_coach(tx, changed):
        effects.update(_stop_coaching(tx, user))
    if is_member(tx, user) and not is_member(tx, changed):
        left = _stop_being_coached(tx, user)
        left["requests_ended"] = effects.get("requests_ended", []) + left["requests_ended"]
        effects.update(left)
    tx.uow.users.update(changed)
    add_implied_profiles(tx, changed)
    audit.record(tx, "user.role_changed", "user", user.id, old=user.role, new=role, **effects)
    return changed
