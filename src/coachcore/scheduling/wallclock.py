"""The coach's wall clock: zones, local dates, and the instants windows open and close.

Windows are weekly in the coach's wall-clock time. A local time that does not
exist (spring forward) moves forward; an ambiguous one is its first occurrence
(``fold=0``). Instants in the engine's hot loops are integer microseconds since
the epoch.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import lru_cache
from typing import Any

import pendulum

from coachcore.domain import checks
from coachcore.domain.entities import AvailabilityWindow

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
US_PER_MINUTE = 60_000_000
US_PER_DAY = 86_400_000_000
ONE_US = timedelta(microseconds=1)


def micros(moment: datetime) -> int:
    """Microseconds since the epoch of an aware datetime (exact)."""
    return (moment - EPOCH) // ONE_US


@lru_cache(maxsize=1024)
def zone_of(name: str) -> tzinfo:
    """The tzinfo for an IANA name (already validated); one shared object per name
    (building one reads the zone's file: tens of microseconds)."""
    return pendulum.timezone(name)


def day_of_week(day: date) -> int:
    """0=Sunday .. 6=Saturday, as the public API numbers weekdays."""
    return day.isoweekday() % 7


def wall_instant(day: date, minute: int, zone: tzinfo) -> datetime:
    """The UTC instant ``minute`` wall-clock minutes into the local ``day``
    (``fold=0``: a nonexistent time moves forward, an ambiguous one is the first)."""
    naive = datetime.combine(day, time()) + timedelta(minutes=minute)
    return naive.replace(tzinfo=zone, fold=0).astimezone(UTC)


def window_start(day: date, window: AvailabilityWindow, zone: tzinfo) -> datetime:
    """The instant a dated window opens."""
    return wall_instant(day, window.start_minute, zone)


def window_end(day: date, window: AvailabilityWindow, zone: tzinfo) -> datetime:
    """The instant a dated window ends."""
    return wall_instant(day, window.end_minute, zone)


def window_holds(
    window: AvailabilityWindow, day: date, start: datetime, duration: int, zone: tzinfo
) -> bool:
    """``[start, start+duration)`` lies inside the window dated ``day``, in real instants
    (on a DST day wall-clock minutes and elapsed minutes differ)."""
    if not window.is_active or day_of_week(day) != window.day_of_week:
        return False
    ends = start + timedelta(minutes=duration)
    return window_start(day, window, zone) <= start and ends <= window_end(day, window, zone)


def window_containing(
    windows: Sequence[AvailabilityWindow], start: datetime, duration: int, zone: tzinfo
) -> AvailabilityWindow | None:
    """The window that holds a session starting at ``start``, if any."""
    day = start.astimezone(zone).date()
    return next((w for w in windows if window_holds(w, day, start, duration, zone)), None)


@lru_cache(maxsize=2048)
def clock_minutes(hhmm: str) -> int:
    """Minutes after midnight of a window's "HH:mm" (``AvailabilityWindow.start_minute``
    parses the string on every access)."""
    return checks.minutes_of(hhmm)


@lru_cache(maxsize=1)
def day_minutes() -> tuple[timedelta, ...]:
    """``timedelta(minutes=m)`` for every minute of a day."""
    return tuple(timedelta(minutes=m) for m in range(1441))


@lru_cache(maxsize=64)
def steps_of(step_minutes: int) -> tuple[timedelta, ...]:
    """``k * step`` for every k a day can hold (shared, immutable)."""
    return tuple(timedelta(minutes=step_minutes * k) for k in range(1441 // step_minutes + 2))


def _midnight(day: date, zone: tzinfo) -> tuple[datetime, timedelta | None]:
    """Local midnight of ``day`` and its UTC offset (``fold=0``)."""
    moment = datetime(day.year, day.month, day.day, 0, 0, 0, 0, zone)
    return moment, moment.utcoffset()


UNKNOWN: Any = object()
_OFFSETS: dict[tzinfo, dict[int, timedelta | None]] = {}
_FIRST_DAY = date(1, 1, 1)


def midnight_offsets(zone: tzinfo) -> dict[int, timedelta | None]:
    """``zone``'s UTC offsets at local midnight (``fold=0``) by date ordinal, as
    far as they were asked for: facts of the tz database, kept (a bounded
    cache) so that a listing does not ask the zone again for every day."""
    try:
        found = _OFFSETS.get(zone)
    except TypeError:  # an unhashable tzinfo: nothing kept
        return {}
    if found is None:
        if len(_OFFSETS) >= 256:
            _OFFSETS.clear()
        found = _OFFSETS[zone] = {}
    elif len(found) >= 100_000:
        found.clear()
    return found


def offset_at(offsets: dict[int, timedelta | None], zone: tzinfo, ordinal: int) -> timedelta | None:
    """The UTC offset at local midnight of the date ``ordinal`` (kept in ``offsets``)."""
    offset = offsets.get(ordinal, UNKNOWN)
    if offset is UNKNOWN:
        day = _FIRST_DAY + timedelta(days=ordinal - 1)  # OverflowError past date.max
        offset = offsets[ordinal] = _midnight(day, zone)[1]
    return offset  # type: ignore[no-any-return]
