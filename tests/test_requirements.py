"""Example-based tests, one group per requirement of seed 002 (the numbered
properties have their own hypothesis suite in tests/properties/)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

import coachcore
from coachcore import MembershipStatus, NotificationKind, OnboardingStatus, SessionStatus
from coachcore.errors import (
    BusinessRuleViolation,
    Conflict,
    Forbidden,
    NotFound,
    ValidationFailed,
)
from world import World

MONDAY = date(2030, 1, 7)

OVERRIDE = {"override": True, "override_reason": "set up by the test"}


def _session(world: World) -> tuple[coachcore.User, coachcore.User, coachcore.Session]:
    coach = world.coach()
    member = world.member(coach)
    session = world.core.acting_as(coach.id).sessions.create(
        member_id=member.id,
        coach_id=coach.id,
        scheduled_at=datetime(2030, 1, 10, 15, tzinfo=UTC),
        duration=45,
        type="initial",
        override=True,
        override_reason="set up by the test",
    )
    return coach, member, session


# Requirement 1: member profiles
def test_req1_member_profile_defaults_and_coach_scoped_lists(world: World) -> None:
    coach, other_coach = world.coach(), world.coach()
    mine, theirs = world.member(coach), world.member(other_coach)
    profile = world.sys.members.get(mine.id)
    assert profile.membership_status == MembershipStatus.ACTIVE
    assert profile.onboarding_status == OnboardingStatus.PENDING
    assert profile.joined_at == world.clock.now()
    listed = world.core.acting_as(coach.id).members.list()
    assert [m.user_id for m in listed] == [mine.id]
    assert {m.user_id for m in world.sys.members.list()} == {mine.id, theirs.id}
    found = world.core.acting_as(coach.id).members.list(search=mine.name[-3:])
    assert [m.user_id for m in found] == [mine.id]


def test_req1_update_validates_and_persists(world: World) -> None:
    coach = world.coach()
    member = world.member(coach)
    scope = world.core.acting_as(coach.id).members
    scope.update(member.id, goals="Run 10k", membership_status="paused")
    assert world.sys.members.get(member.id).goals == "Run 10k"
    with pytest.raises(ValidationFailed):
        scope.update(member.id, membership_status="sleeping")
    with pytest.raises(Forbidden):  # a member cannot write coach-side fields
        world.core.acting_as(member.id).members.update(member.id, coach_notes="x")


def test_req1_assignment_creates_conversation_and_notifies_coach(world: World) -> None:
    coach = world.coach()
    member = world.member()
    world.sys.members.assign_coach(member.id, coach.id)
    conversations = world.core.acting_as(member.id).conversations.list()
    assert [set(c.participant_ids) for c in conversations] == [{coach.id, member.id}]
    kinds = world.core.notifier.kinds_for(coach.id)  # type: ignore[attr-defined]
    assert kinds == [NotificationKind.MEMBER_ASSIGNED]


# Requirement 2: coach profiles
def test_req2_coach_profile_defaults_capacity_and_acceptance(world: World) -> None:
    coach = world.coach(max_members=1)
    profile = world.sys.coaches.get(coach.id)
    assert (profile.max_members, profile.is_accepting_members) == (1, True)
    world.member(coach)
    full = world.sys.coaches.get(coach.id)
    assert (full.current_member_count, full.available_capacity) == (1, 0)
    with pytest.raises(Conflict):
        world.member(coach)
    world.sys.coaches.update(coach.id, is_accepting_members=False, max_members=5)
    assert coach.id not in [c.user_id for c in world.sys.coaches.list_accepting()]
    with pytest.raises(BusinessRuleViolation):
        world.member(coach)
    with pytest.raises(ValidationFailed):
        world.sys.coaches.update(coach.id, max_members=0)


# Requirement 3: availability
def test_req3_windows_validate_overlap_and_protect_bookings(world: World) -> None:
    coach = world.coach()
    member = world.member(coach)
    window = world.window(coach, 1, "09:00", "12:00")
    with pytest.raises(Conflict):
        world.window(coach, 1, "11:00", "13:00")
    with pytest.raises(ValidationFailed):
        world.window(coach, 2, "12:00", "09:00")
    with pytest.raises(ValidationFailed):
        world.window(coach, 7, "09:00", "10:00")
    world.window(coach, 1, "12:00", "24:00")  # touching is not overlapping
    slot = world.slots(member, coach, MONDAY)[2]  # 11:00
    world.book(member, coach, slot.start)
    scope = world.core.acting_as(coach.id).availability
    with pytest.raises(BusinessRuleViolation):
        scope.update(window.id, end_time="11:00")
    with pytest.raises(BusinessRuleViolation):
        scope.delete(window.id)
    assert scope.update(window.id, start_time="08:00").start_time == "08:00"


# Requirement 4: sessions
def test_req4_session_lifecycle(world: World) -> None:
    coach, member, session = _session(world)
    event = world.core.calendar.events[session.calendar_event_id]  # type: ignore[attr-defined]
    assert event.creator_id == coach.id and event.attendee_ids == (member.id,)
    world.clock.set(session.scheduled_at + timedelta(minutes=45))
    done = world.core.acting_as(coach.id).sessions.complete(session.id, coach_notes="private")
    assert done.status == SessionStatus.COMPLETED and done.completed_at == world.clock.now()
    assert world.core.acting_as(member.id).sessions.get(session.id).coach_notes is None
    assert world.core.acting_as(coach.id).sessions.get(session.id).coach_notes == "private"
    with pytest.raises(BusinessRuleViolation):
        world.core.acting_as(coach.id).sessions.cancel(session.id)
    kinds = world.core.notifier.kinds_for(member.id)  # type: ignore[attr-defined]
    assert set(kinds[-2:]) == {NotificationKind.SESSION_COMPLETED, NotificationKind.RATE_SESSION}


def test_req4_member_notes_visible_to_member_coach_admin(world: World) -> None:
    coach, member, session = _session(world)
    world.core.acting_as(member.id).sessions.add_member_notes(session.id, "my notes")
    for viewer in (member, coach, world.admin()):
        assert world.core.acting_as(viewer.id).sessions.get(session.id).member_notes == "my notes"
    with pytest.raises(Forbidden):
        world.core.acting_as(world.member(coach).id).sessions.get(session.id)


# Requirement 6: signup
def test_req6_signup_without_coach_waits_for_admin(world: World) -> None:
    member = world.member()
    profile = world.sys.members.get(member.id)
    assert member.role == "member" and profile.coach_id is None
    assert profile.onboarding_status == OnboardingStatus.PENDING


# Requirements 7 and 8: dashboards
def test_req7_member_dashboard(world: World) -> None:
    coach = world.coach()
    member = world.member(coach)
    board = world.core.acting_as(member.id).dashboards.member()
    assert board.prompt_to_book and board.next_session is None
    assert board.quick_actions == ["book_session", "message_coach"]
    world.window(coach, 1, "09:00", "17:00", buffer_minutes=0)
    for slot in world.slots(member, coach, MONDAY)[:4]:
        world.book(member, coach, slot.start)
    board = world.core.acting_as(member.id).dashboards.member()
    assert len(board.upcoming) == 3 and not board.prompt_to_book
    assert board.next_session == board.upcoming[0]
    assert board.seconds_until_next == int(
        (board.upcoming[0].scheduled_at - world.clock.now()).total_seconds()
    )


def test_req8_coach_dashboard_today_and_week_in_coach_zone(world: World) -> None:
    coach = world.coach(tz="America/New_York")
    member = world.member(coach)
    scope = world.core.acting_as(coach.id).sessions
    # now: Tue 2030-01-01 08:00 UTC = 03:00 in New York
    today = scope.create(
        member_id=member.id,
        coach_id=coach.id,
        scheduled_at=datetime(2030, 1, 1, 20, tzinfo=UTC),
        **OVERRIDE,
    )
    late = scope.create(
        member_id=member.id,
        coach_id=coach.id,  # Wed 01:00 UTC = Tue NY
        scheduled_at=datetime(2030, 1, 2, 4, tzinfo=UTC),
        **OVERRIDE,
    )
    week = scope.create(
        member_id=member.id,
        coach_id=coach.id,
        scheduled_at=datetime(2030, 1, 5, 15, tzinfo=UTC),
        **OVERRIDE,
    )
    scope.create(
        member_id=member.id,
        coach_id=coach.id,
        scheduled_at=datetime(2030, 1, 8, 15, tzinfo=UTC),
        **OVERRIDE,
    )
    board = world.core.acting_as(coach.id).dashboards.coach()
    assert [s.id for s in board.today] == [today.id, late.id]
    assert [s.id for s in board.this_week] == [today.id, late.id, week.id]
    assert board.active_member_count == 1
    with pytest.raises(Forbidden):
        world.core.acting_as(member.id).dashboards.coach(coach.id)


# Requirement 9: ratings
def test_req9_rating_once_after_completion_and_average(world: World) -> None:
    coach, member, session = _session(world)
    rate = world.core.acting_as(member.id).sessions.rate
    with pytest.raises(BusinessRuleViolation):
        rate(session.id, rating=4)
    world.core.acting_as(coach.id).sessions.complete(session.id)
    with pytest.raises(ValidationFailed):
        rate(session.id, rating=6)
    assert rate(session.id, rating=4).rating == 4
    with pytest.raises(Conflict):
        rate(session.id, rating=5)
    assert world.sys.coaches.get(coach.id).average_rating == 4.0


# Requirement 10: messaging
def test_req10_group_conversation_for_a_session(world: World) -> None:
    coach = world.coach()
    member = world.member(coach)
    session = world.core.acting_as(coach.id).sessions.create(
        member_id=member.id,
        coach_id=coach.id,
        scheduled_at=datetime(2030, 2, 1, 9, tzinfo=UTC),
        create_group_conversation=True,
        override=True,
        override_reason="set up by the test",
    )
    conversation = world.core.acting_as(member.id).conversations.get(session.conversation_id)
    assert conversation.kind == "group" and set(conversation.participant_ids) == {
        coach.id,
        member.id,
    }
    assert conversation.id in world.core.messaging.conversations  # type: ignore[attr-defined]


# Requirement 12: permissions
def test_req12_forbidden_cases(world: World) -> None:
    coach, other_coach = world.coach(), world.coach()
    member, stranger = world.member(coach), world.member(other_coach)
    _, _, session = _session(world)
    as_member = world.core.acting_as(member.id)
    with pytest.raises(Forbidden):
        as_member.members.list()  # no members:read
    with pytest.raises(Forbidden):
        as_member.sessions.create(
            member_id=member.id,
            coach_id=coach.id,
            scheduled_at=datetime(2030, 2, 1, tzinfo=UTC),
            override=True,
            override_reason="set up by the test",
        )
    with pytest.raises(Forbidden):
        as_member.members.get(stranger.id)
    with pytest.raises(Forbidden):
        world.core.acting_as(coach.id).sessions.get(session.id)
    with pytest.raises(Forbidden):
        world.core.acting_as(coach.id).sessions.list(member_id=stranger.id)
    admin = world.core.acting_as(world.admin().id)
    assert admin.sessions.get(session.id).id == session.id
    assert len(admin.members.list()) == 3


def test_req12_unknown_and_deactivated_actors(world: World) -> None:
    coach = world.coach()
    with pytest.raises(NotFound):
        world.core.acting_as("nobody").sessions.upcoming()
    world.sys.users.deactivate(coach.id)
    with pytest.raises(Forbidden):
        world.core.acting_as(coach.id).sessions.upcoming()


def test_req12_custom_role_from_permission_data() -> None:
    from backends import T0
    from coachcore.adapters.clock import FixedClock

    clock = FixedClock(T0)
    core = coachcore.open(
        "memory://", clock=clock, roles={"manager": {"scope:all", "members:read"}}
    )
    world = World(core, clock)
    coach = world.coach()
    world.member(coach)
    manager = world.sys.users.create(name="M", email="m@example.com", role="manager")
    assert len(core.acting_as(manager.id).members.list()) == 1
    with pytest.raises(Forbidden):
        core.acting_as(manager.id).members.assign_coach(world.member().id, coach.id)


# Requirement 13: calendar
def test_req13_calendar_follows_the_session(world: World) -> None:
    coach, _, session = _session(world)
    scope = world.core.acting_as(coach.id).sessions
    moved = scope.update(
        session.id, scheduled_at=session.scheduled_at + timedelta(hours=2), **OVERRIDE
    )
    event = world.core.calendar.events[session.calendar_event_id]  # type: ignore[attr-defined]
    assert (event.start, event.end) == (moved.scheduled_at, moved.ends_at)
    assert event.link.endswith(session.id)
    scope.cancel(session.id, reason="sick")
    assert world.core.calendar.events[session.calendar_event_id].status == "cancelled"  # type: ignore[attr-defined]


# Requirement 14: validation and integrity
def test_req14_session_needs_active_users_and_aware_times(world: World) -> None:
    coach = world.coach()
    member = world.member(coach)
    scope = world.core.acting_as(coach.id).sessions
    with pytest.raises(ValidationFailed):
        scope.create(member_id=member.id, coach_id=coach.id, scheduled_at=datetime(2030, 2, 1))
    with pytest.raises(NotFound):
        world.sys.sessions.create(
            member_id="ghost",
            coach_id=coach.id,
            scheduled_at=datetime(2030, 2, 1, tzinfo=UTC),
            override=True,
            override_reason="set up by the test",
        )
    world.sys.users.deactivate(member.id)
    with pytest.raises(BusinessRuleViolation):
        scope.create(
            member_id=member.id, coach_id=coach.id, scheduled_at=datetime(2030, 2, 1, tzinfo=UTC)
        )


def test_to_dict_serializes_entities_and_slots(world: World) -> None:
    coach = world.coach(tz="Europe/Berlin")
    member = world.member(coach)
    world.window(coach, 1, "09:00", "10:00")
    slot = world.slots(member, coach, MONDAY)[0]
    data = coachcore.to_dict(slot)
    assert data["start"] == "2030-01-07T08:00:00+00:00"
    assert data["local_start"] == "2030-01-07T09:00:00+01:00"
    assert coachcore.from_dict(coachcore.to_dict(coach), coachcore.User) == coach
