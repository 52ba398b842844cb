"""Occupied intervals, indexed for the seat count and buffer check of a slot.

Occupied intervals with the same start and duration as a slot share its seats;
any other one within the window's buffer blocks it.
"""

from __future__ import annotations

import operator
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from itertools import groupby, islice, repeat

import attrs

from coachcore.domain.entities import AvailabilityWindow
from coachcore.scheduling.wallclock import EPOCH, ONE_US, US_PER_MINUTE

_START_AND_DURATION = operator.attrgetter("start", "duration")
NEVER = -(1 << 62)  # an end before every instant (µs since the epoch)

Columns = tuple[Sequence[int], Sequence[int], Sequence[int]]
"""Occupied intervals as columns: starts (µs since the epoch), durations, counts."""


@attrs.frozen
class Occupied:
    """A time the coach is taken: a scheduled session (or confirmed booking)."""

    start: datetime
    duration: int


class OccupancyIndex:
    """Occupied intervals folded into distinct ``(start, duration)`` with counts.

    Instants are integer microseconds since the epoch. For every prefix of the
    intervals sorted by start, the largest end (with its index) and the second
    largest are kept, which answers "does anything but interval ``j`` that starts
    before ``x`` end after ``y``" in O(1).
    """

    def __init__(self, occupied: Iterable[Occupied] = ()) -> None:
        """Fold ``occupied`` (sorted by start, as stores return it) into runs of
        equal ``(start, duration)``; unsorted input is merged by :meth:`_build_us`."""
        starts: list[datetime] = []
        lengths: list[int] = []
        counts: list[int] = []
        for (start, length), same in groupby(occupied, key=_START_AND_DURATION):
            starts.append(start)
            lengths.append(length)
            counts.append(sum(1 for _ in same))
        self._build(starts, lengths, counts)

    @classmethod
    def from_counts(cls, rows: Iterable[tuple[datetime, int, int]]) -> OccupancyIndex:
        """Build from ``(start, duration, how many)`` rows, e.g. a store's
        ``GROUP BY start, duration``: no pass over individual sessions."""
        columns = list(zip(*rows, strict=True))
        if not columns:
            return cls.from_arrays([], [], [])
        starts, lengths, counts = columns
        one_us = ONE_US
        return cls.from_arrays([(start - EPOCH) // one_us for start in starts], lengths, counts)

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
        one_us = ONE_US
        self._build_us([(start - EPOCH) // one_us for start in starts], lengths, counts)

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
            map(operator.add, micros, map(operator.mul, lengths, repeat(US_PER_MINUTE)))
        )
        if all(map(operator.le, ends, islice(ends, 1, None))):  # usual: ends in start order
            self.top1 = [NEVER, *ends]
            self.top1_at = [-1, *range(len(ends))]
            self.top2 = [NEVER, NEVER, *ends[:-1]]
        else:
            top1, top1_at, top2 = [NEVER], [-1], [NEVER]
            best, best_at, second = NEVER, -1, NEVER
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


def columns_of(rows: Iterable[tuple[datetime, int, int]]) -> Columns:
    """``(start, duration, count)`` rows as columns, starts in microseconds since the epoch."""
    starts: list[int] = []
    lengths: list[int] = []
    counts: list[int] = []
    for start, length, count in rows:
        starts.append((start - EPOCH) // ONE_US)
        lengths.append(length)
        counts.append(count)
    return starts, lengths, counts


def search_margin(windows: Sequence[AvailabilityWindow], duration: int) -> timedelta:
    """How far around a date range occupied intervals can still matter."""
    buffer = max((w.buffer_minutes for w in windows), default=0)
    return timedelta(minutes=buffer + duration) + timedelta(days=2)
