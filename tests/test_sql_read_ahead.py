"""Reads sent ahead (PostgreSQL: one round trip for the look-ups a use case
names) answer exactly as the look-ups would, never hide a write, and wait
behind the coach's lock; a booking then takes a handful of round trips."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest

import coachcore
from backends import T0, BackendPool, SqlBackend, emptied_sql_backend
from coachcore import Role
from coachcore.adapters.clock import FixedClock
from coachcore.adapters.sqlalchemy.db import Db
from coachcore.domain.entities import AvailabilityWindow, User
from coachcore.domain.rules import SchedulingRules


@pytest.fixture(params=["sqlite", "postgresql"])
def sql(request: pytest.FixtureRequest, backend_pool: BackendPool) -> Iterator[SqlBackend]:
    """Each SQL backend, emptied (on SQLite reading ahead does nothing: the
    answers must be the same anyway)."""
    yield from emptied_sql_backend(backend_pool, request.param)


@pytest.fixture
def pg(backend_pool: BackendPool) -> Iterator[SqlBackend]:
    """PostgreSQL only: round trips and the lock's place in them."""
    yield from emptied_sql_backend(backend_pool, "postgresql")


def _user(uid: str, role: str = "coach") -> User:
    email = f"{uid}@example.com"
    return User(id=uid, name=uid, email=email, role=role, created_at=T0, updated_at=T0)


def _window(wid: str, day: int = 1) -> AvailabilityWindow:
    return AvailabilityWindow(
        id=wid,
        coach_id="coach",
        day_of_week=day,
        start_time="09:00",
        end_time="12:00",
        max_sessions_per_slot=2,
        buffer_minutes=0,
        created_at=T0,
        updated_at=T0,
    )


def _seed(sql: SqlBackend) -> None:
    with sql.store.unit_of_work(write=True) as uow:
        uow.users.add(_user("coach"))
        uow.windows.add(_window("w1", 1))
        uow.windows.add(_window("w2", 3))
        uow.rules.put(SchedulingRules(coach_id="coach", max_sessions_per_day=3))
        uow.commit()


def _look_ups(uow: Any) -> list[Callable[[], object]]:
    return [
        lambda: uow.users.get("coach"),
        lambda: uow.users.get("nobody"),
        lambda: uow.windows.for_coach("coach"),
        lambda: uow.rules.get("coach"),
        lambda: uow.members.count_for_coach("coach", active_only=True),  # not sent ahead
        lambda: uow.sessions.occupancy("coach", T0, datetime(2031, 1, 1, tzinfo=UTC)),
    ]


def test_reads_ahead_answer_as_the_look_ups_do(sql: SqlBackend) -> None:
    _seed(sql)
    with sql.store.unit_of_work(write=False) as uow:
        plain = [look() for look in _look_ups(uow)]
    with sql.store.unit_of_work(write=True) as uow:
        uow.defer_inserts()
        uow.lock_coach("coach")
        looks = _look_ups(uow)
        uow.read_ahead(*looks)
        assert [look() for look in looks] == plain
        assert [look() for look in looks] == plain  # and again, from the store
    assert plain[0] == _user("coach") and plain[1] is None
    assert [w.id for w in plain[2]] == ["w1", "w2"]  # type: ignore[attr-defined]


def test_a_write_after_reading_ahead_is_seen(sql: SqlBackend) -> None:
    _seed(sql)
    with sql.store.unit_of_work(write=True) as uow:
        uow.defer_inserts()
        uow.read_ahead(
            lambda: uow.windows.for_coach("coach"),
            lambda: uow.users.get("late"),
            lambda: uow.users.get("coach"),
        )
        uow.windows.add(_window("w3", 5))
        uow.users.add(_user("late", "member"))
        assert [w.id for w in uow.windows.for_coach("coach")] == ["w1", "w2", "w3"]
        assert uow.users.get("late") == _user("late", "member")
        assert uow.users.get("coach") == _user("coach")
        uow.commit()


def test_a_rolled_back_unit_of_work_forgets_its_reads_ahead(sql: SqlBackend) -> None:
    _seed(sql)
    with sql.store.unit_of_work(write=True) as uow:
        uow.defer_inserts()
        uow.read_ahead(lambda: uow.windows.for_coach("coach"))
        uow.rollback()
        uow.windows.add(_window("w3", 5))
        assert [w.id for w in uow.windows.for_coach("coach")] == ["w1", "w2", "w3"]


def test_reads_ahead_wait_behind_the_coach_lock(pg: SqlBackend) -> None:
    """The lock of a write use case goes in the round trip of its next
    statement, first: reads sent with it see what the lock's previous holder
    committed, and a second locker waits until the first one ends."""
    _seed(pg)
    entered = threading.Event()
    seen: list[Any] = []

    def second() -> None:
        with pg.store.unit_of_work(write=True) as uow:
            uow.defer_inserts()
            assert uow.rules.get("coach") is not None  # remembered from before the lock
            uow.lock_coach("coach")
            uow.read_ahead(lambda: uow.rules.get("coach"))
            entered.set()
            seen.append(uow.rules.get("coach"))
            uow.commit()

    with pg.store.unit_of_work(write=True) as first:
        first.defer_inserts()
        first.lock_coach("coach")
        first.read_ahead(lambda: first.rules.get("coach"))
        thread = threading.Thread(target=second)
        thread.start()
        assert not entered.wait(0.5), "the second locker did not wait for the lock"
        first.rules.put(SchedulingRules(coach_id="coach", max_sessions_per_day=7))
        first.commit()
    thread.join(10)
    assert entered.is_set()
    assert seen and seen[0].max_sessions_per_day == 7


@pytest.fixture
def round_trips(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The PostgreSQL round trips the SQL store makes: one per query run
    alone, one per pipeline, one per statement run in a transaction of its own."""
    made: list[str] = []
    for name in ("_fetch_raw", "_pipelined", "run_alone"):
        original = getattr(Db, name)

        def counted(*args: Any, _name: str = name, _original: Any = original, **kw: Any) -> Any:
            made.append(_name)
            return _original(*args, **kw)

        monkeypatch.setattr(Db, name, counted)
    return made


def test_a_booking_takes_five_round_trips(pg: SqlBackend, round_trips: list[str]) -> None:
    """The actor and the booking's first look-ups; the lock and the slot's
    look-ups; the seats taken; the outbox claim; the inserts with COMMIT;
    the deliveries recorded after commit."""
    core = pg.open()
    coach = core.system.users.create(name="Cleo", email="cleo@example.com", role=Role.COACH)
    member = core.system.signup_member(name="Mo", email="mo@example.com", coach_id=coach.id)
    core.acting_as(coach.id).availability.create(
        day_of_week=1, start_time="09:00", end_time="12:00", max_sessions_per_slot=2
    )
    scope = core.acting_as(member.id)
    start = datetime(2030, 1, 7, 9, tzinfo=UTC)  # a Monday (the coach is in UTC)
    scope.bookings.create(coach_id=coach.id, start=start)
    round_trips.clear()
    booking = scope.bookings.create(coach_id=coach.id, start=start)
    assert booking.status.value == "confirmed"
    assert len(round_trips) == 5, round_trips


def test_a_slot_listing_takes_two_round_trips(pg: SqlBackend, round_trips: list[str]) -> None:
    """The actor, the coach, their profile, rules, windows and date overrides;
    then the seats taken with the waitlist's holds. The slots are those the
    memory store lists for the same calls."""

    def listing(core: Any, count: bool) -> list[Any]:
        coach = core.system.users.create(name="Cleo", email="cleo@example.com", role=Role.COACH)
        member = core.system.signup_member(name="Mo", email="mo@example.com", coach_id=coach.id)
        as_coach = core.acting_as(coach.id)
        as_coach.availability.create(
            day_of_week=1, start_time="09:00", end_time="12:00", max_sessions_per_slot=1
        )
        as_coach.scheduling.add_override(date=date(2030, 1, 14), kind="block")
        scope = core.acting_as(member.id)
        scope.bookings.create(coach_id=coach.id, start=datetime(2030, 1, 7, 10, tzinfo=UTC))
        round_trips.clear()
        slots = scope.availability.available_slots(
            coach.id, start_date=date(2030, 1, 7), end_date=date(2030, 1, 21)
        )
        if count:
            assert len(round_trips) == 2, round_trips
        return [s.start for s in slots]

    memory = coachcore.open("memory://", clock=FixedClock(T0))
    assert listing(pg.open(), count=True) == listing(memory, count=False)
