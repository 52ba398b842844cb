"""The ownership rules of policies/access.py against a reference permission model.

Actors hold random permission subsets (host-defined roles of any shape) and
random ids drawn from a small pool, so every coincidence the rules hinge on
(the actor is the member, the session's coach, the member's current coach, or
several at once) comes up. Each rule is restated here in its own words.
"""

from __future__ import annotations

from datetime import UTC, datetime

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from coachcore.domain.entities import MemberProfile, Session
from coachcore.errors import Forbidden
from coachcore.policies import access
from coachcore.policies.roles import SCOPE_ALL, Actor

T = datetime(2030, 1, 1, 8, tzinfo=UTC)
PEOPLE = ["ann", "bob", "cat"]
RELEVANT = [SCOPE_ALL, "members:read", "members:write", "sessions:read", "sessions:write",
            "coaches:write", "availability:write"]

actors = st.builds(
    Actor,
    user_id=st.sampled_from(PEOPLE),
    role=st.sampled_from(["host_role", "coach", "member"]),
    permissions=st.frozensets(st.sampled_from(RELEVANT)),
)
profiles = st.builds(
    MemberProfile,
    id=st.just("p1"),
    user_id=st.sampled_from(PEOPLE),
    coach_id=st.none() | st.sampled_from(PEOPLE),
    goals=st.just("run a marathon"),
    coach_notes=st.just("knee"),
    joined_at=st.just(T), created_at=st.just(T), updated_at=st.just(T),
)
sessions = st.builds(
    Session,
    id=st.just("s1"),
    calendar_event_id=st.just("e1"),
    member_id=st.sampled_from(PEOPLE),
    coach_id=st.sampled_from(PEOPLE),
    duration=st.just(60),
    scheduled_at=st.just(T),
    coach_notes=st.just("private"),
    created_at=st.just(T), updated_at=st.just(T),
)
current_coaches = st.none() | st.sampled_from(PEOPLE)


def allowed(check: object, *args: object) -> bool:
    try:
        check(*args)  # type: ignore[operator]
    except Forbidden:
        return False
    return True


@given(actors, profiles, st.booleans())
def test_who_sees_a_member(actor: Actor, profile: MemberProfile, related: bool) -> None:
    expected = (
        SCOPE_ALL in actor.permissions
        or actor.user_id == profile.user_id
        or ("members:read" in actor.permissions
            and (actor.user_id == profile.coach_id or related))
    )
    assert access.can_view_member(actor, profile, related) is expected
    assert allowed(access.check_view_member, actor, profile, related) is expected


@given(actors, profiles)
def test_who_manages_a_member(actor: Actor, profile: MemberProfile) -> None:
    expected = "members:write" in actor.permissions and (
        SCOPE_ALL in actor.permissions or actor.user_id == profile.coach_id
    )
    assert allowed(access.check_manage_member, actor, profile) is expected


@given(actors, sessions, current_coaches)
def test_who_sees_a_session(actor: Actor, session: Session, member_coach: str | None) -> None:
    """The member, the session's coach, the member's *current* coach, or an admin."""
    expected = (
        SCOPE_ALL in actor.permissions
        or actor.user_id == session.member_id
        or ("sessions:read" in actor.permissions
            and actor.user_id in {session.coach_id, member_coach})
    )
    assert access.can_view_session(actor, session, member_coach) is expected
    assert allowed(access.check_view_session, actor, session, member_coach) is expected


def test_the_members_current_coach_sees_a_previous_coachs_session() -> None:
    session = Session(id="s1", calendar_event_id="e1", member_id="ann", coach_id="bob",
                      duration=60, scheduled_at=T, created_at=T, updated_at=T)
    now_coach = Actor("cat", "coach", frozenset({"sessions:read"}))
    assert access.can_view_session(now_coach, session, member_coach_id="cat")
    assert not access.can_view_session(now_coach, session, member_coach_id=None)
    without_read = attrs.evolve(now_coach, permissions=frozenset({"sessions:write"}))
    assert not access.can_view_session(without_read, session, member_coach_id="cat")


@given(actors, sessions)
def test_who_manages_a_session(actor: Actor, session: Session) -> None:
    expected = "sessions:write" in actor.permissions and (
        SCOPE_ALL in actor.permissions or actor.user_id == session.coach_id
    )
    assert allowed(access.check_manage_session, actor, session) is expected


@given(actors, st.sampled_from(PEOPLE), st.sampled_from(["coaches:write", "availability:write"]))
def test_who_changes_a_coachs_profile(actor: Actor, coach: str, permission: str) -> None:
    expected = permission in actor.permissions and (
        SCOPE_ALL in actor.permissions or actor.user_id == coach
    )
    assert allowed(access.check_own_coach, actor, coach, permission) is expected


@given(actors, sessions, current_coaches)
def test_coach_notes_are_the_sessions_coachs(
    actor: Actor, session: Session, member_coach: str | None
) -> None:
    """Never the member's, nor another coach's, nor the member's later coach's."""
    sees = SCOPE_ALL in actor.permissions or (
        "sessions:write" in actor.permissions and actor.user_id == session.coach_id
    )
    shown = access.redact_session(actor, session, member_coach)
    assert shown.coach_notes == (session.coach_notes if sees else None)
    assert attrs.evolve(shown, coach_notes=session.coach_notes) == session


@given(actors, profiles, st.booleans())
def test_a_members_profile_as_each_actor_sees_it(
    actor: Actor, profile: MemberProfile, share_context: bool
) -> None:
    admin = SCOPE_ALL in actor.permissions
    shown = access.redact_member(actor, profile, share_context)
    notes_shown = admin or actor.user_id == profile.coach_id
    goals_shown = admin or share_context or actor.user_id == profile.user_id
    assert shown.coach_notes == (profile.coach_notes if notes_shown else None)
    assert shown.goals == (profile.goals if goals_shown else None)
    assert attrs.evolve(shown, coach_notes=profile.coach_notes, goals=profile.goals) == profile


@pytest.mark.parametrize("permission", ["members:write", "sessions:write"])
def test_an_admin_without_the_write_permission_is_refused(permission: str) -> None:
    """``scope:all`` lifts ownership, not the permission itself (a host role may
    see everything and still be read-only)."""
    reader = Actor("ann", "auditor", frozenset({SCOPE_ALL, "members:read", "sessions:read"}))
    profile = MemberProfile(id="p", user_id="bob", coach_id="ann", joined_at=T,
                            created_at=T, updated_at=T)
    session = Session(id="s", calendar_event_id="e", member_id="bob", coach_id="ann",
                      duration=30, scheduled_at=T, created_at=T, updated_at=T)
    check = {"members:write": lambda: access.check_manage_member(reader, profile),
             "sessions:write": lambda: access.check_manage_session(reader, session)}[permission]
    with pytest.raises(Forbidden):
        check()
