"""``reminders.send_due()`` from several processes at once sends each reminder once.

Six worker processes open their own core on the same SQLite file or
PostgreSQL database. At each of three instants they meet at a barrier and all
run ``core.system.reminders.send_due()`` (which dispatches the outbox after
its commit, so six dispatchers race too). Over 60 sessions in three slots,
some cancelled and some completed, every (session, kind) the schedule calls
for is sent exactly once in total: one reminder row claimed, one notification
to the coach and one to the member, each delivered once by idempotency key;
cancelled and completed sessions get none, and a 24 h reminder caught up by
its 1 h one, or a reminder for a session already started, is dropped.
"""

from __future__ import annotations

import multiprocessing
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

import coachcore
from backends import T0, SqlBackend
from coachcore import Role
from coachcore.adapters.clock import FixedClock
from coachcore.domain.entities import Notification

WORKERS = 6
MEMBERS = 60
SLOTS = [datetime(2030, 1, 2, hour, tzinfo=UTC) for hour in (9, 10, 11)]  # Wednesday
#: Tuesday 10:30: the 24 h reminders of 09:00 and 10:00 are due;
#: Wednesday 08:15: 09:00's 1 h reminder, 11:00's 24 h one (late but before its 1 h one);
#: Wednesday 10:20: 11:00's 1 h reminder; 10:00 has started, its 1 h one is dropped.
ROUNDS = [
    datetime(2030, 1, 1, 10, 30, tzinfo=UTC),
    datetime(2030, 1, 2, 8, 15, tzinfo=UTC),
    datetime(2030, 1, 2, 10, 20, tzinfo=UTC),
]
LEADS = {"reminder_24h": timedelta(hours=24), "reminder_1h": timedelta(hours=1)}
GRACE = {"reminder_24h": timedelta(hours=1), "reminder_1h": timedelta(0)}


def expected_reminders(start: datetime) -> dict[str, int]:
    """kind -> the round that sends it, for a scheduled session booked at T0.

    A reminder is armed if due after the booking; the first round at or after
    its due time settles it: sent if before its deadline (the next shorter
    reminder's due time, or the start), dropped otherwise."""
    sent = {}
    for kind, lead in LEADS.items():
        due = start - lead
        if due <= T0:
            continue
        first = next((i for i, at in enumerate(ROUNDS) if at >= due), None)
        if first is not None and ROUNDS[first] < start - GRACE[kind]:
            sent[kind] = first
    return sent


class Recorder:
    """Every notification this process delivered, repeats included."""

    def __init__(self) -> None:
        self.keys: list[str] = []

    def send(self, notification: Notification) -> None:
        self.keys.append(notification.id)


def _worker(url: str, barrier: Any, results: Any) -> None:
    """Per round: wait for the others, send what is due, report (round, sent, delivered)."""
    try:
        clock = FixedClock(ROUNDS[0])
        recorder = Recorder()
        core = coachcore.open(url, clock=clock, notifier=recorder)
        for i, at in enumerate(ROUNDS):
            clock.set(at)
            barrier.wait(timeout=120)
            sent = core.system.reminders.send_due()  # dispatches after its commit
            results.put((i, sent, recorder.keys))
            recorder.keys = []
        core.close()
    except Exception as exc:  # reported; the test fails on it
        barrier.abort()
        results.put((-1, 0, [f"{type(exc).__name__}: {exc}"]))


@contextmanager
def deferred_delivery(core: coachcore.Core) -> Iterator[None]:
    """Write without dispatching after each commit (restored: the store is shared)."""
    store: Any = core.store
    before = store.dispatch_on_commit
    store.dispatch_on_commit = False
    try:
        yield
    finally:
        store.dispatch_on_commit = before


def book_sessions(core: coachcore.Core) -> tuple[str, dict[str, datetime], set[str]]:
    """``MEMBERS`` sessions over ``SLOTS``; every 7th cancelled, every 11th completed.
    Returns the coach id, the scheduled sessions' starts and the others' ids."""
    coach = core.system.users.create(name="Cleo", email="cleo@example.com", role=Role.COACH)
    core.system.coaches.update(coach.id, max_members=1000)
    core.acting_as(coach.id).availability.create(
        day_of_week=3,
        start_time="09:00",
        end_time="12:00",
        max_sessions_per_slot=100,
        buffer_minutes=0,
    )
    scheduled: dict[str, datetime] = {}
    gone: set[str] = set()
    for i in range(MEMBERS):
        member = core.system.signup_member(
            name=f"Member {i}", email=f"m{i}@example.com", coach_id=coach.id
        )
        start = SLOTS[i % len(SLOTS)]
        booking = core.acting_as(member.id).bookings.create(coach_id=coach.id, start=start)
        sid = booking.session_id
        assert sid is not None
        if i % 7 == 3:
            core.acting_as(member.id).sessions.cancel(sid)
            gone.add(sid)
        elif i % 11 == 5:
            core.acting_as(coach.id).sessions.complete(sid)
            gone.add(sid)
        else:
            scheduled[sid] = start
    return coach.id, scheduled, gone


def test_concurrent_send_due_sends_each_reminder_once(sql_backend: SqlBackend) -> None:
    core = sql_backend.open(FixedClock(T0))
    with deferred_delivery(core):  # the workers deliver the booking notifications too
        _, scheduled, gone = book_sessions(core)
    plan = {
        (sid, kind): i
        for sid, at in scheduled.items()
        for kind, i in expected_reminders(at).items()
    }
    per_round = Counter(plan.values())
    assert all(per_round[i] > 0 for i in range(len(ROUNDS)))  # every round has work

    method = "fork" if sys.platform.startswith("linux") else "spawn"
    ctx = multiprocessing.get_context(method)
    barrier, results = ctx.Barrier(WORKERS), ctx.Queue()
    procs = [
        ctx.Process(target=_worker, args=(sql_backend.url(), barrier, results))
        for _ in range(WORKERS)
    ]
    for p in procs:
        p.start()
    reports = [results.get(timeout=120) for _ in range(WORKERS * len(ROUNDS))]
    for p in procs:
        p.join(timeout=30)
    assert [r for r in reports if r[0] < 0] == []
    assert [p.exitcode for p in procs] == [0] * WORKERS

    sent = Counter[int]()
    for i, n, _ in reports:
        sent[i] += n
    assert [sent[i] for i in range(len(ROUNDS))] == [per_round[i] for i in range(len(ROUNDS))]

    t = sql_backend.store.tables
    with sql_backend.engine.connect() as conn:
        reminders = conn.execute(
            sa.select(t.reminders.c.session_id, t.reminders.c.kind, t.reminders.c.status)
        ).all()
        notes = conn.execute(
            sa.select(
                t.notifications.c.id,
                t.notifications.c.session_id,
                t.notifications.c.kind,
                t.notifications.c.recipient_id,
            ).where(t.notifications.c.kind.in_(list(LEADS)))
        ).all()
        outbox = conn.execute(sa.select(t.outbox.c.idempotency_key, t.outbox.c.status)).all()
        all_notes = set(conn.scalars(sa.select(t.notifications.c.id)))

    claimed = Counter((sid, kind) for sid, kind, status in reminders if status == "sent")
    assert claimed == Counter(plan.keys())
    assert all(status == "cancelled" for sid, _, status in reminders if sid in gone)
    told = Counter((sid, kind) for _, sid, kind, _ in notes)
    assert told == Counter({key: 2 for key in plan})  # the coach and the member, once each
    assert len({(sid, kind, to) for _, sid, kind, to in notes}) == len(notes)
    assert not {sid for _, sid, _, _ in notes} & gone

    status = dict(outbox)
    assert len(status) == len(outbox)
    assert all(status[nid] == "delivered" for nid, _, _, _ in notes)
    delivered = Counter(key for _, _, keys in reports for key in keys)
    assert set(delivered) == all_notes  # the booking notifications too: six dispatchers raced
    assert [k for k, n in delivered.items() if n > 1] == [], "delivered twice"
