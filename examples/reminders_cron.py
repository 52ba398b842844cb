"""Reminders and the outbox dispatcher from a plain loop, the way a cron job or a
worker process would run them.

Run: python examples/reminders_cron.py [URL]   (default: memory://)

Every tick calls ``core.system.reminders.send_due()`` (claims due 24 h and 1 h
reminders and writes their notifications to the outbox) and
``core.system.outbox.dispatch()`` (delivers pending side effects, retrying
failed ones with backoff). Both are idempotent and safe to run from several
processes at once; here two overlapping "cron runs" call ``send_due`` at the
same time on every tick, and still each reminder goes out exactly once.

A FixedClock moves 30 minutes per tick so the demo covers a day and a half in
a moment; a real worker uses the system clock and sleeps between ticks::

    while True:
        core.system.reminders.send_due()
        core.system.outbox.dispatch()
        time.sleep(60)

(or cron: ``coachcore reminders run --url URL`` every few minutes).
"""

from __future__ import annotations

import sys
import threading
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any

import coachcore
from coachcore import Role
from coachcore.adapters.clock import FixedClock
from coachcore.domain.entities import Notification

START = datetime(2030, 1, 6, 6, 0, tzinfo=UTC)  # Sunday morning
MONDAY = date(2030, 1, 7)


class PrintingNotifier:
    """A host's notifier adapter (the port is one method: ``send(notification)``).

    It prints reminders and remembers every delivery, repeats included, so the
    example can show that nothing is sent twice.
    """

    def __init__(self, out: Any = print) -> None:
        self.deliveries: list[Notification] = []
        self._lock = threading.Lock()
        self._out = out

    def send(self, notification: Notification) -> None:
        with self._lock:
            self.deliveries.append(notification)
        if str(notification.kind).startswith("reminder"):
            self._out(f"    -> {notification.kind} to {notification.recipient_id[:8]}")


def seed(core: coachcore.Core) -> dict[str, str]:
    """A coach, two members, two Monday sessions; the second one is cancelled."""
    coach = core.system.users.create(
        name="Cleo", email="cleo@example.com", role=Role.COACH, timezone="Europe/Berlin"
    )
    core.acting_as(coach.id).availability.create(
        day_of_week=1, start_time="09:00", end_time="12:00", buffer_minutes=0
    )
    ids = {"coach": coach.id}
    for name in ("max", "mia"):
        member = core.system.signup_member(
            name=name.title(), email=f"{name}@example.com", coach_id=coach.id
        )
        ids[name] = member.id
    slots = core.acting_as(ids["max"]).availability.available_slots(
        coach.id, start_date=MONDAY, end_date=MONDAY, duration=60
    )
    kept = core.acting_as(ids["max"]).bookings.create(coach_id=coach.id, start=slots[0].start)
    dropped = core.acting_as(ids["mia"]).bookings.create(coach_id=coach.id, start=slots[1].start)
    core.acting_as(ids["mia"]).bookings.cancel(dropped.id, reason="travelling")
    ids["session"] = str(kept.session_id)
    return ids


def tick(core: coachcore.Core, overlapping_runs: int = 2) -> tuple[int, int]:
    """One cron run: send due reminders (here from overlapping runs), then deliver."""
    sent: list[int] = []

    def send() -> None:
        sent.append(core.system.reminders.send_due())

    runs = [threading.Thread(target=send) for _ in range(overlapping_runs)]
    for run in runs:
        run.start()
    for run in runs:
        run.join()
    return sum(sent), core.system.outbox.dispatch()


def main(
    url: str = "memory://",
    *,
    ticks: int = 60,
    step: timedelta = timedelta(minutes=30),
    pause: float = 0.0,
    out: Any = print,
) -> dict[str, Any]:
    """Run ``ticks`` iterations, moving the clock by ``step`` and sleeping ``pause``
    real seconds after each; returns what went out."""
    clock = FixedClock(START)
    notifier = PrintingNotifier(out)
    with coachcore.open(url, clock=clock, notifier=notifier) as core:
        ids = seed(core)
        session_at = core.system.sessions.get(ids["session"]).scheduled_at
        out(f"session at {session_at:%a %Y-%m-%d %H:%M} UTC; looping from {START:%a %H:%M}")
        sent_at: list[str] = []
        for _ in range(ticks):  # bounded: a demo, not a daemon
            sent, delivered = tick(core)
            if sent:
                out(f"{clock.now():%a %H:%M}: {sent} reminder(s), {delivered} left for dispatch()")
                sent_at.append(clock.now().isoformat())
            clock.advance(step)
            if pause:
                time.sleep(pause)
        reminders = [n for n in notifier.deliveries if str(n.kind).startswith("reminder")]
        per_person = Counter((n.recipient_id, str(n.kind)) for n in reminders)
        return {
            "ticks": ticks,
            "simulated_hours": ticks * step.total_seconds() / 3600,
            "reminder_runs": sent_at,
            "max_kinds": sorted(k for (who, k) in per_person if who == ids["max"]),
            "coach_kinds": sorted(k for (who, k) in per_person if who == ids["coach"]),
            "mia_kinds": sorted(k for (who, k) in per_person if who == ids["mia"]),
            "most_deliveries_of_one_reminder": max(per_person.values(), default=0),
            "repeated_notification_ids": len(notifier.deliveries)
            - len({n.id for n in notifier.deliveries}),
            "pending_after": len(core.system.outbox.pending()),
        }


if __name__ == "__main__":
    result = main(*sys.argv[1:])
    for key, value in result.items():
        print(f"{key:32} {value}")
