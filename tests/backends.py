"""The stores the shared tests run on: memory, SQLite and PostgreSQL.

Each backend's ``open(clock)`` returns a core over an *empty* store, so a
test (or a hypothesis example) can call it as often as it likes. The SQL
backends are built once per test session (one SQLite file, one throwaway
PostgreSQL server, each migrated once, with one shared Engine and SqlStore);
``open()`` empties the tables (DELETE in one transaction: ~1 ms on SQLite,
~1-3 ms on PostgreSQL, where TRUNCATE took ~55 ms) and closes the core the
previous ``open()`` returned.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import coachcore
from coachcore.adapters.clock import FixedClock
from coachcore.plugins.hookspecs import hookimpl

T0 = datetime.fromisoformat("2030-01-01T08:00:00+00:00")
PG_MISSING = (
    "PostgreSQL binaries (initdb, pg_ctl) not found on this machine: the postgresql backend "
    "is skipped; install PostgreSQL (e.g. apt-get install postgresql) to run it"
)


class BackendUnavailable(LookupError):
    """The backend cannot run on this machine; the message says why."""


class Backend:
    name = "memory"

    def url(self) -> str:
        return "memory://"

    def open(self, clock: Any = None, **options: Any) -> coachcore.Core:
        """A core over an empty store (the clock defaults to a FixedClock at T0)."""
        return coachcore.open(self.url(), clock=clock or FixedClock(T0), **options)

    def release(self) -> None:
        """Close what the current test opened (called at fixture teardown)."""

    def close(self) -> None:
        """Release what the backend holds for the test session."""


class _UseStore:
    """A per-core plugin handing ``coachcore.open`` the backend's shared store."""

    def __init__(self, store: Any) -> None:
        self.store = store

    @hookimpl
    def coachcore_store(self, url: str) -> Any:
        return self.store


class SqlBackend(Backend):
    """One migrated database, one Engine and one SqlStore for the whole session."""

    def __init__(self, name: str, url: str, blobs: Any = None) -> None:
        from coachcore.adapters.sqlalchemy import SqlStore, create_store_engine

        self.name = name
        self._url = url
        self.engine = create_store_engine(url)
        self.blobs = blobs
        """The document bytes' directory (None: the SQLite default beside the file)."""
        self.store = SqlStore(self.engine, blobs=blobs)
        tables = reversed(self.store.tables.all())
        self._deletes = [f"DELETE FROM {t.fullname}" for t in tables]
        self._core: coachcore.Core | None = None

    def url(self) -> str:
        return self._url

    def reset(self) -> None:
        """Empty every coachcore table."""
        with self.engine.begin() as conn:
            if self.engine.dialect.name == "postgresql":  # one round trip
                conn.exec_driver_sql("; ".join(self._deletes))
            else:
                for delete in self._deletes:
                    conn.exec_driver_sql(delete)

    def open(self, clock: Any = None, **options: Any) -> coachcore.Core:
        self.release()
        self.reset()
        plugins = (*options.pop("plugins", ()), _UseStore(self.store))
        core = coachcore.open(self.url(), clock=clock or FixedClock(T0), plugins=plugins, **options)
        self._core = core
        return core

    def release(self) -> None:
        if self._core is not None:
            self._core.close()
            self._core = None

    def close(self) -> None:
        self.release()
        self.store.close()
        self.engine.dispose()


def sql_store_available() -> bool:
    return importlib.util.find_spec("coachcore.adapters.sqlalchemy.store") is not None


def backend_names() -> list[str]:
    names = ["memory"]
    if sql_store_available():
        names += ["sqlite", "postgresql"]
    return names


def postgresql_unavailable() -> str | None:
    """Why the postgresql backend cannot run here, or None if it can."""
    from coachcore.testing.pgserver import find_pg_bin

    if find_pg_bin() is None:
        return PG_MISSING
    if importlib.util.find_spec("psycopg") is None:
        return "psycopg (3) is not installed: pip install 'coachcore[postgresql]'"
    return None


class BackendPool:
    """The session's backends, built on first use and closed at the end."""

    def __init__(self, tmp_dir: Path) -> None:
        self.tmp_dir = tmp_dir
        self._backends: dict[str, Backend] = {}
        self._pg: Any = None

    def get(self, name: str) -> Backend:
        """The named backend; raises BackendUnavailable (with the reason) if it cannot run."""
        if name not in self._backends:
            self._backends[name] = self._make(name)
        return self._backends[name]

    def postgresql_url(self) -> str:
        """The URL of the session's throwaway PostgreSQL database (started once)."""
        reason = postgresql_unavailable()
        if reason is not None:
            raise BackendUnavailable(reason)
        if self._pg is None:
            from coachcore.testing.pgserver import ThrowawayPostgres

            self._pg = ThrowawayPostgres().start()
        return str(self._pg.url)

    def _make(self, name: str) -> Backend:
        if name == "memory":
            return Backend()
        if name == "sqlite":
            return SqlBackend("sqlite", f"sqlite:///{self.tmp_dir / 'coachcore.db'}")
        if name == "postgresql":
            return SqlBackend("postgresql", self.postgresql_url(), self.tmp_dir / "pg-blobs")
        raise LookupError(name)

    def close(self) -> None:
        for backend in self._backends.values():
            backend.close()
        self._backends.clear()
        if self._pg is not None:
            self._pg.stop()
            self._pg = None


def make_backend(name: str, tmp_dir: Any) -> Iterator[Backend]:
    """Yield the named backend for one use (built and closed around it)."""
    pool = BackendPool(Path(tmp_dir))
    try:
        yield pool.get(name)
    finally:
        pool.close()


def emptied_sql_backend(pool: BackendPool, name: str) -> Iterator[SqlBackend]:
    """The pool's SQL backend ``name``, emptied, for a fixture to yield from
    (the test is skipped, with the reason, where it is unavailable)."""
    import pytest

    try:
        chosen = pool.get(name)
    except BackendUnavailable as why:
        pytest.skip(str(why))
    assert isinstance(chosen, SqlBackend)
    chosen.release()
    chosen.reset()
    yield chosen
    chosen.release()
