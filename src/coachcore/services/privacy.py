"""Privacy use cases: the retention purge (export and erasure follow)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from coachcore.domain import checks
from coachcore.domain.privacy import erase_booking, holds_notes, purge_notes
from coachcore.errors import ValidationFailed
from coachcore.services.context import Tx, UseCases

PURGE_BATCH = 200


def purge_batch(tx: Tx, days: int, limit: int) -> int:
    """Purge the private notes of up to ``limit`` sessions completed ``days`` ago or
    earlier (and the member notes of their bookings); returns how many."""
    before = tx.now - timedelta(days=days)
    due = tx.uow.sessions.completed_with_notes(before, limit)
    for session in due:
        if not holds_notes(session):
            continue
        tx.uow.sessions.update(purge_notes(session, tx.now))
        booking = tx.uow.bookings.get_by_session(session.id)
        if booking is not None and booking.member_notes is not None:
            tx.uow.bookings.update(erase_booking(booking, tx.now))
    return len(due)


class Privacy(UseCases):
    """``scope.privacy``: retention, export and erasure of personal data."""

    def purge(self, *, days: Any = None) -> int:
        """Remove the coach's and the member's notes from sessions completed more
        than ``days`` ago (default: the core's ``retention_days``); returns how
        many sessions lost notes. Idempotent: a second run purges nothing.
        Needs ``privacy:manage`` (admins, the system scope)."""
        if days is None:
            days = self._rt.retention_days
            if days is None:
                raise ValidationFailed(
                    "days: no retention period given and none configured "
                    "(coachcore.open(url, retention_days=...))",
                    details={"field": "days"},
                )
        period = checks.integer("days", days, low=0, high=36_500)

        def run(tx: Tx) -> int:
            tx.actor.require("privacy:manage")
            return purge_batch(tx, period, PURGE_BATCH)

        total = 0
        while True:  # one short transaction per batch
            done = self._rt.write(self._actor, run)
            total += done
            if done < PURGE_BATCH:
                return total
