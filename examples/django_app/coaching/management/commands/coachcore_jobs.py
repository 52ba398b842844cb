"""``python manage.py coachcore_jobs``: the periodic jobs coachcore leaves to the host.

Run it from cron (every minute) or a scheduler; each job is safe to run in
several processes at once (reminders and outbox messages are claimed once).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from coaching.core import get_core

JOBS = ("reminders", "waitlist", "outbox")


class Command(BaseCommand):
    help = "Send due reminders, release expired waitlist holds and deliver the outbox."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "jobs", nargs="*", help=f"any of {', '.join(JOBS)} (default: all, in this order)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        unknown = set(options["jobs"]) - set(JOBS)
        if unknown:
            raise CommandError(f"unknown job(s): {', '.join(sorted(unknown))}; pick from {JOBS}")
        system = get_core().system
        for job in options["jobs"] or JOBS:
            if job == "reminders":
                self.stdout.write(f"reminders sent: {system.reminders.send_due()}")
            elif job == "waitlist":
                self.stdout.write(f"waitlist holds released: {system.waitlist.release_expired()}")
            else:
                self.stdout.write(f"outbox messages delivered: {system.outbox.dispatch()}")
