"""The ``coachcore`` command line: demo, database, reminders, waitlist, outbox, slots."""

from __future__ import annotations

import os
from datetime import date, datetime, timedelta
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

import coachcore
from coachcore import Role
from coachcore.adapters.sqlalchemy.tables import DEFAULT_PREFIX
from coachcore.errors import CoachCoreError, KeyMissing

DEMO_URL = "sqlite:///coachcore-demo.db"
KEYS_ENV = "COACHCORE_KEYS"
UrlOption = Annotated[str, typer.Option("--url", help="Database URL", envvar="COACHCORE_URL")]
SchemaOption = Annotated[
    str | None, typer.Option("--schema", help="Schema holding coachcore's tables (PostgreSQL)")
]
PrefixOption = Annotated[
    str, typer.Option("--table-prefix", help="Prefix of coachcore's table names")
]
KeysOption = Annotated[
    str | None,
    typer.Option(
        "--keys",
        help="Encryption keys, newest first, comma-separated (default: $COACHCORE_KEYS)",
        envvar=KEYS_ENV,
        show_envvar=True,
    ),
]

app = typer.Typer(help="coachcore: the domain core of a coaching platform.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema migrations.", no_args_is_help=True)
outbox_app = typer.Typer(help="Side effects waiting for delivery.", no_args_is_help=True)
reminders_app = typer.Typer(help="Session reminders.", no_args_is_help=True)
waitlist_app = typer.Typer(help="Waitlist holds.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(outbox_app, name="outbox")
app.add_typer(reminders_app, name="reminders")
privacy_app = typer.Typer(help="Retention of personal data.", no_args_is_help=True)
keys_app = typer.Typer(help="Encryption keys of the sensitive fields.", no_args_is_help=True)
app.add_typer(waitlist_app, name="waitlist")
app.add_typer(keys_app, name="keys")
app.add_typer(privacy_app, name="privacy")
console = Console()


def _open(url: str, **options: Any) -> coachcore.Core:
    """A core over ``url`` with the keys of ``$COACHCORE_KEYS`` (if set), so every
    command works on a store with encrypted fields."""
    keys = os.environ.get(KEYS_ENV) or None
    return coachcore.open(url, keys=keys, **options)


def _table(title: str, columns: list[str], rows: list[list[Any]]) -> Table:
    table = Table(title=title)
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*(str(v) for v in row))
    return table


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
            _table(
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
            _table(
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
            _table(
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
        _table(
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


@db_app.command("upgrade")
def db_upgrade(
    url: UrlOption, schema: SchemaOption = None, table_prefix: PrefixOption = DEFAULT_PREFIX
) -> None:
    """Migrate the database schema to the current version."""
    from coachcore.adapters.sqlalchemy import migrate

    migrate(url, schema=schema, table_prefix=table_prefix)
    db_current(url, schema, table_prefix)


@db_app.command("current")
def db_current(
    url: UrlOption, schema: SchemaOption = None, table_prefix: PrefixOption = DEFAULT_PREFIX
) -> None:
    """Show the database's schema revision."""
    from coachcore.adapters.sqlalchemy import current_revision

    revision = current_revision(url, schema=schema, table_prefix=table_prefix)
    console.print(f"schema revision: {revision}")


@reminders_app.command("run")
def reminders_run(url: UrlOption) -> None:
    """Send due reminders (idempotent; call it from cron every few minutes)."""
    with _open(url) as core:
        sent = core.system.reminders.send_due()
        delivered = core.system.outbox.dispatch()
    console.print(f"reminders sent: {sent}, messages delivered: {delivered}")


@waitlist_app.command("run")
def waitlist_run(url: UrlOption) -> None:
    """End expired waitlist holds and offer the seats on (idempotent; for cron)."""
    with _open(url) as core:
        ended = core.system.waitlist.release_expired()
        delivered = core.system.outbox.dispatch()
    console.print(f"holds ended: {ended}, messages delivered: {delivered}")


@outbox_app.command("dispatch")
def outbox_dispatch(url: UrlOption) -> None:
    """Deliver pending side effects."""
    with _open(url) as core, console.status("dispatching..."):
        delivered = core.system.outbox.dispatch()
    console.print(f"delivered: {delivered}")


def _messages(title: str, messages: list[coachcore.OutboxMessage]) -> None:
    console.print(
        _table(
            title,
            ["id", "channel", "attempts", "next attempt", "last error"],
            [
                [m.id, m.channel, m.attempts, m.next_attempt_at.isoformat(), m.last_error or ""]
                for m in messages
            ],
        )
    )


@outbox_app.command("pending")
def outbox_pending(url: UrlOption) -> None:
    """List messages not yet delivered."""
    with _open(url) as core:
        _messages("Pending", core.system.outbox.pending())


@outbox_app.command("failed")
def outbox_failed(url: UrlOption) -> None:
    """List messages parked after repeated failures."""
    with _open(url) as core:
        _messages("Failed", core.system.outbox.failed())


@privacy_app.command("purge")
def privacy_purge(
    url: UrlOption,
    days: Annotated[
        int | None,
        typer.Option(
            "--days",
            help="Retention period in days (default: $COACHCORE_RETENTION_DAYS)",
            envvar="COACHCORE_RETENTION_DAYS",
        ),
    ] = None,
) -> None:
    """Remove private notes of sessions completed more than DAYS ago (idempotent; for cron)."""
    with _open(url) as core:
        purged = core.system.privacy.purge(days=days)
    console.print(f"sessions purged of private notes: {purged}")


@keys_app.command("generate")
def keys_generate() -> None:
    """Print a new random encryption key (keep it in your secret store)."""
    from coachcore.adapters.crypto import AesGcmCipher

    typer.echo(AesGcmCipher.generate_key())


@keys_app.command("rotate")
def keys_rotate(url: UrlOption, keys: KeysOption = None, batch: int = 500) -> None:
    """Re-seal every sensitive field with the newest key (the first one), as AES-256-GCM.

    Also moves Fernet values of earlier versions to the new format, seals
    values stored in plain text before keys were turned on, and recomputes the
    blind indexes of e-mail addresses. Runs in short batches while the
    application keeps working.
    """
    from coachcore.adapters.crypto import AesGcmCipher
    from coachcore.adapters.sqlalchemy import SqlStore

    if not keys:
        raise KeyMissing(f"Give the keys, newest first, with --keys or ${KEYS_ENV}")
    store = SqlStore.from_url(url, cipher=AesGcmCipher(keys))
    try:
        with console.status("re-sealing..."):
            report = store.rotate_keys(batch=batch)
    finally:
        store.close()
    console.print(
        f"re-sealed under the newest key: {report.rotated}, moved from Fernet: "
        f"{report.upgraded}, newly sealed: {report.encrypted}, blind indexes: "
        f"{report.reindexed}, rows rewritten: {report.rows}"
    )


def main() -> None:
    """Entry point of the ``coachcore`` script: errors print cleanly."""
    try:
        app()
    except CoachCoreError as error:
        console.print(f"[red]{error.error}[/red]: {error.message}")
        raise SystemExit(1) from error
