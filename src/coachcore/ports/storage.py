"""The storage port: a unit of work holding one repository per entity.

Contract shared by every store (the memory store is the executable spec, and
:mod:`coachcore.testing.conformance` checks any store against it):

- ``store.unit_of_work(write=...)`` returns a context manager; nothing is
  visible to others until ``commit()``; leaving the block without commit
  rolls back. Repositories never commit.
- A write unit of work serializes booking decisions per coach: once
  ``lock_coach(coach_id)`` returns, no other unit of work can change that
  coach's sessions until this one ends.
- Every repository is described once, in :class:`UnitOfWork`'s annotations
  (:class:`Described`: entity, key, list filters, order, unique keys); a store
  builds its plain repositories (:class:`Repository`) from those descriptions
  and writes by hand only the queries a description cannot express (the
  Protocols below that extend :class:`Repository`).
- ``get`` returns None for unknown keys; ``add`` of a duplicate unique key
  raises ``coachcore.errors.Conflict`` (at ``add``, or at the next statement
  or ``commit`` where the store holds inserts back, see :meth:`UnitOfWork.flush`).
- ``update`` is a compare-and-set: it writes only if the stored item is still
  the one this unit of work read, else raises ``Conflict`` ("changed
  meanwhile") and writes nothing; so two concurrent transitions of one item
  never both succeed.
"""

from __future__ import annotations

import typing
from collections.abc import Collection, Sequence
from contextlib import AbstractContextManager
from datetime import date, datetime
from functools import cache
from typing import Annotated, Protocol, TypeVar

import attrs

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
from coachcore.domain.hub import ActionItem, ActionPlan, QuickNote, SessionScore
from coachcore.domain.organizations import (
    Organization,
    OrganizationInvitation,
    OrganizationMembership,
)
from coachcore.domain.relations import (
    CoachingInterest,
    CoachingRelationship,
    Invitation,
    MemberSessionSettings,
)
from coachcore.domain.rules import DateOverride, SchedulingRules, WaitlistEntry
from coachcore.ports.blobs import BlobStore
from coachcore.ports.cipher import Cipher

E = typing.TypeVar("E")
T = TypeVar("T")

Occupancy = tuple[Sequence[int], Sequence[int], Sequence[int]]
"""A coach's occupied intervals as three columns in (start, duration) order:
starts in microseconds since the epoch, durations in minutes, and how many
non-cancelled sessions hold each interval."""


@attrs.frozen
class Described:
    """How a repository stores and lists its entity.

    - ``entity``: the attrs class stored.
    - ``table``: the stored name (the SQL table's name without prefix).
    - ``key``: the field ``get``, ``update`` and ``delete`` look up.
    - ``filters``: the fields ``list`` may filter on by equality.
    - ``order``: the fields ``list`` sorts by (strings compared byte-wise).
    - ``unique``: the field groups that identify at most one item (``find``).
    """

    entity: type
    table: str
    key: str = "id"
    filters: tuple[str, ...] = ()
    order: tuple[str, ...] = ("created_at", "id")
    unique: tuple[tuple[str, ...], ...] = ()


class Repository(Protocol[E]):
    """The plain operations every repository has, driven by its :class:`Described`."""

    def add(self, item: E) -> None:
        """Store a new item; a taken key or unique key is a ``Conflict``."""
        ...

    def update(self, item: E) -> None:
        """Replace the stored item with the same key (compare-and-set, see the
        module docstring); ``NotFound`` if there is none."""
        ...

    def delete(self, key: str) -> None:
        """Remove the item with this key (nothing if there is none)."""
        ...

    def get(self, key: str) -> E | None:
        """The entity with this id, or None."""
        ...

    def find(self, **unique: object) -> E | None:
        """The item whose fields equal ``unique``, one of the declared unique keys."""
        ...

    def list(self, **filters: object) -> Sequence[E]:
        """Items whose declared filter fields equal the given values (a None
        value filters nothing), in the declared order."""
        ...


class MemberRepository(Repository[MemberProfile], Protocol):
    def count_for_coach(self, coach_id: str, *, active_only: bool) -> int:
        """How many members are assigned to the coach (for the coach's capacity)."""
        ...


class BookingRepository(Repository[Booking], Protocol):
    def confirmed_for_window(self, window_id: str, after: datetime) -> Sequence[Booking]:
        """Confirmed bookings from this window starting after ``after``, by start, id."""
        ...


class SessionRepository(Repository[Session], Protocol):
    def of_members_coached_by(self, coach_id: str) -> Sequence[Session]:
        """Sessions of the members whose profile names this coach, whoever the
        session's coach is, by scheduled_at, then id."""
        ...

    def seats_held(
        self, coach_id: str, member_id: str, start: datetime, end: datetime
    ) -> Sequence[Session]:
        """The member's non-cancelled sessions with the coach starting in
        ``[start, end)``, by start, then id: the slots where they have a seat."""
        ...

    def occupancy(self, coach_id: str, start: datetime, end: datetime) -> Occupancy:
        """:data:`Occupancy` of the coach's non-cancelled sessions starting in
        ``[start, end)``: what the slot engine indexes."""
        ...

    def count_upcoming(self, member_id: str, coach_id: str, after: datetime) -> int:
        """How many scheduled sessions the member has with the coach after ``after``."""
        ...

    def completed_with_notes(self, before: datetime, limit: int) -> Sequence[Session]:
        """Completed sessions with ``completed_at <= before`` that still hold coach
        or member notes, oldest completion first, then id (the retention purge)."""
        ...


class ConversationRepository(Repository[Conversation], Protocol):
    def find_direct(self, user_a: str, user_b: str) -> Conversation | None:
        """The one-to-one conversation between the two users, if any."""
        ...

    def for_user(self, user_id: str) -> Sequence[Conversation]:
        """Conversations the user takes part in, oldest first."""
        ...


class ReminderRepository(Repository[Reminder], Protocol):
    def due(self, now: datetime, limit: int) -> Sequence[Reminder]:
        """Pending reminders with ``due_at <= now``, oldest due first."""
        ...

    def claim(self, reminder: Reminder, sent_at: datetime | None) -> bool:
        """Mark a pending reminder sent at ``sent_at`` (None: cancelled, it is not
        to go out); False if it was no longer pending."""
        ...


class OutboxRepository(Repository[OutboxMessage], Protocol):
    def claim_due(
        self, now: datetime, lease_until: datetime, limit: int
    ) -> Sequence[OutboxMessage]:
        """Pending messages due at ``now`` and not leased, leased until
        ``lease_until``, oldest first. Two concurrent callers never receive the
        same message."""
        ...

    def mark_delivered(self, messages: Sequence[OutboxMessage], at: datetime) -> None:
        """Record these claimed messages as delivered at ``at`` (one more attempt,
        no lease, no error); a message another dispatcher claimed since, or
        that is no longer pending, is left alone."""
        ...

    def mentioning(self, *texts: str) -> Sequence[OutboxMessage]:
        """Messages of any status with one of ``texts`` inside a string value of
        their payload, oldest first (erasure rewrites them; a rare, scanning
        call: a sealing store opens every sealed payload once)."""
        ...

    def count_delivered(self, before: datetime) -> int:
        """How many delivered messages were delivered before ``before`` (what
        :meth:`purge_delivered` would delete)."""
        ...

    def purge_delivered(self, before: datetime, limit: int) -> int:
        """Delete up to ``limit`` delivered messages delivered before ``before``,
        oldest first; returns how many. Pending messages (leased or not) and
        failed ones are never deleted."""
        ...


class DateOverrideRepository(Repository[DateOverride], Protocol):
    def for_coach(self, coach_id: str, first: date, last: date) -> Sequence[DateOverride]:
        """The coach's overrides dated ``first`` .. ``last`` (inclusive), by date,
        start time, then id (whole-day blocks first)."""
        ...


class WaitlistRepository(Repository[WaitlistEntry], Protocol):
    def for_slot(self, coach_id: str, start: datetime, duration: int) -> Sequence[WaitlistEntry]:
        """Open (waiting or offered) entries of one slot, first come first."""
        ...

    def holds(
        self, coach_id: str, start: datetime, end: datetime, now: datetime
    ) -> Sequence[WaitlistEntry]:
        """Offered entries still holding a seat at ``now``, starting in ``[start, end)``."""
        ...

    def expired_holds(self, now: datetime, limit: int) -> Sequence[WaitlistEntry]:
        """Offered entries whose hold ended at or before ``now``, oldest hold first."""
        ...


class ActionItemRepository(Repository[ActionItem], Protocol):
    def overdue(self, today: date, *, member_id: str | None = None) -> Sequence[ActionItem]:
        """Open items due before ``today``, ordered by due_date, then id."""
        ...


class AuditRepository(Repository[AuditEntry], Protocol):
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
        """Entries with ``since <= created_at < until``, newest first (created_at,
        then id, descending), at most ``limit``."""
        ...

    def about(self, entity_ids: Collection[str]) -> Sequence[AuditEntry]:
        """Every entry about any of ``entity_ids``, oldest first (created_at, then id)."""
        ...

    def count_before(self, before: datetime) -> int:
        """How many entries were created before ``before`` (what
        :meth:`purge_before` would delete)."""
        ...

    def purge_before(self, before: datetime, limit: int) -> int:
        """Delete up to ``limit`` entries created before ``before`` (not at
        it), oldest first (created_at, then id); returns how many."""
        ...


_TIMES = ("created_at", "id")


class DocumentRepository(Repository[Document], Protocol):
    def search(
        self,
        words: Sequence[str],
        *,
        member_id: str | None = None,
        owner_id: str | None = None,
        organization_id: str | None = None,
    ) -> Sequence[Document]:
        """Documents (oldest first, filtered like ``list``) that
        :func:`coachcore.domain.documents.matches` ``words`` (from
        :func:`~coachcore.domain.documents.search_words`: a phrase, its last
        word a prefix); none for no words. SQL stores use the database's full-text index where the
        text is not sealed, and open and scan where it is (see
        ``docs/guides/documents.md``); the memory store scans."""
        ...


class UnitOfWork(Protocol):
    """The repositories, each described once, and the transaction's controls."""

    users: Annotated[
        Repository[User],
        Described(User, "users", filters=("role", "manager_id"), unique=(("email",),)),
    ]
    members: Annotated[
        MemberRepository,
        Described(
            MemberProfile,
            "member_profiles",
            key="user_id",
            filters=("coach_id",),
            order=("joined_at", "id"),
        ),
    ]
    coaches: Annotated[
        Repository[CoachProfile], Described(CoachProfile, "coach_profiles", key="user_id")
    ]
    windows: Annotated[
        Repository[AvailabilityWindow],
        Described(
            AvailabilityWindow,
            "availability_windows",
            filters=("coach_id",),
            order=("day_of_week", "start_time", "id"),
        ),
    ]
    bookings: Annotated[
        BookingRepository,
        Described(
            Booking,
            "bookings",
            filters=("member_id", "coach_id"),
            order=("start", "id"),
            unique=(("session_id",), ("member_id", "idempotency_key")),
        ),
    ]
    sessions: Annotated[
        SessionRepository,
        Described(
            Session, "sessions", filters=("member_id", "coach_id"), order=("scheduled_at", "id")
        ),
    ]
    ratings: Annotated[
        Repository[Rating],
        Described(Rating, "ratings", filters=("coach_id",), unique=(("session_id",),)),
    ]
    calendar_events: Annotated[
        Repository[CalendarEvent],
        Described(
            CalendarEvent, "calendar_events", order=("start", "id"), unique=(("session_id",),)
        ),
    ]
    conversations: Annotated[ConversationRepository, Described(Conversation, "conversations")]
    notifications: Annotated[
        Repository[Notification],
        Described(Notification, "notifications", filters=("recipient_id",)),
    ]
    reminders: Annotated[
        ReminderRepository,
        Described(Reminder, "reminders", filters=("session_id",), order=("due_at", "id")),
    ]
    outbox: Annotated[
        OutboxRepository,
        Described(OutboxMessage, "outbox", filters=("status",), unique=(("idempotency_key",),)),
    ]
    rules: Annotated[
        Repository[SchedulingRules],
        Described(SchedulingRules, "scheduling_rules", key="coach_id", order=("coach_id",)),
    ]
    overrides: Annotated[
        DateOverrideRepository,
        Described(DateOverride, "date_overrides", filters=("coach_id",), order=("date", "id")),
    ]
    waitlist: Annotated[
        WaitlistRepository,
        Described(
            WaitlistEntry,
            "waitlist_entries",
            filters=("member_id", "coach_id"),
            order=("start", "position", "created_at", "id"),
        ),
    ]
    relationships: Annotated[
        Repository[CoachingRelationship],
        Described(
            CoachingRelationship, "coaching_relationships", filters=("coach_id", "member_id")
        ),
    ]
    invitations: Annotated[
        Repository[Invitation],
        Described(
            Invitation, "invitations", filters=("coach_id", "email"), unique=(("token_hash",),)
        ),
    ]
    interests: Annotated[
        Repository[CoachingInterest],
        Described(CoachingInterest, "coaching_interests", filters=("member_id", "status")),
    ]
    session_settings: Annotated[
        Repository[MemberSessionSettings],
        Described(
            MemberSessionSettings,
            "member_session_settings",
            key="member_id",
            order=("member_id",),
        ),
    ]
    organizations: Annotated[Repository[Organization], Described(Organization, "organizations")]
    organization_memberships: Annotated[
        Repository[OrganizationMembership],
        Described(
            OrganizationMembership,
            "organization_memberships",
            filters=("organization_id", "user_id"),
            unique=(("organization_id", "user_id"),),
        ),
    ]
    organization_invitations: Annotated[
        Repository[OrganizationInvitation],
        Described(
            OrganizationInvitation,
            "organization_invitations",
            filters=("organization_id", "user_id"),
        ),
    ]
    action_plans: Annotated[
        Repository[ActionPlan],
        Described(ActionPlan, "action_plans", filters=("member_id", "coach_id")),
    ]
    action_items: Annotated[
        ActionItemRepository,
        Described(ActionItem, "action_items", filters=("member_id", "coach_id", "plan_id")),
    ]
    quick_notes: Annotated[
        Repository[QuickNote],
        Described(QuickNote, "quick_notes", filters=("coach_id", "member_id")),
    ]
    session_scores: Annotated[
        Repository[SessionScore],
        Described(
            SessionScore,
            "session_scores",
            key="session_id",
            filters=("member_id",),
            order=("scored_at", "session_id"),
        ),
    ]
    audit: Annotated[
        AuditRepository,
        Described(AuditEntry, "audit_log", filters=("entity_id", "actor_id", "entity_type")),
    ]
    documents: Annotated[
        DocumentRepository,
        Described(Document, "documents", filters=("member_id", "owner_id", "organization_id")),
    ]
    document_contents: Annotated[
        Repository[DocumentContent],
        Described(DocumentContent, "document_contents", key="document_id", order=("document_id",)),
    ]

    def lock_coach(self, coach_id: str) -> None:
        """Serialize this coach's booking decisions until the unit of work ends.
        Use cases also take it keyed by a member's user id, to serialize the
        start and the end of that member's coaching, and by an organization's
        id, to serialize its invitations (ids never collide: they are UUIDs)."""
        ...

    def hold_inserts(self) -> None:
        """Allow the store to hold the rows added from now on back until the
        next statement, :meth:`flush` or :meth:`commit`, to insert them
        together; a duplicate key then raises ``Conflict`` there rather than
        from ``add`` (for units of work that never go on after a Conflict).
        A store that writes at once does nothing."""
        ...

    def flush(self) -> None:
        """Send the rows held back (see :meth:`hold_inserts`) now, so that a
        ``Conflict`` they cause is raised here."""
        ...

    def commit(self) -> None:
        """Make the unit of work's writes durable and visible."""
        ...

    def rollback(self) -> None:
        """Drop the unit of work's writes."""
        ...


class Store(Protocol):
    """A storage backend: the factory of units of work."""

    dispatch_on_commit: bool
    """Deliver the outbox right after each commit (the memory store does)."""
    cipher: Cipher | None
    """What the store seals sensitive fields with (None: no keys); a store that
    keeps nothing at rest holds the cipher it was given all the same."""

    blobs: BlobStore
    """Where document bytes are kept (:mod:`coachcore.ports.blobs`); a store
    with a cipher seals them before they leave the process."""

    def unit_of_work(self, *, write: bool) -> AbstractContextManager[UnitOfWork]:
        """A transaction over every repository; ``write=True`` for a writing one."""
        ...

    def wipe_traces(self) -> None:
        """Make what committed transactions deleted or overwrote unrecoverable
        from the store's files, as far as the store can (SQLite: secure_delete
        is on, and the WAL is checkpointed and truncated); called after an
        erasure. A store that keeps nothing at rest does nothing."""
        ...

    def close(self) -> None:
        """Release what the store holds (connections, engines it created)."""
        ...


@cache
def repositories() -> dict[str, tuple[Described, type]]:
    """Each repository's name, description and Protocol, read from
    :class:`UnitOfWork`'s annotations (the one list of repositories)."""
    found: dict[str, tuple[Described, type]] = {}
    hints = typing.get_type_hints(UnitOfWork, include_extras=True)
    for name, hint in hints.items():
        if typing.get_origin(hint) is Annotated:
            protocol, described = typing.get_args(hint)[:2]
            found[name] = (described, protocol)
    return found
