"""Relationship requests that end unaccepted; reporting lines; preparation notes.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07

``coaching_relationships.decline_reason`` keeps what the declining side said
(requests may now end ``declined`` or ``withdrawn``; the status column already
holds any word). ``users.manager_id`` is who the user reports to (indexed:
a manager's reports are listed by it). ``sessions.preparation_notes`` holds
the coach's preparation (sealed at rest like the other notes).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context, op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def _names() -> tuple[str | None, str]:
    attributes = context.config.attributes
    return attributes.get("schema"), attributes.get("table_prefix") or "coachcore_"


def upgrade() -> None:
    schema, p = _names()
    op.add_column(
        f"{p}coaching_relationships", sa.Column("decline_reason", sa.Text()), schema=schema
    )
    op.add_column(f"{p}users", sa.Column("manager_id", sa.String(64)), schema=schema)
    op.create_index(f"ix_{p}users_manager_id", f"{p}users", ["manager_id"], schema=schema)
    op.add_column(f"{p}sessions", sa.Column("preparation_notes", sa.Text()), schema=schema)


def downgrade() -> None:
    schema, p = _names()
    with op.batch_alter_table(f"{p}sessions", schema=schema) as batch:
        batch.drop_column("preparation_notes")
    op.drop_index(f"ix_{p}users_manager_id", table_name=f"{p}users", schema=schema)
    with op.batch_alter_table(f"{p}users", schema=schema) as batch:
        batch.drop_column("manager_id")
    with op.batch_alter_table(f"{p}coaching_relationships", schema=schema) as batch:
        batch.drop_column("decline_reason")
