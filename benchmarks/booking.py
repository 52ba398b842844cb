"""Booking throughput benchmark: bookings per second (a measurement, not a timed test).

    python benchmarks/booking.py            # full run (a few minutes)
    python benchmarks/booking.py --quick    # smoke run: tiny workloads, one round
    python benchmarks/booking.py --only sqlite --only postgresql --workers 1  # SQL, 1 process

Every booking goes through the public API,
``core.acting_as(member).bookings.create(coach_id=..., start=..., duration=30)``,
with a :class:`~coachcore.adapters.clock.FixedClock` (2030-03-01 08:00 UTC) and
the stores' defaults, so each booking is one write unit of work (booking,
session, calendar event, two reminders, three notifications, five outbox
messages, an audit entry) followed by the after-commit delivery of its outbox
(the default on every store; the recording adapters receive the messages).

The coach: UTC, windows 07:00-21:00 on all seven days, 30-minute slots, no
buffer, 1,000 seats per slot (the most a window may have), room for every
member. Each process (or thread) books as its own members, in turn, one
booking of a round per member (a member holds one seat per slot).

- ``distinct``: every booking is for a slot nobody else books; the processes
  take slots in turn from one run of consecutive grid slots (same coach, so
  their decisions still queue on the coach's lock).
- ``hot``: every booking of the round, in every process, is for the same slot.

Stores: ``memory://`` (in-process; "4" means four threads on one core, since a
memory store lives in one process), a SQLite file (WAL, the store's defaults)
and PostgreSQL (a throwaway server from ``coachcore.testing.pgserver``, run
without fsync, as the tests run it; skipped with the reason when the binaries
or psycopg are missing). Each round works on slots of its own days, in the
same database.

The floor is hand-written code doing the same writes as the library's booking
transaction, one transaction per booking, into coachcore's own (migrated)
tables: raw ``sqlite3`` (WAL, ``synchronous=NORMAL``, ``BEGIN IMMEDIATE``) for
SQLite and raw psycopg 3 for PostgreSQL (``pg_advisory_xact_lock`` on the
coach), each: lock, check that the member holds no seat in the slot, count
the slot's sessions against its seats, insert the
booking, the session, the calendar event, two reminders, three notifications,
five outbox rows and an audit entry (``executemany`` for the rows of one
table), commit. The
floor does not deliver the outbox afterwards; the library does (which is part
of what a booking costs through it), and the line "without after-commit
delivery" shows the library with ``dispatch_on_commit=False`` for comparison.

Also: booking on the memory store with 10,000 bookings already stored (the
busy coach of ``benchmarks/slots.py``: Europe/Berlin, 07:00-21:00 daily,
30 minutes, 15-minute buffer, 10 seats, every other grid slot, 200 members),
1,000 more bookings filling free seats; each round builds its store anew.

Rates are wall-clock: bookings / (last worker's end - first worker's start),
the workers starting together at a barrier; the best of ``--repeat`` rounds,
library and floor measured in turn in alternating order. Targets are printed
with PASS/FAIL; the exit status is 0 either way.
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import json
import multiprocessing
import os
import sqlite3
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import coachcore
from coachcore import Role
from coachcore.adapters.clock import FixedClock

NOW = datetime(2030, 3, 1, 8, 0, tzinfo=UTC)
FIRST_DAY = date(2030, 3, 4)  # rounds take days from here on, each its own
DURATION = 30
SEATS = 1000  # the most a window allows: one hot slot takes every booking of a round
SLOTS_PER_DAY = (21 - 7) * 60 // DURATION
WORKERS = (1, 4)
WORKLOADS = ("distinct", "hot")
PARTS = ("memory", "sqlite", "postgresql", "memory10k")

TARGETS = {
    "sqlite": 1000.0,  # SQLite file, 1 process: bookings/s
    "postgresql": 0.5,  # PostgreSQL, 1 process, one hot slot: library / floor
    "memory_10k": 2000.0,  # memory store with 10,000 stored: bookings/s
}


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


# --------------------------------------------------------------------------- world


@dataclass
class World:
    """One coach with windows and members, in one database (or memory store)."""

    url: str
    coach_id: str
    groups: list[list[str]]  # member ids, one group per worker
    next_day: int = 0
    core: Any = None  # kept open for the memory store only

    def days(self, count: int) -> date:
        """The first of ``count`` days no earlier round has used (plus a gap day)."""
        first = FIRST_DAY + timedelta(days=self.next_day)
        self.next_day += count + 1
        return first


def build_world(url: str, workers: int, members: int, core: Any = None) -> World:
    """The coach, its windows and ``workers`` groups of ``members`` members each,
    through the public API (a member holds one seat per slot: the hot slot
    takes one booking of each member of a group per round)."""
    core = core or coachcore.open(url, clock=FixedClock(NOW))
    system = core.system
    tag = uuid.uuid4().hex[:8]
    coach = system.users.create(
        name="Coach", email=f"coach-{tag}@example.com", role=Role.COACH, timezone="UTC"
    )
    system.coaches.update(coach.id, max_members=10_000)
    as_coach = core.acting_as(coach.id)
    for day in range(7):
        as_coach.availability.create(
            day_of_week=day,
            start_time="07:00",
            end_time="21:00",
            max_sessions_per_slot=SEATS,
            buffer_minutes=0,
        )
    groups = [
        [
            system.signup_member(
                name=f"Member {w}.{i}", email=f"m{w}-{i}-{tag}@example.com", coach_id=coach.id
            ).id
            for i in range(members)
        ]
        for w in range(workers)
    ]
    world = World(url, coach.id, groups)
    if url.startswith("memory:"):
        world.core = core
    else:
        core.close()
    return world


def slot_start(first: date, index: int) -> datetime:
    """The ``index``-th grid slot from 07:00 UTC on ``first`` (28 a day)."""
    day, slot = divmod(index, SLOTS_PER_DAY)
    return datetime(first.year, first.month, first.day, 7, tzinfo=UTC) + timedelta(
        days=day, minutes=slot * DURATION
    )


def plan(world: World, workload: str, workers: int, total: int) -> list[list[datetime]]:
    """The starts each worker books this round (on days of its own), plus one warm-up each."""
    per_worker = total // workers
    slots = per_worker * workers if workload == "distinct" else 1
    first = world.days(1 + (slots + workers) // SLOTS_PER_DAY + 1)
    warm = [slot_start(first, i) for i in range(workers)]  # each worker its own warm-up slot
    hot = slot_start(first, SLOTS_PER_DAY)  # next day, 07:00
    jobs = []
    for w in range(workers):
        if workload == "hot":
            starts = [hot] * per_worker
        else:  # slots in turn: worker w takes w, w + workers, ...
            starts = [slot_start(first, SLOTS_PER_DAY + w + k * workers) for k in range(per_worker)]
        jobs.append([warm[w], *starts])
    return jobs


# --------------------------------------------------------------------------- workers


@dataclass
class Outcome:
    started: float
    ended: float
    booked: int
    errors: list[str] = field(default_factory=list)
    cpu: float = 0.0  # CPU seconds of the worker's process while booking


def library_worker(
    url: str, coach_id: str, members: list[str], starts: list[datetime], ready: Any, **kw: Any
) -> Outcome:
    """Book each start through the public API, members in turn (the first one warms up)."""
    plugins = kw.get("plugins", ())
    core = kw.get("core") or coachcore.open(url, clock=FixedClock(NOW), plugins=plugins)
    scopes = [core.acting_as(m) for m in members]
    errors: list[str] = []
    scopes[0].bookings.create(coach_id=coach_id, start=starts[0], duration=DURATION)
    ready()
    cpu, started = time.process_time(), time.perf_counter()
    booked = 0
    for i, start in enumerate(starts[1:]):
        try:
            scopes[i % len(scopes)].bookings.create(
                coach_id=coach_id, start=start, duration=DURATION
            )
            booked += 1
        except Exception as exc:
            errors.append(f"{type(exc).__name__}: {exc}")
    ended, cpu = time.perf_counter(), time.process_time() - cpu
    if not kw.get("core"):
        core.close()
    return Outcome(started, ended, booked, errors, cpu)


class FloorRows:
    """The rows one booking writes, as plain tuples (what the library stores)."""

    def __init__(self, coach_id: str, member_id: str, start: datetime, ts: Callable[..., Any]):
        self.ts = ts
        now, end = NOW, start + timedelta(minutes=DURATION)
        ids = [str(uuid.uuid4()) for _ in range(16)]
        session_id, event_id, booking_id = ids[0], ids[1], ids[2]
        self.session = (
            session_id, event_id, member_id, coach_id, "regular", "scheduled", DURATION,
            ts(start), ts(now), ts(now),
        )  # fmt: skip
        self.event = (
            event_id, session_id, "Coaching session: Coach & Member", "Coaching Session",
            coach_id, json.dumps([member_id]), ts(start), ts(end), "confirmed", 0,
            f"coachcore://sessions/{session_id}",
        )  # fmt: skip
        self.booking = (
            booking_id, member_id, coach_id, start.date().isoformat(), start.strftime("%H:%M"),
            ts(start), DURATION, "confirmed", session_id, "window", ts(now), ts(now),
        )  # fmt: skip
        self.reminders = [
            (ids[3], session_id, "reminder_24h", ts(start - timedelta(hours=24)), "pending"),
            (ids[4], session_id, "reminder_1h", ts(start - timedelta(hours=1)), "pending"),
        ]
        when = start.isoformat()
        notes = [
            (ids[5], coach_id, "session_created", "Coaching session scheduled",
             f"Session on {when} ({DURATION} min).", session_id, None),
            (ids[6], member_id, "session_created", "Coaching session scheduled",
             f"Session on {when} ({DURATION} min).", session_id, None),
            (ids[7], member_id, "booking_confirmed", "Booking confirmed",
             f"Your session on {when} is confirmed.", session_id, booking_id),
        ]  # fmt: skip
        self.notifications = [(*n, ts(now)) for n in notes]
        payloads: list[Any] = [
            {"id": event_id, "session_id": session_id, "title": self.event[2],
             "category": "Coaching Session", "creator_id": coach_id, "attendee_ids": [member_id],
             "start": start.isoformat(), "end": end.isoformat(), "status": "confirmed",
             "sequence": 0, "link": self.event[10]},
            *({"id": n[0], "recipient_id": n[1], "kind": n[2], "title": n[3], "body": n[4],
               "session_id": n[5], "booking_id": n[6], "created_at": now.isoformat()}
              for n in notes),
            {"type": "slot.booked", "session_id": session_id, "coach_id": coach_id,
             "start": start.isoformat(), "end": end.isoformat(), "available_capacity": 1,
             "max_capacity": SEATS},
        ]  # fmt: skip
        channels = ["calendar_upsert", "notification", "notification", "notification", "broadcast"]
        keys = [ids[8], ids[5], ids[6], ids[7], ids[9]]
        self.outbox = [
            (ids[10 + i], keys[i], channel, json.dumps(payload), ts(now), "pending", 0, ts(now))
            for i, (channel, payload) in enumerate(zip(channels, payloads, strict=True))
        ]
        self.audit = (
            ids[15], member_id, "bookings.create", "booking", booking_id,
            json.dumps({"status": "confirmed"}), ts(now),
        )  # fmt: skip


def _sqlite_ts(moment: datetime) -> str:
    """How SQLAlchemy stores a UTC instant in SQLite (naive text, microseconds)."""
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


SQL = {
    "session": "INSERT INTO coachcore_sessions (id, calendar_event_id, member_id, coach_id, type,"
    " status, duration, scheduled_at, created_at, updated_at) VALUES ({})",
    "event": "INSERT INTO coachcore_calendar_events (id, session_id, title, category, creator_id,"
    ' attendee_ids, start, "end", status, sequence, link) VALUES ({})',
    "booking": "INSERT INTO coachcore_bookings (id, member_id, coach_id, requested_date,"
    " requested_time, start, duration, status, session_id, window_id, created_at, updated_at)"
    " VALUES ({})",
    "reminder": "INSERT INTO coachcore_reminders (id, session_id, kind, due_at, status)"
    " VALUES ({})",
    "notification": "INSERT INTO coachcore_notifications (id, recipient_id, kind, title, body,"
    " session_id, booking_id, created_at) VALUES ({})",
    "outbox": "INSERT INTO coachcore_outbox (id, idempotency_key, channel, payload, created_at,"
    " status, attempts, next_attempt_at) VALUES ({})",
    "audit": "INSERT INTO coachcore_audit_log (id, actor_id, action, entity_type, entity_id,"
    " details, created_at) VALUES ({})",
    "count": "SELECT count(*) FROM coachcore_sessions WHERE coach_id = {0} AND scheduled_at = {0}"
    " AND duration = {0} AND status <> 'cancelled'",
    "seat": "SELECT count(*) FROM coachcore_sessions WHERE coach_id = {0} AND scheduled_at = {0}"
    " AND member_id = {0} AND status <> 'cancelled'",
}
COLUMNS = {
    "session": 10,
    "event": 11,
    "booking": 12,
    "reminder": 5,
    "notification": 8,
    "outbox": 8,
    "audit": 7,
}


def _statements(mark: str, json_cast: str = "") -> dict[str, str]:
    out = {"count": SQL["count"].format(mark), "seat": SQL["seat"].format(mark)}
    for name, n in COLUMNS.items():
        marks = [mark] * n
        if json_cast and name == "event":
            marks[5] = mark + json_cast
        if json_cast and name == "outbox":
            marks[3] = mark + json_cast
        if json_cast and name == "audit":
            marks[5] = mark + json_cast
        out[name] = SQL[name].format(", ".join(marks))
    return out


def sqlite_floor_worker(
    url: str, coach_id: str, members: list[str], starts: list[datetime], ready: Any, **_: Any
) -> Outcome:
    """Raw sqlite3 in WAL mode: one BEGIN IMMEDIATE ... COMMIT per booking."""
    path = url.split("sqlite:///", 1)[1]
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    for pragma in ("busy_timeout = 30000", "journal_mode = WAL", "foreign_keys = ON",
                   "synchronous = NORMAL"):  # fmt: skip
        conn.execute(f"PRAGMA {pragma}")
    sql = _statements("?")

    def book(member: str, start: datetime) -> None:
        rows = FloorRows(coach_id, member, start, _sqlite_ts)
        conn.execute("BEGIN IMMEDIATE")
        try:
            (held,) = conn.execute(sql["seat"], (coach_id, _sqlite_ts(start), member)).fetchone()
            if held:
                raise RuntimeError("a second seat for this member")
            (taken,) = conn.execute(
                sql["count"], (coach_id, _sqlite_ts(start), DURATION)
            ).fetchone()
            if taken >= SEATS:
                raise RuntimeError("slot full")
            conn.execute(sql["session"], rows.session)
            conn.execute(sql["event"], rows.event)
            conn.execute(sql["booking"], rows.booking)
            conn.executemany(sql["reminder"], rows.reminders)
            conn.executemany(sql["notification"], rows.notifications)
            conn.executemany(sql["outbox"], rows.outbox)
            conn.execute(sql["audit"], rows.audit)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    return _floor_loop(book, members, starts, ready, conn.close)


def _pg_conninfo(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def pg_floor_worker(
    url: str, coach_id: str, members: list[str], starts: list[datetime], ready: Any, **_: Any
) -> Outcome:
    """Raw psycopg 3: advisory lock on the coach, count, inserts, commit."""
    import psycopg

    conn = psycopg.connect(_pg_conninfo(url))
    sql = _statements("%s", "::json")

    def book(member: str, start: datetime) -> None:
        rows = FloorRows(coach_id, member, start, lambda moment: moment)
        with conn.transaction(), conn.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (coach_id,))
            cur.execute(sql["seat"], (coach_id, start, member))
            held = cur.fetchone()
            if held is not None and held[0]:
                raise RuntimeError("a second seat for this member")
            cur.execute(sql["count"], (coach_id, start, DURATION))
            row = cur.fetchone()
            if row is None or row[0] >= SEATS:
                raise RuntimeError("slot full")
            cur.execute(sql["session"], rows.session)
            cur.execute(sql["event"], rows.event)
            cur.execute(sql["booking"], rows.booking)
            cur.executemany(sql["reminder"], rows.reminders)
            cur.executemany(sql["notification"], rows.notifications)
            cur.executemany(sql["outbox"], rows.outbox)
            cur.execute(sql["audit"], rows.audit)

    return _floor_loop(book, members, starts, ready, conn.close)


def _floor_loop(
    book: Callable[[str, datetime], None],
    members: list[str],
    starts: list[datetime],
    ready: Any,
    close: Callable[[], None],
) -> Outcome:
    book(members[0], starts[0])  # warm-up, like the library's
    ready()
    errors: list[str] = []
    booked = 0
    cpu, started = time.process_time(), time.perf_counter()
    for i, start in enumerate(starts[1:]):
        try:
            book(members[i % len(members)], start)
            booked += 1
        except Exception as exc:
            errors.append(f"{type(exc).__name__}: {exc}")
    ended, cpu = time.perf_counter(), time.process_time() - cpu
    close()
    return Outcome(started, ended, booked, errors, cpu)


# --------------------------------------------------------------------------- running


def _child(worker: Any, args: tuple[Any, ...], kw: dict[str, Any], barrier: Any, out: Any) -> None:
    try:
        result = worker(*args, ready=lambda: barrier.wait(timeout=120), **kw)
    except BaseException as exc:  # reported to the parent
        barrier.abort()
        result = Outcome(0.0, 0.0, 0, [f"worker failed: {type(exc).__name__}: {exc}"])
    out.put(result)


def run_processes(worker: Any, world: World, jobs: list[list[datetime]], **kw: Any) -> Outcome:
    """One process per job, started together; the round's combined outcome."""
    ctx = multiprocessing.get_context("fork" if sys.platform.startswith("linux") else "spawn")
    barrier, out = ctx.Barrier(len(jobs)), ctx.Queue()
    procs = [
        ctx.Process(
            target=_child,
            args=(worker, (world.url, world.coach_id, world.groups[w], jobs[w]), kw, barrier, out),
        )
        for w in range(len(jobs))
    ]
    for p in procs:
        p.start()
    results = [out.get(timeout=600) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    return combine(results)


def run_threads(worker: Any, world: World, jobs: list[list[datetime]], **kw: Any) -> Outcome:
    """One thread per job over the world's shared (memory) core."""
    barrier = threading.Barrier(len(jobs))
    results: list[Outcome] = []

    def target(w: int) -> None:
        results.append(
            worker(
                world.url,
                world.coach_id,
                world.groups[w],
                jobs[w],
                ready=lambda: barrier.wait(timeout=120),
                core=world.core,
                **kw,
            )
        )

    threads = [threading.Thread(target=target, args=(w,)) for w in range(len(jobs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return combine(results)


def combine(results: Sequence[Outcome]) -> Outcome:
    errors = [e for r in results for e in r.errors]
    return Outcome(
        min(r.started for r in results),
        max(r.ended for r in results),
        sum(r.booked for r in results),
        errors,
        sum(r.cpu for r in results),
    )


def rate(outcome: Outcome) -> float:
    elapsed = outcome.ended - outcome.started
    return outcome.booked / elapsed if elapsed > 0 and outcome.booked else 0.0


@dataclass
class Measured:
    best: float = 0.0  # bookings per wall-clock second
    best_cpu: float = 0.0  # bookings per CPU second of the booking process(es)
    errors: list[str] = field(default_factory=list)

    def add(self, outcome: Outcome) -> None:
        self.best = max(self.best, rate(outcome))
        if outcome.cpu > 0:
            self.best_cpu = max(self.best_cpu, outcome.booked / outcome.cpu)
        self.errors.extend(outcome.errors)


# --------------------------------------------------------------------------- stores


@dataclass
class Backend:
    name: str
    url: str
    floor: Any = None  # the hand-written worker, or None
    threads: bool = False
    worlds: dict[int, World] = field(default_factory=dict)

    def world(self, workers: int, total: int) -> World:
        if workers not in self.worlds:
            self.worlds[workers] = build_world(self.url, workers, total // workers + 1)
        return self.worlds[workers]


def postgres_unavailable() -> str | None:
    from coachcore.testing.pgserver import find_pg_bin

    if find_pg_bin() is None:
        return "PostgreSQL binaries (initdb, pg_ctl) not found"
    if importlib.util.find_spec("psycopg") is None:
        return "psycopg (3) is not installed: pip install 'coachcore[postgresql]'"
    return None


@contextmanager
def postgres(url: str | None) -> Iterator[tuple[str | None, str | None]]:
    """(url, None) for a server to use, or (None, why not)."""
    if url:
        yield url, None
        return
    reason = postgres_unavailable()
    if reason is not None:
        yield None, reason
        return
    from coachcore.testing.pgserver import ThrowawayPostgres

    try:
        server = ThrowawayPostgres(dbname="coachcore_bench").start()
    except RuntimeError as exc:
        yield None, f"the throwaway server did not start: {str(exc).splitlines()[0]}"
        return
    try:
        yield server.url, None
    finally:
        server.stop()


class _UseStore:
    """Hands ``coachcore.open`` a ready store (here: one without after-commit delivery)."""

    def __init__(self, url: str) -> None:
        self.url = url

    @coachcore.hookimpl
    def coachcore_store(self, url: str) -> Any:
        from coachcore.adapters.sqlalchemy import SqlStore

        return SqlStore.from_url(self.url, dispatch_on_commit=False)


# --------------------------------------------------------------------------- report


def measure_backend(
    backend: Backend, total: int, repeat: int, workers_each: Sequence[int] = WORKERS
) -> dict[str, float]:
    """Library (and floor) rates for each worker count and workload; prints one line each.

    Keys: ``"<workers>:<workload>"`` (library, wall clock), the same with
    ``":floor"``, ``":cpu"`` (library, per CPU second of its process; one worker
    only), and ``"1:hot:no-dispatch"``.
    """
    results: dict[str, float] = {}
    runner = run_threads if backend.threads else run_processes
    unit = "thread" if backend.threads else "process"
    for workers in workers_each:
        world = backend.world(workers, total)
        for workload in WORKLOADS:
            sides: dict[str, Any] = {"library": library_worker}
            if backend.floor is not None:
                sides["floor"] = backend.floor
            got = {name: Measured() for name in sides}
            order = list(sides)
            for _ in range(repeat):
                for name in order:
                    gc.collect()
                    got[name].add(runner(sides[name], world, plan(world, workload, workers, total)))
                order.reverse()  # neither side always runs first
            key = f"{workers}:{workload}"
            lib = results[key] = got["library"].best
            label = f"{workers} {unit}{'es' if workers > 1 and not backend.threads else ''}"
            label += "s" if workers > 1 and backend.threads else ""
            line = f"  {backend.name} {label:11s} {workload:8s} library {lib:7,.0f}/s"
            if workers == 1:
                results[f"{key}:cpu"] = got["library"].best_cpu
                line += f" (CPU {got['library'].best_cpu:7,.0f}/s)"
            else:
                line += " " * 18
            if "floor" in got:
                floor = results[f"{key}:floor"] = got["floor"].best
                line += f"  floor {floor:7,.0f}/s  library/floor {lib / floor if floor else 0:5.2f}"
            print(line, flush=True)
            for name, m in got.items():
                for error in sorted(set(m.errors))[:3]:
                    print(f"    {name} error ({m.errors.count(error)}x): {error}")
    if not backend.threads:  # the same without the after-commit delivery, for comparison
        world = backend.world(1, total)
        best = Measured()
        plugins = (_UseStore(backend.url),)
        for _ in range(repeat):
            jobs = plan(world, "hot", 1, total)
            best.add(run_processes(library_worker, world, jobs, plugins=plugins))
        results["1:hot:no-dispatch"] = best.best
        print(
            f"  {backend.name} 1 process   hot      library {best.best:7,.0f}/s"
            f" (CPU {best.best_cpu:7,.0f}/s)  without after-commit delivery"
            " (dispatch_on_commit=False)",
            flush=True,
        )
    return results


def busy_coach_rate(stored: int, more: int) -> tuple[float, float]:
    """Bookings per wall-clock and per CPU second on the memory store with
    ``stored`` bookings already made (the busy coach of ``slots.py``)."""
    core = coachcore.open("memory://", clock=FixedClock(NOW))
    system = core.system
    coach = system.users.create(
        name="Busy Coach", email="busy@example.com", role=Role.COACH, timezone="Europe/Berlin"
    )
    system.coaches.update(coach.id, max_members=210)
    as_coach = core.acting_as(coach.id)
    for day in range(7):
        as_coach.availability.create(
            day_of_week=day,
            start_time="07:00",
            end_time="21:00",
            max_sessions_per_slot=10,
            buffer_minutes=15,
        )
    scopes = [
        core.acting_as(
            system.signup_member(name=f"M{i}", email=f"m{i}@example.com", coach_id=coach.id).id
        )
        for i in range(200)
    ]
    zone = ZoneInfo("Europe/Berlin")
    grid = []  # every other grid slot of 84 days (the buffer blocks the ones between), UTC
    for offset in range(84):
        day = FIRST_DAY + timedelta(days=offset)
        for minute in range(7 * 60, 21 * 60 - 30 + 1, 60):
            local = datetime(day.year, day.month, day.day, minute // 60, minute % 60)
            aware = local.replace(tzinfo=zone)
            if aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None) == local:
                grid.append(aware.astimezone(UTC))
    holders: dict[datetime, set[int]] = {start: set() for start in grid}
    n = len(grid)
    for i in range(stored):  # spread evenly over the grid, as slots.py does
        start = grid[(i * n) // stored] if stored <= n else grid[i % n]
        scopes[i % 200].bookings.create(coach_id=coach.id, start=start, duration=30)
        holders[start].add(i % 200)
    wanted = [  # (member, start): each free seat to a member without one in that slot
        (member, start)
        for start in grid
        for member in [m for m in range(200) if m not in holders[start]][: 10 - len(holders[start])]
    ][:more]
    gc.collect()
    cpu, started = time.process_time(), time.perf_counter()
    for member, start in wanted:
        scopes[member].bookings.create(coach_id=coach.id, start=start, duration=30)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    return len(wanted) / elapsed, len(wanted) / cpu


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny workloads, one round (smoke)")
    parser.add_argument("--bookings", type=int, help="bookings per round (default 400; quick 16)")
    parser.add_argument("--repeat", type=int, help="rounds per figure, best taken (default 3)")
    parser.add_argument("--postgres-url", help="a PostgreSQL database to use instead")
    parser.add_argument("--no-postgres", action="store_true", help="skip PostgreSQL")
    parser.add_argument(
        "--only", action="append", choices=PARTS, help="run only these parts (repeatable)"
    )
    parser.add_argument(
        "--workers",
        type=int,
        action="append",
        choices=WORKERS,
        help="run only these process (thread) counts (repeatable; default: all)",
    )
    args = parser.parse_args(argv)
    total = args.bookings or (16 if args.quick else 400)
    repeat = args.repeat or (1 if args.quick else 3)
    stored, more = (1000, 100) if args.quick else (10_000, 1000)
    only = set(args.only or PARTS)
    workers = tuple(sorted(set(args.workers or WORKERS)))
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"python {sys.version.split()[0]}, coachcore {coachcore.__version__}, "
        f"{os.cpu_count()} CPUs, load average {load}; {total} bookings per round, "
        f"best of {repeat}" + (" (quick)" if args.quick else "")
    )
    figures: dict[str, Any] = {}

    if "memory" in only:
        print("== memory:// (threads share one core)")
        backend = Backend("memory", "memory://", threads=True)
        figures["memory"] = measure_backend(backend, total, repeat, workers)

    if "sqlite" in only:
        with tempfile.TemporaryDirectory(prefix="coachcore-bench-") as tmp:
            print("== SQLite file (WAL); floor: raw sqlite3")
            backend = Backend("sqlite", f"sqlite:///{tmp}/booking.db", floor=sqlite_floor_worker)
            figures["sqlite"] = measure_backend(backend, total, repeat, workers)

    pg_skipped = "--no-postgres" if args.no_postgres else ""
    if "postgresql" in only and not args.no_postgres:
        with postgres(args.postgres_url) as (url, reason):
            if url is None:
                pg_skipped = str(reason)
                print(f"== PostgreSQL skipped: {reason}")
            else:
                print("== PostgreSQL; floor: raw psycopg")
                backend = Backend("postgresql", url, floor=pg_floor_worker)
                figures["postgresql"] = measure_backend(backend, total, repeat, workers)

    if "memory10k" in only:
        runs = [busy_coach_rate(stored, more) for _ in range(repeat)]  # each from scratch
        wall, cpu = max(r[0] for r in runs), max(r[1] for r in runs)
        figures["memory10k"] = (wall, cpu)
        print(
            f"== memory:// with {stored:,} bookings stored, {more:,} more: "
            f"{wall:7,.0f}/s (CPU {cpu:7,.0f}/s)"
        )

    print("== targets (wall clock; CPU time of the booking process in brackets)")
    if "1:distinct" in figures.get("sqlite", {}):
        got, cpu = figures["sqlite"]["1:distinct"], figures["sqlite"]["1:distinct:cpu"]
        goal = TARGETS["sqlite"]
        print(
            f"sqlite file, 1 process: {got:,.0f} bookings/s ({cpu:,.0f}/s)  "
            f"target >= {goal:,.0f}: {verdict(got >= goal)}"
        )
    if "1:hot" in figures.get("postgresql", {}):
        pg = figures["postgresql"]
        share = pg["1:hot"] / pg["1:hot:floor"] if pg["1:hot:floor"] else 0.0
        goal = TARGETS["postgresql"]
        print(
            f"postgresql, 1 process, one hot slot: library/floor {share:.2f}  "
            f"target >= {goal:.2f}: {verdict(share >= goal)}"
        )
    elif "postgresql" in only and "postgresql" not in figures:
        print(f"postgresql, 1 process, one hot slot: SKIPPED ({pg_skipped})")
    if "memory10k" in figures:
        wall, cpu = figures["memory10k"]
        goal = TARGETS["memory_10k"]
        print(
            f"memory, {stored:,} stored: {wall:,.0f} bookings/s ({cpu:,.0f}/s)  "
            f"target >= {goal:,.0f}: {verdict(wall >= goal)}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
