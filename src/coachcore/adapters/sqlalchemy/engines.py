"""Engines configured for coachcore: SQLite in WAL mode with explicit BEGINs, PostgreSQL.

SQLite follows SQLAlchemy's pysqlite recipe ("Enabling Non-Legacy SQLite
Transactional Modes"): the driver's own transaction handling is switched
off (``isolation_level = None``) on connect, and a ``begin`` listener emits
the BEGIN itself: ``BEGIN IMMEDIATE`` when the connection carries the
execution option ``coachcore_begin="IMMEDIATE"`` (write units of work take
the write lock up front, so they queue on ``busy_timeout`` instead of failing
with "database is locked" when they upgrade), plain deferred ``BEGIN``
otherwise (reads see one snapshot, thanks to WAL never blocked by writers).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.pool import StaticPool

from coachcore.errors import MissingDependency

BEGIN_OPTION = "coachcore_begin"
DEFAULT_BUSY_TIMEOUT = 30.0


class _SqliteConnect:
    """``connect`` listener: driver autocommit off, WAL, busy timeout, foreign keys."""

    def __init__(self, busy_timeout: float, synchronous: str) -> None:
        self.busy_ms = int(busy_timeout * 1000)
        self.synchronous = synchronous

    def __call__(self, dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {self.busy_ms}")
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA foreign_keys = ON")
            cursor.execute("PRAGMA secure_delete = ON")
            cursor.execute(f"PRAGMA synchronous = {self.synchronous}")
        finally:
            cursor.close()


def _sqlite_begin(conn: Connection) -> None:
    """``begin`` listener: emit BEGIN (or BEGIN IMMEDIATE) ourselves."""
    mode = conn.get_execution_options().get(BEGIN_OPTION)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if mode == "IMMEDIATE" else "BEGIN")


def is_sqlite(bind: Engine | Connection) -> bool:
    return bind.dialect.name == "sqlite"


def is_postgresql(bind: Engine | Connection) -> bool:
    return bind.dialect.name == "postgresql"


def is_memory_sqlite(url: URL) -> bool:
    return url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")


def prepare_sqlite(
    engine: Engine,
    *,
    busy_timeout: float = DEFAULT_BUSY_TIMEOUT,
    synchronous: str = "NORMAL",
) -> None:
    """Install coachcore's listeners on a SQLite engine (idempotent).

    Do this before the engine's first use: pooled connections that already
    exist are released from the pool (``dispose(close=False)``) so that every
    connection coachcore gets is configured.
    """
    if event.contains(engine, "begin", _sqlite_begin):
        return
    if synchronous.upper() not in ("OFF", "NORMAL", "FULL", "EXTRA"):
        raise ValueError(f"synchronous: unknown mode {synchronous!r}")
    event.listen(engine, "connect", _SqliteConnect(busy_timeout, synchronous.upper()))
    event.listen(engine, "begin", _sqlite_begin)
    engine.dispose(close=False)


def create_store_engine(
    url: str | URL,
    *,
    busy_timeout: float = DEFAULT_BUSY_TIMEOUT,
    synchronous: str = "NORMAL",
    **options: Any,
) -> Engine:
    """An engine for ``url`` set up the way coachcore needs it.

    ``postgresql://`` means psycopg 3; PostgreSQL write units of work run at
    READ COMMITTED (the per-coach advisory lock makes them safe). An in-memory
    SQLite database uses one shared connection (``StaticPool``).
    """
    parsed = make_url(url)
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    backend = parsed.get_backend_name()
    if backend == "postgresql":
        options.setdefault("isolation_level", "READ COMMITTED")
    if backend == "sqlite" and is_memory_sqlite(parsed):
        options.setdefault("poolclass", StaticPool)
        options.setdefault("connect_args", {"check_same_thread": False})
    try:
        engine = sa.create_engine(parsed, **options)
    except ModuleNotFoundError as exc:
        if backend != "postgresql":
            raise
        raise MissingDependency(
            f"{parsed.drivername}:// URLs", extra="postgresql", module=exc.name or "psycopg"
        ) from exc
    if backend == "sqlite":
        prepare_sqlite(engine, busy_timeout=busy_timeout, synchronous=synchronous)
    return engine
