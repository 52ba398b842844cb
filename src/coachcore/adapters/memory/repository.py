"""The memory store's repository, built from a repository's description."""

from __future__ import annotations

import builtins
from collections.abc import Callable, Hashable, Iterable, Sequence
from operator import attrgetter
from typing import Any, ClassVar, Generic, TypeVar

from coachcore.adapters.memory.tables import Journal, Table
from coachcore.errors import NotFound
from coachcore.ports.storage import Described

E = TypeVar("E")
Index = Callable[[Any], Hashable]


def _unique_of(names: tuple[str, ...]) -> Index:
    """The value of a unique key in a row; None (not enforced) if a part is None."""

    def of(row: Any) -> Hashable:
        values = tuple(getattr(row, name) for name in names)
        return None if None in values else values

    return of


class MemoryRepository(Generic[E]):
    """A repository built from its :class:`Described`: a hash index per filter
    and per unique key. Subclasses add the queries a description cannot
    express, with the extra indexes (``indexes``) those need."""

    indexes: ClassVar[dict[str, Index]] = {}
    uniques: ClassVar[dict[str, Index]] = {}
    """Unique keys of derived values (None: not enforced), by name."""
    tally: ClassVar[tuple[Index, Callable[[Any], Any]] | None] = None

    def __init__(
        self, described: Described, journal: Journal, others: dict[str, MemoryRepository[Any]]
    ) -> None:
        self.described = described
        self.others = others
        """Every repository of the store, by name (for queries that join)."""
        self.name = described.entity.__name__
        self._unique = {frozenset(names): names for names in described.unique}
        self._t: Table[E] = Table(
            self.name,
            attrgetter(described.key),
            {**{f: attrgetter(f) for f in described.filters}, **self.indexes},
            {
                **{",".join(names): _unique_of(names) for names in described.unique},
                **self.uniques,
            },
            tally=self.tally,
        )
        self._t.journal = journal

    @property
    def rows(self) -> dict[str, E]:
        """Every stored item by key (read-only: write through the methods)."""
        return self._t.rows

    def add(self, item: E) -> None:
        self._t.insert(item)

    def update(self, item: E) -> None:
        if self._t.get(getattr(item, self.described.key)) is None:
            raise NotFound(f"{self.name} not found")
        self._t.replace(item)

    def delete(self, key: str) -> None:
        self._t.delete(key)

    def get(self, key: str) -> E | None:
        return self._t.get(key)

    def find(self, **unique: object) -> E | None:
        names = self._unique.get(frozenset(unique))
        if names is None:
            raise ValueError(f"{self.name}: {sorted(unique)} is not a unique key")
        return self._t.unique(",".join(names), tuple(unique[n] for n in names))

    def list(self, **filters: object) -> Sequence[E]:
        unknown = set(filters) - set(self.described.filters)
        if unknown:
            raise ValueError(f"{self.name}: cannot filter on {sorted(unknown)}")
        given = {name: value for name, value in filters.items() if value is not None}
        return self._sorted(self._matching(given))

    def _matching(self, given: dict[str, object]) -> builtins.list[E]:
        """Rows whose fields equal ``given``, looked up through the first one's index."""
        if not given:
            return list(self._t.rows.values())
        first = next(iter(given))
        rows = self._t.by(first, given[first])
        return [r for r in rows if all(getattr(r, k) == v for k, v in given.items())]

    def _sorted(self, rows: Iterable[E]) -> builtins.list[E]:
        order = self.described.order
        return sorted(rows, key=lambda row: tuple(getattr(row, name) for name in order))
