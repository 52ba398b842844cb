"""What is personal and sensitive, and how an erased member looks.

``SENSITIVE_FIELDS`` names the free-text fields that SQL stores keep
sealed at rest (see ``docs/guides/privacy.md``): names and addresses, notes,
goals, health information, messages, titles and descriptions, notifications
and outbox payloads, documents (their text; their bytes are sealed in blob storage).
``BLIND_INDEXED`` names those looked up by equality. The functions
below are the pure half of retention and erasure: they return the entity
without the personal data.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import attrs

from coachcore.domain.audit import AuditEntry
from coachcore.domain.documents import Document
from coachcore.domain.entities import (
    Booking,
    CalendarEvent,
    CoachProfile,
    Conversation,
    MemberProfile,
    Notification,
    OutboxMessage,
    Rating,
    Session,
    User,
)
from coachcore.domain.enums import MembershipStatus
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
from coachcore.domain.rules import DateOverride, WaitlistEntry

SENSITIVE_FIELDS: Mapping[type, tuple[str, ...]] = {
    User: ("name", "email", "external_id"),
    MemberProfile: ("goals", "health_info", "coach_notes"),
    CoachProfile: ("specialization", "bio", "certifications"),
    Session: (
        "coach_notes",
        "member_notes",
        "preparation_notes",
        "outcomes",
        "rating_feedback",
        "cancellation_reason",
    ),
    Booking: ("member_notes", "rejection_reason"),
    Rating: ("feedback",),
    CalendarEvent: ("title",),
    Conversation: ("title",),
    Notification: ("title", "body", "recipient_email"),
    OutboxMessage: ("payload",),
    DateOverride: ("reason",),
    Invitation: ("email", "name", "message"),
    CoachingInterest: ("goals", "preferred_times", "notes", "handling_note"),
    CoachingRelationship: ("decline_reason",),
    AuditEntry: ("details",),
    MemberSessionSettings: ("shared_context",),
    Organization: ("name", "description", "specialties", "experience", "philosophy", "industry"),
    ActionPlan: ("title", "description"),
    ActionItem: ("title", "description"),
    QuickNote: ("body",),
    Document: ("title", "description", "filename", "extracted_text"),
}
"""Entity -> its fields stored sealed (encrypted) by the SQL stores: every
free-text field that can carry personal data, names and addresses included.
Structured values (an outbox payload, an organization's specialties) are
sealed whole."""

BLIND_INDEXED: Mapping[type, tuple[str, ...]] = {
    User: ("email",),
    Invitation: ("email",),
}
"""Entity -> sealed fields looked up by equality through a keyed blind index
(column ``<field>_index``: HMAC-SHA256 of the value, which the use cases
have normalised already)."""

PRIVATE_NOTES: tuple[str, ...] = ("coach_notes", "member_notes", "preparation_notes")
"""The session notes the retention period purges."""

ERASED_NAME = "Erased member"
ERASED_EMAIL_DOMAIN = "erased.invalid"


def erased_email(user_id: str) -> str:
    """The unique placeholder address of an erased user (an unroutable domain)."""
    return f"erased-{user_id}@{ERASED_EMAIL_DOMAIN}"


def is_erased(user: User) -> bool:
    return user.erased_at is not None


def purge_notes(session: Session, now: datetime) -> Session:
    """The session without its private notes."""
    return attrs.evolve(
        session, coach_notes=None, member_notes=None, preparation_notes=None, updated_at=now
    )


def holds_notes(session: Session) -> bool:
    return any(getattr(session, name) is not None for name in PRIVATE_NOTES)


def erase_user(user: User, now: datetime) -> User:
    """The user reference of an erased member: no name, no address, no host id."""
    return attrs.evolve(
        user,
        name=ERASED_NAME,
        email=erased_email(user.id),
        external_id=None,
        is_active=False,
        erased_at=now,
        updated_at=now,
    )


def erase_profile(profile: MemberProfile, now: datetime) -> MemberProfile:
    """The member profile without goals, health information or notes, and no coach."""
    return attrs.evolve(
        profile,
        coach_id=None,
        membership_status=MembershipStatus.INACTIVE,
        goals=None,
        health_info=None,
        coach_notes=None,
        updated_at=now,
    )


def erase_session(session: Session, now: datetime) -> Session:
    """A past session kept for counts and the coach's average, without free text."""
    return attrs.evolve(
        session,
        coach_notes=None,
        member_notes=None,
        preparation_notes=None,
        outcomes=None,
        rating_feedback=None,
        cancellation_reason=None,
        updated_at=now,
    )


def mentions(data: Any, text: str) -> bool:
    """Whether ``text`` occurs in a string value (not a key) of JSON-ready ``data``."""
    if isinstance(data, str):
        return text in data
    if isinstance(data, dict):
        return any(mentions(value, text) for value in data.values())
    if isinstance(data, list | tuple):
        return any(mentions(value, text) for value in data)
    return False


def replace_text(data: Any, old: str, new: str) -> Any:
    """``data`` with ``old`` replaced by ``new`` in every string value (keys kept)."""
    if isinstance(data, str):
        return data.replace(old, new)
    if isinstance(data, dict):
        return {key: replace_text(value, old, new) for key, value in data.items()}
    if isinstance(data, list | tuple):
        return [replace_text(value, old, new) for value in data]
    return data


def erase_booking(booking: Booking, now: datetime) -> Booking:
    return attrs.evolve(booking, member_notes=None, updated_at=now)


def erase_interest(interest: CoachingInterest, now: datetime) -> CoachingInterest:
    return attrs.evolve(
        interest, goals="", preferred_times=None, notes=None, handling_note=None, updated_at=now
    )


def erase_invitation(invitation: Invitation, user_id: str, now: datetime) -> Invitation:
    """The invitation addressed to the erased placeholder, without name or message."""
    return attrs.evolve(
        invitation, email=erased_email(user_id), name=None, message=None, updated_at=now
    )


def erase_decline_reason(relationship: CoachingRelationship, now: datetime) -> CoachingRelationship:
    """The relationship without what the declining side said."""
    return attrs.evolve(relationship, decline_reason=None, updated_at=now)


OVERRIDE_REASON = "override_reason"
"""The audit detail keeping why a coach placed a session outside the slot rules."""


def erase_override_reason(entry: AuditEntry, placeholder: str) -> AuditEntry:
    """The audit entry with its override reason replaced by ``placeholder``."""
    return attrs.evolve(entry, details={**entry.details, OVERRIDE_REASON: placeholder})


def erase_rating(rating: Rating) -> Rating:
    """The rating keeps its stars (the coach's average) and loses its words."""
    return attrs.evolve(rating, feedback=None)


EXPORT_SCHEMA = "coachcore.member-export"
EXPORT_VERSION = 2


@attrs.frozen(kw_only=True)
class PersonRef:
    """Another person named in an export: id and display name only."""

    id: str
    name: str


@attrs.frozen(kw_only=True)
class MemberExport:
    """Everything coachcore holds about one member (``docs/guides/privacy.md``).

    ``schema`` and ``version`` identify the document's shape; a later version
    only adds keys. Sessions and the profile are redacted for the requester
    exactly as the API would show them.
    """

    schema: str = EXPORT_SCHEMA
    version: int = EXPORT_VERSION
    exported_at: datetime
    requested_by: str
    user: User
    profile: MemberProfile
    coach: PersonRef | None
    sessions: list[Session]
    bookings: list[Booking]
    ratings: list[Rating]
    waitlist: list[WaitlistEntry]
    notifications: list[Notification]
    conversations: list[Conversation]
    relationships: list[CoachingRelationship]
    invitations: list[Invitation]
    interest: list[CoachingInterest]
    session_settings: MemberSessionSettings | None
    organizations: list[OrganizationMembership]
    organization_invitations: list[OrganizationInvitation] = attrs.Factory(list)
    """Invitations to join an organization addressed to the member."""
    action_plans: list[ActionPlan]
    action_items: list[ActionItem]
    scores: list[SessionScore]
    quick_notes: list[QuickNote]
    """Coaches' private notes: in an export for someone else only, never the member's own."""
    documents: list[Document]
    """Metadata and extracted text; the bytes come from ``documents.content``."""
    audit: list[AuditEntry]
    """Entries by the member, about them, or about any record above (oldest first)."""
