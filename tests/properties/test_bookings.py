"""Direct booking: confirmation, capacity, side effects, cancellation (requirement 5)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from propkit import World

from coachcore.errors import SLOT_FULL_MESSAGE, SlotFull
from coachcore.testing.strategies import timezones, window_specs

FIRST, LAST = date(2030, 1, 2), date(2030, 1, 12)  # "now" is Tuesday 2030-01-01 08:00 UTC
DURATIONS = st.sampled_from([15, 30, 45, 60, 90])


def setup(w: World, data: Any, *, capacity: st.SearchStrategy[int] | None = None) -> Any:
    """A coach in a random zone with one window and a bookable slot; returns
    (coach, window, duration, slot) with slot None when the window has no room."""
    tz = data.draw(timezones(), label="tz")
    coach = w.coach(tz=tz)
    spec = data.draw(
        window_specs(step=15, max_capacity=4, max_buffer=45).filter(
            lambda s: s.end_minute - s.start_minute >= 90
        ),
        label="window",
    )
    if capacity is not None:
        spec = type(spec)(**{**spec.as_kwargs(), "max_sessions_per_slot": data.draw(capacity)})
    window = w.window(coach, spec)
    duration = data.draw(DURATIONS, label="duration")
    slots = w.slots(coach, FIRST, LAST, duration)
    slot = data.draw(st.sampled_from(slots), label="slot") if slots else None
    return coach, window, duration, slot


# Feature: coaching-platform, Property 16: Slot Capacity Enforcement
@given(data=st.data(), extra=st.integers(1, 3))
def test_a_slot_never_takes_more_than_its_capacity(backend: Any, data: Any, extra: int) -> None:
    with World(backend) as w:
        coach, window, duration, slot = setup(w, data)
        assert slot is not None
        capacity = window.max_sessions_per_slot
        results = []
        for _ in range(capacity + extra):
            member = w.member(coach)
            try:
                results.append(w.book(member, coach, slot.start, duration).status)
            except SlotFull:
                results.append("full")
        assert results == ["confirmed"] * capacity + ["full"] * extra
        seats = [
            b
            for b in w.sys.bookings.list(status="confirmed")
            if (b.start, b.duration) == (slot.start, duration)
        ]
        assert len(seats) == capacity


# Feature: coaching-platform, Property 26: Booking Auto-Confirmation
@given(data=st.data())
def test_a_booking_for_a_free_slot_is_confirmed_with_a_session(backend: Any, data: Any) -> None:
    with World(backend) as w:
        coach, _, duration, slot = setup(w, data)
        member = w.member(coach)
        booking = w.book(member, coach, slot.start, duration)
        assert booking.status == "confirmed"
        assert booking.session_id is not None
        assert (booking.member_id, booking.coach_id) == (member.id, coach.id)
        assert (booking.start, booking.duration) == (slot.start, duration)
        assert booking.requested_date == slot.local_start.date()
        assert booking.requested_time == slot.local_start.strftime("%H:%M")
        session = w.as_(member).sessions.get(booking.session_id)
        assert session.status == "scheduled"
        assert (session.scheduled_at, session.duration) == (slot.start, duration)
        assert (session.member_id, session.coach_id) == (member.id, coach.id)
        assert w.as_(member).bookings.get(booking.id) == booking


# Feature: coaching-platform, Property 27: Booking Capacity Rejection
@given(data=st.data())
def test_booking_a_full_slot_is_rejected_with_the_agreed_message(backend: Any, data: Any) -> None:
    with World(backend) as w:
        coach, window, duration, slot = setup(w, data, capacity=st.integers(1, 3))
        for _ in range(window.max_sessions_per_slot):
            w.book(w.member(coach), coach, slot.start, duration)
        late = w.member(coach)
        with pytest.raises(SlotFull) as caught:
            w.book(late, coach, slot.start, duration)
        error = caught.value
        assert error.message == SLOT_FULL_MESSAGE == "This slot is now full, please choose another"
        assert error.status_code == 409
        assert error.to_dict()["message"] == SLOT_FULL_MESSAGE
        (rejected,) = w.as_(late).bookings.list()
        assert rejected.status == "rejected"
        assert rejected.session_id is None
        assert w.as_(late).sessions.list() == []


# Feature: coaching-platform, Property 28: Booking Confirmation Side Effects
@given(data=st.data())
def test_a_confirmed_booking_has_session_event_and_notifications(backend: Any, data: Any) -> None:
    with World(backend) as w:
        coach, _, duration, slot = setup(w, data)
        member = w.member(coach)
        booking = w.book(member, coach, slot.start, duration)
        session = w.sys.sessions.get(booking.session_id)
        (event,) = w.events_for(session.id)
        assert event.id == session.calendar_event_id
        assert (event.start, event.end) == (slot.start, slot.start + timedelta(minutes=duration))
        assert event.category == "Coaching Session"
        assert event.status == "confirmed"
        (confirmation,) = w.delivered(member, "booking_confirmed")
        assert confirmation.booking_id == booking.id
        assert confirmation.session_id == session.id
        for person in (coach, member):
            (created,) = w.delivered(person, "session_created")
            assert created.session_id == session.id
        assert w.delivered(coach, "booking_confirmed") == []


# Feature: coaching-platform, Property 29: Booking Cancellation Capacity Release
@given(data=st.data())
def test_cancelling_a_booking_frees_its_seat(backend: Any, data: Any) -> None:
    with World(backend) as w:
        coach, window, duration, slot = setup(w, data, capacity=st.integers(1, 3))
        bookings = [
            w.book(w.member(coach), coach, slot.start, duration)
            for _ in range(window.max_sessions_per_slot)
        ]
        assert slot.start not in [s.start for s in w.slots(coach, FIRST, LAST, duration)]
        victim = data.draw(st.sampled_from(bookings), label="cancelled booking")
        by = data.draw(st.sampled_from(["member", "coach", "admin"]), label="cancelled by")
        actor = {"member": victim.member_id, "coach": coach.id, "admin": w.admin().id}[by]
        cancelled = w.as_(actor).bookings.cancel(victim.id, reason="cannot make it")
        assert cancelled.status == "cancelled"
        assert w.sys.sessions.get(victim.session_id).status == "cancelled"
        (again,) = [s for s in w.slots(coach, FIRST, LAST, duration) if s.start == slot.start]
        assert again.available_capacity == 1
        newcomer = w.member(coach)
        assert w.book(newcomer, coach, slot.start, duration).status == "confirmed"
        assert slot.start not in [s.start for s in w.slots(coach, FIRST, LAST, duration)]
