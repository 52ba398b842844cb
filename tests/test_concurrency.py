"""Capacity and buffers hold when worker processes book at the same instant.

Each worker process opens its own core on the same SQLite file or PostgreSQL
database (``coachcore.open(url)``), waits at a barrier, then books. Results
come back through a queue; the database is then checked as a whole.
"""

from __future__ import annotations

import multiprocessing
import random
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

import coachcore
from backends import T0, BackendPool, BackendUnavailable
from coachcore import Role
from coachcore.adapters.clock import FixedClock
from coachcore.errors import SlotFull

MONDAY = datetime(2030, 1, 7, tzinfo=UTC)
# (window start hour, end hour, seats): 4 slots of 1 seat, 3 of 2, 3 of 3 (60 min, no buffer)
WINDOWS = ((8, 12, 1), (13, 16, 2), (17, 20, 3))
WORKERS = {"sqlite": 16, "postgresql": 32}
OK = ("confirmed", "full")


def _context() -> Any:
    """fork where the platform has it (fast), spawn elsewhere."""
    method = "fork" if sys.platform.startswith("linux") else "spawn"
    return multiprocessing.get_context(method)


def book_once(scope: Any, coach_id: str, start: datetime, duration: int) -> tuple[str, str]:
    """One booking attempt: (start, "confirmed" | "full" | the unexpected error)."""
    try:
        scope.bookings.create(coach_id=coach_id, start=start, duration=duration)
        return start.isoformat(), "confirmed"
    except SlotFull:
        return start.isoformat(), "full"
    except Exception as exc:  # reported, and the test fails on it
        return start.isoformat(), f"{type(exc).__name__}: {exc}"


def _worker(
    url: str,
    coach_id: str,
    member_id: str,
    attempts: list[tuple[datetime, int]],
    seed: int,
    barrier: Any,
    results: Any,
) -> None:
    """Book every (start, duration) in a random order; report each outcome."""
    outcomes: list[tuple[str, str]] = []
    try:
        core = coachcore.open(url, clock=FixedClock(T0))
        scope = core.acting_as(member_id)
        order = list(attempts)
        random.Random(seed).shuffle(order)
        barrier.wait(timeout=60)
        outcomes.extend(book_once(scope, coach_id, start, duration) for start, duration in order)
        core.close()
    except Exception as exc:  # pragma: no cover - setup failure in the worker
        outcomes.append(("worker", f"{type(exc).__name__}: {exc}"))
    results.put(outcomes)


def run_workers(url: str, jobs: list[tuple[str, list[tuple[datetime, int]]]], coach: str) -> Any:
    """Run one process per (member, attempts); all outcomes, flattened."""
    ctx = _context()
    barrier, results = ctx.Barrier(len(jobs)), ctx.Queue()
    procs = [
        ctx.Process(target=_worker, args=(url, coach, member, attempts, i, barrier, results))
        for i, (member, attempts) in enumerate(jobs)
    ]
    for p in procs:
        p.start()
    outcomes = [item for _ in procs for item in results.get(timeout=120)]
    for p in procs:
        p.join(timeout=30)
    return outcomes


def setup_coach(core: coachcore.Core, members: int, windows: Any, buffer: int) -> Any:
    """A coach (UTC, room for every member), Monday windows, and the members."""
    coach = core.system.users.create(name="Cleo", email="cleo@example.com", role=Role.COACH)
    core.acting_as(coach.id).coaches.update(coach.id, max_members=1000)
    for start, end, seats in windows:
        core.acting_as(coach.id).availability.create(
            day_of_week=1,
            start_time=f"{start:02d}:00",
            end_time=f"{end:02d}:00",
            max_sessions_per_slot=seats,
            buffer_minutes=buffer,
        )
    people = [
        core.system.signup_member(name=f"M{i}", email=f"m{i}@example.com", coach_id=coach.id)
        for i in range(members)
    ]
    return coach, people


def database_counts(url: str) -> dict[str, int]:
    """Confirmed bookings, scheduled sessions, booking_confirmed outbox messages."""
    from coachcore.adapters.sqlalchemy import build_tables, create_store_engine

    t = build_tables()
    engine = create_store_engine(url)
    try:
        with engine.connect() as conn:
            count = sa.select(sa.func.count())
            confirmed = conn.scalar(
                count.select_from(t.bookings).where(t.bookings.c.status == "confirmed")
            )
            scheduled = conn.scalar(
                count.select_from(t.sessions).where(t.sessions.c.status == "scheduled")
            )
            payloads = conn.execute(
                sa.select(t.outbox.c.payload, t.outbox.c.status, t.outbox.c.attempts).where(
                    t.outbox.c.channel == "notification"
                )
            ).all()
    finally:
        engine.dispose()
    kinds = Counter(p["kind"] for p, _, _ in payloads)
    return {
        "confirmed": int(confirmed or 0),
        "scheduled": int(scheduled or 0),
        "booking_confirmed": kinds["booking_confirmed"],
        "undelivered": sum(1 for _, status, _ in payloads if status != "delivered"),
        "delivered_more_than_once": sum(1 for _, _, attempts in payloads if attempts != 1),
    }


def slot_problems(
    outcomes: list[tuple[str, str]], seats: dict[datetime, int], tries: int | None = None
) -> list[str]:
    """What the capacity checker finds wrong in the workers' outcomes: an outcome that is
    neither a confirmation nor SlotFull, a slot with more confirmations than seats
    (oversold) or fewer than min(seats, attempts completed on it), and, given ``tries``,
    a slot whose completed attempts are not exactly ``tries``."""
    problems = [f"{start}: {result}" for start, result in outcomes if result not in OK]
    confirmed = Counter(start for start, result in outcomes if result == "confirmed")
    full = Counter(start for start, result in outcomes if result == "full")
    for start, cap in seats.items():
        key = start.isoformat()
        got, done = confirmed[key], confirmed[key] + full[key]
        if got > cap:
            problems.append(f"{key}: oversold, {got} confirmed for {cap} seats")
        elif got < min(cap, done):
            problems.append(f"{key}: {got} confirmed and {full[key]} SlotFull for {cap} seats")
        if tries is not None and done != tries:
            problems.append(f"{key}: {done} attempts completed, expected {tries}")
    return problems


@pytest.fixture(params=["sqlite", "postgresql"])
def shared_db(
    request: pytest.FixtureRequest, backend_pool: BackendPool, tmp_path: Path
) -> Iterator[tuple[str, coachcore.Core]]:
    """(URL, a core over it) for an empty database every worker process can open."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'shared.db'}"
        core = coachcore.open(url, clock=FixedClock(T0))
        yield url, core
        core.close()
        return
    try:
        backend = backend_pool.get("postgresql")
    except BackendUnavailable as why:
        pytest.skip(str(why))
    core = backend.open()  # empties the session's database
    yield backend.url(), core
    backend.release()


def test_capacity_holds_across_processes(shared_db: tuple[str, coachcore.Core]) -> None:
    url, core = shared_db
    n = WORKERS[sa.make_url(url).get_backend_name()]
    coach, members = setup_coach(core, n, WINDOWS, buffer=0)
    seats = {
        MONDAY + timedelta(hours=hour): cap
        for start, end, cap in WINDOWS
        for hour in range(start, end)
    }
    attempts = [(start, 60) for start in seats]
    started = time.perf_counter()
    outcomes = run_workers(url, [(m.id, attempts) for m in members], coach.id)
    elapsed = time.perf_counter() - started

    assert slot_problems(outcomes, seats, tries=n) == []
    total = sum(seats.values())
    counts = database_counts(url)
    assert counts["confirmed"] == counts["scheduled"] == counts["booking_confirmed"] == total
    core.system.outbox.dispatch()
    counts = database_counts(url)
    assert counts["undelivered"] == 0 and counts["delivered_more_than_once"] == 0
    print(
        f"\n{n} processes x {len(seats)} slots: {total} confirmed, {n * len(seats) - total} "
        f"SlotFull in {elapsed:.2f} s"
    )


def test_buffer_lets_only_one_of_two_adjacent_slots_win(
    shared_db: tuple[str, coachcore.Core],
) -> None:
    """Two seats per slot, 30-min slots, 15-min buffer: 10:00 and 10:30 exclude each other,
    though each has a free seat. Half the workers book one, half the other, per round."""
    url, core = shared_db
    n = WORKERS[sa.make_url(url).get_backend_name()]
    coach, members = setup_coach(core, n, [(8, 20, 2)], buffer=15)
    rounds = [MONDAY + timedelta(hours=h) for h in (8, 10, 12, 14, 16, 18)]
    jobs = []
    for i, member in enumerate(members):
        offset = timedelta(minutes=30 * (i % 2))
        jobs.append((member.id, [(start + offset, 30) for start in rounds]))
    outcomes = run_workers(url, jobs, coach.id)

    assert [o for o in outcomes if o[1] not in ("confirmed", "full")] == []
    confirmed = Counter(start for start, result in outcomes if result == "confirmed")
    for start in rounds:
        pair = [start.isoformat(), (start + timedelta(minutes=30)).isoformat()]
        winners = [s for s in pair if confirmed[s]]
        assert len(winners) == 1, (pair, confirmed)
        assert confirmed[winners[0]] == 2
    counts = database_counts(url)
    total = 2 * len(rounds)
    assert counts["confirmed"] == counts["scheduled"] == counts["booking_confirmed"] == total


def _open_store(url: str, prefix: str, barrier: Any, results: Any) -> None:
    """Open a store on a database nobody has migrated yet (auto-migration)."""
    from coachcore.adapters.sqlalchemy import SqlStore

    try:
        barrier.wait(timeout=60)
        SqlStore.from_url(url, table_prefix=prefix).close()
        results.put("ok")
    except Exception as exc:
        results.put(f"{type(exc).__name__}: {exc}")


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
def test_processes_opening_a_new_database_migrate_it_once(
    engine: str, backend_pool: BackendPool, tmp_path: Path
) -> None:
    from coachcore.adapters.sqlalchemy import current_revision, downgrade, head_revision

    if engine == "sqlite":
        url, prefix = f"sqlite:///{tmp_path / 'race.db'}", "coachcore_"
    else:
        try:
            url, prefix = backend_pool.postgresql_url(), "race_"
        except BackendUnavailable as why:
            pytest.skip(str(why))
    ctx, n = _context(), 8
    barrier, results = ctx.Barrier(n), ctx.Queue()
    procs = [
        ctx.Process(target=_open_store, args=(url, prefix, barrier, results)) for _ in range(n)
    ]
    for p in procs:
        p.start()
    outcomes = [results.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=30)
    assert outcomes == ["ok"] * n
    assert current_revision(url, table_prefix=prefix) == head_revision()
    if engine == "postgresql":
        downgrade(url, revision="base", table_prefix=prefix)
