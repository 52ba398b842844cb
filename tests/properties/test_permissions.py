"""Access control: isolation, permissions, admin reach, cross-member and cross-coach (req. 12)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from propkit import World

from coachcore.domain.enums import OnboardingStatus
from coachcore.errors import Forbidden
from coachcore.policies.roles import PERMISSIONS
from coachcore.testing.strategies import (
    coach_settings,
    durations,
    notes,
    rating_specs,
    timezones,
    window_specs,
)

PERMISSION_SETS = st.frozensets(st.sampled_from(sorted(PERMISSIONS)))


# Feature: coaching-platform, Property 51: Member Session Data Isolation
@given(data=st.data())
def test_members_only_ever_see_their_own_sessions(backend: Any, data: Any) -> None:
    with World(backend) as w:
        coaches = [w.coach(), w.coach()]
        members = [w.member(data.draw(st.sampled_from(coaches), label="coach")) for _ in range(3)]
        owned: dict[str, set[str]] = {m.id: set() for m in members}
        for member in members:
            coach_id = w.sys.members.get(member.id).coach_id
            for _ in range(data.draw(st.integers(0, 3), label="sessions")):
                start = w.now + timedelta(hours=data.draw(st.integers(-48, 24 * 30)))
                owned[member.id].add(w.session(coach_id, member, start).id)
        for member in members:
            mine = w.as_(member).sessions
            assert {s.id for s in mine.list()} == owned[member.id]
            assert all(s.member_id == member.id for s in mine.list())
            assert {s.id for s in mine.upcoming()} <= owned[member.id]
            for other in members:
                if other.id == member.id:
                    continue
                for session_id in owned[other.id]:
                    with pytest.raises(Forbidden):
                        mine.get(session_id)
                with pytest.raises(Forbidden):
                    mine.list(member_id=other.id)


def _custom_world(backend: Any, perms: frozenset[str]) -> World:
    return World(backend, roles={"custom": perms})


# Feature: coaching-platform, Property 52: Permission Enforcement Read
@given(perms=PERMISSION_SETS, builtin=st.sampled_from([None, "member", "coach", "admin"]))
def test_listing_members_needs_members_read(backend: Any, perms: Any, builtin: Any) -> None:
    with _custom_world(backend, perms) as w:
        coach = w.coach()
        w.member(coach)
        if builtin is None:
            user, granted = w.user("custom"), "members:read" in perms
        else:
            user = {"member": lambda: w.member(coach), "coach": w.coach, "admin": w.admin}[
                builtin
            ]()
            granted = builtin != "member"
        if granted:
            w.as_(user).members.list()
        else:
            with pytest.raises(Forbidden) as caught:
                w.as_(user).members.list()
            assert caught.value.status_code == 403
            assert caught.value.to_dict()["statusCode"] == 403


# Feature: coaching-platform, Property 53: Permission Enforcement Write
@given(perms=PERMISSION_SETS, builtin=st.sampled_from([None, "member", "coach"]))
def test_creating_sessions_needs_sessions_write(backend: Any, perms: Any, builtin: Any) -> None:
    with _custom_world(backend, perms) as w:
        coach = w.coach()
        member = w.member(coach)
        if builtin is None:
            actor = w.user("custom")
            allowed = {"sessions:write", "scope:all"} <= perms
        elif builtin == "member":
            actor, allowed = member, False
        else:
            actor, allowed = coach, True
        create = w.as_(actor).sessions.create

        def attempt() -> Any:
            return create(
                member_id=member.id,
                coach_id=coach.id,
                scheduled_at=w.now + timedelta(days=1),
                override=True,
                override_reason="set up by the test",
            )

        if allowed:
            assert attempt().coach_id == coach.id
        else:
            with pytest.raises(Forbidden):
                attempt()
            assert w.sys.sessions.list() == []
        if "sessions:write" not in perms and builtin is None:
            assert not allowed


# Feature: coaching-platform, Property 54: Admin Full Access
@given(data=st.data())
def test_an_admin_reaches_every_coaching_endpoint(backend: Any, data: Any) -> None:
    draw = data.draw
    with World(backend) as w:
        a = w.as_(w.admin())
        coach, other_coach = w.coach(tz=draw(timezones(), label="tz")), w.coach()
        member = w.member()
        a.users.get(member.id)
        a.users.update(member.id, name="Renamed")
        a.members.list()
        a.members.assign_coach(member.id, coach.id)
        a.members.get(member.id)
        a.members.update(
            member.id, goals=draw(notes()), coach_notes=draw(notes()), membership_status="active"
        )
        a.members.set_onboarding_status(member.id, draw(st.sampled_from(list(OnboardingStatus))))
        a.coaches.list_accepting()
        a.coaches.update(other_coach.id, **draw(coach_settings(), label="settings").as_kwargs())
        a.coaches.get(coach.id)
        spec = draw(
            window_specs(max_capacity=3).filter(lambda s: s.end_minute - s.start_minute >= 120)
        )
        window = a.availability.create(coach_id=coach.id, **spec.as_kwargs())
        a.availability.list(coach.id)
        a.availability.update(window.id, buffer_minutes=draw(st.integers(0, 30)))
        duration = draw(durations(high=60))
        slots = a.availability.available_slots(
            coach.id, start_date=date(2030, 1, 2), end_date=date(2030, 1, 9), duration=duration
        )
        booking = a.bookings.create(
            coach_id=coach.id, member_id=member.id, start=slots[0].start, duration=duration
        )
        a.bookings.get(booking.id)
        a.bookings.list()
        a.bookings.cancel(booking.id)
        session = a.sessions.create(
            member_id=member.id,
            coach_id=coach.id,
            scheduled_at=w.now + timedelta(days=3),
            override=True,
            override_reason="set up by the test",
        )
        a.sessions.get(session.id)
        a.sessions.list(member_id=member.id)
        a.sessions.upcoming()
        a.sessions.update(
            session.id,
            scheduled_at=w.now + timedelta(days=4),
            duration=duration,
            override=True,
            override_reason="set up by the test",
        )
        a.sessions.add_coach_notes(session.id, draw(notes()))
        a.sessions.add_member_notes(session.id, draw(notes()))
        a.dashboards.member(member.id)
        a.dashboards.coach(coach.id)
        a.sessions.complete(session.id, coach_notes="done")
        spare = a.sessions.create(
            member_id=member.id,
            coach_id=coach.id,
            scheduled_at=w.now + timedelta(days=5),
            override=True,
            override_reason="set up by the test",
        )
        a.sessions.cancel(spare.id)
        a.conversations.list(member.id)
        a.notifications.list(coach.id)
        a.availability.delete(window.id)
        a.users.deactivate(other_coach.id)


# Feature: coaching-platform, Property 54: Admin Full Access
@given(spec=rating_specs(), hours=st.integers(1, 24 * 60))
def test_an_admin_may_also_rate_a_session(backend: Any, spec: Any, hours: int) -> None:
    with World(backend) as w:
        coach = w.coach()
        member = w.member(coach)
        session = w.completed(coach, member, start=w.now + timedelta(hours=hours))
        rated = w.as_(w.admin()).sessions.rate(session.id, **spec.as_kwargs())
        assert (rated.rating, rated.rating_feedback) == (spec.rating, spec.feedback)
        assert w.as_(member).sessions.get(session.id).rating == spec.rating


# Feature: coaching-platform, Property 55: Cross-Member Access Prevention
@given(same_coach=st.sampled_from(["same", "different", "none"]), goals=notes())
def test_a_member_cannot_reach_another_members_profile(
    backend: Any, same_coach: str, goals: str
) -> None:
    with World(backend) as w:
        coach = w.coach()
        me = w.member(coach)
        them = w.member({"same": coach, "different": w.coach(), "none": None}[same_coach])
        mine = w.as_(me)
        before = w.sys.members.get(them.id)
        calls = [
            lambda: mine.members.get(them.id),
            lambda: mine.members.update(them.id, goals=goals),
            lambda: mine.members.set_onboarding_status(them.id, "completed"),
            lambda: mine.dashboards.member(them.id),
            lambda: mine.users.get(them.id),
            lambda: mine.conversations.list(them.id),
            lambda: mine.notifications.list(them.id),
            lambda: mine.members.list(),
        ]
        for call in calls:
            with pytest.raises(Forbidden):
                call()
        assert w.sys.members.get(them.id) == before
        assert mine.members.get(me.id).user_id == me.id


# Feature: coaching-platform, Property 56: Cross-Coach Session Access Prevention
@given(count=st.integers(1, 3), hours=st.lists(st.integers(1, 24 * 20), min_size=3, max_size=3))
def test_a_coach_cannot_reach_another_coachs_member_sessions(
    backend: Any, count: int, hours: list[int]
) -> None:
    with World(backend) as w:
        owner, intruder = w.coach(), w.coach()
        member = w.member(owner)
        w.member(intruder)
        sessions = [w.session(owner, member, w.now + timedelta(hours=h)) for h in hours[:count]]
        them = w.as_(intruder)
        with pytest.raises(Forbidden):
            them.sessions.list(member_id=member.id)
        with pytest.raises(Forbidden):
            them.members.get(member.id)
        with pytest.raises(Forbidden):
            them.dashboards.member(member.id)
        attempts: list[tuple[Any, dict[str, Any]]] = [
            (them.sessions.get, {}),
            (them.sessions.update, {"duration": 30}),
            (them.sessions.complete, {}),
            (them.sessions.cancel, {}),
            (them.sessions.add_coach_notes, {"notes": "mine"}),
        ]
        for session in sessions:
            for method, kwargs in attempts:
                with pytest.raises(Forbidden):
                    method(session.id, **kwargs)
            assert w.sys.sessions.get(session.id).status == "scheduled"
        assert them.sessions.list() == []
        assert them.sessions.upcoming() == []
