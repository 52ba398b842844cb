"""Schema versions: the packaged Alembic migrations, run programmatically.

The scripts live in ``migrations/`` inside the package; the revision is kept
in coachcore's own version table (``<prefix>alembic_version``, default
``coachcore_alembic_version``, in the store's schema), never in a host's
``alembic_version``. Migrations run in one transaction that holds SQLite's
write lock (BEGIN IMMEDIATE) or a PostgreSQL advisory lock, so processes
opening a new database at the same moment migrate it once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy.engine import URL, Connection, Engine

from coachcore.adapters.sqlalchemy.db import translate
from coachcore.adapters.sqlalchemy.engines import (
    BEGIN_OPTION,
    create_store_engine,
    is_postgresql,
)
from coachcore.adapters.sqlalchemy.tables import DEFAULT_PREFIX, Tables, version_table_name
from coachcore.errors import SchemaOutdated, StoreError

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
Target = str | URL | Engine | Connection
Progress = Callable[[str], None]
"""Called with each revision id once its migration step has run."""


@cache
def head_revision() -> str:
    """The newest revision this version of coachcore ships."""
    head = ScriptDirectory(str(MIGRATIONS)).get_current_head()
    if head is None:  # pragma: no cover - the package always ships 0001
        raise StoreError("coachcore ships no migrations")
    return head


def revisions_after(revision: str | None) -> list[str]:
    """The revisions an upgrade from ``revision`` (None: an empty database) to
    the head applies, oldest first."""
    script = ScriptDirectory(str(MIGRATIONS))
    steps = script.iterate_revisions(head_revision(), revision or "base")
    return [step.revision for step in reversed(list(steps)) if step.revision != revision]


def alembic_config(
    connection: Connection | None = None,
    *,
    schema: str | None = None,
    table_prefix: str = DEFAULT_PREFIX,
    progress: Progress | None = None,
    blobs: Any = None,
) -> Config:
    """An Alembic ``Config`` for the packaged scripts (no ini file needed)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes.update(
        connection=connection, schema=schema, table_prefix=table_prefix, blobs=blobs
    )
    if progress is not None:
        cfg.attributes["on_version_apply"] = _applied(progress)
    return cfg


def _applied(progress: Progress) -> Callable[..., None]:
    """Alembic's ``on_version_apply`` hook, telling ``progress`` each revision."""

    def hook(*, step: Any, **_: Any) -> None:
        for revision in step.up_revision_ids if step.is_upgrade else step.down_revision_ids:
            progress(revision)

    return hook


@contextmanager
def _connect(target: Target) -> Iterator[tuple[Connection, bool]]:
    """A connection to ``target`` and whether we own it (and its transactions)."""
    if isinstance(target, Connection):
        yield target, False
        return
    engine = target if isinstance(target, Engine) else create_store_engine(target)
    try:
        with engine.connect() as conn:
            yield conn, True
    finally:
        if engine is not target:
            engine.dispose()


@contextmanager
def _locked_transaction(conn: Connection, owned: bool, table_prefix: str) -> Iterator[None]:
    """One transaction (a SAVEPOINT inside a host's) holding the migration lock."""
    if owned:
        conn.execution_options(**{BEGIN_OPTION: "IMMEDIATE"})
    tx = conn.begin_nested() if conn.in_transaction() else conn.begin()
    with tx:
        if is_postgresql(conn):
            key = sa.func.hashtextextended(f"coachcore-migrate:{table_prefix}", 0)
            conn.execute(sa.select(sa.func.pg_advisory_xact_lock(key)))
        yield


def _current(conn: Connection, schema: str | None, table_prefix: str) -> str | None:
    opts = {"version_table": version_table_name(table_prefix), "version_table_schema": schema}
    return MigrationContext.configure(conn, opts=opts).get_current_revision()


def current_revision(
    target: Target, *, schema: str | None = None, table_prefix: str = DEFAULT_PREFIX
) -> str | None:
    """The revision the coachcore tables are at (None: not created or stamped base)."""
    try:
        with _connect(target) as (conn, _):
            return _current(conn, schema, table_prefix)
    except sa.exc.SQLAlchemyError as exc:
        raise translate(exc) from exc


def _run(
    action: str,
    target: Target,
    revision: str,
    schema: str | None,
    table_prefix: str,
    progress: Progress | None = None,
    blobs: Any = None,
) -> str | None:
    try:
        with _connect(target) as (conn, owned), _locked_transaction(conn, owned, table_prefix):
            if schema is not None and is_postgresql(conn):
                conn.execute(sa.schema.CreateSchema(schema, if_not_exists=True))
            cfg = alembic_config(
                conn, schema=schema, table_prefix=table_prefix, progress=progress, blobs=blobs
            )
            if action == "upgrade":
                command.upgrade(cfg, revision)
            elif action == "downgrade":
                command.downgrade(cfg, revision)
            else:
                command.stamp(cfg, revision)
            return _current(conn, schema, table_prefix)
    except sa.exc.SQLAlchemyError as exc:
        raise translate(exc) from exc


def migrate(
    target: Target,
    *,
    revision: str = "head",
    schema: str | None = None,
    table_prefix: str = DEFAULT_PREFIX,
    progress: Progress | None = None,
    blobs: Any = None,
) -> str | None:
    """Upgrade the coachcore tables of ``target`` (URL, Engine or Connection) to
    ``revision``; returns the revision reached. Safe to run concurrently.

    ``progress``, if given, is called with each revision id as its step runs
    (:func:`revisions_after` lists the steps to come). ``blobs`` (a BlobStore,
    a directory's path or an ``s3://bucket/prefix`` URL; default
    ``<file>.blobs`` beside a SQLite file) receives the document bytes
    migration 0010 moves out of the table."""
    return _run("upgrade", target, revision, schema, table_prefix, progress, blobs)


def downgrade(
    target: Target,
    *,
    revision: str,
    schema: str | None = None,
    table_prefix: str = DEFAULT_PREFIX,
    blobs: Any = None,
) -> str | None:
    """Downgrade to ``revision`` ("base" drops every coachcore table); ``blobs``
    as for :func:`migrate` (below 0010 the bytes go back into the table)."""
    return _run("downgrade", target, revision, schema, table_prefix, blobs=blobs)


def stamp(
    target: Target, *, revision: str, schema: str | None = None, table_prefix: str = DEFAULT_PREFIX
) -> str | None:
    """Record ``revision`` in the version table without running anything."""
    return _run("stamp", target, revision, schema, table_prefix)


def upgrade_command(url: URL, tables: Tables) -> str:
    """The shell command that brings these tables up to date."""
    parts = ["coachcore db upgrade --url", url.render_as_string(hide_password=True)]
    if tables.schema is not None:
        parts += ["--schema", tables.schema]
    if tables.prefix != DEFAULT_PREFIX:
        parts += ["--table-prefix", tables.prefix]
    return " ".join(parts)


def _state(conn: Connection, tables: Tables) -> tuple[bool, str | None]:
    """(coachcore tables exist, current revision); a version table left behind by a
    downgrade to base, with no tables, counts as empty."""
    inspector: Any = sa.inspect(conn)
    current = None
    if inspector.has_table(tables.version_table, schema=tables.schema):
        current = _current(conn, tables.schema, tables.prefix)
        if current is not None:
            return True, current
    return inspector.has_table(tables.users.name, schema=tables.schema), current


def ensure_current(bind: Engine | Connection, tables: Tables, *, auto_migrate: bool) -> None:
    """Create the tables of an empty database, or check they are at the head.

    :raises SchemaOutdated: the tables are behind this version of coachcore.
    :raises StoreError: they are ahead of it (a newer coachcore migrated them).
    """
    head = head_revision()
    try:
        with _connect(bind) as (conn, _):
            exists, current = _state(conn, tables)
    except sa.exc.SQLAlchemyError as exc:
        raise translate(exc) from exc
    if current == head:
        return
    if not exists and auto_migrate:
        migrate(bind, schema=tables.schema, table_prefix=tables.prefix)
        return
    command_line = upgrade_command(bind.engine.url, tables)
    if current is not None and not _known(current):
        raise StoreError(
            f"The coachcore tables are at revision {current}, which this version of "
            f"coachcore does not know (its newest is {head}); upgrade coachcore.",
            details={"revision": current, "head": head},
        )
    raise SchemaOutdated(
        f"The coachcore tables are at revision {current or 'none'}, this version of "
        f"coachcore needs {head}. Upgrade them with: {command_line}",
        details={"revision": current, "head": head, "command": command_line},
    )


def _known(revision: str) -> bool:
    try:
        return ScriptDirectory(str(MIGRATIONS)).get_revision(revision) is not None
    except CommandError:
        return False
