"""The storage port: a unit of work holding one repository per entity.

Contract shared by every store (the memory store is the executable spec):

- ``store.unit_of_work(write=...)`` returns a context manager; nothing is
  visible to others until ``commit()``; leaving the block without commit
  rolls back. Repositories never commit.
- A write unit of work serializes booking decisions per coach: once
  ``lock_coach(coach_id)`` returns, no other unit of work can change that
  coach's sessions until this one ends.
- ``get`` returns None for unknown ids; ``add`` of a duplicate unique key
  raises ``coachcore.errors.Conflict``; stores translate their own errors.
- Lists come back in a stable order (documented per method).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from contextlib import AbstractContextManager
from datetime import date, datetime
from typing import Protocol

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
from coachcore.domain.organizations import Organization, OrganizationMembership
from coachcore.domain.relations import (
    CoachingInterest,
    CoachingRelationship,
    Invitation,
    MemberSessionSettings,
)
from coachcore.domain.rules import DateOverride, SchedulingRules, WaitlistEntry


class UserRepository(Protocol):
    def add(self, user: User) -> None: ...
    def update(self, user: User) -> None: ...
    def get(self, user_id: str) -> User | None: ...
    def get_by_email(self, email: str) -> User | None: ...
    def list(self, *, role: str | None = None) -> Sequence[User]:
        """Users ordered by creation time, then id."""
        ...


class MemberRepository(Protocol):
    def add(self, profile: MemberProfile) -> None: ...
    def update(self, profile: MemberProfile) -> None: ...
    def get(self, user_id: str) -> MemberProfile | None:
        """The profile of the member with this user id."""
        ...

    def list(self, *, coach_id: str | None = None) -> Sequence[MemberProfile]:
        """Profiles ordered by ``joined_at``, then id; all when coach_id is None."""
        ...

    def count_for_coach(self, coach_id: str, *, active_only: bool) -> int: ...


class CoachRepository(Protocol):
    def add(self, profile: CoachProfile) -> None: ...
    def update(self, profile: CoachProfile) -> None: ...
    def get(self, user_id: str) -> CoachProfile | None: ...
    def list(self) -> Sequence[CoachProfile]:
        """Profiles ordered by creation time, then id."""
        ...


class WindowRepository(Protocol):
    def add(self, window: AvailabilityWindow) -> None: ...
    def update(self, window: AvailabilityWindow) -> None: ...
    def delete(self, window_id: str) -> None: ...
    def get(self, window_id: str) -> AvailabilityWindow | None: ...
    def for_coach(self, coach_id: str) -> Sequence[AvailabilityWindow]:
        """The coach's windows ordered by day_of_week, start_time."""
        ...


class BookingRepository(Protocol):
    def add(self, booking: Booking) -> None: ...
    def update(self, booking: Booking) -> None: ...
    def get(self, booking_id: str) -> Booking | None: ...
    def get_by_session(self, session_id: str) -> Booking | None: ...
    def get_by_idempotency_key(self, member_id: str, key: str) -> Booking | None: ...
    def list(
        self, *, member_id: str | None = None, coach_id: str | None = None
    ) -> Sequence[Booking]:
        """Bookings ordered by start, then id, filtered by the given ids."""
        ...

    def confirmed_for_window(self, window_id: str, after: datetime) -> Sequence[Booking]:
        """Confirmed bookings from this window starting after ``after``."""
        ...


class SessionRepository(Protocol):
    def add(self, session: Session) -> None: ...
    def update(self, session: Session) -> None: ...
    def get(self, session_id: str) -> Session | None: ...
    def list(
        self,
        *,
        member_id: str | None = None,
        coach_id: str | None = None,
        coach_of_member: str | None = None,
    ) -> Sequence[Session]:
        """Sessions ordered by scheduled_at, then id.

        ``coach_of_member`` keeps the sessions of members whose profile names
        that coach, whoever the session's coach is.
        """
        ...

    def occupying(self, coach_id: str, start: datetime, end: datetime) -> Sequence[Session]:
        """The coach's non-cancelled sessions starting in ``[start, end)``, by start."""
        ...

    def occupancy(
        self, coach_id: str, start: datetime, end: datetime
    ) -> Sequence[tuple[datetime, int, int]]:
        """``(scheduled_at, duration, how many)`` of the coach's non-cancelled
        sessions starting in ``[start, end)``, one row per distinct pair, by
        start then duration (what the slot engine needs, pre-counted)."""
        ...

    def count_upcoming(self, member_id: str, coach_id: str, after: datetime) -> int:
        """How many scheduled sessions the member has with the coach after ``after``."""
        ...

    def completed_with_notes(self, before: datetime, limit: int) -> Sequence[Session]:
        """Completed sessions with ``completed_at <= before`` that still hold coach
        or member notes, oldest completion first, then id (the retention purge)."""
        ...


class RatingRepository(Protocol):
    def add(self, rating: Rating) -> None: ...
    def update(self, rating: Rating) -> None: ...
    def get_for_session(self, session_id: str) -> Rating | None: ...
    def for_coach(self, coach_id: str) -> Sequence[Rating]: ...


class CalendarEventRepository(Protocol):
    def add(self, event: CalendarEvent) -> None: ...
    def update(self, event: CalendarEvent) -> None: ...
    def get(self, event_id: str) -> CalendarEvent | None: ...


class ConversationRepository(Protocol):
    def add(self, conversation: Conversation) -> None: ...
    def get(self, conversation_id: str) -> Conversation | None: ...
    def find_direct(self, user_a: str, user_b: str) -> Conversation | None: ...
    def for_user(self, user_id: str) -> Sequence[Conversation]:
        """Conversations the user takes part in, oldest first."""
        ...


class NotificationRepository(Protocol):
    def add(self, notification: Notification) -> None: ...
    def update(self, notification: Notification) -> None: ...
    def for_recipient(self, user_id: str) -> Sequence[Notification]:
        """The user's notifications, oldest first."""
        ...


class ReminderRepository(Protocol):
    def add(self, reminder: Reminder) -> None: ...
    def update(self, reminder: Reminder) -> None: ...
    def for_session(self, session_id: str) -> Sequence[Reminder]: ...
    def due(self, now: datetime, limit: int) -> Sequence[Reminder]:
        """Pending reminders with ``due_at <= now``, oldest due first."""
        ...

    def claim(self, reminder: Reminder, sent_at: datetime) -> bool:
        """Mark a pending reminder sent; False if it was no longer pending."""
        ...


class OutboxRepository(Protocol):
    def add(self, message: OutboxMessage) -> None: ...
    def update(self, message: OutboxMessage) -> None: ...
    def get(self, message_id: str) -> OutboxMessage | None: ...
    def claim_due(
        self, now: datetime, lease_until: datetime, limit: int
    ) -> Sequence[OutboxMessage]:
        """Pending messages due at ``now`` and not leased, leased until ``lease_until``.

        Two concurrent callers never receive the same message.
        """
        ...

    def pending(self) -> Sequence[OutboxMessage]: ...
    def failed(self) -> Sequence[OutboxMessage]: ...
    def mentioning(self, text: str) -> Sequence[OutboxMessage]:
        """Messages of any status with ``text`` inside a string value of their
        payload, oldest first (erasure rewrites them; a rare, scanning call)."""
        ...


class SchedulingRulesRepository(Protocol):
    def get(self, coach_id: str) -> SchedulingRules | None: ...
    def put(self, rules: SchedulingRules) -> None:
        """Insert or replace the coach's rules."""
        ...


class DateOverrideRepository(Protocol):
    def add(self, override: DateOverride) -> None: ...
    def get(self, override_id: str) -> DateOverride | None: ...
    def delete(self, override_id: str) -> None: ...
    def for_coach(self, coach_id: str, first: date, last: date) -> Sequence[DateOverride]:
        """The coach's overrides dated ``first`` .. ``last`` (inclusive), by date,
        start time, then id (whole-day blocks first)."""
        ...


class WaitlistRepository(Protocol):
    def add(self, entry: WaitlistEntry) -> None: ...
    def update(self, entry: WaitlistEntry) -> None: ...
    def get(self, entry_id: str) -> WaitlistEntry | None: ...
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

    def list(
        self, *, member_id: str | None = None, coach_id: str | None = None
    ) -> Sequence[WaitlistEntry]:
        """Entries by slot start, then joining time, then id."""
        ...


class RelationshipRepository(Protocol):
    def add(self, relationship: CoachingRelationship) -> None: ...
    def update(self, relationship: CoachingRelationship) -> None: ...
    def get(self, relationship_id: str) -> CoachingRelationship | None: ...
    def list(
        self, *, coach_id: str | None = None, member_id: str | None = None
    ) -> Sequence[CoachingRelationship]:
        """Relationships ordered by created_at, then id, filtered by the given ids."""
        ...


class InvitationRepository(Protocol):
    def add(self, invitation: Invitation) -> None: ...
    def update(self, invitation: Invitation) -> None: ...
    def get(self, invitation_id: str) -> Invitation | None: ...
    def get_by_token_hash(self, token_hash: str) -> Invitation | None: ...
    def list(
        self, *, coach_id: str | None = None, email: str | None = None
    ) -> Sequence[Invitation]:
        """Invitations ordered by created_at, then id, filtered by coach and email."""
        ...


class InterestRepository(Protocol):
    def add(self, interest: CoachingInterest) -> None: ...
    def update(self, interest: CoachingInterest) -> None: ...
    def get(self, interest_id: str) -> CoachingInterest | None: ...
    def list(
        self, *, member_id: str | None = None, status: str | None = None
    ) -> Sequence[CoachingInterest]:
        """Submissions ordered by created_at, then id, filtered by member and status."""
        ...


class SessionSettingsRepository(Protocol):
    def add(self, settings: MemberSessionSettings) -> None: ...
    def update(self, settings: MemberSessionSettings) -> None: ...
    def get(self, member_id: str) -> MemberSessionSettings | None:
        """The stored settings of the member with this user id (None: defaults)."""
        ...


class OrganizationRepository(Protocol):
    def add(self, organization: Organization) -> None: ...
    def update(self, organization: Organization) -> None: ...
    def get(self, organization_id: str) -> Organization | None: ...
    def list(self) -> Sequence[Organization]:
        """Organizations ordered by created_at, then id."""
        ...


class OrganizationMembershipRepository(Protocol):
    def add(self, membership: OrganizationMembership) -> None:
        """A second membership of the same user in the same organization is a Conflict."""
        ...

    def update(self, membership: OrganizationMembership) -> None: ...
    def delete(self, membership_id: str) -> None: ...
    def get(self, membership_id: str) -> OrganizationMembership | None: ...
    def find(self, organization_id: str, user_id: str) -> OrganizationMembership | None: ...
    def list(
        self, *, organization_id: str | None = None, user_id: str | None = None
    ) -> Sequence[OrganizationMembership]:
        """Memberships ordered by created_at, then id, filtered by the given ids."""
        ...


class ActionPlanRepository(Protocol):
    def add(self, plan: ActionPlan) -> None: ...
    def update(self, plan: ActionPlan) -> None: ...
    def get(self, plan_id: str) -> ActionPlan | None: ...
    def list(
        self, *, member_id: str | None = None, coach_id: str | None = None
    ) -> Sequence[ActionPlan]:
        """Plans ordered by created_at, then id, filtered by the given ids."""
        ...


class ActionItemRepository(Protocol):
    def add(self, item: ActionItem) -> None: ...
    def update(self, item: ActionItem) -> None: ...
    def get(self, item_id: str) -> ActionItem | None: ...
    def list(
        self,
        *,
        member_id: str | None = None,
        coach_id: str | None = None,
        plan_id: str | None = None,
    ) -> Sequence[ActionItem]:
        """Items ordered by created_at, then id, filtered by the given ids."""
        ...

    def overdue(self, today: date, *, member_id: str | None = None) -> Sequence[ActionItem]:
        """Open items due before ``today``, ordered by due_date, then id."""
        ...


class QuickNoteRepository(Protocol):
    def add(self, note: QuickNote) -> None: ...
    def update(self, note: QuickNote) -> None: ...
    def delete(self, note_id: str) -> None: ...
    def get(self, note_id: str) -> QuickNote | None: ...
    def list(
        self, *, coach_id: str | None = None, member_id: str | None = None
    ) -> Sequence[QuickNote]:
        """Notes ordered by created_at, then id, filtered by the given ids."""
        ...


class SessionScoreRepository(Protocol):
    def add(self, score: SessionScore) -> None: ...
    def update(self, score: SessionScore) -> None: ...
    def get(self, session_id: str) -> SessionScore | None: ...
    def for_member(self, member_id: str) -> Sequence[SessionScore]:
        """The member's scores ordered by scored_at, then session_id."""
        ...


class AuditRepository(Protocol):
    def add(self, entry: AuditEntry) -> None: ...
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
        """Entries with ``since <= created_at < until``, newest first (created_at,
        then id, descending), at most ``limit``."""
        ...

    def about(self, entity_ids: Collection[str]) -> Sequence[AuditEntry]:
        """Every entry about any of ``entity_ids``, oldest first (created_at, then id)."""
        ...


class DocumentRepository(Protocol):
    def add(self, document: Document) -> None: ...
    def update(self, document: Document) -> None: ...
    def delete(self, document_id: str) -> None: ...
    def get(self, document_id: str) -> Document | None: ...
    def list(
        self,
        *,
        member_id: str | None = None,
        owner_id: str | None = None,
        organization_id: str | None = None,
    ) -> Sequence[Document]:
        """Documents ordered by created_at, then id, filtered by the given ids."""
        ...


class DocumentContentRepository(Protocol):
    def add(self, content: DocumentContent) -> None: ...
    def get(self, document_id: str) -> DocumentContent | None: ...
    def delete(self, document_id: str) -> None: ...


class UnitOfWork(Protocol):
    users: UserRepository
    members: MemberRepository
    coaches: CoachRepository
    windows: WindowRepository
    bookings: BookingRepository
    sessions: SessionRepository
    ratings: RatingRepository
    calendar_events: CalendarEventRepository
    conversations: ConversationRepository
    notifications: NotificationRepository
    reminders: ReminderRepository
    outbox: OutboxRepository
    rules: SchedulingRulesRepository
    overrides: DateOverrideRepository
    waitlist: WaitlistRepository
    relationships: RelationshipRepository
    invitations: InvitationRepository
    interests: InterestRepository
    session_settings: SessionSettingsRepository
    organizations: OrganizationRepository
    organization_memberships: OrganizationMembershipRepository
    action_plans: ActionPlanRepository
    action_items: ActionItemRepository
    quick_notes: QuickNoteRepository
    session_scores: SessionScoreRepository
    audit: AuditRepository
    documents: DocumentRepository
    document_contents: DocumentContentRepository

    def lock_coach(self, coach_id: str) -> None:
        """Serialize this coach's booking decisions until the unit of work ends."""
        ...

    def commit(self) -> None: ...
    def rollback(self) -> None: ...


class Store(Protocol):
    """A storage backend: the factory of units of work."""

    dispatch_on_commit: bool
    """Deliver the outbox right after each commit (the memory store does)."""

    def unit_of_work(self, *, write: bool) -> AbstractContextManager[UnitOfWork]: ...
    def close(self) -> None: ...
