"""The store contract through the port, one check per function.

Each ``check_*`` takes the host's :class:`~.side.OpenCore`, opens one core over
an empty store, works on ``core.store`` through units of work only, and closes
the core; a broken promise is an ``AssertionError`` naming it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from typing import Any

import attrs

from coachcore.adapters.clock import FixedClock
from coachcore.domain.audit import AuditEntry
from coachcore.domain.entities import Conversation, OutboxMessage, User
from coachcore.domain.enums import ConversationKind, OutboxChannel, OutboxStatus
from coachcore.errors import Conflict
from coachcore.ports.storage import Store
from coachcore.testing.conformance.side import T0, OpenCore

#: Ids that sort differently byte-wise, case-insensitively or by locale.
IDS = ["b", "B", "a", "_x", "a-1", "a_1", "Z9", "é"]


@contextmanager
def opened(open_core: OpenCore) -> Iterator[Store]:
    """The store of a fresh core (clock at :data:`T0`), closed afterwards."""
    core = open_core(FixedClock(T0))
    try:
        yield core.store
    finally:
        core.close()


@contextmanager
def conflict(what: str) -> Iterator[None]:
    """The block must raise ``Conflict``."""
    try:
        yield
    except Conflict:
        return
    raise AssertionError(f"{what}: expected Conflict")


def user(uid: str, email: str, created: datetime = T0) -> User:
    return User(
        id=uid, name=uid, email=email, role="member", created_at=created, updated_at=created
    )


def check_order_by_id_and_duplicates(open_core: OpenCore) -> None:
    """Same-time rows come back by id compared byte-wise (like Python strings);
    a duplicate key or unique key is ``Conflict`` and the unit of work goes on."""
    with opened(open_core) as store:
        with store.unit_of_work(write=True) as uow:
            for i, uid in enumerate(IDS):
                uow.users.add(user(uid, f"{i}@example.com"))
            with conflict("users.add of a taken id"):
                uow.users.add(user("b", "other@example.com"))
                uow.flush()
            with conflict("users.add of a taken email"):
                uow.users.add(user("fresh", "0@example.com"))
                uow.flush()
            uow.users.add(user("later", "later@example.com", T0 - timedelta(days=1)))
            uow.commit()
        with store.unit_of_work(write=False) as uow:
            listed = [u.id for u in uow.users.list()]
            assert listed == ["later", *sorted(IDS)], f"users.list order: {listed}"
            assert uow.users.get("fresh") is None, "a refused add was kept"
            found = uow.users.find(email="3@example.com")
            assert found is not None and found.id == "_x", "users.find(email=...)"


def check_leaving_without_commit_rolls_back(open_core: OpenCore) -> None:
    """Leaving a unit of work without commit, or by an exception, writes
    nothing; after an explicit rollback the unit of work takes more writes."""
    with opened(open_core) as store:
        with store.unit_of_work(write=True) as uow:
            uow.users.add(user("u1", "u1@example.com"))
        try:
            with store.unit_of_work(write=True) as uow:
                uow.users.add(user("u2", "u2@example.com"))
                raise RuntimeError("boom")
        except RuntimeError:
            pass
        with store.unit_of_work(write=True) as uow:
            uow.users.add(user("u3", "u3@example.com"))
            uow.rollback()
            uow.users.add(user("u4", "u4@example.com"))
            uow.commit()
        with store.unit_of_work(write=False) as uow:
            kept = [u.id for u in uow.users.list()]
        assert kept == ["u4"], f"after the rollbacks: {kept}"


def check_datetimes_come_back_aware(open_core: OpenCore) -> None:
    """A datetime comes back timezone-aware and the same instant, microseconds
    included, whatever its offset (SQL stores hand it back in UTC)."""
    plus_five = timezone(timedelta(hours=5))
    local = datetime(2030, 3, 1, 12, 30, 15, 123456, tzinfo=plus_five)
    with opened(open_core) as store:
        with store.unit_of_work(write=True) as uow:
            uow.users.add(user("tz", "tz@example.com", local))
            uow.commit()
        with store.unit_of_work(write=False) as uow:
            back = uow.users.get("tz")
    assert back is not None and back.created_at == local, "not the same instant"
    assert back.created_at.tzinfo is not None, "a naive datetime came back"


def check_conversations_by_participant_and_direct_pair(open_core: OpenCore) -> None:
    """Ids with LIKE wildcards and quotes find exactly their own conversations;
    a second direct conversation of one pair is ``Conflict``."""
    people = ["a_b", "a%b", "axb", 'q"t', "plain"]

    def conv(cid: str, kind: ConversationKind, *who: str, minutes: int = 0) -> Conversation:
        created = T0 + timedelta(minutes=minutes)
        return Conversation(id=cid, kind=kind, participant_ids=who, created_at=created)

    with opened(open_core) as store:
        with store.unit_of_work(write=True) as uow:
            for person in people:
                uow.users.add(user(person, f"{len(person)}{ord(person[1])}@example.com"))
            uow.conversations.add(conv("c1", ConversationKind.DIRECT, "a_b", "plain", minutes=2))
            uow.conversations.add(conv("c2", ConversationKind.DIRECT, "a%b", 'q"t', minutes=1))
            uow.conversations.add(conv("c3", ConversationKind.GROUP, "axb", "a_b", "plain"))
            with conflict("a second direct conversation of a pair"):
                uow.conversations.add(conv("c4", ConversationKind.DIRECT, "plain", "a_b"))
                uow.flush()
            uow.conversations.add(conv("c5", ConversationKind.GROUP, "plain", "a_b", minutes=3))
            uow.commit()
        with store.unit_of_work(write=False) as uow:
            found = {p: [c.id for c in uow.conversations.for_user(p)] for p in people}
            assert found == {
                "a_b": ["c3", "c1", "c5"],
                "a%b": ["c2"],
                "axb": ["c3"],
                'q"t': ["c2"],
                "plain": ["c3", "c1", "c5"],
            }, f"conversations.for_user: {found}"
            direct = uow.conversations.find_direct("plain", "a_b")
            assert direct is not None and direct.id == "c1", "conversations.find_direct"
            assert direct.participant_ids == ("a_b", "plain")
            assert uow.conversations.find_direct("axb", "a_b") is None


def check_outbox_unique_key(open_core: OpenCore) -> None:
    """The outbox's idempotency key is unique (``Conflict``, the unit of work
    goes on) and a payload comes back exactly as written."""
    message = OutboxMessage(
        id="m1",
        idempotency_key="k1",
        channel=OutboxChannel.BROADCAST,
        payload={"type": "x", "n": [1, 2], "nested": {"a": None}},
        created_at=T0,
        next_attempt_at=T0,
    )
    with opened(open_core) as store:
        with store.unit_of_work(write=True) as uow:
            uow.outbox.add(message)
            with conflict("outbox.add of a taken idempotency key"):
                uow.outbox.add(attrs.evolve(message, id="m2"))
                uow.flush()
            uow.outbox.add(attrs.evolve(message, id="m3", idempotency_key="k3"))
            uow.commit()
        with store.unit_of_work(write=False) as uow:
            pending = [m.id for m in uow.outbox.list(status=OutboxStatus.PENDING)]
            assert pending == ["m1", "m3"], f"outbox.list(status=pending): {pending}"
            assert uow.outbox.get("m1") == message, "the payload changed on its way"


def _message(mid: str, days_ago: int, **fields: Any) -> OutboxMessage:
    created = T0 - timedelta(days=days_ago)
    return OutboxMessage(
        id=mid,
        idempotency_key=f"k-{mid}",
        channel=OutboxChannel.BROADCAST,
        payload={"type": "x"},
        created_at=created,
        **{"next_attempt_at": created, **fields},
    )


def check_outbox_purge_delivered(open_core: OpenCore) -> None:
    """``outbox.purge_delivered(before, limit)`` deletes only delivered messages
    delivered before ``before`` (not at it), oldest first, at most ``limit``,
    and returns how many; ``count_delivered(before)`` counts the same ones.
    Pending (leased or not) and failed messages stay, however old."""
    before, delivered = T0 - timedelta(days=1), OutboxStatus.DELIVERED
    old = [
        _message(f"d{i}", 30 - i, status=delivered, delivered_at=T0 - timedelta(days=9))
        for i in range(3)
    ]
    kept = [
        _message("edge", 40, status=delivered, delivered_at=before),
        _message("recent", 2, status=delivered, delivered_at=T0),
        _message("pending", 50, next_attempt_at=T0 + timedelta(minutes=5)),
        _message("leased", 50, claimed_until=T0 + timedelta(minutes=5)),
        _message("failed", 50, status=OutboxStatus.FAILED, attempts=8, last_error="boom"),
    ]
    with opened(open_core) as store:
        with store.unit_of_work(write=True) as uow:
            for message in [*kept, *reversed(old)]:
                uow.outbox.add(message)
            uow.commit()
        with store.unit_of_work(write=True) as uow:
            counted = uow.outbox.count_delivered(before)
            assert counted == 3, f"outbox.count_delivered: {counted}, not 3"
            first = uow.outbox.purge_delivered(before, 2)
            assert first == 2, f"outbox.purge_delivered(limit=2) returned {first}"
            gone = {"d0", "d1"} & {m.id for m in uow.outbox.list()}
            assert not gone, f"the oldest were not purged first: {sorted(gone)} left"
            rest = uow.outbox.purge_delivered(before, 2), uow.outbox.purge_delivered(before, 2)
            assert rest == (1, 0), f"outbox.purge_delivered after the first batch: {rest}"
            uow.commit()
        with store.unit_of_work(write=False) as uow:
            left = sorted(m.id for m in uow.outbox.list())
            assert left == sorted(m.id for m in kept), f"outbox after the purge: {left}"
            assert uow.outbox.count_delivered(before) == 0, "counted a purged message"


def _entry(eid: str, created: datetime) -> AuditEntry:
    return AuditEntry(
        id=eid,
        actor_id="system",
        action="x.done",
        entity_type="x",
        entity_id=eid,
        details={"n": eid},
        created_at=created,
    )


def check_audit_purge_before(open_core: OpenCore) -> None:
    """``audit.purge_before(before, limit)`` deletes entries created before
    ``before`` (not at it), oldest first (created_at, then id byte-wise), at
    most ``limit``, and returns how many; ``count_before(before)`` counts the
    same ones."""
    before, old = T0 - timedelta(days=1), T0 - timedelta(days=9)
    aged = [_entry("b", old), _entry("B", old), _entry("a", old + timedelta(hours=1))]
    kept = [_entry("edge", before), _entry("recent", T0)]
    with opened(open_core) as store:
        with store.unit_of_work(write=True) as uow:
            for entry in [*kept, *aged]:
                uow.audit.add(entry)
            uow.commit()
        with store.unit_of_work(write=True) as uow:
            counted = uow.audit.count_before(before)
            assert counted == 3, f"audit.count_before: {counted}, not 3"
            first = uow.audit.purge_before(before, 1)
            assert first == 1, f"audit.purge_before(limit=1) returned {first}"
            left = {e.id for e in uow.audit.list()}
            assert "B" not in left and {"a", "b"} <= left, f"not the oldest first: {sorted(left)}"
            rest = uow.audit.purge_before(before, 1), uow.audit.purge_before(before, 5)
            assert rest == (1, 1), f"audit.purge_before after the first batch: {rest}"
            uow.commit()
        with store.unit_of_work(write=False) as uow:
            ids = sorted(e.id for e in uow.audit.list())
            assert ids == sorted(e.id for e in kept), f"audit log after the purge: {ids}"
            assert uow.audit.count_before(before) == 0, "counted a purged entry"


#: Every contract check, by name (the sister systems' in :mod:`.sisters`).
CONTRACT: dict[str, Callable[[OpenCore], Any]] = {
    "order_by_id_and_duplicates": check_order_by_id_and_duplicates,
    "leaving_without_commit_rolls_back": check_leaving_without_commit_rolls_back,
    "datetimes_come_back_aware": check_datetimes_come_back_aware,
    "conversations_by_participant_and_direct_pair": (
        check_conversations_by_participant_and_direct_pair
    ),
    "outbox_unique_key": check_outbox_unique_key,
    "outbox_purge_delivered": check_outbox_purge_delivered,
    "audit_purge_before": check_audit_purge_before,
}
