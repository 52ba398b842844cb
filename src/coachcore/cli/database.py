"""``coachcore db``: the schema's migrations."""

from __future__ import annotations

import typer

from coachcore.adapters.sqlalchemy.tables import DEFAULT_PREFIX
from coachcore.cli.common import (
    PrefixOption,
    SchemaOption,
    UrlOption,
    console,
    existing,
    sql_url,
)
from coachcore.cli.progress import counting

app = typer.Typer(help="Database schema migrations.", no_args_is_help=True)


@app.command("upgrade")
def db_upgrade(
    url: UrlOption, schema: SchemaOption = None, table_prefix: PrefixOption = DEFAULT_PREFIX
) -> None:
    """Create or migrate the database schema to the current version."""
    from coachcore.adapters.sqlalchemy import current_revision, migrate, revisions_after

    sql_url(url)
    before = current_revision(url, schema=schema, table_prefix=table_prefix)
    steps = revisions_after(before)
    with counting("migrating", total=len(steps)) as advance:
        migrate(url, schema=schema, table_prefix=table_prefix, progress=lambda _: advance(1))
    console.print(f"migrations applied: {len(steps)}")
    db_current(url, schema, table_prefix)


@app.command("current")
def db_current(
    url: UrlOption, schema: SchemaOption = None, table_prefix: PrefixOption = DEFAULT_PREFIX
) -> None:
    """Show the database's schema revision (reads only; creates nothing)."""
    from coachcore.adapters.sqlalchemy import current_revision

    sql_url(url)
    revision = current_revision(
        existing(url, tables=False), schema=schema, table_prefix=table_prefix
    )
    console.print(f"schema revision: {revision}")
