"""The unit of work over one SQLAlchemy connection.

Over an Engine it owns a connection and its transaction; over a host's
Connection it works in a SAVEPOINT (``begin_nested``) and never ends the
host's transaction. ``commit()`` commits (or releases the savepoint); a later
statement starts a new transaction (or savepoint); leaving without commit
rolls back.
"""

from __future__ import annotations

from collections.abc import Hashable
from contextlib import suppress
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RootTransaction
from sqlalchemy.engine.base import NestedTransaction

from coachcore.adapters.sqlalchemy import repos
from coachcore.adapters.sqlalchemy.db import Db, translate
from coachcore.adapters.sqlalchemy.sealing import Sealer
from coachcore.adapters.sqlalchemy.tables import Tables
from coachcore.errors import CoachCoreError


def _build_lock() -> Any:
    """``pg_advisory_xact_lock`` keyed by the coach id's 64-bit text hash."""
    key = sa.func.hashtextextended(sa.bindparam("coach", type_=sa.Text), 0)
    return sa.select(sa.func.pg_advisory_xact_lock(key))


class SqlUnitOfWork:
    """The 15 repositories plus ``lock_coach``, ``commit`` and ``rollback``."""

    def __init__(
        self,
        conn: Connection,
        tables: Tables,
        *,
        nested: bool,
        statements: dict[Hashable, Any],
        sealer: Sealer,
    ) -> None:
        self._conn = conn
        self._nested = nested
        self._tx: RootTransaction | NestedTransaction | None = None
        db = Db(conn, self._ensure_transaction, statements, sealer)
        self._db = db
        self.users = repos.UserRepo(db, tables)
        self.members = repos.MemberRepo(db, tables)
        self.coaches = repos.CoachRepo(db, tables)
        self.windows = repos.WindowRepo(db, tables)
        self.bookings = repos.BookingRepo(db, tables)
        self.sessions = repos.SessionRepo(db, tables)
        self.ratings = repos.RatingRepo(db, tables)
        self.calendar_events = repos.CalendarEventRepo(db, tables)
        self.conversations = repos.ConversationRepo(db, tables)
        self.notifications = repos.NotificationRepo(db, tables)
        self.reminders = repos.ReminderRepo(db, tables)
        self.outbox = repos.OutboxRepo(db, tables)
        self.rules = repos.RulesRepo(db, tables)
        self.overrides = repos.OverrideRepo(db, tables)
        self.waitlist = repos.WaitlistRepo(db, tables)
        self.relationships = repos.RelationshipRepo(db, tables)
        self.invitations = repos.InvitationRepo(db, tables)
        self.interests = repos.InterestRepo(db, tables)
        self.session_settings = repos.SessionSettingsRepo(db, tables)
        self.organizations = repos.OrganizationRepo(db, tables)
        self.organization_memberships = repos.OrganizationMembershipRepo(db, tables)
        self.action_plans = repos.ActionPlanRepo(db, tables)
        self.action_items = repos.ActionItemRepo(db, tables)
        self.quick_notes = repos.QuickNoteRepo(db, tables)
        self.session_scores = repos.SessionScoreRepo(db, tables)
        self.audit = repos.AuditRepo(db, tables)
        self.documents = repos.DocumentRepo(db, tables)
        self.document_contents = repos.DocumentContentRepo(db, tables)

    @property
    def db(self) -> Db:
        """The statement runner (for store maintenance such as key rotation)."""
        return self._db

    def begin(self) -> None:
        """Start the transaction now (on SQLite: take the write lock now)."""
        self._ensure_transaction()

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
        self._db.remembered.clear()
        if self._db.postgresql:
            self._db.select_rows(self._db.cached("lock_coach", _build_lock), {"coach": coach_id})

    def defer_inserts(self) -> None:
        """From now on, rows added wait for the next statement or the commit and
        go in one call per table (PostgreSQL: one round trip for all). A
        duplicate key then raises Conflict there rather than from ``add``:
        for units of work that do not go on after a Conflict (the use cases
        of :meth:`Runtime.write <coachcore.services.context.Runtime.write>`)."""
        self._db.deferring = True

    def commit(self) -> None:
        """Insert the waiting rows and commit; a failure rolls back."""
        self._db.remembered.clear()
        tx = self._tx
        if tx is None or not tx.is_active:
            self._tx = None
            self._db.discard()
            return
        try:
            self._db.flush_then_commit(tx.commit, together=not self._nested)
        except sa.exc.SQLAlchemyError as exc:
            self._tx = None
            self._quiet_rollback(tx)
            raise translate(exc) from exc
        except CoachCoreError:
            self._tx = None
            self._quiet_rollback(tx)
            raise
        self._tx = None

    def rollback(self) -> None:
        self._db.remembered.clear()
        self._db.discard()
        tx, self._tx = self._tx, None
        if tx is not None and tx.is_active:
            try:
                tx.rollback()
            except sa.exc.SQLAlchemyError as exc:
                raise translate(exc) from exc

    def end(self) -> None:
        """Roll back whatever was not committed (called when the block exits)."""
        self._db.discard()
        tx, self._tx = self._tx, None
        if tx is not None:
            self._quiet_rollback(tx)

    @staticmethod
    def _quiet_rollback(tx: RootTransaction | NestedTransaction) -> None:
        if tx.is_active:
            with suppress(sa.exc.SQLAlchemyError):
                tx.rollback()
