"""The initial coachcore tables.

Revision ID: 0001
Revises:
Create Date: 2026-11-23

A frozen copy of the schema of this revision: later changes to ``tables.py``
come with a new revision, never with an edit here. Names honour the store's
schema and table prefix.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import context, op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

ID = sa.String(64)
WORD = sa.String(32)
TABLES = (
    "users",
    "member_profiles",
    "coach_profiles",
    "availability_windows",
    "sessions",
    "bookings",
    "ratings",
    "calendar_events",
    "conversations",
    "notifications",
    "reminders",
    "outbox",
)


def _names() -> tuple[str | None, str]:
    """The store's schema and table prefix, as given to coachcore's migrate()."""
    attributes = context.config.attributes
    return attributes.get("schema"), attributes.get("table_prefix") or "coachcore_"


def _when(name: str, nullable: bool = False) -> sa.Column[Any]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    schema, p = _names()
    users_id = f"{schema}.{p}users.id" if schema else f"{p}users.id"
    sessions_id = f"{schema}.{p}sessions.id" if schema else f"{p}sessions.id"

    def ref(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
        return sa.ForeignKeyConstraint(
            [column],
            [target],
            name=f"fk_{p}{table}_{column}",
            deferrable=True,
            initially="DEFERRED",
        )

    def create(table: str, *items: Any) -> None:
        op.create_table(
            f"{p}{table}",
            *items,
            sa.PrimaryKeyConstraint("id", name=f"pk_{p}{table}"),
            schema=schema,
        )

    def unique(table: str, *columns: str) -> sa.UniqueConstraint:
        return sa.UniqueConstraint(*columns, name=f"uq_{p}{table}_{'_'.join(columns)}")

    def index(table: str, *columns: str) -> None:
        name = f"ix_{p}{table}_{'_'.join(columns)}"
        op.create_index(name, f"{p}{table}", list(columns), schema=schema)

    create(
        "users",
        sa.Column("id", ID, nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("role", sa.String(64), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("external_id", sa.Text()),
        _when("created_at"),
        _when("updated_at"),
        unique("users", "email"),
    )
    index("users", "role")
    create(
        "member_profiles",
        sa.Column("id", ID, nullable=False),
        sa.Column("user_id", ID, nullable=False),
        sa.Column("coach_id", ID),
        sa.Column("membership_status", WORD, nullable=False),
        sa.Column("onboarding_status", WORD, nullable=False),
        sa.Column("goals", sa.Text()),
        sa.Column("health_info", sa.Text()),
        sa.Column("coach_notes", sa.Text()),
        _when("joined_at"),
        _when("created_at"),
        _when("updated_at"),
        ref("member_profiles", "user_id", users_id),
        ref("member_profiles", "coach_id", users_id),
        unique("member_profiles", "user_id"),
    )
    index("member_profiles", "coach_id")
    create(
        "coach_profiles",
        sa.Column("id", ID, nullable=False),
        sa.Column("user_id", ID, nullable=False),
        sa.Column("specialization", sa.Text()),
        sa.Column("bio", sa.Text()),
        sa.Column("certifications", sa.Text()),
        sa.Column("max_members", sa.Integer(), nullable=False),
        sa.Column("is_accepting_members", sa.Boolean(), nullable=False),
        _when("created_at"),
        _when("updated_at"),
        ref("coach_profiles", "user_id", users_id),
        unique("coach_profiles", "user_id"),
    )
    create(
        "availability_windows",
        sa.Column("id", ID, nullable=False),
        sa.Column("coach_id", ID, nullable=False),
        sa.Column("day_of_week", sa.SmallInteger(), nullable=False),
        sa.Column("start_time", sa.String(5), nullable=False),
        sa.Column("end_time", sa.String(5), nullable=False),
        sa.Column("max_sessions_per_slot", sa.Integer(), nullable=False),
        sa.Column("buffer_minutes", sa.Integer(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        _when("created_at"),
        _when("updated_at"),
        ref("availability_windows", "coach_id", users_id),
    )
    index("availability_windows", "coach_id")
    create(
        "sessions",
        sa.Column("id", ID, nullable=False),
        sa.Column("calendar_event_id", ID, nullable=False),
        sa.Column("member_id", ID, nullable=False),
        sa.Column("coach_id", ID, nullable=False),
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
        ref("sessions", "member_id", users_id),
        ref("sessions", "coach_id", users_id),
    )
    index("sessions", "member_id")
    index("sessions", "status")
    index("sessions", "scheduled_at")
    index("sessions", "coach_id", "scheduled_at")
    create(
        "bookings",
        sa.Column("id", ID, nullable=False),
        sa.Column("member_id", ID, nullable=False),
        sa.Column("coach_id", ID, nullable=False),
        sa.Column("requested_date", sa.Date(), nullable=False),
        sa.Column("requested_time", sa.String(5), nullable=False),
        _when("start"),
        sa.Column("duration", sa.Integer(), nullable=False),
        sa.Column("status", WORD, nullable=False),
        sa.Column("member_notes", sa.Text()),
        sa.Column("session_id", ID),
        sa.Column("window_id", ID),
        sa.Column("rejection_reason", sa.Text()),
        sa.Column("idempotency_key", ID),
        _when("created_at"),
        _when("updated_at"),
        ref("bookings", "member_id", users_id),
        ref("bookings", "coach_id", users_id),
        ref("bookings", "session_id", sessions_id),
        unique("bookings", "session_id"),
        unique("bookings", "member_id", "idempotency_key"),
    )
    index("bookings", "coach_id", "start")
    index("bookings", "status")
    index("bookings", "requested_date")
    index("bookings", "window_id")
    create(
        "ratings",
        sa.Column("id", ID, nullable=False),
        sa.Column("session_id", ID, nullable=False),
        sa.Column("member_id", ID, nullable=False),
        sa.Column("coach_id", ID, nullable=False),
        sa.Column("rating", sa.SmallInteger(), nullable=False),
        sa.Column("feedback", sa.Text()),
        _when("created_at"),
        ref("ratings", "session_id", sessions_id),
        ref("ratings", "member_id", users_id),
        ref("ratings", "coach_id", users_id),
        unique("ratings", "session_id"),
    )
    index("ratings", "coach_id")
    create(
        "calendar_events",
        sa.Column("id", ID, nullable=False),
        sa.Column("session_id", ID, nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("category", sa.String(64), nullable=False),
        sa.Column("creator_id", ID, nullable=False),
        sa.Column("attendee_ids", sa.JSON(), nullable=False),
        _when("start"),
        _when("end"),
        sa.Column("status", WORD, nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("link", sa.Text(), nullable=False),
        ref("calendar_events", "session_id", sessions_id),
        unique("calendar_events", "session_id"),
    )
    create(
        "conversations",
        sa.Column("id", ID, nullable=False),
        sa.Column("kind", WORD, nullable=False),
        sa.Column("participant_ids", sa.JSON(), nullable=False),
        sa.Column("direct_key", sa.Text()),
        sa.Column("session_id", ID),
        sa.Column("title", sa.Text(), nullable=False),
        _when("created_at"),
        ref("conversations", "session_id", sessions_id),
        unique("conversations", "direct_key"),
    )
    create(
        "notifications",
        sa.Column("id", ID, nullable=False),
        sa.Column("recipient_id", ID, nullable=False),
        sa.Column("kind", WORD, nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("session_id", ID),
        sa.Column("booking_id", ID),
        _when("created_at"),
    )
    index("notifications", "recipient_id", "created_at")
    create(
        "reminders",
        sa.Column("id", ID, nullable=False),
        sa.Column("session_id", ID, nullable=False),
        sa.Column("kind", WORD, nullable=False),
        _when("due_at"),
        sa.Column("status", WORD, nullable=False),
        _when("sent_at", nullable=True),
        ref("reminders", "session_id", sessions_id),
    )
    index("reminders", "session_id")
    index("reminders", "status", "due_at")
    create(
        "outbox",
        sa.Column("id", ID, nullable=False),
        sa.Column("idempotency_key", ID, nullable=False),
        sa.Column("channel", WORD, nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        _when("created_at"),
        sa.Column("status", WORD, nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _when("next_attempt_at"),
        _when("claimed_until", nullable=True),
        _when("delivered_at", nullable=True),
        sa.Column("last_error", sa.Text()),
        unique("outbox", "idempotency_key"),
    )
    index("outbox", "status", "created_at")


def downgrade() -> None:
    schema, p = _names()
    for table in reversed(TABLES):
        op.drop_table(f"{p}{table}", schema=schema)
