"""Reminders 24 h and 1 h before a session: armed at scheduling, sent once."""

from __future__ import annotations

from datetime import timedelta

from coachcore.domain.entities import Reminder, Session
from coachcore.domain.enums import NotificationKind, ReminderStatus, SessionStatus
from coachcore.services.delivery import outgoing
from coachcore.services.runtime.transaction import Tx, UseCases, new_id

LEADS = {
    NotificationKind.REMINDER_24H: timedelta(hours=24),
    NotificationKind.REMINDER_1H: timedelta(hours=1),
}
BATCH = 500


def arm(tx: Tx, session: Session) -> None:
    """Write the reminders still ahead of ``now`` (a session booked less than
    24 h ahead gets only the 1 h one)."""
    for kind, lead in LEADS.items():
        due = session.scheduled_at - lead
        if due > tx.now:
            tx.uow.reminders.add(
                Reminder(id=new_id(), session_id=session.id, kind=kind, due_at=due)
            )


def disarm(tx: Tx, session_id: str) -> None:
    """Cancel the session's pending reminders (cancel, complete, reschedule)."""
    for reminder in tx.uow.reminders.list(session_id=session_id):
        if reminder.status == ReminderStatus.PENDING:
            tx.uow.reminders.claim(reminder, None)  # one sent meanwhile stays sent


def send_due(tx: Tx) -> int:
    """Claim due reminders and notify coach and member; late ones (session already
    started) are dropped. Returns how many reminders were sent."""
    sent, batch = 0, BATCH
    while batch == BATCH:
        due = tx.uow.reminders.due(tx.now, BATCH)
        batch = len(due)
        sent += sum(_send(tx, reminder) for reminder in due)
    return sent


def _stale(tx: Tx, reminder: Reminder, session: Session) -> bool:
    """Past its grace deadline: the session is gone, or a shorter reminder is due."""
    if session.status != SessionStatus.SCHEDULED:
        return True
    grace = min((lead for lead in LEADS.values() if lead < LEADS[reminder.kind]), default=None)
    deadline = session.scheduled_at - grace if grace is not None else session.scheduled_at
    return tx.now >= deadline


def _send(tx: Tx, reminder: Reminder) -> int:
    session = tx.uow.sessions.get(reminder.session_id)
    if session is None or _stale(tx, reminder, session):
        tx.uow.reminders.claim(reminder, None)  # another job may have settled it: fine
        return 0
    if not tx.uow.reminders.claim(reminder, tx.now):
        return 0
    hours = "24 hours" if reminder.kind == NotificationKind.REMINDER_24H else "1 hour"
    for person in (session.coach_id, session.member_id):
        outgoing.notify(
            tx,
            person,
            reminder.kind,
            f"Coaching session in {hours}",
            f"Your session starts at {session.scheduled_at.isoformat()}.",
            session_id=session.id,
        )
    return 1


class Reminders(UseCases):
    """``core.system.reminders``: hosts call ``send_due()`` from cron; idempotent."""

    def send_due(self) -> int:
        """Send every due reminder exactly once; returns how many were sent."""

        def run(tx: Tx) -> int:
            tx.actor.require("reminders:run")
            return send_due(tx)

        return self._rt.write(self._actor, run, action="reminders.send_due")

    def due(self) -> list[Reminder]:
        """The reminders ``send_due()`` would settle now (sent, or dropped if
        late), oldest due first; changes nothing."""

        def run(tx: Tx) -> list[Reminder]:
            tx.actor.require("reminders:run")
            return list(tx.uow.reminders.due(tx.now, BATCH))

        return self._rt.read(self._actor, run)
