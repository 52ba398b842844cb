"""The repositories over SQLAlchemy Core, ordered exactly like the memory store.

String sort keys are compared byte-wise on every backend (``COLLATE "C"`` on
PostgreSQL, SQLite's default BINARY), as Python compares ``str``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Generic, TypeVar

import attrs
import sqlalchemy as sa
from sqlalchemy.sql import ColumnElement

from coachcore.adapters.sqlalchemy.db import Db, insert_ignoring_duplicates
from coachcore.adapters.sqlalchemy.rows import direct_key, from_row, from_rows, to_row
from coachcore.adapters.sqlalchemy.tables import Tables
from coachcore.domain.entities import (
    AvailabilityWindow,
    Booking,
    CalendarEvent,
    CoachProfile,
    Conversation,
    MemberProfile,
    Notification,
    OutboxMessage,
    Rating,
    Reminder,
    Session,
    User,
)
from coachcore.domain.enums import (
    BookingStatus,
    MembershipStatus,
    OutboxStatus,
    ReminderStatus,
    SessionStatus,
)

E = TypeVar("E")


class _Repo(Generic[E]):
    """add / update / get for one table; ``key`` is the column ``get`` looks up."""

    entity: type[E]
    what: str
    table: str
    key = "id"

    def __init__(self, db: Db, tables: Tables) -> None:
        table: sa.Table = getattr(tables, self.table)
        self._db, self._t, self._key = db, table, table.c[self.key]
        self._insert = insert_ignoring_duplicates(table, db.dialect)
        self._update = sa.update(table).where(self._key == sa.bindparam("key_"))

    def add(self, entity: E) -> None:
        self._db.insert(self._insert, to_row(entity), self.what)

    def update(self, entity: E) -> None:
        row = to_row(entity)
        self._db.update(self._update, {**row, "key_": row[self._key.name]}, self.what)

    def get(self, key: str) -> E | None:
        return self._one(self._key == key)

    def _sorted(self, column: sa.Column[Any]) -> ColumnElement[Any]:
        """A sort key compared like Python strings (byte-wise) on every backend."""
        if self._db.postgresql and isinstance(column.type, sa.String):
            return column.collate("C")
        return column

    def _order(self, *columns: str) -> list[ColumnElement[Any]]:
        return [self._sorted(self._t.c[name]) for name in columns]

    def _one(self, *where: ColumnElement[bool]) -> E | None:
        row = self._db.first(sa.select(self._t).where(*where))
        return None if row is None else from_row(row, self.entity)

    def _many(
        self, *where: ColumnElement[bool], order: Sequence[str], limit: int | None = None
    ) -> list[E]:
        stmt = sa.select(self._t).where(*where).order_by(*self._order(*order))
        if limit is not None:
            stmt = stmt.limit(limit)
        return from_rows(self._db.rows(stmt), self.entity)


class UserRepo(_Repo[User]):
    entity, what, table = User, "user", "users"

    def get_by_email(self, email: str) -> User | None:
        return self._one(self._t.c.email == email)

    def list(self, *, role: str | None = None) -> Sequence[User]:
        where = [] if role is None else [self._t.c.role == role]
        return self._many(*where, order=("created_at", "id"))


class MemberRepo(_Repo[MemberProfile]):
    entity, what, table, key = MemberProfile, "member profile", "member_profiles", "user_id"

    def list(self, *, coach_id: str | None = None) -> Sequence[MemberProfile]:
        where = [] if coach_id is None else [self._t.c.coach_id == coach_id]
        return self._many(*where, order=("joined_at", "id"))

    def count_for_coach(self, coach_id: str, *, active_only: bool) -> int:
        c = self._t.c
        stmt = sa.select(sa.func.count()).select_from(self._t).where(c.coach_id == coach_id)
        if active_only:
            stmt = stmt.where(c.membership_status == MembershipStatus.ACTIVE.value)
        return int(self._db.scalar(stmt))


class CoachRepo(_Repo[CoachProfile]):
    entity, what, table, key = CoachProfile, "coach profile", "coach_profiles", "user_id"

    def list(self) -> Sequence[CoachProfile]:
        return self._many(order=("created_at", "id"))


class WindowRepo(_Repo[AvailabilityWindow]):
    entity, what, table = AvailabilityWindow, "availability window", "availability_windows"

    def delete(self, window_id: str) -> None:
        self._db.execute(sa.delete(self._t).where(self._t.c.id == window_id))

    def for_coach(self, coach_id: str) -> Sequence[AvailabilityWindow]:
        return self._many(self._t.c.coach_id == coach_id, order=("day_of_week", "start_time", "id"))


class BookingRepo(_Repo[Booking]):
    entity, what, table = Booking, "booking", "bookings"

    def get_by_session(self, session_id: str) -> Booking | None:
        return self._one(self._t.c.session_id == session_id)

    def get_by_idempotency_key(self, member_id: str, key: str) -> Booking | None:
        c = self._t.c
        return self._one(c.member_id == member_id, c.idempotency_key == key)

    def list(
        self, *, member_id: str | None = None, coach_id: str | None = None
    ) -> Sequence[Booking]:
        c, where = self._t.c, []
        if member_id is not None:
            where.append(c.member_id == member_id)
        if coach_id is not None:
            where.append(c.coach_id == coach_id)
        return self._many(*where, order=("start", "id"))

    def confirmed_for_window(self, window_id: str, after: datetime) -> Sequence[Booking]:
        c = self._t.c
        return self._many(
            c.window_id == window_id,
            c.status == BookingStatus.CONFIRMED.value,
            c.start > after,
            order=("start", "id"),
        )


class SessionRepo(_Repo[Session]):
    entity, what, table = Session, "session", "sessions"

    def __init__(self, db: Db, tables: Tables) -> None:
        super().__init__(db, tables)
        self._members = tables.member_profiles

    def list(
        self,
        *,
        member_id: str | None = None,
        coach_id: str | None = None,
        coach_of_member: str | None = None,
    ) -> Sequence[Session]:
        c, where = self._t.c, []
        if member_id is not None:
            where.append(c.member_id == member_id)
        if coach_id is not None:
            where.append(c.coach_id == coach_id)
        if coach_of_member is not None:
            m = self._members.c
            coached = sa.select(m.user_id).where(m.coach_id == coach_of_member)
            where.append(c.member_id.in_(coached))
        return self._many(*where, order=("scheduled_at", "id"))

    def occupying(self, coach_id: str, start: datetime, end: datetime) -> Sequence[Session]:
        c = self._t.c
        return self._many(
            c.coach_id == coach_id,
            c.scheduled_at >= start,
            c.scheduled_at < end,
            c.status != SessionStatus.CANCELLED.value,
            order=("scheduled_at", "id"),
        )


class RatingRepo(_Repo[Rating]):
    entity, what, table = Rating, "rating", "ratings"

    def get_for_session(self, session_id: str) -> Rating | None:
        return self._one(self._t.c.session_id == session_id)

    def for_coach(self, coach_id: str) -> Sequence[Rating]:
        return self._many(self._t.c.coach_id == coach_id, order=("created_at", "id"))


class CalendarEventRepo(_Repo[CalendarEvent]):
    entity, what, table = CalendarEvent, "calendar event", "calendar_events"


class ConversationRepo(_Repo[Conversation]):
    entity, what, table = Conversation, "conversation", "conversations"

    def find_direct(self, user_a: str, user_b: str) -> Conversation | None:
        return self._one(self._t.c.direct_key == direct_key((user_a, user_b)))

    def for_user(self, user_id: str) -> Sequence[Conversation]:
        """A LIKE on the JSON text narrows the rows; membership is then checked exactly."""
        needle = json.dumps(user_id).replace("\\", "\\\\").replace("%", "\\%")
        needle = needle.replace("_", "\\_")
        text = sa.cast(self._t.c.participant_ids, sa.Text)
        rows = self._many(text.like(f"%{needle}%", escape="\\"), order=("created_at", "id"))
        return [c for c in rows if user_id in c.participant_ids]


class NotificationRepo(_Repo[Notification]):
    entity, what, table = Notification, "notification", "notifications"

    def for_recipient(self, user_id: str) -> Sequence[Notification]:
        return self._many(self._t.c.recipient_id == user_id, order=("created_at", "id"))


class ReminderRepo(_Repo[Reminder]):
    entity, what, table = Reminder, "reminder", "reminders"

    def for_session(self, session_id: str) -> Sequence[Reminder]:
        return self._many(self._t.c.session_id == session_id, order=("due_at", "id"))

    def due(self, now: datetime, limit: int) -> Sequence[Reminder]:
        c = self._t.c
        return self._many(
            c.status == ReminderStatus.PENDING.value,
            c.due_at <= now,
            order=("due_at", "id"),
            limit=limit,
        )

    def claim(self, reminder: Reminder, sent_at: datetime) -> bool:
        """A guarded UPDATE: only the first claimer changes the row."""
        c = self._t.c
        stmt = (
            sa.update(self._t)
            .where(c.id == reminder.id, c.status == ReminderStatus.PENDING.value)
            .values(status=ReminderStatus.SENT.value, sent_at=sent_at)
        )
        return self._db.execute(stmt).rowcount == 1


class OutboxRepo(_Repo[OutboxMessage]):
    entity, what, table = OutboxMessage, "outbox message", "outbox"

    def claim_due(
        self, now: datetime, lease_until: datetime, limit: int
    ) -> Sequence[OutboxMessage]:
        """Due, unleased messages, leased to the caller; PostgreSQL skips rows
        another claimer holds (``FOR UPDATE SKIP LOCKED``), SQLite's write
        transactions are serial anyway."""
        c = self._t.c
        stmt = (
            sa.select(self._t)
            .where(
                c.status == OutboxStatus.PENDING.value,
                c.next_attempt_at <= now,
                sa.or_(c.claimed_until.is_(None), c.claimed_until <= now),
            )
            .order_by(*self._order("created_at", "id"))
            .limit(limit)
        )
        if self._db.postgresql:
            stmt = stmt.with_for_update(skip_locked=True)
        due = from_rows(self._db.rows(stmt), OutboxMessage)
        if due:
            lease = sa.update(self._t).where(c.id.in_([m.id for m in due]))
            self._db.execute(lease.values(claimed_until=lease_until))
        return [_leased(m, lease_until) for m in due]

    def pending(self) -> Sequence[OutboxMessage]:
        return self._many(
            self._t.c.status == OutboxStatus.PENDING.value, order=("created_at", "id")
        )

    def failed(self) -> Sequence[OutboxMessage]:
        return self._many(self._t.c.status == OutboxStatus.FAILED.value, order=("created_at", "id"))


def _leased(message: OutboxMessage, until: datetime) -> OutboxMessage:
    return attrs.evolve(message, claimed_until=until)
