"""Who may book, or wait for, a coach's slot on a member's behalf."""

from __future__ import annotations

from datetime import datetime, timedelta

from coachcore.domain.entities import MemberProfile
from coachcore.errors import Conflict, Forbidden
from coachcore.services.coaching.relationships import active_between
from coachcore.services.runtime.transaction import Tx


def check_booker(tx: Tx, member: MemberProfile, coach_id: str) -> None:
    """A member books for themself with their coach (the primary one, or one in an
    active relationship); the coach or an admin books for them."""
    actor = tx.actor
    actor.require("bookings:write")
    if actor.sees_all:
        return
    related = member.coach_id == coach_id or active_between(tx.uow, coach_id, member.user_id)
    if not related:
        raise Forbidden("Members book with their assigned coach only")
    if actor.user_id not in (member.user_id, coach_id):
        raise Forbidden("You may not book for this member")


ONE_SEAT = "This member already has a seat in this slot"


def check_one_seat(
    tx: Tx, coach_id: str, member_id: str, start: datetime, moving: str | None = None
) -> None:
    """A member holds at most one seat in a slot of a coach: a second booking
    (or a move, or a wait) for a slot where they have a session is a 409.
    ``moving``: the id of the session being moved, which does not count."""
    in_slot = start + timedelta(microseconds=1)
    for session in tx.uow.sessions.seats_held(coach_id, member_id, start, in_slot):
        if session.id != moving:
            raise Conflict(ONE_SEAT, details={"start": start.isoformat()})
