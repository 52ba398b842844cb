"""One seat per member per slot: a member who holds a seat cannot take a second one."""

from __future__ import annotations

from datetime import date
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from propkit import World, raises

from coachcore.errors import Conflict

FIRST, LAST = date(2030, 1, 2), date(2030, 1, 12)  # "now" is Tuesday 2030-01-01 08:00 UTC
BOOKERS = st.sampled_from(["member", "coach", "admin"])


def _seats(w: World, member: Any, start: Any) -> int:
    return sum(
        1
        for b in w.sys.bookings.list(status="confirmed")
        if b.member_id == member.id and b.start == start
    )


def _marked(w: World, viewer: Any, coach: Any) -> list[Any]:
    """The starts the viewer's listing marks as theirs."""
    listed = w.as_(viewer).availability.available_slots(
        coach.id, start_date=FIRST, end_date=LAST, duration=60
    )
    return [s.start for s in listed if s.you_have_a_seat]


@given(data=st.data(), booker=BOOKERS, capacity=st.integers(2, 4))
def test_a_member_never_holds_two_seats_in_one_slot(
    backend: Any, data: Any, booker: str, capacity: int
) -> None:
    with World(backend) as w:
        coach = w.coach()
        w.window(
            coach,
            day_of_week=3,
            start_time="09:00",
            end_time="12:00",
            max_sessions_per_slot=capacity,
            buffer_minutes=0,
        )  # Wednesdays
        member, other = w.member(coach), w.member(coach)
        slots = w.slots(coach, FIRST, LAST)
        slot = data.draw(st.sampled_from(slots), label="slot")
        w.book(member, coach, slot.start)
        assert _marked(w, member, coach) == [slot.start]  # the listing says so beforehand
        assert _marked(w, other, coach) == []
        by = {"member": member, "coach": coach, "admin": w.admin()}[booker]
        again = w.as_(by).bookings.create
        error = raises(Conflict, again, coach_id=coach.id, start=slot.start, member_id=member.id)
        assert "already has a seat" in str(error)
        assert _seats(w, member, slot.start) == 1
        w.book(other, coach, slot.start)  # the seat is still there for someone else
        assert _seats(w, other, slot.start) == 1


@given(data=st.data())
def test_a_member_cannot_move_a_booking_into_a_slot_they_hold(backend: Any, data: Any) -> None:
    with World(backend) as w:
        coach = w.coach_with_mornings(3)
        member = w.member(coach)
        first, second = w.distinct_slots(data, coach, FIRST, LAST)
        held = w.book(member, coach, first.start)
        moving = w.book(member, coach, second.start)
        move = w.as_(member).bookings.reschedule
        raises(Conflict, move, moving.id, start=held.start)
        assert _seats(w, member, first.start) == 1
        assert _seats(w, member, second.start) == 1
        # Moving a booking onto its own start is not a second seat.
        assert (
            w.as_(member).bookings.reschedule(moving.id, start=second.start).start == second.start
        )
