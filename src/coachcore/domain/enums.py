"""Statuses, roles and kinds, as ``StrEnum`` members equal to the words the platform's APIs use."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """Built-in roles. Hosts may define more roles as plain strings."""

    ADMIN = "admin"
    COACH = "coach"
    MEMBER = "member"


class MembershipStatus(StrEnum):
    ACTIVE = "active"
    INACTIVE = "inactive"
    PAUSED = "paused"


class OnboardingStatus(StrEnum):
    PENDING = "pending"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"


class SessionType(StrEnum):
    INITIAL = "initial"
    REGULAR = "regular"
    FOLLOWUP = "followup"


class SessionStatus(StrEnum):
    SCHEDULED = "scheduled"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class BookingStatus(StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    REJECTED = "rejected"
    CANCELLED = "cancelled"


class CalendarEventStatus(StrEnum):
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"


class ConversationKind(StrEnum):
    DIRECT = "direct"
    GROUP = "group"


class NotificationKind(StrEnum):
    SESSION_CREATED = "session_created"
    BOOKING_CONFIRMED = "booking_confirmed"
    BOOKING_REJECTED = "booking_rejected"
    SESSION_COMPLETED = "session_completed"
    SESSION_CANCELLED = "session_cancelled"
    RATE_SESSION = "rate_session"
    MEMBER_ASSIGNED = "member_assigned"
    REMINDER_24H = "reminder_24h"
    REMINDER_1H = "reminder_1h"
    WAITLIST_OFFER = "waitlist_offer"
    COACHING_INVITATION = "coaching_invitation"
    RELATIONSHIP_DECLINED = "relationship_declined"
    RELATIONSHIP_WITHDRAWN = "relationship_withdrawn"
    ORGANIZATION_INVITATION = "organization_invitation"


class ReminderStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    CANCELLED = "cancelled"


class OutboxChannel(StrEnum):
    """Where an outbox message is delivered."""

    CALENDAR_UPSERT = "calendar_upsert"
    CALENDAR_CANCEL = "calendar_cancel"
    CONVERSATION = "conversation"
    NOTIFICATION = "notification"
    BROADCAST = "broadcast"
    CALENDAR_ERASE = "calendar_erase"
    MESSAGING_ERASE = "messaging_erase"
    NOTIFIER_ERASE = "notifier_erase"


class OutboxStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"
