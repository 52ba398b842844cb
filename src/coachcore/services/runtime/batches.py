"""Work done in short transactions, one batch each: the retention purges."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import attrs

from coachcore.domain.audit import AuditEntry
from coachcore.services.runtime.transaction import Tx, new_id


def in_batches(
    batch: Callable[[], int], size: int, progress: Callable[[int], None] | None = None
) -> int:
    """Run ``batch`` (one transaction, returning how many items it did) until
    one does fewer than ``size``; the total. ``progress`` hears each batch's count."""
    total = 0
    while True:
        done = batch()
        total += done
        if progress is not None:
            progress(done)
        if done < size:
            return total


Delete = Callable[[Tx, datetime, int], int]
"""Delete up to ``limit`` items older than ``before`` in ``tx``; how many."""
Batch = Callable[[Tx], tuple[int, AuditEntry]]
Write = Callable[[Batch], tuple[int, AuditEntry]]
"""Run one batch in a write transaction of its own."""


@attrs.define
class RetentionRun:
    """One retention purge, batch after batch: the cut-off (``now - period``)
    is fixed when the run starts, and the run writes one audit entry, never one
    per batch: ``action`` (entity ``call``/``action``), its ``details`` the
    ``days``, the cut-off (``before``) and the ``count`` deleted. The entry is
    written with the first batch and its ``count`` brought up to date in each
    later batch's transaction, so a run stopped part-way still says how much it
    deleted; a run that finds nothing writes it too (count 0)."""

    action: str
    permission: str
    period: timedelta
    delete: Delete
    size: int
    entry: AuditEntry | None = None
    total: int = 0

    def run(self, write: Write, progress: Callable[[int], None] | None) -> int:
        """Every batch, each in a transaction of its own (``write`` runs one: the
        runtime's ``write`` with the actor and ``action``); how many were deleted."""

        def batch() -> int:
            done, self.entry = write(self._batch)
            self.total += done
            return done

        return in_batches(batch, self.size, progress)

    def _batch(self, tx: Tx) -> tuple[int, AuditEntry]:
        """Delete one batch and write (or bring up to date) the run's entry, in
        ``tx``; the run's state changes only once the transaction committed
        (a retried transaction runs this again)."""
        tx.actor.require(self.permission)
        entry = self.entry
        before = tx.now - self.period if entry is None else _cut_off(entry)
        done = self.delete(tx, before, self.size)
        count = self.total + done
        if entry is None:
            days = self.period // timedelta(days=1)
            details = {"days": days, "before": before.isoformat(), "count": count}
            entry = AuditEntry(
                id=new_id(),
                actor_id=tx.actor.user_id,
                action=self.action,
                entity_type="call",
                entity_id=self.action,
                details=details,
                created_at=tx.now,
            )
            tx.uow.audit.add(entry)
        else:
            entry = attrs.evolve(entry, details={**entry.details, "count": count})
            tx.uow.audit.update(entry)
        tx.audited = True
        return done, entry


def _cut_off(entry: AuditEntry) -> datetime:
    return datetime.fromisoformat(str(entry.details["before"]))
