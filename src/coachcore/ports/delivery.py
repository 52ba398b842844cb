"""Ports for side effects: calendar, messaging, notifications, broadcast.

Each is called by the outbox dispatcher after the change has committed, with
the same message possibly more than once (after a crash between delivery and
bookkeeping): adapters must treat ``event.id`` / ``conversation.id`` /
``notification.id`` as idempotency keys. Raising an exception means "not
delivered, retry later"; the dispatcher catches it.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from coachcore.domain.entities import CalendarEvent, Conversation, Notification


@runtime_checkable
class CalendarPort(Protocol):
    """The calendar system that shows coaching sessions."""

    def upsert_event(self, event: CalendarEvent) -> None:
        """Create the event, or replace the stored one with the same ``id``."""
        ...

    def cancel_event(self, event_id: str) -> None:
        """Mark the event cancelled; unknown ids are ignored."""
        ...


@runtime_checkable
class MessagingPort(Protocol):
    """The messaging system that holds coach/member conversations."""

    def open_conversation(self, conversation: Conversation) -> None:
        """Create the conversation (a second call with the same id is a no-op)."""
        ...


@runtime_checkable
class NotifierPort(Protocol):
    """The notification system (in-app, email, push...)."""

    def send(self, notification: Notification) -> None:
        """Deliver one notification; a repeated ``id`` must not be sent twice."""
        ...


@runtime_checkable
class ErasingCalendar(Protocol):
    """Optional: a calendar that can forget a person (erasure of a member).

    Adapters without this method get no erasure message (a no-op): nothing
    coachcore stores depends on it.
    """

    def erase_person(self, user_id: str, event_ids: list[str]) -> None:
        """Delete these events of the erased person, or at least remove the person
        (name, attendance) from them; unknown ids are ignored; repeatable."""
        ...


@runtime_checkable
class ErasingMessaging(Protocol):
    """Optional: a messaging system that can forget a person."""

    def erase_person(self, user_id: str, conversation_ids: list[str]) -> None:
        """Delete or anonymise the person's messages and membership in these
        conversations; unknown ids are ignored; repeatable."""
        ...


@runtime_checkable
class ErasingNotifier(Protocol):
    """Optional: a notification system that can forget a person."""

    def erase_person(self, user_id: str, notification_ids: list[str]) -> None:
        """Delete what is kept of these notifications to the person (inbox
        entries, delivery logs); unknown ids are ignored; repeatable."""
        ...


@runtime_checkable
class BroadcastPort(Protocol):
    """Receives committed domain events, such as slot-availability changes."""

    def publish(self, event: dict[str, Any]) -> None:
        """Push one event to listeners (e.g. WebSocket clients)."""
        ...
