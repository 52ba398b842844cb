"""Slot look-ups against the store: one code path for listing and for booking."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from coachcore.domain.entities import AvailabilityWindow, User
from coachcore.ports.storage import UnitOfWork
from coachcore.scheduling.slots import (
    AvailableSlot,
    OccupancyIndex,
    SlotState,
    available_slots_indexed,
    search_margin,
    slot_state_at,
    slot_states_indexed,
    zone_of,
)

# Sessions last at most a day (``Session.duration`` is validated to 1..1440
# minutes), so one that starts earlier than this before a slot cannot reach it.
LONGEST_SESSION = timedelta(minutes=1440)


def _occupancy(
    uow: UnitOfWork,
    coach: User,
    windows: Sequence[AvailabilityWindow],
    zone: tzinfo,
    start_date: date,
    end_date: date,
    duration: int,
) -> OccupancyIndex:
    """The coach's sessions that can touch slots between two local dates.

    The bounds go to the store in UTC, like the stored instants: comparing
    datetimes of different zones costs a UTC-offset look-up per comparison.
    """
    margin = search_margin(windows, duration)
    low = (datetime.combine(start_date, time(), zone) - margin).astimezone(UTC)
    high = (datetime.combine(end_date + timedelta(days=1), time(), zone) + margin).astimezone(UTC)
    return OccupancyIndex.from_timed(uow.sessions.occupying(coach.id, low, high))


def coach_slot_states(
    uow: UnitOfWork,
    coach: User,
    start_date: date,
    end_date: date,
    duration: int,
    now: datetime,
    interval: int | None = None,
) -> list[SlotState]:
    """Every future grid slot of the coach between two local dates, with seats."""
    windows = uow.windows.for_coach(coach.id)
    if not windows:
        return []
    zone = zone_of(coach.timezone)
    index = _occupancy(uow, coach, windows, zone, start_date, end_date, duration)
    return slot_states_indexed(windows, zone, start_date, end_date, duration, now, index, interval)


def coach_available_slots(
    uow: UnitOfWork,
    coach: User,
    start_date: date,
    end_date: date,
    duration: int,
    now: datetime,
    interval: int | None = None,
    viewer: tzinfo | None = None,
) -> list[AvailableSlot]:
    """The coach's bookable slots between two local dates: the same states as
    :func:`coach_slot_states`, keeping those with a free seat, without building
    a ``SlotState`` for every grid slot."""
    windows = uow.windows.for_coach(coach.id)
    if not windows:
        return []
    zone = zone_of(coach.timezone)
    index = _occupancy(uow, coach, windows, zone, start_date, end_date, duration)
    return available_slots_indexed(
        windows, zone, start_date, end_date, duration, now, index, interval, viewer
    )


def slot_at(
    uow: UnitOfWork, coach: User, start: datetime, duration: int, now: datetime
) -> SlotState | None:
    """The coach's grid slot starting exactly at ``start``, or None if there is none.

    The same rules and the same engine as the listing, for one slot: only the
    sessions that can share or block it are read (those starting within
    ``LONGEST_SESSION`` + buffer before it, up to its end + buffer).
    """
    windows = uow.windows.for_coach(coach.id)
    if not windows:
        return None
    buffer = timedelta(minutes=max(w.buffer_minutes for w in windows))
    low = (start - buffer - LONGEST_SESSION).astimezone(UTC)
    high = (start + timedelta(minutes=duration) + buffer).astimezone(UTC)
    index = OccupancyIndex.from_timed(uow.sessions.occupying(coach.id, low, high))
    return slot_state_at(windows, zone_of(coach.timezone), start, duration, now, index)
