"""A coach's booking rules applied to slots: the checks listing and booking share.

The slot engine (:mod:`coachcore.scheduling.listing`) lays out weekly windows
with seats and buffers. :class:`BookingCalendar` adds what a coach decides on
top: date overrides (blocked dates or hours, extra hours on one date),
minimum notice, a booking horizon and a daily session limit. Listing filters
the engine's slots with :meth:`BookingCalendar.refusal`; booking asks the same
method about the one slot it books, so the two cannot disagree.

Everything here is pure: ``now``, the overrides and the day counts are given.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Protocol, TypeVar

import attrs

from coachcore.domain import checks
from coachcore.domain.entities import AvailabilityWindow
from coachcore.domain.rules import DateOverride, OverrideKind, SchedulingRules
from coachcore.scheduling.wallclock import day_of_week, wall_instant

_ONE_US = timedelta(microseconds=1)
_ONE_DAY = timedelta(days=1)

PAST = "The requested time is in the past"
BLOCKED = "The coach is not available at that time (blocked date)"
TOO_SOON = "The coach needs at least {n} minutes' notice"
TOO_FAR = "The coach takes bookings at most {n} days ahead"
DAY_FULL = "The coach's sessions for that day are fully booked"


class _Slot(Protocol):
    @property
    def start(self) -> datetime: ...
    @property
    def end(self) -> datetime: ...
    @property
    def local_start(self) -> datetime: ...


S = TypeVar("S", bound=_Slot)


def _local_midnight(day: date, zone: tzinfo) -> datetime:
    """The first instant of a coach-local date, in UTC."""
    return datetime.combine(day, time(), zone).astimezone(UTC)


def _at(day: date, hhmm: str, zone: tzinfo) -> datetime:
    """A wall-clock "HH:mm" of a local date in UTC (24:00 is the next midnight)."""
    return wall_instant(day, checks.minutes_of(hhmm), zone)


def extra_window(override: DateOverride) -> AvailabilityWindow:
    """The window an ``extra`` override adds on its date (its id is the override's)."""
    assert override.start_time is not None and override.end_time is not None
    return AvailabilityWindow(
        id=override.id,
        coach_id=override.coach_id,
        day_of_week=day_of_week(override.date),
        start_time=override.start_time,
        end_time=override.end_time,
        max_sessions_per_slot=override.max_sessions_per_slot,
        buffer_minutes=override.buffer_minutes,
        created_at=override.created_at,
        updated_at=override.created_at,
    )


def sessions_per_day(
    occupancy: Iterable[tuple[datetime, int, int]], zone: tzinfo
) -> dict[date, int]:
    """How many sessions start on each coach-local date."""
    days: dict[date, int] = {}
    for start, _, count in occupancy:
        day = start.astimezone(zone).date()
        days[day] = days.get(day, 0) + count
    return days


@attrs.frozen
class BookingCalendar:
    """The rules of one coach at one ``now``, for the dates being looked at."""

    zone: tzinfo
    rules: SchedulingRules
    now: datetime
    overrides: Sequence[DateOverride] = ()
    day_counts: Mapping[date, int] = attrs.field(factory=dict)
    _blocks: dict[date, list[tuple[datetime, datetime]]] = attrs.field(init=False, factory=dict)

    def __attrs_post_init__(self) -> None:
        for o in self.overrides:
            if o.kind != OverrideKind.BLOCK:
                continue
            if o.start_time is None or o.end_time is None:
                span = (
                    _local_midnight(o.date, self.zone),
                    _local_midnight(o.date + _ONE_DAY, self.zone),
                )
            else:
                span = (_at(o.date, o.start_time, self.zone), _at(o.date, o.end_time, self.zone))
            self._blocks.setdefault(o.date, []).append(span)

    @property
    def earliest(self) -> datetime:
        """Slots must start after this instant (now, or now + notice - 1 µs)."""
        notice = self.rules.min_notice_minutes
        return self.now if notice is None else self.now + timedelta(minutes=notice) - _ONE_US

    @property
    def latest(self) -> datetime | None:
        """Slots must start at or before this instant (None: no horizon)."""
        days = self.rules.booking_horizon_days
        return None if days is None else self.now + timedelta(days=days)

    @property
    def interval(self) -> int | None:
        return self.rules.slot_interval_minutes

    def last_date(self, wanted: date) -> date:
        """``wanted``, or the local date of the horizon if that comes first."""
        latest = self.latest
        return wanted if latest is None else min(wanted, latest.astimezone(self.zone).date())

    def extra_windows(self) -> dict[date, list[AvailabilityWindow]]:
        """The windows ``extra`` overrides add, by date."""
        extra: dict[date, list[AvailabilityWindow]] = {}
        for o in self.overrides:
            if o.kind == OverrideKind.EXTRA:
                extra.setdefault(o.date, []).append(extra_window(o))
        return extra

    @property
    def filters(self) -> bool:
        """Whether :meth:`refusal` can refuse anything that the engine lists."""
        return bool(
            self._blocks
            or self.rules.booking_horizon_days is not None
            or self.rules.max_sessions_per_day is not None
        )

    def refusal(self, start: datetime, end: datetime, local_day: date) -> str | None:
        """Why the coach's rules refuse the slot ``[start, end)``, or None."""
        if start <= self.earliest:
            notice = self.rules.min_notice_minutes
            return PAST if notice is None else TOO_SOON.format(n=notice)
        latest = self.latest
        if latest is not None and start > latest:
            return TOO_FAR.format(n=self.rules.booking_horizon_days)
        for low, high in self._blocks.get(local_day, ()):
            if start < high and end > low:
                return BLOCKED
        limit = self.rules.max_sessions_per_day
        if limit is not None and self.day_counts.get(local_day, 0) >= limit:
            return DAY_FULL
        return None

    def keep(self, slots: Sequence[S]) -> list[S]:
        """The slots the rules let through, in the given order (``slots``
        itself when it is a list and the rules refuse nothing)."""
        if not self.filters:
            return slots if isinstance(slots, list) else list(slots)
        return [s for s in slots if self.refusal(s.start, s.end, s.local_start.date()) is None]
