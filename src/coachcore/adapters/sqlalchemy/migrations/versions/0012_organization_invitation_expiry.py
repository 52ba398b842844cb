"""Organization invitations expire.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07

``organization_invitations.expires_at`` is when a pending invitation stops
being answerable, as for coaching invitations. Stored invitations get the
default validity counted from when they were made: seven days after
``created_at``.
"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from alembic import context, op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

VALIDITY = timedelta(days=7)
"""The default validity (``services.coaching.invitations.DEFAULT_INVITATION_TTL``)."""
WHEN = sa.DateTime(timezone=True)


def _names() -> tuple[str | None, str]:
    attributes = context.config.attributes
    return attributes.get("schema"), attributes.get("table_prefix") or "coachcore_"


def upgrade() -> None:
    schema, p = _names()
    name = f"{p}organization_invitations"
    with op.batch_alter_table(name, schema=schema) as batch:
        batch.add_column(sa.Column("expires_at", WHEN))
    rows = sa.table(
        name, sa.column("id", sa.String()), sa.column("created_at", WHEN), schema=schema
    )
    expiring = sa.table(
        name, sa.column("id", sa.String()), sa.column("expires_at", WHEN), schema=schema
    )
    bind = op.get_bind()
    for key, created in bind.execute(sa.select(rows.c.id, rows.c.created_at)).all():
        until = created + VALIDITY
        bind.execute(expiring.update().where(expiring.c.id == key).values(expires_at=until))
    with op.batch_alter_table(name, schema=schema) as batch:
        batch.alter_column("expires_at", existing_type=WHEN, nullable=False)


def downgrade() -> None:
    schema, p = _names()
    with op.batch_alter_table(f"{p}organization_invitations", schema=schema) as batch:
        batch.drop_column("expires_at")
