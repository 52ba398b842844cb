"""Listing: every future grid slot of a date range with its seats, in one sweep.

Each dated run of the grid is swept against an
:class:`~coachcore.scheduling.occupancy.OccupancyIndex` with a pointer that only
moves forward; a slot must start after ``now``.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Collection, Iterable, Sequence
from datetime import date, datetime, timedelta, tzinfo

from coachcore.domain.entities import AvailabilityWindow
from coachcore.scheduling.grid import Run, dated_runs
from coachcore.scheduling.occupancy import NEVER, OccupancyIndex, Occupied
from coachcore.scheduling.slots import AvailableSlot, SlotState, mark_own_seats
from coachcore.scheduling.wallclock import US_PER_MINUTE, micros


class _Sweep:
    """What both sweeps share: the occupancy arrays and the runs still ahead of ``now``."""

    def __init__(
        self,
        windows: Sequence[AvailabilityWindow],
        zone: tzinfo,
        start_date: date,
        end_date: date,
        duration: int,
        now: datetime,
        index: OccupancyIndex,
        interval: int | None,
    ) -> None:
        now_us = micros(now)
        self.length = timedelta(minutes=duration)
        self.length_us = duration * US_PER_MINUTE
        self.starts = index.starts
        self.fenced = index.fenced
        self.counts = index.counts
        self.top1, self.top1_at, self.top2 = index.top1, index.top1_at, index.top2
        self.seat_at = index.seat_map(duration)
        self.ordered = True
        self.runs: list[Run] = []
        previous = NEVER
        for window, run, first_start, first_local, start_steps, local_steps in dated_runs(
            windows, zone, start_date, end_date, duration, interval
        ):
            if run[-1] <= now_us:
                continue
            if run[0] <= now_us:  # drop the slots that do not start after now
                skip = bisect_right(run, now_us)
                run, start_steps, local_steps = (
                    run[skip:],
                    start_steps[skip:],
                    local_steps[skip:],
                )
            if run[0] < previous:
                self.ordered = False
            previous = run[-1]
            self.runs.append((window, run, first_start, first_local, start_steps, local_steps))

    def first_candidate(self, start: int, reach: int) -> int:
        """How many intervals start before ``start + reach``."""
        return bisect_left(self.starts, start + reach)


def _states(sweep: _Sweep) -> list[SlotState]:
    """Every slot of the sweep as a :class:`SlotState`, sorted by start."""
    fenced, counts, seat_at = sweep.fenced, sweep.counts, sweep.seat_at
    top1, top1_at, top2 = sweep.top1, sweep.top1_at, sweep.top2
    length, length_us = sweep.length, sweep.length_us
    states: list[SlotState] = []
    append = states.append
    new = tuple.__new__
    for window, run, first_start, first_local, start_steps, local_steps in sweep.runs:
        capacity = window.max_sessions_per_slot
        buffer_us = window.buffer_minutes * US_PER_MINUTE
        reach = length_us + buffer_us
        hi = sweep.first_candidate(run[0], reach)
        for start, start_step, local_step in zip(run, start_steps, local_steps, strict=False):
            limit = start + reach
            while fenced[hi] < limit:
                hi += 1
            at = seat_at.get(start)
            if at is None:
                seats = 0
                blocked = top1[hi] > start - buffer_us
            else:
                seats = counts[at]
                blocked = (top2[hi] if top1_at[hi] == at else top1[hi]) > start - buffer_us
            moment = first_start + start_step
            append(
                new(
                    SlotState,
                    (
                        moment,
                        moment + length,
                        first_local + local_step,
                        window,
                        seats,
                        blocked,
                        0 if blocked or seats >= capacity else capacity - seats,
                    ),
                )
            )
    if not sweep.ordered:
        states.sort(key=lambda s: s[0])
    return states


def _available(sweep: _Sweep, viewer: tzinfo | None) -> list[AvailableSlot]:
    """The sweep's slots with a free seat, as :class:`AvailableSlot`, sorted by start."""
    fenced, counts, seat_at = sweep.fenced, sweep.counts, sweep.seat_at.get
    top1, top1_at, top2 = sweep.top1, sweep.top1_at, sweep.top2
    length, length_us = sweep.length, sweep.length_us
    available: list[AvailableSlot] = []
    append = available.append
    for window, run, first_start, first_local, start_steps, local_steps in sweep.runs:
        capacity = window.max_sessions_per_slot
        buffer_us = window.buffer_minutes * US_PER_MINUTE
        reach = length_us + buffer_us
        hi = sweep.first_candidate(run[0], reach)
        steady = start_steps is local_steps  # elapsed and wall-clock steps agree
        for k, start in enumerate(run):
            limit = start + reach
            while fenced[hi] < limit:
                hi += 1
            at = seat_at(start)
            if at is None:
                if top1[hi] > start - buffer_us:
                    continue
                free = capacity
            else:
                if (top2[hi] if top1_at[hi] == at else top1[hi]) > start - buffer_us:
                    continue
                free = capacity - counts[at]
                if free <= 0:
                    continue
            if steady:
                step = start_steps[k]
                moment = first_start + step
                local = first_local + step
            else:
                moment = first_start + start_steps[k]
                local = first_local + local_steps[k]
            if viewer is None:
                append(AvailableSlot(moment, moment + length, local, free, capacity))
            else:
                append(
                    AvailableSlot(
                        moment, moment + length, local, free, capacity, moment.astimezone(viewer)
                    )
                )
    if not sweep.ordered:
        available.sort(key=lambda s: s.start)
    return available


def slot_states_indexed(
    windows: Sequence[AvailabilityWindow],
    zone: tzinfo,
    start_date: date,
    end_date: date,
    duration: int,
    now: datetime,
    index: OccupancyIndex,
    interval: int | None = None,
) -> list[SlotState]:
    """:func:`slot_states` over a ready :class:`OccupancyIndex`."""
    return _states(_Sweep(windows, zone, start_date, end_date, duration, now, index, interval))


def available_slots_indexed(
    windows: Sequence[AvailabilityWindow],
    zone: tzinfo,
    start_date: date,
    end_date: date,
    duration: int,
    now: datetime,
    index: OccupancyIndex,
    interval: int | None = None,
    viewer: tzinfo | None = None,
    own_seats: Collection[datetime] = (),
) -> list[AvailableSlot]:
    """:func:`available_slots` over a ready :class:`OccupancyIndex`."""
    sweep = _Sweep(windows, zone, start_date, end_date, duration, now, index, interval)
    return mark_own_seats(_available(sweep, viewer), own_seats)


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
    return slot_states_indexed(
        windows, zone, start_date, end_date, duration, now, OccupancyIndex(occupied), interval
    )


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
    own_seats: Collection[datetime] = (),
) -> list[AvailableSlot]:
    """The slots a member may book: future, inside windows, with a free seat;
    those starting at one of ``own_seats`` (the member's sessions) are marked
    ``you_have_a_seat``."""
    return available_slots_indexed(
        windows,
        zone,
        start_date,
        end_date,
        duration,
        now,
        OccupancyIndex(occupied),
        interval,
        viewer,
        own_seats,
    )
