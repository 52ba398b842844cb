"""The ownership rules of policies/access.py against a reference permission model.

Actors hold every subset of the permissions the rules read (host-defined roles
of any shape) and ids from a pool of three; every combination of actor, record
and current coach is checked (a few thousand per rule, in milliseconds), so
every coincidence the rules hinge on comes up: the actor is the member, the
session's coach, the member's current coach, several of these, or none. Each
rule is restated here in its own words.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from itertools import chain, combinations, product

import attrs
import pytest

from coachcore.domain.entities import MemberProfile, Session
from coachcore.errors import Forbidden
from coachcore.policies import access
from coachcore.policies.roles import SCOPE_ALL, Actor

T = datetime(2030, 1, 1, 8, tzinfo=UTC)
PEOPLE = ["ann", "bob", "cat"]
READ_WRITE = [SCOPE_ALL, "members:read", "members:write", "sessions:read", "sessions:write"]
COACH_WRITES = ["coaches:write", "availability:write"]


def subsets(names: list[str]) -> list[frozenset[str]]:
    return [frozenset(c) for c in chain.from_iterable(
        combinations(names, k) for k in range(len(names) + 1))]


def actors(names: list[str] = READ_WRITE) -> Iterator[Actor]:
    for user, perms in product(PEOPLE, subsets(names)):
        yield Actor(user, "host_role", perms)


def profiles() -> Iterator[MemberProfile]:
    for user, coach in product(PEOPLE, [None, *PEOPLE]):
        yield MemberProfile(id="p1", user_id=user, coach_id=coach, goals="run a marathon",
                            coach_notes="knee", joined_at=T, created_at=T, updated_at=T)


def sessions() -> Iterator[Session]:
    for member, coach in product(PEOPLE, PEOPLE):
        yield Session(id="s1", calendar_event_id="e1", member_id=member, coach_id=coach,
                      duration=60, scheduled_at=T, coach_notes="private",
                      created_at=T, updated_at=T)


def allowed(check: Callable[..., object], *args: object) -> bool:
    try:
        check(*args)
    except Forbidden:
        return False
    return True


def test_who_sees_a_member() -> None:
    for actor, profile, related in product(actors(), profiles(), [False, True]):
        expected = (
            SCOPE_ALL in actor.permissions
            or actor.user_id == profile.user_id
            or ("members:read" in actor.permissions
                and (actor.user_id == profile.coach_id or related))
        )
        assert access.can_view_member(actor, profile, related) is expected
        assert allowed(access.check_view_member, actor, profile, related) is expected


def test_who_manages_a_member() -> None:
    for actor, profile in product(actors(), profiles()):
        expected = "members:write" in actor.permissions and (
            SCOPE_ALL in actor.permissions or actor.user_id == profile.coach_id
        )
        assert allowed(access.check_manage_member, actor, profile) is expected


def test_who_sees_a_session() -> None:
    """The member, the session's coach, the member's *current* coach, or an admin."""
    for actor, session, now_coach in product(actors(), sessions(), [None, *PEOPLE]):
        expected = (
            SCOPE_ALL in actor.permissions
            or actor.user_id == session.member_id
            or ("sessions:read" in actor.permissions
                and actor.user_id in {session.coach_id, now_coach})
        )
        assert access.can_view_session(actor, session, now_coach) is expected
        assert allowed(access.check_view_session, actor, session, now_coach) is expected


def test_the_members_current_coach_sees_a_previous_coachs_session() -> None:
    session = Session(id="s1", calendar_event_id="e1", member_id="ann", coach_id="bob",
                      duration=60, scheduled_at=T, created_at=T, updated_at=T)
    now_coach = Actor("cat", "coach", frozenset({"sessions:read"}))
    assert access.can_view_session(now_coach, session, member_coach_id="cat")
    assert not access.can_view_session(now_coach, session, member_coach_id=None)
    without_read = attrs.evolve(now_coach, permissions=frozenset({"sessions:write"}))
    assert not access.can_view_session(without_read, session, member_coach_id="cat")


def test_who_manages_a_session() -> None:
    for actor, session in product(actors(), sessions()):
        expected = "sessions:write" in actor.permissions and (
            SCOPE_ALL in actor.permissions or actor.user_id == session.coach_id
        )
        assert allowed(access.check_manage_session, actor, session) is expected


def test_who_changes_a_coachs_profile() -> None:
    for actor, coach, permission in product(
        actors([SCOPE_ALL, *COACH_WRITES]), PEOPLE, COACH_WRITES
    ):
        expected = permission in actor.permissions and (
            SCOPE_ALL in actor.permissions or actor.user_id == coach
        )
        assert allowed(access.check_own_coach, actor, coach, permission) is expected


def test_coach_notes_are_the_sessions_coachs() -> None:
    """Never the member's, nor another coach's, nor the member's later coach's."""
    for actor, session, now_coach in product(actors(), sessions(), [None, *PEOPLE]):
        sees = SCOPE_ALL in actor.permissions or (
            "sessions:write" in actor.permissions and actor.user_id == session.coach_id
        )
        assert access.sees_coach_notes(actor, session.coach_id) is sees
        shown = access.redact_session(actor, session, now_coach)
        assert shown.coach_notes == (session.coach_notes if sees else None)
        assert attrs.evolve(shown, coach_notes=session.coach_notes) == session


def test_a_members_profile_as_each_actor_sees_it() -> None:
    for actor, profile, share_context in product(actors(), profiles(), [False, True]):
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
