"""The ``coachcore`` command line: demo, slots, users, database, reminders, waitlist, outbox,
audit.

Jobs that deliver (``outbox dispatch``, ``reminders run``, ``waitlist run``)
take their adapters from the configuration (:mod:`coachcore.plugins.configured`)
and refuse to run with the in-memory recorders; ``--dry-run`` lists what would go.
"""

from __future__ import annotations

import typer

from coachcore.cli import audit, database, demo, jobs, keys, outbox, privacy, users
from coachcore.cli.common import Commands, errors, root
from coachcore.cli.demo import run_demo
from coachcore.errors import CoachCoreError

__all__ = ["app", "main", "run_demo"]

app = typer.Typer(cls=Commands, no_args_is_help=True)
app.callback()(root)
app.registered_commands += demo.app.registered_commands
app.add_typer(users.users_app, name="users")
app.add_typer(users.coaches_app, name="coaches")
app.add_typer(database.app, name="db")
app.add_typer(outbox.app, name="outbox")
app.add_typer(jobs.reminders_app, name="reminders")
app.add_typer(jobs.waitlist_app, name="waitlist")
app.add_typer(keys.app, name="keys")
app.add_typer(privacy.app, name="privacy")
app.add_typer(audit.app, name="audit")


def main() -> None:
    """Entry point of the ``coachcore`` script: errors print cleanly."""
    try:
        app()
    except CoachCoreError as error:
        errors.print(f"[red]{error.error}[/red]: {error.message}")
        raise SystemExit(1) from error
