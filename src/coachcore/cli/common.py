"""What every command group shares: options, opening a core, tables, refusing."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

import coachcore
from coachcore.plugins.configured import CONFIG_ENV, unconfigured

DEMO_URL = "sqlite:///coachcore-demo.db"
KEYS_ENV = "COACHCORE_KEYS"
UrlOption = Annotated[str, typer.Option("--url", help="Database URL", envvar="COACHCORE_URL")]
SchemaOption = Annotated[
    str | None, typer.Option("--schema", help="Schema holding coachcore's tables (PostgreSQL)")
]
PrefixOption = Annotated[
    str, typer.Option("--table-prefix", help="Prefix of coachcore's table names")
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


def open_core(url: str, *, deliver: bool = False, config: Path | None = None) -> coachcore.Core:
    """A core over ``url`` with the keys of ``$COACHCORE_KEYS`` (if set), so every
    command works on a store with encrypted fields. Nothing is delivered after
    a command's commits; a command that ``deliver``s also gets the adapters of
    the configuration (environment, ``coachcore.toml``, plugins) and delivers
    only through an explicit ``dispatch`` once :func:`refuse_recorders` passed."""
    keys = os.environ.get(KEYS_ENV) or None
    core = coachcore.open(url, keys=keys, config=(config or True) if deliver else False)
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
