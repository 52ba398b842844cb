"""What every command group shares: options, opening a core, tables, refusing.

The database URL comes from ``--url``, then ``$COACHCORE_URL``. Only ``demo``
and the commands that explore it (``slots``, ``users list``, ``coaches list``)
fall back to the demo database (:data:`DEMO_URL`); operations commands
require one of the two. No command but ``demo`` and ``db upgrade`` creates a
database: the others refuse a URL where there is none.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import sqlalchemy as sa
import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.engine import URL, make_url
from typer.core import TyperGroup

import coachcore
from coachcore.errors import CoachCoreError, NotFound, ValidationFailed
from coachcore.plugins.configured import CONFIG_ENV, unconfigured

DEMO_URL = "sqlite:///coachcore-demo.db"
KEYS_ENV = "COACHCORE_KEYS"
URL_ENV = "COACHCORE_URL"
UrlOption = Annotated[
    str,
    typer.Option(
        "--url",
        help=f"Database URL (required: --url or ${URL_ENV})",
        envvar=URL_ENV,
        show_envvar=True,
    ),
]
DemoUrlOption = Annotated[
    str,
    typer.Option(
        "--url",
        help=f"Database URL (--url, then ${URL_ENV}, then the demo database)",
        envvar=URL_ENV,
        show_envvar=False,
    ),
]
SchemaOption = Annotated[
    str | None, typer.Option("--schema", help="Schema holding coachcore's tables (PostgreSQL)")
]
PrefixOption = Annotated[
    str, typer.Option("--table-prefix", help="Prefix of coachcore's table names")
]
BlobsOption = Annotated[
    str | None,
    typer.Option(
        "--blobs",
        help=(
            "Where document bytes are kept, as coachcore.open(blobs=...) takes it: a "
            "directory, or s3://bucket/prefix (default: <file>.blobs beside a SQLite "
            "file; PostgreSQL has none)"
        ),
    ),
]
ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        help="coachcore.toml with the delivery adapters (default: ./coachcore.toml if present)",
        envvar=CONFIG_ENV,
        show_envvar=True,
    ),
]
DryRunOption = Annotated[
    bool, typer.Option("--dry-run", help="List what would be delivered; change nothing")
]

console = Console()
errors = Console(stderr=True)


class Commands(TyperGroup):
    """The root command: a coachcore error (bad input, a missing row, a store
    that failed) is one line on stderr and exit status 1, not a traceback;
    usage errors keep click's status 2."""

    def invoke(self, ctx: Any) -> Any:  # typer's own click, or click
        try:
            return super().invoke(ctx)
        except CoachCoreError as error:
            errors.print(
                f"{error.error}: {error.message}", markup=False, highlight=False, soft_wrap=True
            )
            raise typer.Exit(1) from error


def show_version(value: bool) -> None:
    """``--version``: print the installed version and stop."""
    if value:
        console.print(f"coachcore {coachcore.__version__}", highlight=False)
        raise typer.Exit()


VersionOption = Annotated[
    bool,
    typer.Option(
        "--version", help="Show the version and exit.", callback=show_version, is_eager=True
    ),
]


def root(version: VersionOption = False) -> None:
    """coachcore: the domain core of a coaching platform.

    The database URL comes from --url, then $COACHCORE_URL. Only demo, slots,
    users list and coaches list fall back to the demo database
    (sqlite:///coachcore-demo.db); the other commands need one of the two.
    Only demo and db upgrade create a database.
    """


def day(name: str, value: str) -> date:
    """A ``YYYY-MM-DD`` option as a date; anything else is a ValidationFailed."""
    try:
        return date.fromisoformat(value)
    except ValueError as error:
        raise ValidationFailed(
            f"{name}: {value!r} is not a date (YYYY-MM-DD)", details={"field": name}
        ) from error


def open_core(url: str, *, deliver: bool = False, config: Path | None = None) -> coachcore.Core:
    """A core over ``url`` with the keys of ``$COACHCORE_KEYS`` (if set), so every
    command works on a store with encrypted fields. Nothing is delivered after
    a command's commits; a command that ``deliver``s also gets the adapters of
    the configuration (environment, ``coachcore.toml``, plugins) and delivers
    only through an explicit ``dispatch`` once :func:`refuse_recorders` passed."""
    keys = os.environ.get(KEYS_ENV) or None
    core = coachcore.open(existing(url), keys=keys, config=(config or True) if deliver else False)
    core.store.dispatch_on_commit = False
    return core


def refuse_recorders(core: coachcore.Core) -> None:
    """Exit with status 2 and say what to configure if any delivery adapter only
    records in memory: delivering into it would lose the messages."""
    missing = unconfigured(core)
    if not missing:
        return
    errors.print("Refusing to deliver: these adapters only record in memory, so messages")
    errors.print("would be marked delivered and lost. Configure:", highlight=False)
    for line in missing:
        errors.print(f"  - {line}", highlight=False, markup=False, soft_wrap=True)
    errors.print("or run with --dry-run to list what would go.", highlight=False)
    raise typer.Exit(2)


def table(title: str, columns: list[str], rows: list[list[Any]]) -> Table:
    """A rich table of ``rows`` (every cell shown with ``str``); the first
    column (an id, a kind) is never wrapped or cut, so it can be copied."""
    shown = Table(title=title)
    for position, column in enumerate(columns):
        shown.add_column(column, no_wrap=position == 0, min_width=_widest(rows, position))
    for row in rows:
        shown.add_row(*(str(v) for v in row))
    return shown


def _widest(rows: list[list[Any]], position: int) -> int | None:
    return max((len(str(row[position])) for row in rows), default=0) if position == 0 else None


def sql_url(url: str) -> URL:
    """``url`` parsed, if it names a SQL database coachcore can open (SQLite,
    PostgreSQL) with an installed driver; the error never repeats a password."""
    try:
        parsed = make_url(url)
    except sa.exc.ArgumentError as error:
        raise _bad_url("not a database URL") from error
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise _bad_url(f"{parsed.drivername!r} is neither SQLite nor PostgreSQL")
    try:
        parsed.get_dialect()
    except sa.exc.NoSuchModuleError as error:
        raise _bad_url(f"no database driver {parsed.drivername!r}") from error
    return parsed


def _bad_url(why: str) -> ValidationFailed:
    return ValidationFailed(
        f"url: {why} (use sqlite:///coaching.db or postgresql://user@host/db)",
        details={"field": "url"},
    )


def existing(url: str, *, tables: bool = True) -> str:
    """``url``, if it names a database that is there (a SQLite file; on PostgreSQL,
    with coachcore's tables unless ``tables`` is False): a command that only
    reads or operates never creates one. Other schemes are left to their plugin."""
    if not url.startswith(("sqlite", "postgresql")):
        return url
    parsed = sql_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database in ("", ":memory:") or database.startswith("file:"):
            return url
        if not Path(database).is_file():
            hint = "coachcore demo" if url == DEMO_URL else "coachcore db upgrade --url URL"
            raise NotFound(f"No database at {database}: `{hint}` creates one")
    elif tables:
        from coachcore.adapters.sqlalchemy import current_revision

        if current_revision(url) is None:
            name = parsed.database or "this database"
            raise NotFound(
                f"No coachcore tables in {name}: `coachcore db upgrade --url URL` creates them"
            )
    return url
