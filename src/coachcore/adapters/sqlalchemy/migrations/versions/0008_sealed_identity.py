"""Sealed identity: blind indexes of e-mail addresses, room for sealed values.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07

Names and addresses are now sealed with the other personal fields, so an
address can no longer be looked up by its column: ``users.email_index``
(unique) and ``invitations.email_index`` hold a keyed blind index (HMAC) of
the address, or the address itself in a store without keys. Stored rows get
their address as index (they were written without a blind index);
``coachcore keys rotate`` replaces it with the keyed one. On PostgreSQL the
address and file name columns become TEXT (a sealed value is longer than 320).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context, op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

INDEXED = (("users", True), ("invitations", False))
"""Tables with a blind-indexed address, and whether the index is unique."""
WIDENED = (
    ("users", "email", 320),
    ("invitations", "email", 320),
    ("notifications", "recipient_email", 320),
    ("documents", "filename", 255),
)


def _names() -> tuple[str | None, str]:
    attributes = context.config.attributes
    return attributes.get("schema"), attributes.get("table_prefix") or "coachcore_"


def upgrade() -> None:
    schema, p = _names()
    for name, unique in INDEXED:
        table = f"{p}{name}"
        column = sa.Column("email_index", sa.String(320), nullable=False, server_default="")
        op.add_column(table, column, schema=schema)
        t = sa.table(table, sa.column("email"), sa.column("email_index"), schema=schema)
        op.execute(t.update().values(email_index=t.c.email))
        op.create_index(
            f"ix_{table}_email_index", table, ["email_index"], unique=unique, schema=schema
        )
    if op.get_context().dialect.name == "postgresql":
        for name, column_name, length in WIDENED:
            op.alter_column(
                f"{p}{name}",
                column_name,
                type_=sa.Text(),
                existing_type=sa.String(length),
                schema=schema,
            )
        for name, _ in INDEXED:
            op.alter_column(f"{p}{name}", "email_index", server_default=None, schema=schema)


def downgrade() -> None:
    schema, p = _names()
    if op.get_context().dialect.name == "postgresql":
        for name, column_name, length in WIDENED:
            op.alter_column(
                f"{p}{name}",
                column_name,
                type_=sa.String(length),
                existing_type=sa.Text(),
                schema=schema,
            )
    for name, _ in INDEXED:
        table = f"{p}{name}"
        op.drop_index(f"ix_{table}_email_index", table_name=table, schema=schema)
        with op.batch_alter_table(table, schema=schema) as batch:
            batch.drop_column("email_index")
