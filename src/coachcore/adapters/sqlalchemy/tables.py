"""SQLAlchemy Core tables, built per store in a fresh ``MetaData``.

One table per repository of :mod:`coachcore.ports.storage`. Names carry a
prefix (default ``coachcore_``) and may live in a schema, so coachcore can
share a host's database without touching the host's tables. Computed coach
fields (member count, capacity, rating average and count) are not stored.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import attrs
import sqlalchemy as sa
from sqlalchemy.engine import Dialect

from coachcore.domain.rules import RULE_RANGES

DEFAULT_PREFIX = "coachcore_"
RULE_COLUMNS = tuple(RULE_RANGES)
"""The integer columns of ``scheduling_rules`` (NULL: the rule is off)."""
ID = sa.String(64)
WORD = sa.String(32)
NAMING = {
    "pk": "pk_%(table_name)s",
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s",
}


SQLITE_DATETIME_FORMAT = (
    "%(year)04d-%(month)02d-%(day)02d %(hour)02d:%(minute)02d:%(second)02d.%(microsecond)06d"
)
"""How SQLAlchemy's SQLite DATETIME writes a datetime (its default storage format)."""


def _sqlite_utc_text(value: datetime | None) -> str | None:
    """An aware datetime as SQLite's DATETIME text of its UTC time."""
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError("naive datetimes are not stored")
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """An aware datetime stored in UTC; comes back aware (UTC) on every backend.

    SQLite has no time zones: values are stored as naive UTC text and UTC is
    re-attached on read. PostgreSQL stores ``timestamptz``.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def bind_processor(self, dialect: Dialect) -> Callable[[Any], Any] | None:
        """On SQLite, one function doing what ``process_bind_param`` and the
        dialect's DATETIME do in turn (the same text, in half the time)."""
        impl_format = getattr(self.impl_instance, "_storage_format", None)
        if dialect.name == "sqlite" and impl_format == SQLITE_DATETIME_FORMAT:
            return _sqlite_utc_text
        return super().bind_processor(dialect)

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored")
        utc = value.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def _when(name: str, nullable: bool = False) -> sa.Column[datetime]:
    return sa.Column(name, UTCDateTime(), nullable=nullable)


def _version() -> sa.Column[int]:
    """How often the row was updated: what ``update`` compares and sets."""
    return sa.Column("version", sa.Integer(), nullable=False, server_default="0")


def _ref(column: str, target: sa.Column[Any], nullable: bool = False) -> sa.Column[str]:
    """A reference checked at commit (deferred), so insertion order is free."""
    fk = sa.ForeignKey(target, deferrable=True, initially="DEFERRED")
    return sa.Column(column, ID, fk, nullable=nullable)


@attrs.frozen
class Tables:
    """The tables of one store; ``metadata`` holds exactly these."""

    metadata: sa.MetaData
    schema: str | None
    prefix: str
    users: sa.Table
    member_profiles: sa.Table
    coach_profiles: sa.Table
    availability_windows: sa.Table
    bookings: sa.Table
    sessions: sa.Table
    ratings: sa.Table
    calendar_events: sa.Table
    conversations: sa.Table
    notifications: sa.Table
    reminders: sa.Table
    outbox: sa.Table
    scheduling_rules: sa.Table
    date_overrides: sa.Table
    waitlist_entries: sa.Table
    coaching_relationships: sa.Table
    invitations: sa.Table
    coaching_interests: sa.Table
    member_session_settings: sa.Table
    organizations: sa.Table
    organization_memberships: sa.Table
    action_plans: sa.Table
    action_items: sa.Table
    quick_notes: sa.Table
    session_scores: sa.Table
    audit_log: sa.Table
    documents: sa.Table
    document_contents: sa.Table
    settings: sa.Table
    """Store-wide facts (``name`` -> ``value``), e.g. the encryption key check."""

    @property
    def version_table(self) -> str:
        """The Alembic version table of this prefix (``coachcore_alembic_version``)."""
        return version_table_name(self.prefix)

    def all(self) -> list[sa.Table]:
        """Every table, parents before children."""
        return list(self.metadata.sorted_tables)


def version_table_name(prefix: str = DEFAULT_PREFIX) -> str:
    return f"{prefix}alembic_version"


def build_tables(*, schema: str | None = None, prefix: str = DEFAULT_PREFIX) -> Tables:
    """Build the coachcore tables in a new ``MetaData``."""
    md = sa.MetaData(schema=schema, naming_convention=NAMING)

    def table(name: str, *items: Any) -> sa.Table:
        """A repository's table, with the version its updates compare and set."""
        return sa.Table(f"{prefix}{name}", md, *items, _version())

    users = table(
        "users",
        sa.Column("id", ID, primary_key=True),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("email", sa.String(320), nullable=False, unique=True),
        sa.Column("role", sa.String(64), nullable=False, index=True),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("external_id", sa.Text()),
        _when("created_at"),
        _when("updated_at"),
        _when("erased_at", nullable=True),
    )
    uid = users.c.id
    member_profiles = table(
        "member_profiles",
        sa.Column("id", ID, primary_key=True),
        _ref("user_id", uid),
        _ref("coach_id", uid, nullable=True),
        sa.Column("membership_status", WORD, nullable=False),
        sa.Column("onboarding_status", WORD, nullable=False),
        sa.Column("goals", sa.Text()),
        sa.Column("health_info", sa.Text()),
        sa.Column("coach_notes", sa.Text()),
        _when("joined_at"),
        _when("created_at"),
        _when("updated_at"),
        sa.UniqueConstraint("user_id"),
        sa.Index(None, "coach_id"),
    )
    coach_profiles = table(
        "coach_profiles",
        sa.Column("id", ID, primary_key=True),
        _ref("user_id", uid),
        sa.Column("specialization", sa.Text()),
        sa.Column("bio", sa.Text()),
        sa.Column("certifications", sa.Text()),
        sa.Column("max_members", sa.Integer(), nullable=False),
        sa.Column("is_accepting_members", sa.Boolean(), nullable=False),
        _when("created_at"),
        _when("updated_at"),
        sa.UniqueConstraint("user_id"),
    )
    availability_windows = table(
        "availability_windows",
        sa.Column("id", ID, primary_key=True),
        _ref("coach_id", uid),
        sa.Column("day_of_week", sa.SmallInteger(), nullable=False),
        sa.Column("start_time", sa.String(5), nullable=False),
        sa.Column("end_time", sa.String(5), nullable=False),
        sa.Column("max_sessions_per_slot", sa.Integer(), nullable=False),
        sa.Column("buffer_minutes", sa.Integer(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        _when("created_at"),
        _when("updated_at"),
        sa.Index(None, "coach_id"),
    )
    sessions = table(
        "sessions",
        sa.Column("id", ID, primary_key=True),
        sa.Column("calendar_event_id", ID, nullable=False),
        _ref("member_id", uid),
        _ref("coach_id", uid),
        sa.Column("type", WORD, nullable=False),
        sa.Column("status", WORD, nullable=False),
        sa.Column("duration", sa.Integer(), nullable=False),
        _when("scheduled_at"),
        sa.Column("coach_notes", sa.Text()),
        sa.Column("member_notes", sa.Text()),
        sa.Column("outcomes", sa.Text()),
        sa.Column("rating", sa.SmallInteger()),
        sa.Column("rating_feedback", sa.Text()),
        _when("completed_at", nullable=True),
        _when("cancelled_at", nullable=True),
        sa.Column("cancellation_reason", sa.Text()),
        sa.Column("conversation_id", ID),
        _when("created_at"),
        _when("updated_at"),
        sa.Index(None, "member_id"),
        sa.Index(None, "status"),
        sa.Index(None, "scheduled_at"),
        sa.Index(None, "coach_id", "scheduled_at"),
    )
    sid = sessions.c.id
    bookings = table(
        "bookings",
        sa.Column("id", ID, primary_key=True),
        _ref("member_id", uid),
        _ref("coach_id", uid),
        sa.Column("requested_date", sa.Date(), nullable=False),
        sa.Column("requested_time", sa.String(5), nullable=False),
        _when("start"),
        sa.Column("duration", sa.Integer(), nullable=False),
        sa.Column("status", WORD, nullable=False),
        sa.Column("member_notes", sa.Text()),
        _ref("session_id", sid, nullable=True),
        sa.Column("window_id", ID),
        sa.Column("rejection_reason", sa.Text()),
        sa.Column("idempotency_key", ID),
        _when("created_at"),
        _when("updated_at"),
        sa.UniqueConstraint("session_id"),
        sa.UniqueConstraint("member_id", "idempotency_key"),
        sa.Index(None, "coach_id", "start"),
        sa.Index(None, "status"),
        sa.Index(None, "requested_date"),
        sa.Index(None, "window_id"),
    )
    ratings = table(
        "ratings",
        sa.Column("id", ID, primary_key=True),
        _ref("session_id", sid),
        _ref("member_id", uid),
        _ref("coach_id", uid),
        sa.Column("rating", sa.SmallInteger(), nullable=False),
        sa.Column("feedback", sa.Text()),
        _when("created_at"),
        sa.UniqueConstraint("session_id"),
        sa.Index(None, "coach_id"),
    )
    calendar_events = table(
        "calendar_events",
        sa.Column("id", ID, primary_key=True),
        _ref("session_id", sid),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("category", sa.String(64), nullable=False),
        sa.Column("creator_id", ID, nullable=False),
        sa.Column("attendee_ids", sa.JSON(), nullable=False),
        _when("start"),
        _when("end"),
        sa.Column("status", WORD, nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("link", sa.Text(), nullable=False),
        sa.UniqueConstraint("session_id"),
    )
    conversations = table(
        "conversations",
        sa.Column("id", ID, primary_key=True),
        sa.Column("kind", WORD, nullable=False),
        sa.Column("participant_ids", sa.JSON(), nullable=False),
        sa.Column("direct_key", sa.Text(), unique=True),
        _ref("session_id", sid, nullable=True),
        sa.Column("title", sa.Text(), nullable=False),
        _when("created_at"),
    )
    notifications = table(
        "notifications",
        sa.Column("id", ID, primary_key=True),
        sa.Column("recipient_id", ID, nullable=False),
        sa.Column("kind", WORD, nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("session_id", ID),
        sa.Column("booking_id", ID),
        _when("created_at"),
        sa.Column("recipient_email", sa.String(320)),
        sa.Index(None, "recipient_id", "created_at"),
    )
    reminders = table(
        "reminders",
        sa.Column("id", ID, primary_key=True),
        _ref("session_id", sid),
        sa.Column("kind", WORD, nullable=False),
        _when("due_at"),
        sa.Column("status", WORD, nullable=False),
        _when("sent_at", nullable=True),
        sa.Index(None, "session_id"),
        sa.Index(None, "status", "due_at"),
    )
    outbox = table(
        "outbox",
        sa.Column("id", ID, primary_key=True),
        sa.Column("idempotency_key", ID, nullable=False, unique=True),
        sa.Column("channel", WORD, nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        _when("created_at"),
        sa.Column("status", WORD, nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _when("next_attempt_at"),
        _when("claimed_until", nullable=True),
        _when("delivered_at", nullable=True),
        sa.Column("last_error", sa.Text()),
        sa.Index(None, "status", "created_at"),
    )
    scheduling_rules = table(
        "scheduling_rules",
        _ref("coach_id", uid),
        *(sa.Column(name, sa.Integer()) for name in RULE_COLUMNS),
        _when("updated_at", nullable=True),
        sa.PrimaryKeyConstraint("coach_id"),
    )
    date_overrides = table(
        "date_overrides",
        sa.Column("id", ID, primary_key=True),
        _ref("coach_id", uid),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("kind", WORD, nullable=False),
        sa.Column("start_time", sa.String(5)),
        sa.Column("end_time", sa.String(5)),
        sa.Column("max_sessions_per_slot", sa.Integer(), nullable=False),
        sa.Column("buffer_minutes", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text()),
        _when("created_at"),
        sa.Index(None, "coach_id", "date"),
    )
    waitlist_entries = table(
        "waitlist_entries",
        sa.Column("id", ID, primary_key=True),
        _ref("coach_id", uid),
        _ref("member_id", uid),
        _when("start"),
        sa.Column("duration", sa.Integer(), nullable=False),
        sa.Column("status", WORD, nullable=False),
        _when("hold_until", nullable=True),
        sa.Column("booking_id", ID),
        sa.Column("position", sa.Integer(), nullable=False),
        _when("created_at"),
        _when("updated_at"),
        sa.Index(None, "coach_id", "start"),
        sa.Index(None, "member_id"),
        sa.Index(None, "status", "hold_until"),
    )
    coaching_relationships = table(
        "coaching_relationships",
        sa.Column("id", ID, primary_key=True),
        _ref("coach_id", uid),
        _ref("member_id", uid),
        sa.Column("status", WORD, nullable=False),
        sa.Column("requested_by", ID, nullable=False),
        _when("started_at", nullable=True),
        _when("ended_at", nullable=True),
        _when("created_at"),
        _when("updated_at"),
        sa.Index(None, "coach_id"),
        sa.Index(None, "member_id"),
    )
    invitations = table(
        "invitations",
        sa.Column("id", ID, primary_key=True),
        _ref("coach_id", uid),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("name", sa.Text()),
        sa.Column("message", sa.Text()),
        sa.Column("token_hash", ID, nullable=False, unique=True),
        sa.Column("status", WORD, nullable=False),
        _when("expires_at"),
        sa.Column("member_id", ID),
        sa.Column("relationship_id", ID),
        _when("responded_at", nullable=True),
        _when("created_at"),
        _when("updated_at"),
        sa.Index(None, "coach_id"),
        sa.Index(None, "email"),
    )
    coaching_interests = table(
        "coaching_interests",
        sa.Column("id", ID, primary_key=True),
        _ref("member_id", uid),
        sa.Column("goals", sa.Text(), nullable=False),
        sa.Column("preferred_times", sa.Text()),
        sa.Column("notes", sa.Text()),
        sa.Column("status", WORD, nullable=False),
        sa.Column("handled_by", ID),
        _when("handled_at", nullable=True),
        sa.Column("handling_note", sa.Text()),
        _when("created_at"),
        _when("updated_at"),
        sa.Index(None, "member_id"),
        sa.Index(None, "status", "created_at"),
    )
    member_session_settings = table(
        "member_session_settings",
        _ref("member_id", uid),
        sa.Column("share_context_with_coach", sa.Boolean(), nullable=False),
        sa.Column("shared_context", sa.Text()),
        _when("created_at"),
        _when("updated_at"),
        sa.PrimaryKeyConstraint("member_id"),
    )
    organizations = table(
        "organizations",
        sa.Column("id", ID, primary_key=True),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("kind", WORD, nullable=False),
        sa.Column("description", sa.Text()),
        sa.Column("specialties", sa.JSON(), nullable=False),
        sa.Column("experience", sa.Text()),
        sa.Column("philosophy", sa.Text()),
        sa.Column("industry", sa.Text()),
        sa.Column("size", WORD),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_by", ID, nullable=False),
        _when("created_at"),
        _when("updated_at"),
        sa.Index(None, "kind"),
    )
    organization_memberships = table(
        "organization_memberships",
        sa.Column("id", ID, primary_key=True),
        _ref("organization_id", organizations.c.id),
        _ref("user_id", uid),
        sa.Column("role", WORD, nullable=False),
        _when("created_at"),
        _when("updated_at"),
        sa.UniqueConstraint("organization_id", "user_id"),
        sa.Index(None, "user_id"),
    )
    action_plans = table(
        "action_plans",
        sa.Column("id", ID, primary_key=True),
        _ref("member_id", uid),
        _ref("coach_id", uid),
        _ref("session_id", sid, nullable=True),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("description", sa.Text()),
        _when("created_at"),
        _when("updated_at"),
        sa.Index(None, "member_id"),
        sa.Index(None, "coach_id"),
    )
    action_items = table(
        "action_items",
        sa.Column("id", ID, primary_key=True),
        _ref("member_id", uid),
        _ref("coach_id", uid),
        _ref("owner_id", uid),
        _ref("session_id", sid, nullable=True),
        _ref("plan_id", action_plans.c.id, nullable=True),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("description", sa.Text()),
        sa.Column("due_date", sa.Date()),
        sa.Column("status", WORD, nullable=False),
        _when("completed_at", nullable=True),
        _when("created_at"),
        _when("updated_at"),
        sa.Index(None, "member_id"),
        sa.Index(None, "coach_id"),
        sa.Index(None, "plan_id"),
        sa.Index(None, "status", "due_date"),
    )
    quick_notes = table(
        "quick_notes",
        sa.Column("id", ID, primary_key=True),
        _ref("coach_id", uid),
        _ref("member_id", uid),
        _ref("session_id", sid, nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        _when("created_at"),
        _when("updated_at"),
        sa.Index(None, "coach_id", "member_id"),
    )
    session_scores = table(
        "session_scores",
        _ref("session_id", sid),
        _ref("member_id", uid),
        _ref("coach_id", uid),
        sa.Column("previous_score", sa.Float()),
        sa.Column("current_score", sa.Float(), nullable=False),
        _when("scored_at"),
        _when("created_at"),
        _when("updated_at"),
        sa.PrimaryKeyConstraint("session_id"),
        sa.Index(None, "member_id", "scored_at"),
    )
    audit_log = table(
        "audit_log",
        sa.Column("id", ID, primary_key=True),
        sa.Column("actor_id", ID, nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("entity_type", sa.String(64), nullable=False),
        sa.Column("entity_id", ID, nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        _when("created_at"),
        sa.Index(None, "entity_id", "created_at"),
        sa.Index(None, "actor_id", "created_at"),
        sa.Index(None, "created_at"),
    )
    documents = table(
        "documents",
        sa.Column("id", ID, primary_key=True),
        _ref("owner_id", uid),
        _ref("member_id", uid, nullable=True),
        _ref("organization_id", organizations.c.id, nullable=True),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("description", sa.Text()),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("content_type", sa.String(200), nullable=False),
        sa.Column("category", WORD, nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("sha256", ID, nullable=False),
        sa.Column("extracted_text", sa.Text(), nullable=False),
        _when("created_at"),
        _when("updated_at"),
        sa.Index(None, "member_id"),
        sa.Index(None, "owner_id"),
        sa.Index(None, "organization_id"),
    )
    document_contents = table(
        "document_contents",
        _ref("document_id", documents.c.id),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("document_id"),
    )
    settings = sa.Table(
        f"{prefix}settings",
        md,
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text(), nullable=False),
    )
    return Tables(
        metadata=md,
        schema=schema,
        prefix=prefix,
        users=users,
        member_profiles=member_profiles,
        coach_profiles=coach_profiles,
        availability_windows=availability_windows,
        bookings=bookings,
        sessions=sessions,
        ratings=ratings,
        calendar_events=calendar_events,
        conversations=conversations,
        notifications=notifications,
        reminders=reminders,
        outbox=outbox,
        scheduling_rules=scheduling_rules,
        date_overrides=date_overrides,
        waitlist_entries=waitlist_entries,
        coaching_relationships=coaching_relationships,
        invitations=invitations,
        coaching_interests=coaching_interests,
        member_session_settings=member_session_settings,
        organizations=organizations,
        organization_memberships=organization_memberships,
        action_plans=action_plans,
        action_items=action_items,
        quick_notes=quick_notes,
        session_scores=session_scores,
        audit_log=audit_log,
        documents=documents,
        document_contents=document_contents,
        settings=settings,
    )
