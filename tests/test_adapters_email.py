"""SmtpNotifier against a local aiosmtpd server: content, idempotency, retries."""

from __future__ import annotations

import smtplib
import socket
import threading
from collections.abc import Iterator
from datetime import date
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest

import coachcore
from backends import T0
from coachcore import NotificationKind
from coachcore.adapters.clock import FixedClock
from coachcore.adapters.email import SmtpNotifier, address_book_from
from coachcore.adapters.templates import KIND_TEXT, render
from world import World

pytest.importorskip("aiosmtpd")
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

MONDAY = date(2030, 1, 7)
SENDER = "Coaching <noreply@coach.example>"


class Inbox:
    """An aiosmtpd handler that keeps every message it accepts."""

    def __init__(self) -> None:
        self.received: list[tuple[list[str], EmailMessage]] = []
        self.logins: list[tuple[str, str]] = []
        self._lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        with self._lock:
            self.received.append((list(envelope.rcpt_tos), message))
        return "250 Message accepted"

    def authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        self.logins.append((data.login.decode(), data.password.decode()))
        return AuthResult(success=data.password == b"s3cret", handled=False)

    def keys(self) -> list[str]:
        return [str(m["Message-ID"]).split("@")[0].strip("<") for _, m in self.received]

    def to(self, address: str) -> list[EmailMessage]:
        return [m for rcpt, m in self.received if rcpt == [address]]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class SmtpServer:
    """Starts and stops an aiosmtpd server on one fixed local port."""

    def __init__(self, inbox: Inbox, **options: Any) -> None:
        self.inbox, self.port, self.options = inbox, free_port(), options
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(
            self.inbox, hostname="127.0.0.1", port=self.port, **self.options
        )
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer(Inbox())
    server.start()
    yield server
    server.stop()


def _world(notifier: SmtpNotifier) -> World:
    clock = FixedClock(T0)
    core = coachcore.open("memory://", clock=clock, notifier=notifier)
    notifier.address_book = address_book_from(core)
    return World(core, clock)


def _book(world: World) -> tuple[Any, Any, Any]:
    coach = world.coach()
    member = world.member(coach)
    world.window(coach, 1, "09:00", "12:00")
    return coach, member, world.book(member, coach, world.slots(member, coach, MONDAY)[0].start)


def _notifier(port: int, **options: Any) -> SmtpNotifier:
    return SmtpNotifier("127.0.0.1", port, SENDER, lambda _: None, timeout=5, **options)


def _notification_ids(world: World, *users: Any) -> set[str]:
    return {n.id for user in users for n in world.sys.notifications.list(user.id)}


def test_booking_sends_emails_with_text_and_html_to_the_right_people(smtp: SmtpServer) -> None:
    world = _world(_notifier(smtp.port))
    coach, member, booking = _book(world)
    member_mail = {str(m["Subject"]): m for m in smtp.inbox.to(member.email)}
    assert {"Your booking is confirmed", "Coaching session scheduled"} <= set(member_mail)
    coach_subjects = [str(m["Subject"]) for m in smtp.inbox.to(coach.email)]
    assert coach_subjects == ["New coaching assignment", "Coaching session scheduled"]
    confirmed = member_mail["Your booking is confirmed"]
    assert confirmed["To"] == member.email and "noreply@coach.example" in str(confirmed["From"])
    notification = next(
        n for n in world.sys.notifications.list(member.id) if n.booking_id == booking.id
    )
    assert "X-Coachcore-Idempotency-Key" not in confirmed  # deprecated, off by default
    assert confirmed["Message-ID"] == f"<{notification.id}@coach.example>"
    text = confirmed.get_body(("plain",))
    html = confirmed.get_body(("html",))
    assert text is not None and html is not None
    assert "is confirmed" in text.get_content()
    assert f"coachcore://sessions/{booking.session_id}" in html.get_content()
    assert sorted(smtp.inbox.keys()) == sorted(_notification_ids(world, coach, member))


def test_repeated_delivery_does_not_send_twice(smtp: SmtpServer) -> None:
    notifier = _notifier(smtp.port)
    world = _world(notifier)
    coach, member, _ = _book(world)
    sent = len(smtp.inbox.received)
    assert sent >= 3
    assert world.sys.outbox.dispatch() == 0
    for user in (coach, member):  # as after a crash between delivery and bookkeeping
        for notification in world.sys.notifications.list(user.id):
            notifier.send(notification)
    assert len(smtp.inbox.received) == sent
    assert len(set(smtp.inbox.keys())) == sent


def test_server_down_keeps_messages_pending_until_it_is_back(smtp: SmtpServer) -> None:
    smtp.stop()
    world = _world(_notifier(smtp.port))
    coach, member, booking = _book(world)
    assert booking.status == "confirmed"
    waiting = [m for m in world.sys.outbox.pending() if m.channel == "notification"]
    assert waiting and all(m.attempts == 1 and m.last_error for m in waiting)
    assert any("Connection" in (m.last_error or "") for m in waiting)
    smtp.start()
    assert world.sys.outbox.dispatch() == 0  # still backing off
    world.advance(minutes=1)
    assert world.sys.outbox.dispatch() == len(waiting)
    assert world.sys.outbox.pending() == []
    assert sorted(smtp.inbox.keys()) == sorted(m.idempotency_key for m in waiting)
    assert sorted(smtp.inbox.keys()) == sorted(_notification_ids(world, coach, member))


def test_login_uses_the_credentials_and_a_refused_login_raises() -> None:
    inbox = Inbox()
    server = SmtpServer(inbox, authenticator=inbox.authenticate, auth_require_tls=False)
    server.start()
    try:
        notifier = _notifier(server.port, username="mailer", password="s3cret")
        world = _world(notifier)
        _, member, _ = _book(world)
        notification = world.sys.notifications.list(member.id)[0]
        wrong = _notifier(server.port, username="mailer", password="nope")
        wrong.address_book = notifier.address_book
        with pytest.raises(smtplib.SMTPAuthenticationError):
            wrong.send(notification)
    finally:
        server.stop()
    assert set(inbox.logins) == {("mailer", "s3cret"), ("mailer", "nope")}
    assert len(inbox.received) == inbox.logins.count(("mailer", "s3cret")) >= 3
    assert inbox.keys().count(notification.id) == 1


def test_recipient_without_address_is_skipped_without_contacting_the_server() -> None:
    notifier = _notifier(free_port())  # nothing listens there: contacting it would raise
    clock = FixedClock(T0)
    world = World(coachcore.open("memory://", clock=clock, notifier=notifier), clock)
    _, member, _ = _book(world)
    ids = {n.id for n in world.sys.notifications.list(member.id)}
    assert ids <= set(notifier.skipped)
    assert world.sys.outbox.pending() == []


def test_every_kind_has_its_own_subject_and_html_is_escaped() -> None:
    assert set(KIND_TEXT) == set(NotificationKind)
    assert len({subject for subject, _ in KIND_TEXT.values()}) == len(NotificationKind)
    notification = coachcore.Notification(
        id="n-1",
        recipient_id="u-1",
        kind=NotificationKind.SESSION_CANCELLED,
        title="Cancelled",
        body="<script>alert(1)</script> & more",
        session_id="s-1",
        created_at=T0,
    )
    rendered = render(notification)
    assert rendered.subject == "Coaching session cancelled"
    assert "<script>" not in rendered.html and "&lt;script&gt;" in rendered.html
    assert "<script>alert(1)</script> & more" in rendered.text
    assert "coachcore://sessions/s-1" in rendered.text
