"""Booking's look-up: the state the listing gives one slot, from that slot's day alone."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta, tzinfo

from coachcore.domain.entities import AvailabilityWindow
from coachcore.scheduling.grid import grid_slot
from coachcore.scheduling.occupancy import Columns, OccupancyIndex
from coachcore.scheduling.slots import SlotState
from coachcore.scheduling.wallclock import US_PER_MINUTE


def slot_state_at(
    windows: Sequence[AvailabilityWindow],
    zone: tzinfo,
    start: datetime,
    duration: int,
    now: datetime,
    index: OccupancyIndex,
    interval: int | None = None,
) -> SlotState | None:
    """The state :func:`slot_states` gives the grid slot starting exactly at
    ``start``, or None if no future grid slot starts then; only the slot's own
    coach-local day is laid out, and only that slot is checked."""
    found = grid_slot(windows, zone, start, duration, now, interval)
    if found is None:
        return None
    window, moment, local, wanted = found
    at = index.interval_at(wanted, duration)
    seats = 0 if at is None else index.counts[at]
    buffer_us = window.buffer_minutes * US_PER_MINUTE
    limit = wanted + duration * US_PER_MINUTE + buffer_us
    blocked = index.latest_end(limit, at) > wanted - buffer_us
    return SlotState(moment, moment + timedelta(minutes=duration), local, window, seats, blocked)


def slot_state_among(
    windows: Sequence[AvailabilityWindow],
    zone: tzinfo,
    start: datetime,
    duration: int,
    now: datetime,
    columns: Columns,
    interval: int | None = None,
) -> SlotState | None:
    """:func:`slot_state_at` over occupied intervals given as columns (starts
    in microseconds since the epoch, durations, counts): one pass over them,
    which for the few intervals around one slot costs less than an index."""
    found = grid_slot(windows, zone, start, duration, now, interval)
    if found is None:
        return None
    window, moment, local, wanted = found
    buffer_us = window.buffer_minutes * US_PER_MINUTE
    limit = wanted + duration * US_PER_MINUTE + buffer_us
    earliest = wanted - buffer_us
    seats, blocked = 0, False
    for begins, length, count in zip(*columns, strict=True):
        if count <= 0:
            continue
        if begins == wanted and length == duration:
            seats += count  # the slot's own seats
        elif begins < limit and begins + length * US_PER_MINUTE > earliest:
            blocked = True  # anything else within the buffer
    return SlotState(moment, moment + timedelta(minutes=duration), local, window, seats, blocked)
