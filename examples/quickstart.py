"""The quickstart of ARCHITECTURE.md, on the in-memory store.

Run: python examples/quickstart.py [URL]   (default: memory://)
"""

from __future__ import annotations

import sys
from datetime import UTC, date, datetime

import coachcore
from coachcore import Role
from coachcore.adapters.clock import FixedClock


def main(url: str = "memory://") -> dict[str, object]:
    clock = FixedClock(datetime(2029, 12, 20, 9, 0, tzinfo=UTC))
    core = coachcore.open(url, clock=clock)
    sysadm = core.system

    coach = sysadm.users.create(
        name="Cleo", email="cleo@example.com", role=Role.COACH, timezone="Europe/Berlin"
    )
    member = sysadm.signup_member(name="Max", email="max@example.com", coach_id=coach.id)

    as_coach = core.acting_as(coach.id)
    as_coach.availability.create(
        day_of_week=1,
        start_time="09:00",
        end_time="12:00",
        max_sessions_per_slot=2,
        buffer_minutes=15,
    )

    as_member = core.acting_as(member.id)
    slots = as_member.availability.available_slots(
        coach.id, start_date=date(2030, 1, 1), end_date=date(2030, 1, 14), duration=60
    )
    booking = as_member.bookings.create(coach_id=coach.id, start=slots[0].start, duration=60)
    session = as_member.sessions.get(booking.session_id)

    clock.set(session.scheduled_at)  # the session takes place
    as_coach.sessions.complete(session.id, coach_notes="Good start")
    rated = as_member.sessions.rate(session.id, rating=5, feedback="Helpful")
    reminders = core.system.reminders.send_due()

    summary = {
        "slots": len(slots),
        "first_slot": slots[0].local_start.isoformat(),
        "booking": str(booking.status),
        "session": str(rated.status),
        "rating": rated.rating,
        "coach_notes_seen_by_member": rated.coach_notes,
        "coach_average": as_member.coaches.get(coach.id).average_rating,
        "reminders_sent_now": reminders,
        "notifications_delivered": len(core.notifier.sent),  # type: ignore[attr-defined]
    }
    core.close()
    return summary


if __name__ == "__main__":
    for key, value in main(*sys.argv[1:]).items():
        print(f"{key:28} {value}")
