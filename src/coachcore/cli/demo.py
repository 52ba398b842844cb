"""``coachcore demo`` and ``coachcore slots``: try the library on a small database."""

from __future__ import annotations

import os
from datetime import date, datetime, timedelta
from typing import Annotated, Any

import typer

import coachcore
from coachcore import Role
from coachcore.cli.common import DEMO_URL, KEYS_ENV, UrlOption, console, table

app = typer.Typer()


def _open(url: str) -> coachcore.Core:
    """The demo's deliveries are recorded in memory: it sends nothing anywhere."""
    return coachcore.open(url, keys=os.environ.get(KEYS_ENV) or None)


def _demo_coach(core: coachcore.Core) -> coachcore.User:
    found = core.system.users.list(email="demo-coach@example.com")
    if found:
        return found[0]
    coach = core.system.users.create(
        name="Cleo Coach",
        email="demo-coach@example.com",
        role=Role.COACH,
        timezone="Europe/Berlin",
    )
    as_coach = core.acting_as(coach.id).availability
    for day in range(1, 6):
        as_coach.create(
            day_of_week=day,
            start_time="09:00",
            end_time="17:00",
            max_sessions_per_slot=2,
            buffer_minutes=15,
        )
    return coach


def run_demo(url: str) -> dict[str, Any]:
    """Seed (or reuse) a coach, sign up a member, book, complete, rate; show dashboards."""
    with _open(url) as core:
        coach = _demo_coach(core)
        n = len(core.system.users.list(role=Role.MEMBER)) + 1
        member = core.system.signup_member(
            name=f"Max Member {n}", email=f"demo-member-{n}@example.com", coach_id=coach.id
        )
        as_member = core.acting_as(member.id)
        today = datetime.now().date()
        slots = as_member.availability.available_slots(
            coach.id,
            start_date=today + timedelta(days=1),
            end_date=today + timedelta(days=7),
            duration=60,
        )
        console.print(
            table(
                f"Available slots of {coach.name} (next 7 days, first 10)",
                ["local start", "UTC start", "free", "seats"],
                [
                    [
                        s.local_start.strftime("%a %d %b %H:%M %Z"),
                        s.start.strftime("%H:%M"),
                        s.available_capacity,
                        s.max_capacity,
                    ]
                    for s in slots[:10]
                ],
            )
        )
        booking = as_member.bookings.create(coach_id=coach.id, start=slots[0].start, duration=60)
        as_member.bookings.create(coach_id=coach.id, start=slots[-1].start, duration=60)
        as_coach = core.acting_as(coach.id)
        session = as_coach.sessions.complete(booking.session_id, coach_notes="Great first session")
        rated = as_member.sessions.rate(session.id, rating=5, feedback="Very helpful")
        member_board = as_member.dashboards.member()
        coach_board = as_coach.dashboards.coach()
        console.print(
            table(
                "Member dashboard",
                ["field", "value"],
                [
                    ["member", member.name],
                    ["coach", coach.name],
                    [
                        "next session",
                        member_board.next_session and member_board.next_session.scheduled_at,
                    ],
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
            "booking": str(booking.status),
            "session": str(rated.status),
            "rating": rated.rating,
            "members": coach_board.active_member_count,
        }


@app.command()
def demo(url: UrlOption = DEMO_URL) -> None:
    """Create or reuse a demo database: slots, a booking, a rating, both dashboards."""
    result = run_demo(url)
    console.print(f"[green]Demo done[/green] on {url}: {result}")


@app.command()
def slots(
    coach_id: str,
    start: Annotated[str, typer.Option("--from", help="First date, YYYY-MM-DD")],
    end: Annotated[str, typer.Option("--to", help="Last date, YYYY-MM-DD")],
    url: UrlOption = DEMO_URL,
    duration: int = 60,
) -> None:
    """List a coach's available slots between two dates."""
    with _open(url) as core:
        found = core.system.availability.available_slots(
            coach_id,
            start_date=date.fromisoformat(start),
            end_date=date.fromisoformat(end),
            duration=duration,
        )
    console.print(
        table(
            f"Slots of {coach_id}",
            ["local start", "UTC start", "free", "seats"],
            [
                [
                    s.local_start.isoformat(),
                    s.start.isoformat(),
                    s.available_capacity,
                    s.max_capacity,
                ]
                for s in found
            ],
        )
    )
