"""Revision 0011 moves document bytes out of the table into blob storage (as
stored: sealed bytes stay sealed), builds the full-text index over the stored
documents, refuses to run where the bytes would have nowhere to go, and
downgrades back (the bytes return to the table)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

import coachcore
from backends import BackendPool, BackendUnavailable
from coachcore.adapters.blobs import LocalBlobs, MemoryBlobs
from coachcore.adapters.clock import FixedClock
from coachcore.adapters.crypto import AesGcmCipher
from coachcore.adapters.sqlalchemy import (
    create_store_engine,
    current_revision,
    downgrade,
    head_revision,
    migrate,
)
from coachcore.adapters.sqlalchemy.sealing import seal_value
from coachcore.errors import StoreError

T0 = datetime.fromisoformat("2030-01-01T08:00:00+00:00")
KEY = AesGcmCipher.generate_key()
FILES = {"d1": b"first file: goals", "d2": b"\x00\xff second", "d3": b"third, sealed"}


def _filler(column: sa.Column[Any]) -> Any:
    kind = column.type
    if isinstance(kind, sa.Boolean):
        return False
    if isinstance(kind, sa.Integer):
        return 0
    if isinstance(kind, sa.DateTime):
        return T0
    if isinstance(kind, sa.Date):
        return T0.date()
    if isinstance(kind, sa.JSON):
        return {}
    return "x"


def _insert(conn: sa.Connection, table: sa.Table, **given: Any) -> None:
    """A row with ``given`` values and a filler in every other required column."""
    row = {
        c.name: _filler(c)
        for c in table.columns
        if not c.nullable and c.server_default is None and c.name not in given
    }
    conn.execute(table.insert().values(**row, **given))


def _stored_0008(url: str, schema: str | None = None) -> None:
    """Three documents with bytes in the table: two plain, one sealed."""
    assert migrate(url, revision="0009", schema=schema) == "0009"
    engine = create_store_engine(url)
    try:
        meta = sa.MetaData(schema=schema)
        meta.reflect(engine)
        name = (lambda n: f"{schema}.coachcore_{n}") if schema else (lambda n: f"coachcore_{n}")
        users, docs, contents = (
            meta.tables[name(n)] for n in ("users", "documents", "document_contents")
        )
        cipher = AesGcmCipher([KEY])
        with engine.begin() as conn:
            _insert(conn, users, id="u1", email="u1@example.com", email_index="u1@example.com")
            for key, data in FILES.items():
                _insert(
                    conn,
                    docs,
                    id=key,
                    owner_id="u1",
                    title=seal_value(cipher, f"Title {key}") if key == "d3" else f"Title {key}",
                    extracted_text=data.decode("utf-8", "replace").replace("\x00", ""),
                    size_bytes=len(data),
                    sha256=hashlib.sha256(data).hexdigest(),
                    category="other",
                    content_type="text/plain",
                )
                stored = seal_value(cipher, data) if key == "d3" else data
                _insert(conn, contents, document_id=key, data=stored)
    finally:
        engine.dispose()


def test_sqlite_bytes_move_beside_the_file_and_back(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    _stored_0008(url)
    assert migrate(url) == head_revision()
    beside = LocalBlobs(tmp_path / "old.db.blobs")
    assert beside.get("documents/d1") == FILES["d1"] and beside.get("documents/d2") == FILES["d2"]
    sealed = beside.get("documents/d3")
    assert sealed.startswith(b"enc:v2:") and b"third" not in sealed  # moved as it was
    with coachcore.open(url, clock=FixedClock(T0), keys=[KEY]) as core:
        with core.store.unit_of_work(write=False) as uow:
            rows = {c.document_id: c for c in uow.document_contents.list()}
            assert {k: (r.key, r.size_bytes) for k, r in rows.items()} == {
                k: (f"documents/{k}", len(v)) for k, v in FILES.items()
            }
            found = uow.documents.search(["title", "d3"])  # opened and scanned: keys
            assert [d.id for d in found] == ["d3"]
        with core.store.bind.connect() as conn:  # the index covers old rows, not sealed ones
            indexed = conn.exec_driver_sql(
                "SELECT document_id FROM coachcore_document_search WHERE "
                "coachcore_document_search MATCH 'title'"
            ).all()
        assert sorted(r[0] for r in indexed) == ["d1", "d2"]
        for key, data in FILES.items():
            assert core.store.blobs.get(f"documents/{key}") == data
    assert downgrade(url, revision="0009") == "0009"
    engine = create_store_engine(url)
    try:
        with engine.connect() as conn:
            back = dict(
                conn.exec_driver_sql(
                    "SELECT document_id, data FROM coachcore_document_contents"
                ).all()
            )
            names = sa.inspect(conn).get_table_names()
    finally:
        engine.dispose()
    assert back["d1"] == FILES["d1"] and bytes(back["d3"]) == sealed
    assert not [n for n in names if "document_search" in n]


@pytest.fixture
def pg_schema(
    backend_pool: BackendPool, request: pytest.FixtureRequest
) -> Iterator[tuple[str, str]]:
    try:
        url = backend_pool.postgresql_url()
    except BackendUnavailable as why:
        pytest.skip(str(why))
    schema = f"s_{request.node.name[-12:].lower().replace('[', '_').replace(']', '')}"
    yield url, schema
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    engine.dispose()


def test_postgresql_needs_somewhere_to_put_the_bytes(pg_schema: tuple[str, str]) -> None:
    url, schema = pg_schema
    _stored_0008(url, schema)
    with pytest.raises(StoreError, match="blobs="):
        migrate(url, schema=schema)
    assert current_revision(url, schema=schema) == "0009"  # nothing changed
    blobs = MemoryBlobs()
    assert migrate(url, schema=schema, blobs=blobs) == head_revision()
    assert [k for k, _ in blobs.listing("")] == [f"documents/{k}" for k in FILES]
    assert blobs.get("documents/d2") == FILES["d2"]
    engine = create_store_engine(url)
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql(f"SET search_path TO {schema}")
            conn.exec_driver_sql("SET enable_seqscan = off")  # three rows: force the index
            plan = conn.exec_driver_sql(
                "EXPLAIN SELECT id FROM coachcore_documents WHERE search_vector @@ "
                "to_tsquery('simple'::regconfig, 'first:*')"
            ).all()
            vectors = dict(
                conn.exec_driver_sql(
                    "SELECT id, search_vector IS NOT NULL FROM coachcore_documents"
                ).all()
            )
    finally:
        engine.dispose()
    assert "ix_coachcore_documents_search" in " ".join(str(r[0]) for r in plan)
    assert vectors == {"d1": True, "d2": True, "d3": False}  # sealed text stays out
    assert downgrade(url, schema=schema, revision="0009", blobs=blobs) == "0009"
