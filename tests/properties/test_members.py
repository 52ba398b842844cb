"""Member profiles, coach assignment and member signup (requirements 1 and 6)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from propkit import World, utc

from coachcore import Role
from coachcore.errors import (
    BusinessRuleViolation,
    Conflict,
    Forbidden,
    NotFound,
    ValidationFailed,
)
from coachcore.testing.strategies import (
    aware_datetimes,
    junk_text,
    membership_statuses,
    notes,
    unique_users,
    user_specs,
)

MAX_TEXT = 10_000


def valid_text(value: Any) -> bool:
    return value is None or (
        isinstance(value, str) and "\x00" not in value and len(value) <= MAX_TEXT
    )


# Feature: coaching-platform, Property 1: Member Profile Auto-Creation
@given(spec=user_specs(), now=aware_datetimes())
def test_member_user_gets_a_profile_with_defaults(backend: Any, spec: Any, now: Any) -> None:
    with World(backend, now=now) as w:
        user = w.sys.users.create(
            name=spec.name, email=spec.email, role=Role.MEMBER, timezone=spec.timezone
        )
        for reader in (w.sys, w.as_(user)):
            profile = reader.members.get(user.id)
            assert profile.user_id == user.id
            assert profile.membership_status == "active"
            assert profile.onboarding_status == "pending"
            assert profile.coach_id is None
            assert utc(profile.joined_at) == utc(now)
        with pytest.raises(NotFound):
            w.sys.coaches.get(user.id)


# Feature: coaching-platform, Property 2: Coach Data Isolation
@given(data=st.data())
def test_coach_lists_only_their_own_members(backend: Any, data: Any) -> None:
    with World(backend) as w:
        coaches = [w.coach() for _ in range(data.draw(st.integers(1, 3), label="coaches"))]
        pick = st.none() | st.sampled_from(range(len(coaches)))
        owner: dict[str, int | None] = {}
        for choice in data.draw(st.lists(pick, max_size=6), label="signups"):
            member = w.member(None if choice is None else coaches[choice])
            owner[member.id] = choice
        moves = st.tuples(
            st.sampled_from(list(owner) or [""]), st.sampled_from(range(len(coaches)))
        )
        for member_id, choice in data.draw(st.lists(moves, max_size=3), label="reassignments"):
            if member_id:
                w.sys.members.assign_coach(member_id, coaches[choice].id)
                owner[member_id] = choice
        for index, coach in enumerate(coaches):
            listed = w.as_(coach).members.list()
            assert {p.user_id for p in listed} == {m for m, c in owner.items() if c == index}
            assert all(p.coach_id == coach.id for p in listed)
            for other in coaches:
                if other.id != coach.id:
                    with pytest.raises(Forbidden):
                        w.as_(coach).members.list(coach_id=other.id)


# Feature: coaching-platform, Property 3: Admin Full Visibility
@given(data=st.data())
def test_admin_lists_every_member(backend: Any, data: Any) -> None:
    with World(backend) as w:
        admin = w.admin()
        coaches = [w.coach() for _ in range(data.draw(st.integers(0, 2), label="coaches"))]
        pick = st.none() | st.sampled_from(coaches) if coaches else st.none()
        members = [w.member(c) for c in data.draw(st.lists(pick, max_size=6), label="signups")]
        assert {p.user_id for p in w.as_(admin).members.list()} == {m.id for m in members}
        for coach in coaches:
            mine = w.as_(admin).members.list(coach_id=coach.id)
            assert all(p.coach_id == coach.id for p in mine)
        for member in members:
            assert w.as_(admin).members.get(member.id).user_id == member.id


UPDATE_VALUES = {
    "goals": st.one_of(notes(), st.none(), junk_text()),
    "health_info": st.one_of(notes(), st.none(), junk_text()),
    "coach_notes": st.one_of(notes(), st.none(), junk_text()),
    "membership_status": st.one_of(
        membership_statuses(),
        st.sampled_from(["active", "paused", "ACTIVE", "deleted", "", None, 1, True]),
    ),
}


def valid_update(field: str, value: Any) -> bool:
    if field == "membership_status":
        return isinstance(value, str) and value in ("active", "inactive", "paused")
    return valid_text(value)


# Feature: coaching-platform, Property 4: Member Profile Update Validation
@given(data=st.data())
def test_member_updates_persist_or_are_rejected_whole(backend: Any, data: Any) -> None:
    with World(backend) as w:
        coach = w.coach()
        member = w.member(coach)
        actor = data.draw(st.sampled_from(["admin", "coach", "member"]), label="actor")
        allowed = list(UPDATE_VALUES) if actor != "member" else ["goals", "health_info"]
        fields = data.draw(st.lists(st.sampled_from(allowed), min_size=1, unique=True))
        changes = {f: data.draw(UPDATE_VALUES[f], label=f) for f in fields}
        who = {"admin": w.admin(), "coach": coach, "member": member}[actor]
        before = w.sys.members.get(member.id)
        if all(valid_update(f, v) for f, v in changes.items()):
            w.as_(who).members.update(member.id, **changes)
            after = w.sys.members.get(member.id)
            for field, value in changes.items():
                assert getattr(after, field) == value
            untouched = set(UPDATE_VALUES) - set(changes)
            assert all(getattr(after, f) == getattr(before, f) for f in untouched)
        else:
            with pytest.raises(ValidationFailed):
                w.as_(who).members.update(member.id, **changes)
            assert w.sys.members.get(member.id) == before


# Feature: coaching-platform, Property 5: Coach Assignment Side Effects
@given(data=st.data(), spec=user_specs())
def test_assignment_sets_the_coach_and_opens_one_direct_conversation(
    backend: Any, data: Any, spec: Any
) -> None:
    with World(backend) as w:
        coaches = [w.coach() for _ in range(2)]
        member = w.member(spec=spec)
        order = data.draw(st.lists(st.sampled_from([0, 1]), min_size=1, max_size=4), label="order")
        for index in order:
            coach = coaches[index]
            assert w.sys.members.assign_coach(member.id, coach.id).coach_id == coach.id
            assert w.sys.members.get(member.id).coach_id == coach.id
        w.flush()
        for index in set(order):
            pair = {coaches[index].id, member.id}
            mine = [
                c
                for c in w.as_(member).conversations.list()
                if c.kind == "direct" and set(c.participant_ids) == pair
            ]
            assert len(mine) == 1
            assert mine[0].id in w.core.messaging.conversations  # type: ignore[attr-defined]
            assert mine[0].id in {c.id for c in w.as_(coaches[index]).conversations.list()}


# Feature: coaching-platform, Property 30: Member Signup Role Assignment
@given(spec=user_specs(), with_coach=st.booleans())
def test_signup_creates_a_member_user(backend: Any, spec: Any, with_coach: bool) -> None:
    with World(backend) as w:
        coach = w.coach() if with_coach else None
        user = w.member(coach, spec=spec)
        assert user.role == "member"
        stored = w.sys.users.get(user.id)
        assert stored.role == Role.MEMBER
        assert stored.email == spec.email.lower()
        assert stored.name == spec.name.strip()
        assert stored.timezone == spec.timezone
        assert stored.is_active


# Feature: coaching-platform, Property 31: Member Signup Profile Creation
@given(specs=unique_users(min_size=1, max_size=4))
def test_signup_creates_a_linked_member_profile(backend: Any, specs: Any) -> None:
    with World(backend) as w:
        users = [w.member(spec=spec) for spec in specs]
        profiles = {p.user_id: p for p in w.sys.members.list()}
        assert set(profiles) == {u.id for u in users}
        for user in users:
            assert w.as_(user).members.get(user.id).user_id == user.id
            assert profiles[user.id].membership_status == "active"


# Feature: coaching-platform, Property 32: Member Signup Coach Selection
@given(
    max_members=st.integers(1, 5),
    taken=st.integers(0, 5),
    accepting=st.booleans(),
    spec=user_specs(),
)
def test_signup_with_an_open_coach_assigns_that_coach(
    backend: Any, max_members: int, taken: int, accepting: bool, spec: Any
) -> None:
    with World(backend) as w:
        taken = min(taken, max_members - 1)
        coach = w.coach(max_members=max_members)
        for _ in range(taken):
            w.member(coach)
        w.sys.coaches.update(coach.id, is_accepting_members=accepting)
        if accepting:
            user = w.member(coach, spec=spec)
            assert w.sys.members.get(user.id).coach_id == coach.id
            assert w.sys.coaches.get(coach.id).current_member_count == taken + 1
        else:
            with pytest.raises(BusinessRuleViolation):
                w.member(coach, spec=spec)
            assert w.sys.coaches.get(coach.id).current_member_count == taken


# Feature: coaching-platform, Property 33: Member Signup Capacity Rejection
@given(max_members=st.integers(1, 4), spec=user_specs())
def test_signup_with_a_full_coach_is_rejected(backend: Any, max_members: int, spec: Any) -> None:
    with World(backend) as w:
        coach = w.coach(max_members=max_members)
        for _ in range(max_members):
            w.member(coach)
        with pytest.raises(Conflict) as caught:
            w.member(coach, spec=spec)
        assert caught.value.status_code == 409
        assert w.sys.coaches.get(coach.id).current_member_count == max_members
        assert len(w.sys.members.list(coach_id=coach.id)) == max_members
        # the rejected signup left nothing behind: the same e-mail signs up fine without a coach
        user = w.member(None, spec=spec)
        assert w.sys.members.get(user.id).coach_id is None


# Feature: coaching-platform, Property 34: Member Signup Optional Coach
@given(spec=user_specs())
def test_signup_without_a_coach_leaves_the_coach_empty(backend: Any, spec: Any) -> None:
    with World(backend) as w:
        w.coach()  # a coach exists, but is not chosen
        user = w.member(None, spec=spec)
        assert w.sys.members.get(user.id).coach_id is None
        assert w.as_(user).members.get(user.id).coach_id is None


# Feature: coaching-platform, Property 35: Member Signup Onboarding Status
@given(spec=user_specs(), with_coach=st.booleans(), goals=st.none() | notes())
def test_signup_starts_onboarding_as_pending(
    backend: Any, spec: Any, with_coach: bool, goals: Any
) -> None:
    with World(backend) as w:
        coach = w.coach() if with_coach else None
        user = w.sys.signup_member(
            name=spec.name,
            email=spec.email,
            coach_id=None if coach is None else coach.id,
            goals=goals,
        )
        profile = w.sys.members.get(user.id)
        assert profile.onboarding_status == "pending"
        assert profile.goals == goals
