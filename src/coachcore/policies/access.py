"""Ownership rules and field redaction, as pure functions of the actor."""

from __future__ import annotations

import attrs

from coachcore.domain.entities import MemberProfile, Session
from coachcore.errors import Forbidden
from coachcore.policies.roles import Actor, denied


def _deny(what: str, entity_id: str) -> Forbidden:
    return denied(f"You may not access this {what}", what, entity_id)


def can_view_member(actor: Actor, profile: MemberProfile, related: bool = False) -> bool:
    """Admins see all; a member sees themself; a coach sees their own members
    (``related``: also a member in an active relationship with the actor)."""
    if actor.sees_all or actor.user_id == profile.user_id:
        return True
    return actor.can("members:read") and (profile.coach_id == actor.user_id or related)


def check_view_member(actor: Actor, profile: MemberProfile, related: bool = False) -> None:
    if not can_view_member(actor, profile, related):
        raise _deny("member", profile.user_id)


def check_manage_member(actor: Actor, profile: MemberProfile) -> None:
    """Coach-side changes: the member's coach (with members:write) or an admin."""
    actor.require("members:write")
    if not (actor.sees_all or profile.coach_id == actor.user_id):
        raise _deny("member", profile.user_id)


def can_view_session(actor: Actor, session: Session, member_coach_id: str | None) -> bool:
    """The session's member, its coach, the member's current coach, or an admin."""
    if actor.sees_all or actor.user_id == session.member_id:
        return True
    if not actor.can("sessions:read"):
        return False
    return actor.user_id in (session.coach_id, member_coach_id)


def check_view_session(actor: Actor, session: Session, member_coach_id: str | None) -> None:
    if not can_view_session(actor, session, member_coach_id):
        raise _deny("session", session.id)


def check_manage_session(actor: Actor, session: Session) -> None:
    """Coach-side session changes: its coach (with sessions:write) or an admin."""
    actor.require("sessions:write")
    if not (actor.sees_all or actor.user_id == session.coach_id):
        raise _deny("session", session.id)


def check_own_coach(actor: Actor, coach_id: str, permission: str) -> None:
    """Changes to a coach's profile or windows: that coach or an admin."""
    actor.require(permission)
    if not (actor.sees_all or actor.user_id == coach_id):
        raise _deny("coach", coach_id)


def sees_coach_notes(actor: Actor, session_coach_id: str) -> bool:
    """Coach notes are the session's coach's (and admins'): never a member's,
    nor another coach's, not even the member's later coach."""
    return actor.sees_all or (actor.can("sessions:write") and actor.user_id == session_coach_id)


def redact_session(actor: Actor, session: Session, member_coach_id: str | None = None) -> Session:
    """The session as this actor may see it: its coach and preparation notes
    only for the session's coach and admins (``member_coach_id``, the member's
    coach now, sees the session but not a previous coach's notes)."""
    if sees_coach_notes(actor, session.coach_id):
        return session
    return attrs.evolve(session, coach_notes=None, preparation_notes=None)


def without_private_notes(session: Session) -> Session:
    """The session as someone who oversees its people (a manager) sees it:
    what the coaching produced, none of its private notes."""
    return attrs.evolve(session, coach_notes=None, member_notes=None, preparation_notes=None)


def redact_member(
    actor: Actor, profile: MemberProfile, share_context: bool = True
) -> MemberProfile:
    """The profile as this actor may see it: the coach's notes hidden from
    everyone but that coach (and admins); the goals hidden from coaches when
    the member turned ``share_context`` (their session settings) off."""
    if actor.sees_all:
        return profile
    visible = (
        profile if actor.user_id == profile.coach_id else attrs.evolve(profile, coach_notes=None)
    )
    if not share_context and actor.user_id != profile.user_id:
        visible = attrs.evolve(visible, goals=None)
    return visible
