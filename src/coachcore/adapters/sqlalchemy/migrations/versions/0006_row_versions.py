"""Row versions: every state change is a compare-and-set.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07

Each repository table gets ``version`` (0 for stored rows). An update names
the version its unit of work read and counts it up, so of two concurrent
changes to one row exactly one writes.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context, op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

TABLES = (
    "action_items",
    "action_plans",
    "audit_log",
    "availability_windows",
    "bookings",
    "calendar_events",
    "coach_profiles",
    "coaching_interests",
    "coaching_relationships",
    "conversations",
    "date_overrides",
    "document_contents",
    "documents",
    "invitations",
    "member_profiles",
    "member_session_settings",
    "notifications",
    "organization_memberships",
    "organizations",
    "outbox",
    "quick_notes",
    "ratings",
    "reminders",
    "scheduling_rules",
    "session_scores",
    "sessions",
    "users",
    "waitlist_entries",
)


def _names() -> tuple[str | None, str]:
    attributes = context.config.attributes
    return attributes.get("schema"), attributes.get("table_prefix") or "coachcore_"


def upgrade() -> None:
    schema, p = _names()
    for name in TABLES:
        column = sa.Column("version", sa.Integer(), nullable=False, server_default="0")
        op.add_column(f"{p}{name}", column, schema=schema)


def downgrade() -> None:
    schema, p = _names()
    for name in TABLES:
        with op.batch_alter_table(f"{p}{name}", schema=schema) as batch:
            batch.drop_column("version")
