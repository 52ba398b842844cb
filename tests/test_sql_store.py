"""The store contract through the services on every backend, plus SQL-only behaviour
(the port-level checks are in ``coachcore.testing.conformance``, run by
``tests/test_conformance.py``)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import attrs
import pytest

import coachcore
from backends import T0, Backend, BackendPool, BackendUnavailable
from coachcore import BookingStatus, Role, SessionStatus
from coachcore.adapters.clock import FixedClock
from coachcore.domain.entities import User
from coachcore.domain.enums import OutboxChannel
from coachcore.errors import Conflict, SlotFull, StoreError
from coachcore.plugins.hookspecs import hookimpl

MONDAY = date(2030, 1, 7)


@attrs.define
class World:
    core: coachcore.Core
    clock: FixedClock
    coach: User
    members: list[User]

    def as_(self, user: User) -> coachcore.Scope:
        return self.core.acting_as(user.id)

    def slot(self, hour: int, minute: int = 0) -> datetime:
        """A Monday slot start (coach in UTC)."""
        return datetime(2030, 1, 7, hour, minute, tzinfo=UTC)


def make_world(backend: Backend, *, capacity: int = 2, members: int = 3, **options: Any) -> World:
    clock = FixedClock(T0)
    core = backend.open(clock, **options)
    coach = core.system.users.create(name="Cleo", email="cleo@example.com", role=Role.COACH)
    people = [
        core.system.signup_member(name=f"M{i}", email=f"m{i}@example.com", coach_id=coach.id)
        for i in range(members)
    ]
    core.acting_as(coach.id).availability.create(
        day_of_week=1,
        start_time="09:00",
        end_time="17:00",
        max_sessions_per_slot=capacity,
        buffer_minutes=15,
    )
    return World(core, clock, coach, people)


def test_full_slot_rejects_and_cancel_frees_a_seat(backend: Backend) -> None:
    w = make_world(backend, capacity=2)
    a, b, c = w.members
    start = w.slot(9)
    first = w.as_(a).bookings.create(coach_id=w.coach.id, start=start, duration=60)
    second = w.as_(b).bookings.create(coach_id=w.coach.id, start=start, duration=60)
    assert (first.status, second.status) == (BookingStatus.CONFIRMED, BookingStatus.CONFIRMED)
    with pytest.raises(SlotFull) as full:
        w.as_(c).bookings.create(coach_id=w.coach.id, start=start, duration=60)
    assert full.value.message == "This slot is now full, please choose another"
    stored = w.as_(c).bookings.list()
    assert [x.status for x in stored] == [BookingStatus.REJECTED]
    assert "booking_rejected" in w.core.notifier.kinds_for(c.id)  # type: ignore[attr-defined]

    cancelled = w.as_(a).bookings.cancel(first.id, reason="ill")
    assert cancelled.status == BookingStatus.CANCELLED
    assert w.as_(a).sessions.get(first.session_id).status == SessionStatus.CANCELLED
    again = w.as_(c).bookings.create(coach_id=w.coach.id, start=start, duration=60)
    assert again.status == BookingStatus.CONFIRMED
    slots = w.as_(c).availability.available_slots(
        w.coach.id, start_date=MONDAY, end_date=MONDAY, duration=60
    )
    assert start not in [s.start for s in slots]  # full again


def test_seats_held_are_the_members_live_sessions_in_the_range(backend: Backend) -> None:
    """What the one-seat rule and the listing read: this member's sessions with
    this coach starting in the range, not cancelled, by start; not the slot's
    other seats, nor other starts."""
    w = make_world(backend, capacity=3)
    a, b, _ = w.members
    mine = w.as_(a).bookings.create(coach_id=w.coach.id, start=w.slot(9), duration=60)
    w.as_(b).bookings.create(coach_id=w.coach.id, start=w.slot(9), duration=60)
    later = w.as_(a).bookings.create(coach_id=w.coach.id, start=w.slot(11), duration=60)

    def held(member: User, start: datetime, end: datetime | None = None) -> list[str]:
        until = end or start + timedelta(microseconds=1)
        with w.core.store.unit_of_work(write=False) as uow:
            return [s.id for s in uow.sessions.seats_held(w.coach.id, member.id, start, until)]

    assert held(a, w.slot(9)) == [mine.session_id]
    assert held(a, w.slot(11)) == [later.session_id]
    assert held(a, w.slot(10)) == []
    assert held(a, w.slot(9), w.slot(12)) == [mine.session_id, later.session_id]
    assert held(a, w.slot(9), w.slot(11)) == [mine.session_id]  # the end is not in it
    w.as_(a).bookings.cancel(mine.id, reason="ill")
    assert held(a, w.slot(9)) == []
    assert len(held(b, w.slot(9))) == 1


def test_reschedule_complete_and_rate_once(backend: Backend) -> None:
    w = make_world(backend, capacity=1, members=1)
    (m,) = w.members
    booking = w.as_(m).bookings.create(coach_id=w.coach.id, start=w.slot(10), duration=60)
    moved = w.as_(w.coach).sessions.update(
        booking.session_id,
        scheduled_at=w.slot(14),
        override=True,
        override_reason="set up by the test",
    )
    assert moved.scheduled_at == w.slot(14)
    event = w.core.calendar.events[moved.calendar_event_id]  # type: ignore[attr-defined]
    assert event.start == w.slot(14)
    w.clock.set(w.slot(15))
    done = w.as_(w.coach).sessions.complete(moved.id, coach_notes="Good start")
    assert done.status == SessionStatus.COMPLETED
    rated = w.as_(m).sessions.rate(moved.id, rating=5, feedback="Helpful")
    assert rated.rating == 5
    with pytest.raises(Conflict):
        w.as_(m).sessions.rate(moved.id, rating=4)
    assert w.as_(m).coaches.get(w.coach.id).average_rating == 5.0


def test_reminders_are_sent_once(backend: Backend) -> None:
    w = make_world(backend, capacity=1, members=1)
    (m,) = w.members
    booking = w.as_(m).bookings.create(coach_id=w.coach.id, start=w.slot(9), duration=60)
    session = w.as_(m).sessions.get(booking.session_id)
    w.clock.set(session.scheduled_at - timedelta(hours=23))
    assert w.core.system.reminders.send_due() == 1
    assert w.core.system.reminders.send_due() == 0
    w.clock.set(session.scheduled_at - timedelta(minutes=30))
    assert w.core.system.reminders.send_due() == 1
    assert w.core.system.reminders.send_due() == 0
    kinds = w.core.notifier.kinds_for(m.id)  # type: ignore[attr-defined]
    assert kinds.count("reminder_24h") == 1 and kinds.count("reminder_1h") == 1


class FlakyNotifier:
    """Fails until ``healthy`` is set, then records."""

    def __init__(self) -> None:
        self.healthy = False
        self.sent: list[Any] = []

    def send(self, notification: Any) -> None:
        if not self.healthy:
            raise ConnectionError("notification service down")
        self.sent.append(notification)


def test_outbox_keeps_what_failed_and_delivers_it_later(backend: Backend) -> None:
    notifier = FlakyNotifier()
    w = make_world(backend, capacity=1, members=1, notifier=notifier)
    (m,) = w.members
    w.as_(m).bookings.create(coach_id=w.coach.id, start=w.slot(9), duration=60)
    pending = w.core.system.outbox.pending()
    assert pending and all(p.channel == OutboxChannel.NOTIFICATION for p in pending)
    assert all(p.attempts >= 1 and p.last_error for p in pending)
    notifier.healthy = True
    w.clock.advance(timedelta(hours=1))
    assert w.core.system.outbox.dispatch() == len(pending)
    assert w.core.system.outbox.pending() == []
    assert w.core.system.outbox.dispatch() == 0
    kinds = [str(n.kind) for n in notifier.sent]
    assert kinds.count("booking_confirmed") == 1


def _user(uid: str, email: str, created: datetime = T0) -> User:
    return User(
        id=uid, name=uid, email=email, role="member", created_at=created, updated_at=created
    )


# --- SQL only -----------------------------------------------------------------------


@pytest.fixture(params=["sqlite", "postgresql"])
def sql_url(request: pytest.FixtureRequest, backend_pool: BackendPool) -> str:
    """The URL of a migrated database of each SQL backend (shared with ``backend``)."""
    try:
        chosen = backend_pool.get(request.param)
    except BackendUnavailable as why:
        pytest.skip(str(why))
    return chosen.url()


class UseStore:
    def __init__(self, store: Any) -> None:
        self.store = store

    @hookimpl
    def coachcore_store(self, url: str) -> Any:
        return self.store


def test_sql_datetimes_come_back_in_utc(sql_url: str) -> None:
    """Beyond the conformance check (aware, same instant): SQL stores hand back UTC."""
    from coachcore.adapters.sqlalchemy import SqlStore

    plus_five = timezone(timedelta(hours=5))
    local = datetime(2030, 3, 1, 12, 30, 15, 123456, tzinfo=plus_five)
    store = SqlStore.from_url(sql_url)
    try:
        with store.unit_of_work(write=True) as uow:
            uow.users.add(_user("tz", "tz-utc@example.com", local))
            back = uow.users.get("tz")
            assert back is not None and back.created_at == local
            assert back.created_at.utcoffset() == timedelta(0)
    finally:
        store.close()


def test_host_connection_rollback_discards_coachcore_writes(sql_url: str) -> None:
    from coachcore.adapters.sqlalchemy import SqlStore, create_store_engine

    engine = create_store_engine(sql_url)
    try:
        with engine.connect() as conn:
            host_tx = conn.begin()
            store = SqlStore(conn)
            assert store.dispatch_on_commit is False
            core = coachcore.open(sql_url, clock=FixedClock(T0), plugins=[UseStore(store)])
            coach = core.system.users.create(
                name="Host", email="host-tx@example.com", role=Role.COACH
            )
            assert core.system.users.get(coach.id).email == "host-tx@example.com"
            assert conn.in_transaction() and host_tx.is_active
            host_tx.rollback()
            core.close()
        check = SqlStore(engine)
        with check.unit_of_work(write=False) as uow:
            assert uow.users.find(email="host-tx@example.com") is None
    finally:
        engine.dispose()


def test_host_connection_commit_keeps_coachcore_writes(sql_url: str) -> None:
    from coachcore.adapters.sqlalchemy import SqlStore, create_store_engine

    engine = create_store_engine(sql_url)
    try:
        with engine.connect() as conn, conn.begin():
            core = coachcore.open(sql_url, plugins=[UseStore(SqlStore(conn))])
            core.system.users.create(name="Kept", email="host-kept@example.com", role=Role.COACH)
        with SqlStore(engine).unit_of_work(write=False) as uow:
            assert uow.users.find(email="host-kept@example.com") is not None
    finally:
        engine.dispose()


def test_store_over_a_host_engine_does_not_dispose_it(sql_url: str) -> None:
    from coachcore.adapters.sqlalchemy import SqlStore, create_store_engine

    engine = create_store_engine(sql_url)
    try:
        SqlStore(engine).close()
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT 1").scalar() == 1
    finally:
        engine.dispose()


def test_open_new_sqlite_file_and_reopen(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh' / 'coaching.db'}"
    (tmp_path / "fresh").mkdir()
    core = coachcore.open(url, clock=FixedClock(T0))
    coach = core.system.users.create(name="Cleo", email="cleo@example.com", role=Role.COACH)
    core.close()
    again = coachcore.open(url, clock=FixedClock(T0))
    try:
        assert again.system.users.get(coach.id) == coach
        assert again.system.coaches.get(coach.id).user_id == coach.id
    finally:
        again.close()


def test_sqlite_pragmas_and_begin_immediate(tmp_path: Path) -> None:
    from coachcore.adapters.sqlalchemy import SqlStore

    store = SqlStore.from_url(f"sqlite:///{tmp_path / 'p.db'}")
    try:
        with store.unit_of_work(write=True) as uow:
            raw = uow.db.conn
            assert raw.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert raw.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert raw.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
    finally:
        store.close()


def test_busy_sqlite_write_is_retried_then_store_error(tmp_path: Path) -> None:
    import sqlite3

    from coachcore.adapters.sqlalchemy import SqlStore

    path = tmp_path / "busy.db"
    store = SqlStore.from_url(f"sqlite:///{path}", busy_timeout=0.05, retries=2)
    blocker = sqlite3.connect(path, isolation_level=None)
    try:
        blocker.execute("BEGIN IMMEDIATE")
        with pytest.raises(StoreError) as busy, store.unit_of_work(write=True) as uow:
            uow.users.list()  # never reached: BEGIN IMMEDIATE waits for the blocker
        assert busy.value.details == {"retryable": True}
        with store.unit_of_work(write=False) as uow:  # WAL: readers are not blocked
            assert uow.users.list() == []
        blocker.execute("ROLLBACK")
        with store.unit_of_work(write=True) as uow:
            uow.users.add(_user("ok", "ok@example.com"))
            uow.commit()
    finally:
        blocker.close()
        store.close()


def test_postgresql_url_without_driver_means_psycopg(backend_pool: BackendPool) -> None:
    from coachcore.adapters.sqlalchemy import SqlStore

    try:
        url = backend_pool.get("postgresql").url()
    except BackendUnavailable as why:
        pytest.skip(str(why))
    store = SqlStore.from_url(url.replace("postgresql+psycopg://", "postgresql://"))
    try:
        assert store.bind.dialect.driver == "psycopg"
    finally:
        store.close()


@pytest.fixture
def memory_sqlite() -> Iterator[coachcore.Core]:
    core = coachcore.open("sqlite://", clock=FixedClock(T0))
    yield core
    core.close()


def test_in_memory_sqlite_works_across_threads(memory_sqlite: coachcore.Core) -> None:
    import threading

    errors: list[BaseException] = []

    def create(i: int) -> None:
        try:
            memory_sqlite.system.users.create(
                name=f"T{i}", email=f"t{i}@example.com", role=Role.MEMBER
            )
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=create, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(memory_sqlite.system.users.list()) == 8


def test_postgresql_is_skipped_with_a_reason_where_no_binaries_exist(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import backends
    import coachcore.testing.pgserver as pgserver

    monkeypatch.setattr(pgserver, "find_pg_bin", lambda: None)
    assert "postgresql" in backends.backend_names()
    with pytest.raises(BackendUnavailable, match="PostgreSQL binaries"):
        BackendPool(tmp_path).get("postgresql")
