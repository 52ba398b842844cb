"""Slot listing against a brute-force reference: windows, grid, DST, seats, buffers."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import event, given
from hypothesis import strategies as st
from propkit import (
    DURATIONS,
    Scenario,
    World,
    build_scenario,
    local_to_utc,
    minutes,
    reference_slots,
    slot_tuple,
    utc,
    weekday,
    window_end_utc,
)

INTERVALS = st.none() | st.sampled_from([15, 30, 45, 60])


def listed(w: World, sc: Scenario, duration: int, interval: int | None = None) -> list[Any]:
    return w.as_(sc.members[0]).availability.available_slots(
        sc.coach.id,
        start_date=sc.first,
        end_date=sc.last,
        duration=duration,
        interval=interval,
    )


def window_of(sc: Scenario, slot: Any) -> Any:
    """The window a listed slot lies in, found from its coach-local time."""
    local = slot.start.astimezone(ZoneInfo(sc.tz))
    minute = local.hour * 60 + local.minute
    for window in sc.windows:
        if (
            window.day_of_week == weekday(local.date())
            and minutes(window.start_time) <= minute
            and slot.end <= window_end_utc(local.date(), minutes(window.end_time), ZoneInfo(sc.tz))
        ):
            return window
    return None


# Feature: coaching-platform, Property 15: Available Slot Calculation
@given(data=st.data())
def test_available_slots_equal_the_brute_force_reference(backend: Any, data: Any) -> None:
    with World(backend) as w:
        sc = build_scenario(w, data)
        duration = data.draw(DURATIONS, label="duration")
        interval = data.draw(INTERVALS, label="interval")
        got = listed(w, sc, duration, interval)
        met: Counter[str] = Counter()
        everything = reference_slots(
            sc.windows, sc.tz, sc.first, sc.last, duration, w.now, sc.occupied, interval, met
        )
        want = [s for s in everything if s.available_capacity > 0]
        event(f"grid met a nonexistent time: {met['nonexistent'] > 0}")
        event(f"grid met an ambiguous time: {met['ambiguous'] > 0}")
        event(f"slots blocked by a buffer: {any(s.available_capacity == 0 for s in everything)}")
        event(f"slots listed: {'none' if not got else 'some'}")
        event(f"offset changes in range: {_offset_changes(sc)}")
        event(f"occupied intervals: {min(len(sc.occupied), 3)}")
        full = sum(1 for s in want if s.available_capacity < s.max_capacity)
        event(f"listed slots with seats taken: {full > 0}")
        assert [slot_tuple(s) for s in got] == [slot_tuple(s) for s in want]


def _offset_changes(sc: Scenario) -> bool:
    zone = ZoneInfo(sc.tz)
    low = datetime.combine(sc.first, time(), zone)
    high = datetime.combine(sc.last + timedelta(days=1), time(), zone)
    return low.utcoffset() != high.utcoffset()


# Feature: coaching-platform, Property 23: Available Slots Within Availability
@given(data=st.data())
def test_every_listed_slot_lies_inside_a_window(backend: Any, data: Any) -> None:
    with World(backend) as w:
        sc = build_scenario(w, data)
        duration = data.draw(DURATIONS, label="duration")
        got = listed(w, sc, duration)
        zone = ZoneInfo(sc.tz)
        assert [s.start for s in got] == sorted(s.start for s in got)
        for slot in got:
            local = slot.start.astimezone(zone)
            assert slot.start > w.now
            assert slot.end - slot.start == timedelta(minutes=duration)
            assert sc.first <= local.date() <= sc.last
            assert local.fold == 0, "an ambiguous local start must be its first occurrence"
            assert utc(slot.local_start) == slot.start
            assert slot.local_start.replace(tzinfo=None) == local.replace(tzinfo=None)
            window = window_of(sc, slot)
            assert window is not None, f"{local} is outside every window"
            step = (local.hour * 60 + local.minute - minutes(window.start_time)) % duration
            assert step == 0, "slots start on the window's grid"
            assert local_to_utc(local.date(), local.hour * 60 + local.minute, zone) == slot.start


# Feature: coaching-platform, Property 24: Available Slots Capacity Filter
@given(data=st.data())
def test_full_slots_are_not_listed(backend: Any, data: Any) -> None:
    with World(backend) as w:
        sc = build_scenario(w, data, actions=3)
        duration = data.draw(DURATIONS, label="duration")
        before = listed(w, sc, duration)
        if before:
            # fill one slot to the brim with fresh members
            target = data.draw(st.sampled_from(before), label="slot to fill")
            for _ in range(target.available_capacity):
                member = w.member(sc.coach)
                assert w.book(member, sc.coach, target.start, duration).status == "confirmed"
                sc.occupied.append((target.start, duration))
        got = listed(w, sc, duration)
        if before:
            assert target.start not in [s.start for s in got]
        for slot in got:
            seats = sum(1 for s, d in sc.occupied if s == slot.start and d == duration)
            assert 1 <= slot.available_capacity == slot.max_capacity - seats
            window = window_of(sc, slot)
            assert window is not None and slot.max_capacity == window.max_sessions_per_slot


# Feature: coaching-platform, Property 25: Available Slots Buffer Filter
@given(data=st.data())
def test_listed_slots_keep_the_buffer_around_other_sessions(backend: Any, data: Any) -> None:
    with World(backend) as w:
        sc = build_scenario(w, data, actions=5)
        duration = data.draw(DURATIONS, label="duration")
        for slot in listed(w, sc, duration):
            window = window_of(sc, slot)
            assert window is not None
            buffer = timedelta(minutes=window.buffer_minutes)
            for start, length in sc.occupied:
                if (start, length) == (slot.start, duration):
                    continue  # a seat in the same group slot, not a neighbour
                end = start + timedelta(minutes=length)
                assert end + buffer <= slot.start or slot.end + buffer <= start, (
                    f"slot {slot.start} comes within {buffer} of a session {start}..{end}"
                )
