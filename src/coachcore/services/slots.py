"""Slot look-ups against the store: one code path for listing and for booking."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from coachcore.domain.entities import User
from coachcore.ports.storage import UnitOfWork
from coachcore.scheduling.slots import Occupied, SlotState, search_margin, slot_states, zone_of


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
    margin = search_margin(windows, duration)
    low = datetime.combine(start_date, time(), zone) - margin
    high = datetime.combine(end_date + timedelta(days=1), time(), zone) + margin
    occupied = [
        Occupied(s.scheduled_at, s.duration) for s in uow.sessions.occupying(coach.id, low, high)
    ]
    return slot_states(windows, zone, start_date, end_date, duration, now, occupied, interval)


def slot_at(
    uow: UnitOfWork, coach: User, start: datetime, duration: int, now: datetime
) -> SlotState | None:
    """The coach's grid slot starting exactly at ``start``, or None if there is none."""
    day = start.astimezone(zone_of(coach.timezone)).date()
    for state in coach_slot_states(uow, coach, day, day, duration, now):
        if state.start == start:
            return state
    return None
