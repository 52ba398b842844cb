"""The CLI's delivery jobs on a SQLite file: they refuse to deliver into the
in-memory recorders, ``--dry-run`` changes nothing, SMTP configured by
environment or ``coachcore.toml`` delivers each message once, operators see
the queue by kind and age and purge delivered messages, and the cron lines of
the operations guide run."""

from __future__ import annotations

import re
import shlex
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import attrs
import pytest
from typer.testing import CliRunner

import coachcore
from coachcore import Role
from coachcore.adapters.clock import FixedClock
from coachcore.adapters.email import SmtpNotifier
from coachcore.adapters.memory.recorders import RecordingNotifier
from coachcore.cli import app
from coachcore.domain.enums import OutboxChannel, OutboxStatus
from coachcore.errors import ValidationFailed
from coachcore.plugins.configured import (
    VARIABLES,
    Configured,
    DeliveryConfig,
    DroppingCalendar,
)

pytest.importorskip("aiosmtpd")
from test_adapters_email import Inbox, SmtpServer

OPERATIONS = Path(__file__).parent.parent / "docs" / "guides" / "operations.md"
BEFORE = datetime(2026, 1, 1, 8, tzinfo=UTC)  # the CLI's clock is real: these are due
MONDAY_9 = datetime(2026, 1, 5, 9, tzinfo=UTC)
SENDER = "Coaching <noreply@coach.example>"


@pytest.fixture(autouse=True)
def no_configuration(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No COACHCORE_* variable from the machine, no coachcore.toml in the directory."""
    for variable in [*VARIABLES, "COACHCORE_CONFIG", "COACHCORE_URL", "COACHCORE_KEYS"]:
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer(Inbox())
    server.start()
    yield server
    server.stop()


def with_pending(tmp_path: Path, members: int = 2) -> str:
    """A SQLite file where ``members`` members booked a session; nothing delivered yet."""
    url = f"sqlite:///{tmp_path / 'coaching.db'}"
    with coachcore.open(url, clock=FixedClock(BEFORE)) as core:
        core.store.dispatch_on_commit = False
        coach = core.system.users.create(name="C", email="coach@example.com", role=Role.COACH)
        core.acting_as(coach.id).availability.create(
            day_of_week=1, start_time="09:00", end_time="10:00", max_sessions_per_slot=10
        )
        for i in range(members):
            member = core.system.signup_member(
                name=f"M{i}", email=f"m{i}@example.com", coach_id=coach.id
            )
            core.acting_as(member.id).bookings.create(coach_id=coach.id, start=MONDAY_9)
    return url


def pending(url: str) -> list[Any]:
    with coachcore.open(url) as core:
        return sorted(core.system.outbox.pending(), key=lambda m: m.id)


def notification_ids(url: str) -> set[str]:
    return {m.idempotency_key for m in pending(url) if m.channel == OutboxChannel.NOTIFICATION}


def smtp_env(server: SmtpServer) -> dict[str, str]:
    return {
        "COACHCORE_SMTP_URL": f"smtp://127.0.0.1:{server.port}",
        "COACHCORE_SMTP_SENDER": SENDER,
        "COACHCORE_CALENDAR": "none",
        "COACHCORE_MESSAGING": "none",
    }


def received_ids(server: SmtpServer) -> Counter[str]:
    return Counter(str(m["Message-ID"]).strip("<>").split("@")[0] for _, m in server.inbox.received)


JOBS = [["outbox", "dispatch"], ["reminders", "run"], ["waitlist", "run"]]


@pytest.mark.parametrize("job", JOBS, ids=" ".join)
def test_without_configuration_the_jobs_refuse_and_every_message_stays_pending(
    tmp_path: Path, job: list[str]
) -> None:
    url = with_pending(tmp_path)
    before = pending(url)
    assert len(before) >= 8
    result = CliRunner().invoke(app, [*job, "--url", url])
    assert result.exit_code == 2, result.output
    assert "COACHCORE_SMTP_URL" in result.stderr and "COACHCORE_CALENDAR=none" in result.stderr
    assert "delivered" not in result.stdout
    assert pending(url) == before  # not claimed, not attempted, not delivered

    dry = CliRunner().invoke(app, [*job, "--url", url, "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert f"would deliver: {len(before)}" in dry.stdout
    assert pending(url) == before


def test_only_the_notifier_configured_still_refuses_naming_the_rest(
    tmp_path: Path, smtp: SmtpServer
) -> None:
    url = with_pending(tmp_path)
    before = pending(url)
    env = {k: v for k, v in smtp_env(smtp).items() if k.startswith("COACHCORE_SMTP")}
    result = CliRunner().invoke(app, ["outbox", "dispatch", "--url", url], env=env)
    assert result.exit_code == 2
    assert "calendar" in result.stderr and "COACHCORE_SMTP_URL" not in result.stderr
    assert pending(url) == before and smtp.inbox.received == []


def test_smtp_from_the_environment_delivers_each_message_once(
    tmp_path: Path, smtp: SmtpServer
) -> None:
    url = with_pending(tmp_path, members=3)
    expected = notification_ids(url)
    total = len(pending(url))
    runner = CliRunner()
    result = runner.invoke(app, ["outbox", "dispatch", "--url", url], env=smtp_env(smtp))
    assert result.exit_code == 0, result.output
    assert f"delivered: {total}" in result.stdout
    again = runner.invoke(app, ["outbox", "dispatch", "--url", url], env=smtp_env(smtp))
    assert "delivered: 0" in again.stdout
    assert pending(url) == []
    got = received_ids(smtp)
    assert set(got) == expected and set(got.values()) == {1}
    to = {rcpt for rcpts, _ in smtp.inbox.received for rcpt in rcpts}
    assert to == {"coach@example.com", "m0@example.com", "m1@example.com", "m2@example.com"}


def test_a_down_smtp_server_leaves_the_messages_for_later(tmp_path: Path, smtp: SmtpServer) -> None:
    url = with_pending(tmp_path)
    expected = notification_ids(url)
    smtp.stop()
    result = CliRunner().invoke(app, ["outbox", "dispatch", "--url", url], env=smtp_env(smtp))
    assert result.exit_code == 0, result.output
    assert notification_ids(url) == expected
    assert all(m.last_error for m in pending(url))
    status = CliRunner().invoke(app, ["outbox", "pending", "--url", url])
    assert re.search(r"notification/booking_confirmed\s*│\s*2\s*│\s*0\s*│", status.stdout)


def test_coachcore_toml_configures_the_cli_and_open_alike(tmp_path: Path, smtp: SmtpServer) -> None:
    url = with_pending(tmp_path)
    expected = notification_ids(url)
    config = tmp_path / "coachcore.toml"
    config.write_text(
        f'[smtp]\nurl = "smtp://127.0.0.1:{smtp.port}"\nsender = "{SENDER}"\n'
        '[adapters]\ncalendar = "none"\nmessaging = "none"\n'
    )
    with coachcore.open(url, config=True) as core:  # ./coachcore.toml, asked for
        assert isinstance(core.notifier, SmtpNotifier) and core.notifier.port == smtp.port
        assert isinstance(core.calendar, DroppingCalendar)
    with coachcore.open(url) as core:  # not asked for: the recorders
        assert isinstance(core.notifier, RecordingNotifier)
    result = CliRunner().invoke(app, ["outbox", "dispatch", "--url", url, "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert set(received_ids(smtp)) == expected and pending(url) == []


def test_environment_wins_over_the_file_and_bad_settings_are_named(tmp_path: Path) -> None:
    config = tmp_path / "coachcore.toml"
    config.write_text('[smtp]\nurl = "smtp://file.example"\nsender = "a@file.example"\n')
    loaded = DeliveryConfig.load(config, {"COACHCORE_SMTP_URL": "smtp://env.example:2525"})
    assert loaded.smtp_url == "smtp://env.example:2525" and loaded.smtp_sender == "a@file.example"
    bad = [
        {"COACHCORE_SMTP_URL": "smtps://x", "COACHCORE_SMTP_SENDER": "a@b"},
        {"COACHCORE_SMTP_URL": "smtp://x"},  # no sender
        {"COACHCORE_WEBHOOK_URL": "https://x.example/hook"},  # no secret
        {"COACHCORE_CALENDAR": "google"},
        {
            "COACHCORE_SMTP_URL": "smtp://x",
            "COACHCORE_SMTP_SENDER": "a@b",
            "COACHCORE_WEBHOOK_URL": "https://x.example/hook",
            "COACHCORE_WEBHOOK_SECRET": "whsec_c2VjcmV0",
        },
    ]
    for environ in bad:
        with pytest.raises(ValidationFailed):
            Configured(DeliveryConfig.load(tmp_path / "absent.toml", environ))
    (tmp_path / "broken.toml").write_text("[smtp\n")
    with pytest.raises(ValidationFailed):
        DeliveryConfig.load(tmp_path / "broken.toml", {})


def test_operators_see_the_queue_by_kind_and_age_and_retry_failed_ones(tmp_path: Path) -> None:
    url = with_pending(tmp_path)
    with coachcore.open(url, clock=FixedClock(BEFORE + timedelta(hours=1))) as core:
        messages = core.system.outbox.pending()
        kinds = Counter(
            f"notification/{m.payload['kind']}" if m.channel == "notification" else m.channel
            for m in messages
        )
        parked = [m for m in messages if m.channel == OutboxChannel.NOTIFICATION][:3]
        with core.store.unit_of_work(write=True) as uow:
            for m in parked:
                uow.outbox.update(_failed(m))
            uow.commit()
    runner = CliRunner()
    shown = runner.invoke(app, ["outbox", "pending", "--url", url]).stdout
    for kind, count in kinds.items():
        left = count - sum(1 for m in parked if _kind(m) == kind)
        if left:
            assert re.search(rf"{re.escape(kind)}\s*│\s*{left}\s*│", shown), (kind, shown)
    assert re.search(r"│\s*\d+(d|h)\s*│", shown)  # the oldest is hours or days old
    failed = runner.invoke(app, ["outbox", "failed", "--url", url, "--list"]).stdout
    assert all(m.id in failed for m in parked) and "boom" in failed

    neither = runner.invoke(app, ["outbox", "retry", "--url", url])
    assert neither.exit_code == 2
    one = runner.invoke(app, ["outbox", "retry", "--url", url, parked[0].id, "nope"])
    assert one.exit_code == 1 and "back in the queue: 1" in one.stdout and "nope" in one.stderr
    rest = runner.invoke(app, ["outbox", "retry", "--url", url, "--all"])
    assert rest.exit_code == 0 and "back in the queue: 2" in rest.stdout
    assert {m.id for m in pending(url)} >= {m.id for m in parked}


def test_operators_purge_old_delivered_messages_and_can_count_them_first(tmp_path: Path) -> None:
    url = with_pending(tmp_path, members=3)
    now = datetime.now(UTC)  # the CLI's clock is real
    with coachcore.open(url) as core:
        messages = core.system.outbox.pending()
        old, recent, parked = messages[:5], messages[5:7], messages[7]
        with core.store.unit_of_work(write=True) as uow:
            for m in old:
                uow.outbox.update(_delivered(m, now - timedelta(days=31)))
            for m in recent:
                uow.outbox.update(_delivered(m, now - timedelta(days=29)))
            uow.outbox.update(_failed(parked))
            uow.commit()
    stay = {m.id for m in messages} - {m.id for m in old}
    runner = CliRunner()
    counted = runner.invoke(app, ["outbox", "purge", "--url", url, "--days", "30", "--dry-run"])
    assert counted.exit_code == 0, counted.output
    assert "would delete: 5" in counted.stdout
    assert _stored(url) == {m.id for m in messages}  # the dry run deleted nothing
    purged = runner.invoke(app, ["outbox", "purge", "--url", url, "--days", "30"])
    assert purged.exit_code == 0, purged.output
    assert "5 done" in purged.stdout and "delivered messages purged: 5" in purged.stdout
    assert _stored(url) == stay  # recent delivered, pending and failed ones
    again = runner.invoke(app, ["outbox", "purge", "--url", url, "--days", "30"])
    assert "delivered messages purged: 0" in again.stdout
    too_short = runner.invoke(app, ["outbox", "purge", "--url", url, "--days", "0"])
    assert too_short.exit_code == 1 and too_short.stdout == ""
    assert too_short.stderr.startswith("Bad Request: days: must be at least 1: live listeners")
    no_days = runner.invoke(app, ["outbox", "purge", "--url", url])
    assert no_days.exit_code == 2 and "--days" in no_days.stderr
    assert _stored(url) == stay


def _stored(url: str) -> set[str]:
    with coachcore.open(url) as core, core.store.unit_of_work(write=False) as uow:
        return {m.id for m in uow.outbox.list()}


def _delivered(message: Any, at: datetime) -> Any:
    return attrs.evolve(message, status=OutboxStatus.DELIVERED, attempts=1, delivered_at=at)


def _kind(message: Any) -> str:
    if message.channel == OutboxChannel.NOTIFICATION:
        return f"notification/{message.payload['kind']}"
    return str(message.channel)


def _failed(message: Any) -> Any:
    return attrs.evolve(message, status=OutboxStatus.FAILED, last_error="boom", attempts=8)


def cron_lines() -> tuple[dict[str, str], list[list[str]]]:
    """The operations guide's crontab: its variables and its commands."""
    text = OPERATIONS.read_text()
    block = re.search(r"```cron\n(.*?)```", text, re.S)
    assert block, "the operations guide shows a crontab"
    variables, commands = {}, []
    for line in block.group(1).splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        if re.match(r"^[A-Z_]+=", line):
            name, _, value = line.partition("=")
            variables[name] = value
            continue
        words = shlex.split(line)[5:]
        assert words[0] == "coachcore", line
        commands.append(words[1:])
    return variables, commands


def test_the_cron_lines_of_the_operations_guide_run(tmp_path: Path, smtp: SmtpServer) -> None:
    variables, commands = cron_lines()
    assert set(variables) >= {"COACHCORE_URL", "COACHCORE_CONFIG"}
    assert [c[:2] for c in commands] == [
        ["reminders", "run"],
        ["waitlist", "run"],
        ["outbox", "dispatch"],
        ["outbox", "failed"],
        ["outbox", "purge"],
        ["audit", "purge"],
    ]
    url = with_pending(tmp_path)
    expected = notification_ids(url)
    config = tmp_path / "coachcore.toml"
    config.write_text(
        f'[smtp]\nurl = "smtp://127.0.0.1:{smtp.port}"\nsender = "{SENDER}"\n'
        '[adapters]\ncalendar = "none"\nmessaging = "none"\n'
    )
    env = {**variables, "COACHCORE_URL": url, "COACHCORE_CONFIG": str(config)}
    for command in commands * 2:
        result = CliRunner().invoke(app, command, env=env)
        assert result.exit_code == 0, (command, result.output)
    got = received_ids(smtp)
    assert set(got) == expected and set(got.values()) == {1}


class HostNotifier:
    def __init__(self) -> None:
        self.sent: list[str] = []

    def send(self, notification: Any) -> None:
        self.sent.append(notification.id)


class HostPlugin:
    def __init__(self) -> None:
        self.notifier = HostNotifier()

    @coachcore.hookimpl
    def coachcore_notifier(self) -> Any:
        return self.notifier


def test_the_host_still_comes_first_and_webhooks_are_configured_alike(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from coachcore.adapters.webhook import WebhookNotifier

    monkeypatch.setenv("COACHCORE_WEBHOOK_URL", "http://127.0.0.1:9/hooks")
    monkeypatch.setenv("COACHCORE_WEBHOOK_SECRET", "whsec_c2VjcmV0LWtleQ==")
    monkeypatch.setenv("COACHCORE_BROADCAST_URL", "http://127.0.0.1:9/slots")
    with coachcore.open("memory://", config=True) as core:
        assert isinstance(core.notifier, WebhookNotifier)
    plugin, given = HostPlugin(), HostNotifier()
    with coachcore.open("memory://", config=True, plugins=[plugin]) as core:
        assert core.notifier is plugin.notifier
    with coachcore.open("memory://", config=True, notifier=given) as core:
        assert core.notifier is given
