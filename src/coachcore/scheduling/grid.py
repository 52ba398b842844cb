"""Weekly windows -> dated runs of slot starts, exact across DST.

Within each dated window, slots start at the window start and step by
``interval`` (default: the duration) in wall-clock minutes. A local start that
does not exist is skipped; an ambiguous one takes its first occurrence. A slot
must end inside the window. Days without an offset change are integer
arithmetic; docs/performance.md ("How the engine works") says why that is exact.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, timedelta, tzinfo

from coachcore.domain.entities import AvailabilityWindow
from coachcore.scheduling.wallclock import (
    EPOCH,
    EPOCH_ORDINAL,
    ONE_US,
    UNKNOWN,
    US_PER_DAY,
    US_PER_MINUTE,
    clock_minutes,
    day_minutes,
    day_of_week,
    micros,
    midnight_offsets,
    offset_at,
    steps_of,
    window_end,
)

# The grid slots of one dated window, in start order: (window, starts in µs
# since the epoch, UTC instant of starts[0], coach-local wall time of starts[0]
# (fold=0), steps: start of slot k = first + start_steps[k], local start of
# slot k = first local + local_steps[k]).
Run = tuple[
    AvailabilityWindow,
    Sequence[int],
    datetime,
    datetime,
    Sequence[timedelta],
    Sequence[timedelta],
]


def _slow_run(
    day: date,
    midnight: datetime,
    window: AvailabilityWindow,
    zone: tzinfo,
    first: int,
    last: int,
    step: int,
    duration: int,
) -> Run | None:
    """Per-slot conversion for a day with an offset change: the rules, literally.

    Each wall-clock start is taken with ``fold=0`` (an ambiguous time is its
    first occurrence) and kept only if it survives the round trip through UTC
    (a time in a gap does not); ``midnight`` is local midnight of ``day``.
    """
    if last > 1440:
        end = window_end(day, window, zone)
    else:
        end = (midnight + day_minutes()[last]).astimezone(UTC)
    length = timedelta(minutes=duration)
    starts: list[int] = []
    utc: list[datetime] = []
    local: list[datetime] = []
    minutes = day_minutes()
    for minute in range(first, last, step):
        wall = minutes[minute] if minute <= 1440 else timedelta(minutes=minute)
        moment = midnight + wall  # fold=0
        start = moment.astimezone(UTC)
        if start.astimezone(zone) != moment:  # same zone: compares wall-clock times
            continue  # does not exist
        if start + length > end:
            break
        starts.append((start - EPOCH) // ONE_US)
        utc.append(start)
        local.append(moment)
    if not starts:
        return None
    return (
        window,
        starts,
        utc[0],
        local[0],
        [s - utc[0] for s in utc],
        [m - local[0] for m in local],  # same tzinfo: wall-clock differences
    )


def dated_runs(
    windows: Sequence[AvailabilityWindow],
    zone: tzinfo,
    start_date: date,
    end_date: date,
    duration: int,
    interval: int | None,
) -> list[Run]:
    """Every dated window's grid in date order (windows of a day by start time).

    A day is *steady* when the zone gives the same offset (``fold=0``) at its
    midnight and at the next two: then nothing changes inside it. (A gap or a
    fold around the next midnight reads as the old offset there with ``fold=0``,
    but the new offset shows one midnight later; tzdata changes offsets days
    apart and by less than a day, which tests/test_slot_reference.py checks.)
    Steady days are pure arithmetic; the others take :func:`_slow_run`.
    """
    step = interval or duration
    by_day: dict[int, list[tuple[AvailabilityWindow, int, int]]] = {}
    for window in windows:
        if window.is_active:
            by_day.setdefault(window.day_of_week, []).append(
                (window, clock_minutes(window.start_time), clock_minutes(window.end_time))
            )
    for listed in by_day.values():
        listed.sort(key=lambda w: w[1])
    if not by_day or end_date < start_date:
        return []
    steps = steps_of(step)
    minutes = day_minutes()
    step_us = step * US_PER_MINUTE
    runs: list[Run] = []
    one_day = timedelta(days=1)
    one_us = ONE_US
    offsets = midnight_offsets(zone)
    ordinal, last_ordinal = start_date.toordinal(), end_date.toordinal()
    weekday = day_of_week(start_date)
    offset = offset_at(offsets, zone, ordinal)
    next_offset = offset_at(offsets, zone, ordinal + 1)
    # local midnight (fold=0); the next ones by adding wall-clock days
    midnight = datetime(start_date.year, start_date.month, start_date.day, 0, 0, 0, 0, zone)
    utc_midnight = datetime(start_date.year, start_date.month, start_date.day, tzinfo=UTC)
    midnight_us = (ordinal - EPOCH_ORDINAL) * US_PER_DAY
    while ordinal <= last_ordinal:
        third = offsets.get(ordinal + 2, UNKNOWN)
        if third is UNKNOWN:
            third = offset_at(offsets, zone, ordinal + 2)
        day_windows = by_day.get(weekday)
        if day_windows:
            steady = offset is not None and offset == next_offset == third
            if steady:
                assert offset is not None
                offset_us = offset // one_us
                first_utc = utc_midnight - offset
            for window, first, last in day_windows:
                if not steady or last > 1440:
                    day = date.fromordinal(ordinal)
                    run = _slow_run(day, midnight, window, zone, first, last, step, duration)
                    if run is not None:
                        runs.append(run)
                    continue
                count = (last - duration - first) // step + 1 if last - duration >= first else 0
                if count <= 0:
                    continue
                start_us = midnight_us + first * US_PER_MINUTE - offset_us
                runs.append(
                    (
                        window,
                        range(start_us, start_us + count * step_us, step_us),
                        first_utc + minutes[first],
                        midnight + minutes[first],
                        steps,
                        steps,
                    )
                )
        ordinal += 1
        weekday = weekday + 1 if weekday < 6 else 0
        offset, next_offset = next_offset, third
        midnight += one_day  # wall-clock arithmetic: the next local midnight, fold=0
        utc_midnight += one_day
        midnight_us += US_PER_DAY
    return runs


def grid(
    windows: Sequence[AvailabilityWindow],
    zone: tzinfo,
    start_date: date,
    end_date: date,
    duration: int,
    interval: int | None = None,
) -> Iterator[tuple[datetime, datetime, datetime, AvailabilityWindow]]:
    """Every grid slot ``(start_utc, end_utc, local_start, window)`` in date order."""
    length = timedelta(minutes=duration)
    for window, run, first_start, first_local, start_steps, local_steps in dated_runs(
        windows, zone, start_date, end_date, duration, interval
    ):
        for k in range(len(run)):
            start = first_start + start_steps[k]
            yield start, start + length, first_local + local_steps[k], window


def grid_slot(
    windows: Sequence[AvailabilityWindow],
    zone: tzinfo,
    start: datetime,
    duration: int,
    now: datetime,
    interval: int | None,
) -> tuple[AvailabilityWindow, datetime, datetime, int] | None:
    """The window, UTC start, local start and start in microseconds of the
    future grid slot starting exactly at ``start``; only its local day is laid out."""
    if start <= now:
        return None
    day = start.astimezone(zone).date()
    weekday = day_of_week(day)
    wanted = micros(start)
    that_day = [w for w in windows if w.day_of_week == weekday]
    for window, run, first_start, first_local, start_steps, local_steps in dated_runs(
        that_day, zone, day, day, duration, interval
    ):
        k = bisect_left(run, wanted)
        if k < len(run) and run[k] == wanted:
            return window, first_start + start_steps[k], first_local + local_steps[k], wanted
    return None
