"""Side effects as outbox messages written in the caller's unit of work."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from coachcore.domain.entities import CalendarEvent, Conversation, Notification, OutboxMessage
from coachcore.domain.enums import NotificationKind, OutboxChannel
from coachcore.serialization import to_dict
from coachcore.services.runtime.transaction import Tx, new_id


def emit(
    tx: Tx,
    channel: OutboxChannel,
    payload: dict[str, Any],
    key: str | None = None,
    entity: Any = None,
    *,
    last: bool = False,
) -> None:
    """Record one outbox message with a freshly minted idempotency key.

    ``entity`` is what ``payload`` was made from (``to_dict(entity)``): when
    this process delivers the message right after commit, the adapter gets it
    as it is instead of a copy rebuilt from the payload. When it does
    (``tx.lease_until`` is set), the message is written leased to it.

    Messages are delivered by ``created_at``, then id; ``last`` stamps the
    message a microsecond later, so it goes after every other message of the
    transaction (erasure must not be followed by the changes that led to it).
    """
    message = OutboxMessage(
        id=new_id(),
        idempotency_key=key or new_id(),
        channel=channel,
        payload=payload,
        created_at=tx.now + timedelta(microseconds=1) if last else tx.now,
        next_attempt_at=tx.now,
        claimed_until=tx.lease_until,
    )
    tx.uow.outbox.add(message)
    if tx.lease_until is not None:
        tx.fresh.append((message, entity))


def notify(
    tx: Tx,
    recipient_id: str,
    kind: NotificationKind,
    title: str,
    body: str = "",
    *,
    session_id: str | None = None,
    booking_id: str | None = None,
) -> Notification:
    """Store a notification and queue its delivery (its id is the idempotency key)."""
    notification = Notification(
        id=new_id(),
        recipient_id=recipient_id,
        kind=kind,
        title=title,
        body=body,
        session_id=session_id,
        booking_id=booking_id,
        created_at=tx.now,
    )
    tx.uow.notifications.add(notification)
    emit(tx, OutboxChannel.NOTIFICATION, to_dict(notification), notification.id, notification)
    return notification


def upsert_event(tx: Tx, event: CalendarEvent) -> None:
    emit(tx, OutboxChannel.CALENDAR_UPSERT, to_dict(event), entity=event)


def cancel_event(tx: Tx, event_id: str) -> None:
    emit(tx, OutboxChannel.CALENDAR_CANCEL, {"event_id": event_id})


def open_conversation(tx: Tx, conversation: Conversation) -> None:
    tx.uow.conversations.add(conversation)
    emit(tx, OutboxChannel.CONVERSATION, to_dict(conversation), entity=conversation)


def broadcast(tx: Tx, event: dict[str, Any]) -> None:
    """Queue a committed domain event for the broadcast hook; the event gets an
    ``id`` (its idempotency key, the same on every re-delivery)."""
    key = new_id()
    emit(tx, OutboxChannel.BROADCAST, {**event, "id": key}, key)


def erase_person(
    tx: Tx,
    user_id: str,
    *,
    event_ids: list[str],
    conversation_ids: list[str],
    notification_ids: list[str],
) -> None:
    """Queue the erasure messages for the calendar, messaging and notifier
    adapters, delivered after the transaction's other messages."""
    person = {"user_id": user_id}
    emit(tx, OutboxChannel.CALENDAR_ERASE, {**person, "event_ids": event_ids}, last=True)
    emit(
        tx,
        OutboxChannel.MESSAGING_ERASE,
        {**person, "conversation_ids": conversation_ids},
        last=True,
    )
    emit(
        tx,
        OutboxChannel.NOTIFIER_ERASE,
        {**person, "notification_ids": notification_ids},
        last=True,
    )
