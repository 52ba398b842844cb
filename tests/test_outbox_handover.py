"""Delivery right after a write: the write's own outbox messages are handed to
the dispatcher (written leased to it, delivered as the entities they were made
from), and other due messages are claimed inside the write's transaction."""

from __future__ import annotations

from datetime import date
from typing import Any

import coachcore
from backends import T0, Backend
from coachcore.adapters.clock import FixedClock
from coachcore.domain.entities import Notification
from coachcore.domain.enums import OutboxChannel
from coachcore.services.delivery.outbox import Deliveries, Dispatcher
from world import World

MONDAY = date(2030, 1, 7)


class Notifier:
    """Fails its next ``failures`` calls, then keeps what it is sent."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.sent: dict[str, Notification] = {}

    def send(self, notification: Notification) -> None:
        if self.failures > 0:
            self.failures -= 1
            raise ConnectionError("notifier down")
        assert notification.id not in self.sent, "delivered twice"
        self.sent[notification.id] = notification


def test_a_write_delivers_its_own_messages_and_leaves_none_pending(backend: Backend) -> None:
    clock, notifier = FixedClock(T0), Notifier()
    world = World(backend.open(clock, notifier=notifier), clock)
    _, member, booking = world.first_booking(MONDAY)
    assert booking.status == "confirmed"
    assert world.sys.outbox.pending() == []
    stored = world.sys.notifications.list(member.id)
    kinds = {str(n.kind) for n in stored}
    assert {"booking_confirmed", "session_created"} <= kinds
    assert all(notifier.sent[n.id] == n for n in stored)  # delivered as stored


def test_a_retry_that_is_due_goes_out_with_the_next_write(backend: Backend) -> None:
    clock, notifier = FixedClock(T0), Notifier()
    world = World(backend.open(clock, notifier=notifier), clock)
    coach = world.coach()
    member = world.member(coach)
    world.window(coach, 1, "09:00", "12:00")
    start = world.slots(member, coach, MONDAY)[0].start
    notifier.failures = 1000
    world.book(member, coach, start)
    waiting = [m for m in world.sys.outbox.pending() if m.channel == OutboxChannel.NOTIFICATION]
    assert waiting and all(m.attempts == 1 and m.claimed_until is None for m in waiting)
    notifier.failures = 0
    world.advance(minutes=1)  # past the first backoff (5 s)
    world.coach()  # any write: its commit delivers what is due besides its own messages
    assert world.sys.outbox.pending() == []
    assert {m.idempotency_key for m in waiting} <= set(notifier.sent)


def test_another_dispatcher_on_the_same_clock_does_not_take_the_hand_over() -> None:
    clock = FixedClock(T0)
    core = coachcore.open("memory://", clock=clock)

    def refuse(*_: Any) -> None:
        raise AssertionError("the second dispatcher was handed the write's messages")

    deliveries = Deliveries(
        calendar=core.calendar, messaging=core.messaging, notifier=core.notifier, broadcast=refuse
    )
    Dispatcher(core.store, core._runtime.now, deliveries)  # type: ignore[attr-defined]
    world = World(core, clock)
    _, member, _ = world.first_booking(MONDAY)
    assert world.sys.outbox.pending() == []
    kinds = core.notifier.kinds_for(member.id)  # type: ignore[attr-defined]
    assert "booking_confirmed" in kinds
