"""The unit of work over one SQLAlchemy connection.

Over an Engine it owns a connection and its transaction; over a host's
Connection it works in a SAVEPOINT (``begin_nested``) and never ends the
host's transaction. ``commit()`` commits (or releases the savepoint); a later
statement starts a new transaction (or savepoint); leaving without commit
rolls back.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from contextlib import suppress
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RootTransaction
from sqlalchemy.engine.base import NestedTransaction

from coachcore.adapters.sqlalchemy import repos
from coachcore.adapters.sqlalchemy.db import Db, translate
from coachcore.adapters.sqlalchemy.sealing import Sealer
from coachcore.adapters.sqlalchemy.tables import Tables
from coachcore.errors import CoachCoreError

T = TypeVar("T")


def _build_lock() -> Any:
    """``pg_advisory_xact_lock`` keyed by the coach id's 64-bit text hash."""
    key = sa.func.hashtextextended(sa.bindparam("coach", type_=sa.Text), 0)
    return sa.select(sa.func.pg_advisory_xact_lock(key))


REPOSITORIES: dict[str, type[repos.Repository]] = {
    "users": repos.UserRepo,
    "members": repos.MemberRepo,
    "coaches": repos.CoachRepo,
    "windows": repos.WindowRepo,
    "bookings": repos.BookingRepo,
    "sessions": repos.SessionRepo,
    "ratings": repos.RatingRepo,
    "calendar_events": repos.CalendarEventRepo,
    "conversations": repos.ConversationRepo,
    "notifications": repos.NotificationRepo,
    "reminders": repos.ReminderRepo,
    "outbox": repos.OutboxRepo,
    "rules": repos.RulesRepo,
    "overrides": repos.OverrideRepo,
    "waitlist": repos.WaitlistRepo,
    "relationships": repos.RelationshipRepo,
    "invitations": repos.InvitationRepo,
    "interests": repos.InterestRepo,
    "session_settings": repos.SessionSettingsRepo,
    "organizations": repos.OrganizationRepo,
    "organization_memberships": repos.OrganizationMembershipRepo,
    "action_plans": repos.ActionPlanRepo,
    "action_items": repos.ActionItemRepo,
    "quick_notes": repos.QuickNoteRepo,
    "session_scores": repos.SessionScoreRepo,
    "audit": repos.AuditRepo,
    "documents": repos.DocumentRepo,
    "document_contents": repos.DocumentContentRepo,
}
"""The unit of work's repositories by attribute name."""


class SqlUnitOfWork:
    """The repositories plus ``lock_coach``, ``commit`` and ``rollback``; a
    repository is built when the unit of work first uses it."""

    users: repos.UserRepo
    members: repos.MemberRepo
    coaches: repos.CoachRepo
    windows: repos.WindowRepo
    bookings: repos.BookingRepo
    sessions: repos.SessionRepo
    ratings: repos.RatingRepo
    calendar_events: repos.CalendarEventRepo
    conversations: repos.ConversationRepo
    notifications: repos.NotificationRepo
    reminders: repos.ReminderRepo
    outbox: repos.OutboxRepo
    rules: repos.RulesRepo
    overrides: repos.OverrideRepo
    waitlist: repos.WaitlistRepo
    relationships: repos.RelationshipRepo
    invitations: repos.InvitationRepo
    interests: repos.InterestRepo
    session_settings: repos.SessionSettingsRepo
    organizations: repos.OrganizationRepo
    organization_memberships: repos.OrganizationMembershipRepo
    action_plans: repos.ActionPlanRepo
    action_items: repos.ActionItemRepo
    quick_notes: repos.QuickNoteRepo
    session_scores: repos.SessionScoreRepo
    audit: repos.AuditRepo
    documents: repos.DocumentRepo
    document_contents: repos.DocumentContentRepo

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
        self._tables = tables

    def __getattr__(self, name: str) -> Any:
        kind = REPOSITORIES.get(name)
        if kind is None:
            raise AttributeError(name)
        repo = kind(self._db, self._tables)
        setattr(self, name, repo)
        return repo

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
        SQLite: nothing to do, BEGIN IMMEDIATE already serializes writers.
        In a write use case (see :meth:`defer_inserts`) the lock goes in the
        round trip of the next statement, first."""
        self._db.remembered.clear()
        if self._db.postgresql:
            self._db.lock(self._db.cached("lock_coach", _build_lock), {"coach": coach_id})

    def read_ahead(self, *reads: Callable[[], object]) -> None:
        """Let PostgreSQL answer these repository look-ups in one round trip
        (with the waiting lock and inserts): each is run once to learn its
        query, and made again for real right after (see :meth:`Db.read_ahead`)."""
        self._db.read_ahead(reads)

    def defer_inserts(self) -> None:
        """From now on, rows added wait for the next statement or the commit and
        go in one call per table (PostgreSQL: one round trip for all). A
        duplicate key then raises Conflict there rather than from ``add``:
        for units of work that do not go on after a Conflict (the use cases
        of :meth:`Runtime.write <coachcore.services.runtime.transaction.Runtime.write>`)."""
        self._db.deferring = True

    def commit(self) -> None:
        """Insert the waiting rows and commit; a failure rolls back."""
        self._db.remembered.clear()
        tx = self._tx
        if tx is None or not tx.is_active:
            self._tx = None
            self._db.discard()
            return
        self._ending(tx, lambda: self._db.flush_then_commit(tx.commit, together=not self._nested))

    def commit_after(self, last: Callable[[], T]) -> T:
        """``last()`` (a statement whose answer is needed after the commit, such
        as the outbox claim), then :meth:`commit`; on PostgreSQL in the
        commit's round trip (see :meth:`Db.commit_after`)."""
        tx = self._tx
        if tx is None or not tx.is_active or self._nested:
            answer = last()
            self.commit()
            return answer
        self._db.remembered.clear()
        answers: list[T] = []
        self._ending(tx, lambda: answers.append(self._db.commit_after(last, tx.commit)))
        return answers[0]

    def _ending(self, tx: RootTransaction | NestedTransaction, commit: Callable[[], None]) -> None:
        """Run ``commit``; on failure roll back and raise our error."""
        try:
            commit()
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
