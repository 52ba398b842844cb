"""The audit log's retention: entries created more than N days ago are
purged in batches; each run logs one entry; the period never reaches into
what the denied-attempt rate limit counts; an erasure racing a purge ends."""

from __future__ import annotations

import threading
from collections.abc import Collection, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

import coachcore
from backends import Backend
from coachcore.adapters.clock import FixedClock
from coachcore.domain.audit import AuditEntry
from coachcore.errors import Forbidden, ValidationFailed
from coachcore.services.compliance import audit
from coachcore.services.runtime import denials
from world import World

NOW = datetime(2030, 3, 1, 12, tzinfo=UTC)


def entry(eid: str, created: datetime, **fields: Any) -> AuditEntry:
    given = {"actor_id": "someone", "action": "x.done", "entity_type": "x", "entity_id": eid}
    return AuditEntry(id=eid, details={"n": eid}, created_at=created, **{**given, **fields})


def keep(core: coachcore.Core, *entries: AuditEntry) -> None:
    with core.store.unit_of_work(write=True) as uow:
        for item in entries:
            uow.audit.add(item)
        uow.commit()


def stored(core: coachcore.Core) -> dict[str, AuditEntry]:
    with core.store.unit_of_work(write=False) as uow:
        return {e.id: e for e in uow.audit.list()}


def purges(core: coachcore.Core) -> list[AuditEntry]:
    return core.system.audit.list(entity_type="call", entity_id=audit.PURGE)


def test_old_entries_go_in_batches_and_the_run_logs_one_entry(
    backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(audit, "PURGE_BATCH", 2)
    core = backend.open(FixedClock(NOW))
    old = [entry(f"old-{n}", NOW - timedelta(days=31 + n)) for n in range(5)]
    stay = [
        entry("recent", NOW - timedelta(days=29)),
        entry("edge", NOW - timedelta(days=30)),  # created exactly 30 days ago: not more
        entry("denied-now", NOW, entity_type=denials.DENIED),
    ]
    keep(core, *reversed(old), *stay)
    assert core.system.audit.purgeable(days=30) == 5
    assert set(stored(core)) == {e.id for e in [*old, *stay]}  # counting changed nothing
    told: list[int] = []
    assert core.system.audit.purge(days=30, progress=told.append) == 5
    assert told == [2, 2, 1]
    [run] = purges(core)
    assert run.details == {"count": 5, "days": 30, "before": (NOW - timedelta(days=30)).isoformat()}
    assert (run.action, run.actor_id, run.created_at) == (audit.PURGE, "system", NOW)
    assert set(stored(core)) == {e.id for e in stay} | {run.id}  # one entry, not one a batch
    assert core.system.audit.purge(days=30) == 0  # idempotent; logged all the same
    assert sorted(e.details["count"] for e in purges(core)) == [0, 5]
    core.close()


def test_a_run_deletes_up_to_the_cut_off_it_started_with(
    backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(audit, "PURGE_BATCH", 1)
    clock = FixedClock(NOW)
    core = backend.open(clock)
    keep(core, entry("a", NOW - timedelta(days=3)), entry("b", NOW - timedelta(days=2)))
    keep(core, entry("c", NOW - timedelta(hours=25)))
    seen: list[int] = []

    def later(count: int) -> None:  # the clock moves on while the run goes
        seen.append(count)
        clock.advance(timedelta(hours=12))

    assert core.system.audit.purge(days=1, progress=later) == 3
    assert seen == [1, 1, 1, 0]
    [run] = purges(core)
    assert run.details["count"] == 3 and run.created_at == NOW
    assert set(stored(core)) == {run.id}
    core.close()


def test_a_period_the_denied_attempt_limit_still_counts_is_refused(world: World) -> None:
    assert timedelta(days=audit.SHORTEST_RETENTION) >= denials.WINDOW
    keep(world.core, entry("just-now", world.clock.now() - timedelta(seconds=30)))
    for call in (world.sys.audit.purge, world.sys.audit.purgeable):
        with pytest.raises(ValidationFailed, match="at least 1: the denied-attempt") as refused:
            call(days=0)
        assert refused.value.details == {"field": "days", "minimum": 1}
    for bad in (-1, 1.5, "30", None, True, 36_501):
        with pytest.raises(ValidationFailed):
            world.sys.audit.purge(days=bad)
    with pytest.raises(ValidationFailed):
        world.sys.audit.purge(days=1, progress="bar")  # type: ignore[arg-type]
    assert set(stored(world.core)) == {"just-now"}  # and no purge was logged


def test_the_rate_limit_still_holds_after_the_shortest_purge(world: World) -> None:
    member = world.member()
    before = world.clock.now() - timedelta(seconds=30)
    tried = [
        entry(f"tried-{n}", before, actor_id=member.id, entity_type=denials.DENIED)
        for n in range(denials.PER_ACTOR)
    ]
    keep(world.core, *tried)
    assert world.sys.audit.purge(days=audit.SHORTEST_RETENTION) == 0
    with pytest.raises(Forbidden):
        world.core.acting_as(member.id).audit.list()
    logged = world.sys.audit.denied(actor_id=member.id)
    assert {e.id for e in logged} == {e.id for e in tried}  # the limit counted them all


def test_purging_needs_audit_manage(world: World) -> None:
    member, admin = world.member(), world.admin()
    keep(world.core, entry("old", world.clock.now() - timedelta(days=9)))
    as_member = world.core.acting_as(member.id)
    with pytest.raises(Forbidden, match="audit:manage"):
        as_member.audit.purge(days=1)
    with pytest.raises(Forbidden, match="audit:manage"):
        as_member.audit.purgeable(days=1)
    tried = {e.action for e in world.sys.audit.denied(actor_id=member.id)}
    assert tried == {audit.PURGE, "audit.purgeable"}
    assert "old" in stored(world.core)
    assert world.core.acting_as(admin.id).audit.purge(days=1) == 1


def test_an_erasure_racing_a_purge_still_erases(
    backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The purge commits between the erasure's read of the audit log and its
    rewrite of the override reasons: on PostgreSQL from another connection;
    elsewhere, where writers take turns, deleted in the erasure's own unit of
    work, which is what the erasure then sees."""
    nine = datetime(2030, 1, 7, 9, tzinfo=UTC)
    clock = FixedClock(nine - timedelta(days=3))
    core = backend.open(clock)
    w = World(core, clock)
    coach = w.coach()
    member = w.member(coach)
    placed = core.acting_as(coach.id).sessions.create(
        member_id=member.id,
        coach_id=coach.id,
        scheduled_at=nine,
        override=True,
        override_reason="Zebra asked for it",
    )
    clock.set(nine)
    repository = type(_audit_repository(core))
    read = repository.about
    raced: list[int] = []

    def about_then_purged(self: Any, entity_ids: Collection[str]) -> Sequence[AuditEntry]:
        found = read(self, entity_ids)
        if not raced and placed.id in entity_ids:
            raced.append(_purge_meanwhile(backend, core, self, found))
        return found

    monkeypatch.setattr(repository, "about", about_then_purged)
    erased = core.system.privacy.erase(member.id)
    assert erased.erased_at is not None and raced and raced[0] >= 1
    assert core.system.audit.list(entity_type="session", entity_id=placed.id) == []
    core.close()


def _audit_repository(core: coachcore.Core) -> Any:
    with core.store.unit_of_work(write=False) as uow:
        return uow.audit


def _purge_meanwhile(
    backend: Backend, core: coachcore.Core, repository: Any, found: Sequence[AuditEntry]
) -> int:
    if backend.name != "postgresql":
        for gone in found:
            repository.delete(gone.id)
        return len(found)
    done: list[int] = []
    other = threading.Thread(target=lambda: done.append(core.system.audit.purge(days=1)))
    other.start()
    other.join(timeout=30)
    return done[0]
