"""Alembic environment of coachcore's own tables.

Run by :mod:`coachcore.adapters.sqlalchemy.versioning` with the connection,
schema and table prefix in ``config.attributes``. Only tables with the prefix
are compared or touched, and the revision lives in ``<prefix>alembic_version``.
"""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlalchemy.engine import Connection

from coachcore.adapters.sqlalchemy.engines import create_store_engine
from coachcore.adapters.sqlalchemy.tables import DEFAULT_PREFIX, build_tables

config = context.config
schema: str | None = config.attributes.get("schema")
prefix: str = config.attributes.get("table_prefix") or DEFAULT_PREFIX
tables = build_tables(schema=schema, prefix=prefix)


def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
    """Look only at coachcore's tables (not the host's, not the version table)."""
    if type_ == "table":
        return name is not None and name.startswith(prefix) and name != tables.version_table
    return True


def run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=tables.metadata,
        version_table=tables.version_table,
        version_table_schema=schema,
        include_name=include_name,
        compare_type=True,
        render_as_batch=connection.dialect.name == "sqlite",
        on_version_apply=config.attributes.get("on_version_apply"),
    )
    with context.begin_transaction():
        context.run_migrations()


def main() -> None:
    if context.is_offline_mode():
        raise RuntimeError("coachcore's migrations run online only")
    connection = config.attributes.get("connection")
    if connection is not None:
        run(connection)
        return
    engine = create_store_engine(config.get_main_option("sqlalchemy.url") or "")
    try:
        with engine.begin() as conn:
            run(conn)
    finally:
        engine.dispose()


main()
