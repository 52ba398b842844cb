"""Identity and consent: invitations bound to their invitee; organization invitations.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07

``invitations.invitee_id`` names the user who owned the invited address when
the invitation was made (only that user answers it); stored invitations stay
unbound (NULL) and are answered as before, by the owner of the address.
``organization_invitations`` holds an organization admin's request that a
user join; the user joins by accepting it.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import context, op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

ID = sa.String(64)
WORD = sa.String(32)


def _names() -> tuple[str | None, str]:
    attributes = context.config.attributes
    return attributes.get("schema"), attributes.get("table_prefix") or "coachcore_"


def _when(name: str, nullable: bool = False) -> sa.Column[Any]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    schema, p = _names()
    op.add_column(f"{p}invitations", sa.Column("invitee_id", ID), schema=schema)

    def qualified(name: str) -> str:
        return f"{schema}.{p}{name}" if schema else f"{p}{name}"

    table = "organization_invitations"

    def ref(column: str, target: str) -> sa.ForeignKeyConstraint:
        return sa.ForeignKeyConstraint(
            [column],
            [target],
            name=f"fk_{p}{table}_{column}",
            deferrable=True,
            initially="DEFERRED",
        )

    op.create_table(
        f"{p}{table}",
        sa.Column("id", ID, nullable=False),
        sa.Column("organization_id", ID, nullable=False),
        sa.Column("user_id", ID, nullable=False),
        sa.Column("role", WORD, nullable=False),
        sa.Column("invited_by", ID, nullable=False),
        sa.Column("status", WORD, nullable=False),
        _when("responded_at", nullable=True),
        _when("created_at"),
        _when("updated_at"),
        sa.Column("version", sa.Integer(), nullable=False, server_default="0"),
        ref("organization_id", qualified("organizations.id")),
        ref("user_id", qualified("users.id")),
        sa.PrimaryKeyConstraint("id", name=f"pk_{p}{table}"),
        schema=schema,
    )
    for column in ("organization_id", "user_id"):
        op.create_index(f"ix_{p}{table}_{column}", f"{p}{table}", [column], schema=schema)


def downgrade() -> None:
    schema, p = _names()
    op.drop_table(f"{p}organization_invitations", schema=schema)
    with op.batch_alter_table(f"{p}invitations", schema=schema) as batch:
        batch.drop_column("invitee_id")
