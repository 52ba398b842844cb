"""Weekly windows -> dated slots with seats and buffers, exact across DST.

Rules (ARCHITECTURE.md, "Semantics"): windows are weekly in the coach's
wall-clock time. Within each dated window, slots start at the window start
and step by ``interval`` (default: the duration) in wall-clock minutes. A
local start that does not exist (spring forward) is skipped; an ambiguous one
takes its first occurrence. A slot ``[s, s+d)`` must end inside the window and
start after ``now``. Occupied intervals with the same start and duration share
the slot's seats; any other one within the window's buffer blocks the slot.

Everything here is pure: ``now`` and the occupied intervals are arguments.

How it is fast (docs/performance.md has the figures):

- The zone is asked once per calendar day for its UTC offset at local midnight
  (``fold=0``). A day whose offset equals the offsets at the next two midnights
  has no change inside it, so each of its slots is ``wall - offset``: integer
  arithmetic on microseconds since the epoch, no per-slot conversion. (A gap or
  fold around the next midnight reads as the old offset there, but the new one
  shows a midnight later; this holds because tzdata changes offsets days apart
  and by at most a day, which tests/test_slot_reference.py checks.) The other
  days (a change's day and the day before: four a year in a DST zone) take the
  per-slot path: ``fold=0`` and the round trip through UTC, the rules literally.
- Occupied intervals are folded into distinct ``(start, duration)`` intervals
  with a count (a run-length pass, as stores return them sorted by start). For
  each prefix of them by start the latest end, its index and the latest end
  leaving that one out are kept, so a slot's buffer check is one comparison: the
  intervals starting before ``slot end + buffer`` are a prefix (a pointer that
  only moves forward within a dated window), and the slot is blocked iff the
  latest end among them, leaving out the slot's own seat-sharing interval, is
  after ``slot start - buffer``.
- Datetimes are made by adding a shared, precomputed step to the window's first
  instant; ``available_slots`` makes them only for the slots it returns and
  builds no ``SlotState`` for the others. ``slot_state_at`` (booking) lays out
  one day and checks one slot.
"""

from __future__ import annotations

import operator
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import lru_cache
from itertools import islice, repeat
from typing import Any, NamedTuple

import attrs
import pendulum

from coachcore.domain import checks
from coachcore.domain.entities import AvailabilityWindow

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_US_PER_MINUTE = 60_000_000
_US_PER_DAY = 86_400_000_000
_NEVER = -(1 << 62)
_ONE_US = timedelta(microseconds=1)  # an end before every instant (microseconds since the epoch)


Columns = tuple[Sequence[int], Sequence[int], Sequence[int]]
"""Occupied intervals as columns: starts (µs since the epoch), durations, counts."""


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


class _SlotFields(NamedTuple):
    start: datetime
    end: datetime
    local_start: datetime
    window: AvailabilityWindow
    seats_taken: int
    blocked: bool
    available_capacity: int


class SlotState(_SlotFields):
    """One grid slot with its seat count and whether a buffer blocks it.

    Immutable. ``available_capacity`` is 0 when blocked, else the free seats.
    """

    __slots__ = ()

    def __new__(
        cls,
        start: datetime,
        end: datetime,
        local_start: datetime,
        window: AvailabilityWindow,
        seats_taken: int,
        blocked: bool,
    ) -> SlotState:
        free = 0 if blocked else max(0, window.max_sessions_per_slot - seats_taken)
        return tuple.__new__(cls, (start, end, local_start, window, seats_taken, blocked, free))

    def to_available(self, viewer: tzinfo | None = None) -> AvailableSlot:
        start, end, local_start, window, _, _, free = self
        if viewer is None:
            return AvailableSlot(start, end, local_start, free, window.max_sessions_per_slot)
        return AvailableSlot(
            start,
            end,
            local_start,
            free,
            window.max_sessions_per_slot,
            start.astimezone(viewer),
        )


def _micros(moment: datetime) -> int:
    """Microseconds since the epoch of an aware datetime (exact)."""
    return (moment - _EPOCH) // _ONE_US


class OccupancyIndex:
    """Occupied intervals folded into distinct ``(start, duration)`` with counts.

    Instants are integer microseconds since the epoch. For every prefix of the
    intervals sorted by start, the largest end (with its index) and the second
    largest are kept, which answers "does anything but interval ``j`` that starts
    before ``x`` end after ``y``" in O(1).
    """

    def __init__(self, occupied: Iterable[Occupied] = ()) -> None:
        starts: list[datetime] = []
        lengths: list[int] = []
        counts: list[int] = []
        start, length, run = _EPOCH, -1, 0  # no real interval has length -1
        for item in occupied:
            if item.start == start and item.duration == length:
                run += 1
                continue
            if run:
                starts.append(start)
                lengths.append(length)
                counts.append(run)
            start, length, run = item.start, item.duration, 1
        if run:
            starts.append(start)
            lengths.append(length)
            counts.append(run)
        self._build(starts, lengths, counts)

    @classmethod
    def from_counts(cls, rows: Iterable[tuple[datetime, int, int]]) -> OccupancyIndex:
        """Build from ``(start, duration, how many)`` rows, e.g. a store's
        ``GROUP BY start, duration``: no pass over individual sessions."""
        columns = list(zip(*rows, strict=True))
        if not columns:
            return cls.from_arrays([], [], [])
        starts, lengths, counts = columns
        one_us = _ONE_US
        return cls.from_arrays([(start - _EPOCH) // one_us for start in starts], lengths, counts)

    @classmethod
    def from_arrays(
        cls, micros: Sequence[int], lengths: Sequence[int], counts: Sequence[int]
    ) -> OccupancyIndex:
        """Build from the columns of such rows, starts already in microseconds
        since the epoch (a store may keep them so: the memory store does)."""
        if counts and min(counts) <= 0:
            kept = [i for i, count in enumerate(counts) if count > 0]
            micros = [micros[i] for i in kept]
            lengths = [lengths[i] for i in kept]
            counts = [counts[i] for i in kept]
        index = cls.__new__(cls)
        index._build_us(_listed(micros), _listed(lengths), _listed(counts))
        return index

    def _build(self, starts: list[datetime], lengths: list[int], counts: list[int]) -> None:
        """Index runs ``(starts[i], lengths[i]) x counts[i]``, in any order."""
        one_us = _ONE_US
        self._build_us([(start - _EPOCH) // one_us for start in starts], lengths, counts)

    def _build_us(self, micros: list[int], lengths: list[int], counts: list[int]) -> None:
        """:meth:`_build` with the starts in microseconds since the epoch."""
        if not all(map(operator.lt, micros, islice(micros, 1, None))):
            # out of order, or one start with several lengths: merge equal
            # (start, length) runs and sort by start
            merged: dict[tuple[int, int], int] = {}
            for key, n in zip(zip(micros, lengths, strict=True), counts, strict=True):
                merged[key] = merged.get(key, 0) + n
            keys = sorted(merged)
            micros = [start for start, _ in keys]
            lengths = [length for _, length in keys]
            counts = [merged[key] for key in keys]
        self.starts, self.lengths, self.counts = micros, lengths, counts
        self.fenced = [*micros, 1 << 62]  # with a sentinel start after every limit
        self.longest = max(lengths, default=0)
        # top1[i], top1_at[i], top2[i]: the latest end among intervals 0 .. i-1,
        # its index, and the latest end among them leaving that one out.
        ends: list[int] = list(
            map(operator.add, micros, map(operator.mul, lengths, repeat(_US_PER_MINUTE)))
        )
        if all(map(operator.le, ends, islice(ends, 1, None))):  # usual: ends in start order
            self.top1 = [_NEVER, *ends]
            self.top1_at = [-1, *range(len(ends))]
            self.top2 = [_NEVER, _NEVER, *ends[:-1]]
        else:
            top1, top1_at, top2 = [_NEVER], [-1], [_NEVER]
            best, best_at, second = _NEVER, -1, _NEVER
            for i, end in enumerate(ends):
                if end > best:
                    best, best_at, second = end, i, best
                elif end > second:
                    second = end
                top1.append(best)
                top1_at.append(best_at)
                top2.append(second)
            self.top1, self.top1_at, self.top2 = top1, top1_at, top2
        self._seat_maps: dict[int, dict[int, int]] = {}

    def __len__(self) -> int:
        return len(self.starts)

    def seat_map(self, length: int) -> dict[int, int]:
        """Start (µs) -> index of the interval with that start and ``length`` minutes."""
        found = self._seat_maps.get(length)
        if found is None:
            if self.lengths.count(length) == len(self.lengths):  # all of that length
                found = dict(zip(self.starts, range(len(self.starts)), strict=True))
            else:
                pairs = zip(self.starts, self.lengths, strict=True)
                found = {start: i for i, (start, n) in enumerate(pairs) if n == length}
            self._seat_maps[length] = found
        return found

    def interval_at(self, start: int, length: int) -> int | None:
        """The index of the interval starting at ``start`` (µs) that lasts
        ``length`` minutes, if there is one."""
        starts, lengths = self.starts, self.lengths
        at = bisect_left(starts, start)
        while at < len(starts) and starts[at] == start:
            if lengths[at] == length:
                return at
            at += 1
        return None

    def latest_end(self, before: int, leaving_out: int | None) -> int:
        """The latest end among intervals starting before ``before`` (µs), but ``leaving_out``."""
        hi = bisect_left(self.starts, before)
        return self.top2[hi] if self.top1_at[hi] == leaving_out else self.top1[hi]


def _listed(values: Sequence[int]) -> list[int]:
    """``values`` as a list (itself if it is one: the index never changes it)."""
    return values if type(values) is list else list(values)


def day_of_week(day: date) -> int:
    """0=Sunday .. 6=Saturday, as the seeds number weekdays."""
    return day.isoweekday() % 7


def window_start(day: date, window: AvailabilityWindow, zone: tzinfo) -> datetime:
    """The instant a dated window opens (a nonexistent start time moves forward)."""
    naive = datetime.combine(day, time()) + timedelta(minutes=window.start_minute)
    return naive.replace(tzinfo=zone, fold=0).astimezone(UTC)


def window_end(day: date, window: AvailabilityWindow, zone: tzinfo) -> datetime:
    """The instant a dated window ends (a nonexistent end time moves forward)."""
    naive = datetime.combine(day, time()) + timedelta(minutes=window.end_minute)
    return naive.replace(tzinfo=zone, fold=0).astimezone(UTC)


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
def _clock(hhmm: str) -> int:
    """Minutes after midnight of a window's "HH:mm" (``AvailabilityWindow.start_minute``
    parses the string on every access)."""
    return checks.minutes_of(hhmm)


@lru_cache(maxsize=64)
def _steps(step_minutes: int) -> tuple[timedelta, ...]:
    """``k * step`` for every k a day can hold (shared, immutable)."""
    return tuple(timedelta(minutes=step_minutes * k) for k in range(1441 // step_minutes + 2))


# The grid slots of one dated window, in start order: (window, starts in µs
# since the epoch, UTC instant of starts[0], coach-local wall time of starts[0]
# (fold=0), steps: start of slot k = first + start_steps[k], local start of
# slot k = first local + local_steps[k]).
_Run = tuple[
    AvailabilityWindow,
    Sequence[int],
    datetime,
    datetime,
    Sequence[timedelta],
    Sequence[timedelta],
]


def _midnight(day: date, zone: tzinfo) -> tuple[datetime, timedelta | None]:
    """Local midnight of ``day`` and its UTC offset (``fold=0``)."""
    moment = datetime(day.year, day.month, day.day, 0, 0, 0, 0, zone)
    return moment, moment.utcoffset()


@lru_cache(maxsize=1)
def _minutes() -> tuple[timedelta, ...]:
    """``timedelta(minutes=m)`` for every minute of a day."""
    return tuple(timedelta(minutes=m) for m in range(1441))


def _slow_run(
    day: date,
    midnight: datetime,
    window: AvailabilityWindow,
    zone: tzinfo,
    first: int,
    last: int,
    step: int,
    duration: int,
) -> _Run | None:
    """Per-slot conversion for a day with an offset change: the rules, literally.

    Each wall-clock start is taken with ``fold=0`` (an ambiguous time is its
    first occurrence) and kept only if it survives the round trip through UTC
    (a time in a gap does not); ``midnight`` is local midnight of ``day``.
    """
    if last > 1440:
        end = window_end(day, window, zone)
    else:
        end = (midnight + _minutes()[last]).astimezone(UTC)
    length = timedelta(minutes=duration)
    starts: list[int] = []
    utc: list[datetime] = []
    local: list[datetime] = []
    minutes = _minutes()
    for minute in range(first, last, step):
        wall = minutes[minute] if minute <= 1440 else timedelta(minutes=minute)
        moment = midnight + wall  # fold=0
        start = moment.astimezone(UTC)
        if start.astimezone(zone) != moment:  # same zone: compares wall-clock times
            continue  # does not exist
        if start + length > end:
            break
        starts.append((start - _EPOCH) // _ONE_US)
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


def _runs(
    windows: Sequence[AvailabilityWindow],
    zone: tzinfo,
    start_date: date,
    end_date: date,
    duration: int,
    interval: int | None,
) -> list[_Run]:
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
                (window, _clock(window.start_time), _clock(window.end_time))
            )
    for listed in by_day.values():
        listed.sort(key=lambda w: w[1])
    if not by_day or end_date < start_date:
        return []
    steps = _steps(step)
    minutes = _minutes()
    step_us = step * _US_PER_MINUTE
    runs: list[_Run] = []
    one_day = timedelta(days=1)
    one_us = _ONE_US
    offsets = _midnight_offsets(zone)
    ordinal, last_ordinal = start_date.toordinal(), end_date.toordinal()
    weekday = day_of_week(start_date)
    offset = _offset_at(offsets, zone, ordinal)
    next_offset = _offset_at(offsets, zone, ordinal + 1)
    # local midnight (fold=0); the next ones by adding wall-clock days
    midnight = datetime(start_date.year, start_date.month, start_date.day, 0, 0, 0, 0, zone)
    utc_midnight = datetime(start_date.year, start_date.month, start_date.day, tzinfo=UTC)
    midnight_us = (ordinal - _EPOCH_ORDINAL) * _US_PER_DAY
    while ordinal <= last_ordinal:
        third = offsets.get(ordinal + 2, _UNKNOWN)
        if third is _UNKNOWN:
            third = _offset_at(offsets, zone, ordinal + 2)
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
                start_us = midnight_us + first * _US_PER_MINUTE - offset_us
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
        midnight_us += _US_PER_DAY
    return runs


_UNKNOWN: Any = object()
_OFFSETS: dict[tzinfo, dict[int, timedelta | None]] = {}
_FIRST_DAY = date(1, 1, 1)


def _midnight_offsets(zone: tzinfo) -> dict[int, timedelta | None]:
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


def _offset_at(
    offsets: dict[int, timedelta | None], zone: tzinfo, ordinal: int
) -> timedelta | None:
    """The UTC offset at local midnight of the date ``ordinal`` (kept in ``offsets``)."""
    offset = offsets.get(ordinal, _UNKNOWN)
    if offset is _UNKNOWN:
        day = _FIRST_DAY + timedelta(days=ordinal - 1)  # OverflowError past date.max
        offset = offsets[ordinal] = _midnight(day, zone)[1]
    return offset  # type: ignore[no-any-return]


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
        now_us = _micros(now)
        self.length = timedelta(minutes=duration)
        self.length_us = duration * _US_PER_MINUTE
        self.starts = index.starts
        self.fenced = index.fenced
        self.counts = index.counts
        self.top1, self.top1_at, self.top2 = index.top1, index.top1_at, index.top2
        self.seat_at = index.seat_map(duration)
        self.back_to_back = (interval or duration) == duration
        self.ordered = True
        self.runs: list[_Run] = []
        previous = _NEVER
        for window, run, first_start, first_local, start_steps, local_steps in _runs(
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
        buffer_us = window.buffer_minutes * _US_PER_MINUTE
        reach = length_us + buffer_us
        hi = sweep.first_candidate(run[0], reach)
        if sweep.back_to_back and start_steps is local_steps:
            # a steady day and step == duration: each slot ends where the next starts
            moment = first_start + start_steps[0]
            for start, local_step in zip(run, local_steps, strict=False):
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
                end = moment + length
                append(
                    new(
                        SlotState,
                        (
                            moment,
                            end,
                            first_local + local_step,
                            window,
                            seats,
                            blocked,
                            0 if blocked or seats >= capacity else capacity - seats,
                        ),
                    )
                )
                moment = end
            continue
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
        buffer_us = window.buffer_minutes * _US_PER_MINUTE
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
    for window, run, first_start, first_local, start_steps, local_steps in _runs(
        windows, zone, start_date, end_date, duration, interval
    ):
        for k in range(len(run)):
            start = first_start + start_steps[k]
            yield start, start + length, first_local + local_steps[k], window


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
) -> list[AvailableSlot]:
    """:func:`available_slots` over a ready :class:`OccupancyIndex`."""
    return _available(
        _Sweep(windows, zone, start_date, end_date, duration, now, index, interval), viewer
    )


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
) -> list[AvailableSlot]:
    """The slots a member may book: future, inside windows, with a free seat."""
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
    )


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
    found = _grid_slot(windows, zone, start, duration, now, interval)
    if found is None:
        return None
    window, moment, local, wanted = found
    at = index.interval_at(wanted, duration)
    seats = 0 if at is None else index.counts[at]
    buffer_us = window.buffer_minutes * _US_PER_MINUTE
    limit = wanted + duration * _US_PER_MINUTE + buffer_us
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
    found = _grid_slot(windows, zone, start, duration, now, interval)
    if found is None:
        return None
    window, moment, local, wanted = found
    buffer_us = window.buffer_minutes * _US_PER_MINUTE
    limit = wanted + duration * _US_PER_MINUTE + buffer_us
    earliest = wanted - buffer_us
    seats, blocked = 0, False
    for begins, length, count in zip(*columns, strict=True):
        if count <= 0:
            continue
        if begins == wanted and length == duration:
            seats += count  # the slot's own seats
        elif begins < limit and begins + length * _US_PER_MINUTE > earliest:
            blocked = True  # anything else within the buffer
    return SlotState(moment, moment + timedelta(minutes=duration), local, window, seats, blocked)


def _grid_slot(
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
    wanted = _micros(start)
    that_day = [w for w in windows if w.day_of_week == weekday]
    for window, run, first_start, first_local, start_steps, local_steps in _runs(
        that_day, zone, day, day, duration, interval
    ):
        k = bisect_left(run, wanted)
        if k < len(run) and run[k] == wanted:
            return window, first_start + start_steps[k], first_local + local_steps[k], wanted
    return None


def columns_of(rows: Iterable[tuple[datetime, int, int]]) -> Columns:
    """``(start, duration, count)`` rows as columns, starts in microseconds since the epoch."""
    starts: list[int] = []
    lengths: list[int] = []
    counts: list[int] = []
    for start, length, count in rows:
        starts.append((start - _EPOCH) // _ONE_US)
        lengths.append(length)
        counts.append(count)
    return starts, lengths, counts


def find_slot(states: Sequence[SlotState], start: datetime) -> SlotState | None:
    """The grid slot starting exactly at ``start`` (any zone), if there is one."""
    for state in states:
        if state.start == start:
            return state
    return None


@lru_cache(maxsize=1024)
def zone_of(name: str) -> tzinfo:
    """The tzinfo for an IANA name (already validated); one shared object per name
    (building one reads the zone's file: tens of microseconds)."""
    return pendulum.timezone(name)


def search_margin(windows: Sequence[AvailabilityWindow], duration: int) -> timedelta:
    """How far around a date range occupied intervals can still matter."""
    buffer = max((w.buffer_minutes for w in windows), default=0)
    return timedelta(minutes=buffer + duration) + timedelta(days=2)
