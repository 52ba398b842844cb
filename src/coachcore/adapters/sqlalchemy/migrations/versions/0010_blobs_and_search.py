"""Document bytes in blob storage; full-text search of documents.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07

``document_contents`` no longer holds the bytes: each row names the blob
(``key``, ``documents/<document id>``) and keeps the size and SHA-256 digest
of the plain bytes. The stored bytes are moved, as they are (sealed ones stay
sealed; plain ones that start with ``enc:`` are escaped, as blobs store
them), to the blob storage given to ``migrate(url, blobs=...)``; the default
is ``<file>.blobs`` beside a SQLite file. A database that holds document bytes
and has no blob storage (PostgreSQL without ``blobs=``) is refused, unchanged.

Search: on PostgreSQL a stored generated column ``search_vector`` (the
tsvector of the documents' text; NULL where the title is sealed) with a GIN
index; the column is not part of ``build_tables`` (a PostgreSQL-only column
that coachcore never reads); on SQLite an FTS5 table ``<prefix>document_search`` kept by
triggers on ``<prefix>documents`` (rows whose title is sealed stay out).
Note for later SQLite migrations: a batch ("move and copy") rebuild of the
documents table drops these triggers; such a migration must create them again.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import context, op

from coachcore.adapters.blobs.choice import chosen
from coachcore.adapters.blobs.memory import MissingBlobs
from coachcore.adapters.sealed_values import escaped, is_sealed, unescaped
from coachcore.errors import StoreError

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

VECTOR = (
    "to_tsvector('simple'::regconfig, "
    "title || ' ' || coalesce(description, '') || ' ' || extracted_text)"
)
PLAIN = "title NOT LIKE 'enc:%'"
COLUMN = "search_vector"


def _names() -> tuple[str | None, str]:
    attributes = context.config.attributes
    return attributes.get("schema"), attributes.get("table_prefix") or "coachcore_"


def _blobs(rows_waiting: bool) -> Any:
    bind = op.get_bind()
    blobs = chosen(context.config.attributes.get("blobs"), bind.engine.url)
    if rows_waiting and isinstance(blobs, MissingBlobs):
        raise StoreError(
            "This database holds document bytes and no blob storage was given to move "
            "them to: migrate(url, blobs=<directory or BlobStore>)",
            details={"field": "blobs"},
        )
    return blobs


def _qualified(schema: str | None, name: str) -> str:
    return f'"{schema}"."{name}"' if schema else f'"{name}"'


def upgrade() -> None:
    schema, p = _names()
    contents = f"{p}document_contents"
    with op.batch_alter_table(contents, schema=schema) as batch:
        batch.add_column(sa.Column("key", sa.String(255)))
        batch.add_column(sa.Column("size_bytes", sa.Integer()))
        batch.add_column(sa.Column("sha256", sa.String(64)))
    _move_out(schema, p)
    with op.batch_alter_table(contents, schema=schema) as batch:
        batch.drop_column("data")
        batch.alter_column("key", existing_type=sa.String(255), nullable=False)
        batch.alter_column("size_bytes", existing_type=sa.Integer(), nullable=False)
        batch.alter_column("sha256", existing_type=sa.String(64), nullable=False)
    if op.get_context().dialect.name == "postgresql":
        documents = _qualified(schema, p + "documents")
        op.execute(
            f"ALTER TABLE {documents} ADD COLUMN {COLUMN} tsvector "
            f"GENERATED ALWAYS AS (CASE WHEN {PLAIN} THEN {VECTOR} END) STORED"
        )
        op.execute(f'CREATE INDEX "ix_{p}documents_search" ON {documents} USING gin ({COLUMN})')
    elif op.get_context().dialect.name == "sqlite":
        _create_fts(p)


def _move_out(schema: str | None, p: str) -> None:
    bind = op.get_bind()
    contents = sa.table(
        f"{p}document_contents",
        sa.column("document_id"),
        sa.column("data", sa.LargeBinary()),
        sa.column("key"),
        sa.column("size_bytes"),
        sa.column("sha256"),
        schema=schema,
    )
    documents = sa.table(
        f"{p}documents",
        sa.column("id"),
        sa.column("size_bytes"),
        sa.column("sha256"),
        schema=schema,
    )
    waiting = bind.scalar(sa.select(sa.func.count()).select_from(contents))
    if not waiting:
        return
    blobs = _blobs(True)
    pending = (
        sa.select(contents.c.document_id, documents.c.size_bytes, documents.c.sha256)
        .join(documents, documents.c.id == contents.c.document_id)
        .order_by(contents.c.document_id)
    )
    data = sa.select(contents.c.data).where(contents.c.document_id == sa.bindparam("id_"))
    for document_id, size, digest in bind.execute(pending).all():
        key = f"documents/{document_id}"
        stored = bind.execute(data, {"id_": document_id}).scalar_one()  # one file in memory
        raw = bytes(stored)  # as stored: sealed bytes stay sealed (and open, not bound)
        blobs.put(key, raw if is_sealed(raw) else escaped(raw))
        bind.execute(
            contents.update()
            .where(contents.c.document_id == document_id)
            .values(key=key, size_bytes=size, sha256=digest)
        )


def _create_fts(p: str) -> None:
    fts, docs = f'"{p}document_search"', f'"{p}documents"'
    columns = "document_id, title, description, extracted_text"
    new = "new.id, new.title, new.description, new.extracted_text"
    gone = (
        f"DELETE FROM {fts} WHERE rowid IN (SELECT rowid FROM {fts} WHERE {fts} "
        f"MATCH 'document_id : \"' || old.id || '\"');"
    )
    op.execute(
        f"CREATE VIRTUAL TABLE {fts} USING fts5({columns}, "
        "tokenize='unicode61 remove_diacritics 0')"
    )
    op.execute(
        f'CREATE TRIGGER "{p}documents_search_insert" AFTER INSERT ON {docs} '
        f"WHEN substr(new.title, 1, 4) <> 'enc:' BEGIN "
        f"INSERT INTO {fts} ({columns}) VALUES ({new}); END"
    )
    op.execute(
        f'CREATE TRIGGER "{p}documents_search_update" AFTER UPDATE ON {docs} BEGIN {gone} '
        f"INSERT INTO {fts} ({columns}) SELECT {new} WHERE substr(new.title, 1, 4) <> 'enc:'; END"
    )
    op.execute(
        f'CREATE TRIGGER "{p}documents_search_delete" AFTER DELETE ON {docs} BEGIN {gone} END'
    )
    op.execute(
        f"INSERT INTO {fts} ({columns}) SELECT id, title, description, extracted_text "
        f"FROM {docs} WHERE substr(title, 1, 4) <> 'enc:'"
    )


def downgrade() -> None:
    schema, p = _names()
    dialect = op.get_context().dialect.name
    if dialect == "postgresql":
        op.execute(f"DROP INDEX IF EXISTS {_qualified(schema, 'ix_' + p + 'documents_search')}")
    elif dialect == "sqlite":
        for trigger in ("insert", "update", "delete"):
            op.execute(f'DROP TRIGGER IF EXISTS "{p}documents_search_{trigger}"')
        op.execute(f'DROP TABLE IF EXISTS "{p}document_search"')
    contents = f"{p}document_contents"
    with op.batch_alter_table(contents, schema=schema) as batch:
        batch.add_column(sa.Column("data", sa.LargeBinary()))
    _move_in(schema, p)
    with op.batch_alter_table(contents, schema=schema) as batch:
        batch.alter_column("data", existing_type=sa.LargeBinary(), nullable=False)
        batch.drop_column("key")
        batch.drop_column("size_bytes")
        batch.drop_column("sha256")


def _move_in(schema: str | None, p: str) -> None:
    """The bytes back into the table (the blobs are left where they are)."""
    bind = op.get_bind()
    contents = sa.table(
        f"{p}document_contents",
        sa.column("document_id"),
        sa.column("data", sa.LargeBinary()),
        sa.column("key"),
        schema=schema,
    )
    rows = bind.execute(sa.select(contents.c.document_id, contents.c.key)).all()
    if not rows:
        return
    blobs = _blobs(True)
    for document_id, key in rows:
        data = blobs.get(key)
        data = data if is_sealed(data) else unescaped(data)
        bind.execute(
            contents.update().where(contents.c.document_id == document_id).values(data=data)
        )
