"""Coach profiles: defaults, validation, capacity, acceptance, member count (requirement 2)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from propkit import World, utc

from coachcore import Role
from coachcore.errors import Conflict, NotFound, ValidationFailed
from coachcore.testing.strategies import (
    aware_datetimes,
    coach_settings,
    junk_integers,
    junk_text,
    membership_statuses,
    unique_users,
    user_specs,
)


# Feature: coaching-platform, Property 6: Coach Profile Auto-Creation
@given(spec=user_specs(), now=aware_datetimes())
def test_coach_user_gets_a_profile_with_defaults(backend: Any, spec: Any, now: Any) -> None:
    with World(backend, now=now) as w:
        user = w.sys.users.create(
            name=spec.name, email=spec.email, role=Role.COACH, timezone=spec.timezone
        )
        for reader in (w.sys, w.as_(user)):
            profile = reader.coaches.get(user.id)
            assert profile.user_id == user.id
            assert profile.max_members == 20
            assert profile.is_accepting_members is True
            assert profile.current_member_count == 0
            assert profile.available_capacity == 20
            assert utc(profile.created_at) == utc(now)
        with pytest.raises(NotFound):
            w.sys.members.get(user.id)


SPECIALIZATIONS = st.one_of(
    st.none(), st.text(max_size=200).filter(lambda s: "\x00" not in s), junk_text()
)
MAX_MEMBERS = st.one_of(st.integers(1, 100_000), junk_integers())


def valid_specialization(value: Any) -> bool:
    return value is None or (isinstance(value, str) and "\x00" not in value and len(value) <= 200)


def valid_max_members(value: Any) -> bool:
    return type(value) is int and 1 <= value <= 100_000


# Feature: coaching-platform, Property 7: Coach Profile Validation
@given(data=st.data())
def test_coach_profile_updates_are_validated(backend: Any, data: Any) -> None:
    with World(backend) as w:
        coach = w.coach()
        fields = data.draw(
            st.lists(st.sampled_from(["specialization", "max_members"]), min_size=1, unique=True)
        )
        changes: dict[str, Any] = {}
        if "specialization" in fields:
            changes["specialization"] = data.draw(SPECIALIZATIONS, label="specialization")
        if "max_members" in fields:
            changes["max_members"] = data.draw(MAX_MEMBERS, label="max_members")
        actor = w.as_(coach) if data.draw(st.booleans(), label="as coach") else w.sys
        before = w.sys.coaches.get(coach.id)
        ok = valid_specialization(changes.get("specialization")) and valid_max_members(
            changes.get("max_members", 1)
        )
        if ok:
            actor.coaches.update(coach.id, **changes)
            after = w.sys.coaches.get(coach.id)
            if "specialization" in changes:
                value = changes["specialization"]
                assert after.specialization == (None if value is None else value.strip() or None)
            if "max_members" in changes:
                assert after.max_members == changes["max_members"]
        else:
            with pytest.raises(ValidationFailed):
                actor.coaches.update(coach.id, **changes)
            assert w.sys.coaches.get(coach.id) == before


# Feature: coaching-platform, Property 8: Coach Capacity Enforcement
@given(
    max_members=st.integers(1, 5),
    resting=st.lists(st.sampled_from(["inactive", "paused"]), max_size=2),
    extras=unique_users(min_size=1, max_size=3),
    via_signup=st.booleans(),
)
def test_no_member_is_assigned_beyond_max_members(
    backend: Any, max_members: int, resting: Any, extras: Any, via_signup: bool
) -> None:
    with World(backend) as w:
        coach = w.coach(max_members=max_members)
        # members who are not active do not take a place
        for status in resting:
            member = w.member(coach)
            w.sys.members.update(member.id, membership_status=status)
        for _ in range(max_members):
            w.sys.members.assign_coach(w.member().id, coach.id)
        for spec in extras:
            if via_signup:
                with pytest.raises(Conflict):
                    w.member(coach, spec=spec)
            else:
                loner = w.member(spec=spec)
                with pytest.raises(Conflict):
                    w.sys.members.assign_coach(loner.id, coach.id)
                assert w.sys.members.get(loner.id).coach_id is None
        profile = w.sys.coaches.get(coach.id)
        assert profile.current_member_count == max_members
        assert profile.available_capacity == 0


# Feature: coaching-platform, Property 9: Coach Acceptance Filtering
@given(coaches=st.lists(st.tuples(st.booleans(), st.booleans()), min_size=1, max_size=5))
def test_only_accepting_coaches_are_offered_at_signup(backend: Any, coaches: Any) -> None:
    with World(backend) as w:
        made = []
        for accepting, active in coaches:
            coach = w.coach(is_accepting_members=accepting)
            if not active:
                w.sys.users.deactivate(coach.id)
            made.append((coach.id, accepting, active))
        member = w.member()
        offered = {p.user_id for p in w.as_(member).coaches.list_accepting()}
        assert offered <= {c for c, accepting, _ in made if accepting}
        assert offered == {c for c, accepting, active in made if accepting and active}
        assert all(p.is_accepting_members for p in w.sys.coaches.list_accepting())


# Feature: coaching-platform, Property 10: Coach Profile Member Count
@given(
    max_members=st.integers(1, 6),
    statuses=st.lists(st.tuples(st.booleans(), membership_statuses()), max_size=6),
    settings=coach_settings(),
)
def test_coach_profile_counts_active_members(
    backend: Any, max_members: int, statuses: Any, settings: Any
) -> None:
    with World(backend) as w:
        coach = w.coach(max_members=10)
        other = w.coach()
        expected = 0
        for mine, status in statuses:
            member = w.member(coach if mine else other)
            w.sys.members.update(member.id, membership_status=status)
            expected += mine and status == "active"
        kwargs = settings.as_kwargs()
        kwargs["max_members"] = max_members
        w.as_(coach).coaches.update(coach.id, **kwargs)
        for reader in (w.sys, w.as_(coach), w.as_(other)):
            profile = reader.coaches.get(coach.id)
            assert profile.current_member_count == expected
            assert profile.available_capacity == max(0, max_members - expected)
