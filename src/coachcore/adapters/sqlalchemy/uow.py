"""The unit of work over one SQLAlchemy connection.

Over an Engine it owns a connection and its transaction; over a host's
Connection it works in a SAVEPOINT (``begin_nested``) and never ends the
host's transaction. ``commit()`` commits (or releases the savepoint); a later
statement starts a new transaction (or savepoint); leaving without commit
rolls back.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import suppress
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RootTransaction
from sqlalchemy.engine.base import NestedTransaction

from coachcore.adapters.sqlalchemy.db import Db, translate
from coachcore.adapters.sqlalchemy.queries import QUERIES
from coachcore.adapters.sqlalchemy.repository import SqlRepository, Statements
from coachcore.adapters.sqlalchemy.sealing import Sealer
from coachcore.adapters.sqlalchemy.tables import Tables
from coachcore.errors import CoachCoreError
from coachcore.ports.storage import repositories


def _build_lock() -> Any:
    """``pg_advisory_xact_lock`` keyed by the coach id's 64-bit text hash."""
    key = sa.func.hashtextextended(sa.bindparam("coach", type_=sa.Text), 0)
    return sa.select(sa.func.pg_advisory_xact_lock(key))


class SqlUnitOfWork:
    """The repositories plus ``lock_coach``, ``flush``, ``commit`` and ``rollback``."""

    def __init__(
        self,
        conn: Connection,
        tables: Tables,
        *,
        nested: bool,
        statements: Statements,
        sealer: Sealer,
    ) -> None:
        self._conn = conn
        self._nested = nested
        self._tx: RootTransaction | NestedTransaction | None = None
        self._statements = statements
        self._tables = tables
        self._sealer = sealer
        self.db = Db(conn, self._ensure_transaction, statements)
        """The statement runner (also for store maintenance such as key rotation)."""

    def __getattr__(self, name: str) -> Any:
        """A repository, built from its description when the unit of work first uses it."""
        found = repositories().get(name)
        if found is None:
            raise AttributeError(name)
        kind = QUERIES.get(name, SqlRepository)
        repo = kind(found[0], self._tables, self.db, self._sealer, self._statements)
        setattr(self, name, repo)
        return repo

    def begin(self) -> None:
        """Start the transaction now (on SQLite: take the write lock now)."""
        self._ensure_transaction()

    def hold_inserts(self) -> None:
        """From now on, rows added wait for the next statement or the commit
        and go in one call per table; a duplicate key then raises Conflict
        there (or at :meth:`flush`) rather than from ``add``."""
        self.db.holding = True

    def _ensure_transaction(self) -> None:
        if self._tx is not None and self._tx.is_active:
            return
        try:
            self._tx = self._conn.begin_nested() if self._nested else self._conn.begin()
        except sa.exc.SQLAlchemyError as exc:
            raise translate(exc) from exc

    def lock_coach(self, coach_id: str) -> None:
        """PostgreSQL: a transaction-scoped advisory lock keyed by the coach.
        SQLite: nothing to do, BEGIN IMMEDIATE already serializes writers."""
        if self.db.postgresql:
            stmt = self._statements.get("lock_coach")
            if stmt is None:
                stmt = self._statements["lock_coach"] = _build_lock()
            self.db.execute(stmt, {"coach": coach_id})

    def flush(self) -> None:
        self.db.flush()

    def commit(self) -> None:
        """Insert the held rows and commit; a failure rolls back."""
        tx = self._tx
        if tx is None or not tx.is_active:
            self._tx = None
            self.db.discard()
            return
        self._ending(tx, lambda: self._flush_then(tx.commit))

    def _flush_then(self, commit: Callable[[], None]) -> None:
        self.db.flush()
        commit()

    def _ending(self, tx: RootTransaction | NestedTransaction, commit: Callable[[], Any]) -> None:
        """Run ``commit``; on failure roll back and raise our error."""
        try:
            commit()
        except sa.exc.SQLAlchemyError as exc:
            self._quiet_rollback(tx)
            raise translate(exc) from exc
        except CoachCoreError:
            self._quiet_rollback(tx)
            raise
        finally:
            self._tx = None
            self.db.discard()

    def rollback(self) -> None:
        self.db.discard()
        tx, self._tx = self._tx, None
        if tx is not None and tx.is_active:
            try:
                tx.rollback()
            except sa.exc.SQLAlchemyError as exc:
                raise translate(exc) from exc

    def end(self) -> None:
        """Roll back whatever was not committed (called when the block exits)."""
        self.db.discard()
        tx, self._tx = self._tx, None
        if tx is not None:
            self._quiet_rollback(tx)

    @staticmethod
    def _quiet_rollback(tx: RootTransaction | NestedTransaction) -> None:
        if tx.is_active:
            with suppress(sa.exc.SQLAlchemyError):
                tx.rollback()
