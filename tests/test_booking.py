"""Direct booking: confirmation, full slots, buffers, cancellation (requirement 5)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

import coachcore
from coachcore import BookingStatus, NotificationKind, SessionStatus
from coachcore.errors import (
    SLOT_FULL_MESSAGE,
    BusinessRuleViolation,
    Conflict,
    Forbidden,
    SlotFull,
)
from world import World

MONDAY = date(2030, 1, 7)


def test_booking_confirms_with_session_event_and_notifications(world: World) -> None:
    coach = world.coach()
    member = world.member(coach)
    world.window(coach, 1, "09:00", "12:00", max_sessions_per_slot=2, buffer_minutes=0)
    slot = world.slots(member, coach, MONDAY)[0]
    booking = world.book(member, coach, slot.start)
    assert booking.status == BookingStatus.CONFIRMED
    session = world.core.acting_as(member.id).sessions.get(booking.session_id)
    assert session.status == SessionStatus.SCHEDULED
    event = world.core.calendar.events[session.calendar_event_id]  # type: ignore[attr-defined]
    assert (event.category, event.creator_id, event.attendee_ids) == (
        "Coaching Session",
        coach.id,
        (member.id,),
    )
    kinds = world.core.notifier.kinds_for(member.id)  # type: ignore[attr-defined]
    assert "booking_confirmed" in kinds and "session_created" in kinds
    assert "session_created" in world.core.notifier.kinds_for(coach.id)  # type: ignore[attr-defined]


def test_full_slot_raises_slot_full_and_keeps_rejected_booking(world: World) -> None:
    coach = world.coach()
    first, second = world.member(coach), world.member(coach)
    world.window(coach, 1, "09:00", "10:00", max_sessions_per_slot=1)
    start = world.slots(first, coach, MONDAY)[0].start
    world.book(first, coach, start)
    with pytest.raises(SlotFull) as caught:
        world.book(second, coach, start)
    assert caught.value.message == SLOT_FULL_MESSAGE
    assert caught.value.to_dict()["statusCode"] == 409
    rejected = world.core.acting_as(second.id).bookings.list()
    assert [b.status for b in rejected] == [BookingStatus.REJECTED]
    notes = world.core.acting_as(second.id).notifications.list()
    assert notes[-1].kind == NotificationKind.BOOKING_REJECTED


def test_group_seats_fill_then_slot_disappears(world: World) -> None:
    coach = world.coach()
    world.window(coach, 1, "09:00", "10:00", max_sessions_per_slot=3)
    members = [world.member(coach) for _ in range(3)]
    start = world.slots(members[0], coach, MONDAY)[0].start
    for i, member in enumerate(members):
        slots = world.slots(member, coach, MONDAY)
        assert slots[0].available_capacity == 3 - i
        world.book(member, coach, start)
    assert world.slots(members[0], coach, MONDAY) == []


def test_a_members_listing_marks_the_slots_where_they_have_a_seat(world: World) -> None:
    coach = world.coach()
    member, other = world.member(coach), world.member(coach)
    world.window(coach, 1, "09:00", "12:00", max_sessions_per_slot=2, buffer_minutes=0)
    nine, ten, _ = (s.start for s in world.slots(member, coach, MONDAY))
    booking = world.book(member, coach, nine)
    as_coach = world.core.acting_as(coach.id)
    as_coach.sessions.create(member_id=member.id, coach_id=coach.id, scheduled_at=ten)

    def marked(viewer: coachcore.User) -> list[tuple[datetime, int]]:
        listed = world.slots(viewer, coach, MONDAY)
        return [(s.start, s.available_capacity) for s in listed if s.you_have_a_seat]

    assert marked(member) == [(nine, 1), (ten, 1)]  # booked, and placed by the coach
    yours = world.slots(member, coach, MONDAY)[0]
    data = coachcore.to_dict(yours)
    assert data["you_have_a_seat"] is True
    assert coachcore.from_dict(data, coachcore.AvailableSlot) == yours
    assert marked(other) == [] and marked(coach) == []
    listed_by_the_host = world.sys.availability.available_slots(
        coach.id, start_date=MONDAY, end_date=MONDAY, duration=60
    )
    assert [s.available_capacity for s in listed_by_the_host] == [1, 1, 2]
    assert not any(s.you_have_a_seat for s in listed_by_the_host)
    with pytest.raises(Conflict, match="already has a seat"):
        world.book(member, coach, nine)
    world.book(other, coach, ten)  # the last seat: the slot leaves everyone's listing
    assert marked(member) == [(nine, 1)]
    world.core.acting_as(member.id).bookings.cancel(booking.id)
    assert marked(member) == []  # a cancelled session is no seat
    assert world.slots(member, coach, MONDAY)[0].start == nine  # bookable for them again


def test_buffer_blocks_neighbouring_slot(world: World) -> None:
    coach = world.coach()
    a, b = world.member(coach), world.member(coach)
    world.window(coach, 1, "09:00", "12:00", max_sessions_per_slot=2, buffer_minutes=15)
    slots = world.slots(a, coach, MONDAY)
    world.book(a, coach, slots[0].start)  # 09:00-10:00 blocks 10:00 (within 15 min)
    starts = [s.start for s in world.slots(b, coach, MONDAY)]
    assert slots[1].start not in starts
    assert slots[0].start in starts and slots[2].start in starts
    with pytest.raises(SlotFull):
        world.book(b, coach, slots[1].start)


def test_cancel_frees_the_seat(world: World) -> None:
    coach = world.coach()
    a, b = world.member(coach), world.member(coach)
    world.window(coach, 1, "09:00", "10:00")
    start = world.slots(a, coach, MONDAY)[0].start
    booking = world.book(a, coach, start)
    cancelled = world.core.acting_as(a.id).bookings.cancel(booking.id, reason="ill")
    assert cancelled.status == BookingStatus.CANCELLED
    session = world.core.acting_as(coach.id).sessions.get(booking.session_id)
    assert session.status == SessionStatus.CANCELLED
    assert world.book(b, coach, start).status == BookingStatus.CONFIRMED


def test_booking_outside_availability_or_off_grid_is_422(world: World) -> None:
    coach = world.coach()
    member = world.member(coach)
    world.window(coach, 1, "09:00", "12:00")
    start = world.slots(member, coach, MONDAY)[0].start
    with pytest.raises(BusinessRuleViolation):
        world.book(member, coach, start + timedelta(minutes=30))
    with pytest.raises(BusinessRuleViolation):
        world.book(member, coach, start + timedelta(days=1))


def test_member_books_only_with_assigned_coach(world: World) -> None:
    coach, other = world.coach(), world.coach()
    member = world.member(coach)
    world.window(other, 1, "09:00", "12:00")
    start = world.slots(member, other, MONDAY)[0].start
    with pytest.raises(Forbidden):
        world.book(member, other, start)


def test_idempotency_key_returns_the_same_booking(world: World) -> None:
    coach = world.coach()
    member = world.member(coach)
    world.window(coach, 1, "09:00", "12:00", max_sessions_per_slot=5)
    start = world.slots(member, coach, MONDAY)[0].start
    scope = world.core.acting_as(member.id).bookings
    first = scope.create(coach_id=coach.id, start=start, idempotency_key="k-1")
    again = scope.create(coach_id=coach.id, start=start, idempotency_key="k-1")
    assert again.id == first.id
    assert len(scope.list()) == 1
