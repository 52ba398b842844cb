"""Who may book, or wait for, a coach's slot on a member's behalf."""

from __future__ import annotations

from coachcore.domain.entities import MemberProfile
from coachcore.errors import Forbidden
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
