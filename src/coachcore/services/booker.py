"""Who may book, or wait for, a coach's slot on a member's behalf."""

from __future__ import annotations

from coachcore.domain.entities import MemberProfile
from coachcore.errors import Forbidden
from coachcore.policies.roles import Actor


def check_booker(actor: Actor, member: MemberProfile, coach_id: str) -> None:
    """A member books for themself with their coach; the coach or an admin for them."""
    actor.require("bookings:write")
    if actor.sees_all:
        return
    if member.coach_id != coach_id:
        raise Forbidden("Members book with their assigned coach only")
    if actor.user_id not in (member.user_id, coach_id):
        raise Forbidden("You may not book for this member")
