"""``coachcore privacy``: retention of personal data."""

from __future__ import annotations

from typing import Annotated

import typer

from coachcore.cli.common import UrlOption, console, open_core

app = typer.Typer(help="Retention of personal data.", no_args_is_help=True)


@app.command("purge")
def privacy_purge(
    url: UrlOption,
    days: Annotated[
        int | None,
        typer.Option(
            "--days",
            help="Retention period in days (default: $COACHCORE_RETENTION_DAYS)",
            envvar="COACHCORE_RETENTION_DAYS",
        ),
    ] = None,
) -> None:
    """Remove private notes of sessions completed more than DAYS ago (idempotent; for cron)."""
    with open_core(url) as core:
        purged = core.system.privacy.purge(days=days)
    console.print(f"sessions purged of private notes: {purged}")
