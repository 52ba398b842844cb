"""Outbox delivery, retries, parking; reminders exactly once; plugin hooks."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

import coachcore
from backends import T0, Backend
from coachcore import NotificationKind, Role, hookimpl
from coachcore.adapters.clock import FixedClock
from coachcore.domain.entities import Notification
from world import World

MONDAY = date(2030, 1, 7)


class FlakyNotifier:
    """Fails the first ``failures`` calls, then records."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.sent: dict[str, Notification] = {}

    def send(self, notification: Notification) -> None:
        if self.failures > 0:
            self.failures -= 1
            raise ConnectionError("notifier down")
        self.sent[notification.id] = notification


def test_failing_notifier_loses_nothing_and_retries_with_backoff() -> None:
    clock = FixedClock(T0)
    notifier = FlakyNotifier(failures=1000)
    world = World(coachcore.open("memory://", clock=clock, notifier=notifier), clock)
    _, member, booking = world.first_booking(MONDAY)
    assert booking.status == "confirmed"  # the booking survived the failing adapter
    pending = world.sys.outbox.pending()
    assert pending and all(m.attempts >= 1 for m in pending if m.channel == "notification")
    notifier.failures = 0
    assert world.sys.outbox.dispatch() == 0  # backoff: not due yet
    world.advance(hours=1)
    delivered = world.sys.outbox.dispatch()
    assert delivered == len(pending) - sum(1 for m in pending if m.channel != "notification")
    stored = {n.id for n in world.sys.notifications.list(member.id)}
    assert stored <= set(notifier.sent)
    assert world.sys.outbox.pending() == []


def test_message_parks_as_failed_after_max_attempts_and_can_be_retried() -> None:
    clock = FixedClock(T0)
    notifier = FlakyNotifier(failures=10_000)
    world = World(coachcore.open("memory://", clock=clock, notifier=notifier), clock)
    world.member()
    world.coach()
    world.first_booking(MONDAY)
    for _ in range(12):
        world.advance(hours=12)
        world.sys.outbox.dispatch()
    failed = world.sys.outbox.failed()
    assert failed and all(m.last_error and "notifier down" in m.last_error for m in failed)
    notifier.failures = 0
    for message in failed:
        world.sys.outbox.retry(message.id)  # the memory store dispatches after commit
    world.sys.outbox.dispatch()
    assert world.sys.outbox.failed() == [] and world.sys.outbox.pending() == []
    assert {m.idempotency_key for m in failed} <= set(notifier.sent)


def test_reminders_go_out_once_per_session_and_kind(world: World) -> None:
    coach, member, booking = world.first_booking(MONDAY)  # session Monday 09:00, now Tuesday before
    session_at = world.core.acting_as(member.id).sessions.get(booking.session_id).scheduled_at
    assert world.sys.reminders.send_due() == 0
    world.clock.set(session_at - timedelta(hours=23))
    assert world.sys.reminders.send_due() == 1
    assert world.sys.reminders.send_due() == 0
    world.clock.set(session_at - timedelta(minutes=30))
    assert world.sys.reminders.send_due() == 1
    assert world.sys.reminders.send_due() == 0
    kinds = world.core.notifier.kinds_for(member.id)  # type: ignore[attr-defined]
    assert kinds.count("reminder_24h") == 1 and kinds.count("reminder_1h") == 1
    assert world.core.notifier.kinds_for(coach.id).count("reminder_1h") == 1  # type: ignore[attr-defined]


def test_cancelled_session_gets_no_reminder_and_reschedule_rearms(world: World) -> None:
    coach, _, booking = world.first_booking(MONDAY)
    scope = world.core.acting_as(coach.id).sessions
    session = scope.get(booking.session_id)
    new_time = session.scheduled_at + timedelta(days=7)
    scope.update(session.id, scheduled_at=new_time)
    world.clock.set(session.scheduled_at - timedelta(minutes=30))
    assert world.sys.reminders.send_due() == 0  # old time disarmed
    world.clock.set(new_time - timedelta(minutes=30))
    assert world.sys.reminders.send_due() == 1
    event = world.core.calendar.events[session.calendar_event_id]  # type: ignore[attr-defined]
    assert event.start == new_time and event.sequence == 1
    scope.cancel(session.id)
    assert world.core.calendar.events[session.calendar_event_id].status == "cancelled"  # type: ignore[attr-defined]


def test_session_booked_less_than_a_day_ahead_gets_only_the_hour_reminder(world: World) -> None:
    coach = world.coach()
    member = world.member(coach)
    world.window(coach, 2, "12:00", "13:00")  # today (Tuesday) 12:00, now 08:00
    start = world.slots(member, coach, date(2030, 1, 1))[0].start
    world.book(member, coach, start)
    world.clock.set(start - timedelta(minutes=59))
    assert world.sys.reminders.send_due() == 1
    kinds = world.core.notifier.kinds_for(member.id)  # type: ignore[attr-defined]
    assert "reminder_24h" not in kinds and kinds.count("reminder_1h") == 1


class Collector:
    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.notifier = FlakyNotifier(failures=0)

    @hookimpl
    def coachcore_broadcast(self, event: dict[str, Any]) -> None:
        self.events.append(event)

    @hookimpl
    def coachcore_notifier(self) -> Any:
        return self.notifier


def test_plugins_provide_adapters_and_receive_broadcasts() -> None:
    plugin = Collector()
    clock = FixedClock(T0)
    world = World(coachcore.open("memory://", clock=clock, plugins=[plugin]), clock)
    _, member, booking = world.first_booking(MONDAY)
    assert world.core.notifier is plugin.notifier
    assert any(n.kind == NotificationKind.BOOKING_CONFIRMED for n in plugin.notifier.sent.values())
    booked = [e for e in plugin.events if e["type"] == "slot_changed"]
    assert booked[-1]["change"] == "booked" and booked[-1]["available_capacity"] == 0
    world.core.acting_as(member.id).bookings.cancel(booking.id)
    assert plugin.events[-1]["change"] == "cancelled"


class _FlakyStore:
    """Wraps a store so that the first ``fail`` write units of work report a
    retryable database error at commit."""

    def __init__(self, inner: Any, fail: int, retryable: bool = True) -> None:
        self._inner, self.fail, self.retryable = inner, fail, retryable
        self.dispatch_on_commit = inner.dispatch_on_commit

    def unit_of_work(self, *, write: bool) -> Any:
        from contextlib import contextmanager

        from coachcore.errors import StoreError

        @contextmanager
        def run() -> Any:
            with self._inner.unit_of_work(write=write) as uow:
                if write and self.fail > 0:
                    self.fail -= 1
                    raise StoreError("busy", details={"retryable": self.retryable})
                yield uow

        return run()

    def close(self) -> None:
        self._inner.close()


def test_retryable_store_errors_rerun_the_use_case() -> None:
    from coachcore.errors import StoreError
    from coachcore.services.bootstrap import Core
    from coachcore.services.delivery.outbox import Deliveries

    core = coachcore.open("memory://", clock=FixedClock(T0))
    flaky = _FlakyStore(core.store, fail=2)
    deliveries = Deliveries(core.calendar, core.messaging, core.notifier, lambda event: None)
    retried = Core(flaky, core.clock, deliveries, core.roles)  # type: ignore[arg-type]
    user = retried.system.users.create(name="A", email="a@example.com", role="coach")
    assert flaky.fail == 0 and retried.system.users.get(user.id) == user
    flaky.fail, flaky.retryable = 1, False
    with pytest.raises(StoreError):
        retried.system.users.create(name="B", email="b@example.com", role="coach")
    assert retried.system.users.list(email="b@example.com") == []


class LateFailingNotifier:
    """Its first call outlives the lease: another dispatcher takes the message
    over and delivers it; then the first call fails."""

    def __init__(self, clock: FixedClock) -> None:
        self.clock = clock
        self.core: Any = None
        self.delivered: list[str] = []
        self.calls = 0

    def send(self, notification: Notification) -> None:
        self.calls += 1
        if self.calls == 1:
            self.clock.advance(timedelta(minutes=6))  # past the 5-minute lease
            self.core.system.outbox.dispatch()  # the next dispatcher delivers it
            raise RuntimeError("the first attempt failed after losing its lease")
        self.delivered.append(notification.id)


def test_a_dispatcher_that_lost_its_lease_does_not_undo_the_new_owners_delivery(
    backend: Backend,
) -> None:
    clock = FixedClock(T0)
    notifier = LateFailingNotifier(clock)
    core = backend.open(clock, notifier=notifier)
    notifier.core = core
    coach = core.system.users.create(name="C", email="c@example.com", role=Role.COACH)
    member = core.system.signup_member(name="M", email="m@example.com", coach_id=coach.id)
    core.system.outbox.dispatch()
    clock.advance(timedelta(hours=1))
    core.system.outbox.dispatch()
    assert core.system.outbox.pending() == [] and core.system.outbox.failed() == []
    sent = notifier.delivered
    assert len(sent) == len(set(sent))  # nothing delivered twice
    stored = {n.id for n in core.acting_as(member.id).notifications.list()}
    assert stored <= set(sent)
