"""The SQL store's queries that a repository description cannot express."""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from coachcore.adapters.sqlalchemy.db import Db
from coachcore.adapters.sqlalchemy.repository import SqlRepository
from coachcore.adapters.sqlalchemy.rows import direct_key
from coachcore.adapters.sqlalchemy.search import Documents
from coachcore.domain.audit import AuditEntry
from coachcore.domain.entities import (
    Booking,
    Conversation,
    MemberProfile,
    OutboxMessage,
    Reminder,
    Session,
)
from coachcore.domain.enums import (
    BookingStatus,
    MembershipStatus,
    OutboxStatus,
    ReminderStatus,
    SessionStatus,
)
from coachcore.domain.hub import ActionItem, ActionItemStatus
from coachcore.domain.privacy import PRIVATE_NOTES, mentions
from coachcore.domain.rules import OPEN_WAITLIST, DateOverride, WaitlistEntry, WaitlistStatus
from coachcore.ports.storage import Occupancy

IN_BATCH = 500
"""Values per ``IN (...)`` list: well inside every backend's parameter limit."""
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_US = timedelta(microseconds=1)
CANCELLED = SessionStatus.CANCELLED.value


def _p(name: str) -> Any:
    return sa.bindparam(name)


def _like_json(text: str) -> str:
    """A LIKE pattern matching ``text`` inside the JSON text of a column."""
    needle = json.dumps(text)[1:-1].replace("\\", "\\\\").replace("%", "\\%")
    return "%" + needle.replace("_", "\\_") + "%"


class Members(SqlRepository[MemberProfile]):
    def count_for_coach(self, coach_id: str, *, active_only: bool) -> int:
        def build() -> Any:
            c = self._t.c
            stmt = sa.select(sa.func.count()).select_from(self._t).where(c.coach_id == _p("coach"))
            if active_only:
                stmt = stmt.where(c.membership_status == MembershipStatus.ACTIVE.value)
            return stmt

        stmt = self._stmt(("count", active_only), build)
        return int(self._db.scalar(stmt, {"coach": coach_id}))


class Bookings(SqlRepository[Booking]):
    def confirmed_for_window(self, window_id: str, after: datetime) -> Sequence[Booking]:
        def build() -> Any:
            c = self._t.c
            where = [c.status == BookingStatus.CONFIRMED.value, c.start > _p("after")]
            return self._select(("window_id",), self.described.order, where)

        stmt = self._stmt("confirmed_for_window", build)
        return self._load_all(self._db.rows(stmt, {"window_id": window_id, "after": after}))


class Sessions(SqlRepository[Session]):
    def of_members_coached_by(self, coach_id: str) -> Sequence[Session]:
        def build() -> Any:
            m = self._tables.member_profiles.c
            coached = sa.select(m.user_id).where(m.coach_id == _p("coach")).scalar_subquery()
            where = [self._t.c.member_id.in_(coached)]
            return self._select((), self.described.order, where)

        stmt = self._stmt("of_members_coached_by", build)
        return self._load_all(self._db.rows(stmt, {"coach": coach_id}))

    def _in_range(self) -> list[Any]:
        c = self._t.c
        return [
            c.coach_id == _p("coach"),
            c.scheduled_at >= _p("start"),
            c.scheduled_at < _p("end"),
            c.status != CANCELLED,
        ]

    def seats_held(
        self, coach_id: str, member_id: str, start: datetime, end: datetime
    ) -> Sequence[Session]:
        def build() -> Any:
            mine = [*self._in_range(), self._t.c.member_id == _p("member")]
            return self._select((), ("scheduled_at", "id"), mine)

        params = {"coach": coach_id, "member": member_id, "start": start, "end": end}
        return self._load_all(self._db.rows(self._stmt("seats_held", build), params))

    def occupancy(self, coach_id: str, start: datetime, end: datetime) -> Occupancy:
        def build() -> Any:
            c = self._t.c
            return (
                sa.select(c.scheduled_at, c.duration, sa.func.count())
                .where(*self._in_range())
                .group_by(c.scheduled_at, c.duration)
                .order_by(c.scheduled_at, c.duration)
            )

        params = {"coach": coach_id, "start": start, "end": end}
        rows: Sequence[Any] = self._db.execute(self._stmt("occupancy", build), params).all()
        return (
            [(row[0] - _EPOCH) // _ONE_US for row in rows],
            [row[1] for row in rows],
            [row[2] for row in rows],
        )

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
        def build() -> Any:
            c = self._t.c
            where = [
                c.status == SessionStatus.COMPLETED.value,
                c.completed_at <= _p("before"),
                sa.or_(*(c[name].is_not(None) for name in PRIVATE_NOTES)),
            ]
            return self._select((), ("completed_at", "id"), where).limit(_p("limit_"))

        stmt = self._stmt("completed_with_notes", build)
        return self._load_all(self._db.rows(stmt, {"before": before, "limit_": limit}))


class Conversations(SqlRepository[Conversation]):
    def find_direct(self, user_a: str, user_b: str) -> Conversation | None:
        stmt = self._stmt("direct", lambda: self._select(("direct_key",)))
        return self._first(self._db.rows(stmt, {"direct_key": direct_key((user_a, user_b))}))

    def for_user(self, user_id: str) -> Sequence[Conversation]:
        """A LIKE on the JSON text narrows the rows; membership is then checked exactly."""

        def build() -> Any:
            like = sa.cast(self._t.c.participant_ids, sa.Text).like(_p("pattern"), escape="\\")
            return self._select((), self.described.order, [like])

        rows = self._db.rows(self._stmt("for_user", build), {"pattern": _like_json(user_id)})
        return [c for c in self._load_all(rows) if user_id in c.participant_ids]


class Reminders(SqlRepository[Reminder]):
    def due(self, now: datetime, limit: int) -> Sequence[Reminder]:
        def build() -> Any:
            c = self._t.c
            where = [c.status == ReminderStatus.PENDING.value, c.due_at <= _p("now")]
            return self._select((), ("due_at", "id"), where).limit(_p("limit_"))

        return self._load_all(
            self._db.rows(self._stmt("due", build), {"now": now, "limit_": limit})
        )

    def claim(self, reminder: Reminder, sent_at: datetime | None) -> bool:
        """A guarded UPDATE: only the first claimer changes the row."""

        def build() -> Any:
            c = self._t.c
            return (
                sa.update(self._t)
                .where(c.id == _p("rid"), c.status == ReminderStatus.PENDING.value)
                .values(status=_p("status"), sent_at=_p("sent"), version=c.version + 1)
            )

        status = ReminderStatus.CANCELLED if sent_at is None else ReminderStatus.SENT
        params = {"rid": reminder.id, "sent": sent_at, "status": status.value}
        return self._db.execute(self._stmt("claim", build), params).rowcount == 1


class Outbox(SqlRepository[OutboxMessage]):
    def claim_due(
        self, now: datetime, lease_until: datetime, limit: int
    ) -> Sequence[OutboxMessage]:
        """Due, unleased messages, leased to the caller by one ``UPDATE ...
        RETURNING``; PostgreSQL skips rows another claimer holds (``FOR UPDATE
        SKIP LOCKED``, in a materialized CTE so that at most ``limit`` rows are
        leased whatever the plan), SQLite's write transactions are serial anyway."""
        params = {"now": now, "until": lease_until, "limit_": limit}
        rows = self._db.rows(self._stmt("claim_due", self._build_claim), params)
        return sorted(self._load_all(rows), key=lambda m: (m.created_at, m.id))

    def _build_claim(self) -> Any:
        c = self._t.c
        unleased = sa.or_(c.claimed_until.is_(None), c.claimed_until <= _p("now"))
        where = [c.status == OutboxStatus.PENDING.value, c.next_attempt_at <= _p("now"), unleased]
        due = self._select((), self.described.order, where).limit(_p("limit_"))
        due = due.with_only_columns(c.id)
        if self._db.postgresql:
            # Locked once, in a materialized CTE: as ``IN (subquery)`` the
            # planner may rescan the LIMIT ... SKIP LOCKED subquery, each scan
            # skipping the rows this UPDATE already changed, and lease far
            # more than ``limit`` rows (plan-dependent, so it came and went).
            locked = due.with_for_update(skip_locked=True).cte("due").prefix_with("MATERIALIZED")
            due = sa.select(locked.c.id)
        claim = sa.update(self._t).where(c.id.in_(due))
        claim = claim.values(claimed_until=_p("until"), version=c.version + 1)
        return claim.returning(*self._t.c)

    def mark_delivered(self, messages: Sequence[OutboxMessage], at: datetime) -> None:
        """One UPDATE per message, guarded by the lease it was claimed with."""

        def build() -> Any:
            c = self._t.c
            return (
                sa.update(self._t)
                .where(
                    c.id == _p("id_"),
                    c.status == OutboxStatus.PENDING.value,
                    c.claimed_until == _p("lease_"),
                )
                .values(
                    status=OutboxStatus.DELIVERED.value,
                    attempts=c.attempts + 1,
                    delivered_at=_p("at"),
                    claimed_until=None,
                    last_error=None,
                    version=c.version + 1,
                )
            )

        if messages:
            params = [{"id_": m.id, "lease_": m.claimed_until, "at": at} for m in messages]
            self._db.execute(self._stmt("delivered", build), params)

    def mentioning(self, *texts: str) -> Sequence[OutboxMessage]:
        """A LIKE on the JSON text narrows the plain rows (sealed ones are all
        read and opened); string values are then checked exactly."""
        if not texts:
            return []

        def build() -> Any:
            payload = sa.cast(self._t.c.payload, sa.Text)
            likes = [payload.like(_p(f"p{i}"), escape="\\") for i in range(len(texts))]
            sealed = payload.like(_p("sealed"), escape="\\")
            return self._select((), self.described.order, [sa.or_(sealed, *likes)])

        params = {f"p{i}": _like_json(text) for i, text in enumerate(texts)}
        params["sealed"] = '"enc:v%'
        rows = self._db.rows(self._stmt(("mentioning", len(texts)), build), params)
        found = self._load_all(rows)
        return [m for m in found if any(mentions(m.payload, text) for text in texts)]

    def count_delivered(self, before: datetime) -> int:
        def build() -> Any:
            where = self._delivered_before()
            return sa.select(sa.func.count()).select_from(self._t).where(*where)

        return int(self._db.scalar(self._stmt("count_delivered", build), {"before": before}))

    def purge_delivered(self, before: datetime, limit: int) -> int:
        """One DELETE of the oldest ``limit`` (by creation: the outbox's
        ``(status, created_at)`` index serves the walk; on PostgreSQL picked
        once, in a materialized CTE, like the claim)."""

        def build() -> Any:
            c = self._t.c
            oldest = sa.select(c.id).where(*self._delivered_before())
            return _delete_chosen(self._db, self._t, oldest.order_by(c.created_at))

        params = {"before": before, "limit_": limit}
        return int(self._db.execute(self._stmt("purge_delivered", build), params).rowcount)

    def _delivered_before(self) -> list[Any]:
        c = self._t.c
        return [c.status == OutboxStatus.DELIVERED.value, c.delivered_at < _p("before")]


class Overrides(SqlRepository[DateOverride]):
    def for_coach(self, coach_id: str, first: date, last: date) -> Sequence[DateOverride]:
        def build() -> Any:
            c = self._t.c
            where = [c.date >= _p("first"), c.date <= _p("last")]
            return self._select(("coach_id",), ("date", "id"), where)

        params = {"coach_id": coach_id, "first": first, "last": last}
        rows = self._load_all(self._db.rows(self._stmt("for_coach", build), params))
        return sorted(rows, key=lambda o: (o.date, o.start_time or "", o.id))


OFFERED = WaitlistStatus.OFFERED.value


class Waitlist(SqlRepository[WaitlistEntry]):
    def for_slot(self, coach_id: str, start: datetime, duration: int) -> Sequence[WaitlistEntry]:
        def build() -> Any:
            c = self._t.c
            where = [c.status.in_([status.value for status in OPEN_WAITLIST])]
            return self._select(("coach_id", "start", "duration"), self.described.order, where)

        params = {"coach_id": coach_id, "start": start, "duration": duration}
        return self._load_all(self._db.rows(self._stmt("for_slot", build), params))

    def holds(
        self, coach_id: str, start: datetime, end: datetime, now: datetime
    ) -> Sequence[WaitlistEntry]:
        def build() -> Any:
            c = self._t.c
            where = [
                c.status == OFFERED,
                c.start >= _p("low"),
                c.start < _p("high"),
                c.hold_until > _p("now"),
            ]
            return self._select(("coach_id",), self.described.order, where)

        params = {"coach_id": coach_id, "low": start, "high": end, "now": now}
        return self._load_all(self._db.rows(self._stmt("holds", build), params))

    def expired_holds(self, now: datetime, limit: int) -> Sequence[WaitlistEntry]:
        def build() -> Any:
            c = self._t.c
            where = [c.status == OFFERED, c.hold_until <= _p("now")]
            return self._select((), ("hold_until", "id"), where).limit(_p("limit_"))

        params = {"now": now, "limit_": limit}
        return self._load_all(self._db.rows(self._stmt("expired", build), params))


class ActionItems(SqlRepository[ActionItem]):
    def overdue(self, today: date, *, member_id: str | None = None) -> Sequence[ActionItem]:
        equal = () if member_id is None else ("member_id",)

        def build() -> Any:
            c = self._t.c
            where = [
                c.status == ActionItemStatus.OPEN.value,
                c.due_date.is_not(None),
                c.due_date < _p("today"),
            ]
            return self._select(equal, ("due_date", "id"), where)

        params: dict[str, Any] = {"today": today}
        if member_id is not None:
            params["member_id"] = member_id
        return self._load_all(self._db.rows(self._stmt(("overdue", equal), build), params))


class Audit(SqlRepository[AuditEntry]):
    def newest(
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
            "entity_type": entity_type,
            "entity_id": entity_id,
            "actor_id": actor_id,
            "since": since,
            "until": until,
        }
        params: dict[str, Any] = {k: v for k, v in given.items() if v is not None}
        equal = tuple(sorted(k for k in params if k not in ("since", "until")))
        bounds = tuple(k for k in ("since", "until") if k in params)

        def build() -> Any:
            c = self._t.c
            where = {"since": c.created_at >= _p("since"), "until": c.created_at < _p("until")}
            stmt = self._select(equal, (), [where[name] for name in bounds])
            order = [column.desc() for column in self._order("created_at", "id")]
            return stmt.order_by(*order).limit(_p("limit_"))

        stmt = self._stmt(("newest", equal, bounds), build)
        params["limit_"] = limit
        return self._load_all(self._db.rows(stmt, params))

    def about(self, entity_ids: Collection[str]) -> Sequence[AuditEntry]:
        def build() -> Any:
            ids = self._t.c.entity_id.in_(sa.bindparam("ids", expanding=True))
            return self._select((), (), [ids])

        ids = sorted(set(entity_ids))
        stmt = self._stmt("about", build)
        batches = [ids[first : first + IN_BATCH] for first in range(0, len(ids), IN_BATCH)]
        found = [
            e for batch in batches for e in self._load_all(self._db.rows(stmt, {"ids": batch}))
        ]
        return sorted(found, key=lambda e: (e.created_at, e.id))

    def count_before(self, before: datetime) -> int:
        def build() -> Any:
            older = self._t.c.created_at < _p("before")
            return sa.select(sa.func.count()).select_from(self._t).where(older)

        return int(self._db.scalar(self._stmt("count_before", build), {"before": before}))

    def purge_before(self, before: datetime, limit: int) -> int:
        """One DELETE of the oldest ``limit`` (the ``created_at`` index serves
        the walk; on PostgreSQL picked once, in a materialized CTE)."""

        def build() -> Any:
            c = self._t.c
            oldest = sa.select(c.id).where(c.created_at < _p("before"))
            return _delete_chosen(
                self._db, self._t, oldest.order_by(c.created_at, *self._order("id"))
            )

        params = {"before": before, "limit_": limit}
        return int(self._db.execute(self._stmt("purge_before", build), params).rowcount)


def _delete_chosen(db: Db, table: sa.Table, chosen: Any) -> Any:
    """A DELETE of the first ``limit_`` rows whose ids ``chosen`` selects, in its
    order; on PostgreSQL chosen once, in a materialized CTE (never re-run per row)."""
    first = chosen.limit(_p("limit_"))
    if db.postgresql:
        cte = first.cte("chosen").prefix_with("MATERIALIZED")
        first = sa.select(cte.c.id)
    return sa.delete(table).where(table.c.id.in_(first))


QUERIES: dict[str, type[SqlRepository[Any]]] = {
    "members": Members,
    "bookings": Bookings,
    "sessions": Sessions,
    "conversations": Conversations,
    "reminders": Reminders,
    "outbox": Outbox,
    "overrides": Overrides,
    "waitlist": Waitlist,
    "action_items": ActionItems,
    "audit": Audit,
    "documents": Documents,
}
"""The repositories with queries of their own, by name; the others are plain."""
