"""``coachcore reminders run`` and ``coachcore waitlist run``: the cron jobs."""

from __future__ import annotations

import typer

from coachcore.cli.common import (
    ConfigOption,
    DryRunOption,
    UrlOption,
    console,
    open_core,
    refuse_recorders,
    table,
)
from coachcore.cli.outbox import show_due
from coachcore.cli.progress import counting

reminders_app = typer.Typer(help="Session reminders.", no_args_is_help=True)
waitlist_app = typer.Typer(help="Waitlist holds.", no_args_is_help=True)


@reminders_app.command("run")
def reminders_run(
    url: UrlOption, config: ConfigOption = None, dry_run: DryRunOption = False
) -> None:
    """Send due reminders, then deliver the outbox (idempotent; cron, every few minutes)."""
    with open_core(url, deliver=not dry_run, config=config) as core:
        if dry_run:
            due = core.system.reminders.due()
            rows = [[r.id, r.session_id, r.kind, r.due_at.isoformat()] for r in due]
            console.print(table("Reminders due", ["id", "session", "kind", "due at"], rows))
            show_due(core)
            return
        refuse_recorders(core)
        sent = core.system.reminders.send_due()
        with counting("messages delivered") as advance:
            delivered = core.system.outbox.dispatch(progress=advance)
    console.print(f"reminders sent: {sent}, messages delivered: {delivered}")


@waitlist_app.command("run")
def waitlist_run(
    url: UrlOption, config: ConfigOption = None, dry_run: DryRunOption = False
) -> None:
    """End expired waitlist holds, offer the seats on, deliver the outbox (idempotent; cron)."""
    with open_core(url, deliver=not dry_run, config=config) as core:
        if dry_run:
            expired = core.system.waitlist.expired()
            rows = [
                [e.id, e.coach_id, e.start.isoformat(), e.hold_until and e.hold_until.isoformat()]
                for e in expired
            ]
            console.print(table("Holds run out", ["id", "coach", "slot", "held until"], rows))
            show_due(core)
            return
        refuse_recorders(core)
        ended = core.system.waitlist.release_expired()
        with counting("messages delivered") as advance:
            delivered = core.system.outbox.dispatch(progress=advance)
    console.print(f"holds ended: {ended}, messages delivered: {delivered}")
