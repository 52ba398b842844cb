"""The waitlist of full slots (issue 3): join, offers in turn, holds, expiry."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from coachcore import BookingStatus
from coachcore.domain.rules import WaitlistStatus
from coachcore.errors import BusinessRuleViolation, Conflict, Forbidden, SlotFull
from world import World

MONDAY = date(2030, 1, 7)
NINE = datetime(2030, 1, 7, 9, 0, tzinfo=UTC)


def full_slot(world: World, hold: int | None = 30) -> tuple[Any, Any, Any]:
    """A coach with one 1-seat slot at NINE, booked by a first member."""
    coach = world.coach()
    world.window(coach, 1, "09:00", "10:00", max_sessions_per_slot=1)
    if hold is not None:
        world.core.acting_as(coach.id).scheduling.set_rules(waitlist_hold_minutes=hold)
    first = world.member(coach)
    booking = world.book(first, coach, NINE)
    return coach, first, booking


def join(world: World, member: Any, coach: Any) -> Any:
    world.advance(seconds=1)  # first come, first served: by the time of joining
    return world.core.acting_as(member.id).waitlist.join(coach_id=coach.id, start=NINE)


def offers(world: World, member: Any) -> int:
    kinds = world.core.notifier.kinds_for(member.id)  # type: ignore[attr-defined]
    return int(kinds.count("waitlist_offer"))


def status(world: World, entry: Any) -> WaitlistStatus:
    entries = world.core.system.waitlist.list()
    return next(e.status for e in entries if e.id == entry.id)


def test_a_freed_seat_goes_to_the_first_waiting_member_and_is_held(world: World) -> None:
    coach, first, booking = full_slot(world)
    second, third = world.member(coach), world.member(coach)
    entry2, entry3 = join(world, second, coach), join(world, third, coach)
    assert (entry2.status, entry3.status) == (WaitlistStatus.WAITING, WaitlistStatus.WAITING)
    world.core.acting_as(first.id).bookings.cancel(booking.id)
    world.sys.outbox.dispatch()
    assert status(world, entry2) == WaitlistStatus.OFFERED
    assert (offers(world, second), offers(world, third)) == (1, 0)
    # the held seat is taken for everyone else, free for the member it is held for
    assert world.slots(third, coach, MONDAY) == []
    assert [s.start for s in world.slots(second, coach, MONDAY)] == [NINE]
    with pytest.raises(SlotFull):
        world.book(third, coach, NINE)
    taken = world.book(second, coach, NINE)
    assert taken.status == BookingStatus.CONFIRMED
    assert status(world, entry2) == WaitlistStatus.BOOKED
    assert status(world, entry3) == WaitlistStatus.WAITING


def test_an_expired_hold_passes_the_seat_to_the_next_member(world: World) -> None:
    coach, first, booking = full_slot(world, hold=30)
    second, third = world.member(coach), world.member(coach)
    entry2, entry3 = join(world, second, coach), join(world, third, coach)
    world.core.acting_as(first.id).bookings.cancel(booking.id)
    world.advance(minutes=29)
    assert world.sys.waitlist.release_expired() == 0
    world.advance(minutes=1)
    assert world.sys.waitlist.release_expired() == 1
    assert world.sys.waitlist.release_expired() == 0  # once
    assert (status(world, entry2), status(world, entry3)) == (
        WaitlistStatus.EXPIRED,
        WaitlistStatus.OFFERED,
    )
    world.sys.outbox.dispatch()
    assert offers(world, third) == 1
    with pytest.raises(SlotFull):
        world.book(second, coach, NINE)


def test_leaving_an_offer_passes_it_on(world: World) -> None:
    coach, first, booking = full_slot(world)
    second, third = world.member(coach), world.member(coach)
    entry2, entry3 = join(world, second, coach), join(world, third, coach)
    world.core.acting_as(first.id).bookings.cancel(booking.id)
    left = world.core.acting_as(second.id).waitlist.leave(entry2.id)
    assert left.status == WaitlistStatus.LEFT
    assert status(world, entry3) == WaitlistStatus.OFFERED
    with pytest.raises(BusinessRuleViolation):
        world.core.acting_as(second.id).waitlist.leave(entry2.id)


def test_a_reschedule_away_frees_the_seat_for_the_waitlist(world: World) -> None:
    coach, first, booking = full_slot(world)
    world.window(coach, 2, "09:00", "10:00")
    second = world.member(coach)
    entry = join(world, second, coach)
    world.core.acting_as(first.id).bookings.reschedule(booking.id, start=NINE + timedelta(days=1))
    assert status(world, entry) == WaitlistStatus.OFFERED


def test_joining_needs_a_waitlist_and_a_full_slot_once(world: World) -> None:
    coach, first, _ = full_slot(world, hold=None)
    second = world.member(coach)
    with pytest.raises(BusinessRuleViolation, match="does not keep a waitlist"):
        join(world, second, coach)
    world.core.acting_as(coach.id).scheduling.set_rules(waitlist_hold_minutes=15)
    join(world, second, coach)
    with pytest.raises(Conflict, match="already on the waitlist"):
        join(world, second, coach)
    with pytest.raises(Conflict, match="already has a seat"):
        join(world, first, coach)
    world.window(coach, 2, "09:00", "10:00")
    with pytest.raises(BusinessRuleViolation, match="free seat"):
        world.core.acting_as(second.id).waitlist.join(
            coach_id=coach.id, start=NINE + timedelta(days=1)
        )
    with pytest.raises(BusinessRuleViolation, match="outside"):
        world.core.acting_as(second.id).waitlist.join(
            coach_id=coach.id, start=NINE + timedelta(minutes=30)
        )


def test_members_see_only_their_own_entries(world: World) -> None:
    coach, _, _ = full_slot(world)
    second, third = world.member(coach), world.member(coach)
    entry2, entry3 = join(world, second, coach), join(world, third, coach)
    assert [e.id for e in world.core.acting_as(second.id).waitlist.list()] == [entry2.id]
    assert [e.id for e in world.core.acting_as(coach.id).waitlist.list()] == [entry2.id, entry3.id]
    with pytest.raises(Forbidden):
        world.core.acting_as(third.id).waitlist.leave(entry2.id)
    stranger = world.member(world.coach())
    with pytest.raises(Forbidden):
        world.core.acting_as(stranger.id).waitlist.join(coach_id=coach.id, start=NINE)


def test_members_joining_at_the_same_instant_are_offered_seats_in_joining_order(
    world: World,
) -> None:
    coach, first, booking = full_slot(world)
    queue = [world.member(coach) for _ in range(5)]
    as_member = [world.core.acting_as(m.id).waitlist for m in queue]
    entries = [w.join(coach_id=coach.id, start=NINE) for w in as_member]  # no time passes
    assert [e.position for e in entries] == [1, 2, 3, 4, 5]
    world.core.acting_as(first.id).bookings.cancel(booking.id)
    offered = []
    for _ in queue:
        held = [e for e in entries if status(world, e) == WaitlistStatus.OFFERED]
        assert len(held) == 1
        offered.append(held[0].id)
        as_member[entries.index(held[0])].leave(held[0].id)  # the seat passes on
    assert offered == [e.id for e in entries]
