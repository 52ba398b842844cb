"""The in-memory reference store: the executable specification of the storage port.

One re-entrant lock is held for the whole unit of work, so units of work run
one at a time (serializable by construction); an undo journal rolls back
everything a unit of work wrote when it ends without ``commit()``.
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Sequence
from datetime import date, datetime
from operator import attrgetter
from typing import Any

import attrs

from coachcore.adapters.memory.tables import Journal, Table
from coachcore.domain.audit import AuditEntry
from coachcore.domain.documents import Document
from coachcore.domain.entities import (
    AvailabilityWindow,
    Booking,
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
from coachcore.domain.privacy import mentions
from coachcore.domain.relations import CoachingInterest, CoachingRelationship, Invitation
from coachcore.domain.rules import (
    OPEN_WAITLIST,
    DateOverride,
    SchedulingRules,
    WaitlistEntry,
    WaitlistStatus,
)

Columns = tuple[list[int], list[int], list[int]]
"""Starts (microseconds since the epoch), durations and counts of intervals."""


def _by_id(row: Any) -> str:
    return str(row.id)


class _Repo:
    def __init__(self, table: Table[Any]) -> None:
        self._t = table
        # the table's own methods where a repository adds nothing (one call less)
        if type(self).add is _Repo.add:
            self.add = table.insert  # type: ignore[method-assign]
        if type(self).update is _Repo.update:
            self.update = table.replace  # type: ignore[method-assign]
        if type(self).get is _Repo.get:
            self.get = table.get  # type: ignore[method-assign]

    def add(self, row: Any) -> None:
        self._t.insert(row)

    def update(self, row: Any) -> None:
        self._t.replace(row)

    def get(self, key: str) -> Any:
        return self._t.get(key)


class UserRepo(_Repo):
    def get_by_email(self, email: str) -> User | None:
        return self._t.unique("email", email)

    def list(self, *, role: str | None = None) -> Sequence[User]:
        rows = self._t.rows.values() if role is None else self._t.by("role", role)
        return sorted(rows, key=lambda u: (u.created_at, u.id))


class MemberRepo(_Repo):
    def list(self, *, coach_id: str | None = None) -> Sequence[MemberProfile]:
        rows = self._t.rows.values() if coach_id is None else self._t.by("coach", coach_id)
        return sorted(rows, key=lambda m: (m.joined_at, m.id))

    def count_for_coach(self, coach_id: str, *, active_only: bool) -> int:
        rows = self._t.by("coach", coach_id)
        if not active_only:
            return len(list(rows))
        return sum(1 for m in rows if m.membership_status == MembershipStatus.ACTIVE)


class CoachRepo(_Repo):
    def list(self) -> Sequence[CoachProfile]:
        return sorted(self._t.rows.values(), key=lambda c: (c.created_at, c.id))


class WindowRepo(_Repo):
    def delete(self, window_id: str) -> None:
        self._t.delete(window_id)

    def for_coach(self, coach_id: str) -> Sequence[AvailabilityWindow]:
        rows = self._t.by("coach", coach_id)
        return sorted(rows, key=lambda w: (w.day_of_week, w.start_time, w.id))


class BookingRepo(_Repo):
    def get_by_session(self, session_id: str) -> Booking | None:
        return self._t.unique("session", session_id)

    def get_by_idempotency_key(self, member_id: str, key: str) -> Booking | None:
        return self._t.unique("idempotency", (member_id, key))

    def list(
        self, *, member_id: str | None = None, coach_id: str | None = None
    ) -> Sequence[Booking]:
        if member_id is not None:
            rows: Any = self._t.by("member", member_id)
        elif coach_id is not None:
            rows = self._t.by("coach", coach_id)
        else:
            rows = self._t.rows.values()
        kept = [
            b
            for b in rows
            if (member_id is None or b.member_id == member_id)
            and (coach_id is None or b.coach_id == coach_id)
        ]
        return sorted(kept, key=lambda b: (b.start, b.id))

    def confirmed_for_window(self, window_id: str, after: datetime) -> Sequence[Booking]:
        return sorted(
            (
                b
                for b in self._t.by("window", window_id)
                if b.status == BookingStatus.CONFIRMED and b.start > after
            ),
            key=lambda b: (b.start, b.id),
        )


class SessionRepo(_Repo):
    def __init__(self, table: Table[Any], members: Table[Any]) -> None:
        super().__init__(table)
        self._members = members

    def list(
        self,
        *,
        member_id: str | None = None,
        coach_id: str | None = None,
        coach_of_member: str | None = None,
    ) -> Sequence[Session]:
        if member_id is not None:
            rows: Any = self._t.by("member", member_id)
        elif coach_id is not None:
            rows = self._t.by("coach", coach_id)
        else:
            rows = self._t.rows.values()
        members = None
        if coach_of_member is not None:
            members = {m.user_id for m in self._members.by("coach", coach_of_member)}
        kept = [
            s
            for s in rows
            if (member_id is None or s.member_id == member_id)
            and (coach_id is None or s.coach_id == coach_id)
            and (members is None or s.member_id in members)
        ]
        return sorted(kept, key=lambda s: (s.scheduled_at, s.id))

    def occupying(self, coach_id: str, start: datetime, end: datetime) -> Sequence[Session]:
        rows = self._t.between(coach_id, start, end)
        return [s for s in rows if s.status != SessionStatus.CANCELLED]

    def occupancy(
        self, coach_id: str, start: datetime, end: datetime
    ) -> Sequence[tuple[datetime, int, int]]:
        return self._t.tallied(coach_id, start, end)

    def occupancy_arrays(self, coach_id: str, start: datetime, end: datetime) -> Columns:
        """:meth:`occupancy` as columns, starts in microseconds since the epoch
        (kept so on every write): what the slot engine indexes, without a
        conversion per row."""
        return self._t.tallied_arrays(coach_id, start, end)

    def count_upcoming(self, member_id: str, coach_id: str, after: datetime) -> int:
        return sum(
            1
            for s in self._t.by("member", member_id)
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
            and (s.coach_notes is not None or s.member_notes is not None)
        ]
        rows.sort(key=lambda s: (s.completed_at, s.id))
        return rows[:limit]


class RatingRepo(_Repo):
    def get_for_session(self, session_id: str) -> Rating | None:
        return self._t.unique("session", session_id)

    def for_coach(self, coach_id: str) -> Sequence[Rating]:
        return sorted(self._t.by("coach", coach_id), key=lambda r: (r.created_at, r.id))


class ConversationRepo(_Repo):
    def find_direct(self, user_a: str, user_b: str) -> Conversation | None:
        return self._t.unique("direct", frozenset((user_a, user_b)))

    def for_user(self, user_id: str) -> Sequence[Conversation]:
        rows = [c for c in self._t.rows.values() if user_id in c.participant_ids]
        return sorted(rows, key=lambda c: (c.created_at, c.id))


class NotificationRepo(_Repo):
    def for_recipient(self, user_id: str) -> Sequence[Notification]:
        return sorted(self._t.by("recipient", user_id), key=lambda n: (n.created_at, n.id))


class ReminderRepo(_Repo):
    def for_session(self, session_id: str) -> Sequence[Reminder]:
        return sorted(self._t.by("session", session_id), key=lambda r: (r.due_at, r.id))

    def due(self, now: datetime, limit: int) -> Sequence[Reminder]:
        pending = self._t.by("status", ReminderStatus.PENDING)
        return sorted((r for r in pending if r.due_at <= now), key=lambda r: (r.due_at, r.id))[
            :limit
        ]

    def claim(self, reminder: Reminder, sent_at: datetime) -> bool:
        current = self._t.get(reminder.id)
        if current is None or current.status != ReminderStatus.PENDING:
            return False
        self._t.replace(attrs.evolve(current, status=ReminderStatus.SENT, sent_at=sent_at))
        return True


class OutboxRepo(_Repo):
    def claim_due(
        self, now: datetime, lease_until: datetime, limit: int
    ) -> Sequence[OutboxMessage]:
        pending = self._t.by("status", OutboxStatus.PENDING)
        due = sorted(
            (
                m
                for m in pending
                if m.next_attempt_at <= now and (m.claimed_until is None or m.claimed_until <= now)
            ),
            key=lambda m: (m.created_at, m.id),
        )[:limit]
        claimed = [attrs.evolve(m, claimed_until=lease_until) for m in due]
        for message in claimed:
            self._t.replace(message)
        return claimed

    def mark_delivered(self, messages: Sequence[OutboxMessage], at: datetime) -> None:
        """Record successful deliveries as the dispatcher's update of each one
        would: a message still pending under the lease it was claimed with
        becomes delivered at ``at`` (one more attempt, no lease, no error); one
        that another dispatcher claimed after that lease ended is left alone."""
        table = self._t
        for message in messages:
            current = table.get(message.id)
            if (
                current is not None
                and current.status == OutboxStatus.PENDING
                and current.claimed_until == message.claimed_until
            ):
                table.replace(_delivered(message, at))

    def pending(self) -> Sequence[OutboxMessage]:
        rows = self._t.by("status", OutboxStatus.PENDING)
        return sorted(rows, key=lambda m: (m.created_at, m.id))

    def mentioning(self, text: str) -> Sequence[OutboxMessage]:
        rows = [m for m in self._t.rows.values() if mentions(m.payload, text)]
        return sorted(rows, key=lambda m: (m.created_at, m.id))

    def failed(self) -> Sequence[OutboxMessage]:
        rows = self._t.by("status", OutboxStatus.FAILED)
        return sorted(rows, key=lambda m: (m.created_at, m.id))


_DELIVERY = ("status", "attempts", "delivered_at", "claimed_until", "last_error")
_KEPT: tuple[tuple[str, str], ...] = tuple(
    (a.name, a.alias or a.name)
    for a in attrs.fields(OutboxMessage)
    if a.init and a.name not in _DELIVERY
)
"""The fields a delivery leaves as they are, with their ``__init__`` names."""


def _delivered(message: OutboxMessage, at: datetime) -> OutboxMessage:
    """``attrs.evolve(message, ...)`` to its delivered state, without evolve's
    pass over every field's definition."""
    kept = {alias: getattr(message, name) for name, alias in _KEPT}
    return OutboxMessage(
        **kept,
        status=OutboxStatus.DELIVERED,
        attempts=message.attempts + 1,
        delivered_at=at,
        claimed_until=None,
        last_error=None,
    )


class RulesRepo:
    def __init__(self, table: Table[SchedulingRules]) -> None:
        self._t = table

    def get(self, coach_id: str) -> SchedulingRules | None:
        return self._t.get(coach_id)

    def put(self, rules: SchedulingRules) -> None:
        if self._t.get(rules.coach_id) is None:
            self._t.insert(rules)
        else:
            self._t.replace(rules)


class OverrideRepo(_Repo):
    def delete(self, override_id: str) -> None:
        self._t.delete(override_id)

    def for_coach(self, coach_id: str, first: date, last: date) -> Sequence[DateOverride]:
        rows = (o for o in self._t.by("coach", coach_id) if first <= o.date <= last)
        return sorted(rows, key=lambda o: (o.date, o.start_time or "", o.id))


def _waitlist_order(entry: WaitlistEntry) -> tuple[datetime, int, datetime, str]:
    return (entry.start, entry.position, entry.created_at, entry.id)


class WaitlistRepo(_Repo):
    def for_slot(self, coach_id: str, start: datetime, duration: int) -> Sequence[WaitlistEntry]:
        rows = (
            e for e in self._t.by("slot", (coach_id, start, duration)) if e.status in OPEN_WAITLIST
        )
        return sorted(rows, key=_waitlist_order)

    def holds(
        self, coach_id: str, start: datetime, end: datetime, now: datetime
    ) -> Sequence[WaitlistEntry]:
        rows = (
            e
            for e in self._t.by("offered", coach_id)
            if start <= e.start < end and e.hold_until is not None and e.hold_until > now
        )
        return sorted(rows, key=_waitlist_order)

    def expired_holds(self, now: datetime, limit: int) -> Sequence[WaitlistEntry]:
        rows = (
            e
            for e in self._t.by("status", WaitlistStatus.OFFERED)
            if e.hold_until is not None and e.hold_until <= now
        )
        return sorted(rows, key=lambda e: (e.hold_until, e.id))[:limit]

    def list(
        self, *, member_id: str | None = None, coach_id: str | None = None
    ) -> Sequence[WaitlistEntry]:
        if member_id is not None:
            rows: Any = self._t.by("member", member_id)
        elif coach_id is not None:
            rows = self._t.by("coach", coach_id)
        else:
            rows = self._t.rows.values()
        kept = (e for e in rows if coach_id is None or e.coach_id == coach_id)
        return sorted(kept, key=_waitlist_order)


def _occupying(session: Session) -> tuple[datetime, int] | None:
    """What a session adds to its coach's occupancy tally (nothing if cancelled)."""
    if session.status == SessionStatus.CANCELLED:
        return None
    return (session.scheduled_at, session.duration)


class RelationshipRepo(_Repo):
    def list(
        self, *, coach_id: str | None = None, member_id: str | None = None
    ) -> Sequence[CoachingRelationship]:
        if member_id is not None:
            rows: Any = self._t.by("member", member_id)
        elif coach_id is not None:
            rows = self._t.by("coach", coach_id)
        else:
            rows = self._t.rows.values()
        kept = [
            r
            for r in rows
            if (member_id is None or r.member_id == member_id)
            and (coach_id is None or r.coach_id == coach_id)
        ]
        return sorted(kept, key=lambda r: (r.created_at, r.id))


class InvitationRepo(_Repo):
    def get_by_token_hash(self, token_hash: str) -> Invitation | None:
        return self._t.unique("token", token_hash)

    def list(
        self, *, coach_id: str | None = None, email: str | None = None
    ) -> Sequence[Invitation]:
        rows: Any = self._t.rows.values() if coach_id is None else self._t.by("coach", coach_id)
        kept = [i for i in rows if email is None or i.email == email]
        return sorted(kept, key=lambda i: (i.created_at, i.id))


class InterestRepo(_Repo):
    def list(
        self, *, member_id: str | None = None, status: str | None = None
    ) -> Sequence[CoachingInterest]:
        rows: Any = self._t.rows.values() if member_id is None else self._t.by("member", member_id)
        kept = [i for i in rows if status is None or i.status == status]
        return sorted(kept, key=lambda i: (i.created_at, i.id))


class OrganizationRepo(_Repo):
    def list(self) -> Sequence[Organization]:
        return sorted(self._t.rows.values(), key=lambda o: (o.created_at, o.id))


class OrganizationMembershipRepo(_Repo):
    def delete(self, membership_id: str) -> None:
        self._t.delete(membership_id)

    def find(self, organization_id: str, user_id: str) -> OrganizationMembership | None:
        return self._t.unique("pair", (organization_id, user_id))

    def list(
        self, *, organization_id: str | None = None, user_id: str | None = None
    ) -> Sequence[OrganizationMembership]:
        if organization_id is not None:
            rows: Any = self._t.by("organization", organization_id)
        elif user_id is not None:
            rows = self._t.by("user", user_id)
        else:
            rows = self._t.rows.values()
        kept = [
            m
            for m in rows
            if (organization_id is None or m.organization_id == organization_id)
            and (user_id is None or m.user_id == user_id)
        ]
        return sorted(kept, key=lambda m: (m.created_at, m.id))


def _pick(table: Table[Any], filters: dict[str, str | None], attrs_of: dict[str, str]) -> list[Any]:
    """Rows matching every non-None filter, looked up through the first one's index."""
    given = {k: v for k, v in filters.items() if v is not None}
    if given:
        first = next(iter(given))
        rows: Any = table.by(first, given[first])
    else:
        rows = table.rows.values()
    return [r for r in rows if all(getattr(r, attrs_of[k]) == v for k, v in given.items())]


class ActionPlanRepo(_Repo):
    def list(
        self, *, member_id: str | None = None, coach_id: str | None = None
    ) -> Sequence[ActionPlan]:
        rows = _pick(
            self._t,
            {"member": member_id, "coach": coach_id},
            {"member": "member_id", "coach": "coach_id"},
        )
        return sorted(rows, key=lambda p: (p.created_at, p.id))


class ActionItemRepo(_Repo):
    def list(
        self,
        *,
        member_id: str | None = None,
        coach_id: str | None = None,
        plan_id: str | None = None,
    ) -> Sequence[ActionItem]:
        rows = _pick(
            self._t,
            {"member": member_id, "coach": coach_id, "plan": plan_id},
            {"member": "member_id", "coach": "coach_id", "plan": "plan_id"},
        )
        return sorted(rows, key=lambda i: (i.created_at, i.id))

    def overdue(self, today: date, *, member_id: str | None = None) -> Sequence[ActionItem]:
        rows = _pick(self._t, {"member": member_id}, {"member": "member_id"})
        late = [
            i
            for i in rows
            if i.status == ActionItemStatus.OPEN and i.due_date is not None and i.due_date < today
        ]
        return sorted(late, key=lambda i: (i.due_date, i.id))


class QuickNoteRepo(_Repo):
    def delete(self, note_id: str) -> None:
        self._t.delete(note_id)

    def list(
        self, *, coach_id: str | None = None, member_id: str | None = None
    ) -> Sequence[QuickNote]:
        rows = _pick(
            self._t,
            {"member": member_id, "coach": coach_id},
            {"member": "member_id", "coach": "coach_id"},
        )
        return sorted(rows, key=lambda n: (n.created_at, n.id))


class SessionScoreRepo(_Repo):
    def for_member(self, member_id: str) -> Sequence[SessionScore]:
        rows = self._t.by("member", member_id)
        return sorted(rows, key=lambda s: (s.scored_at, s.session_id))


class AuditRepo(_Repo):
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
        rows = _pick(
            self._t,
            {"entity": entity_id, "actor": actor_id},
            {"entity": "entity_id", "actor": "actor_id"},
        )
        kept = [
            e
            for e in rows
            if (entity_type is None or e.entity_type == entity_type)
            and (since is None or e.created_at >= since)
            and (until is None or e.created_at < until)
        ]
        return sorted(kept, key=lambda e: (e.created_at, e.id), reverse=True)[:limit]

    def about(self, entity_ids: Collection[str]) -> Sequence[AuditEntry]:
        found = {e.id: e for i in set(entity_ids) for e in self._t.by("entity", i)}
        return sorted(found.values(), key=lambda e: (e.created_at, e.id))


class DocumentRepo(_Repo):
    def delete(self, document_id: str) -> None:
        self._t.delete(document_id)

    def list(
        self,
        *,
        member_id: str | None = None,
        owner_id: str | None = None,
        organization_id: str | None = None,
    ) -> Sequence[Document]:
        rows = _pick(
            self._t,
            {"member": member_id, "owner": owner_id, "organization": organization_id},
            {"member": "member_id", "owner": "owner_id", "organization": "organization_id"},
        )
        return sorted(rows, key=lambda d: (d.created_at, d.id))


class DocumentContentRepo(_Repo):
    def delete(self, document_id: str) -> None:
        self._t.delete(document_id)


def _tables() -> dict[str, Table[Any]]:
    return {
        "users": Table(
            "user", _by_id, {"role": attrgetter("role")}, {"email": attrgetter("email")}
        ),
        "members": Table(
            "member profile", attrgetter("user_id"), {"coach": attrgetter("coach_id")}
        ),
        "coaches": Table("coach profile", attrgetter("user_id")),
        "windows": Table("availability window", _by_id, {"coach": attrgetter("coach_id")}),
        "bookings": Table(
            "booking",
            _by_id,
            {
                "member": attrgetter("member_id"),
                "coach": attrgetter("coach_id"),
                "window": attrgetter("window_id"),
            },
            {
                "session": attrgetter("session_id"),
                "idempotency": lambda b: (
                    None if b.idempotency_key is None else (b.member_id, b.idempotency_key)
                ),
            },
        ),
        "sessions": Table(
            "session",
            _by_id,
            {"member": attrgetter("member_id"), "coach": attrgetter("coach_id")},
            timeline=(attrgetter("coach_id"), attrgetter("scheduled_at")),
            tally=(attrgetter("coach_id"), _occupying),
        ),
        "ratings": Table(
            "rating",
            _by_id,
            {"coach": attrgetter("coach_id")},
            {"session": attrgetter("session_id")},
        ),
        "calendar_events": Table(
            "calendar event", _by_id, unique={"session": attrgetter("session_id")}
        ),
        "conversations": Table(
            "conversation",
            _by_id,
            unique={
                "direct": lambda c: frozenset(c.participant_ids) if c.kind == "direct" else None
            },
        ),
        "notifications": Table("notification", _by_id, {"recipient": attrgetter("recipient_id")}),
        "reminders": Table(
            "reminder",
            _by_id,
            {"session": attrgetter("session_id"), "status": attrgetter("status")},
        ),
        "outbox": Table(
            "outbox message",
            _by_id,
            {"status": attrgetter("status")},
            {"idempotency": attrgetter("idempotency_key")},
        ),
        "rules": Table("scheduling rules", attrgetter("coach_id")),
        "overrides": Table("date override", _by_id, {"coach": attrgetter("coach_id")}),
        "waitlist": Table(
            "waitlist entry",
            _by_id,
            {
                "slot": lambda e: (e.coach_id, e.start, e.duration),
                "member": attrgetter("member_id"),
                "coach": attrgetter("coach_id"),
                "status": attrgetter("status"),
                "offered": lambda e: e.coach_id if e.status == WaitlistStatus.OFFERED else None,
            },
        ),
        "relationships": Table(
            "coaching relationship",
            _by_id,
            {"coach": attrgetter("coach_id"), "member": attrgetter("member_id")},
        ),
        "invitations": Table(
            "invitation",
            _by_id,
            {"coach": attrgetter("coach_id")},
            {"token": attrgetter("token_hash")},
        ),
        "interests": Table("coaching interest", _by_id, {"member": attrgetter("member_id")}),
        "session_settings": Table("session settings", attrgetter("member_id")),
        "organizations": Table("organization", _by_id),
        "organization_memberships": Table(
            "organization membership",
            _by_id,
            {"organization": attrgetter("organization_id"), "user": attrgetter("user_id")},
            {"pair": lambda m: (m.organization_id, m.user_id)},
        ),
        "action_plans": Table(
            "action plan",
            _by_id,
            {"member": attrgetter("member_id"), "coach": attrgetter("coach_id")},
        ),
        "action_items": Table(
            "action item",
            _by_id,
            {
                "member": attrgetter("member_id"),
                "coach": attrgetter("coach_id"),
                "plan": attrgetter("plan_id"),
            },
        ),
        "quick_notes": Table(
            "quick note",
            _by_id,
            {"member": attrgetter("member_id"), "coach": attrgetter("coach_id")},
        ),
        "session_scores": Table(
            "session score", attrgetter("session_id"), {"member": attrgetter("member_id")}
        ),
        "audit": Table(
            "audit entry",
            _by_id,
            {"entity": attrgetter("entity_id"), "actor": attrgetter("actor_id")},
        ),
        "documents": Table(
            "document",
            _by_id,
            {
                "member": attrgetter("member_id"),
                "owner": attrgetter("owner_id"),
                "organization": attrgetter("organization_id"),
            },
        ),
        "document_contents": Table("document content", attrgetter("document_id")),
    }


def _repos(tables: dict[str, Table[Any]]) -> dict[str, Any]:
    """One repository per table, made once per store: they keep no state of
    their own, so every unit of work shares them."""
    return {
        "users": UserRepo(tables["users"]),
        "members": MemberRepo(tables["members"]),
        "coaches": CoachRepo(tables["coaches"]),
        "windows": WindowRepo(tables["windows"]),
        "bookings": BookingRepo(tables["bookings"]),
        "sessions": SessionRepo(tables["sessions"], tables["members"]),
        "ratings": RatingRepo(tables["ratings"]),
        "calendar_events": _Repo(tables["calendar_events"]),
        "conversations": ConversationRepo(tables["conversations"]),
        "notifications": NotificationRepo(tables["notifications"]),
        "reminders": ReminderRepo(tables["reminders"]),
        "outbox": OutboxRepo(tables["outbox"]),
        "rules": RulesRepo(tables["rules"]),
        "overrides": OverrideRepo(tables["overrides"]),
        "waitlist": WaitlistRepo(tables["waitlist"]),
        "relationships": RelationshipRepo(tables["relationships"]),
        "invitations": InvitationRepo(tables["invitations"]),
        "interests": InterestRepo(tables["interests"]),
        "session_settings": _Repo(tables["session_settings"]),
        "organizations": OrganizationRepo(tables["organizations"]),
        "organization_memberships": OrganizationMembershipRepo(tables["organization_memberships"]),
        "action_plans": ActionPlanRepo(tables["action_plans"]),
        "action_items": ActionItemRepo(tables["action_items"]),
        "quick_notes": QuickNoteRepo(tables["quick_notes"]),
        "session_scores": SessionScoreRepo(tables["session_scores"]),
        "audit": AuditRepo(tables["audit"]),
        "documents": DocumentRepo(tables["documents"]),
        "document_contents": DocumentContentRepo(tables["document_contents"]),
    }


class MemoryUnitOfWork:
    """A unit of work over the memory tables; created by :class:`MemoryStore`.

    It is its own context manager: entering takes the store's lock and starts
    recording undo entries in the store's journal; leaving undoes whatever was
    not committed and releases the lock. Setting one up costs no work per
    table: the repositories are the store's, and the tables share one journal.
    """

    users: UserRepo
    members: MemberRepo
    coaches: CoachRepo
    windows: WindowRepo
    bookings: BookingRepo
    sessions: SessionRepo
    ratings: RatingRepo
    calendar_events: _Repo
    conversations: ConversationRepo
    notifications: NotificationRepo
    reminders: ReminderRepo
    outbox: OutboxRepo
    rules: RulesRepo
    overrides: OverrideRepo
    waitlist: WaitlistRepo
    relationships: RelationshipRepo
    invitations: InvitationRepo
    interests: InterestRepo
    session_settings: _Repo
    organizations: OrganizationRepo
    organization_memberships: OrganizationMembershipRepo
    action_plans: ActionPlanRepo
    action_items: ActionItemRepo
    quick_notes: QuickNoteRepo
    session_scores: SessionScoreRepo
    audit: AuditRepo
    documents: DocumentRepo
    document_contents: DocumentContentRepo

    def __init__(self, repos: dict[str, Any], journal: Journal, lock: threading.RLock) -> None:
        self.__dict__.update(repos)
        self._journal = journal
        self._lock = lock
        self._outer: list[Any] | None = None
        self._entries: list[Any] = []
        self.committed = False

    def __enter__(self) -> MemoryUnitOfWork:
        self._lock.acquire()
        self._outer = self._journal.begin()
        entries = self._journal.entries
        assert entries is not None
        self._entries = entries
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self._journal.end(self._outer)
        finally:
            self._lock.release()

    def lock_coach(self, coach_id: str) -> None:
        """Nothing to do: the store lock already serializes units of work."""

    def commit(self) -> None:
        self._entries.clear()
        self.committed = True

    def rollback(self) -> None:
        Journal.undo_entries(self._entries)


class MemoryStore:
    """The reference store. Thread-safe; dispatches the outbox after each commit."""

    dispatch_on_commit = True

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._tables = _tables()
        self._journal = Journal()
        for table in self._tables.values():
            table.journal = self._journal
        self._repos = _repos(self._tables)

    def unit_of_work(self, *, write: bool) -> MemoryUnitOfWork:
        """A unit of work, to be used as a context manager (``with``)."""
        return MemoryUnitOfWork(self._repos, self._journal, self._lock)

    def close(self) -> None:
        """Nothing to release."""
