"""``coachcore demo`` and ``coachcore slots``: try the library on a small database.

The demo builds one world, a coach and a member with two bookings, a completed
session and its rating, and finds it again on the next run: running it twice
shows the same coach and member (``--reset`` starts over).
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import typer

import coachcore
from coachcore import Role
from coachcore.cli.common import (
    DEMO_URL,
    KEYS_ENV,
    DemoUrlOption,
    console,
    day,
    existing,
    sql_url,
    table,
)
from coachcore.errors import ValidationFailed

app = typer.Typer()
COACH_EMAIL = "demo-coach@example.com"
MEMBER_EMAIL = "demo-member@example.com"
TIME = "%a %d %b %H:%M %Z"


def open_demo(url: str) -> coachcore.Core:
    """The demo's deliveries are recorded in memory: it sends nothing anywhere."""
    if url.startswith(("sqlite", "postgresql")):
        sql_url(url)  # an unknown driver is a clear error before any engine is made
    return coachcore.open(url, keys=os.environ.get(KEYS_ENV) or None)


def _demo_coach(core: coachcore.Core) -> coachcore.User:
    found = core.system.users.list(email=COACH_EMAIL)
    if found:
        return found[0]
    coach = core.system.users.create(
        name="Cleo Coach", email=COACH_EMAIL, role=Role.COACH, timezone="Europe/Berlin"
    )
    as_coach = core.acting_as(coach.id).availability
    for weekday in range(1, 6):
        as_coach.create(
            day_of_week=weekday,
            start_time="09:00",
            end_time="17:00",
            max_sessions_per_slot=2,
            buffer_minutes=15,
        )
    return coach


def _demo_member(core: coachcore.Core, coach: coachcore.User) -> coachcore.User:
    """The demo's member; on the first run they book twice, and the first
    session is completed and rated."""
    found = core.system.users.list(email=MEMBER_EMAIL)
    if found:
        return found[0]
    member = core.system.signup_member(name="Max Member", email=MEMBER_EMAIL, coach_id=coach.id)
    as_member = core.acting_as(member.id)
    today = core.clock.now().astimezone(ZoneInfo(coach.timezone)).date()
    free = as_member.availability.available_slots(
        coach.id, start_date=today + timedelta(days=1), end_date=today + timedelta(days=7)
    )
    first = as_member.bookings.create(coach_id=coach.id, start=free[0].start, duration=60)
    as_member.bookings.create(coach_id=coach.id, start=free[-1].start, duration=60)
    session = core.acting_as(coach.id).sessions.complete(
        first.session_id, coach_notes="Great first session"
    )
    as_member.sessions.rate(session.id, rating=5, feedback="Very helpful")
    return member


def reset(url: str) -> None:
    """Remove the demo's SQLite file (with its WAL files); memory needs nothing."""
    if url.startswith("memory:"):
        return
    database = sql_url(url).database or ""
    if not url.startswith("sqlite") or database in ("", ":memory:"):
        raise ValidationFailed("--reset: only a demo on a SQLite file can be reset")
    for suffix in ("", "-wal", "-shm"):
        Path(database + suffix).unlink(missing_ok=True)


def run_demo(url: str) -> dict[str, Any]:
    """Build (or find again) the demo's coach and member; show slots and dashboards
    in the coach's time zone; return the ids and a few figures."""
    with open_demo(url) as core:
        coach = _demo_coach(core)
        member = _demo_member(core, coach)
        zone = ZoneInfo(coach.timezone)
        as_member, as_coach = core.acting_as(member.id), core.acting_as(coach.id)
        today = core.clock.now().astimezone(zone).date()
        free = as_member.availability.available_slots(
            coach.id, start_date=today + timedelta(days=1), end_date=today + timedelta(days=7)
        )
        console.print(
            table(
                f"Available slots of {coach.name} (next 7 days, first 10, {coach.timezone})",
                ["start", "free", "seats"],
                [
                    [s.local_start.strftime(TIME), s.available_capacity, s.max_capacity]
                    for s in free[:10]
                ],
            )
        )
        member_board = as_member.dashboards.member()
        coach_board = as_coach.dashboards.coach()
        upcoming = member_board.next_session
        console.print(
            table(
                "Member dashboard",
                ["field", "value"],
                [
                    ["member", member.name],
                    ["coach", coach.name],
                    ["next session", _local(upcoming.scheduled_at if upcoming else None, zone)],
                    ["prompt to book", member_board.prompt_to_book],
                    ["quick actions", ", ".join(member_board.quick_actions)],
                ],
            )
        )
        console.print(
            table(
                "Coach dashboard",
                ["field", "value"],
                [
                    ["active members", coach_board.active_member_count],
                    ["sessions today", len(coach_board.today)],
                    ["sessions this week", len(coach_board.this_week)],
                    ["average rating", coach_board.coach.average_rating],
                    ["recent activity", "; ".join(a.kind for a in coach_board.recent_activity[:5])],
                ],
            )
        )
        return {
            "coach_id": coach.id,
            "member_id": member.id,
            "bookings": len(as_member.bookings.list()),
            "rating": coach_board.coach.average_rating,
            "members": coach_board.active_member_count,
            "from": today + timedelta(days=1),
        }


def _local(moment: datetime | None, zone: ZoneInfo) -> str:
    return "none" if moment is None else moment.astimezone(zone).strftime(TIME)


ResetOption = Annotated[
    bool, typer.Option("--reset", help="Remove the demo's SQLite file first and start over")
]


@app.command()
def demo(url: DemoUrlOption = DEMO_URL, reset_: ResetOption = False) -> None:
    """Create (or find again) the demo: a coach, a member, bookings, a rating, dashboards."""
    if reset_:
        reset(url)
    result = run_demo(url)
    shown = "" if url == DEMO_URL else f" --url {url}"
    start = result["from"]
    console.print(
        table(
            f"Demo ready on {url}",
            ["who", "id"],
            [["coach", result["coach_id"]], ["member", result["member_id"]]],
        )
    )
    console.print("Try next:", highlight=False)
    for line in (
        f"coachcore coaches list{shown}",
        f"coachcore users list{shown}",
        f"coachcore slots {result['coach_id']} --from {start} "
        f"--to {start + timedelta(days=6)}{shown}",
    ):
        console.print(f"  {line}", highlight=False, markup=False, soft_wrap=True)


@app.command()
def slots(
    coach_id: str,
    start: Annotated[str, typer.Option("--from", help="First date, YYYY-MM-DD")],
    end: Annotated[str, typer.Option("--to", help="Last date, YYYY-MM-DD")],
    url: DemoUrlOption = DEMO_URL,
    duration: int = 60,
) -> None:
    """List a coach's available slots between two dates, in the coach's time zone."""
    first, last = day("from", start), day("to", end)
    with open_demo(existing(url)) as core:
        coach = core.system.users.get(coach_id)
        found = core.system.availability.available_slots(
            coach_id, start_date=first, end_date=last, duration=duration
        )
    console.print(
        table(
            f"Slots of {coach.name} ({coach.timezone})",
            ["start", "free", "seats"],
            [[s.local_start.isoformat(), s.available_capacity, s.max_capacity] for s in found],
        )
    )
