"""Frozen attrs entities with the fields of the coaching platform's data models (snake_case).

People are identified by their user id: ``MemberProfile.user_id``,
``Session.member_id`` and ``Session.coach_id`` are user ids. Entities change
only through ``attrs.evolve``; use cases return the new entity.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import attrs

from coachcore.domain import checks
from coachcore.domain.enums import (
    BookingStatus,
    CalendarEventStatus,
    ConversationKind,
    MembershipStatus,
    NotificationKind,
    OnboardingStatus,
    OutboxChannel,
    OutboxStatus,
    ReminderStatus,
    SessionStatus,
    SessionType,
)


def _aware(_: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    # Most values are plain datetimes in UTC already (every clock reading and
    # every stored instant is): checks.aware would accept them unchanged.
    if value.__class__ is not datetime or value.tzinfo is not UTC:
        checks.aware(attribute.name, value)


def _optional_aware(_: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None and (value.__class__ is not datetime or value.tzinfo is not UTC):
        checks.aware(attribute.name, value)


def _strings(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(values)


def _in_range(low: int, high: int) -> Any:
    def check(_: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        checks.integer(attribute.name, value, low=low, high=high)

    return check


@attrs.frozen(kw_only=True)
class User:
    """The host's user, as coachcore knows it: no password, ever."""

    id: str
    name: str
    email: str
    role: str
    timezone: str = "UTC"
    is_active: bool = True
    external_id: str | None = None
    manager_id: str | None = None
    """Who this user reports to (a reporting line; see ``users.set_manager``)."""
    created_at: datetime = attrs.field(validator=_aware)
    updated_at: datetime = attrs.field(validator=_aware)
    erased_at: datetime | None = attrs.field(default=None, validator=_optional_aware)
    """When an admin erased this member (name and email are then placeholders)."""


@attrs.frozen(kw_only=True)
class MemberProfile:
    """A member's coaching profile: their coach, goals, health information, membership and
    onboarding status."""

    id: str
    user_id: str
    coach_id: str | None = None
    membership_status: MembershipStatus = MembershipStatus.ACTIVE
    onboarding_status: OnboardingStatus = OnboardingStatus.PENDING
    goals: str | None = None
    health_info: str | None = None
    coach_notes: str | None = None
    joined_at: datetime = attrs.field(validator=_aware)
    created_at: datetime = attrs.field(validator=_aware)
    updated_at: datetime = attrs.field(validator=_aware)


@attrs.frozen(kw_only=True)
class CoachProfile:
    """A coach's profile. The last four fields are computed when read."""

    id: str
    user_id: str
    specialization: str | None = None
    bio: str | None = None
    certifications: str | None = None
    max_members: int = attrs.field(default=20, validator=_in_range(1, 100_000))
    is_accepting_members: bool = True
    created_at: datetime = attrs.field(validator=_aware)
    updated_at: datetime = attrs.field(validator=_aware)
    current_member_count: int = 0
    available_capacity: int = 0
    average_rating: float | None = None
    rating_count: int = 0


@attrs.frozen(kw_only=True)
class AvailabilityWindow:
    """A weekly window in the coach's wall-clock time (0=Sunday .. 6=Saturday)."""

    id: str
    coach_id: str
    day_of_week: int = attrs.field(validator=_in_range(0, 6))
    start_time: str
    end_time: str
    max_sessions_per_slot: int = attrs.field(default=1, validator=_in_range(1, 1000))
    buffer_minutes: int = attrs.field(default=15, validator=_in_range(0, 1440))
    is_active: bool = True
    created_at: datetime = attrs.field(validator=_aware)
    updated_at: datetime = attrs.field(validator=_aware)

    @property
    def start_minute(self) -> int:
        """Minutes after local midnight at which the window opens."""
        return checks.minutes_of(self.start_time)

    @property
    def end_minute(self) -> int:
        """Minutes after local midnight at which the window closes (1440 for "24:00")."""
        return checks.minutes_of(self.end_time)

    def overlaps(self, other: AvailabilityWindow) -> bool:
        """True if both are on the same weekday and their times intersect."""
        return (
            self.day_of_week == other.day_of_week
            and self.start_minute < other.end_minute
            and other.start_minute < self.end_minute
        )


@attrs.frozen(kw_only=True)
class Session:
    """A coaching session between a coach and a member: scheduled, then completed or cancelled, then
    rated."""

    id: str
    calendar_event_id: str
    member_id: str
    coach_id: str
    type: SessionType = SessionType.REGULAR
    status: SessionStatus = SessionStatus.SCHEDULED
    duration: int = attrs.field(validator=_in_range(1, 1440))
    scheduled_at: datetime = attrs.field(validator=_aware)
    coach_notes: str | None = None
    member_notes: str | None = None
    preparation_notes: str | None = None
    outcomes: str | None = None
    rating: int | None = None
    rating_feedback: str | None = None
    completed_at: datetime | None = attrs.field(default=None, validator=_optional_aware)
    cancelled_at: datetime | None = attrs.field(default=None, validator=_optional_aware)
    cancellation_reason: str | None = None
    conversation_id: str | None = None
    created_at: datetime = attrs.field(validator=_aware)
    updated_at: datetime = attrs.field(validator=_aware)

    @property
    def ends_at(self) -> datetime:
        """When the session ends (its start plus its duration)."""
        return self.scheduled_at + timedelta(minutes=self.duration)


@attrs.frozen(kw_only=True)
class Booking:
    """A member's request for a slot; ``start`` is the slot's instant (UTC)."""

    id: str
    member_id: str
    coach_id: str
    requested_date: date
    requested_time: str
    start: datetime = attrs.field(validator=_aware)
    duration: int = attrs.field(validator=_in_range(1, 1440))
    status: BookingStatus = BookingStatus.PENDING
    member_notes: str | None = None
    session_id: str | None = None
    window_id: str | None = None
    rejection_reason: str | None = None
    idempotency_key: str | None = None
    created_at: datetime = attrs.field(validator=_aware)
    updated_at: datetime = attrs.field(validator=_aware)


@attrs.frozen(kw_only=True)
class Rating:
    """A member's rating (1-5) of a completed session, with optional feedback."""

    id: str
    session_id: str
    member_id: str
    coach_id: str
    rating: int = attrs.field(validator=_in_range(1, 5))
    feedback: str | None = None
    created_at: datetime = attrs.field(validator=_aware)


@attrs.frozen(kw_only=True)
class CalendarEvent:
    """The calendar event linked to a session; ``link`` points at the session."""

    id: str
    session_id: str
    title: str
    category: str = "Coaching Session"
    creator_id: str
    attendee_ids: tuple[str, ...] = attrs.field(converter=_strings)
    start: datetime = attrs.field(validator=_aware)
    end: datetime = attrs.field(validator=_aware)
    status: CalendarEventStatus = CalendarEventStatus.CONFIRMED
    sequence: int = 0
    link: str = ""


@attrs.frozen(kw_only=True)
class Conversation:
    """A message thread between a coach and a member (or a group), kept by the messaging adapter."""

    id: str
    kind: ConversationKind
    participant_ids: tuple[str, ...] = attrs.field(converter=_strings)
    session_id: str | None = None
    title: str = ""
    created_at: datetime = attrs.field(validator=_aware)


@attrs.frozen(kw_only=True)
class Notification:
    """A message to one person; ``id`` doubles as the delivery idempotency key.

    ``recipient_id`` is a user id, or for an invitation to someone who is not a
    user yet the invitation id, with the address in ``recipient_email``.
    """

    id: str
    recipient_id: str
    kind: NotificationKind
    title: str
    body: str = ""
    session_id: str | None = None
    booking_id: str | None = None
    created_at: datetime = attrs.field(validator=_aware)
    recipient_email: str | None = None
    """Set when the recipient is addressed by email rather than as a user (invitations)."""


@attrs.frozen(kw_only=True)
class Reminder:
    """A reminder due before a session, sent once per session and kind."""

    id: str
    session_id: str
    kind: NotificationKind
    due_at: datetime = attrs.field(validator=_aware)
    status: ReminderStatus = ReminderStatus.PENDING
    sent_at: datetime | None = None


@attrs.frozen(kw_only=True)
class OutboxMessage:
    """A side effect recorded with the change and delivered after commit."""

    id: str
    idempotency_key: str
    channel: OutboxChannel
    payload: dict[str, Any]
    created_at: datetime = attrs.field(validator=_aware)
    status: OutboxStatus = OutboxStatus.PENDING
    attempts: int = 0
    next_attempt_at: datetime = attrs.field(validator=_aware)
    claimed_until: datetime | None = None
    delivered_at: datetime | None = None
    last_error: str | None = None


CATCH_UP_SLACK = timedelta(minutes=1)
"""How far before the newest event it had seen a live listener reads broadcast
events back from the outbox when it catches up (the default ``slack`` of
``coachcore.adapters.pglive.LiveListener``). The outbox's retention purge keeps
at least this much of the delivered messages."""
