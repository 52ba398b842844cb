"""Listing and booking agree under random booking rules and date overrides.

For random zones (DST and half-hour offsets), weekly windows, rules (slot
interval, minimum notice, horizon, daily limit), overrides (whole and partial
blocks, extra hours) and existing bookings, every candidate start on a
15-minute grid is listed exactly when booking it would be accepted; the
listing marks the slots where the member has a seat (a second one is a 409);
then a listed slot really books and an unlisted one really fails.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backends import Backend
from coachcore import Role
from coachcore.adapters.clock import FixedClock
from coachcore.errors import BusinessRuleViolation, Conflict, SlotFull
from coachcore.services.scheduling.slots import slot_at

ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Adelaide"]
FIRST = date(2030, 3, 29)  # Friday; Europe/Berlin springs forward on Sunday 31st
DAYS = 4


def hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


@st.composite
def spans(draw: st.DrawFn, *, allow_24: bool = False) -> tuple[str, str]:
    start = draw(st.integers(0, 20)) * 60 + draw(st.sampled_from([0, 30]))
    end = draw(st.integers(start // 30 + 2, 48 if allow_24 else 47)) * 30
    return hhmm(start), hhmm(end)


@st.composite
def setups(draw: st.DrawFn) -> dict[str, Any]:
    days = draw(st.lists(st.integers(0, 6), min_size=1, max_size=3, unique=True))
    return {
        "zone": draw(st.sampled_from(ZONES)),
        "windows": [(day, *draw(spans(allow_24=True))) for day in days],
        "seats": draw(st.integers(1, 2)),
        "buffer": draw(st.sampled_from([0, 15])),
        "duration": draw(st.sampled_from([30, 45, 60])),
        "rules": {
            "slot_interval_minutes": draw(st.none() | st.sampled_from([15, 30, 60])),
            "min_notice_minutes": draw(st.none() | st.integers(1, 3000)),
            "booking_horizon_days": draw(st.none() | st.integers(1, 4)),
            "max_sessions_per_day": draw(st.none() | st.integers(1, 3)),
        },
        "overrides": draw(
            st.lists(
                st.tuples(
                    st.integers(0, DAYS - 1),
                    st.sampled_from(["block", "extra"]),
                    st.booleans() | st.none(),
                    spans(),
                ),
                max_size=3,
            )
        ),
        "bookings": draw(st.lists(st.integers(0, 10_000), max_size=5)),
        "now": datetime(2030, 3, 28, 12, tzinfo=UTC)
        + timedelta(minutes=draw(st.integers(0, 3 * 24 * 4)) * 15),
    }


def build(backend: Backend, setup: dict[str, Any]) -> tuple[Any, Any, Any, FixedClock]:
    clock = FixedClock(setup["now"])
    core = backend.open(clock)
    coach = core.system.users.create(
        name="Coach", email="coach@example.com", role=Role.COACH, timezone=setup["zone"]
    )
    member = core.system.signup_member(name="M", email="m@example.com", coach_id=coach.id)
    scope = core.acting_as(coach.id)
    for day, start, end in setup["windows"]:
        scope.availability.create(
            day_of_week=day,
            start_time=start,
            end_time=end,
            max_sessions_per_slot=setup["seats"],
            buffer_minutes=setup["buffer"],
        )
    for offset, kind, whole, (start, end) in setup["overrides"]:
        when = FIRST + timedelta(days=offset)
        if kind == "block" and whole:
            scope.scheduling.add_override(date=when, kind="block")
            continue
        try:
            scope.scheduling.add_override(date=when, kind=kind, start_time=start, end_time=end)
        except Conflict:  # overlapping extra hours on one date are refused
            assert kind == "extra"
    return core, coach, member, clock


def listed(core: Any, coach: Any, member: Any, duration: int) -> list[Any]:
    return core.acting_as(member.id).availability.available_slots(
        coach.id, start_date=FIRST, end_date=FIRST + timedelta(days=DAYS - 1), duration=duration
    )


def candidates(zone: str) -> list[datetime]:
    """Every quarter hour of the local dates looked at, as UTC instants."""
    tz = ZoneInfo(zone)
    low = datetime.combine(FIRST, time(), tz).astimezone(UTC)
    high = datetime.combine(FIRST + timedelta(days=DAYS), time(), tz).astimezone(UTC)
    count = int((high - low) / timedelta(minutes=15))
    return [low + timedelta(minutes=15 * k) for k in range(count)]


@given(setup=setups())
def test_listing_and_booking_accept_the_same_starts(
    backend: Backend, setup: dict[str, Any]
) -> None:
    core, coach, member, _ = build(backend, setup)
    duration = setup["duration"]
    # bookings made through the public API at listed slots, before the rules apply
    held: set[datetime] = set()  # the member's seats: listed, but a second one is a 409
    for pick in setup["bookings"]:
        slots = listed(core, coach, member, duration)
        assert {s.start for s in slots if s.you_have_a_seat} == held & {s.start for s in slots}
        free = [s for s in slots if not s.you_have_a_seat]
        if free:
            start = free[pick % len(free)].start
            core.acting_as(member.id).bookings.create(
                coach_id=coach.id, start=start, duration=duration
            )
            held.add(start)
    core.acting_as(coach.id).scheduling.set_rules(**setup["rules"])
    shown = {s.start: s for s in listed(core, coach, member, duration)}
    assert {start for start, s in shown.items() if s.you_have_a_seat} == held & shown.keys()
    user = core.system.users.get(coach.id)
    now = setup["now"]
    with core.store.unit_of_work(write=False) as uow:
        for start in candidates(setup["zone"]):
            check = slot_at(uow, user, start, duration, now, member.id)
            bookable = (
                check.refusal is None
                and check.state is not None
                and check.state.available_capacity > 0
            )
            assert bookable == (start in shown), (start, check)
            if bookable:
                assert check.state is not None
                assert check.state.available_capacity == shown[start].available_capacity
    booker = core.acting_as(member.id).bookings
    if held & shown.keys():
        with pytest.raises(Conflict):  # one seat per member per slot
            booker.create(coach_id=coach.id, start=min(held & shown.keys()), duration=duration)
    bookable = sorted(shown.keys() - held)
    if bookable:
        first = bookable[0]
        assert booker.create(coach_id=coach.id, start=first, duration=duration).start == first
    unlisted = [s for s in candidates(setup["zone"]) if s not in shown and s > now]
    if unlisted:
        refused = Conflict if unlisted[0] in held else (BusinessRuleViolation, SlotFull)
        with pytest.raises(refused):
            booker.create(coach_id=coach.id, start=unlisted[0], duration=duration)
