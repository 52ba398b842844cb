"""The repositories over SQLAlchemy Core, ordered exactly like the memory store.

String sort keys are compared byte-wise on every backend (``COLLATE "C"`` on
PostgreSQL, SQLite's default BINARY), as Python compares ``str``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Sequence
from datetime import date, datetime
from typing import Any, Generic, TypeVar

import attrs
import sqlalchemy as sa
from sqlalchemy.sql import ColumnElement

from coachcore.adapters.sqlalchemy.db import Db
from coachcore.adapters.sqlalchemy.rows import direct_key, from_row, from_rows, to_row
from coachcore.adapters.sqlalchemy.tables import Tables
from coachcore.domain.audit import AuditEntry
from coachcore.domain.documents import Document, DocumentContent
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
from coachcore.domain.hub import ActionItem, ActionItemStatus, ActionPlan, QuickNote, SessionScore
from coachcore.domain.organizations import Organization, OrganizationMembership
from coachcore.domain.privacy import SENSITIVE_FIELDS, mentions
from coachcore.domain.relations import (
    CoachingInterest,
    CoachingRelationship,
    Invitation,
    MemberSessionSettings,
)
from coachcore.domain.rules import (
    OPEN_WAITLIST,
    DateOverride,
    SchedulingRules,
    WaitlistEntry,
    WaitlistStatus,
)

E = TypeVar("E")
Where = Callable[[Any], list[ColumnElement[bool]]]
"""Builds the WHERE clauses from a table's columns (``table.c``)."""


class _Repo(Generic[E]):
    """add / update / get for one table; ``key`` is the column ``get`` looks up.

    Statements use bind parameters and are built once per store (``Db.cached``),
    so a unit of work only binds values and executes.
    """

    entity: type[E]
    what: str
    table: str
    key = "id"
    remembered = False
    """Whether ``get`` answers repeated look-ups of a key from the unit of
    work's read cache (see :attr:`Db.remembered`)."""

    def __init__(self, db: Db, tables: Tables) -> None:
        self._db = db
        self._t: sa.Table = getattr(tables, self.table)
        self._sensitive = SENSITIVE_FIELDS.get(self.entity, ())

    def _row(self, entity: E) -> dict[str, Any]:
        """The columns of ``entity``, sensitive ones encrypted when the store has a key."""
        row = to_row(entity)
        return self._db.sealer.seal(row, self._sensitive) if self._sensitive else row

    def _load(self, row: Any) -> E:
        if self._sensitive:
            row = self._db.sealer.open(row, self._sensitive)
        return from_row(row, self.entity)

    def add(self, entity: E) -> None:
        row = self._row(entity)
        self._forget(row[self.key])
        self._db.insert_rows(self._t, [row], self.what)

    def update(self, entity: E) -> None:
        row = self._row(entity)
        self._forget(row[self.key])
        key = self._t.c[self.key]
        stmt = self._stmt("update", lambda: sa.update(self._t).where(key == sa.bindparam("key_")))
        self._db.update(stmt, {**row, "key_": row[self.key]}, self.what)

    def get(self, key: str) -> E | None:
        if not self.remembered:
            return self._get(key)
        cache = self._db.remembered
        slot = (self.table, key)
        if slot not in cache:
            if self._db.recording is not None:  # a read ahead: its answer is not real
                return self._get(key)
            cache[slot] = self._get(key)
        found: E | None = cache[slot]
        return found

    def _get(self, key: str) -> E | None:
        return self._one("get", lambda c: [c[self.key] == sa.bindparam("v")], v=key)

    def _forget(self, key: Any) -> None:
        if self.remembered:
            self._db.remembered.pop((self.table, key), None)

    def _stmt(self, name: str, build: Callable[[], Any]) -> Any:
        return self._db.cached((self.table, name), build)

    def _sorted(self, column: sa.Column[Any]) -> ColumnElement[Any]:
        """A sort key compared like Python strings (byte-wise) on every backend."""
        if self._db.postgresql and isinstance(column.type, sa.String):
            return column.collate("C")
        return column

    def _order(self, *columns: str) -> list[ColumnElement[Any]]:
        return [self._sorted(self._t.c[name]) for name in columns]

    def _select(self, where: Where, order: Sequence[str] = (), limit: bool = False) -> Any:
        stmt = sa.select(self._t).where(*where(self._t.c)).order_by(*self._order(*order))
        return stmt.limit(sa.bindparam("limit_")) if limit else stmt

    def _one(self, name: str, where: Where, **params: Any) -> E | None:
        rows = self._db.select_rows(self._stmt(name, lambda: self._select(where)), params)
        return self._load(rows[0]) if rows else None

    def _many(self, name: str, where: Where, order: Sequence[str], **params: Any) -> list[E]:
        limit = "limit_" in params
        stmt = self._stmt(name, lambda: self._select(where, order, limit))
        return [self._load(row) for row in self._db.select_rows(stmt, params)]


Repository = _Repo[Any]
"""Any of the repositories below."""


def _p(name: str) -> Any:
    return sa.bindparam(name)


IN_BATCH = 500
"""Values per ``IN (...)`` list: well inside every backend's parameter limit."""
PENDING_MESSAGE = OutboxStatus.PENDING.value
FAILED_MESSAGE = OutboxStatus.FAILED.value


class UserRepo(_Repo[User]):
    entity, what, table = User, "user", "users"
    remembered = True

    def get_by_email(self, email: str) -> User | None:
        return self._one("by_email", lambda c: [c.email == _p("email")], email=email)

    def list(self, *, role: str | None = None) -> Sequence[User]:
        order = ("created_at", "id")
        if role is None:
            return self._many("all", lambda c: [], order)
        return self._many("by_role", lambda c: [c.role == _p("role")], order, role=role)


class MemberRepo(_Repo[MemberProfile]):
    entity, what, table, key = MemberProfile, "member profile", "member_profiles", "user_id"
    remembered = True

    def list(self, *, coach_id: str | None = None) -> Sequence[MemberProfile]:
        order = ("joined_at", "id")
        if coach_id is None:
            return self._many("all", lambda c: [], order)
        return self._many("by_coach", lambda c: [c.coach_id == _p("coach")], order, coach=coach_id)

    def count_for_coach(self, coach_id: str, *, active_only: bool) -> int:
        def build() -> Any:
            c = self._t.c
            stmt = sa.select(sa.func.count()).select_from(self._t).where(c.coach_id == _p("coach"))
            if active_only:
                stmt = stmt.where(c.membership_status == MembershipStatus.ACTIVE.value)
            return stmt

        stmt = self._stmt(f"count:{active_only}", build)
        return int(self._db.scalar(stmt, {"coach": coach_id}))


class CoachRepo(_Repo[CoachProfile]):
    entity, what, table, key = CoachProfile, "coach profile", "coach_profiles", "user_id"
    remembered = True

    def list(self) -> Sequence[CoachProfile]:
        return self._many("all", lambda c: [], ("created_at", "id"))


class WindowRepo(_Repo[AvailabilityWindow]):
    entity, what, table = AvailabilityWindow, "availability window", "availability_windows"

    def delete(self, window_id: str) -> None:
        stmt = self._stmt("delete", lambda: sa.delete(self._t).where(self._t.c.id == _p("id")))
        self._db.execute(stmt, {"id": window_id})

    def for_coach(self, coach_id: str) -> Sequence[AvailabilityWindow]:
        order = ("day_of_week", "start_time", "id")
        return self._many("by_coach", lambda c: [c.coach_id == _p("coach")], order, coach=coach_id)


class BookingRepo(_Repo[Booking]):
    entity, what, table = Booking, "booking", "bookings"

    def get_by_session(self, session_id: str) -> Booking | None:
        return self._one("by_session", lambda c: [c.session_id == _p("s")], s=session_id)

    def get_by_idempotency_key(self, member_id: str, key: str) -> Booking | None:
        def where(c: Any) -> list[ColumnElement[bool]]:
            return [c.member_id == _p("member"), c.idempotency_key == _p("key")]

        return self._one("by_key", where, member=member_id, key=key)

    def list(
        self, *, member_id: str | None = None, coach_id: str | None = None
    ) -> Sequence[Booking]:
        params = {"member": member_id, "coach": coach_id}
        params = {k: v for k, v in params.items() if v is not None}

        def where(c: Any) -> list[ColumnElement[bool]]:
            columns = {"member": c.member_id, "coach": c.coach_id}
            return [columns[k] == _p(k) for k in params]

        return self._many(f"list:{sorted(params)}", where, ("start", "id"), **params)

    def confirmed_for_window(self, window_id: str, after: datetime) -> Sequence[Booking]:
        def where(c: Any) -> list[ColumnElement[bool]]:
            confirmed = c.status == BookingStatus.CONFIRMED.value
            return [c.window_id == _p("window"), confirmed, c.start > _p("after")]

        return self._many(
            "confirmed_for_window", where, ("start", "id"), window=window_id, after=after
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
        given = {"member": member_id, "coach": coach_id, "coach_of_member": coach_of_member}
        params = {k: v for k, v in given.items() if v is not None}
        m = self._members.c

        def where(c: Any) -> list[ColumnElement[bool]]:
            coached = sa.select(m.user_id).where(m.coach_id == _p("coach_of_member"))
            clauses = {
                "member": c.member_id == _p("member"),
                "coach": c.coach_id == _p("coach"),
                "coach_of_member": c.member_id.in_(coached.scalar_subquery()),
            }
            return [clauses[k] for k in params]

        return self._many(f"list:{sorted(params)}", where, ("scheduled_at", "id"), **params)

    def occupying(self, coach_id: str, start: datetime, end: datetime) -> Sequence[Session]:
        def where(c: Any) -> list[ColumnElement[bool]]:
            return [
                c.coach_id == _p("coach"),
                c.scheduled_at >= _p("start"),
                c.scheduled_at < _p("end"),
                c.status != SessionStatus.CANCELLED.value,
            ]

        order = ("scheduled_at", "id")
        return self._many("occupying", where, order, coach=coach_id, start=start, end=end)

    def occupancy(
        self, coach_id: str, start: datetime, end: datetime
    ) -> Sequence[tuple[datetime, int, int]]:
        def build() -> Any:
            c = self._t.c
            return (
                sa.select(c.scheduled_at, c.duration, sa.func.count().label("n"))
                .where(
                    c.coach_id == _p("coach"),
                    c.scheduled_at >= _p("start"),
                    c.scheduled_at < _p("end"),
                    c.status != SessionStatus.CANCELLED.value,
                )
                .group_by(c.scheduled_at, c.duration)
                .order_by(c.scheduled_at, c.duration)
            )

        params = {"coach": coach_id, "start": start, "end": end}
        rows = self._db.select_rows(self._stmt("occupancy", build), params)
        return [(r["scheduled_at"], r["duration"], r["n"]) for r in rows]

    def count_upcoming(self, member_id: str, coach_id: str, after: datetime) -> int:
        def build() -> Any:
            c = self._t.c
            return (
                sa.select(sa.func.count())
                .select_from(self._t)
                .where(
                    c.member_id == _p("member"),
                    c.coach_id == _p("coach"),
                    c.status == SessionStatus.SCHEDULED.value,
                    c.scheduled_at > _p("after"),
                )
            )

        params = {"member": member_id, "coach": coach_id, "after": after}
        return int(self._db.scalar(self._stmt("count_upcoming", build), params))

    def completed_with_notes(self, before: datetime, limit: int) -> Sequence[Session]:
        def where(c: Any) -> list[ColumnElement[bool]]:
            return [
                c.status == SessionStatus.COMPLETED.value,
                c.completed_at <= _p("before"),
                sa.or_(c.coach_notes.is_not(None), c.member_notes.is_not(None)),
            ]

        order = ("completed_at", "id")
        return self._many("with_notes", where, order, before=before, limit_=limit)


class RatingRepo(_Repo[Rating]):
    entity, what, table = Rating, "rating", "ratings"

    def get_for_session(self, session_id: str) -> Rating | None:
        return self._one("by_session", lambda c: [c.session_id == _p("s")], s=session_id)

    def for_coach(self, coach_id: str) -> Sequence[Rating]:
        order = ("created_at", "id")
        return self._many("by_coach", lambda c: [c.coach_id == _p("coach")], order, coach=coach_id)


class CalendarEventRepo(_Repo[CalendarEvent]):
    entity, what, table = CalendarEvent, "calendar event", "calendar_events"


class ConversationRepo(_Repo[Conversation]):
    entity, what, table = Conversation, "conversation", "conversations"

    def find_direct(self, user_a: str, user_b: str) -> Conversation | None:
        key = direct_key((user_a, user_b))
        return self._one("direct", lambda c: [c.direct_key == _p("key")], key=key)

    def for_user(self, user_id: str) -> Sequence[Conversation]:
        """A LIKE on the JSON text narrows the rows; membership is then checked exactly."""
        needle = json.dumps(user_id).replace("\\", "\\\\").replace("%", "\\%")
        pattern = "%" + needle.replace("_", "\\_") + "%"

        def where(c: Any) -> list[ColumnElement[bool]]:
            return [sa.cast(c.participant_ids, sa.Text).like(_p("pattern"), escape="\\")]

        rows = self._many("for_user", where, ("created_at", "id"), pattern=pattern)
        return [c for c in rows if user_id in c.participant_ids]


def _like_json(text: str) -> str:
    """A LIKE pattern matching ``text`` inside the JSON text of a column."""
    needle = json.dumps(text)[1:-1].replace("\\", "\\\\").replace("%", "\\%")
    return "%" + needle.replace("_", "\\_") + "%"


def _json_like(column: str) -> Where:
    def where(c: Any) -> list[ColumnElement[bool]]:
        return [sa.cast(c[column], sa.Text).like(_p("pattern"), escape="\\")]

    return where


class NotificationRepo(_Repo[Notification]):
    entity, what, table = Notification, "notification", "notifications"

    def for_recipient(self, user_id: str) -> Sequence[Notification]:
        order = ("created_at", "id")
        return self._many("for_recipient", lambda c: [c.recipient_id == _p("r")], order, r=user_id)


class ReminderRepo(_Repo[Reminder]):
    entity, what, table = Reminder, "reminder", "reminders"

    def for_session(self, session_id: str) -> Sequence[Reminder]:
        order = ("due_at", "id")
        return self._many("for_session", lambda c: [c.session_id == _p("s")], order, s=session_id)

    def due(self, now: datetime, limit: int) -> Sequence[Reminder]:
        def where(c: Any) -> list[ColumnElement[bool]]:
            return [c.status == ReminderStatus.PENDING.value, c.due_at <= _p("now")]

        return self._many("due", where, ("due_at", "id"), now=now, limit_=limit)

    def claim(self, reminder: Reminder, sent_at: datetime) -> bool:
        """A guarded UPDATE: only the first claimer changes the row."""

        def build() -> Any:
            c = self._t.c
            return (
                sa.update(self._t)
                .where(c.id == _p("rid"), c.status == ReminderStatus.PENDING.value)
                .values(status=ReminderStatus.SENT.value, sent_at=_p("sent"))
            )

        result = self._db.execute(self._stmt("claim", build), {"rid": reminder.id, "sent": sent_at})
        return result.rowcount == 1


class OutboxRepo(_Repo[OutboxMessage]):
    entity, what, table = OutboxMessage, "outbox message", "outbox"

    def claim_due(
        self, now: datetime, lease_until: datetime, limit: int
    ) -> Sequence[OutboxMessage]:
        """Due, unleased messages, leased to the caller by one ``UPDATE ...
        RETURNING``; PostgreSQL skips rows another claimer holds (``FOR UPDATE
        SKIP LOCKED``), SQLite's write transactions are serial anyway.

        Waiting inserts (see ``Db.deferring``) need not go first when they are
        all messages leased beyond ``now``: the claim would not take them."""
        stmt = self._stmt("claim_due", self._build_claim)
        waiting = self._db.pending_rows(self._t)
        leased = all(r["claimed_until"] is not None and r["claimed_until"] > now for r in waiting)
        params = {"now": now, "until": lease_until, "limit_": limit}
        rows = self._db.select_rows(stmt, params, flush=not leased)
        return sorted(from_rows(rows, OutboxMessage), key=lambda m: (m.created_at, m.id))

    def _build_claim(self) -> Any:
        def where(c: Any) -> list[ColumnElement[bool]]:
            unleased = sa.or_(c.claimed_until.is_(None), c.claimed_until <= _p("now"))
            return [c.status == PENDING_MESSAGE, c.next_attempt_at <= _p("now"), unleased]

        due = self._select(where, ("created_at", "id"), limit=True).with_only_columns(self._t.c.id)
        if self._db.postgresql:
            due = due.with_for_update(skip_locked=True)
        claim = sa.update(self._t).where(self._t.c.id.in_(due)).values(claimed_until=_p("until"))
        return claim.returning(*self._t.c)

    def mark_delivered(self, messages: Sequence[OutboxMessage], at: datetime) -> None:
        """Record successful deliveries in one statement: what ``update`` of each
        message as the dispatcher evolves it writes (delivered at ``at``, one
        more attempt, no lease, no error); ``NotFound`` if none of them is stored."""
        if messages:
            params = {"ids": [m.id for m in messages], "at": at}
            self._db.update(self._stmt("delivered", self._build_delivered), params, self.what)

    def _build_delivered(self) -> Any:
        return delivered_update(self._t, sa.bindparam("ids", expanding=True))

    def pending(self) -> Sequence[OutboxMessage]:
        return self._many("pending", lambda c: [c.status == PENDING_MESSAGE], ("created_at", "id"))

    def failed(self) -> Sequence[OutboxMessage]:
        return self._many("failed", lambda c: [c.status == FAILED_MESSAGE], ("created_at", "id"))

    def mentioning(self, text: str) -> Sequence[OutboxMessage]:
        """A LIKE on the JSON text narrows the rows; string values are then checked exactly."""
        rows = self._many(
            "mentioning", _json_like("payload"), ("created_at", "id"), pattern=_like_json(text)
        )
        return [m for m in rows if mentions(m.payload, text)]


def delivered_update(outbox: sa.Table, ids: Any) -> Any:
    """``UPDATE`` the messages ``id IN ids`` as delivered at ``:at`` (one more
    attempt, no lease, no error)."""
    c = outbox.c
    return (
        sa.update(outbox)
        .where(c.id.in_(ids))
        .values(
            status=OutboxStatus.DELIVERED.value,
            attempts=c.attempts + 1,
            delivered_at=_p("at"),
            claimed_until=None,
            last_error=None,
        )
    )


class RulesRepo(_Repo[SchedulingRules]):
    entity, what, table, key = SchedulingRules, "scheduling rules", "scheduling_rules", "coach_id"
    remembered = True

    def put(self, rules: SchedulingRules) -> None:
        if self.get(rules.coach_id) is None:
            self.add(rules)
        else:
            self.update(rules)


class OverrideRepo(_Repo[DateOverride]):
    entity, what, table = DateOverride, "date override", "date_overrides"

    def delete(self, override_id: str) -> None:
        stmt = self._stmt("delete", lambda: sa.delete(self._t).where(self._t.c.id == _p("id")))
        self._db.execute(stmt, {"id": override_id})

    def for_coach(self, coach_id: str, first: date, last: date) -> Sequence[DateOverride]:
        def where(c: Any) -> list[ColumnElement[bool]]:
            return [c.coach_id == _p("coach"), c.date >= _p("first"), c.date <= _p("last")]

        rows = self._many(
            "for_coach", where, ("date", "id"), coach=coach_id, first=first, last=last
        )
        return sorted(rows, key=lambda o: (o.date, o.start_time or "", o.id))


OPEN_ENTRY = [status.value for status in OPEN_WAITLIST]
OFFERED_ENTRY = WaitlistStatus.OFFERED.value
WAITLIST_ORDER = ("start", "position", "created_at", "id")


class WaitlistRepo(_Repo[WaitlistEntry]):
    entity, what, table = WaitlistEntry, "waitlist entry", "waitlist_entries"

    def for_slot(self, coach_id: str, start: datetime, duration: int) -> Sequence[WaitlistEntry]:
        def where(c: Any) -> list[ColumnElement[bool]]:
            return [
                c.coach_id == _p("coach"),
                c.start == _p("start"),
                c.duration == _p("duration"),
                sa.or_(*(c.status == status for status in OPEN_ENTRY)),
            ]

        params = {"coach": coach_id, "start": start, "duration": duration}
        return self._many("for_slot", where, WAITLIST_ORDER, **params)

    def holds(
        self, coach_id: str, start: datetime, end: datetime, now: datetime
    ) -> Sequence[WaitlistEntry]:
        def where(c: Any) -> list[ColumnElement[bool]]:
            return [
                c.coach_id == _p("coach"),
                c.status == OFFERED_ENTRY,
                c.start >= _p("start"),
                c.start < _p("end"),
                c.hold_until > _p("now"),
            ]

        params = {"coach": coach_id, "start": start, "end": end, "now": now}
        return self._many("holds", where, WAITLIST_ORDER, **params)

    def expired_holds(self, now: datetime, limit: int) -> Sequence[WaitlistEntry]:
        def where(c: Any) -> list[ColumnElement[bool]]:
            return [c.status == OFFERED_ENTRY, c.hold_until <= _p("now")]

        return self._many("expired", where, ("hold_until", "id"), now=now, limit_=limit)

    def list(
        self, *, member_id: str | None = None, coach_id: str | None = None
    ) -> Sequence[WaitlistEntry]:
        params = {"member": member_id, "coach": coach_id}
        params = {k: v for k, v in params.items() if v is not None}

        def where(c: Any) -> list[ColumnElement[bool]]:
            columns = {"member": c.member_id, "coach": c.coach_id}
            return [columns[k] == _p(k) for k in params]

        return self._many(f"list:{sorted(params)}", where, WAITLIST_ORDER, **params)


def _filtered(columns: dict[str, str], given: dict[str, Any]) -> tuple[str, dict[str, Any], Where]:
    """A statement name, its parameters and a WHERE builder for the non-None filters."""
    params = {k: v for k, v in given.items() if v is not None}

    def where(c: Any) -> list[ColumnElement[bool]]:
        return [c[columns[k]] == _p(k) for k in params]

    return f"list:{sorted(params)}", params, where


class RelationshipRepo(_Repo[CoachingRelationship]):
    entity, what, table = CoachingRelationship, "coaching relationship", "coaching_relationships"

    def list(
        self, *, coach_id: str | None = None, member_id: str | None = None
    ) -> Sequence[CoachingRelationship]:
        name, params, where = _filtered(
            {"coach": "coach_id", "member": "member_id"}, {"coach": coach_id, "member": member_id}
        )
        return self._many(name, where, ("created_at", "id"), **params)


class InvitationRepo(_Repo[Invitation]):
    entity, what, table = Invitation, "invitation", "invitations"

    def get_by_token_hash(self, token_hash: str) -> Invitation | None:
        return self._one("by_token", lambda c: [c.token_hash == _p("h")], h=token_hash)

    def list(
        self, *, coach_id: str | None = None, email: str | None = None
    ) -> Sequence[Invitation]:
        name, params, where = _filtered(
            {"coach": "coach_id", "email": "email"}, {"coach": coach_id, "email": email}
        )
        return self._many(name, where, ("created_at", "id"), **params)


class InterestRepo(_Repo[CoachingInterest]):
    entity, what, table = CoachingInterest, "coaching interest", "coaching_interests"

    def list(
        self, *, member_id: str | None = None, status: str | None = None
    ) -> Sequence[CoachingInterest]:
        name, params, where = _filtered(
            {"member": "member_id", "status": "status"},
            {"member": member_id, "status": None if status is None else str(status)},
        )
        return self._many(name, where, ("created_at", "id"), **params)


class SessionSettingsRepo(_Repo[MemberSessionSettings]):
    entity, what, key = MemberSessionSettings, "session settings", "member_id"
    table = "member_session_settings"


class OrganizationRepo(_Repo[Organization]):
    entity, what, table = Organization, "organization", "organizations"

    def list(self) -> Sequence[Organization]:
        return self._many("all", lambda c: [], ("created_at", "id"))


class OrganizationMembershipRepo(_Repo[OrganizationMembership]):
    entity, what = OrganizationMembership, "organization membership"
    table = "organization_memberships"

    def delete(self, membership_id: str) -> None:
        stmt = self._stmt("delete", lambda: sa.delete(self._t).where(self._t.c.id == _p("id")))
        self._db.execute(stmt, {"id": membership_id})

    def find(self, organization_id: str, user_id: str) -> OrganizationMembership | None:
        def where(c: Any) -> list[ColumnElement[bool]]:
            return [c.organization_id == _p("org"), c.user_id == _p("user")]

        return self._one("pair", where, org=organization_id, user=user_id)

    def list(
        self, *, organization_id: str | None = None, user_id: str | None = None
    ) -> Sequence[OrganizationMembership]:
        name, params, where = _filtered(
            {"org": "organization_id", "user": "user_id"},
            {"org": organization_id, "user": user_id},
        )
        return self._many(name, where, ("created_at", "id"), **params)


class ActionPlanRepo(_Repo[ActionPlan]):
    entity, what, table = ActionPlan, "action plan", "action_plans"

    def list(
        self, *, member_id: str | None = None, coach_id: str | None = None
    ) -> Sequence[ActionPlan]:
        name, params, where = _filtered(
            {"member": "member_id", "coach": "coach_id"}, {"member": member_id, "coach": coach_id}
        )
        return self._many(name, where, ("created_at", "id"), **params)


class ActionItemRepo(_Repo[ActionItem]):
    entity, what, table = ActionItem, "action item", "action_items"

    def list(
        self,
        *,
        member_id: str | None = None,
        coach_id: str | None = None,
        plan_id: str | None = None,
    ) -> Sequence[ActionItem]:
        name, params, where = _filtered(
            {"member": "member_id", "coach": "coach_id", "plan": "plan_id"},
            {"member": member_id, "coach": coach_id, "plan": plan_id},
        )
        return self._many(name, where, ("created_at", "id"), **params)

    def overdue(self, today: date, *, member_id: str | None = None) -> Sequence[ActionItem]:
        params: dict[str, Any] = {"today": today}
        if member_id is not None:
            params["member"] = member_id

        def where(c: Any) -> list[ColumnElement[bool]]:
            clauses = [
                c.status == ActionItemStatus.OPEN.value,
                c.due_date.is_not(None),
                c.due_date < _p("today"),
            ]
            if "member" in params:
                clauses.append(c.member_id == _p("member"))
            return clauses

        return self._many(f"overdue:{'member' in params}", where, ("due_date", "id"), **params)


class QuickNoteRepo(_Repo[QuickNote]):
    entity, what, table = QuickNote, "quick note", "quick_notes"

    def delete(self, note_id: str) -> None:
        stmt = self._stmt("delete", lambda: sa.delete(self._t).where(self._t.c.id == _p("id")))
        self._db.execute(stmt, {"id": note_id})

    def list(
        self, *, coach_id: str | None = None, member_id: str | None = None
    ) -> Sequence[QuickNote]:
        name, params, where = _filtered(
            {"member": "member_id", "coach": "coach_id"}, {"member": member_id, "coach": coach_id}
        )
        return self._many(name, where, ("created_at", "id"), **params)


class SessionScoreRepo(_Repo[SessionScore]):
    entity, what, table, key = SessionScore, "session score", "session_scores", "session_id"

    def for_member(self, member_id: str) -> Sequence[SessionScore]:
        order = ("scored_at", "session_id")
        return self._many("for_member", lambda c: [c.member_id == _p("m")], order, m=member_id)


class AuditRepo(_Repo[AuditEntry]):
    entity, what, table = AuditEntry, "audit entry", "audit_log"

    def list(
        self,
        *,
        entity_type: str | None = None,
        entity_id: str | None = None,
        actor_id: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 100,
    ) -> Sequence[AuditEntry]:
        given = {
            "etype": entity_type,
            "eid": entity_id,
            "actor": actor_id,
            "since": since,
            "until": until,
        }
        params: dict[str, Any] = {k: v for k, v in given.items() if v is not None}

        def build() -> Any:
            c = self._t.c
            clauses = {
                "etype": c.entity_type == _p("etype"),
                "eid": c.entity_id == _p("eid"),
                "actor": c.actor_id == _p("actor"),
                "since": c.created_at >= _p("since"),
                "until": c.created_at < _p("until"),
            }
            order = [self._sorted(c.created_at).desc(), self._sorted(c.id).desc()]
            stmt = sa.select(self._t).where(*(clauses[k] for k in params)).order_by(*order)
            return stmt.limit(_p("limit_"))

        stmt = self._stmt(f"list:{sorted(params)}", build)
        rows = self._db.rows(stmt, {**params, "limit_": limit})
        return from_rows(rows, AuditEntry)

    def about(self, entity_ids: Collection[str]) -> Sequence[AuditEntry]:
        ids, found = sorted(set(entity_ids)), []
        for first in range(0, len(ids), IN_BATCH):
            batch = ids[first : first + IN_BATCH]
            found += self._many("about", _entity_in, ("created_at", "id"), ids=batch)
        return sorted(found, key=lambda e: (e.created_at, e.id))


def _entity_in(c: Any) -> list[ColumnElement[bool]]:
    return [c.entity_id.in_(sa.bindparam("ids", expanding=True))]


class DocumentRepo(_Repo[Document]):
    entity, what, table = Document, "document", "documents"

    def delete(self, document_id: str) -> None:
        stmt = self._stmt("delete", lambda: sa.delete(self._t).where(self._t.c.id == _p("id")))
        self._db.execute(stmt, {"id": document_id})

    def list(
        self,
        *,
        member_id: str | None = None,
        owner_id: str | None = None,
        organization_id: str | None = None,
    ) -> Sequence[Document]:
        name, params, where = _filtered(
            {"member": "member_id", "owner": "owner_id", "org": "organization_id"},
            {"member": member_id, "owner": owner_id, "org": organization_id},
        )
        return self._many(name, where, ("created_at", "id"), **params)


class DocumentContentRepo(_Repo[DocumentContent]):
    entity, what, key = DocumentContent, "document content", "document_id"
    table = "document_contents"

    def get(self, key: str) -> DocumentContent | None:
        found = super().get(key)
        if found is not None and not isinstance(found.data, bytes):
            found = attrs.evolve(found, data=bytes(found.data))
        return found

    def delete(self, document_id: str) -> None:
        def build() -> Any:
            return sa.delete(self._t).where(self._t.c.document_id == _p("id"))

        self._db.execute(self._stmt("delete", build), {"id": document_id})
