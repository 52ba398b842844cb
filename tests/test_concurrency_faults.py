"""The concurrency harness under faults: it must see an unprotected store, and a
worker killed in the middle of a booking must leave nothing behind.

Same workload and checker as ``test_concurrency.py`` (fork workers, a barrier,
every outcome reported), with one change made *inside the worker processes only*
(``pytest.MonkeyPatch`` in the child, never in ``src/``):

- ``naive``: the store's protection is taken away, so a booking becomes
  "count, then insert" (no per-coach advisory lock on PostgreSQL; on SQLite,
  write units of work begin with a deferred ``BEGIN`` instead of ``BEGIN
  IMMEDIATE``). The checker has to report it.
- ``kill``: a quarter of the workers SIGKILL themselves inside the unit of
  work's ``commit``, after the booking's rows were written and before the
  COMMIT reaches the database, while holding the coach's advisory lock
  (PostgreSQL) or the write lock (SQLite). The database is then checked as a
  whole.

Workers report through one append-only file each (``os.write``, unbuffered), so
what a worker wrote before it was killed is not lost with it.
"""

from __future__ import annotations

import json
import os
import random
import signal
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

import coachcore
import test_concurrency
from backends import T0
from coachcore.adapters.clock import FixedClock
from coachcore.errors import SlotFull
from test_concurrency import (
    MONDAY,
    OK,
    WINDOWS,
    WORKERS,
    _context,
    book_once,
    database_counts,
    setup_coach,
    slot_problems,
)

# The harness's fixture: (URL, a core over it) for an empty SQLite file or PostgreSQL
# database of the session's pool, which every worker process can open.
shared_db = test_concurrency.shared_db

TUESDAY = MONDAY + timedelta(days=1)
# Tuesday 08:00-20:00, 30-min slots, 2 seats, 15-min buffer: in each round HH:00 and
# HH:30 exclude each other (even workers book HH:00, odd ones HH:30).
BUFFER_WINDOW = (8, 20, 2, 15)
ROUNDS = (8, 11)
WEDNESDAY_8 = MONDAY + timedelta(days=2, hours=8)  # one slot with a seat for every worker
# Slots per Monday window (of the capacity test's WINDOWS) in each run, few enough to
# keep the whole file well under a minute on two busy cores: the negative control
# books two 1-seat slots; the kill run one slot of each size (1, 2 and 3 seats).
NAIVE_SLOTS, KILL_SLOTS = {8: 2}, {8: 1, 13: 1, 17: 1}
# Workers of the kill run on either backend (a quarter of them killed): the harness's
# 32 on PostgreSQL would double this file's longest run and test nothing more.
KILL_WORKERS = 16
DEADLINE = 120.0  # seconds for all workers of one run; more means someone is wedged
Job = tuple[str, list[tuple[datetime, int]]]  # (member id, attempts (start, minutes))


class _Log:
    """One JSON line per record, appended with ``os.write``: in the file once written,
    whatever happens to the process afterwards."""

    def __init__(self, path: str) -> None:
        self.fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)

    def __call__(self, *fields: str) -> None:
        os.write(self.fd, (json.dumps(fields) + "\n").encode())


NAIVE_COMMIT_DELAY = 0.02
"""Seconds the naive workers wait between their decision and COMMIT."""


def _go_naive(mp: pytest.MonkeyPatch) -> None:
    """Take the store's serialisation away in this process: booking is count-then-insert."""
    from coachcore.adapters.sqlalchemy.engines import BEGIN_OPTION
    from coachcore.adapters.sqlalchemy.store import SqlStore
    from coachcore.adapters.sqlalchemy.uow import SqlUnitOfWork

    options = SqlStore._options

    def no_lock(self: SqlUnitOfWork, coach_id: str) -> None:
        """No pg_advisory_xact_lock: concurrent decisions read the same counts."""

    def deferred(self: SqlStore, write: bool) -> dict[str, Any]:
        chosen = dict(options(self, write))
        if BEGIN_OPTION in chosen:  # SQLite: plain BEGIN, the write lock taken late
            chosen[BEGIN_OPTION] = "DEFERRED"
        return chosen

    commit = SqlUnitOfWork.commit

    def slow_commit(self: SqlUnitOfWork) -> None:
        """A transaction as slow as one over a network: the others count meanwhile
        (the store's own writes are too quick on an idle machine to race every time)."""
        time.sleep(NAIVE_COMMIT_DELAY)
        commit(self)

    mp.setattr(SqlUnitOfWork, "lock_coach", no_lock)
    mp.setattr(SqlUnitOfWork, "commit", slow_commit)
    mp.setattr(SqlStore, "_options", deferred)


class _Killer:
    """SIGKILLs this process in ``SqlUnitOfWork.commit`` before the real COMMIT.

    Armed from the worker's 2nd attempt on (the 1st one has committed), it fires at
    the first commit that carries a confirmed booking: its session, calendar event,
    reminders and outbox rows are written, the coach's lock is held. Every worker
    books one slot with a seat for everybody, so each killer gets there. The
    booking in flight is logged first, so the test can look for its remains.
    """

    def __init__(self, log: _Log) -> None:
        self.log = log
        self.armed = False
        self.pending: list[Any] = []  # bookings added in the current unit of work

    def install(self, mp: pytest.MonkeyPatch) -> None:
        from coachcore.adapters.sqlalchemy.queries import Bookings
        from coachcore.adapters.sqlalchemy.uow import SqlUnitOfWork

        add, commit, end = Bookings.add, SqlUnitOfWork.commit, SqlUnitOfWork.end

        def add_booking(repo: Bookings, booking: Any) -> None:
            add(repo, booking)
            self.pending.append(booking)

        def die_if_due() -> None:
            if self.armed and self.pending:
                booking = self.pending[-1]
                if booking.status == "confirmed":
                    start = booking.start.isoformat()
                    self.log(
                        "killed", start, str(booking.status), booking.id, booking.session_id or ""
                    )
                    os.kill(os.getpid(), signal.SIGKILL)
            self.pending.clear()

        def commit_or_die(uow: SqlUnitOfWork) -> None:
            die_if_due()
            commit(uow)

        def end_clearing(uow: SqlUnitOfWork) -> None:
            self.pending.clear()
            end(uow)

        mp.setattr(Bookings, "add", add_booking)
        mp.setattr(SqlUnitOfWork, "commit", commit_or_die)
        mp.setattr(SqlUnitOfWork, "end", end_clearing)


def shuffled(attempts: list[tuple[datetime, int]], seed: int) -> list[tuple[datetime, int]]:
    """The worker's booking order (seeded: the same on every run)."""
    order = list(attempts)
    random.Random(seed).shuffle(order)
    return order


def _worker(
    url: str,
    coach_id: str,
    member_id: str,
    attempts: list[tuple[datetime, int]],
    seed: int,
    barrier: Any,
    log_path: str,
    fault: str | None,
) -> None:
    """Book every attempt in a random order (like test_concurrency's worker), with
    ``fault`` applied in this process; log each outcome as it happens."""
    log = _Log(log_path)
    try:
        mp = pytest.MonkeyPatch()
        killer = _Killer(log) if fault == "kill" else None
        if fault == "naive":
            _go_naive(mp)
        if killer is not None:
            killer.install(mp)
        core = coachcore.open(url, clock=FixedClock(T0))
        scope = core.acting_as(member_id)
        barrier.wait(timeout=60)
        for i, (start, duration) in enumerate(shuffled(attempts, seed)):
            if killer is not None:
                killer.armed = i >= 1
            log("outcome", *book_once(scope, coach_id, start, duration))
        core.close()
    except Exception as exc:  # reported, and the test fails on it
        log("worker", f"{type(exc).__name__}: {exc}")


@dataclass
class Run:
    """What the workers of one run reported, and how they ended."""

    outcomes: dict[int, list[tuple[str, str]]] = field(default_factory=dict)
    killed: dict[int, list[str]] = field(default_factory=dict)  # start, status, booking, session
    errors: list[str] = field(default_factory=list)  # worker crashes, wedged workers
    exitcodes: dict[int, int | None] = field(default_factory=dict)
    elapsed: float = 0.0

    def all_outcomes(self) -> list[tuple[str, str]]:
        return [o for outcomes in self.outcomes.values() for o in outcomes]


def run_workers(
    url: str, coach_id: str, jobs: list[Job], log_dir: Path, fault: Callable[[int], str | None]
) -> Run:
    """One process per job (``fault(i)`` applied in process i); waits for all of them
    up to DEADLINE, then kills the stragglers and reports them as wedged."""
    ctx = _context()
    barrier = ctx.Barrier(len(jobs))
    logs = [log_dir / f"worker-{i}.jsonl" for i in range(len(jobs))]
    procs = [
        ctx.Process(
            target=_worker,
            args=(url, coach_id, member, attempts, i, barrier, str(logs[i]), fault(i)),
        )
        for i, (member, attempts) in enumerate(jobs)
    ]
    started = time.perf_counter()
    for p in procs:
        p.start()
    deadline = time.monotonic() + DEADLINE
    for p in procs:
        p.join(timeout=max(0.1, deadline - time.monotonic()))
    run = Run(elapsed=time.perf_counter() - started)
    for i, p in enumerate(procs):
        if p.is_alive():
            run.errors.append(f"worker {i} still running after {DEADLINE:.0f} s (wedged)")
            p.kill()
            p.join(timeout=10)
        run.exitcodes[i] = p.exitcode
        run.outcomes[i] = []
        text = logs[i].read_text() if logs[i].exists() else ""
        for line in text.splitlines():
            kind, *rest = json.loads(line)
            if kind == "outcome":
                run.outcomes[i].append((rest[0], rest[1]))
            elif kind == "killed":
                run.killed[i] = rest
            else:
                run.errors.append(f"worker {i}: {rest[0]}")
    return run


def _monday_seats(slots: dict[int, int]) -> dict[datetime, int]:
    """start -> seats of the first ``slots[h]`` slots of the Monday window starting at h."""
    return {
        MONDAY + timedelta(hours=hour): cap
        for start, end, cap in WINDOWS
        for hour in range(start, end)[: slots.get(start, 0)]
    }


def _rows(url: str) -> dict[str, list[dict[str, Any]]]:
    """Every row of the tables a booking writes, read in one snapshot."""
    from coachcore.adapters.sqlalchemy import build_tables, create_store_engine

    t = build_tables()
    names = (
        "bookings",
        "sessions",
        "calendar_events",
        "reminders",
        "notifications",
        "outbox",
        "availability_windows",
    )
    engine = create_store_engine(url)
    try:
        with engine.connect() as conn:
            return {
                name: [dict(r) for r in conn.execute(sa.select(getattr(t, name))).mappings()]
                for name in names
            }
    finally:
        engine.dispose()


def confirmed_per_start(url: str) -> Counter[str]:
    rows = _rows(url)["bookings"]
    return Counter(b["start"].isoformat() for b in rows if b["status"] == "confirmed")


def database_problems(rows: dict[str, list[dict[str, Any]]]) -> list[str]:
    """Half-written or orphaned booking data, and broken buffers, in the whole database."""
    problems: list[str] = []
    bookings, sessions = rows["bookings"], rows["sessions"]
    session_by_id = {s["id"]: s for s in sessions}
    booking_ids = {b["id"] for b in bookings}
    bookings_of_session = Counter(b["session_id"] for b in bookings if b["session_id"])
    outbox = [(m["channel"], m["payload"], m["idempotency_key"]) for m in rows["outbox"]]
    notes = [p for channel, p, _ in outbox if channel == "notification"]

    def messages(kind: str, **match: str) -> int:
        wanted = {"kind": kind, **match}
        return sum(1 for p in notes if all(p[k] == v for k, v in wanted.items()))

    for b in bookings:
        what = f"{b['status']} booking {b['id']} at {b['start'].isoformat()}"
        if b["status"] == "confirmed":
            s = session_by_id.get(b["session_id"])
            if s is None:
                problems.append(f"{what}: its session {b['session_id']} is missing")
                continue
            mine = (s["status"], s["coach_id"], s["member_id"], s["scheduled_at"], s["duration"])
            if mine != ("scheduled", b["coach_id"], b["member_id"], b["start"], b["duration"]):
                problems.append(f"{what}: session {s['id']} does not match it: {mine}")
            if messages("booking_confirmed", booking_id=b["id"], session_id=s["id"]) != 1:
                problems.append(f"{what}: not exactly one booking_confirmed message")
        elif b["status"] == "rejected":
            if b["session_id"] is not None:
                problems.append(f"{what}: has a session")
            if messages("booking_rejected", booking_id=b["id"]) != 1:
                problems.append(f"{what}: not exactly one booking_rejected message")
        else:
            problems.append(f"{what}: unexpected status")

    events = Counter(e["session_id"] for e in rows["calendar_events"])
    upserts = Counter(p["session_id"] for c, p, _ in outbox if c == "calendar_upsert")
    reminders: dict[str, list[str]] = defaultdict(list)
    for r in rows["reminders"]:
        reminders[r["session_id"]].append(f"{r['kind']}:{r['status']}")
    for s in sessions:
        what = f"session {s['id']} at {s['scheduled_at'].isoformat()}"
        if bookings_of_session[s["id"]] != 1:
            problems.append(f"{what}: {bookings_of_session[s['id']]} bookings refer to it")
        if events[s["id"]] != 1 or upserts[s["id"]] != 1:
            problems.append(
                f"{what}: {events[s['id']]} calendar events, {upserts[s['id']]} upserts"
            )
        if sorted(reminders[s["id"]]) != ["reminder_1h:pending", "reminder_24h:pending"]:
            problems.append(f"{what}: reminders {sorted(reminders[s['id']])}")
        if messages("session_created", session_id=s["id"]) != 2:
            problems.append(f"{what}: not exactly two session_created messages")

    referred = [("reminder", r["session_id"], None) for r in rows["reminders"]]
    referred += [("calendar event", e["session_id"], None) for e in rows["calendar_events"]]
    referred += [("upsert", p["session_id"], None) for c, p, _ in outbox if c == "calendar_upsert"]
    referred += [("notification", n["session_id"], n["booking_id"]) for n in rows["notifications"]]
    referred += [("notification message", p["session_id"], p["booking_id"]) for p in notes]
    for what, session_id, booking_id in referred:
        if session_id is not None and session_id not in session_by_id:
            problems.append(f"{what} refers to a missing session {session_id}")
        if booking_id is not None and booking_id not in booking_ids:
            problems.append(f"{what} refers to a missing booking {booking_id}")
    note_ids = {n["id"] for n in rows["notifications"]}
    keys = Counter(key for channel, _, key in outbox if channel == "notification")
    if set(keys) != note_ids or any(count != 1 for count in keys.values()):
        problems.append("notifications and their outbox messages do not pair up one to one")

    booked = Counter(
        p["start"] for c, p, _ in outbox if c == "broadcast" and p.get("change") == "booked"
    )
    confirmed = [b for b in bookings if b["status"] == "confirmed"]
    if booked != Counter(b["start"].isoformat() for b in confirmed):
        problems.append(f"'booked' broadcasts {dict(booked)} do not match the confirmed bookings")

    buffer = {w["id"]: w["buffer_minutes"] for w in rows["availability_windows"]}
    confirmed.sort(key=lambda b: b["start"])
    for i, a in enumerate(confirmed):
        for b in confirmed[i + 1 :]:
            if (a["start"], a["duration"]) == (b["start"], b["duration"]):
                continue  # seats of one slot
            minutes = a["duration"] + max(buffer[a["window_id"]], buffer[b["window_id"]])
            if a["coach_id"] == b["coach_id"] and b["start"] < a["start"] + timedelta(
                minutes=minutes
            ):
                problems.append(f"buffer broken: {a['start']} and {b['start']} both confirmed")
    return problems


def test_harness_catches_count_then_insert(
    shared_db: tuple[str, coachcore.Core], tmp_path: Path
) -> None:
    """Negative control: the capacity test's workload and checker, with the store's
    protection taken away in the workers. The test passes when the checker objects.

    PostgreSQL oversells (count-then-insert at READ COMMITTED: 32 workers on two
    1-seat slots, all starting at the barrier). SQLite in WAL mode cannot oversell
    even then: a deferred transaction whose snapshot went stale cannot take the write
    lock, so the failure surfaces as "database is locked" errors (StoreError, after the
    use case's own retries), which the checker reports just as well; this test is its
    negative control on SQLite.
    """
    url, core = shared_db
    name = sa.make_url(url).get_backend_name()
    n = WORKERS[name]
    coach, members = setup_coach(core, n, WINDOWS, buffer=0)
    seats = _monday_seats(NAIVE_SLOTS)
    attempts = [(start, 60) for start in seats]
    jobs = [(m.id, attempts) for m in members]
    run = run_workers(url, coach.id, jobs, tmp_path, lambda i: "naive")

    assert run.errors == [] and set(run.exitcodes.values()) == {0}
    problems = slot_problems(run.all_outcomes(), seats, tries=n)
    in_db = confirmed_per_start(url)
    over = {s: in_db[s.isoformat()] for s, cap in seats.items() if in_db[s.isoformat()] > cap}
    errors = [p for p in problems if "StoreError" in p]
    print(
        f"\nnaive {name}: {sum(in_db.values())} confirmed for {sum(seats.values())} seats, "
        f"{len(errors)} errors, {run.elapsed:.2f} s"
    )
    if name == "postgresql":
        assert any("oversold" in p for p in problems), problems
        assert over, "the database agrees: some slot holds more bookings than seats"
    else:
        assert errors, problems
        assert over == {}, "SQLite's stale-snapshot check should have refused the oversell"


def test_killed_workers_leave_no_trace_and_wedge_nobody(
    shared_db: tuple[str, coachcore.Core], tmp_path: Path
) -> None:
    """A quarter of the workers die by SIGKILL after their writes and before COMMIT."""
    url, core = shared_db
    name = sa.make_url(url).get_backend_name()
    n = KILL_WORKERS
    coach, members = setup_coach(core, n, WINDOWS, buffer=0)
    start_h, end_h, seats_each, buffer = BUFFER_WINDOW
    core.acting_as(coach.id).availability.create(
        day_of_week=2,
        start_time=f"{start_h:02d}:00",
        end_time=f"{end_h:02d}:00",
        max_sessions_per_slot=seats_each,
        buffer_minutes=buffer,
    )
    core.acting_as(coach.id).availability.create(
        day_of_week=3, start_time="08:00", end_time="09:00", max_sessions_per_slot=n
    )
    seats = {**_monday_seats(KILL_SLOTS), WEDNESDAY_8: n}
    jobs: list[Job] = []
    for i, member in enumerate(members):
        offset = timedelta(minutes=30 * (i % 2))
        tuesday = [(TUESDAY + timedelta(hours=h) + offset, 30) for h in ROUNDS]
        jobs.append((member.id, [(start, 60) for start in seats] + tuesday))
    # A quarter of the workers, among those whose (seeded) order does not start with
    # the roomy slot: each killer then dies at a confirmed booking, at the latest
    # the roomy slot's, after its 1st attempt committed.
    eligible = [i for i in range(n) if shuffled(jobs[i][1], i)[0][0] != WEDNESDAY_8]
    killers = set(eligible[::3][: n // 4])
    assert len(killers) == n // 4
    run = run_workers(url, coach.id, jobs, tmp_path, lambda i: "kill" if i in killers else None)

    # Everyone ended, none wedged by a dead lock holder; exactly the killers were killed.
    assert run.errors == []
    assert {i for i, code in run.exitcodes.items() if code == -signal.SIGKILL} == killers
    assert {i for i, code in run.exitcodes.items() if code == 0} == set(range(n)) - killers
    assert {i: status for i, (_, status, _, _) in run.killed.items()} == dict.fromkeys(
        killers, "confirmed"
    )
    # Survivors finished every attempt and saw only confirmations and SlotFull.
    for i in set(range(n)) - killers:
        assert len(run.outcomes[i]) == len(jobs[i][1]), i
    outcomes = run.all_outcomes()
    assert [o for o in outcomes if o[1] not in OK] == []

    # Counts: exact per slot, against what the workers were told and what the db holds.
    assert slot_problems(outcomes, seats) == []
    told = Counter(start for start, result in outcomes if result == "confirmed")
    in_db = confirmed_per_start(url)
    assert in_db == told
    for hour in ROUNDS:
        pair = [(TUESDAY + timedelta(hours=hour, minutes=m)).isoformat() for m in (0, 30)]
        assert sorted(in_db[s] for s in pair) == [0, seats_each], (pair, in_db)

    # The database as a whole: no half-written booking, no orphan, buffers intact.
    rows = _rows(url)
    assert database_problems(rows) == []
    dead = {x for _, _, booking, session in run.killed.values() for x in (booking, session) if x}
    stored = json.dumps(rows, default=str)
    assert [x for x in dead if x in stored] == []
    counts = database_counts(url)
    total = sum(told.values())
    assert counts["confirmed"] == counts["scheduled"] == counts["booking_confirmed"] == total
    core.system.outbox.dispatch()
    counts = database_counts(url)
    assert counts["undelivered"] == 0 and counts["delivered_more_than_once"] == 0
    where = Counter(start for start, _, _, _ in run.killed.values())
    print(
        f"\nkill {name}: {n} workers, {len(killers)} killed holding a confirmed booking "
        f"({where[WEDNESDAY_8.isoformat()]} in the roomy slot), {total} confirmed, "
        f"{run.elapsed:.2f} s"
    )


def test_database_checker_sees_half_written_bookings(tmp_path: Path) -> None:
    """The whole-database check above objects to each kind of damage a torn booking
    transaction would leave (checked on rows read from a real store, then damaged)."""
    url = f"sqlite:///{tmp_path / 'checked.db'}"
    core = coachcore.open(url, clock=FixedClock(T0))
    start_h, end_h, seats_each, buffer = BUFFER_WINDOW
    coach, (first, second) = setup_coach(core, 2, [(start_h, end_h, seats_each)], buffer)
    at_8 = MONDAY + timedelta(hours=8)
    core.acting_as(first.id).bookings.create(coach_id=coach.id, start=at_8, duration=30)
    with pytest.raises(SlotFull):  # inside the first booking's buffer
        core.acting_as(second.id).bookings.create(
            coach_id=coach.id, start=at_8 + timedelta(minutes=30), duration=30
        )
    core.close()
    rows = _rows(url)
    assert database_problems(rows) == []
    confirmed = next(b for b in rows["bookings"] if b["status"] == "confirmed")

    def without(table: str, match: Callable[[dict[str, Any]], bool]) -> list[str]:
        assert any(match(row) for row in rows[table]), table
        damaged = {**rows, table: [row for row in rows[table] if not match(row)]}
        return database_problems(damaged)

    def message(kind: str) -> Callable[[dict[str, Any]], bool]:
        return lambda m: m["channel"] == "notification" and m["payload"]["kind"] == kind

    assert any("session" in p and "missing" in p for p in without("sessions", lambda s: True))
    assert any("bookings refer" in p for p in without("bookings", lambda b: b is confirmed))
    assert any("reminders" in p for p in without("reminders", lambda r: r["kind"] == "reminder_1h"))
    assert any("0 calendar events" in p for p in without("calendar_events", lambda e: True))
    upsert = without("outbox", lambda m: m["channel"] == "calendar_upsert")
    assert any("0 upserts" in p for p in upsert)
    assert any("booking_confirmed" in p for p in without("outbox", message("booking_confirmed")))
    assert any("booking_rejected" in p for p in without("outbox", message("booking_rejected")))
    assert any("session_created" in p for p in without("outbox", message("session_created")))
    assert any("broadcasts" in p for p in without("outbox", lambda m: m["channel"] == "broadcast"))
    assert any("pair up" in p for p in without("notifications", lambda n: True))
    too_close = {**confirmed, "id": "x", "start": confirmed["start"] + timedelta(minutes=30)}
    damaged = {**rows, "bookings": [*rows["bookings"], too_close]}
    assert any("buffer broken" in p for p in database_problems(damaged))
