"""Weekly windows -> dated slots with seats and buffers, exact across DST.

Rules (ARCHITECTURE.md, "Semantics"): windows are weekly in the coach's
wall-clock time. Within each dated window, slots start at the window start
and step by ``interval`` (default: the duration) in wall-clock minutes. A
local start that does not exist (spring forward) is skipped; an ambiguous one
takes its first occurrence. A slot ``[s, s+d)`` must end inside the window and
start after ``now``. Occupied intervals with the same start and duration share
the slot's seats; any other one within the window's buffer blocks the slot.

Everything here is pure: ``now`` and the occupied intervals are arguments.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, date, datetime, time, timedelta, tzinfo

import attrs
import pendulum

from coachcore.domain.entities import AvailabilityWindow

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@attrs.frozen
class AvailableSlot:
    """A bookable slot: UTC ``start``/``end`` and the coach-local start."""

    start: datetime
    end: datetime
    local_start: datetime
    available_capacity: int
    max_capacity: int
    viewer_local_start: datetime | None = None


@attrs.frozen
class Occupied:
    """A time the coach is taken: a scheduled session (or confirmed booking)."""

    start: datetime
    duration: int


@attrs.frozen
class SlotState:
    """One grid slot with its seat count and whether a buffer blocks it."""

    start: datetime
    end: datetime
    local_start: datetime
    window: AvailabilityWindow
    seats_taken: int
    blocked: bool

    @property
    def available_capacity(self) -> int:
        if self.blocked:
            return 0
        return max(0, self.window.max_sessions_per_slot - self.seats_taken)

    def to_available(self, viewer: tzinfo | None = None) -> AvailableSlot:
        return AvailableSlot(
            start=self.start,
            end=self.end,
            local_start=self.local_start,
            available_capacity=self.available_capacity,
            max_capacity=self.window.max_sessions_per_slot,
            viewer_local_start=None if viewer is None else self.start.astimezone(viewer),
        )


def _seconds(moment: datetime) -> int:
    return int((moment - _EPOCH).total_seconds())


class OccupancyIndex:
    """Occupied intervals sorted by start, for fast range look-ups."""

    def __init__(self, occupied: Iterable[Occupied]) -> None:
        rows = sorted((_seconds(o.start), o.duration * 60) for o in occupied)
        self._starts = [start for start, _ in rows]
        self._lengths = [length for _, length in rows]
        self._longest = max(self._lengths, default=0)

    def check(self, start: int, length: int, buffer: int) -> tuple[int, bool]:
        """Seats taken by ``[start, start+length)`` and whether a buffer blocks it."""
        low = bisect_left(self._starts, start - buffer - self._longest)
        seats, blocked = 0, False
        for i in range(low, len(self._starts)):
            other = self._starts[i]
            if other >= start + length + buffer:
                break
            other_len = self._lengths[i]
            if other == start and other_len == length:
                seats += 1
            elif other < start + length + buffer and other + other_len > start - buffer:
                blocked = True
        return seats, blocked


def day_of_week(day: date) -> int:
    """0=Sunday .. 6=Saturday, as the seeds number weekdays."""
    return day.isoweekday() % 7


def local_instant(day: date, minute: int, zone: tzinfo) -> datetime | None:
    """The aware local datetime ``minute`` minutes into ``day``; None if it does not exist."""
    naive = datetime.combine(day, time()) + timedelta(minutes=minute)
    local = naive.replace(tzinfo=zone, fold=0)
    back = local.astimezone(UTC).astimezone(zone)
    if back.replace(tzinfo=None) != naive:
        return None
    return local


def window_end(day: date, window: AvailabilityWindow, zone: tzinfo) -> datetime:
    """The instant a dated window ends (a nonexistent end time moves forward)."""
    naive = datetime.combine(day, time()) + timedelta(minutes=window.end_minute)
    return naive.replace(tzinfo=zone, fold=0).astimezone(UTC)


def grid(
    windows: Sequence[AvailabilityWindow],
    zone: tzinfo,
    start_date: date,
    end_date: date,
    duration: int,
    interval: int | None = None,
) -> Iterator[tuple[datetime, datetime, datetime, AvailabilityWindow]]:
    """Every grid slot ``(start_utc, end_utc, local_start, window)`` in date order."""
    step = interval or duration
    by_day: dict[int, list[AvailabilityWindow]] = {}
    for window in windows:
        if window.is_active:
            by_day.setdefault(window.day_of_week, []).append(window)
    for day_windows in by_day.values():
        day_windows.sort(key=lambda w: w.start_minute)
    length = timedelta(minutes=duration)
    day = start_date
    while day <= end_date:
        for window in by_day.get(day_of_week(day), ()):
            end = window_end(day, window, zone)
            for minute in range(window.start_minute, window.end_minute, step):
                local = local_instant(day, minute, zone)
                if local is None:
                    continue
                start = local.astimezone(UTC)
                if start + length > end:
                    break
                yield start, start + length, local, window
        day += timedelta(days=1)


def slot_states(
    windows: Sequence[AvailabilityWindow],
    zone: tzinfo,
    start_date: date,
    end_date: date,
    duration: int,
    now: datetime,
    occupied: Iterable[Occupied],
    interval: int | None = None,
) -> list[SlotState]:
    """Every future grid slot with its seats and buffer state, sorted by start."""
    index = OccupancyIndex(occupied)
    length = duration * 60
    states = []
    for start, end, local, window in grid(windows, zone, start_date, end_date, duration, interval):
        if start <= now:
            continue
        seats, blocked = index.check(_seconds(start), length, window.buffer_minutes * 60)
        states.append(SlotState(start, end, local, window, seats, blocked))
    states.sort(key=lambda s: s.start)
    return states


def available_slots(
    windows: Sequence[AvailabilityWindow],
    zone: tzinfo,
    start_date: date,
    end_date: date,
    duration: int,
    now: datetime,
    occupied: Iterable[Occupied],
    interval: int | None = None,
    viewer: tzinfo | None = None,
) -> list[AvailableSlot]:
    """The slots a member may book: future, inside windows, with a free seat."""
    states = slot_states(windows, zone, start_date, end_date, duration, now, occupied, interval)
    return [s.to_available(viewer) for s in states if s.available_capacity > 0]


def find_slot(states: Sequence[SlotState], start: datetime) -> SlotState | None:
    """The grid slot starting exactly at ``start`` (any zone), if there is one."""
    for state in states:
        if state.start == start:
            return state
    return None


def zone_of(name: str) -> tzinfo:
    """The tzinfo for an IANA name (already validated)."""
    return pendulum.timezone(name)


def search_margin(windows: Sequence[AvailabilityWindow], duration: int) -> timedelta:
    """How far around a date range occupied intervals can still matter."""
    buffer = max((w.buffer_minutes for w in windows), default=0)
    return timedelta(minutes=buffer + duration) + timedelta(days=2)
