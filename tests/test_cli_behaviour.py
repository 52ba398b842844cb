"""The command line behaves like one: ``--version``, errors as one line on stderr
with status 1 (bad input) or 2 (usage), one rule for ``--url``, read-only
commands create no database, users and coaches listed by id, progress with
counts, and a demo that finds its world again."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner, Result

import coachcore
from backends import Backend, SqlBackend
from coachcore import Role
from coachcore.adapters.clock import FixedClock
from coachcore.adapters.sqlalchemy import migrate, revisions_after
from coachcore.adapters.sqlalchemy.versioning import head_revision
from coachcore.cli import app, run_demo
from coachcore.cli.common import DEMO_URL
from coachcore.plugins.configured import VARIABLES
from coachcore.services.compliance import privacy
from privacy_kit import KEY_A, KEY_B, open_with_keys, sql_only
from world import World

NINE = datetime(2026, 1, 5, 9, tzinfo=UTC)  # a Monday in the past: the CLI's clock is real
IDS = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
ZONED = re.compile(r"\w{3} \d{2} \w{3} \d{2}:\d{2} CES?T")


@pytest.fixture(autouse=True)
def empty_directory(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """Run in an empty directory with no COACHCORE_* variable from the machine."""
    for variable in [
        *VARIABLES,
        "COACHCORE_CONFIG",
        "COACHCORE_URL",
        "COACHCORE_KEYS",
        "COACHCORE_RETENTION_DAYS",
    ]:
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.chdir(tmp_path)
    yield tmp_path


def run(*args: str, **env: str) -> Result:
    return CliRunner().invoke(app, list(args), env=env or None)


def one_error_line(result: Result, status: int) -> str:
    """The result failed with ``status``, said why on one stderr line and nothing else."""
    assert result.exit_code == status, result.output
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def on_disk(backend: Backend, why: str) -> SqlBackend:
    """The backend if it keeps its data where another process finds it; else skip."""
    if not isinstance(backend, SqlBackend):
        pytest.skip(why)
    return backend


def booked(url: str, sessions: int = 1) -> str:
    """A SQLite file with a coach and ``sessions`` completed sessions with notes."""
    with coachcore.open(url, clock=FixedClock(NINE - timedelta(days=1))) as core:
        coach = core.system.users.create(name="Ada Coach", email="ada@example.com", role=Role.COACH)
        core.acting_as(coach.id).availability.create(
            day_of_week=1, start_time="09:00", end_time="17:00"
        )
        member = core.system.signup_member(name="M", email="m@example.com", coach_id=coach.id)
        bookings = [
            core.acting_as(member.id).bookings.create(
                coach_id=coach.id, start=NINE + timedelta(hours=2 * h)
            )
            for h in range(sessions)
        ]
    with coachcore.open(url, clock=FixedClock(NINE + timedelta(days=1))) as core:
        for booking in bookings:
            core.system.sessions.complete(str(booking.session_id), coach_notes="note")
    return coach.id


# -- version, errors, usage -----------------------------------------------------


def test_version_prints_the_installed_version() -> None:
    result = run("--version")
    assert result.exit_code == 0
    assert result.stdout.strip() == f"coachcore {coachcore.__version__}"


def test_a_bad_date_is_one_line_on_stderr_and_status_1() -> None:
    line = one_error_line(run("slots", "x", "--from", "2030-13-01", "--to", "2030-12-02"), 1)
    assert line == "Bad Request: from: '2030-13-01' is not a date (YYYY-MM-DD)"


def test_a_coachcore_error_is_status_1_not_a_traceback(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'c.db'}"
    booked(url)
    line = one_error_line(
        run("slots", "no-such-coach", "--from", "2030-01-01", "--to", "2030-01-02", "--url", url),
        1,
    )
    assert line.startswith("Not Found: ")


@pytest.mark.parametrize(
    "command",
    [
        ["outbox", "pending"],
        ["db", "current"],
        ["db", "upgrade"],
        ["users", "list"],
        ["keys", "rotate", "--keys", KEY_A],
        ["privacy", "purge", "--days", "1"],
        ["audit", "purge", "--days", "90"],
    ],
)
def test_a_bad_url_is_one_clear_line(command: list[str], empty_directory: Path) -> None:
    line = one_error_line(run(*command, "--url", "foo://bar"), 1)
    assert line.startswith("Bad Request: url: ") and "'foo" in line
    assert "NoSuchModuleError" not in line
    assert list(empty_directory.iterdir()) == []


@pytest.mark.parametrize("command", [["demo"], ["outbox", "pending"], ["db", "current"]])
def test_an_unknown_driver_is_one_clear_line(command: list[str]) -> None:
    line = one_error_line(run(*command, "--url", "postgresql+nodriver://x:secret@y/z"), 1)
    assert line.startswith("Bad Request: url: no database driver 'postgresql+nodriver'")
    assert "secret" not in line


def test_usage_errors_are_status_2_on_stderr() -> None:
    result = run("outbox", "pending", "--no-such-option")
    assert result.exit_code == 2 and result.stdout == ""
    assert "No such option" in result.stderr
    assert run("outbox", "retry", "--url", "sqlite:///x.db").exit_code == 2


# -- one rule for --url, and no database made by a reading command ---------------


@pytest.mark.parametrize(
    "command",
    [
        ["outbox", "pending"],
        ["outbox", "dispatch"],
        ["db", "current"],
        ["db", "upgrade"],
        ["reminders", "run"],
        ["privacy", "purge", "--days", "1"],
        ["outbox", "purge", "--days", "30"],
        ["audit", "purge", "--days", "90"],
        ["keys", "rotate", "--keys", KEY_A],
    ],
)
def test_operations_commands_without_a_url_say_which_to_give(
    command: list[str], empty_directory: Path
) -> None:
    result = run(*command)
    assert result.exit_code == 2 and result.stdout == ""
    assert "--url" in result.stderr and "COACHCORE_URL" in result.stderr
    assert list(empty_directory.iterdir()) == []  # the demo database was not touched


def test_the_url_comes_from_the_variable_when_the_flag_is_absent(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'from-env.db'}"
    booked(url)
    result = run("coaches", "list", COACHCORE_URL=url)
    assert result.exit_code == 0 and "Ada Coach" in result.stdout
    flag_wins = run("coaches", "list", "--url", "sqlite:///elsewhere.db", COACHCORE_URL=url)
    assert flag_wins.exit_code == 1 and "elsewhere.db" in flag_wins.stderr


def test_the_help_states_the_url_rule() -> None:
    text = " ".join(run("--help").stdout.split())
    assert "--url, then $COACHCORE_URL" in text and DEMO_URL in text


@pytest.mark.parametrize(
    "command",
    [
        ["db", "current"],
        ["outbox", "pending"],
        ["outbox", "failed"],
        ["outbox", "dispatch", "--dry-run"],
        ["reminders", "run", "--dry-run"],
        ["waitlist", "run", "--dry-run"],
        ["users", "list"],
        ["coaches", "list"],
        ["slots", "x", "--from", "2030-01-01", "--to", "2030-01-02"],
        ["privacy", "purge", "--days", "1"],
        ["outbox", "purge", "--days", "30"],
        ["outbox", "purge", "--days", "30", "--dry-run"],
        ["audit", "purge", "--days", "90"],
        ["audit", "purge", "--days", "90", "--dry-run"],
        ["keys", "rotate", "--keys", KEY_A],
    ],
)
def test_commands_that_read_never_create_a_database(
    command: list[str], empty_directory: Path
) -> None:
    line = one_error_line(run(*command, "--url", "sqlite:///new.db"), 1)
    assert line == "Not Found: No database at new.db: `coachcore db upgrade --url URL` creates one"
    assert list(empty_directory.iterdir()) == []


def test_reading_an_empty_postgresql_database_creates_no_tables(backend: Backend) -> None:
    if backend.name != "postgresql":
        pytest.skip("an empty PostgreSQL database is what this test reads")
    engine = on_disk(backend, "").engine
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("DROP DATABASE IF EXISTS cli_empty")
        conn.exec_driver_sql("CREATE DATABASE cli_empty")
    url = engine.url.set(database="cli_empty").render_as_string(hide_password=False)
    try:
        for command in (["outbox", "pending"], ["users", "list"], ["privacy", "purge", "--days=1"]):
            line = one_error_line(run(*command, "--url", url), 1)
            assert line.startswith("Not Found: No coachcore tables in cli_empty")
        assert "schema revision: None" in run("db", "current", "--url", url).stdout
        empty = sa.create_engine(url)
        assert sa.inspect(empty).get_table_names() == []
        empty.dispose()
    finally:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("DROP DATABASE cli_empty WITH (FORCE)")


def test_exploring_without_a_demo_says_to_run_it(empty_directory: Path) -> None:
    line = one_error_line(run("users", "list"), 1)
    assert "`coachcore demo` creates one" in line
    assert list(empty_directory.iterdir()) == []


# -- users and coaches ----------------------------------------------------------------


def test_users_and_coaches_are_listed_with_their_ids(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'people.db'}"
    coach_id = booked(url)
    users = run("users", "list", "--url", url)
    assert users.exit_code == 0, users.output
    assert coach_id in users.stdout and len(IDS.findall(users.stdout)) == 2
    members = run("users", "list", "--role", "member", "--url", url)
    assert coach_id not in members.stdout and len(IDS.findall(members.stdout)) == 1
    coaches = run("coaches", "list", "--url", url)
    assert IDS.findall(coaches.stdout) == [coach_id]


def test_the_lists_read_every_backend(backend: Backend) -> None:
    sql = on_disk(backend, "a memory store lives inside one process: no command reaches it")
    w = World(sql.open(), FixedClock(NINE))
    coach = w.coach()
    member = w.member(coach)
    listed = run("users", "list", "--url", backend.url())
    assert listed.exit_code == 0, listed.output
    assert set(IDS.findall(listed.stdout)) == {coach.id, member.id}
    assert IDS.findall(run("coaches", "list", "--url", backend.url()).stdout) == [coach.id]
    current = run("db", "current", "--url", backend.url())
    assert f"schema revision: {head_revision()}" in current.stdout


# -- progress with counts ---------------------------------------------------------------


def test_db_upgrade_counts_the_migrations_it_applies(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    first = run("db", "upgrade", "--url", url)
    steps = len(revisions_after(None))
    assert first.exit_code == 0, first.output
    assert f"{steps}/{steps}" in first.stdout and f"migrations applied: {steps}" in first.stdout
    again = run("db", "upgrade", "--url", url)
    assert "migrations applied: 0" in again.stdout


def test_migrate_tells_each_revision_in_order(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'steps.db'}"
    told: list[str] = []
    migrate(url, revision=revisions_after(None)[2], progress=told.append)
    assert told == revisions_after(None)[:3]
    migrate(url, progress=told.append)
    assert told == revisions_after(None) and revisions_after(told[2]) == told[3:]


def test_privacy_purge_shows_a_count(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'purge.db'}"
    booked(url, sessions=3)
    monkeypatch.setattr(privacy, "PURGE_BATCH", 2)
    result = run("privacy", "purge", "--url", url, "--days", "1")
    assert result.exit_code == 0, result.output
    assert "sessions purged" in result.stdout and "3 done" in result.stdout
    assert "sessions purged of private notes: 3" in result.stdout
    configured = run("privacy", "purge", "--url", url, COACHCORE_RETENTION_DAYS="1")
    assert "sessions purged of private notes: 0" in configured.stdout
    refused = run("privacy", "purge", "--url", url, "--days", "-1")
    assert refused.exit_code == 1 and "days" in refused.stderr
    assert refused.stdout == ""  # no progress bar before the error


def test_purge_tells_each_batch(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    w = world
    coach = w.coach()
    w.window(coach, 1, "09:00", "17:00")
    member = w.member(coach)
    monday = datetime(2030, 1, 7, 9, tzinfo=UTC)
    bookings = [
        w.core.acting_as(member.id).bookings.create(
            coach_id=coach.id, start=monday + timedelta(hours=2 * n)
        )
        for n in range(3)
    ]
    w.clock.set(monday + timedelta(hours=8))
    for booking in bookings:
        w.core.acting_as(coach.id).sessions.complete(str(booking.session_id), coach_notes="n")
    w.clock.set(monday + timedelta(days=10))
    monkeypatch.setattr(privacy, "PURGE_BATCH", 2)
    told: list[int] = []
    assert w.sys.privacy.purge(days=5, progress=told.append) == 3
    assert told == [2, 1]
    assert w.sys.privacy.purge(days=5, progress=told.append) == 0 and told[-1] == 0
    runs = w.sys.audit.list(entity_type="call", entity_id="privacy.purge")
    assert sorted(e.details["count"] for e in runs) == [0, 3]  # one entry a run, not a batch


def test_dispatch_tells_what_each_batch_delivered(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    w = world
    monkeypatch.setattr(w.core.store, "dispatch_on_commit", False)  # the store is shared
    coach = w.coach()
    w.window(coach, 2, "09:00", "17:00", max_sessions_per_slot=5)
    for _ in range(3):
        member = w.member(coach)
        w.core.acting_as(member.id).bookings.create(
            coach_id=coach.id, start=datetime(2030, 1, 8, 9, tzinfo=UTC)
        )
    due = len(w.sys.outbox.due())
    told: list[int] = []
    assert w.sys.outbox.dispatch(progress=told.append) == due > 0
    assert sum(told) == due


def test_keys_rotate_counts_rows(backend: Backend) -> None:
    core = open_with_keys(sql_only(backend), [KEY_A], FixedClock(NINE))
    World(core, FixedClock(NINE)).member()
    core.close()
    result = run("keys", "rotate", "--url", backend.url(), "--keys", f"{KEY_B},{KEY_A}")
    assert result.exit_code == 0, result.output
    rewritten = int(re.findall(r"rows rewritten: (\d+)", result.stdout)[0])
    assert rewritten > 0 and f"{rewritten} done" in result.stdout


# -- the demo ---------------------------------------------------------------------------


def demo(url: str, *more: str) -> tuple[str, str, str]:
    result = run("demo", "--url", url, *more)
    assert result.exit_code == 0, result.output
    coach_id, member_id = IDS.findall(result.stdout.split("Demo ready")[1])[:2]
    return coach_id, member_id, result.stdout


def test_the_demo_runs_again_to_the_same_world(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    first = demo(url)
    for _ in range(3):
        assert demo(url)[:2] == first[:2]
    members = run("users", "list", "--role", "member", "--url", url)
    assert IDS.findall(members.stdout) == [first[1]]  # no new member per run
    coach_id, _, out = first
    assert f"coachcore slots {coach_id} --from " in out and f"--url {url}" in out
    assert "coachcore users list" in out and "coachcore coaches list" in out
    reset = demo(url, "--reset")
    assert reset[0] != coach_id and reset[1] != first[1]


def test_the_demo_runs_21_times_without_filling_the_coach(backend: Backend) -> None:
    sql = on_disk(backend, "a memory store is new at every open: there is no world to find")
    sql.open()  # empties the tables
    sql.release()
    first = run_demo(sql.url())
    for _ in range(20):  # the coach takes 20 members: a member per run would fail here
        assert run_demo(sql.url()) == first
    assert (first["bookings"], first["members"], first["rating"]) == (2, 1, 5.0)


def test_the_demo_shows_times_in_the_coach_zone(tmp_path: Path) -> None:
    _, _, out = demo(f"sqlite:///{tmp_path / 'zone.db'}")
    assert "Europe/Berlin" in out and "UTC" not in out
    assert ZONED.search(out.split("next session")[1].splitlines()[0])
    assert len(ZONED.findall(out.split("Member dashboard")[0])) == 10


def test_the_demo_on_its_default_database(empty_directory: Path) -> None:
    coach_id, _, out = demo(DEMO_URL)
    assert (empty_directory / "coachcore-demo.db").is_file()
    assert "--url" not in out.split("Try next:")[1]
    listed = run("coaches", "list")
    assert IDS.findall(listed.stdout) == [coach_id]
    today = datetime.now(UTC).date()
    slots = run("slots", coach_id, "--from", str(today), "--to", str(today + timedelta(days=7)))
    assert slots.exit_code == 0 and "Europe/Berlin" in slots.stdout


def test_reset_refuses_what_is_not_a_sqlite_file() -> None:
    line = one_error_line(run("demo", "--reset", "--url", "postgresql://nobody@nowhere/x"), 1)
    assert line.startswith("Bad Request: --reset")
