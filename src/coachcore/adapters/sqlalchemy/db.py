"""Statement execution for the repositories, with errors translated at the boundary.

No SQLAlchemy or DBAPI exception leaves this module: a unique or reference
violation becomes :class:`~coachcore.errors.Conflict`; a busy database,
serialization failure (SQLSTATE 40001) or deadlock (40P01) becomes a
:class:`~coachcore.errors.StoreError` with ``details["retryable"] = True``;
anything else a non-retryable ``StoreError``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Hashable, Sequence
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, RowMapping
from sqlalchemy.sql import Executable

from coachcore.errors import CoachCoreError, Conflict, NotFound, StoreError

if TYPE_CHECKING:
    from coachcore.adapters.sqlalchemy.sealing import Sealer

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
    """The repositories' view of the unit of work's connection."""

    def __init__(
        self,
        conn: Connection,
        ensure_transaction: Callable[[], None],
        statements: dict[Hashable, Any],
        sealer: Sealer,
    ) -> None:
        self.conn = conn
        self.sealer = sealer
        self.dialect = conn.dialect.name
        self.postgresql = self.dialect == "postgresql"
        self._ensure = ensure_transaction
        self._statements = statements

    def cached(self, key: Hashable, build: Callable[[], Any]) -> Any:
        """The statement built once per store under ``key``."""
        stmt = self._statements.get(key)
        if stmt is None:
            stmt = self._statements[key] = build()
        return stmt

    def execute(self, stmt: Executable, params: Any = None) -> sa.CursorResult[Any]:
        self._ensure()
        try:
            return self.conn.execute(stmt, params)
        except sa.exc.SQLAlchemyError as exc:
            raise translate(exc) from exc

    def rows(self, stmt: Executable, params: Any = None) -> Sequence[RowMapping]:
        result = self.execute(stmt, params)
        try:
            return result.mappings().all()
        except sa.exc.SQLAlchemyError as exc:
            raise translate(exc) from exc

    def first(self, stmt: Executable, params: Any = None) -> RowMapping | None:
        rows = self.rows(stmt, params)
        return rows[0] if rows else None

    def scalar(self, stmt: Executable, params: Any = None) -> Any:
        self._ensure()
        try:
            return self.conn.scalar(stmt, params)
        except sa.exc.SQLAlchemyError as exc:
            raise translate(exc) from exc

    def insert(self, stmt: Executable, row: dict[str, Any], what: str) -> None:
        """Insert one row; a duplicate key raises Conflict."""
        if self.execute(stmt, row).rowcount != 1:
            raise Conflict(f"{what} {row.get('id', '')} already exists or collides".strip())

    def update(self, stmt: Executable, row: dict[str, Any], what: str) -> None:
        """Update one row by key; a missing row raises NotFound."""
        if self.execute(stmt, row).rowcount == 0:
            raise NotFound(f"{what} not found")
