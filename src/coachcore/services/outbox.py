"""The outbox dispatcher: delivers committed side effects with retries.

Messages are claimed with a lease in one unit of work, delivered outside any
transaction, then marked delivered (or rescheduled with exponential backoff,
or parked as failed after ``max_attempts``) in another. An adapter's
exception never escapes ``dispatch()``; adapters receive the message's
entity id as idempotency key, so a crash between delivery and bookkeeping
repeats a delivery that the adapter recognises.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import attrs

from coachcore.domain import checks
from coachcore.domain.entities import CalendarEvent, Conversation, Notification, OutboxMessage
from coachcore.domain.enums import OutboxChannel, OutboxStatus
from coachcore.errors import BusinessRuleViolation, NotFound
from coachcore.ports.delivery import CalendarPort, MessagingPort, NotifierPort
from coachcore.ports.storage import Store
from coachcore.serialization import from_dict
from coachcore.services.context import Runtime, Tx

log = logging.getLogger("coachcore.outbox")


@attrs.define
class Deliveries:
    """The adapters side effects are delivered to."""

    calendar: CalendarPort
    messaging: MessagingPort
    notifier: NotifierPort
    broadcast: Callable[[dict[str, Any]], None]

    def deliver(self, message: OutboxMessage) -> None:
        payload = message.payload
        match message.channel:
            case OutboxChannel.NOTIFICATION:
                self.notifier.send(from_dict(payload, Notification))
            case OutboxChannel.CALENDAR_UPSERT:
                self.calendar.upsert_event(from_dict(payload, CalendarEvent))
            case OutboxChannel.CALENDAR_CANCEL:
                self.calendar.cancel_event(payload["event_id"])
            case OutboxChannel.CONVERSATION:
                self.messaging.open_conversation(from_dict(payload, Conversation))
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

    def dispatch(self) -> int:
        """Deliver everything due now; returns how many messages were delivered."""
        delivered = 0
        while True:
            claimed = self._claim()
            outcomes = self._deliver(claimed)
            self._record(outcomes)
            delivered += sum(1 for _, error in outcomes if error is None)
            if not outcomes or (len(claimed) < self.batch and len(outcomes) == len(claimed)):
                return delivered

    def _deliver(self, claimed: list[OutboxMessage]) -> list[tuple[OutboxMessage, str | None]]:
        """Deliver the claimed messages while their lease holds. Once it has
        ended (slow adapters), another dispatcher may have claimed the rest:
        those are left unattempted, and the next claim takes them again."""
        outcomes: list[tuple[OutboxMessage, str | None]] = []
        for message in claimed:
            lease = message.claimed_until
            if outcomes and lease is not None and self.now() >= lease:
                break
            outcomes.append((message, self._try(message)))
        return outcomes

    def _claim(self) -> list[OutboxMessage]:
        with self.store.unit_of_work(write=True) as uow:
            now = self.now()
            claimed = list(uow.outbox.claim_due(now, now + self.lease, self.batch))
            uow.commit()
        return claimed

    def _try(self, message: OutboxMessage) -> str | None:
        try:
            self.deliveries.deliver(message)
        except Exception as exc:  # an adapter failure must never escape
            log.warning("outbox delivery failed: %s %s: %r", message.channel, message.id, exc)
            return f"{type(exc).__name__}: {exc}"[:2000]
        return None

    def _record(self, outcomes: list[tuple[OutboxMessage, str | None]]) -> None:
        if not outcomes:
            return
        with self.store.unit_of_work(write=True) as uow:
            now = self.now()
            for message, error in outcomes:
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

    def dispatch(self) -> int:
        """Deliver pending side effects now; returns how many were delivered."""
        self._rt.read(self._actor, lambda tx: tx.actor.require("outbox:manage"))
        return self._dispatcher.dispatch()

    def pending(self) -> list[OutboxMessage]:
        """Messages not yet delivered (including those waiting for a retry)."""
        return self._rt.read(self._actor, lambda tx: self._list(tx, tx.uow.outbox.pending))

    def failed(self) -> list[OutboxMessage]:
        """Messages parked after ``max_attempts`` failures, with their last error."""
        return self._rt.read(self._actor, lambda tx: self._list(tx, tx.uow.outbox.failed))

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

        return self._rt.write(self._actor, run)

    @staticmethod
    def _list(tx: Tx, rows: Callable[[], Any]) -> list[OutboxMessage]:
        tx.actor.require("outbox:manage")
        return list(rows())
