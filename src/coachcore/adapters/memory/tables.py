"""In-memory tables with an undo journal and secondary indexes.

Writes are the hot path of the memory store (a booking writes about twenty
rows): each table keeps its index functions with their buckets ready, and a
replacement touches only the indexes whose value changed.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Hashable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any, Generic, TypeVar

from coachcore.errors import Conflict

E = TypeVar("E")
Interval = tuple[datetime, int]
"""``(start, duration in minutes)``: what a tally counts."""
Tallied = tuple[datetime, int, int]
"""``(start, duration in minutes, rows)``: one counted interval."""
_MISSING: Any = object()
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_US = timedelta(microseconds=1)


class Journal:
    """Undo records of the running unit of work, shared by a store's tables.

    ``entries`` is None outside a unit of work (nothing is recorded). A unit of
    work opened inside another (the store's lock is re-entrant) records its own
    entries and gives the outer one's back when it ends.
    """

    def __init__(self) -> None:
        self.entries: list[tuple[Table[Any], str, Any]] | None = None

    def begin(self) -> list[tuple[Table[Any], str, Any]] | None:
        """Start recording; returns what to hand to :meth:`end`."""
        outer, self.entries = self.entries, []
        return outer

    def end(self, outer: list[tuple[Table[Any], str, Any]] | None) -> None:
        """Undo what was not committed and go back to the outer recording."""
        try:
            if self.entries:
                self.undo_entries(self.entries)
        finally:
            self.entries = outer

    @staticmethod
    def undo_entries(entries: list[tuple[Table[Any], str, Any]]) -> None:
        """Put back, newest first, what ``entries`` recorded; then forget them."""
        for table, key, old in reversed(entries):
            table.restore(key, old)
        entries.clear()


class Tally:
    """One group's counted intervals in ``(start, duration)`` order, twice: as
    ``(start, duration, count)`` rows, and as parallel arrays with the start in
    microseconds since the epoch (what the slot engine indexes)."""

    __slots__ = ("counts", "lengths", "micros", "rows")

    def __init__(self) -> None:
        self.rows: list[Tallied] = []
        self.micros: list[int] = []
        self.lengths: list[int] = []
        self.counts: list[int] = []

    def span(self, start: datetime, end: datetime) -> tuple[int, int]:
        """The positions of the intervals starting in ``[start, end)``."""
        rows = self.rows
        low = bisect_left(rows, (start,))  # (start,) sorts before (start, d, n)
        return low, bisect_left(rows, (end,), low)

    def add(self, start: datetime, length: int, change: int) -> None:
        """Count ``change`` more (or fewer) rows in ``[start, start + length)``."""
        rows = self.rows
        at = bisect_left(rows, (start, length))  # sorts just before (start, length, n)
        if at < len(rows) and rows[at][0] == start and rows[at][1] == length:
            total = rows[at][2] + change
            if total > 0:
                rows[at] = (start, length, total)
                self.counts[at] = total
            else:
                del rows[at], self.micros[at], self.lengths[at], self.counts[at]
        elif change > 0:
            rows.insert(at, (start, length, change))
            self.micros.insert(at, (start - _EPOCH) // _ONE_US)
            self.lengths.insert(at, length)
            self.counts.insert(at, change)


class Table(Generic[E]):
    """Rows keyed by a string; hash indexes, unique keys and per-group tallies."""

    def __init__(
        self,
        name: str,
        key: Callable[[E], str],
        indexes: dict[str, Callable[[E], Hashable]] | None = None,
        unique: dict[str, Callable[[E], Hashable]] | None = None,
        tally: tuple[Callable[[E], Hashable], Callable[[E], Interval | None]] | None = None,
    ) -> None:
        self.name = name
        self.rows: dict[str, E] = {}
        self._key = key
        self._by: dict[str, dict[Hashable, dict[str, E]]] = {n: {} for n in indexes or {}}
        self._uniq: dict[str, dict[Hashable, str]] = {n: {} for n in unique or {}}
        # (buckets, value of a row) per index; (name, holders, value of a row) per unique key
        self._indexes = [(self._by[n], of) for n, of in (indexes or {}).items()]
        self._unique = [(n, self._uniq[n], of) for n, of in (unique or {}).items()]
        self._tally = tally
        self._tallies: dict[Hashable, Tally] = {}
        self.journal = Journal()

    def get(self, key: str) -> E | None:
        return self.rows.get(key)

    def by(self, index: str, value: Hashable) -> Iterable[E]:
        return self._by[index].get(value, {}).values()

    def unique(self, index: str, value: Hashable) -> E | None:
        key = self._uniq[index].get(value)
        return None if key is None else self.rows[key]

    def tallied(self, group: Hashable, start: datetime, end: datetime) -> list[Tallied]:
        """``(start, duration, rows)`` of ``group``'s counted intervals starting in
        ``[start, end)``, by start: kept up to date on every write, so reading
        is one slice, not a pass over the stored rows."""
        tally = self._tallies.get(group)
        if tally is None:
            return []
        low, high = tally.span(start, end)
        return tally.rows[low:high]

    def tallied_arrays(
        self, group: Hashable, start: datetime, end: datetime
    ) -> tuple[list[int], list[int], list[int]]:
        """What :meth:`tallied` reads, as three arrays: starts in microseconds
        since the epoch, durations, counts."""
        tally = self._tallies.get(group)
        if tally is None:
            return [], [], []
        low, high = tally.span(start, end)
        return tally.micros[low:high], tally.lengths[low:high], tally.counts[low:high]

    def insert(self, row: E) -> None:
        key = self._key(row)
        if key in self.rows:
            raise Conflict(f"{self.name} {key} already exists")
        if self._unique:
            self._check_unique(row, key)
        entries = self.journal.entries
        if entries is not None:
            entries.append((self, key, _MISSING))
        self.rows[key] = row
        self._index(key, row)

    def replace(self, row: E) -> None:
        key = self._key(row)
        old = self.rows.get(key, _MISSING)
        if old is _MISSING:
            raise KeyError(key)
        if self._unique:
            self._check_unique(row, key)
        entries = self.journal.entries
        if entries is not None:
            entries.append((self, key, old))
        self._reindex(key, old, row)

    def delete(self, key: str) -> None:
        if key in self.rows:
            entries = self.journal.entries
            if entries is not None:
                entries.append((self, key, self.rows[key]))
            self._set(key, _MISSING)

    def restore(self, key: str, old: Any) -> None:
        self._set(key, old)

    def _check_unique(self, row: E, key: str) -> None:
        for name, holders, of in self._unique:
            value = of(row)
            if value is not None:
                holder = holders.get(value)
                if holder is not None and holder != key:
                    raise Conflict(f"{self.name} with this {name} already exists")

    def _set(self, key: str, row: Any) -> None:
        old = self.rows.pop(key, _MISSING)
        if old is not _MISSING:
            self._unindex(key, old)
        if row is not _MISSING:
            self.rows[key] = row
            self._index(key, row)

    def _index(self, key: str, row: E) -> None:
        for buckets, of in self._indexes:
            value = of(row)
            bucket = buckets.get(value)
            if bucket is None:
                buckets[value] = {key: row}
            else:
                bucket[key] = row
        for _, holders, of in self._unique:
            value = of(row)
            if value is not None:
                holders[value] = key
        if self._tally is not None:
            group, interval = self._tally
            self._count(group(row), interval(row), 1)

    def _unindex(self, key: str, row: E) -> None:
        for buckets, of in self._indexes:
            bucket = buckets.get(of(row))
            if bucket is not None:
                bucket.pop(key, None)
        for _, holders, of in self._unique:
            value = of(row)
            if value is not None and holders.get(value) == key:
                del holders[value]
        if self._tally is not None:
            group, interval = self._tally
            self._count(group(row), interval(row), -1)

    def _reindex(self, key: str, old: E, row: E) -> None:
        """Replace ``old`` by ``row`` under ``key``, moving only the index
        entries whose value changed."""
        self.rows[key] = row
        for buckets, of in self._indexes:
            before, after = of(old), of(row)
            if before != after:
                bucket = buckets.get(before)
                if bucket is not None:
                    bucket.pop(key, None)
            bucket = buckets.get(after)
            if bucket is None:
                buckets[after] = {key: row}
            else:
                bucket[key] = row
        for _, holders, of in self._unique:
            before, after = of(old), of(row)
            if before != after:
                if before is not None and holders.get(before) == key:
                    del holders[before]
                if after is not None:
                    holders[after] = key
        if self._tally is not None:
            group, interval = self._tally
            counted, counts = (group(old), interval(old)), (group(row), interval(row))
            if counted != counts:
                self._count(*counted, -1)
                self._count(*counts, 1)

    def _count(self, group: Hashable, interval: Interval | None, change: int) -> None:
        """Add ``change`` rows to ``group``'s count of ``interval`` (None: not counted)."""
        if interval is None:
            return
        tally = self._tallies.get(group)
        if tally is None:
            tally = self._tallies[group] = Tally()
        tally.add(interval[0], interval[1], change)
