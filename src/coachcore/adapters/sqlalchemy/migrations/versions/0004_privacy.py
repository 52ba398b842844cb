"""Privacy: the store settings table (encryption key check) and users.erased_at.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23

A frozen copy of the schema of this revision (see 0001's note). Encrypted
fields need no schema change: their columns are TEXT and hold the ciphertext.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context, op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _names() -> tuple[str | None, str]:
    attributes = context.config.attributes
    return attributes.get("schema"), attributes.get("table_prefix") or "coachcore_"


def upgrade() -> None:
    schema, p = _names()
    op.create_table(
        f"{p}settings",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=f"pk_{p}settings"),
        schema=schema,
    )
    op.add_column(
        f"{p}users",
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True),
        schema=schema,
    )


def downgrade() -> None:
    schema, p = _names()
    with op.batch_alter_table(f"{p}users", schema=schema) as batch:
        batch.drop_column("erased_at")
    op.drop_table(f"{p}settings", schema=schema)
