"""``coachcore db``: the schema's migrations."""

from __future__ import annotations

import typer

from coachcore.adapters.sqlalchemy.tables import DEFAULT_PREFIX
from coachcore.cli.common import (
    BlobsOption,
    PrefixOption,
    SchemaOption,
    UrlOption,
    console,
    existing,
    sql_url,
)
from coachcore.cli.progress import counting
from coachcore.errors import StoreError, ValidationFailed

app = typer.Typer(help="Database schema migrations.", no_args_is_help=True)


@app.command("upgrade")
def db_upgrade(
    url: UrlOption,
    schema: SchemaOption = None,
    table_prefix: PrefixOption = DEFAULT_PREFIX,
    blobs: BlobsOption = None,
) -> None:
    """Create or migrate the database schema to the current version.

    Revision 0010 moves stored document bytes into blob storage: --blobs
    names it (the directory or bucket the application opens the store with).
    """
    from coachcore.adapters.sqlalchemy import current_revision, migrate, revisions_after

    sql_url(url)
    before = current_revision(url, schema=schema, table_prefix=table_prefix)
    steps = revisions_after(before)
    try:
        with counting("migrating", total=len(steps)) as advance:
            migrate(
                url,
                schema=schema,
                table_prefix=table_prefix,
                progress=lambda _: advance(1),
                blobs=blobs,
            )
    except StoreError as error:
        if blobs is None and _about_blobs(error):
            raise _without_blobs() from error
        raise
    console.print(f"migrations applied: {len(steps)}")
    db_current(url, schema, table_prefix)


def _about_blobs(error: StoreError) -> bool:
    return isinstance(error.details, dict) and error.details.get("field") == "blobs"


def _without_blobs() -> ValidationFailed:
    return ValidationFailed(
        "blobs: this database holds document bytes, which this upgrade moves to blob "
        "storage, and there is none by default here; run it again with --blobs DIRECTORY "
        "or --blobs s3://bucket/prefix, the storage the application opens it with "
        "(nothing was changed)",
        details={"field": "blobs"},
    )


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
