"""Statement execution for the repositories, with errors translated at the boundary.

Every statement runs through the unit of work's SQLAlchemy ``Connection``, so
what runs with ``echo=True`` or SQL logging on is what runs without it.

No SQLAlchemy or DBAPI exception leaves this module: a unique or reference
violation becomes :class:`~coachcore.errors.Conflict`; a busy database,
serialization failure (SQLSTATE 40001) or deadlock (40P01) becomes a
:class:`~coachcore.errors.StoreError` with ``details["retryable"] = True``;
anything else a non-retryable ``StoreError``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Hashable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, CursorResult, RowMapping
from sqlalchemy.sql import Executable

from coachcore.errors import CoachCoreError, Conflict, StoreError

RETRYABLE_SQLSTATES = frozenset({"40001", "40P01", "55P03"})
BUSY_SQLITE = frozenset({"SQLITE_BUSY", "SQLITE_LOCKED", "SQLITE_BUSY_SNAPSHOT"})
log = logging.getLogger("coachcore.store")


def is_retryable(exc: BaseException) -> bool:
    """A busy SQLite database, a serialization failure or a deadlock."""
    orig = getattr(exc, "orig", exc)
    if getattr(orig, "sqlstate", None) in RETRYABLE_SQLSTATES:
        return True
    if getattr(orig, "sqlite_errorname", None) in BUSY_SQLITE:
        return True
    text = str(orig).lower()
    return "database is locked" in text or "database table is locked" in text


def translate(exc: sa.exc.SQLAlchemyError) -> CoachCoreError:
    """Our error for a SQLAlchemy/DBAPI error (raise it ``from exc``).

    The database's own message is logged (logger ``coachcore.store``), not put
    in the error, which hosts may show to their users.
    """
    if isinstance(exc, sa.exc.IntegrityError):
        diag = getattr(exc.orig, "diag", None)
        constraint = getattr(diag, "constraint_name", None)
        return Conflict(
            "The change collides with stored data (a unique key or a reference)",
            details={"constraint": constraint},
        )
    reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0][:300]
    log.warning("store error %s: %s", type(exc).__name__, reason)
    if is_retryable(exc):
        return StoreError("The database is busy; try again", details={"retryable": True})
    if isinstance(exc, sa.exc.OperationalError):
        return StoreError(
            "The database is unavailable (connection or file problem)",
            details={"retryable": False},
        )
    return StoreError(f"The store failed ({type(exc).__name__})", details={"retryable": False})


def insert_ignoring_duplicates(table: sa.Table, dialect: str) -> Executable:
    """``INSERT ... ON CONFLICT DO NOTHING``: a duplicate inserts no row and,
    unlike an IntegrityError, leaves a PostgreSQL transaction usable."""
    if dialect == "postgresql":
        stmt: Any = postgresql.insert(table).on_conflict_do_nothing()
    elif dialect == "sqlite":
        stmt = sqlite.insert(table).on_conflict_do_nothing()
    else:
        stmt = sa.insert(table)
    return stmt.execution_options(preserve_rowcount=True)  # type: ignore[no-any-return]


class Db:
    """The repositories' view of the unit of work's connection.

    ``begin`` starts the unit of work's transaction if none is running. While
    ``holding`` is on, inserted rows wait for the next statement or the commit
    and go in one ``executemany`` per table (SQLAlchemy sends those as
    multi-row INSERTs); a duplicate key then raises Conflict there.
    """

    def __init__(
        self,
        conn: Connection,
        begin: Callable[[], None],
        statements: dict[Hashable, Any] | None = None,
    ) -> None:
        self.conn = conn
        self._statements = {} if statements is None else statements
        self._begin = begin
        self.dialect = conn.dialect.name
        self.postgresql = self.dialect == "postgresql"
        self.holding = False
        self._held: dict[sa.Table, list[dict[str, Any]]] = {}
        self.versions: dict[tuple[str, Any], int] = {}
        """The version of each row this unit of work read, by (table, key)."""

    def execute(self, stmt: Executable, params: Any = None) -> CursorResult[Any]:
        """Run one statement (after the held inserts) in the transaction."""
        if self._held:
            self.flush()
        return self._run(stmt, params)

    def rows(self, stmt: Executable, params: Any = None) -> Sequence[RowMapping]:
        return self.execute(stmt, params).mappings().all()

    def scalar(self, stmt: Executable, params: Any = None) -> Any:
        return self.execute(stmt, params).scalar()

    def insert(self, table: sa.Table, row: dict[str, Any]) -> None:
        """Insert one row, now or (while ``holding``) with the next statement.

        Now, a duplicate key raises Conflict and leaves the transaction usable
        (``ON CONFLICT DO NOTHING``, then the row count)."""
        if self.holding:
            self._begin()
            self._held.setdefault(table, []).append(row)
        elif self.execute(self._insert(table, ignoring=True), row).rowcount != 1:
            raise Conflict("The change collides with stored data (a unique key)")

    def flush(self) -> None:
        """Insert the held rows, one ``executemany`` per table and column set
        (on PostgreSQL in one pipeline: one wait for the server, not one each)."""
        held, self._held = self._held, {}
        if not held:
            return
        with self._pipeline():
            for table, rows in held.items():
                by_columns: dict[tuple[str, ...], list[dict[str, Any]]] = {}
                for row in rows:
                    by_columns.setdefault(tuple(row), []).append(row)
                for group in by_columns.values():
                    self._run(self._insert(table, ignoring=False), group)

    @contextmanager
    def _pipeline(self) -> Iterator[None]:
        """psycopg's pipeline mode on PostgreSQL (statements sent without waiting
        for each result; an error surfaces by the end), nothing elsewhere or
        where the client library cannot pipeline (libpq before 14)."""
        dbapi = self.conn.dialect.loaded_dbapi
        pipeline = getattr(dbapi, "Pipeline", None)
        if not self.postgresql or pipeline is None or not pipeline.is_supported():
            yield
            return
        self._begin()
        driver = self.conn.connection.driver_connection
        try:
            with driver.pipeline():  # type: ignore[union-attr]
                yield
        except dbapi.Error as exc:
            raise translate(sa.exc.DBAPIError.instance(None, None, exc, dbapi.Error)) from exc

    def discard(self) -> None:
        """Forget the held rows and the versions read (the transaction ended)."""
        self._held.clear()
        self.versions.clear()

    def _insert(self, table: sa.Table, *, ignoring: bool) -> Executable:
        """The table's INSERT (``ignoring``: duplicates), built once per store."""
        slot = (table.name, "insert", ignoring)
        stmt = self._statements.get(slot)
        if stmt is None:
            plain = sa.insert(table)
            built = insert_ignoring_duplicates(table, self.dialect) if ignoring else plain
            stmt = self._statements[slot] = built
        return stmt

    def _run(self, stmt: Executable, params: Any) -> CursorResult[Any]:
        self._begin()
        try:
            return self.conn.execute(stmt, params)
        except sa.exc.SQLAlchemyError as exc:
            raise translate(exc) from exc
