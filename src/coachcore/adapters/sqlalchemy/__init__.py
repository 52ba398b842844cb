"""The SQLAlchemy store: Core tables, units of work, packaged Alembic migrations.

``SqlStore.from_url("sqlite:///coaching.db")`` (or ``postgresql+psycopg://...``)
is what ``coachcore.open`` uses; hosts can also pass their own Engine or a
Connection inside their transaction. See ``docs/storage.md``.
"""

from __future__ import annotations

from coachcore.adapters.sqlalchemy.engines import create_store_engine, prepare_sqlite
from coachcore.adapters.sqlalchemy.store import SqlStore
from coachcore.adapters.sqlalchemy.tables import Tables, build_tables
from coachcore.adapters.sqlalchemy.versioning import (
    current_revision,
    downgrade,
    head_revision,
    migrate,
    revisions_after,
    stamp,
)

__all__ = [
    "SqlStore",
    "Tables",
    "build_tables",
    "create_store_engine",
    "current_revision",
    "downgrade",
    "head_revision",
    "migrate",
    "prepare_sqlite",
    "revisions_after",
    "stamp",
]
