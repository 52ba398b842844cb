"""Scheduling rules and date overrides (issue 3): each off by default, each
honoured the same way by the listing and by booking, on every store."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from coachcore import BookingStatus
from coachcore.errors import BusinessRuleViolation, SlotFull, ValidationFailed
from coachcore.scheduling.calendar import BLOCKED, DAY_FULL
from world import World

TUESDAY = date(2030, 1, 1)  # the world's clock starts at 08:00 UTC that day
WEDNESDAY = date(2030, 1, 2)
MONDAY = date(2030, 1, 7)


def at(day: date, hhmm: str) -> datetime:
    hour, minute = map(int, hhmm.split(":"))
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


def starts(slots: list[Any]) -> list[str]:
    return [s.start.strftime("%H:%M") for s in slots]


def rules(world: World, coach: Any, **values: Any) -> Any:
    return world.core.acting_as(coach.id).scheduling.set_rules(**values)


def test_rules_are_all_off_until_a_coach_sets_them(world: World) -> None:
    coach = world.coach()
    member = world.member(coach)
    world.window(coach, 1, "09:00", "12:00", buffer_minutes=0)
    before = starts(world.slots(member, coach, MONDAY))
    current = world.core.acting_as(member.id).scheduling.rules(coach.id)
    assert all(getattr(current, name) is None for name in (
        "slot_interval_minutes", "min_notice_minutes", "booking_horizon_days",
        "max_sessions_per_day", "max_future_bookings_per_member",
        "cancellation_cutoff_hours", "waitlist_hold_minutes",
    ))  # fmt: skip
    assert before == ["09:00", "10:00", "11:00"]
    rules(world, coach, min_notice_minutes=30)
    rules(world, coach, min_notice_minutes=None)
    assert starts(world.slots(member, coach, MONDAY)) == before


def test_slot_interval_shapes_listing_and_booking_alike(world: World) -> None:
    coach = world.coach()
    member = world.member(coach)
    world.window(coach, 1, "09:00", "12:00", max_sessions_per_slot=3, buffer_minutes=0)
    rules(world, coach, slot_interval_minutes=30)
    listed = world.slots(member, coach, MONDAY, duration=60)
    assert starts(listed) == ["09:00", "09:30", "10:00", "10:30", "11:00"]
    booking = world.book(member, coach, at(MONDAY, "09:30"), duration=60)
    assert booking.status == BookingStatus.CONFIRMED
    with pytest.raises(BusinessRuleViolation, match="outside"):
        world.book(member, coach, at(MONDAY, "09:15"), duration=60)


def test_minimum_notice_hides_and_refuses_slots_too_soon(world: World) -> None:
    coach = world.coach()
    member = world.member(coach)
    world.window(coach, 2, "08:00", "13:00", buffer_minutes=0)  # Tuesday, today
    rules(world, coach, min_notice_minutes=120)  # now is 08:00
    assert starts(world.slots(member, coach, TUESDAY)) == ["10:00", "11:00", "12:00"]
    with pytest.raises(BusinessRuleViolation, match="120 minutes"):
        world.book(member, coach, at(TUESDAY, "09:00"))
    assert world.book(member, coach, at(TUESDAY, "10:00")).status == BookingStatus.CONFIRMED


def test_booking_horizon_ends_the_listing_and_refuses_later_slots(world: World) -> None:
    coach = world.coach()
    member = world.member(coach)
    for day in range(7):
        world.window(coach, day, "09:00", "10:00")
    rules(world, coach, booking_horizon_days=7)  # up to 2030-01-08 08:00
    listed = world.slots(member, coach, TUESDAY, TUESDAY + timedelta(days=13))
    assert [s.start.date() for s in listed][-1] == date(2030, 1, 7)
    assert len(listed) == 7  # Tuesday 09:00 is still ahead: Jan 1..7
    with pytest.raises(BusinessRuleViolation, match="7 days ahead"):
        world.book(member, coach, at(date(2030, 1, 8), "09:00"))


def test_daily_limit_closes_a_day_and_reopens_it_on_cancel(world: World) -> None:
    coach = world.coach()
    member, other = world.member(coach), world.member(coach)
    world.window(coach, 1, "09:00", "13:00", buffer_minutes=0)
    world.window(coach, 2, "09:00", "13:00", buffer_minutes=0)
    rules(world, coach, max_sessions_per_day=2)
    first = world.book(member, coach, at(MONDAY, "09:00"))
    world.book(other, coach, at(MONDAY, "10:00"))
    assert world.slots(member, coach, MONDAY) == []
    assert len(world.slots(member, coach, MONDAY + timedelta(days=1))) == 4
    with pytest.raises(SlotFull, match="fully booked") as full:
        world.book(member, coach, at(MONDAY, "11:00"))
    assert full.value.message == DAY_FULL
    world.core.acting_as(member.id).bookings.cancel(first.id)
    assert starts(world.slots(member, coach, MONDAY)) == ["09:00", "11:00", "12:00"]


def test_member_cap_on_upcoming_bookings(world: World) -> None:
    coach = world.coach()
    member, other = world.member(coach), world.member(coach)
    world.window(coach, 1, "09:00", "13:00", buffer_minutes=0)
    rules(world, coach, max_future_bookings_per_member=2)
    first = world.book(member, coach, at(MONDAY, "09:00"))
    world.book(member, coach, at(MONDAY, "10:00"))
    with pytest.raises(BusinessRuleViolation, match="2 upcoming sessions"):
        world.book(member, coach, at(MONDAY, "11:00"))
    world.book(other, coach, at(MONDAY, "11:00"))  # the cap is per member
    world.core.acting_as(member.id).bookings.cancel(first.id)
    assert world.book(member, coach, at(MONDAY, "12:00")).status == BookingStatus.CONFIRMED


def test_whole_and_partial_blocks(world: World) -> None:
    coach = world.coach()
    member = world.member(coach)
    world.window(coach, 1, "09:00", "13:00", buffer_minutes=0)
    plan = world.core.acting_as(coach.id).scheduling
    whole = plan.add_override(date=MONDAY, kind="block", reason="holiday")
    assert world.slots(member, coach, MONDAY) == []
    with pytest.raises(BusinessRuleViolation, match="blocked"):
        world.book(member, coach, at(MONDAY, "09:00"))
    plan.remove_override(whole.id)
    plan.add_override(date=MONDAY, kind="block", start_time="10:30", end_time="11:15")
    assert starts(world.slots(member, coach, MONDAY)) == ["09:00", "12:00"]
    with pytest.raises(BusinessRuleViolation) as refused:
        world.book(member, coach, at(MONDAY, "11:00"))
    assert refused.value.message == BLOCKED
    next_week = MONDAY + timedelta(days=7)
    assert len(world.slots(member, coach, next_week)) == 4  # one date only


def test_extra_hours_on_one_date_are_listed_booked_and_protected(world: World) -> None:
    coach = world.coach()
    member = world.member(coach)
    world.window(coach, 1, "09:00", "10:00", buffer_minutes=0)
    plan = world.core.acting_as(coach.id).scheduling
    saturday = date(2030, 1, 12)
    extra = plan.add_override(
        date=saturday, kind="extra", start_time="14:00", end_time="16:00", max_sessions_per_slot=2
    )
    listed = world.slots(member, coach, saturday)
    assert starts(listed) == ["14:00", "15:00"]
    assert [s.max_capacity for s in listed] == [2, 2]
    assert world.slots(member, coach, saturday + timedelta(days=7)) == []
    booking = world.book(member, coach, at(saturday, "14:00"))
    assert booking.window_id == extra.id
    assert world.slots(member, coach, saturday)[0].available_capacity == 1
    with pytest.raises(BusinessRuleViolation, match="still have bookings"):
        plan.remove_override(extra.id)
    both = plan.overrides(start_date=saturday, end_date=saturday)
    assert [o.id for o in both] == [extra.id]


def test_extra_hours_on_a_spring_forward_date_skip_the_missing_hour(world: World) -> None:
    coach = world.coach("Europe/Berlin")
    member = world.member(coach)
    sunday = date(2030, 3, 31)  # 02:00 -> 03:00 in Europe/Berlin
    world.core.acting_as(coach.id).scheduling.add_override(
        date=sunday, kind="extra", start_time="01:00", end_time="05:00"
    )
    listed = world.slots(member, coach, sunday)
    assert [s.local_start.strftime("%H:%M") for s in listed] == ["01:00", "03:00", "04:00"]
    assert [s.end - s.start for s in listed] == [timedelta(hours=1)] * 3


def test_cut_off_binds_members_but_not_coaches(world: World) -> None:
    coach = world.coach()
    member = world.member(coach)
    world.window(coach, 2, "09:00", "18:00", buffer_minutes=0)  # Tuesday, today
    rules(world, coach, cancellation_cutoff_hours=24)
    soon = world.book(member, coach, at(TUESDAY, "12:00"))
    later = world.book(member, coach, at(TUESDAY + timedelta(days=7), "12:00"))
    scope = world.core.acting_as(member.id)
    with pytest.raises(BusinessRuleViolation, match="24 hours"):
        scope.bookings.cancel(soon.id)
    with pytest.raises(BusinessRuleViolation, match="24 hours"):
        scope.sessions.cancel(soon.session_id)
    with pytest.raises(BusinessRuleViolation, match="24 hours"):
        scope.bookings.reschedule(soon.id, start=at(TUESDAY, "15:00"))
    assert scope.bookings.cancel(later.id).status == BookingStatus.CANCELLED
    coach_scope = world.core.acting_as(coach.id)
    assert coach_scope.bookings.cancel(soon.id).status == BookingStatus.CANCELLED


def test_reschedule_uses_the_booking_rules_and_leaves_its_own_seat(world: World) -> None:
    coach = world.coach()
    member, other = world.member(coach), world.member(coach)
    world.window(coach, 1, "09:00", "13:00", buffer_minutes=30)
    booking = world.book(member, coach, at(MONDAY, "09:00"))
    world.book(other, coach, at(MONDAY, "12:00"))
    scope = world.core.acting_as(member.id).bookings
    with pytest.raises(SlotFull):
        scope.reschedule(booking.id, start=at(MONDAY, "12:00"))
    # 10:00 is within the buffer of the booking's own 09:00 session, which moves away
    moved = scope.reschedule(booking.id, start=at(MONDAY, "10:00"))
    assert (moved.start, moved.status) == (at(MONDAY, "10:00"), BookingStatus.CONFIRMED)
    session = world.core.acting_as(member.id).sessions.get(moved.session_id)
    assert session.scheduled_at == at(MONDAY, "10:00")
    assert starts(world.slots(member, coach, MONDAY)) == []  # buffers and the full 12:00
    with pytest.raises(BusinessRuleViolation, match="outside"):
        scope.reschedule(booking.id, start=at(MONDAY, "10:15"))


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"min_notice_minutes": 0}, "min_notice_minutes"),
        ({"booking_horizon_days": "7"}, "booking_horizon_days"),
        ({"slot_interval_minutes": 2}, "slot_interval_minutes"),
        ({"max_sessions_per_day": True}, "max_sessions_per_day"),
        ({"waitlist_hold_minutes": 10**6}, "waitlist_hold_minutes"),
    ],
)
def test_bad_rule_values_are_refused_with_the_field(
    world: World, changes: dict[str, Any], field: str
) -> None:
    coach = world.coach()
    with pytest.raises(ValidationFailed) as bad:
        rules(world, coach, **changes)
    assert field in str(bad.value.message) + str(bad.value.details)


def test_unknown_rules_and_bad_overrides_are_refused(world: World) -> None:
    coach = world.coach()
    plan = world.core.acting_as(coach.id).scheduling
    with pytest.raises(ValidationFailed, match="Unknown scheduling rules: notice"):
        plan.set_rules(notice=10)
    for bad in (
        {"kind": "extra"},
        {"kind": "block", "start_time": "10:00"},
        {"kind": "extra", "start_time": "12:00", "end_time": "11:00"},
        {"kind": "holiday"},
        {"kind": "extra", "start_time": "10:00", "end_time": "11:00", "max_sessions_per_slot": 0},
    ):
        with pytest.raises(ValidationFailed):
            plan.add_override(date=MONDAY, **bad)


def test_only_the_coach_or_an_admin_changes_rules(world: World) -> None:
    coach, other = world.coach(), world.coach()
    member = world.member(coach)
    from coachcore.errors import Forbidden

    with pytest.raises(Forbidden):
        world.core.acting_as(member.id).scheduling.set_rules(coach.id, min_notice_minutes=5)
    with pytest.raises(Forbidden):
        world.core.acting_as(other.id).scheduling.add_override(
            coach_id=coach.id, date=MONDAY, kind="block"
        )
    admin = world.admin()
    changed = world.core.acting_as(admin.id).scheduling.set_rules(coach.id, min_notice_minutes=5)
    assert changed.min_notice_minutes == 5


def test_a_full_weekly_slot_is_not_offered_again_by_extra_hours(world: World) -> None:
    """Regression (found by the agreement property): where extra hours and a
    weekly window share a start, the weekly slot is the one, even when full."""
    coach = world.coach()
    member, other = world.member(coach), world.member(coach)
    world.window(coach, 1, "09:00", "11:00", buffer_minutes=0)
    world.book(other, coach, at(MONDAY, "09:00"))
    extra = world.core.acting_as(coach.id).scheduling.add_override(
        date=MONDAY, kind="extra", start_time="09:00", end_time="12:00", max_sessions_per_slot=3
    )
    assert starts(world.slots(member, coach, MONDAY)) == ["10:00", "11:00"]
    with pytest.raises(SlotFull):
        world.book(member, coach, at(MONDAY, "09:00"))
    assert world.book(member, coach, at(MONDAY, "11:00")).window_id == extra.id


def test_a_booking_moved_into_extra_hours_protects_them(world: World) -> None:
    """Regression (found by the store agreement machine): a rescheduled booking
    keeps the id of the extra hours it now lies in, so they cannot be removed."""
    coach = world.coach()
    member = world.member(coach)
    world.window(coach, 3, "09:00", "10:00")  # Wednesday
    friday = date(2030, 1, 4)
    extra = world.core.acting_as(coach.id).scheduling.add_override(
        date=friday, kind="extra", start_time="14:00", end_time="16:00"
    )
    booking = world.book(member, coach, at(WEDNESDAY, "09:00"))
    moved = world.core.acting_as(member.id).bookings.reschedule(
        booking.id, start=at(friday, "14:00")
    )
    assert moved.window_id == extra.id
    with pytest.raises(BusinessRuleViolation, match="still have bookings"):
        world.core.acting_as(coach.id).scheduling.remove_override(extra.id)
