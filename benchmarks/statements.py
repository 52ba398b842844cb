"""Statements per use case on the SQL stores: what a booking and a listing cost in waits.

    python benchmarks/statements.py                 # SQLite file and a throwaway PostgreSQL
    python benchmarks/statements.py --no-postgres   # SQLite only

Counts every statement SQLAlchemy sends (a ``before_cursor_execute``
listener on the store's engine) and every COMMIT, for one slot listing
(a week) and one booking (through its after-commit delivery) by a member on
a coach with hours every day, and for one batch of the outbox's purge and of
the audit log's.
Deterministic: the counts depend on the code, not on the machine. On
PostgreSQL each statement and COMMIT is a wait for the server (a round trip).
"""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import event

import coachcore
from coachcore import Role
from coachcore.adapters.clock import FixedClock
from coachcore.adapters.sqlalchemy import SqlStore

NOW = datetime(2030, 3, 1, 8, tzinfo=UTC)
MONDAY = date(2030, 3, 4)


def count(url: str) -> dict[str, tuple[int, int]]:
    """(statements, commits) of a listing and of a booking on a fresh store at ``url``."""
    core = coachcore.open(url, clock=FixedClock(NOW))
    assert isinstance(core.store, SqlStore)
    sent: list[str] = []
    event.listen(core.store.bind, "before_cursor_execute", lambda *a: sent.append("stmt"))
    event.listen(core.store.bind, "commit", lambda *a: sent.append("commit"))
    coach = core.system.users.create(
        name="Coach", email="coach@example.com", role=Role.COACH, timezone="UTC"
    )
    member = core.system.signup_member(name="M", email="m@example.com", coach_id=coach.id)
    for day in range(7):
        core.acting_as(coach.id).availability.create(
            day_of_week=day, start_time="07:00", end_time="21:00", max_sessions_per_slot=10
        )
    scope = core.acting_as(member.id)

    def listing() -> Any:
        return scope.availability.available_slots(
            coach.id, start_date=MONDAY, end_date=MONDAY.replace(day=10), duration=30
        )

    slots = listing()
    scope.bookings.create(coach_id=coach.id, start=slots[0].start, duration=30)  # warm

    def booking() -> Any:
        return scope.bookings.create(coach_id=coach.id, start=slots[4].start, duration=30)

    def measured(call: Callable[[], Any]) -> tuple[int, int]:
        sent.clear()
        call()
        return sent.count("stmt"), sent.count("commit")

    def purge() -> Any:  # one batch: the messages were delivered just now
        return core.system.outbox.purge(days=1)

    def audit_purge() -> Any:  # one batch: every entry was written just now
        return core.system.audit.purge(days=1)

    figures = {
        "listing (a week)": measured(listing),
        "booking": measured(booking),
        "outbox purge": measured(purge),
        "audit purge": measured(audit_purge),
    }
    core.close()
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        stores = {"SQLite file": f"sqlite:///{Path(folder) / 'count.db'}"}
        server = None
        if not args.no_postgres:
            from coachcore.testing.pgserver import ThrowawayPostgres, find_pg_bin

            if find_pg_bin() is not None:
                server = ThrowawayPostgres().start()
                stores["PostgreSQL"] = server.url
        try:
            for name, url in stores.items():
                for use_case, (statements, commits) in count(url).items():
                    print(f"{name:12} {use_case:18} {statements:3} statements, {commits} COMMITs")
        finally:
            if server is not None:
                server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
