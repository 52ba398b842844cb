"""In-memory tables with an undo journal and secondary indexes."""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Callable, Hashable, Iterable
from datetime import datetime
from typing import Any, Generic, TypeVar

from coachcore.errors import Conflict

E = TypeVar("E")
Interval = tuple[datetime, int]
"""``(start, duration in minutes)``: what a tally counts."""
_MISSING: Any = object()


class Journal:
    """Undo records for the running unit of work."""

    def __init__(self) -> None:
        self.entries: list[tuple[Table[Any], str, Any]] = []

    def undo(self) -> None:
        for table, key, old in reversed(self.entries):
            table.restore(key, old)
        self.entries.clear()


class Table(Generic[E]):
    """Rows keyed by a string; hash indexes, unique keys and per-group time order."""

    def __init__(
        self,
        name: str,
        key: Callable[[E], str],
        indexes: dict[str, Callable[[E], Hashable]] | None = None,
        unique: dict[str, Callable[[E], Hashable]] | None = None,
        timeline: tuple[Callable[[E], Hashable], Callable[[E], datetime]] | None = None,
        tally: tuple[Callable[[E], Hashable], Callable[[E], Interval | None]] | None = None,
    ) -> None:
        self.name = name
        self.rows: dict[str, E] = {}
        self._key = key
        self._indexes = indexes or {}
        self._unique = unique or {}
        self._by: dict[str, dict[Hashable, dict[str, E]]] = {n: {} for n in self._indexes}
        self._uniq: dict[str, dict[Hashable, str]] = {n: {} for n in self._unique}
        self._timeline = timeline
        self._times: dict[Hashable, list[tuple[datetime, str]]] = {}
        self._tally = tally
        self._counts: dict[Hashable, dict[Interval, int]] = {}
        self._counted: dict[Hashable, list[Interval]] = {}
        self.journal: Journal | None = None

    def get(self, key: str) -> E | None:
        return self.rows.get(key)

    def by(self, index: str, value: Hashable) -> Iterable[E]:
        return self._by[index].get(value, {}).values()

    def unique(self, index: str, value: Hashable) -> E | None:
        key = self._uniq[index].get(value)
        return None if key is None else self.rows[key]

    def between(self, group: Hashable, start: datetime, end: datetime) -> list[E]:
        """Rows of ``group`` whose time is in ``[start, end)``, in time order."""
        times = self._times.get(group, [])
        low = bisect_left(times, (start, ""))
        high = bisect_left(times, (end, ""), low)
        rows = self.rows
        return [rows[key] for _, key in times[low:high]]

    def tallied(
        self, group: Hashable, start: datetime, end: datetime
    ) -> list[tuple[datetime, int, int]]:
        """``(start, duration, rows)`` of ``group``'s counted intervals starting in
        ``[start, end)``, by start: kept up to date on every write, so reading
        costs one row per distinct interval, not one per stored row."""
        keys = self._counted.get(group, [])
        counts = self._counts.get(group, {})
        low = bisect_left(keys, (start, -1))
        high = bisect_left(keys, (end, -1), low)
        return [(at, length, counts[(at, length)]) for at, length in keys[low:high]]

    def insert(self, row: E) -> None:
        key = self._key(row)
        if key in self.rows:
            raise Conflict(f"{self.name} {key} already exists")
        self._check_unique(row, key)
        self._write(key, row)

    def replace(self, row: E) -> None:
        key = self._key(row)
        if key not in self.rows:
            raise KeyError(key)
        self._check_unique(row, key)
        self._write(key, row)

    def delete(self, key: str) -> None:
        if key in self.rows:
            self._write(key, _MISSING)

    def restore(self, key: str, old: Any) -> None:
        self._set(key, old)

    def _check_unique(self, row: E, key: str) -> None:
        for name, of in self._unique.items():
            value = of(row)
            holder = self._uniq[name].get(value) if value is not None else None
            if holder is not None and holder != key:
                raise Conflict(f"{self.name} with this {name} already exists")

    def _write(self, key: str, row: Any) -> None:
        if self.journal is not None:
            self.journal.entries.append((self, key, self.rows.get(key, _MISSING)))
        self._set(key, row)

    def _set(self, key: str, row: Any) -> None:
        old = self.rows.pop(key, _MISSING)
        if old is not _MISSING:
            self._unindex(key, old)
        if row is not _MISSING:
            self.rows[key] = row
            self._index(key, row)

    def _index(self, key: str, row: E) -> None:
        for name, of in self._indexes.items():
            self._by[name].setdefault(of(row), {})[key] = row
        for name, of in self._unique.items():
            value = of(row)
            if value is not None:
                self._uniq[name][value] = key
        if self._timeline is not None:
            group, moment = self._timeline
            insort(self._times.setdefault(group(row), []), (moment(row), key))
        if self._tally is not None:
            self._count(row, 1)

    def _unindex(self, key: str, row: E) -> None:
        for name, of in self._indexes.items():
            bucket = self._by[name].get(of(row))
            if bucket is not None:
                bucket.pop(key, None)
        for name, of in self._unique.items():
            value = of(row)
            if value is not None and self._uniq[name].get(value) == key:
                del self._uniq[name][value]
        if self._timeline is not None:
            group, moment = self._timeline
            times = self._times.get(group(row), [])
            entry = (moment(row), key)
            at = bisect_left(times, entry)
            if at < len(times) and times[at] == entry:
                del times[at]
        if self._tally is not None:
            self._count(row, -1)

    def _count(self, row: E, change: int) -> None:
        assert self._tally is not None
        of_group, interval_of = self._tally
        interval = interval_of(row)
        if interval is None:
            return
        group = of_group(row)
        counts = self._counts.setdefault(group, {})
        total = counts.get(interval, 0) + change
        if total > 0:
            if interval not in counts:
                insort(self._counted.setdefault(group, []), interval)
            counts[interval] = total
        elif interval in counts:
            del counts[interval]
            keys = self._counted[group]
            del keys[bisect_left(keys, interval)]
