"""Webhooks against a local ThreadingHTTPServer: Standard Webhooks signatures
(checked with the ``standardwebhooks`` package, as a receiver would),
idempotency by ``webhook-id``, retries, the deprecated headers."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

import coachcore
from backends import T0
from coachcore import NotificationKind
from coachcore.adapters.clock import FixedClock
from coachcore.adapters.webhook import (
    WebhookBroadcast,
    WebhookFailed,
    WebhookNotifier,
    secret_bytes,
    sign,
    verify_signature,
)
from coachcore.errors import ValidationFailed
from world import World

MONDAY = date(2030, 1, 7)
SECRET = "whsec_" + base64.b64encode(b"webhook-secret-of-32-bytes-long!").decode()
RAW = secret_bytes(SECRET)
OTHER = Webhook(base64.b64encode(b"another secret").decode())


class Receiver(ThreadingHTTPServer):
    """Records every request and answers with ``status`` (and ``location``)."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.status = 200
        self.location = ""
        self.requests: list[tuple[int, dict[str, str], bytes]] = []  # (answered, headers, body)
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/hooks/coachcore"

    def accepted(self) -> list[tuple[dict[str, str], bytes]]:
        return [(h, b) for status, h, b in self.requests if 200 <= status < 300]


class Handler(BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        with self.server.lock:
            status = self.server.status
            headers = {name.lower(): value for name, value in self.headers.items()}
            self.server.requests.append((status, headers, body))
        self.send_response(status)
        if self.server.location:
            self.send_header("Location", self.server.location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        """Quiet."""


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join()


def _world(**options: Any) -> World:
    clock = FixedClock(T0)
    return World(coachcore.open("memory://", clock=clock, **options), clock)


def _book(world: World) -> tuple[Any, Any, Any]:
    coach = world.coach()
    member = world.member(coach)
    world.window(coach, 1, "09:00", "12:00")
    return coach, member, world.book(member, coach, world.slots(member, coach, MONDAY)[0].start)


def _stored(world: World, *users: Any) -> dict[str, Any]:
    return {
        n.id: coachcore.to_dict(n) for user in users for n in world.sys.notifications.list(user.id)
    }


def test_notifications_arrive_signed_with_their_idempotency_key(receiver: Receiver) -> None:
    world = _world(notifier=WebhookNotifier(receiver.url, SECRET))
    coach, member, _ = _book(world)
    stored = _stored(world, coach, member)
    accepted = receiver.accepted()
    assert len(accepted) == len(stored) >= 4
    for headers, body in accepted:
        assert headers["content-type"] == "application/json"
        data = Webhook(SECRET).verify(body, headers)
        with pytest.raises(WebhookVerificationError):
            OTHER.verify(body, headers)
        assert headers["webhook-id"] == data["id"]
        assert data == stored[data["id"]]
        assert "x-coachcore-signature" not in headers  # deprecated, off by default
    kinds = {json.loads(body)["kind"] for _, body in accepted}
    assert {"booking_confirmed", "session_created", "member_assigned"} <= kinds


def test_a_500_leaves_the_message_pending_and_it_is_delivered_once_later(
    receiver: Receiver,
) -> None:
    receiver.status = 500
    notifier = WebhookNotifier(receiver.url, SECRET)
    world = _world(notifier=notifier)
    coach, member, booking = _book(world)
    assert booking.status == "confirmed"
    waiting = [m for m in world.sys.outbox.pending() if m.channel == "notification"]
    assert waiting and all("500" in (m.last_error or "") for m in waiting)
    assert receiver.accepted() == [] and len(receiver.requests) == len(waiting)
    receiver.status = 200
    world.advance(minutes=1)
    assert world.sys.outbox.dispatch() == len(waiting)
    assert world.sys.outbox.dispatch() == 0
    for notification in world.sys.notifications.list(member.id):
        notifier.send(notification)  # a repeat after a crash: not sent again
    keys = [h["webhook-id"] for h, _ in receiver.accepted()]
    assert sorted(keys) == sorted(m.idempotency_key for m in waiting)
    assert sorted(keys) == sorted(_stored(world, coach, member))
    assert world.sys.outbox.pending() == []


def test_redirects_and_dead_receivers_raise(receiver: Receiver) -> None:
    notification = coachcore.Notification(
        id="n-1",
        recipient_id="u-1",
        kind=NotificationKind.REMINDER_1H,
        title="Soon",
        created_at=T0,
    )
    receiver.status, receiver.location = 302, receiver.url + "/elsewhere"
    with pytest.raises(WebhookFailed) as failed:
        WebhookNotifier(receiver.url, SECRET).send(notification)
    assert failed.value.status == 302 and len(receiver.requests) == 1
    dead = WebhookNotifier("http://127.0.0.1:9/", SECRET, timeout=1)  # discard port
    with pytest.raises(OSError):
        dead.send(notification)


def test_verify_signature_rejects_tampering_and_junk() -> None:
    body = b'{"id":"n-1"}'
    header = sign(body, RAW)
    assert header.startswith("sha256=") and len(header) == 7 + 64
    assert verify_signature(body, header, RAW)
    assert not verify_signature(body + b" ", header, RAW)
    assert not verify_signature(body, header.replace("sha256=", "sha1="), RAW)
    for junk in (None, "", "sha256=", "sha256=é" * 3, header.upper()):
        assert not verify_signature(body, junk, RAW)


def test_bad_configuration_is_rejected() -> None:
    with pytest.raises(ValidationFailed):
        WebhookNotifier("file:///etc/passwd", SECRET)
    for secret in (b"", "", "whsec_", "whsec_not base64!"):
        with pytest.raises(ValidationFailed):
            WebhookNotifier("http://127.0.0.1/", secret)


def test_broadcast_plugin_posts_slot_changes(receiver: Receiver) -> None:
    world = _world(plugins=[WebhookBroadcast(receiver.url, SECRET)])
    _, member, booking = _book(world)
    world.core.acting_as(member.id).bookings.cancel(booking.id)
    events = []
    for headers, body in receiver.accepted():
        event = Webhook(SECRET).verify(body, headers)
        assert headers["webhook-id"] == event["event_id"]
        assert headers["x-coachcore-event"] == event["type"]
        events.append(event)
    changes = [e["change"] for e in events if e["type"] == "slot_changed"]
    assert changes == ["booked", "cancelled"]
    assert len({e["event_id"] for e in events}) == len(events)  # one id per event


def test_a_resent_notification_keeps_its_webhook_id_and_a_receiver_drops_it(
    receiver: Receiver,
) -> None:
    """Two processes (two notifiers) send the same notification, as after a
    crash: the same ``webhook-id``, fresh timestamps, both verify; a receiver
    keyed by ``webhook-id`` handles it once. A replayed request whose timestamp
    is too old is rejected by the receiver's library."""
    notification = coachcore.Notification(
        id="n-42",
        recipient_id="u-1",
        kind=NotificationKind.REMINDER_1H,
        title="Soon",
        created_at=T0,
    )
    WebhookNotifier(receiver.url, SECRET).send(notification)
    WebhookNotifier(receiver.url, SECRET).send(notification)
    handled: dict[str, Any] = {}
    for headers, body in receiver.accepted():
        handled.setdefault(headers["webhook-id"], Webhook(SECRET).verify(body, headers))
    assert list(handled) == ["n-42"] and len(receiver.accepted()) == 2
    headers, body = receiver.accepted()[0]
    stale = {**headers, "webhook-timestamp": str(int(headers["webhook-timestamp"]) - 3600)}
    with pytest.raises(WebhookVerificationError):
        Webhook(SECRET).verify(body, stale)


def test_deprecated_headers_only_when_asked_for(receiver: Receiver) -> None:
    notification = coachcore.Notification(
        id="n-7", recipient_id="u-1", kind=NotificationKind.REMINDER_1H, title="Soon", created_at=T0
    )
    WebhookNotifier(receiver.url, SECRET, legacy_headers=True).send(notification)
    headers, body = receiver.accepted()[0]
    assert verify_signature(body, headers["x-coachcore-signature"], RAW)
    assert headers["x-coachcore-idempotency-key"] == headers["webhook-id"] == "n-7"
    Webhook(SECRET).verify(body, headers)


def test_broadcasts_without_an_id_get_a_stable_one_from_their_body(receiver: Receiver) -> None:
    plugin = WebhookBroadcast(receiver.url, RAW)
    event = {"type": "slot_changed", "coach_id": "c-1", "change": "booked"}
    plugin.coachcore_broadcast(event)
    plugin.coachcore_broadcast(dict(event))
    plugin.coachcore_broadcast({**event, "event_id": "evt-1"})
    ids = [h["webhook-id"] for h, _ in receiver.accepted()]
    assert ids[0] == ids[1] != ids[2] == "evt-1"
