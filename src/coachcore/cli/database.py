"""``coachcore db``: the schema's migrations."""

from __future__ import annotations

import typer

from coachcore.adapters.sqlalchemy.tables import DEFAULT_PREFIX
from coachcore.cli.common import PrefixOption, SchemaOption, UrlOption, console

app = typer.Typer(help="Database schema migrations.", no_args_is_help=True)


@app.command("upgrade")
def db_upgrade(
    url: UrlOption, schema: SchemaOption = None, table_prefix: PrefixOption = DEFAULT_PREFIX
) -> None:
    """Migrate the database schema to the current version."""
    from coachcore.adapters.sqlalchemy import migrate

    migrate(url, schema=schema, table_prefix=table_prefix)
    db_current(url, schema, table_prefix)


@app.command("current")
def db_current(
    url: UrlOption, schema: SchemaOption = None, table_prefix: PrefixOption = DEFAULT_PREFIX
) -> None:
    """Show the database's schema revision."""
    from coachcore.adapters.sqlalchemy import current_revision

    revision = current_revision(url, schema=schema, table_prefix=table_prefix)
    console.print(f"schema revision: {revision}")
