"""Data survives a restart: write to a SQLite file, close the core, reopen, read it back.

Run: python examples/sqlite_persistence.py [PATH]   (default: a new file in a temp folder)

The first ``coachcore.open("sqlite:///PATH")`` creates the schema (on a
production database, run ``coachcore db upgrade --url URL`` at deploy time
instead). SQLite runs in WAL mode with ``BEGIN IMMEDIATE`` on every write, so
several threads (or processes) can share the file without overbooking.
"""

from __future__ import annotations

import sys
import tempfile
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import coachcore
from coachcore import Role
from coachcore.adapters.clock import FixedClock

MONDAY = date(2030, 1, 7)


def write(url: str, clock: FixedClock) -> dict[str, str]:
    """First process: a coach, a window, a member and one booking."""
    with coachcore.open(url, clock=clock) as core:
        coach = core.system.users.create(
            name="Cleo", email="cleo@example.com", role=Role.COACH, timezone="Europe/Berlin"
        )
        core.acting_as(coach.id).availability.create(
            day_of_week=1,
            start_time="09:00",
            end_time="12:00",
            max_sessions_per_slot=2,
            buffer_minutes=0,
        )
        member = core.system.signup_member(name="Max", email="max@example.com", coach_id=coach.id)
        as_member = core.acting_as(member.id)
        first = as_member.availability.available_slots(
            coach.id, start_date=MONDAY, end_date=MONDAY, duration=60
        )[0]
        booking = as_member.bookings.create(coach_id=coach.id, start=first.start, duration=60)
        return {"coach": coach.id, "member": member.id, "booking": booking.id}
    # leaving the ``with`` closes the core and its connections


def read(url: str, clock: FixedClock, ids: dict[str, str]) -> dict[str, Any]:
    """A later process: everything is still there, slots count the stored booking."""
    with coachcore.open(url, clock=clock) as core:
        as_member = core.acting_as(ids["member"])
        booking = as_member.bookings.get(ids["booking"])
        session = as_member.sessions.get(booking.session_id)
        slots = as_member.availability.available_slots(
            ids["coach"], start_date=MONDAY, end_date=MONDAY, duration=60
        )
        next_up = as_member.dashboards.member().next_session
        return {
            "users": sorted(u.name for u in core.system.users.list()),
            "coach_timezone": core.system.users.get(ids["coach"]).timezone,
            "windows": len(core.acting_as(ids["coach"]).availability.list()),
            "member_coach": as_member.members.get(ids["member"]).coach_id == ids["coach"],
            "booking": str(booking.status),
            "session": str(session.status),
            "booked_local_time": f"{booking.requested_date} {booking.requested_time}",
            "seats_left_in_booked_slot": slots[0].available_capacity,
            "next_session_is_it": next_up is not None and next_up.id == session.id,
        }


def main(path: str | None = None) -> dict[str, Any]:
    db = Path(path) if path else Path(tempfile.mkdtemp(prefix="coachcore-")) / "coaching.db"
    if db.exists():
        raise SystemExit(f"{db} exists already; give the path of a new file")
    url = f"sqlite:///{db}"
    clock = FixedClock(datetime(2030, 1, 1, 8, 0, tzinfo=UTC))
    ids = write(url, clock)
    summary = read(url, clock, ids)
    summary["file"] = str(db)
    return summary


if __name__ == "__main__":
    for key, value in main(*sys.argv[1:]).items():
        print(f"{key:26} {value}")
