"""``coachcore privacy``: retention of personal data."""

from __future__ import annotations

from typing import Annotated

import typer

from coachcore.cli.common import UrlOption, console, errors, open_core
from coachcore.cli.progress import counting
from coachcore.services.compliance.privacy import retention_days

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
    if days is None:
        errors.print(
            "Give the retention period in days: --days N, or set $COACHCORE_RETENTION_DAYS.",
            highlight=False,
        )
        raise typer.Exit(2)
    retention_days(days)  # a refused period is one line on stderr, with no progress bar
    with open_core(url) as core, counting("sessions purged") as advance:
        purged = core.system.privacy.purge(days=days, progress=advance)
    console.print(f"sessions purged of private notes: {purged}")
