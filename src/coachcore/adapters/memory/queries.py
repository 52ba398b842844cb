"""The memory store's queries that a repository description cannot express."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date, datetime
from operator import attrgetter
from typing import Any, ClassVar

import attrs

from coachcore.adapters.memory.repository import Index, MemoryRepository
from coachcore.domain.audit import AuditEntry
from coachcore.domain.documents import Document, matches
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
    ConversationKind,
    MembershipStatus,
    OutboxStatus,
    ReminderStatus,
    SessionStatus,
)
from coachcore.domain.hub import ActionItem, ActionItemStatus
from coachcore.domain.privacy import holds_notes, mentions
from coachcore.domain.rules import OPEN_WAITLIST, DateOverride, WaitlistEntry, WaitlistStatus
from coachcore.ports.storage import Occupancy


class Members(MemoryRepository[MemberProfile]):
    def count_for_coach(self, coach_id: str, *, active_only: bool) -> int:
        rows = self._t.by("coach_id", coach_id)
        if not active_only:
            return sum(1 for _ in rows)
        return sum(1 for m in rows if m.membership_status == MembershipStatus.ACTIVE)


class Bookings(MemoryRepository[Booking]):
    indexes: ClassVar[dict[str, Index]] = {"window_id": attrgetter("window_id")}

    def confirmed_for_window(self, window_id: str, after: datetime) -> Sequence[Booking]:
        rows = self._t.by("window_id", window_id)
        return self._sorted(
            b for b in rows if b.status == BookingStatus.CONFIRMED and b.start > after
        )


def _occupying(session: Session) -> tuple[datetime, int] | None:
    """What a session adds to its coach's occupancy tally (nothing if cancelled)."""
    if session.status == SessionStatus.CANCELLED:
        return None
    return (session.scheduled_at, session.duration)


class Sessions(MemoryRepository[Session]):
    tally = (attrgetter("coach_id"), _occupying)

    def of_members_coached_by(self, coach_id: str) -> Sequence[Session]:
        members = self.others["members"].list(coach_id=coach_id)
        return self._sorted(s for m in members for s in self._t.by("member_id", m.user_id))

    def seats_held(
        self, coach_id: str, member_id: str, start: datetime, end: datetime
    ) -> Sequence[Session]:
        held = (
            s
            for s in self._t.by("member_id", member_id)
            if start <= s.scheduled_at < end
            and s.coach_id == coach_id
            and s.status != SessionStatus.CANCELLED
        )
        return sorted(held, key=lambda s: (s.scheduled_at, s.id))

    def occupancy(self, coach_id: str, start: datetime, end: datetime) -> Occupancy:
        return self._t.tallied_arrays(coach_id, start, end)

    def count_upcoming(self, member_id: str, coach_id: str, after: datetime) -> int:
        return sum(
            1
            for s in self._t.by("member_id", member_id)
            if s.coach_id == coach_id
            and s.status == SessionStatus.SCHEDULED
            and s.scheduled_at > after
        )

    def completed_with_notes(self, before: datetime, limit: int) -> Sequence[Session]:
        rows = [
            s
            for s in self._t.rows.values()
            if s.status == SessionStatus.COMPLETED
            and s.completed_at is not None
            and s.completed_at <= before
            and holds_notes(s)
        ]
        return sorted(rows, key=lambda s: (s.completed_at, s.id))[:limit]


def _direct(conversation: Conversation) -> Any:
    if conversation.kind != ConversationKind.DIRECT:
        return None
    return frozenset(conversation.participant_ids)


class Conversations(MemoryRepository[Conversation]):
    uniques: ClassVar[dict[str, Index]] = {"direct": _direct}

    def find_direct(self, user_a: str, user_b: str) -> Conversation | None:
        return self._t.unique("direct", frozenset((user_a, user_b)))

    def for_user(self, user_id: str) -> Sequence[Conversation]:
        return self._sorted(c for c in self._t.rows.values() if user_id in c.participant_ids)


class Reminders(MemoryRepository[Reminder]):
    indexes: ClassVar[dict[str, Index]] = {"status": attrgetter("status")}

    def due(self, now: datetime, limit: int) -> Sequence[Reminder]:
        pending = self._t.by("status", ReminderStatus.PENDING)
        return self._sorted(r for r in pending if r.due_at <= now)[:limit]

    def claim(self, reminder: Reminder, sent_at: datetime | None) -> bool:
        current = self._t.get(reminder.id)
        if current is None or current.status != ReminderStatus.PENDING:
            return False
        status = ReminderStatus.CANCELLED if sent_at is None else ReminderStatus.SENT
        self._t.replace(attrs.evolve(current, status=status, sent_at=sent_at))
        return True


class Outbox(MemoryRepository[OutboxMessage]):
    def claim_due(
        self, now: datetime, lease_until: datetime, limit: int
    ) -> Sequence[OutboxMessage]:
        due = self._sorted(
            m
            for m in self._t.by("status", OutboxStatus.PENDING)
            if m.next_attempt_at <= now and (m.claimed_until is None or m.claimed_until <= now)
        )[:limit]
        claimed = [attrs.evolve(m, claimed_until=lease_until) for m in due]
        for message in claimed:
            self._t.replace(message)
        return claimed

    def mark_delivered(self, messages: Sequence[OutboxMessage], at: datetime) -> None:
        for message in messages:
            current = self._t.get(message.id)
            if (
                current is not None
                and current.status == OutboxStatus.PENDING
                and current.claimed_until == message.claimed_until
            ):
                self._t.replace(
                    attrs.evolve(
                        current,
                        status=OutboxStatus.DELIVERED,
                        attempts=current.attempts + 1,
                        delivered_at=at,
                        claimed_until=None,
                        last_error=None,
                    )
                )

    def mentioning(self, *texts: str) -> Sequence[OutboxMessage]:
        rows = self._t.rows.values()
        return self._sorted(m for m in rows if any(mentions(m.payload, t) for t in texts))

    def count_delivered(self, before: datetime) -> int:
        return len(self._delivered_before(before))

    def purge_delivered(self, before: datetime, limit: int) -> int:
        gone = self._sorted(self._delivered_before(before))[:limit]
        for message in gone:
            self._t.delete(message.id)
        return len(gone)

    def _delivered_before(self, before: datetime) -> list[OutboxMessage]:
        delivered = self._t.by("status", OutboxStatus.DELIVERED)
        return [m for m in delivered if m.delivered_at is not None and m.delivered_at < before]


class Overrides(MemoryRepository[DateOverride]):
    def for_coach(self, coach_id: str, first: date, last: date) -> Sequence[DateOverride]:
        rows = (o for o in self._t.by("coach_id", coach_id) if first <= o.date <= last)
        return sorted(rows, key=lambda o: (o.date, o.start_time or "", o.id))


def _offered(entry: WaitlistEntry) -> str | None:
    return entry.coach_id if entry.status == WaitlistStatus.OFFERED else None


class Waitlist(MemoryRepository[WaitlistEntry]):
    indexes: ClassVar[dict[str, Index]] = {
        "slot": lambda e: (e.coach_id, e.start, e.duration),
        "status": attrgetter("status"),
        "offered": _offered,
    }

    def for_slot(self, coach_id: str, start: datetime, duration: int) -> Sequence[WaitlistEntry]:
        rows = self._t.by("slot", (coach_id, start, duration))
        return self._sorted(e for e in rows if e.status in OPEN_WAITLIST)

    def holds(
        self, coach_id: str, start: datetime, end: datetime, now: datetime
    ) -> Sequence[WaitlistEntry]:
        return self._sorted(
            e
            for e in self._t.by("offered", coach_id)
            if start <= e.start < end and e.hold_until is not None and e.hold_until > now
        )

    def expired_holds(self, now: datetime, limit: int) -> Sequence[WaitlistEntry]:
        rows = (
            e
            for e in self._t.by("status", WaitlistStatus.OFFERED)
            if e.hold_until is not None and e.hold_until <= now
        )
        return sorted(rows, key=lambda e: (e.hold_until, e.id))[:limit]


class ActionItems(MemoryRepository[ActionItem]):
    def overdue(self, today: date, *, member_id: str | None = None) -> Sequence[ActionItem]:
        rows = self._matching({} if member_id is None else {"member_id": member_id})
        late = [
            i
            for i in rows
            if i.status == ActionItemStatus.OPEN and i.due_date is not None and i.due_date < today
        ]
        return sorted(late, key=lambda i: (i.due_date, i.id))


class Audit(MemoryRepository[AuditEntry]):
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
        rows = self.list(entity_id=entity_id, actor_id=actor_id, entity_type=entity_type)
        kept = [
            e
            for e in rows
            if (since is None or e.created_at >= since) and (until is None or e.created_at < until)
        ]
        return kept[::-1][:limit]

    def about(self, entity_ids: Collection[str]) -> Sequence[AuditEntry]:
        found = {e.id: e for i in set(entity_ids) for e in self._t.by("entity_id", i)}
        return self._sorted(found.values())

    def count_before(self, before: datetime) -> int:
        return len(self._created_before(before))

    def purge_before(self, before: datetime, limit: int) -> int:
        gone = self._sorted(self._created_before(before))[:limit]
        for entry in gone:
            self._t.delete(entry.id)
        return len(gone)

    def _created_before(self, before: datetime) -> list[AuditEntry]:
        return [e for e in self._t.rows.values() if e.created_at < before]


class Documents(MemoryRepository[Document]):
    def search(
        self,
        words: Sequence[str],
        *,
        member_id: str | None = None,
        owner_id: str | None = None,
        organization_id: str | None = None,
    ) -> Sequence[Document]:
        wanted = list(words)
        rows = self.list(member_id=member_id, owner_id=owner_id, organization_id=organization_id)
        return [d for d in rows if matches(d, wanted)]


QUERIES: dict[str, type[MemoryRepository[Any]]] = {
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
