"""Scheduling rules, date overrides and the waitlist.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23

A frozen copy of the schema of this revision (see 0001's note).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import context, op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

ID = sa.String(64)
WORD = sa.String(32)
RULES = (
    "slot_interval_minutes",
    "min_notice_minutes",
    "booking_horizon_days",
    "max_sessions_per_day",
    "max_future_bookings_per_member",
    "cancellation_cutoff_hours",
    "waitlist_hold_minutes",
)
TABLES = ("scheduling_rules", "date_overrides", "waitlist_entries")


def _names() -> tuple[str | None, str]:
    attributes = context.config.attributes
    return attributes.get("schema"), attributes.get("table_prefix") or "coachcore_"


def _when(name: str, nullable: bool = False) -> sa.Column[Any]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    schema, p = _names()
    users_id = f"{schema}.{p}users.id" if schema else f"{p}users.id"

    def ref(table: str, column: str) -> sa.ForeignKeyConstraint:
        return sa.ForeignKeyConstraint(
            [column],
            [users_id],
            name=f"fk_{p}{table}_{column}",
            deferrable=True,
            initially="DEFERRED",
        )

    def index(table: str, *columns: str) -> None:
        name = f"ix_{p}{table}_{'_'.join(columns)}"
        op.create_index(name, f"{p}{table}", list(columns), schema=schema)

    op.create_table(
        f"{p}scheduling_rules",
        sa.Column("coach_id", ID, nullable=False),
        *(sa.Column(name, sa.Integer()) for name in RULES),
        _when("updated_at", nullable=True),
        ref("scheduling_rules", "coach_id"),
        sa.PrimaryKeyConstraint("coach_id", name=f"pk_{p}scheduling_rules"),
        schema=schema,
    )
    op.create_table(
        f"{p}date_overrides",
        sa.Column("id", ID, nullable=False),
        sa.Column("coach_id", ID, nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("kind", WORD, nullable=False),
        sa.Column("start_time", sa.String(5)),
        sa.Column("end_time", sa.String(5)),
        sa.Column("max_sessions_per_slot", sa.Integer(), nullable=False),
        sa.Column("buffer_minutes", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text()),
        _when("created_at"),
        ref("date_overrides", "coach_id"),
        sa.PrimaryKeyConstraint("id", name=f"pk_{p}date_overrides"),
        schema=schema,
    )
    index("date_overrides", "coach_id", "date")
    op.create_table(
        f"{p}waitlist_entries",
        sa.Column("id", ID, nullable=False),
        sa.Column("coach_id", ID, nullable=False),
        sa.Column("member_id", ID, nullable=False),
        _when("start"),
        sa.Column("duration", sa.Integer(), nullable=False),
        sa.Column("status", WORD, nullable=False),
        _when("hold_until", nullable=True),
        sa.Column("booking_id", ID),
        _when("created_at"),
        _when("updated_at"),
        ref("waitlist_entries", "coach_id"),
        ref("waitlist_entries", "member_id"),
        sa.PrimaryKeyConstraint("id", name=f"pk_{p}waitlist_entries"),
        schema=schema,
    )
    index("waitlist_entries", "coach_id", "start")
    index("waitlist_entries", "member_id")
    index("waitlist_entries", "status", "hold_until")


def downgrade() -> None:
    schema, p = _names()
    for table in reversed(TABLES):
        op.drop_table(f"{p}{table}", schema=schema)
