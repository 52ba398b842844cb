"""Documents say whether their extracted text was cut short.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07

``documents.text_truncated`` is true where text extraction stopped at a limit
(pages, characters, time) before the end of the file. Existing documents
get false: whether their extraction stopped early was not recorded.

The column is added and dropped with plain ``ALTER TABLE`` (no batch
rebuild, which on SQLite would drop the search triggers of 0010); dropping a
column on SQLite needs SQLite 3.35 or later.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context, op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

COLUMN = "text_truncated"


def _names() -> tuple[str | None, str]:
    attributes = context.config.attributes
    return attributes.get("schema"), attributes.get("table_prefix") or "coachcore_"


def upgrade() -> None:
    schema, p = _names()
    op.add_column(
        f"{p}documents",
        sa.Column(COLUMN, sa.Boolean(), nullable=False, server_default=sa.false()),
        schema=schema,
    )


def downgrade() -> None:
    schema, p = _names()
    op.drop_column(f"{p}documents", COLUMN, schema=schema)
