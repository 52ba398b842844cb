"""The command line: demo end to end, help lists the commands."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from typer.testing import CliRunner

import coachcore
from coachcore import Role
from coachcore.adapters.clock import FixedClock
from coachcore.adapters.sqlalchemy.versioning import head_revision
from coachcore.cli import app, run_demo
from coachcore.plugins.configured import VARIABLES

UNCONFIGURED = {name: None for name in [*VARIABLES, "COACHCORE_CONFIG"]}
#: Delivery configured, the SMTP server down: messages stay pending for a retry.
NO_MAIL_SERVER = {
    **UNCONFIGURED,
    "COACHCORE_SMTP_URL": "smtp://127.0.0.1:9",
    "COACHCORE_SMTP_SENDER": "noreply@example.com",
    "COACHCORE_CALENDAR": "none",
    "COACHCORE_MESSAGING": "none",
}


def test_demo_runs_on_memory() -> None:
    result = run_demo("memory://")
    assert (result["bookings"], result["rating"], result["members"]) == (2, 5.0, 1)
    assert result["coach_id"] != result["member_id"]


def test_help_lists_commands() -> None:
    out = CliRunner().invoke(app, ["--help"]).output
    for command in ("demo", "db", "reminders", "waitlist", "outbox", "slots", "users", "coaches"):
        assert command in out


def test_waitlist_run_ends_expired_holds_on_a_sqlite_file(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'waitlist.db'}"
    nine = datetime(2030, 1, 7, 9, tzinfo=UTC)
    with coachcore.open(url, clock=FixedClock(datetime(2026, 1, 1, tzinfo=UTC))) as core:
        coach = core.system.users.create(name="C", email="c@example.com", role=Role.COACH)
        core.acting_as(coach.id).availability.create(
            day_of_week=1, start_time="09:00", end_time="10:00"
        )
        core.acting_as(coach.id).scheduling.set_rules(waitlist_hold_minutes=30)
        first, second = (
            core.system.signup_member(name=n, email=f"{n}@example.com", coach_id=coach.id)
            for n in ("first", "second")
        )
        booking = core.acting_as(first.id).bookings.create(coach_id=coach.id, start=nine)
        core.acting_as(second.id).waitlist.join(coach_id=coach.id, start=nine)
        core.acting_as(first.id).bookings.cancel(booking.id)
    refused = CliRunner().invoke(app, ["waitlist", "run", "--url", url], env=UNCONFIGURED)
    assert refused.exit_code == 2 and "COACHCORE_SMTP_URL" in refused.stderr
    dry = CliRunner().invoke(app, ["waitlist", "run", "--url", url, "--dry-run"], env=UNCONFIGURED)
    assert dry.exit_code == 0 and "Holds run out" in dry.stdout
    result = CliRunner().invoke(app, ["waitlist", "run", "--url", url], env=NO_MAIL_SERVER)
    assert result.exit_code == 0, result.output
    assert "holds ended: 1" in result.output  # the refusal and the dry run ended none
    again = CliRunner().invoke(app, ["waitlist", "run", "--url", url], env=NO_MAIL_SERVER)
    assert "holds ended: 0" in again.output


def test_db_upgrade_and_current_honour_the_table_prefix(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'prefixed.db'}"
    runner = CliRunner()
    upgraded = runner.invoke(app, ["db", "upgrade", "--url", url, "--table-prefix", "cc_"])
    assert upgraded.exit_code == 0, upgraded.output
    head = head_revision()
    assert f"schema revision: {head}" in upgraded.output
    other = runner.invoke(app, ["db", "current", "--url", url])
    assert "schema revision: None" in other.output  # the default prefix has no tables
    tables = sa.inspect(sa.create_engine(url)).get_table_names()
    assert "cc_alembic_version" in tables and "cc_sessions" in tables
    assert not any(name.startswith("coachcore_") for name in tables)
