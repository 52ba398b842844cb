"""Weekly availability windows: validation, overlaps, protection of bookings (requirement 3)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from propkit import World, minutes, weekday, window_end_utc

from coachcore.errors import BusinessRuleViolation, Conflict, ValidationFailed
from coachcore.testing.strategies import hhmm, junk, junk_integers, timezones, window_specs

BAD_TIMES = st.sampled_from(
    ["24:00", "24:01", "9:00", "09:60", "25:00", "", " 09:00", "0900", "09:00:00", "ab:cd", "-1:00"]
)
DAYS = st.one_of(st.integers(-2, 8), junk_integers())
CAPACITIES = st.one_of(st.integers(-1, 1001), junk_integers())
BUFFERS = st.one_of(st.integers(-5, 1441), junk_integers())


def _hhmm_minutes(value: Any, *, allow_24: bool) -> int | None:
    """Minutes of a strict ASCII "HH:mm" (or "24:00" where allowed), else None."""
    if not isinstance(value, str) or not re.fullmatch(r"[0-9]{2}:[0-9]{2}", value):
        return None
    hours, mins = int(value[:2]), int(value[3:])
    if value == "24:00" and allow_24:
        return 1440
    return hours * 60 + mins if hours < 24 and mins < 60 else None


def _int_in(value: Any, low: int, high: int) -> bool:
    return type(value) is int and low <= value <= high


# Feature: coaching-platform, Property 11: Availability Slot Validation
@given(
    day=DAYS,
    start=st.one_of(hhmm(step=5), BAD_TIMES, junk()),
    end=st.one_of(hhmm(step=5, allow_24=True), BAD_TIMES, junk()),
    capacity=CAPACITIES,
    buffer=BUFFERS,
)
def test_window_fields_are_validated(
    backend: Any, day: Any, start: Any, end: Any, capacity: Any, buffer: Any
) -> None:
    with World(backend) as w:
        coach = w.coach()
        start_min = _hhmm_minutes(start, allow_24=False)
        end_min = _hhmm_minutes(end, allow_24=True)
        valid = (
            _int_in(day, 0, 6)
            and start_min is not None
            and end_min is not None
            and start_min < end_min
            and _int_in(capacity, 1, 1000)
            and _int_in(buffer, 0, 1440)
        )
        fields = {
            "day_of_week": day,
            "start_time": start,
            "end_time": end,
            "max_sessions_per_slot": capacity,
            "buffer_minutes": buffer,
        }
        if valid:
            window = w.as_(coach).availability.create(**fields)
            (stored,) = w.as_(coach).availability.list()
            assert stored == window
            assert (stored.day_of_week, stored.start_time, stored.end_time) == (day, start, end)
            assert (stored.max_sessions_per_slot, stored.buffer_minutes) == (capacity, buffer)
        else:
            with pytest.raises(ValidationFailed):
                w.as_(coach).availability.create(**fields)
            assert w.as_(coach).availability.list() == []


# Feature: coaching-platform, Property 59: Availability Time Range Validation
@given(start=hhmm(step=5), end=hhmm(step=5, allow_24=True), day=st.integers(0, 6))
def test_window_start_must_precede_its_end(backend: Any, start: str, end: str, day: int) -> None:
    with World(backend) as w:
        coach = w.coach()
        create = w.as_(coach).availability.create
        if minutes(start) < minutes(end):
            window = create(day_of_week=day, start_time=start, end_time=end)
            assert (window.start_time, window.end_time) == (start, end)
            # updating the end to before the start is refused, and changes nothing
            with pytest.raises(ValidationFailed):
                w.as_(coach).availability.update(window.id, end_time=start)
            assert w.as_(coach).availability.list() == [window]
        else:
            with pytest.raises(ValidationFailed):
                create(day_of_week=day, start_time=start, end_time=end)
            assert w.as_(coach).availability.list() == []


# Feature: coaching-platform, Property 12: Availability Overlap Prevention
@given(data=st.data())
def test_overlapping_windows_of_one_coach_are_refused(backend: Any, data: Any) -> None:
    with World(backend) as w:
        coach, other = w.coach(), w.coach()
        first = data.draw(window_specs(step=5), label="first")
        second = data.draw(
            window_specs(step=5, days=st.sampled_from([first.day_of_week, first.day_of_week, 0])),
            label="second",
        )
        kept = w.window(coach, first)
        if second.overlaps(first):
            with pytest.raises(Conflict) as caught:
                w.window(coach, second)
            assert caught.value.status_code == 409
            assert w.as_(coach).availability.list() == [kept]
            # moving an existing window onto the first is refused as well
            elsewhere = w.window(coach, second, day_of_week=(first.day_of_week + 1) % 7)
            with pytest.raises(Conflict):
                w.as_(coach).availability.update(elsewhere.id, day_of_week=first.day_of_week)
        else:
            w.window(coach, second)
            assert len(w.as_(coach).availability.list()) == 2
        # other coaches' windows never collide with this coach's
        w.window(other, first)
        w.window(other, second, day_of_week=(first.day_of_week + 3) % 7)


def _bookings_in_a_window(w: World, data: Any, tz: str) -> tuple[Any, Any, Any, list[Any]]:
    """A coach in ``tz`` with one window on Wednesdays and 1..3 confirmed bookings."""
    coach = w.coach(tz=tz)
    members = [w.member(coach) for _ in range(3)]
    spec = data.draw(window_specs(step=15, days=st.just(3), max_capacity=3, max_buffer=30))
    window = w.window(coach, spec)
    duration = data.draw(st.sampled_from([15, 30, 60]), label="duration")
    booked = []
    for member in members[: data.draw(st.integers(1, 3), label="bookings")]:
        slots = w.slots(coach, date(2030, 1, 1), date(2030, 1, 20), duration)
        if slots:
            slot = data.draw(st.sampled_from(slots))
            booked.append(w.book(member, coach, slot.start, duration))
    return coach, members, window, booked


# Feature: coaching-platform, Property 13: Availability Update Protection
@given(data=st.data())
def test_window_changes_may_not_strand_bookings(backend: Any, data: Any) -> None:
    with World(backend) as w:
        tz = data.draw(timezones(), label="tz")
        coach, _, window, booked = _bookings_in_a_window(w, data, tz)
        new_start = data.draw(hhmm(step=15), label="new start")
        new_end = data.draw(hhmm(step=15, allow_24=True).filter(lambda e: e > new_start))
        new_day = data.draw(st.sampled_from([3, 3, 3, 2]), label="new day")
        new_cap = data.draw(st.integers(1, 3), label="new capacity")
        zone = ZoneInfo(tz)

        def fits(booking: Any) -> bool:
            local = booking.start.astimezone(zone)
            day = local.date()
            opens = window_end_utc(day, minutes(new_start), zone)  # same wall-clock rule
            closes = window_end_utc(day, minutes(new_end), zone)
            end = booking.start + timedelta(minutes=booking.duration)
            return weekday(day) == new_day and opens <= booking.start and end <= closes

        groups: dict[Any, int] = {}
        for b in booked:
            groups[(b.start, b.duration)] = groups.get((b.start, b.duration), 0) + 1
        allowed = all(fits(b) for b in booked) and max(groups.values(), default=0) <= new_cap
        change = {
            "start_time": new_start,
            "end_time": new_end,
            "day_of_week": new_day,
            "max_sessions_per_slot": new_cap,
        }
        if allowed:
            updated = w.as_(coach).availability.update(window.id, **change)
            assert (updated.start_time, updated.end_time, updated.day_of_week) == (
                new_start,
                new_end,
                new_day,
            )
        else:
            with pytest.raises(BusinessRuleViolation):
                w.as_(coach).availability.update(window.id, **change)
            assert w.as_(coach).availability.list() == [window]
        for b in booked:
            assert w.sys.bookings.get(b.id).status == "confirmed"


# Feature: coaching-platform, Property 14: Availability Deletion Protection
@given(data=st.data())
def test_windows_with_future_bookings_cannot_be_deleted(backend: Any, data: Any) -> None:
    with World(backend) as w:
        coach, _, window, booked = _bookings_in_a_window(w, data, "UTC")
        live = list(booked)
        for b in booked:
            if data.draw(st.booleans(), label=f"cancel {b.id}"):
                w.as_(b.member_id).bookings.cancel(b.id)
                live.remove(b)
        if live and data.draw(st.booleans(), label="let every booking pass"):
            w.clock.set(max(b.start for b in live) + timedelta(minutes=1))
        future = [b for b in live if b.start > w.now]
        if future:
            with pytest.raises(BusinessRuleViolation) as caught:
                w.as_(coach).availability.delete(window.id)
            assert caught.value.status_code == 422
            assert w.as_(coach).availability.list() == [window]
        else:
            w.as_(coach).availability.delete(window.id)
            assert w.as_(coach).availability.list() == []


# Feature: coaching-platform, Property 13: Availability Update Protection
@pytest.mark.parametrize(
    ("tz", "day", "duration"),
    [
        ("Europe/Berlin", date(2030, 3, 31), 120),
        ("America/New_York", date(2030, 3, 10), 120),
        ("Australia/Lord_Howe", date(2030, 10, 6), 90),
        ("Pacific/Chatham", date(2030, 9, 29), 180),
    ],
)
def test_window_changes_on_clock_change_days_may_not_strand_bookings(
    backend: Any, tz: str, day: date, duration: int
) -> None:
    with World(backend, now=datetime.combine(day - timedelta(days=3), time(), UTC)) as w:
        coach = w.coach(tz=tz)
        member = w.member(coach)
        window = w.window(coach, day_of_week=0, start_time="01:00", end_time="05:00")
        slot = w.slots(coach, day, day, duration)[0]
        booking = w.book(member, coach, slot.start, duration)
        zone = ZoneInfo(tz)
        end = minutes(booking.requested_time) + duration  # where the wall clock would say
        new_end = f"{end // 60:02d}:{end % 60:02d}"
        assert booking.start + timedelta(minutes=duration) > window_end_utc(day, end, zone)
        with pytest.raises(BusinessRuleViolation):
            w.as_(coach).availability.update(window.id, end_time=new_end)


# Feature: coaching-platform, Property 14: Availability Deletion Protection
@given(data=st.data())
def test_a_rescheduled_booking_still_protects_its_window(backend: Any, data: Any) -> None:
    with World(backend) as w:
        coach = w.coach()
        member = w.member(coach)
        for day in (3, 4):
            w.window(coach, day_of_week=day, start_time="09:00", end_time="12:00", buffer_minutes=0)
        slots = w.slots(coach, date(2030, 1, 2), date(2030, 1, 3), 60)
        first = data.draw(st.sampled_from(slots), label="booked")
        booking = w.book(member, coach, first.start, 60)
        target = data.draw(st.sampled_from([s for s in slots if s.start != first.start]))
        w.as_(coach).sessions.update(
            booking.session_id,
            scheduled_at=target.start,
            override=True,
            override_reason="set up by the test",
        )
        day = target.start.date()
        (home,) = [x for x in w.as_(coach).availability.list() if x.day_of_week == weekday(day)]
        with pytest.raises(BusinessRuleViolation):
            w.as_(coach).availability.delete(home.id)
