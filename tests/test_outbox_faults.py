"""The outbox under faults: a flaky notifier, dispatchers dying mid-batch, and
bookings killed before COMMIT.

* A notifier failing 30 % of its calls at random over 1,000 notifications:
  after repeated ``dispatch()`` calls (the clock moved past the backoff, parked
  messages retried) nothing is lost and nothing is delivered twice.
* A dispatcher that dies mid-batch (an in-process ``BaseException`` on every
  store; a process killed with SIGKILL on SQLite and PostgreSQL): the next
  dispatcher leaves its leased messages alone until the lease ends, then
  delivers the rest. Only the one the dead one was delivering (sent, not yet
  recorded) comes again, once (the idempotency key lets the adapter drop it).
* A batch whose deliveries outlive its lease: the dispatcher stops there, so
  the one that took the rest over is the only one delivering it.
* A booking process killed with SIGKILL at statements spread over its
  transaction, or just before COMMIT, leaves no row behind: no booking, session, reminder,
  notification or outbox message.

Children are forked (spawned off Linux), open their own core on the database
URL and report through files and queues; SIGKILL gives them no chance to
clean up, so the database has to.
"""

from __future__ import annotations

import multiprocessing
import os
import random
import signal
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event

import coachcore
from backends import T0, Backend, SqlBackend
from coachcore import Role
from coachcore.adapters.clock import FixedClock
from coachcore.domain.entities import Notification
from coachcore.domain.enums import OutboxChannel
from coachcore.services.delivery.outbox import Dispatcher

WEDNESDAY_9 = datetime(2030, 1, 2, 9, 0, tzinfo=UTC)  # T0 is Tuesday 08:00
DAY_BEFORE = WEDNESDAY_9 - timedelta(hours=21)  # the 24 h reminders are due
HOUR_BEFORE = WEDNESDAY_9 - timedelta(minutes=30)  # the 1 h reminders are due
DEFAULT_BATCH = Dispatcher.__attrs_attrs__.batch.default  # type: ignore[attr-defined]
LEASE = Dispatcher.__attrs_attrs__.lease.default  # type: ignore[attr-defined]
B_BATCH = 50
MAX_BACKOFF = timedelta(minutes=10)  # longer than 5 s * 2**6, the last backoff before parking
FAILURE_RATE = 0.3
SEED = 20300101


def _context() -> Any:
    """fork where the platform has it (fast), spawn elsewhere."""
    method = "fork" if sys.platform.startswith("linux") else "spawn"
    return multiprocessing.get_context(method)


@contextmanager
def deferred_delivery(core: coachcore.Core) -> Iterator[None]:
    """Write without dispatching after each commit (the SQL backends share their
    store between tests, so the setting is restored)."""
    store: Any = core.store
    before = store.dispatch_on_commit
    store.dispatch_on_commit = False
    try:
        yield
    finally:
        store.dispatch_on_commit = before


def populate(core: coachcore.Core, clock: FixedClock, members: int, reminders: bool) -> list[str]:
    """A coach and ``members`` members booked into Wednesday 09:00; returns the user ids.

    Each member brings 4 notifications (member_assigned to the coach, two
    session_created, booking_confirmed) and 4 outbox messages on other channels;
    ``reminders`` adds 4 more notifications each (24 h and 1 h, coach and
    member), sent at ``DAY_BEFORE`` and ``HOUR_BEFORE`` (the clock is left there).
    """
    coach = core.system.users.create(name="Cleo", email="cleo@example.com", role=Role.COACH)
    core.system.coaches.update(coach.id, max_members=1000)
    core.acting_as(coach.id).availability.create(
        day_of_week=3,
        start_time="09:00",
        end_time="10:00",
        max_sessions_per_slot=1000,
        buffer_minutes=0,
    )
    ids = [coach.id]
    for i in range(members):
        member = core.system.signup_member(
            name=f"Member {i}", email=f"m{i}@example.com", coach_id=coach.id
        )
        core.acting_as(member.id).bookings.create(coach_id=coach.id, start=WEDNESDAY_9)
        ids.append(member.id)
    if reminders:
        clock.set(DAY_BEFORE)
        assert core.system.reminders.send_due() == members
        clock.set(HOUR_BEFORE)
        assert core.system.reminders.send_due() == members
    return ids


def stored_notifications(core: coachcore.Core, user_ids: list[str]) -> set[str]:
    """The ids (idempotency keys) of every notification stored for these users."""
    return {n.id for uid in user_ids for n in core.system.notifications.list(uid)}


def undelivered(core: coachcore.Core) -> dict[str, datetime | None]:
    """Notification messages not delivered yet: idempotency key -> lease end."""
    return {
        m.idempotency_key: m.claimed_until
        for m in core.system.outbox.pending()
        if m.channel == OutboxChannel.NOTIFICATION
    }


# -- a notifier failing 30 % of the calls ------------------------------------------------


class FlakyNotifier:
    """Fails a seeded 30 % of its calls; keeps how often each key got through."""

    def __init__(self, seed: int, rate: float) -> None:
        self._random = random.Random(seed)
        self.rate = rate
        self.calls = 0
        self.failures = 0
        self.got: Counter[str] = Counter()
        self._lock = threading.Lock()

    def send(self, notification: Notification) -> None:
        with self._lock:
            self.calls += 1
            if self._random.random() < self.rate:
                self.failures += 1
                raise ConnectionError("notifier unreachable")
            self.got[notification.id] += 1


def test_flaky_notifier_loses_nothing_and_repeats_nothing(backend: Backend) -> None:
    clock = FixedClock(T0)
    notifier = FlakyNotifier(SEED, FAILURE_RATE)
    core = backend.open(clock, notifier=notifier)
    with deferred_delivery(core):
        users = populate(core, clock, members=125, reminders=True)
    expected = stored_notifications(core, users)
    assert len(expected) == 1000

    parked = 0
    for _ in range(20):
        if not core.system.outbox.pending() and not core.system.outbox.failed():
            break
        clock.advance(MAX_BACKOFF)
        core.system.outbox.dispatch()
        assert [k for k, n in notifier.got.items() if n > 1] == [], "delivered twice"
        calls = notifier.calls
        assert core.system.outbox.dispatch() == 0  # what failed now waits for its backoff
        assert notifier.calls == calls
        for message in core.system.outbox.failed():  # parked after max_attempts: an operator
            parked += 1
            core.system.outbox.retry(message.id)
    assert core.system.outbox.pending() == [] and core.system.outbox.failed() == []

    assert set(notifier.got) == expected, "lost notifications"
    assert [k for k, n in notifier.got.items() if n > 1] == [], "delivered twice"
    assert 0.2 < notifier.failures / notifier.calls < 0.4
    assert parked <= 5


# -- a dispatcher dying mid-batch ---------------------------------------------------------

#: Runs one dispatcher at ``at``: it dies right after its ``stop_after``-th
#: notification (never if None), claiming ``batch`` messages at a time. Returns
#: the idempotency keys it delivered, in order, and whether it died.
Run = Callable[[datetime, int | None, int], tuple[list[str], bool]]


def hand_over(core: coachcore.Core, users: list[str], run: Run) -> None:
    """Dispatcher A (one message per batch) dies after its 10th notification,
    B (50 per batch) dies after its 75th, in its third batch, at the same
    instant; C runs once the leases have ended. Each records its deliveries as
    they complete: only the one a dead dispatcher was delivering comes twice."""
    keys = stored_notifications(core, users)
    assert set(undelivered(core)) == keys and len(keys) >= 120

    log_a, died = run(T0, 10, 1)
    assert died and len(log_a) == 10
    left = undelivered(core)
    in_flight_a = {k for k in log_a if k in left}
    assert in_flight_a == {log_a[-1]}, "A recorded every delivery but the one in flight"
    assert left[log_a[-1]] is not None and left[log_a[-1]] > T0  # still leased

    log_b, died = run(T0, 75, B_BATCH)
    assert died and len(log_b) == 75
    assert not set(log_b) & set(log_a), "B took over a leased or a delivered message"
    left = undelivered(core)
    in_flight_b = {k for k in log_b if k in left}
    assert in_flight_b == {log_b[-1]}, "B recorded every delivery but the one in flight"
    assert all(left[k] is not None and left[k] > T0 for k in in_flight_b)  # type: ignore[operator]

    log_c, died = run(T0 + LEASE + timedelta(seconds=1), None, DEFAULT_BATCH)
    assert not died
    got = Counter(log_a + log_b + log_c)
    assert set(got) == keys, "lost notifications"
    assert {k for k, n in got.items() if n > 1} == in_flight_a | in_flight_b
    assert max(got.values()) == 2
    assert core.system.outbox.pending() == [] and core.system.outbox.failed() == []


class Died(BaseException):
    """Stands for the process ending mid-call (like KeyboardInterrupt or SystemExit)."""


class DyingNotifier:
    """Records each key, then raises ``Died`` right after the ``stop_after``-th."""

    def __init__(self) -> None:
        self.log: list[str] = []
        self.stop_after: int | None = None

    def send(self, notification: Notification) -> None:
        self.log.append(notification.id)
        if len(self.log) == self.stop_after:
            raise Died


def test_dispatcher_interrupted_mid_batch_hands_over_after_the_lease(backend: Backend) -> None:
    clock = FixedClock(T0)
    notifier = DyingNotifier()
    core = backend.open(clock, notifier=notifier)
    with deferred_delivery(core):
        users = populate(core, clock, members=30, reminders=False)

    def run(at: datetime, stop_after: int | None, batch: int) -> tuple[list[str], bool]:
        clock.set(at)
        notifier.log, notifier.stop_after = [], stop_after
        core.dispatcher.batch = batch
        try:
            core.system.outbox.dispatch()
        except Died:
            return notifier.log, True
        finally:
            core.dispatcher.batch = DEFAULT_BATCH
        return notifier.log, False

    hand_over(core, users, run)


class SlowNotifier:
    """Records (dispatcher, key); its ``slow_at``-th call outlives the lease, and
    meanwhile a second dispatcher (cron on another host) runs."""

    def __init__(self, clock: FixedClock, slow_at: int) -> None:
        self.clock, self.slow_at = clock, slow_at
        self.log: list[tuple[str, str]] = []
        self.dispatcher = "A"
        self.other: Callable[[], int] = lambda: 0

    def send(self, notification: Notification) -> None:
        self.log.append((self.dispatcher, notification.id))
        if len(self.log) == self.slow_at:
            self.clock.advance(LEASE + timedelta(minutes=1))
            self.dispatcher = "B"
            self.other()
            self.dispatcher = "A"


def test_a_batch_outliving_its_lease_is_not_delivered_twice(backend: Backend) -> None:
    """B takes over A's batch once its lease has ended; A stops there. A recorded
    each delivery as it completed: only the one in flight during the takeover
    comes again."""
    clock = FixedClock(T0)
    notifier = SlowNotifier(clock, slow_at=3)
    core = backend.open(clock, notifier=notifier)
    with deferred_delivery(core):
        users = populate(core, clock, members=10, reminders=False)
    notifier.other = core.system.outbox.dispatch
    core.system.outbox.dispatch()

    got = Counter(key for _, key in notifier.log)
    assert set(got) == stored_notifications(core, users)
    in_flight = notifier.log[2][1]
    assert {key for key, n in got.items() if n > 1} == {in_flight}
    assert [who for who, _ in notifier.log[3:]] == ["B"] * (len(notifier.log) - 3), (
        "A delivered messages after its lease had ended"
    )
    assert core.system.outbox.pending() == [] and core.system.outbox.failed() == []


class KeyLog:
    """A notifier appending each key to a file (fsynced) that SIGKILLs its own
    process right after the ``stop_after``-th delivery."""

    def __init__(self, path: str, stop_after: int | None) -> None:
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self.stop_after = stop_after
        self.count = 0

    def send(self, notification: Notification) -> None:
        os.write(self._fd, f"{notification.id}\n".encode())
        os.fsync(self._fd)
        self.count += 1
        if self.count == self.stop_after:
            os.kill(os.getpid(), signal.SIGKILL)


def _dispatch_in_child(
    url: str, at: datetime, log: str, stop_after: int | None, batch: int
) -> None:
    core = coachcore.open(url, clock=FixedClock(at), notifier=KeyLog(log, stop_after))
    core.dispatcher.batch = batch
    core.system.outbox.dispatch()
    core.close()


def test_dispatcher_process_killed_mid_batch_hands_over_after_the_lease(
    sql_backend: SqlBackend, tmp_path: Path
) -> None:
    clock = FixedClock(T0)
    core = sql_backend.open(clock)
    with deferred_delivery(core):
        users = populate(core, clock, members=30, reminders=False)
    ctx, runs = _context(), iter(range(100))

    def run(at: datetime, stop_after: int | None, batch: int) -> tuple[list[str], bool]:
        log = tmp_path / f"dispatcher-{next(runs)}.log"
        args = (sql_backend.url(), at, str(log), stop_after, batch)
        child = ctx.Process(target=_dispatch_in_child, args=args)
        child.start()
        child.join(timeout=120)
        assert child.exitcode in (0, -signal.SIGKILL), f"dispatcher exit code {child.exitcode}"
        keys = log.read_text().split() if log.exists() else []
        return keys, child.exitcode == -signal.SIGKILL

    hand_over(core, users, run)


# -- a booking killed before COMMIT ------------------------------------------------------


def _book_in_child(
    url: str, member_id: str, coach_id: str, kill_at: int | None, results: Any
) -> None:
    """Book, counting the statements of the booking's transaction; SIGKILL this
    process before statement ``kill_at`` (0: before COMMIT; None: let it commit
    and report how many statements it ran)."""
    core = coachcore.open(url, clock=FixedClock(T0))
    engine: Any = core.store.bind  # type: ignore[attr-defined]
    state = {"armed": False, "statements": 0}

    def before_statement(*_: Any) -> None:
        if state["armed"]:
            state["statements"] += 1
            if state["statements"] == kill_at:
                os.kill(os.getpid(), signal.SIGKILL)

    def before_commit(_: Any) -> None:
        if state["armed"]:
            if kill_at == 0:
                os.kill(os.getpid(), signal.SIGKILL)
            state["armed"] = False
            results.put(state["statements"])

    event.listen(engine, "before_cursor_execute", before_statement)
    event.listen(engine, "commit", before_commit)
    state["armed"] = True
    try:
        core.acting_as(member_id).bookings.create(coach_id=coach_id, start=WEDNESDAY_9)
    except Exception as exc:  # reported; the test fails on it
        results.put(f"{type(exc).__name__}: {exc}")
    core.close()


def row_counts(backend: SqlBackend) -> dict[str, int]:
    with backend.engine.connect() as conn:
        return {
            t.name: int(conn.scalar(sa.select(sa.func.count()).select_from(t)) or 0)
            for t in backend.store.tables.all()
        }


def test_booking_killed_before_commit_leaves_no_side_effect_rows(sql_backend: SqlBackend) -> None:
    core = sql_backend.open()
    coach = core.system.users.create(name="Cleo", email="cleo@example.com", role=Role.COACH)
    core.acting_as(coach.id).availability.create(
        day_of_week=3, start_time="09:00", end_time="10:00", max_sessions_per_slot=20
    )
    members = [
        core.system.signup_member(name=f"M{i}", email=f"m{i}@example.com", coach_id=coach.id).id
        for i in range(10)
    ]
    ctx = _context()
    results = ctx.Queue()

    def book(member_id: str, kill_at: int | None) -> int | None:
        args = (sql_backend.url(), member_id, coach.id, kill_at, results)
        child = ctx.Process(target=_book_in_child, args=args)
        child.start()
        child.join(timeout=120)
        if kill_at is None:
            assert child.exitcode == 0
            reported = results.get(timeout=10)
            assert isinstance(reported, int), reported
            return reported
        assert child.exitcode == -signal.SIGKILL, f"booking exit code {child.exitcode}"
        return None

    before = row_counts(sql_backend)
    statements = book(members[0], None)  # a whole booking, for reference
    assert statements is not None and statements > 5
    after = row_counts(sql_backend)
    one_booking = {t: after[t] - before[t] for t in after if after[t] != before[t]}
    side_effects = ("bookings", "sessions", "reminders", "notifications", "outbox")
    assert all(any(t.endswith(name) for t in one_booking) for name in side_effects), one_booking

    kill_points = sorted({1, 2, statements // 3, statements // 2, statements - 1, statements})
    for member_id, kill_at in zip(members[1:], [*kill_points, 0], strict=False):
        before = row_counts(sql_backend)
        book(member_id, kill_at)
        assert row_counts(sql_backend) == before, f"killed at statement {kill_at or 'COMMIT'}"
        assert core.acting_as(member_id).bookings.list() == []

    # the killed transactions held no lock and left nothing: the same member books at once
    before = row_counts(sql_backend)
    core.acting_as(members[1]).bookings.create(coach_id=coach.id, start=WEDNESDAY_9)
    after = row_counts(sql_backend)
    assert {t: after[t] - before[t] for t in after if after[t] != before[t]} == one_booking
