"""``coachcore audit``: retention of the audit log."""

from __future__ import annotations

from typing import Annotated

import typer

from coachcore.cli.common import UrlOption, console, open_core
from coachcore.cli.progress import counting
from coachcore.services.compliance.audit import retention_period

app = typer.Typer(help="The audit log's retention.", no_args_is_help=True)
DaysOption = Annotated[
    int,
    typer.Option("--days", help="Delete entries created more than DAYS days ago (at least 1)"),
]
CountOnlyOption = Annotated[
    bool, typer.Option("--dry-run", help="Count what would be deleted; change nothing")
]


@app.command("purge")
def audit_purge(url: UrlOption, days: DaysOption, dry_run: CountOnlyOption = False) -> None:
    """Delete audit entries created more than DAYS ago (the run logs one entry; for cron)."""
    retention_period(days)  # a refused period is one line on stderr, with no progress bar
    with open_core(url) as core:
        if dry_run:
            console.print(f"would delete: {core.system.audit.purgeable(days=days)}")
            return
        with counting("audit entries purged") as advance:
            purged = core.system.audit.purge(days=days, progress=advance)
    console.print(f"audit entries purged: {purged}")
