"""Reference side-effect adapters that record what they receive.

They are the executable specification of the delivery ports: each treats the
entity id as an idempotency key and keeps the full history for inspection.
"""

from __future__ import annotations

import threading
from typing import Any

import attrs

from coachcore.domain.entities import CalendarEvent, Conversation, Notification
from coachcore.domain.enums import CalendarEventStatus


class RecordingCalendar:
    """Keeps the current version of every event and the list of calls."""

    def __init__(self) -> None:
        self.events: dict[str, CalendarEvent] = {}
        self.calls: list[tuple[str, str]] = []
        self.erased: set[str] = set()
        self._lock = threading.Lock()

    def upsert_event(self, event: CalendarEvent) -> None:
        with self._lock:
            if event.id in self.erased:
                return
            self.events[event.id] = event
            self.calls.append(("upsert", event.id))

    def cancel_event(self, event_id: str) -> None:
        with self._lock:
            self.calls.append(("cancel", event_id))
            event = self.events.get(event_id)
            if event is not None:
                cancelled = attrs.evolve(event, status=CalendarEventStatus.CANCELLED)
                self.events[event_id] = cancelled

    def for_session(self, session_id: str) -> list[CalendarEvent]:
        return [e for e in self.events.values() if e.session_id == session_id]

    def erase_person(self, user_id: str, event_ids: list[str]) -> None:
        """Delete the erased person's events."""
        with self._lock:
            self.calls.append(("erase", user_id))
            for event_id in event_ids:
                self.events.pop(event_id, None)
                self.erased.add(event_id)


class RecordingMessaging:
    """Keeps every conversation opened, once per id."""

    def __init__(self) -> None:
        self.conversations: dict[str, Conversation] = {}
        self.erased: dict[str, list[str]] = {}
        self._lock = threading.Lock()

    def open_conversation(self, conversation: Conversation) -> None:
        with self._lock:
            self.conversations.setdefault(conversation.id, conversation)

    def erase_person(self, user_id: str, conversation_ids: list[str]) -> None:
        """Remember that the person's part of these conversations is gone."""
        with self._lock:
            self.erased[user_id] = sorted(conversation_ids)


class RecordingNotifier:
    """Keeps every notification sent, once per id; counts repeats."""

    def __init__(self) -> None:
        self.sent: list[Notification] = []
        self.repeats = 0
        self._seen: set[str] = set()
        self._lock = threading.Lock()

    def send(self, notification: Notification) -> None:
        with self._lock:
            if notification.id in self._seen:
                self.repeats += 1
                return
            self._seen.add(notification.id)
            self.sent.append(notification)

    def erase_person(self, user_id: str, notification_ids: list[str]) -> None:
        """Forget what was sent to the erased person (their ids stay seen)."""
        with self._lock:
            self.sent = [n for n in self.sent if n.recipient_id != user_id]

    def kinds_for(self, recipient_id: str) -> list[str]:
        return [str(n.kind) for n in self.sent if n.recipient_id == recipient_id]


class RecordingBroadcast:
    """Keeps every broadcast event, in order."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def publish(self, event: dict[str, Any]) -> None:
        with self._lock:
            self.events.append(event)
