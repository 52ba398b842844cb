"""The outbox dispatcher: delivers committed side effects with retries.

Messages are claimed with a lease in one unit of work and delivered outside
any transaction, one at a time; each delivery is recorded (delivered, or
rescheduled with exponential backoff, or parked as failed after
``max_attempts``) in a unit of work of its own as soon as it completes. A
dispatcher that dies therefore leaves at most the one message it was
delivering to be sent again once its lease ends. An adapter's exception never
escapes ``dispatch()``; adapters receive the message's entity id as
idempotency key, so that repeated delivery is one the receiver recognises.

After a write use case, on a store that dispatches on commit, the claim needs
no unit of work of its own: the write wrote its messages leased to this
process and claimed the other due ones just before its commit
(:meth:`Runtime.write <coachcore.services.runtime.transaction.Runtime.write>`), then
hands them over; ``dispatch()`` delivers those first, the write's own as the
entities they were made from (not rebuilt from the payload).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import attrs

from coachcore.domain import checks
from coachcore.domain.entities import (
    CATCH_UP_SLACK,
    CalendarEvent,
    Conversation,
    Notification,
    OutboxMessage,
)
from coachcore.domain.enums import OutboxChannel, OutboxStatus
from coachcore.errors import BusinessRuleViolation, NotFound, ValidationFailed
from coachcore.ports.delivery import CalendarPort, MessagingPort, NotifierPort
from coachcore.ports.storage import Store, UnitOfWork
from coachcore.serialization import from_dict
from coachcore.services.runtime.batches import RetentionRun
from coachcore.services.runtime.transaction import Fresh, Runtime, Tx

log = logging.getLogger("coachcore.outbox")

PURGE_BATCH = 500
"""Delivered messages deleted per transaction by ``purge``."""


@attrs.define
class Deliveries:
    """The adapters side effects are delivered to."""

    calendar: CalendarPort
    messaging: MessagingPort
    notifier: NotifierPort
    broadcast: Callable[[dict[str, Any]], None]

    def deliver(self, message: OutboxMessage, entity: Any = None) -> None:
        """Deliver one message; ``entity``, if given, is the object its payload
        was made from (``to_dict(entity)``), delivered as it is."""
        payload = message.payload
        match message.channel:
            case OutboxChannel.NOTIFICATION:
                if not isinstance(entity, Notification):
                    entity = from_dict(payload, Notification)
                self.notifier.send(entity)
            case OutboxChannel.CALENDAR_UPSERT:
                if not isinstance(entity, CalendarEvent):
                    entity = from_dict(payload, CalendarEvent)
                self.calendar.upsert_event(entity)
            case OutboxChannel.CALENDAR_CANCEL:
                self.calendar.cancel_event(payload["event_id"])
            case OutboxChannel.CONVERSATION:
                if not isinstance(entity, Conversation):
                    entity = from_dict(payload, Conversation)
                self.messaging.open_conversation(entity)
            case OutboxChannel.BROADCAST:
                self.broadcast(payload)
            case OutboxChannel.CALENDAR_ERASE:
                self._erase(self.calendar, payload, "event_ids")
            case OutboxChannel.MESSAGING_ERASE:
                self._erase(self.messaging, payload, "conversation_ids")
            case OutboxChannel.NOTIFIER_ERASE:
                self._erase(self.notifier, payload, "notification_ids")

    @staticmethod
    def _erase(adapter: object, payload: dict[str, Any], ids: str) -> None:
        """Tell an adapter to forget a person; one without ``erase_person`` (the
        optional ``Erasing*`` ports) has nothing to forget: a no-op."""
        erase = getattr(adapter, "erase_person", None)
        if erase is None:
            log.info("%s keeps no personal data to erase", type(adapter).__name__)
            return
        erase(payload["user_id"], list(payload[ids]))


@attrs.define
class Dispatcher:
    """Delivers due outbox messages; safe to run from several threads or processes."""

    store: Store
    now: Callable[[], datetime]
    deliveries: Deliveries
    max_attempts: int = 8
    base_delay: timedelta = timedelta(seconds=5)
    lease: timedelta = timedelta(minutes=5)
    batch: int = 200
    _handed: threading.local = attrs.field(
        factory=threading.local, init=False, eq=False, repr=False
    )

    def __attrs_post_init__(self) -> None:
        # ``coachcore.open`` builds the dispatcher on its runtime's clock
        # (``Runtime.now``): that runtime's writes then hand their messages over
        # to it. The first one stays: ``after_commit`` runs the core's own, and
        # another dispatcher made later on the same clock must not take over.
        runtime = getattr(self.now, "__self__", None)
        if isinstance(runtime, Runtime) and runtime.store is self.store and runtime.outbox is None:
            runtime.outbox = self

    def dispatch(self, progress: Callable[[int], None] | None = None) -> int:
        """Deliver everything due now; returns how many messages were delivered.
        ``progress``, if given, is called with the count of each delivered batch."""
        tell = progress or _silent
        delivered = 0
        handed = getattr(self._handed, "items", None)
        self._handed.items = None
        if handed is not None:
            messages, entities, more = handed
            count, finished = self._deliver(messages, entities)
            delivered += count
            tell(count)
            if finished and not more:
                return delivered
        while True:
            claimed = self._claim()
            count, finished = self._deliver(claimed)
            delivered += count
            tell(count)
            if not claimed or (len(claimed) < self.batch and finished):
                return delivered

    def _deliver(
        self, claimed: Sequence[OutboxMessage], entities: Mapping[str, Any] | None = None
    ) -> tuple[int, bool]:
        """Deliver the claimed messages in order while their lease holds, recording
        each as it completes; returns (how many were delivered, whether all were
        attempted). Once the lease has ended (slow adapters), another dispatcher
        may have claimed the rest: those are left, and the next claim takes them
        again. ``entities`` maps message ids to what their payloads were made from."""
        delivered = 0
        for position, message in enumerate(claimed):
            lease = message.claimed_until
            if position and lease is not None and self.now() >= lease:
                return delivered, False
            entity = entities.get(message.id) if entities else None
            error = self._try(message, entity)
            self._record(message, error)
            delivered += error is None
        return delivered, True

    # -- the hand-over from a write use case (see ``Runtime.write``) -------------------

    def lease_until(self, now: datetime) -> datetime:
        """The lease a write gives the messages it writes, for this process."""
        return now + self.lease

    def claim_others(self, uow: UnitOfWork, now: datetime) -> list[OutboxMessage]:
        """Claim, inside a write's unit of work, the due messages nobody holds
        (the write's own are leased already): what ``dispatch()`` after the
        commit would have claimed first."""
        return list(uow.outbox.claim_due(now, now + self.lease, self.batch))

    def hand_over(self, fresh: Sequence[Fresh], others: list[OutboxMessage]) -> None:
        """What the next ``dispatch()`` in this thread delivers before it claims
        anything: the claimed others (older) first, then the write's own
        messages. It goes on claiming only if ``others`` filled a batch."""
        messages = others + [message for message, _ in fresh]
        entities = {message.id: entity for message, entity in fresh if entity is not None}
        self._handed.items = (messages, entities, len(others) >= self.batch)

    def drop_handover(self) -> None:
        """Forget a hand-over that ``dispatch()`` did not take (its messages stay
        leased: any dispatcher delivers them once the lease has ended)."""
        self._handed.items = None

    def _claim(self) -> list[OutboxMessage]:
        with self.store.unit_of_work(write=True) as uow:
            now = self.now()
            claimed = list(uow.outbox.claim_due(now, now + self.lease, self.batch))
            uow.commit()
        return claimed

    def _try(self, message: OutboxMessage, entity: Any = None) -> str | None:
        try:
            self.deliveries.deliver(message, entity)
        except Exception as exc:  # an adapter failure must never escape
            log.warning("outbox delivery failed: %s %s: %r", message.channel, message.id, exc)
            return f"{type(exc).__name__}: {exc}"[:2000]
        return None

    def _record(self, message: OutboxMessage, error: str | None) -> None:
        """Record one attempt in its own unit of work, under the lease it was made with."""
        with self.store.unit_of_work(write=True) as uow:
            now = self.now()
            if error is None:
                uow.outbox.mark_delivered([message], now)
            elif _still_ours(uow.outbox.get(message.id), message):
                uow.outbox.update(self._after(message, error, now))
            uow.commit()

    def _after(self, message: OutboxMessage, error: str | None, now: datetime) -> OutboxMessage:
        attempts = message.attempts + 1
        if error is None:
            return attrs.evolve(
                message,
                status=OutboxStatus.DELIVERED,
                attempts=attempts,
                delivered_at=now,
                claimed_until=None,
                last_error=None,
            )
        if attempts >= self.max_attempts:
            return attrs.evolve(
                message,
                status=OutboxStatus.FAILED,
                attempts=attempts,
                claimed_until=None,
                last_error=error,
            )
        delay = self.base_delay * (2 ** (attempts - 1))
        return attrs.evolve(
            message,
            attempts=attempts,
            next_attempt_at=now + delay,
            claimed_until=None,
            last_error=error,
        )


class Outbox:
    """``core.system.outbox``: deliver, inspect and retry side effects."""

    def __init__(self, rt: Runtime, actor_id: str, dispatcher: Dispatcher) -> None:
        self._rt, self._actor, self._dispatcher = rt, actor_id, dispatcher

    def dispatch(self, *, progress: Callable[[int], None] | None = None) -> int:
        """Deliver pending side effects now; returns how many were delivered.
        ``progress``, if given, is called with the count of each delivered batch
        (a command line's progress bar)."""
        tell = checks.callback("progress", progress)
        self._rt.read(self._actor, lambda tx: tx.actor.require("outbox:manage"))
        return self._dispatcher.dispatch(tell)

    def purge(self, *, days: Any, progress: Callable[[int], None] | None = None) -> int:
        """Delete the messages delivered more than ``days`` ago, in short
        transactions of up to ``PURGE_BATCH`` (500) each; returns how many.
        Pending messages (leased by a dispatcher or waiting for a retry) and
        failed ones stay. ``days`` is at least 1, so that it covers what live
        listeners read back when they catch up
        (:data:`~coachcore.domain.entities.CATCH_UP_SLACK`); a shorter period
        is ``ValidationFailed``. ``progress``, if given, is called with the
        count of each purged batch. Needs ``outbox:manage``. The run writes
        one audit entry (see :class:`~coachcore.services.runtime.batches.RetentionRun`)."""
        tell = checks.callback("progress", progress)

        def delete(tx: Tx, before: datetime, limit: int) -> int:
            return tx.uow.outbox.purge_delivered(before, limit)

        run = RetentionRun("outbox.purge", "outbox:manage", purge_period(days), delete, PURGE_BATCH)
        return run.run(lambda b: self._rt.write(self._actor, b, action="outbox.purge"), tell)

    def purgeable(self, *, days: Any) -> int:
        """How many messages ``purge(days=...)`` would delete now; changes nothing."""
        period = purge_period(days)

        def run(tx: Tx) -> int:
            tx.actor.require("outbox:manage")
            return tx.uow.outbox.count_delivered(tx.now - period)

        return self._rt.read(self._actor, run)

    def pending(self) -> list[OutboxMessage]:
        """Messages not yet delivered (including those waiting for a retry)."""
        return self._rt.read(self._actor, lambda tx: self._list(tx, OutboxStatus.PENDING))

    def due(self) -> list[OutboxMessage]:
        """Pending messages a ``dispatch()`` now would deliver (due, not leased by a
        dispatcher at work), oldest first; changes nothing."""

        def run(tx: Tx) -> list[OutboxMessage]:
            pending = self._list(tx, OutboxStatus.PENDING)
            return [m for m in pending if _due(m, tx.now)]

        return self._rt.read(self._actor, run)

    def failed(self) -> list[OutboxMessage]:
        """Messages parked after ``max_attempts`` failures, with their last error."""
        return self._rt.read(self._actor, lambda tx: self._list(tx, OutboxStatus.FAILED))

    def retry(self, message_id: Any) -> OutboxMessage:
        """Put a failed message back in the queue, due now."""
        mid = checks.identifier("message_id", message_id)

        def run(tx: Tx) -> OutboxMessage:
            tx.actor.require("outbox:manage")
            message = tx.uow.outbox.get(mid)
            if message is None:
                raise NotFound("Outbox message not found")
            if message.status != OutboxStatus.FAILED:
                raise BusinessRuleViolation("Only a failed message can be retried")
            again = attrs.evolve(
                message, status=OutboxStatus.PENDING, attempts=0, next_attempt_at=tx.now
            )
            tx.uow.outbox.update(again)
            return again

        return self._rt.write(self._actor, run, action="outbox.retry")

    @staticmethod
    def _list(tx: Tx, status: OutboxStatus) -> list[OutboxMessage]:
        tx.actor.require("outbox:manage")
        return list(tx.uow.outbox.list(status=status))


def purge_period(days: Any) -> timedelta:
    """The retention period of delivered messages, ``days`` long: a whole number
    of days, never shorter than the live listeners' catch-up (a purge must not
    delete an event a reconnecting listener still reads back)."""
    period = timedelta(days=checks.integer("days", days, low=0, high=36_500))
    if period < CATCH_UP_SLACK:
        shortest = -(-CATCH_UP_SLACK // timedelta(days=1))
        minutes = CATCH_UP_SLACK // timedelta(minutes=1)
        raise ValidationFailed(
            f"days: must be at least {shortest}: live listeners read the last {minutes} "
            "minute(s) of events back from the outbox when they catch up after a "
            "reconnect, so a purge must leave those",
            details={"field": "days", "minimum": shortest},
        )
    return period


def _still_ours(current: OutboxMessage | None, claimed: OutboxMessage) -> bool:
    """Whether a failed attempt may still be recorded: the message is pending
    under the lease this dispatcher took. Once that lease ended, another
    dispatcher may have claimed and delivered it; recording the late failure
    would put it back to pending and deliver it again."""
    return (
        current is not None
        and current.status == OutboxStatus.PENDING
        and current.claimed_until == claimed.claimed_until
    )


def _due(message: OutboxMessage, now: datetime) -> bool:
    unleased = message.claimed_until is None or message.claimed_until <= now
    return message.next_attempt_at <= now and unleased


def _silent(count: int) -> None:
    """No progress to report to."""
