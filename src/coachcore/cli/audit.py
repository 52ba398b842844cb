"""``coachcore audit``: retention of the audit log."""

from __future__ import annotations

from typing import Annotated

import typer

from coachcore.cli.common import UrlOption, open_core
from coachcore.cli.progress import CountOnlyOption, purge
from coachcore.services.compliance.audit import retention_period

app = typer.Typer(help="The audit log's retention.", no_args_is_help=True)
DaysOption = Annotated[
    int,
    typer.Option("--days", help="Delete entries created more than DAYS days ago (at least 1)"),
]


@app.command("purge")
def audit_purge(url: UrlOption, days: DaysOption, dry_run: CountOnlyOption = False) -> None:
    """Delete audit entries created more than DAYS ago (the run logs one entry; for cron)."""
    retention_period(days)  # a refused period is one line on stderr, with no progress bar
    with open_core(url) as core:
        purge(core.system.audit, days, dry_run, "audit entries")
