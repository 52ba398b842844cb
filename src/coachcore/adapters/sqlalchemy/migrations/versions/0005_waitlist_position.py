"""Waitlist: each entry's place in its slot's queue.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06

Entries were offered seats by the time they joined, which ties when two
members join at the same instant. ``position`` is given under the coach's
lock at joining. Entries already stored keep their order: they are numbered
per slot by (created_at, id), the order they were offered in before.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context, op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def _names() -> tuple[str | None, str]:
    attributes = context.config.attributes
    return attributes.get("schema"), attributes.get("table_prefix") or "coachcore_"


def upgrade() -> None:
    schema, p = _names()
    name = f"{p}waitlist_entries"
    op.add_column(
        name,
        sa.Column("position", sa.Integer(), nullable=False, server_default="0"),
        schema=schema,
    )
    entries = sa.table(
        name,
        sa.column("id", sa.String()),
        sa.column("coach_id", sa.String()),
        sa.column("start", sa.DateTime()),
        sa.column("duration", sa.Integer()),
        sa.column("created_at", sa.DateTime()),
        sa.column("position", sa.Integer()),
        schema=schema,
    )
    earlier = entries.alias("earlier")
    same_slot = sa.and_(
        earlier.c.coach_id == entries.c.coach_id,
        earlier.c.start == entries.c.start,
        earlier.c.duration == entries.c.duration,
    )
    before = sa.or_(
        earlier.c.created_at < entries.c.created_at,
        sa.and_(earlier.c.created_at == entries.c.created_at, earlier.c.id <= entries.c.id),
    )
    place = sa.select(sa.func.count()).where(same_slot, before).scalar_subquery()
    op.execute(entries.update().values(position=place))


def downgrade() -> None:
    schema, p = _names()
    with op.batch_alter_table(f"{p}waitlist_entries", schema=schema) as batch:
        batch.drop_column("position")
