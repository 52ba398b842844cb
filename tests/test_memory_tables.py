"""The memory store's tables: undo journal, indexes and occupancy tally after
inserts, replacements, deletes and rollbacks (nested units of work included)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
import pytest

from coachcore.adapters.memory.store import MemoryStore
from coachcore.domain.entities import OutboxMessage, Session
from coachcore.domain.enums import OutboxChannel, OutboxStatus, SessionStatus
from coachcore.errors import Conflict

T0 = datetime(2030, 1, 7, 9, tzinfo=UTC)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def session(sid: str, start: datetime, duration: int = 60, member: str = "m1") -> Session:
    return Session(
        id=sid,
        calendar_event_id=f"ev-{sid}",
        member_id=member,
        coach_id="c1",
        duration=duration,
        scheduled_at=start,
        created_at=T0,
        updated_at=T0,
    )


def view(store: MemoryStore) -> dict[str, Any]:
    """Everything a reader can see of the coach's sessions."""
    with store.unit_of_work(write=False) as uow:
        low, high = T0 - timedelta(days=1), T0 + timedelta(days=1)
        micros, lengths, counts = uow.sessions.occupancy("c1", low, high)
        rows = [
            (EPOCH + timedelta(microseconds=us), n, c)
            for us, n, c in zip(micros, lengths, counts, strict=True)
        ]
        return {
            "m1": [s.id for s in uow.sessions.list(member_id="m1")],
            "m2": [s.id for s in uow.sessions.list(member_id="m2")],
            "coach": [s.id for s in uow.sessions.list(coach_id="c1")],
            "held": [s.id for s in uow.sessions.seats_held("c1", "m1", low, high)],
            "occupancy": rows,
        }


def test_rollback_restores_rows_indexes_and_tally() -> None:
    store = MemoryStore()
    with store.unit_of_work(write=True) as uow:
        uow.sessions.add(session("a", T0))
        uow.sessions.add(session("b", T0))
        uow.commit()
    before = view(store)
    assert before["occupancy"] == [(T0, 60, 2)]
    with store.unit_of_work(write=True) as uow:
        uow.sessions.add(session("c", T0 + timedelta(hours=1), member="m2"))
        moved = attrs.evolve(uow.sessions.get("a"), scheduled_at=T0 + timedelta(hours=2))
        uow.sessions.update(moved)
        cancelled = attrs.evolve(uow.sessions.get("b"), status=SessionStatus.CANCELLED)
        uow.sessions.update(cancelled)
        uow.sessions.update(attrs.evolve(uow.sessions.get("c"), member_id="m1"))
        during = view(store)
        assert during["occupancy"] == [
            (T0 + timedelta(hours=1), 60, 1),
            (T0 + timedelta(hours=2), 60, 1),
        ]
        assert during["m2"] == [] and during["m1"] == ["b", "c", "a"]
        # no commit: everything is undone on the way out
    assert view(store) == before


def test_a_failed_insert_changes_nothing() -> None:
    store = MemoryStore()
    with store.unit_of_work(write=True) as uow:
        uow.sessions.add(session("a", T0))
        uow.commit()
    before = view(store)
    with store.unit_of_work(write=True) as uow, pytest.raises(Conflict):
        uow.sessions.add(session("a", T0 + timedelta(hours=3)))
    assert view(store) == before


def test_nested_unit_of_work_keeps_the_outer_journal() -> None:
    store = MemoryStore()
    before = view(store)
    with store.unit_of_work(write=True) as outer:
        outer.sessions.add(session("a", T0))
        with store.unit_of_work(write=True) as inner:
            inner.sessions.add(session("b", T0))
            inner.commit()
        with store.unit_of_work(write=True) as inner:
            inner.sessions.add(session("c", T0))
            # not committed: undone when the inner one ends
        assert view(store)["coach"] == ["a", "b"]
        outer.sessions.add(session("d", T0))
        # the outer one does not commit: its writes go, the inner commit stays
    assert view(store)["coach"] == ["b"]
    assert view(store) != before


def test_explicit_rollback_then_more_writes() -> None:
    store = MemoryStore()
    with store.unit_of_work(write=True) as uow:
        uow.sessions.add(session("a", T0))
        uow.rollback()
        uow.sessions.add(session("b", T0, duration=30))
        uow.commit()
    state = view(store)
    assert state["coach"] == ["b"] and state["occupancy"] == [(T0, 30, 1)]


def test_tally_counts_intervals_sharing_a_start() -> None:
    store = MemoryStore()
    with store.unit_of_work(write=True) as uow:
        for i, length in enumerate([60, 30, 60, 90, 30]):
            uow.sessions.add(session(f"s{i}", T0, duration=length))
        uow.commit()
    assert view(store)["occupancy"] == [(T0, 30, 2), (T0, 60, 2), (T0, 90, 1)]
    with store.unit_of_work(write=True) as uow:
        for sid in ("s1", "s4"):
            current = uow.sessions.get(sid)
            uow.sessions.update(attrs.evolve(current, status=SessionStatus.CANCELLED))
        uow.commit()
    assert view(store)["occupancy"] == [(T0, 60, 2), (T0, 90, 1)]


def message(mid: str, lease: datetime | None) -> OutboxMessage:
    return OutboxMessage(
        id=mid,
        idempotency_key=f"key-{mid}",
        channel=OutboxChannel.BROADCAST,
        payload={"n": mid},
        created_at=T0,
        attempts=2,
        next_attempt_at=T0,
        claimed_until=lease,
        last_error="earlier failure",
    )


def test_mark_delivered_writes_what_the_dispatcher_would() -> None:
    store = MemoryStore()
    lease = T0 + timedelta(minutes=5)
    ours, taken, gone = message("a", lease), message("b", lease), message("c", lease)
    with store.unit_of_work(write=True) as uow:
        uow.outbox.add(ours)
        uow.outbox.add(attrs.evolve(taken, claimed_until=lease + timedelta(minutes=5)))
        uow.commit()
    at = T0 + timedelta(minutes=1)
    with store.unit_of_work(write=True) as uow:
        uow.outbox.mark_delivered([ours, taken, gone], at)
        uow.commit()
    with store.unit_of_work(write=False) as uow:
        assert uow.outbox.get("a") == attrs.evolve(
            ours,
            status=OutboxStatus.DELIVERED,
            attempts=3,
            delivered_at=at,
            claimed_until=None,
            last_error=None,
        )
        # another dispatcher holds it under a later lease: left alone
        assert uow.outbox.get("b") == attrs.evolve(
            taken, claimed_until=lease + timedelta(minutes=5)
        )
        assert uow.outbox.get("c") is None
        assert [m.id for m in uow.outbox.list(status=OutboxStatus.PENDING)] == ["b"]
