"""The edges of a coach's booking rules (scheduling/calendar.py), stated as rules.

Each property puts a slot exactly at an edge (the notice, the horizon, a
block's start or end, local midnight in zones far from UTC) and one
microsecond either side of it, and says which side the rules refuse.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from coachcore.domain.rules import DateOverride, OverrideKind, SchedulingRules
from coachcore.scheduling import calendar
from coachcore.scheduling.calendar import BookingCalendar
from coachcore.scheduling.slots import AvailableSlot

US = timedelta(microseconds=1)
NOW = datetime(2030, 3, 1, 9, 30, tzinfo=UTC)
FAR_ZONES = ["Pacific/Kiritimati", "Pacific/Pago_Pago", "Pacific/Chatham", "Asia/Kathmandu",
             "America/St_Johns", "UTC"]
zones = st.sampled_from(FAR_ZONES).map(ZoneInfo)


def rules(**on: int | None) -> SchedulingRules:
    return SchedulingRules(coach_id="c", **on)  # type: ignore[arg-type]


def block(day: date, start: str | None = None, end: str | None = None) -> DateOverride:
    return DateOverride(id="o", coach_id="c", date=day, kind=OverrideKind.BLOCK,
                        start_time=start, end_time=end, created_at=NOW)


@given(zones, st.none() | st.integers(1, 60 * 24 * 30))
def test_a_slot_may_start_exactly_at_the_notice_not_before(
    zone: ZoneInfo, notice: int | None
) -> None:
    cal = BookingCalendar(zone, rules(min_notice_minutes=notice), NOW)
    edge = NOW + timedelta(minutes=notice or 0)
    day = edge.astimezone(zone).date()
    assert cal.refusal(edge, edge + timedelta(hours=1), day) == (
        calendar.PAST if notice is None else None
    )
    assert cal.refusal(edge + US, edge + timedelta(hours=1), day) is None
    expected = calendar.PAST if notice is None else calendar.TOO_SOON.format(n=notice)
    assert cal.refusal(edge - US, edge + timedelta(hours=1), day) == expected


@given(zones, st.integers(1, 3650))
def test_a_slot_may_start_exactly_at_the_horizon_not_after(zone: ZoneInfo, days: int) -> None:
    cal = BookingCalendar(zone, rules(booking_horizon_days=days), NOW)
    edge = NOW + timedelta(days=days)
    day = edge.astimezone(zone).date()
    assert cal.refusal(edge, edge + timedelta(hours=1), day) is None
    assert cal.refusal(edge + US, edge + timedelta(hours=1), day) == calendar.TOO_FAR.format(n=days)
    assert cal.filters
    horizon_day = edge.astimezone(zone).date()
    assert cal.last_date(horizon_day + timedelta(days=5)) == horizon_day
    assert cal.last_date(horizon_day - timedelta(days=1)) == horizon_day - timedelta(days=1)


@given(zones, st.dates(date(2030, 3, 2), date(2031, 3, 1)))
def test_without_horizon_any_date_is_the_last_date(zone: ZoneInfo, wanted: date) -> None:
    cal = BookingCalendar(zone, rules(), NOW)
    assert cal.latest is None and not cal.filters
    assert cal.last_date(wanted) == wanted


@given(zones, st.integers(0, 22), st.integers(1, 90), st.integers(1, 120))
def test_a_slot_touching_a_partial_block_is_free(
    zone: ZoneInfo, hour: int, length: int, slot_minutes: int
) -> None:
    """Blocks are half-open: a slot that ends at the block's start or starts
    at its end is bookable; one microsecond of overlap is not."""
    day = date(2030, 3, 10)
    low = datetime.combine(day, time(hour), zone).astimezone(UTC)
    high = low + timedelta(minutes=length)
    end_text = (datetime.combine(day, time(hour)) + timedelta(minutes=length))
    if end_text.date() != day:
        return
    cal = BookingCalendar(zone, rules(), NOW,
                          overrides=[block(day, f"{hour:02d}:00", end_text.strftime("%H:%M"))])
    size = timedelta(minutes=slot_minutes)
    assert cal.filters
    assert cal.refusal(low - size, low, day) is None
    assert cal.refusal(high, high + size, day) is None
    assert cal.refusal(low - size, low + US, day) == calendar.BLOCKED
    assert cal.refusal(high - US, high + size, day) == calendar.BLOCKED
    assert cal.refusal(low, high, day) == calendar.BLOCKED
    assert cal.refusal(low - size, high + size, day) == calendar.BLOCKED
    assert cal.refusal(low, high, day + timedelta(days=1)) is None


@given(zones)
def test_a_whole_day_block_runs_from_local_midnight_to_local_midnight(zone: ZoneInfo) -> None:
    day = date(2030, 3, 10)
    midnight = datetime.combine(day, time(), zone).astimezone(UTC)
    next_midnight = datetime.combine(day + timedelta(days=1), time(), zone).astimezone(UTC)
    whole = block(day)
    assert whole.whole_day and not block(day, "10:00", "11:00").whole_day
    cal = BookingCalendar(zone, rules(), NOW, overrides=[whole])
    hour = timedelta(hours=1)
    assert cal.refusal(midnight, midnight + hour, day) == calendar.BLOCKED
    assert cal.refusal(next_midnight - hour, next_midnight, day) == calendar.BLOCKED
    slots = [
        AvailableSlot(start, start + hour, start.astimezone(zone), 1, 1)
        for start in (midnight - hour, midnight, next_midnight - hour, next_midnight)
    ]
    kept = cal.keep(slots)
    assert [slot.start for slot in kept] == [midnight - hour, next_midnight]


@given(zones, st.integers(1, 5), st.integers(0, 7))
def test_the_daily_limit_is_reached_at_the_limit(zone: ZoneInfo, limit: int, held: int) -> None:
    day = date(2030, 3, 10)
    start = datetime.combine(day, time(12), zone).astimezone(UTC)
    cal = BookingCalendar(zone, rules(max_sessions_per_day=limit), NOW, day_counts={day: held})
    expected = calendar.DAY_FULL if held >= limit else None
    assert cal.refusal(start, start + timedelta(hours=1), day) == expected
    assert cal.refusal(start, start + timedelta(hours=1), day + timedelta(days=1)) is None


@given(zones, st.lists(st.tuples(st.integers(-48, 48), st.integers(1, 6)), max_size=8))
def test_sessions_are_counted_per_seat_on_the_coachs_local_date(
    zone: ZoneInfo, occupied: list[tuple[int, int]]
) -> None:
    """A slot with three seats taken is three sessions, on the date the coach's
    clock shows at its start (not the UTC date)."""
    base = datetime(2030, 3, 10, 0, 30, tzinfo=UTC)
    occupancy = [(base + timedelta(hours=h), 60, seats) for h, seats in occupied]
    expected: dict[date, int] = {}
    for start, _, seats in occupancy:
        local = start.astimezone(zone).date()
        expected[local] = expected.get(local, 0) + seats
    assert calendar.sessions_per_day(occupancy, zone) == expected


def test_a_session_just_after_utc_midnight_counts_on_the_previous_local_date() -> None:
    zone = ZoneInfo("America/Los_Angeles")
    start = datetime(2030, 3, 10, 2, 0, tzinfo=UTC)  # 18:00 on 9 March in Los Angeles
    assert calendar.sessions_per_day([(start, 60, 3)], zone) == {date(2030, 3, 9): 3}


@given(zones, st.integers(1, 1000), st.integers(0, 1440))
def test_an_extra_override_adds_a_window_with_its_own_seats(
    zone: ZoneInfo, seats: int, buffer: int
) -> None:
    extra = DateOverride(id="x", coach_id="c", date=date(2030, 3, 13), kind=OverrideKind.EXTRA,
                         start_time="18:00", end_time="20:00", max_sessions_per_slot=seats,
                         buffer_minutes=buffer, created_at=NOW)
    cal = BookingCalendar(zone, rules(), NOW, overrides=[extra, block(date(2030, 3, 14))])
    (window,) = cal.extra_windows()[date(2030, 3, 13)]
    assert (window.id, window.start_time, window.end_time) == ("x", "18:00", "20:00")
    assert (window.max_sessions_per_slot, window.buffer_minutes) == (seats, buffer)
    assert window.day_of_week == 3  # a Wednesday, Monday = 0
    assert list(cal.extra_windows()) == [date(2030, 3, 13)]


def test_keep_returns_everything_when_no_rule_can_refuse() -> None:
    zone = ZoneInfo("UTC")
    cal = BookingCalendar(zone, rules(min_notice_minutes=5), NOW)
    slot = AvailableSlot(NOW + timedelta(days=1), NOW + timedelta(days=1, hours=1),
                         NOW + timedelta(days=1), 1, 1)
    assert not cal.filters
    assert cal.keep((slot,)) == [slot]
    assert cal.interval is None
    assert BookingCalendar(zone, rules(slot_interval_minutes=15), NOW).interval == 15
    assert BookingCalendar(zone, rules(max_sessions_per_day=2), NOW).filters
