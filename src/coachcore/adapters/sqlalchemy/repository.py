"""The SQL store's repository, built from a repository's description.

Lists are ordered exactly like the memory store's: string sort keys are
compared byte-wise on every backend (``COLLATE "C"`` on PostgreSQL, SQLite's
default BINARY), as Python compares ``str``.

``update`` is a compare-and-set on the row's ``version`` column: the unit of
work remembers the version of every row it read (:attr:`Db.versions`), and
the UPDATE names it (``WHERE key = :key AND version = :read``) and counts it
up; no row changed means another transaction changed it meanwhile. The
version remembered is the first one read: on PostgreSQL (READ COMMITTED) a
second read may see another transaction's commit, and a use case that decided
on the first read (say, "the booking is confirmed") must not write on the
strength of the second.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Any, Generic, TypeVar

import sqlalchemy as sa
from sqlalchemy.sql import ColumnElement

from coachcore.adapters.sqlalchemy.db import Db
from coachcore.adapters.sqlalchemy.rows import from_row, plain, to_row
from coachcore.adapters.sqlalchemy.sealing import SealedColumns, Sealer, index_column
from coachcore.adapters.sqlalchemy.tables import Tables
from coachcore.errors import Conflict, NotFound
from coachcore.ports.storage import Described

E = TypeVar("E")
Statements = dict[Hashable, Any]
"""Statements built once per store, by (table, operation, names)."""
CHANGED_MEANWHILE = "This {what} changed meanwhile; read it again and retry"


class SqlRepository(Generic[E]):
    """A repository over one table, driven by its :class:`Described`.

    Subclasses add the queries a description cannot express.
    """

    def __init__(
        self,
        described: Described,
        tables: Tables,
        db: Db,
        sealer: Sealer,
        statements: Statements,
    ) -> None:
        self.described = described
        self.name = described.entity.__name__
        self._tables = tables
        self._t: sa.Table = getattr(tables, described.table)
        self._db = db
        self._sealer = sealer
        self._statements = statements
        self._sealed = SealedColumns.of(self._t, described.entity, described.table)
        self._sensitive = self._sealed.fields
        self._unique = {frozenset(names): names for names in described.unique}
        binary = statements.get((self._t.name, "binary"))
        if binary is None:
            binary = any(isinstance(c.type, sa.LargeBinary) for c in self._t.c)
            statements[(self._t.name, "binary")] = binary
        self._binary: bool = binary
        """Whether a column holds bytes (the driver may hand back a memoryview)."""

    # -- the plain operations ------------------------------------------------

    def add(self, item: E) -> None:
        self._db.insert(self._t, self._row(item))

    def update(self, item: E) -> None:
        row = self._row(item)
        key = row[self.described.key]
        read = self._db.versions.get((self._t.name, key))
        if read is None:
            stmt = self._stmt("update", lambda: self._update(guarded=False))
            params = {**row, "key_": key}
        else:
            stmt = self._stmt("update_guarded", lambda: self._update(guarded=True))
            params = {**row, "key_": key, "version_": read}
        if self._db.execute(stmt, params).rowcount == 0:
            if read is None:
                raise NotFound(f"{self.name} not found")
            raise Conflict(CHANGED_MEANWHILE.format(what=self._words()), details={"id": key})
        if read is not None:
            self._db.versions[(self._t.name, key)] = read + 1

    def delete(self, key: str) -> None:
        stmt = self._stmt("delete", lambda: sa.delete(self._t).where(self._key_is("key_")))
        self._db.execute(stmt, {"key_": key})
        self._db.versions.pop((self._t.name, key), None)

    def get(self, key: str) -> E | None:
        stmt = self._stmt("get", lambda: sa.select(self._t).where(self._key_is("key_")))
        return self._first(self._db.rows(stmt, {"key_": key}))

    def find(self, **unique: object) -> E | None:
        names = self._unique.get(frozenset(unique))
        if names is None:
            raise ValueError(f"{self.name}: {sorted(unique)} is not a unique key")
        stmt = self._stmt(("find", names), lambda: self._select(names))
        return self._first(self._db.rows(stmt, self._params(unique)))

    def list(self, **filters: object) -> Sequence[E]:
        unknown = set(filters) - set(self.described.filters)
        if unknown:
            raise ValueError(f"{self.name}: cannot filter on {sorted(unknown)}")
        given = {n: v for n, v in filters.items() if v is not None}
        names = tuple(sorted(given))
        stmt = self._stmt(("list", names), lambda: self._select(names, self.described.order))
        return self._load_all(self._db.rows(stmt, self._params(given)))

    # -- helpers for the queries of subclasses -------------------------------

    def _stmt(self, name: Hashable, build: Callable[[], Any]) -> Any:
        """The statement ``name`` of this table, built once per store."""
        slot = (self._t.name, name)
        stmt = self._statements.get(slot)
        if stmt is None:
            stmt = self._statements[slot] = build()
        return stmt

    def _select(
        self,
        equal: Sequence[str],
        order: Sequence[str] = (),
        where: Sequence[ColumnElement[bool]] = (),
    ) -> sa.Select[Any]:
        """SELECT rows whose ``equal`` columns equal the same-named parameters
        (a sealed field: its blind index is one of the parameter's values)."""
        c = self._t.c
        clauses = [
            c[index_column(name)].in_(sa.bindparam(name, expanding=True))
            if name in self._sealed.indexed
            else c[name] == sa.bindparam(name)
            for name in equal
        ]
        return sa.select(self._t).where(*clauses, *where).order_by(*self._order(*order))

    def _order(self, *names: str) -> builtins.list[ColumnElement[Any]]:
        """Sort keys compared like Python strings (byte-wise) on every backend."""
        columns: builtins.list[ColumnElement[Any]] = []
        for name in names:
            column = self._t.c[name]
            sortable = self._db.postgresql and isinstance(column.type, sa.String)
            columns.append(column.collate("C") if sortable else column)
        return columns

    def _load(self, row: Mapping[Any, Any]) -> E:
        """The entity of a row (opened, if sealed), remembering the version first
        read: a later read of a row changed meanwhile must not vouch for the
        decisions taken on the earlier one (an update then is a Conflict)."""
        if "version" in row:
            self._db.versions.setdefault((self._t.name, row[self.described.key]), row["version"])
        if self._sensitive:
            row = self._sealer.open(row, self._sealed)
        if self._binary:
            row = {k: bytes(v) if isinstance(v, memoryview) else v for k, v in row.items()}
        entity: E = from_row(row, self.described.entity)
        return entity

    def _load_all(self, rows: Sequence[Mapping[Any, Any]]) -> builtins.list[E]:
        return [self._load(row) for row in rows]

    def _first(self, rows: Sequence[Mapping[Any, Any]]) -> E | None:
        return self._load(rows[0]) if rows else None

    # -- internals -------------------------------------------------------------

    def _params(self, values: Mapping[str, object]) -> dict[str, Any]:
        """Parameters of an equality lookup; a sealed field's are its blind indexes."""
        return {
            name: self._sealer.lookup(name, value) if name in self._sealed.indexed else plain(value)
            for name, value in values.items()
        }

    def _row(self, item: E) -> dict[str, Any]:
        """The columns of ``item``, sensitive ones sealed when the store has a key."""
        row = to_row(item)
        return self._sealer.seal(row, self._sealed) if self._sensitive else row

    def _key_is(self, param: str) -> ColumnElement[bool]:
        return self._t.c[self.described.key] == sa.bindparam(param)

    def _update(self, *, guarded: bool) -> Any:
        c = self._t.c
        stmt = sa.update(self._t).where(self._key_is("key_")).values(version=c.version + 1)
        if guarded:
            stmt = stmt.where(c.version == sa.bindparam("version_"))
        return stmt

    def _words(self) -> str:
        """``CoachingRelationship`` as "coaching relationship"."""
        name = self.name
        return "".join(f" {ch.lower()}" if ch.isupper() else ch for ch in name).strip()
