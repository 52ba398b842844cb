"""Properties of role changes (docs/guides/roles.md), on every store."""

from __future__ import annotations

import contextlib
from datetime import timedelta
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from propkit import World

from coachcore.errors import BusinessRuleViolation, Conflict, Forbidden, NotFound

PEOPLE = 4
ROLES = ("admin", "coach", "member", "team_leader", "agent")
COACHES = {"coach", "team_leader"}
MEMBERS = {"member", "agent"}
STEPS = st.one_of(
    st.tuples(st.just("role"), st.integers(0, PEOPLE - 1), st.sampled_from(ROLES)),
    st.tuples(st.just("assign"), st.integers(0, PEOPLE - 1), st.integers(0, PEOPLE - 1)),
    st.tuples(st.just("relate"), st.integers(0, PEOPLE - 1), st.integers(0, PEOPLE - 1)),
    st.tuples(st.just("request"), st.integers(0, PEOPLE - 1), st.integers(0, PEOPLE - 1)),
    st.tuples(st.just("session"), st.integers(0, PEOPLE - 1), st.integers(0, PEOPLE - 1)),
    st.tuples(st.just("cancel"), st.integers(0, PEOPLE - 1), st.just(0)),
)


def _step(w: World, people: list[Any], step: tuple[str, int, Any]) -> None:
    what, i, other = step
    sys, who = w.sys, people[i]
    if what == "role":
        sys.users.change_role(who.id, other)
    elif what == "assign":
        sys.members.assign_coach(people[other].id, who.id)
    elif what in ("relate", "request"):
        rel = sys.relationships.request(coach_id=who.id, member_id=people[other].id)
        if what == "relate":
            sys.relationships.accept(rel.id)
    elif what == "session":
        w.session(who, people[other], w.now + timedelta(days=1 + len(sys.sessions.list())))
    else:
        for session in sys.sessions.list(coach_id=who.id, status="scheduled"):
            sys.sessions.cancel(session.id, reason="clearing")


def _problems(w: World, people: list[Any]) -> list[str]:
    """Coaching links that involve someone whose role no longer allows them."""
    sys = w.sys
    role = {u.id: sys.users.get(u.id).role for u in people}
    problems = []
    for user in people:
        profile_coach = None
        if role[user.id] in MEMBERS:
            profile_coach = sys.members.get(user.id).coach_id
        if profile_coach is not None and role[profile_coach] not in COACHES:
            problems.append(f"{user.name} assigned to a {role[profile_coach]}")
    for rel in sys.relationships.list():
        if rel.status in ("active", "paused") and (
            role[rel.coach_id] not in COACHES or role[rel.member_id] not in MEMBERS
        ):
            problems.append(f"{rel.status} relationship of a {role[rel.coach_id]}")
    for session in sys.sessions.list(status="scheduled"):
        if role[session.coach_id] not in COACHES or role[session.member_id] not in MEMBERS:
            problems.append(f"scheduled session of a {role[session.coach_id]}")
    for user in people:  # nobody keeps a primary coach after leaving the member side
        if role[user.id] not in MEMBERS:
            with contextlib.suppress(NotFound):  # never a member: no profile
                if sys.members.get(user.id).coach_id is not None:
                    problems.append(f"{user.name} left the member side still coached")
    return problems


# Feature: sister-systems, Property S13: After any role changes, nobody coaches or
# is coached across a role that no longer allows it
@given(
    roles=st.permutations(["coach", "team_leader", "member", "agent"]),
    steps=st.lists(STEPS, max_size=12),
)
def test_role_changes_never_leave_coaching_across_roles(
    backend: Any, roles: list[str], steps: list[tuple[str, int, Any]]
) -> None:
    with World(backend, roles="coaching_hub") as w:
        people = [w.user(role) for role in roles]
        for step in steps:
            before = [w.sys.users.get(u.id).role for u in people]
            try:
                _step(w, people, step)
            except (BusinessRuleViolation, Conflict, Forbidden, NotFound):
                assert [w.sys.users.get(u.id).role for u in people] == before
            assert _problems(w, people) == []
        for user in people:  # every role that coaches has a coach profile
            if w.sys.users.get(user.id).role in COACHES:
                assert w.sys.coaches.get(user.id).user_id == user.id
