"""The retention period: completed sessions lose their private notes after N days."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

import coachcore
from backends import Backend
from coachcore import Role, SessionStatus
from coachcore.adapters.clock import FixedClock
from coachcore.cli import app
from coachcore.errors import Forbidden, ValidationFailed
from privacy_kit import KEY_A, open_with_keys
from world import World

NINE = datetime(2030, 1, 7, 9, tzinfo=UTC)  # a Monday


def _completed(w: World, coach: coachcore.User, member: coachcore.User, hour: int) -> str:
    booking = w.core.acting_as(member.id).bookings.create(
        coach_id=coach.id, start=NINE.replace(hour=hour), member_notes="booking note"
    )
    assert booking.session_id is not None
    w.core.acting_as(member.id).sessions.add_member_notes(booking.session_id, "member note")
    w.clock.set(NINE.replace(hour=hour) + timedelta(hours=1))
    w.core.acting_as(coach.id).sessions.complete(
        booking.session_id, coach_notes="coach note", outcomes="outcome"
    )
    return booking.session_id


def test_purge_removes_old_private_notes_once(world: World) -> None:
    w = world
    coach = w.coach()
    w.window(coach, 1, "09:00", "17:00", max_sessions_per_slot=2)
    member = w.member(coach)
    old = _completed(w, coach, member, 9)
    w.clock.set(NINE + timedelta(days=20))
    scheduled = w.core.acting_as(member.id).bookings.create(
        coach_id=coach.id, start=NINE + timedelta(days=28), member_notes="future"
    )
    w.clock.set(NINE + timedelta(days=40))
    assert w.sys.privacy.purge(days=30) == 1
    purged = w.sys.sessions.get(old)
    assert (purged.coach_notes, purged.member_notes) == (None, None)
    assert purged.outcomes == "outcome"  # not a private note: kept
    assert purged.status == SessionStatus.COMPLETED
    assert w.sys.bookings.get(w.sys.bookings.list()[0].id).member_notes is None
    assert w.sys.sessions.get(str(scheduled.session_id)).member_notes == "future"
    assert w.sys.privacy.purge(days=30) == 0  # idempotent


def test_recent_sessions_keep_notes_and_the_configured_period_applies(backend: Backend) -> None:
    clock = FixedClock(NINE - timedelta(days=1))
    core = backend.open(clock, retention_days=30)
    w = World(core, clock)
    coach = w.coach()
    w.window(coach, 1, "09:00", "17:00")
    member = w.member(coach)
    session_id = _completed(w, coach, member, 9)
    clock.set(NINE + timedelta(days=29))
    assert core.system.privacy.purge() == 0
    assert core.system.sessions.get(session_id).coach_notes == "coach note"
    clock.set(NINE + timedelta(days=30, hours=1))
    assert core.system.privacy.purge() == 1
    assert core.system.sessions.get(session_id).coach_notes is None


def test_purge_needs_a_period_and_the_privacy_permission(world: World) -> None:
    with pytest.raises(ValidationFailed, match="retention"):
        world.sys.privacy.purge()
    coach = world.coach()
    with pytest.raises(Forbidden):
        world.core.acting_as(coach.id).privacy.purge(days=1)
    assert world.core.acting_as(world.admin().id).privacy.purge(days=1) == 0
    with pytest.raises(ValidationFailed):
        world.sys.privacy.purge(days=-1)
    with pytest.raises(ValidationFailed):
        coachcore.open("memory://", retention_days=0)


def test_purge_works_on_an_encrypted_store(backend: Backend) -> None:
    clock = FixedClock(NINE - timedelta(days=1))
    core = open_with_keys(backend, [KEY_A], clock)
    w = World(core, clock)
    coach = w.coach()
    w.window(coach, 1, "09:00", "17:00")
    member = w.member(coach)
    session_id = _completed(w, coach, member, 9)
    clock.set(NINE + timedelta(days=10))
    assert core.system.privacy.purge(days=5) == 1
    assert core.system.sessions.get(session_id).member_notes is None


def test_cli_purges_with_days_or_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'retention.db'}"
    nine = datetime(2026, 1, 5, 9, tzinfo=UTC)  # a Monday in the past: the CLI's clock is real
    with coachcore.open(url, clock=FixedClock(nine - timedelta(days=1))) as core:
        coach = core.system.users.create(name="C", email="c@example.com", role=Role.COACH)
        core.acting_as(coach.id).availability.create(
            day_of_week=1, start_time="09:00", end_time="10:00"
        )
        member = core.system.signup_member(name="M", email="m@example.com", coach_id=coach.id)
        booking = core.acting_as(member.id).bookings.create(coach_id=coach.id, start=nine)
    with coachcore.open(url, clock=FixedClock(nine + timedelta(hours=1))) as core:
        core.system.sessions.complete(str(booking.session_id), coach_notes="note")
    runner = CliRunner()
    result = runner.invoke(app, ["privacy", "purge", "--url", url, "--days", "1"])
    assert result.exit_code == 0, result.output
    assert "purged of private notes: 1" in result.output
    monkeypatch.setenv("COACHCORE_RETENTION_DAYS", "1")
    result = runner.invoke(app, ["privacy", "purge", "--url", url])
    assert "purged of private notes: 0" in result.output
    monkeypatch.delenv("COACHCORE_RETENTION_DAYS")
    result = runner.invoke(app, ["privacy", "purge", "--url", url])
    assert result.exit_code == 2 and result.exception is not None
    assert "--days N, or set $COACHCORE_RETENTION_DAYS" in result.stderr
    assert "coachcore.open" not in result.stderr  # no advice for Python code
