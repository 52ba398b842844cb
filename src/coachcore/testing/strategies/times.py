"""When things happen: time zones, wall-clock times, weekly windows, aware
instants (clock changes included) and the shape of sessions."""

from __future__ import annotations

import functools
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import attrs
from hypothesis import strategies as st

from coachcore.domain.enums import SessionType

#: Zones whose offset changes during 2030 (including a 30-minute DST shift on
#: Lord Howe, a southern-hemisphere switch in Adelaide and Chatham's +12:45).
DST_ZONES: tuple[str, ...] = (
    "Europe/Berlin",
    "Europe/London",
    "America/New_York",
    "America/St_Johns",
    "America/Santiago",
    "Australia/Adelaide",
    "Australia/Lord_Howe",
    "Pacific/Chatham",
)

#: Zones without DST, with whole, half-hour and 45-minute offsets.
FIXED_OFFSET_ZONES: tuple[str, ...] = (
    "UTC",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "Asia/Tokyo",
    "Pacific/Kiritimati",
    "Pacific/Pago_Pago",
)

ZONES: tuple[str, ...] = DST_ZONES + FIXED_OFFSET_ZONES

#: The local bounds of the instants drawn by default (the year 2030, naive).
FIRST_MOMENT = datetime(2030, 1, 1)
LAST_MOMENT = datetime(2030, 12, 31, 23, 59)


@attrs.frozen(kw_only=True)
class WindowSpec:
    """Keyword arguments for ``availability.create`` (0=Sunday .. 6=Saturday)."""

    day_of_week: int
    start_time: str
    end_time: str
    max_sessions_per_slot: int = 1
    buffer_minutes: int = 0

    @property
    def start_minute(self) -> int:
        return _minutes(self.start_time)

    @property
    def end_minute(self) -> int:
        return _minutes(self.end_time)

    def overlaps(self, other: WindowSpec) -> bool:
        return (
            self.day_of_week == other.day_of_week
            and self.start_minute < other.end_minute
            and other.start_minute < self.end_minute
        )

    def as_kwargs(self) -> dict[str, Any]:
        return attrs.asdict(self)


def _minutes(hhmm_value: str) -> int:
    hours, minutes = hhmm_value.split(":")
    return int(hours) * 60 + int(minutes)


def _hhmm_of(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def timezones(*, dst_only: bool = False) -> st.SearchStrategy[str]:
    """IANA zone names, weighted towards the awkward ones."""
    return st.sampled_from(DST_ZONES if dst_only else ZONES)


def hhmm(*, step: int = 15, allow_24: bool = False) -> st.SearchStrategy[str]:
    """Wall-clock times "HH:mm" on a ``step``-minute grid ("24:00" if allowed)."""
    top = 24 * 60 if allow_24 else 24 * 60 - step
    return st.integers(min_value=0, max_value=top // step).map(lambda i: _hhmm_of(i * step))


def window_specs(
    *,
    step: int = 15,
    days: st.SearchStrategy[int] | None = None,
    max_capacity: int = 4,
    max_buffer: int = 60,
) -> st.SearchStrategy[WindowSpec]:
    """One valid window: start before end, "24:00" allowed as the end."""

    @st.composite
    def build(draw: st.DrawFn) -> WindowSpec:
        start = draw(st.integers(min_value=0, max_value=24 * 60 // step - 1)) * step
        end = draw(st.integers(min_value=start // step + 1, max_value=24 * 60 // step)) * step
        return WindowSpec(
            day_of_week=draw(days if days is not None else st.integers(min_value=0, max_value=6)),
            start_time=_hhmm_of(start),
            end_time=_hhmm_of(end),
            max_sessions_per_slot=draw(st.integers(min_value=1, max_value=max_capacity)),
            buffer_minutes=draw(st.integers(min_value=0, max_value=max_buffer)),
        )

    return build()


def weekly_schedules(
    *,
    min_size: int = 1,
    max_size: int = 3,
    step: int = 15,
    days: st.SearchStrategy[int] | None = None,
    max_capacity: int = 4,
    max_buffer: int = 60,
) -> st.SearchStrategy[list[WindowSpec]]:
    """Several windows of one coach, none overlapping another on its weekday."""

    @st.composite
    def build(draw: st.DrawFn) -> list[WindowSpec]:
        wanted = draw(st.integers(min_value=min_size, max_value=max_size))
        kept: list[WindowSpec] = []
        candidates = window_specs(
            step=step, days=days, max_capacity=max_capacity, max_buffer=max_buffer
        )
        for _ in range(wanted * 3):
            if len(kept) >= wanted:
                break
            window = draw(candidates)
            if not any(window.overlaps(other) for other in kept):
                kept.append(window)
        if len(kept) < min_size:
            kept.append(
                WindowSpec(
                    day_of_week=(max((w.day_of_week for w in kept), default=-1) + 1) % 7,
                    start_time="09:00",
                    end_time="12:00",
                )
            )
        return kept

    return build()


def _zone_objects(zones: tuple[str, ...]) -> st.SearchStrategy[ZoneInfo]:
    return st.sampled_from([ZoneInfo(name) for name in zones])


def aware_datetimes(
    *,
    min_value: datetime = FIRST_MOMENT,
    max_value: datetime = LAST_MOMENT,
    zones: tuple[str, ...] = ZONES,
) -> st.SearchStrategy[datetime]:
    """Aware datetimes in random IANA zones; local bounds are naive, as hypothesis wants.

    Imaginary local times (inside a spring-forward gap) are never generated;
    ambiguous ones come with either ``fold``.
    """
    return st.datetimes(
        min_value=min_value.replace(tzinfo=None),
        max_value=max_value.replace(tzinfo=None),
        timezones=_zone_objects(zones),
        allow_imaginary=False,
    )


def future_datetimes(
    now: datetime,
    *,
    within: timedelta = timedelta(days=30),
    zones: tuple[str, ...] = ZONES,
) -> st.SearchStrategy[datetime]:
    """Aware instants after ``now`` (at most ``within`` later), shown in random zones."""
    seconds = int(within.total_seconds())
    return st.builds(
        lambda offset, zone: (now + timedelta(seconds=offset)).astimezone(zone),
        st.integers(min_value=60, max_value=max(60, seconds)),
        _zone_objects(zones),
    )


@functools.cache
def offset_changes(zone_name: str, year: int = 2030) -> tuple[datetime, ...]:
    """The UTC instants at which ``zone_name`` changes its offset during ``year``."""
    zone = ZoneInfo(zone_name)

    def offset(moment: datetime) -> timedelta | None:
        return moment.astimezone(zone).utcoffset()

    moment = datetime(year, 1, 1, tzinfo=UTC)
    stop = datetime(year + 1, 1, 1, tzinfo=UTC)
    changes: list[datetime] = []
    while moment < stop:
        later = moment + timedelta(hours=1)
        if offset(later) != offset(moment):
            edge = moment + timedelta(minutes=15)
            while offset(edge) == offset(moment):
                edge += timedelta(minutes=15)
            changes.append(edge)
        moment = later
    return tuple(changes)


def dst_edge_datetimes(
    *,
    year: int = 2030,
    around: timedelta = timedelta(hours=4),
    zones: tuple[str, ...] = DST_ZONES,
) -> st.SearchStrategy[datetime]:
    """Aware instants within ``around`` of a clock change, in the changing zone.

    Shown in the zone's local time, so fall-back instants carry ``fold`` and
    arithmetic across the change is wall-clock arithmetic: exactly what a
    library must convert to UTC before adding durations.
    """
    span = int(around.total_seconds() // 300)

    def near(name: str) -> st.SearchStrategy[datetime]:
        return st.builds(
            lambda edge, steps: (edge + timedelta(minutes=5 * steps)).astimezone(ZoneInfo(name)),
            st.sampled_from(offset_changes(name, year)),
            st.integers(min_value=-span, max_value=span),
        )

    return st.sampled_from(zones).flatmap(near)


def durations(*, low: int = 15, high: int = 120, step: int = 15) -> st.SearchStrategy[int]:
    """Session lengths in minutes (the API accepts 5..1440)."""
    return st.integers(min_value=low // step, max_value=high // step).map(lambda i: i * step)


def session_types() -> st.SearchStrategy[SessionType]:
    return st.sampled_from(list(SessionType))
