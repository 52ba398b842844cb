"""The outbox's retention: messages delivered more than N days ago are purged;
recent, pending (leased or not) and failed ones stay."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
import pytest

import coachcore
from backends import Backend
from coachcore.adapters.clock import FixedClock
from coachcore.domain.entities import CATCH_UP_SLACK, OutboxMessage
from coachcore.domain.enums import OutboxChannel, OutboxStatus
from coachcore.errors import ValidationFailed
from coachcore.services.delivery import outbox
from world import World

NOW = datetime(2030, 3, 1, 12, tzinfo=UTC)


def message(mid: str, created: datetime, **fields: Any) -> OutboxMessage:
    return OutboxMessage(
        id=mid,
        idempotency_key=f"key-{mid}",
        channel=OutboxChannel.BROADCAST,
        payload={"type": "slot_changed", "n": mid},
        created_at=created,
        next_attempt_at=created,
        **fields,
    )


def delivered(mid: str, days_ago: float, now: datetime = NOW) -> OutboxMessage:
    at = now - timedelta(days=days_ago)
    return message(
        mid, at - timedelta(minutes=1), status=OutboxStatus.DELIVERED, attempts=1, delivered_at=at
    )


def old_pending(mid: str, now: datetime = NOW, **fields: Any) -> OutboxMessage:
    """Created 60 days ago; due now unless ``fields`` say otherwise."""
    changes = {"next_attempt_at": now, **fields}
    return attrs.evolve(message(mid, now - timedelta(days=60)), **changes)


def keep(core: coachcore.Core, *messages: OutboxMessage) -> None:
    with core.store.unit_of_work(write=True) as uow:
        for item in messages:
            uow.outbox.add(item)
        uow.commit()


def stored(core: coachcore.Core) -> dict[str, OutboxMessage]:
    with core.store.unit_of_work(write=False) as uow:
        return {m.id: m for m in uow.outbox.list()}


def test_old_delivered_messages_go_and_everything_else_stays(
    backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    core = backend.open(FixedClock(NOW))
    old = [delivered(f"old-{n}", 31 + n) for n in range(5)]
    stay = [
        delivered("recent", 29),
        delivered("edge", 30),  # delivered exactly 30 days ago: not more
        old_pending("waiting", next_attempt_at=NOW + timedelta(minutes=10), attempts=3),
        old_pending("leased", claimed_until=NOW + timedelta(minutes=5)),
        attrs.evolve(old_pending("failed"), status=OutboxStatus.FAILED, attempts=8),
    ]
    keep(core, *old, *stay)
    assert core.system.outbox.purgeable(days=30) == 5
    assert set(stored(core)) == {m.id for m in [*old, *stay]}  # counting changed nothing
    monkeypatch.setattr(outbox, "PURGE_BATCH", 2)
    told: list[int] = []
    assert core.system.outbox.purge(days=30, progress=told.append) == 5
    assert told == [2, 2, 1]
    left = stored(core)
    assert set(left) == {m.id for m in stay}
    assert left["leased"].claimed_until == NOW + timedelta(minutes=5)  # untouched
    assert core.system.outbox.purge(days=30) == 0  # idempotent
    assert core.system.outbox.purge(days=1) == 2  # "recent" and "edge" are old by now
    assert set(stored(core)) == {"waiting", "leased", "failed"}


class PurgeWhileDelivering:
    """A broadcast adapter that runs the purge while its dispatcher holds the
    lease on the messages it is delivering."""

    def __init__(self) -> None:
        self.core: coachcore.Core | None = None
        self.purged: int | None = None
        self.seen: dict[str, OutboxMessage] = {}

    @coachcore.hookimpl
    def coachcore_broadcast(self, event: dict[str, Any]) -> None:
        if self.core is not None and self.purged is None:
            self.purged = self.core.system.outbox.purge(days=30)
            self.seen = stored(self.core)


def test_messages_leased_by_a_dispatcher_during_the_purge_stay(
    backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    adapter = PurgeWhileDelivering()
    core = backend.open(FixedClock(NOW), plugins=[adapter])
    monkeypatch.setattr(core.store, "dispatch_on_commit", False)  # the store is shared
    adapter.core = core
    keep(core, *(delivered(f"old-{n}", 40) for n in range(3)), old_pending("a"), old_pending("b"))
    assert core.system.outbox.dispatch() == 2
    assert adapter.purged == 3
    assert set(adapter.seen) == {"a", "b"}
    assert all(m.claimed_until is not None and m.claimed_until > NOW for m in adapter.seen.values())
    after = stored(core)
    assert {m.id: m.status for m in after.values()} == {
        "a": OutboxStatus.DELIVERED,
        "b": OutboxStatus.DELIVERED,
    }
    assert core.system.outbox.purge(days=30) == 0  # delivered just now


def test_a_period_shorter_than_the_live_catch_up_is_refused(world: World) -> None:
    assert timedelta(days=1) >= CATCH_UP_SLACK > timedelta(0)
    keep(world.core, delivered("just-now", 0, world.clock.now()))
    with pytest.raises(ValidationFailed, match="catch up") as refused:
        world.sys.outbox.purge(days=0)
    assert refused.value.details == {"field": "days", "minimum": 1}
    with pytest.raises(ValidationFailed, match="catch up"):
        world.sys.outbox.purgeable(days=0)
    for bad in (-1, 1.5, "30", None, True):
        with pytest.raises(ValidationFailed):
            world.sys.outbox.purge(days=bad)
    with pytest.raises(ValidationFailed):
        world.sys.outbox.purge(days=1, progress="bar")  # type: ignore[arg-type]
    assert set(stored(world.core)) == {"just-now"}


def test_each_run_is_audited_once_with_its_count(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One entry per run, however many batches: its period, cut-off and count."""
    now = world.clock.now()
    old = [delivered(f"old-{n}", 40 + n, now) for n in range(5)]
    keep(world.core, *old, delivered("new", 0, now))
    monkeypatch.setattr(outbox, "PURGE_BATCH", 2)
    assert world.sys.outbox.purge(days=1) == 5
    assert world.sys.outbox.purge(days=1) == 0
    purges = world.sys.audit.list(entity_type="call", entity_id="outbox.purge")
    assert sorted(e.details["count"] for e in purges) == [0, 5]
    assert {e.details["days"] for e in purges} == {1}
    assert {e.details["before"] for e in purges} == {(now - timedelta(days=1)).isoformat()}
    assert {e.actor_id for e in purges} == {world.sys.actor_id}


def test_the_shortest_period_covers_a_listeners_default_catch_up() -> None:
    pglive = pytest.importorskip("coachcore.adapters.pglive", reason="needs psycopg 3")
    listener = pglive.LiveListener("postgresql://app@db.invalid/coaching", lambda event: None)
    assert listener.slack == CATCH_UP_SLACK
    assert outbox.purge_period(1) >= listener.slack
    with pytest.raises(ValidationFailed, match="at least 1"):
        outbox.purge_period(0)
