"""Whom a hub record is about: the member (from its session or given), the coach
it belongs to, and whether the actor coaches that member."""

from __future__ import annotations

from typing import Any

from coachcore.domain import checks
from coachcore.domain.entities import MemberProfile, Session
from coachcore.errors import NotFound, ValidationFailed
from coachcore.policies import hub as policy
from coachcore.services.coaching.session_settings import coaches
from coachcore.services.runtime import records
from coachcore.services.runtime.transaction import Tx


def find(get: Any, what: str, field: str, value: Any) -> Any:
    """The record ``get(value)`` finds, or NotFound naming ``what``."""
    key = checks.identifier(field, value)
    found = get(key)
    if found is None:
        raise NotFound(f"{what} not found", details={field: key})
    return found


def actor_coaches(tx: Tx, member_id: str) -> bool:
    """Whether the actor coaches the member (not as admin, not as the member)."""
    if tx.actor.sees_all or tx.actor.user_id == member_id:
        return False
    profile = tx.uow.members.get(member_id)
    return profile is not None and coaches(tx.uow, tx.actor.user_id, profile)


def subject(
    tx: Tx, session_id: str | None, member_id: str | None
) -> tuple[MemberProfile, Session | None]:
    """The member a record is about, from the session or given directly; with a
    session, the actor must be its coach (or an admin)."""
    session = None if session_id is None else records.session(tx.uow, session_id)
    if session is not None:
        if member_id is not None and member_id != session.member_id:
            raise ValidationFailed(
                "member_id: is not the session's member", details={"field": "member_id"}
            )
        member_id = session.member_id
    if member_id is None:
        raise ValidationFailed("member_id: is required without a session_id")
    profile = records.member(tx.uow, member_id)
    if session is not None:
        policy.check_coach_side(tx.actor, tx.actor.user_id == session.coach_id)
    else:
        policy.check_coach_side(tx.actor, coaches(tx.uow, tx.actor.user_id, profile))
    return profile, session


def coach_of(tx: Tx, profile: MemberProfile, session: Session | None) -> str:
    """The coach a record belongs to: the session's, the acting coach, or the primary."""
    if session is not None:
        return session.coach_id
    if not tx.actor.sees_all:
        return tx.actor.user_id
    if profile.coach_id is None:
        raise ValidationFailed("session_id: needed for a member without a coach")
    return profile.coach_id
