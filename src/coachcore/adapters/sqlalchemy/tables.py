"""SQLAlchemy Core tables, built per store in a fresh ``MetaData``.

One table per repository of :mod:`coachcore.ports.storage`. Names carry a
prefix (default ``coachcore_``) and may live in a schema, so coachcore can
share a host's database without touching the host's tables. Computed coach
fields (member count, capacity, rating average and count) are not stored.
"""

from __future__ import annotations

from typing import Any

import attrs
import sqlalchemy as sa

from coachcore.adapters.sqlalchemy.columns import ID, WORD, ref, version, when
from coachcore.adapters.sqlalchemy.sister_tables import sister_tables
from coachcore.domain.rules import RULE_RANGES

DEFAULT_PREFIX = "coachcore_"
RULE_COLUMNS = tuple(RULE_RANGES)
"""The integer columns of ``scheduling_rules`` (NULL: the rule is off)."""
NAMING = {
    "pk": "pk_%(table_name)s",
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s",
}


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
    organization_invitations: sa.Table
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


SEALED_ADDRESS = sa.String(320).with_variant(sa.Text(), "postgresql")
"""An e-mail address column: sealed values are longer than 320 characters
(PostgreSQL enforces the length; SQLite does not)."""
BLIND_INDEX = sa.String(320)
"""A sealed field's blind index: 64 hex digits, or the value without keys."""


def build_tables(*, schema: str | None = None, prefix: str = DEFAULT_PREFIX) -> Tables:
    """Build the coachcore tables in a new ``MetaData``."""
    md = sa.MetaData(schema=schema, naming_convention=NAMING)

    def table(name: str, *items: Any) -> sa.Table:
        """A repository's table, with the version its updates compare and set."""
        return sa.Table(f"{prefix}{name}", md, *items, version())

    users = table(
        "users",
        sa.Column("id", ID, primary_key=True),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("email", SEALED_ADDRESS, nullable=False, unique=True),
        sa.Column("email_index", BLIND_INDEX, nullable=False),
        sa.Column("role", sa.String(64), nullable=False, index=True),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("external_id", sa.Text()),
        sa.Column("manager_id", ID, index=True),
        when("created_at"),
        when("updated_at"),
        when("erased_at", nullable=True),
        sa.Index(None, "email_index", unique=True),
    )
    uid = users.c.id
    member_profiles = table(
        "member_profiles",
        sa.Column("id", ID, primary_key=True),
        ref("user_id", uid),
        ref("coach_id", uid, nullable=True),
        sa.Column("membership_status", WORD, nullable=False),
        sa.Column("onboarding_status", WORD, nullable=False),
        sa.Column("goals", sa.Text()),
        sa.Column("health_info", sa.Text()),
        sa.Column("coach_notes", sa.Text()),
        when("joined_at"),
        when("created_at"),
        when("updated_at"),
        sa.UniqueConstraint("user_id"),
        sa.Index(None, "coach_id"),
    )
    coach_profiles = table(
        "coach_profiles",
        sa.Column("id", ID, primary_key=True),
        ref("user_id", uid),
        sa.Column("specialization", sa.Text()),
        sa.Column("bio", sa.Text()),
        sa.Column("certifications", sa.Text()),
        sa.Column("max_members", sa.Integer(), nullable=False),
        sa.Column("is_accepting_members", sa.Boolean(), nullable=False),
        when("created_at"),
        when("updated_at"),
        sa.UniqueConstraint("user_id"),
    )
    availability_windows = table(
        "availability_windows",
        sa.Column("id", ID, primary_key=True),
        ref("coach_id", uid),
        sa.Column("day_of_week", sa.SmallInteger(), nullable=False),
        sa.Column("start_time", sa.String(5), nullable=False),
        sa.Column("end_time", sa.String(5), nullable=False),
        sa.Column("max_sessions_per_slot", sa.Integer(), nullable=False),
        sa.Column("buffer_minutes", sa.Integer(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        when("created_at"),
        when("updated_at"),
        sa.Index(None, "coach_id"),
    )
    sessions = table(
        "sessions",
        sa.Column("id", ID, primary_key=True),
        sa.Column("calendar_event_id", ID, nullable=False),
        ref("member_id", uid),
        ref("coach_id", uid),
        sa.Column("type", WORD, nullable=False),
        sa.Column("status", WORD, nullable=False),
        sa.Column("duration", sa.Integer(), nullable=False),
        when("scheduled_at"),
        sa.Column("coach_notes", sa.Text()),
        sa.Column("member_notes", sa.Text()),
        sa.Column("preparation_notes", sa.Text()),
        sa.Column("outcomes", sa.Text()),
        sa.Column("rating", sa.SmallInteger()),
        sa.Column("rating_feedback", sa.Text()),
        when("completed_at", nullable=True),
        when("cancelled_at", nullable=True),
        sa.Column("cancellation_reason", sa.Text()),
        sa.Column("conversation_id", ID),
        when("created_at"),
        when("updated_at"),
        sa.Index(None, "member_id"),
        sa.Index(None, "status"),
        sa.Index(None, "scheduled_at"),
        sa.Index(None, "coach_id", "scheduled_at"),
    )
    sid = sessions.c.id
    bookings = table(
        "bookings",
        sa.Column("id", ID, primary_key=True),
        ref("member_id", uid),
        ref("coach_id", uid),
        sa.Column("requested_date", sa.Date(), nullable=False),
        sa.Column("requested_time", sa.String(5), nullable=False),
        when("start"),
        sa.Column("duration", sa.Integer(), nullable=False),
        sa.Column("status", WORD, nullable=False),
        sa.Column("member_notes", sa.Text()),
        ref("session_id", sid, nullable=True),
        sa.Column("window_id", ID),
        sa.Column("rejection_reason", sa.Text()),
        sa.Column("idempotency_key", ID),
        when("created_at"),
        when("updated_at"),
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
        ref("session_id", sid),
        ref("member_id", uid),
        ref("coach_id", uid),
        sa.Column("rating", sa.SmallInteger(), nullable=False),
        sa.Column("feedback", sa.Text()),
        when("created_at"),
        sa.UniqueConstraint("session_id"),
        sa.Index(None, "coach_id"),
    )
    calendar_events = table(
        "calendar_events",
        sa.Column("id", ID, primary_key=True),
        ref("session_id", sid),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("category", sa.String(64), nullable=False),
        sa.Column("creator_id", ID, nullable=False),
        sa.Column("attendee_ids", sa.JSON(), nullable=False),
        when("start"),
        when("end"),
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
        ref("session_id", sid, nullable=True),
        sa.Column("title", sa.Text(), nullable=False),
        when("created_at"),
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
        when("created_at"),
        sa.Column("recipient_email", SEALED_ADDRESS),
        sa.Index(None, "recipient_id", "created_at"),
    )
    reminders = table(
        "reminders",
        sa.Column("id", ID, primary_key=True),
        ref("session_id", sid),
        sa.Column("kind", WORD, nullable=False),
        when("due_at"),
        sa.Column("status", WORD, nullable=False),
        when("sent_at", nullable=True),
        sa.Index(None, "session_id"),
        sa.Index(None, "status", "due_at"),
    )
    outbox = table(
        "outbox",
        sa.Column("id", ID, primary_key=True),
        sa.Column("idempotency_key", ID, nullable=False, unique=True),
        sa.Column("channel", WORD, nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        when("created_at"),
        sa.Column("status", WORD, nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        when("next_attempt_at"),
        when("claimed_until", nullable=True),
        when("delivered_at", nullable=True),
        sa.Column("last_error", sa.Text()),
        sa.Index(None, "status", "created_at"),
    )
    scheduling_rules = table(
        "scheduling_rules",
        ref("coach_id", uid),
        *(sa.Column(name, sa.Integer()) for name in RULE_COLUMNS),
        when("updated_at", nullable=True),
        sa.PrimaryKeyConstraint("coach_id"),
    )
    date_overrides = table(
        "date_overrides",
        sa.Column("id", ID, primary_key=True),
        ref("coach_id", uid),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("kind", WORD, nullable=False),
        sa.Column("start_time", sa.String(5)),
        sa.Column("end_time", sa.String(5)),
        sa.Column("max_sessions_per_slot", sa.Integer(), nullable=False),
        sa.Column("buffer_minutes", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text()),
        when("created_at"),
        sa.Index(None, "coach_id", "date"),
    )
    waitlist_entries = table(
        "waitlist_entries",
        sa.Column("id", ID, primary_key=True),
        ref("coach_id", uid),
        ref("member_id", uid),
        when("start"),
        sa.Column("duration", sa.Integer(), nullable=False),
        sa.Column("status", WORD, nullable=False),
        when("hold_until", nullable=True),
        sa.Column("booking_id", ID),
        sa.Column("position", sa.Integer(), nullable=False),
        when("created_at"),
        when("updated_at"),
        sa.Index(None, "coach_id", "start"),
        sa.Index(None, "member_id"),
        sa.Index(None, "status", "hold_until"),
    )
    sisters = sister_tables(table, uid, sid, SEALED_ADDRESS, BLIND_INDEX)
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
        settings=settings,
        **sisters,
    )
