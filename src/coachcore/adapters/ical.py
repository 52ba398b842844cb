"""An iCalendar (RFC 5545) calendar: per-person ``.ics`` feeds of coaching sessions.

``IcsCalendar`` satisfies ``CalendarPort``. It keeps the latest version of
every event (thread-safe; ``event.id`` is the idempotency key) and renders,
with the ``icalendar`` package (``pip install coachcore[ical]``), the feed of
one coach or member: ``feed_for(user_id)``. A host serves those bytes as
``text/calendar`` at a private URL that calendar apps subscribe to.

Each session keeps one ``UID`` (``<session_id>@<uid_domain>``) for its whole
life; ``SEQUENCE`` grows with every reschedule and on cancel, and a cancelled
session stays in the feed with ``STATUS:CANCELLED`` so subscribers drop it.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import attrs

from coachcore.adapters.clock import SystemClock
from coachcore.domain.entities import CalendarEvent
from coachcore.domain.enums import CalendarEventStatus
from coachcore.ports.clock import Clock

try:
    import icalendar
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        "coachcore.adapters.ical needs the icalendar package: pip install 'coachcore[ical]'"
    ) from exc

PRODID = "-//coachcore//Coaching sessions//EN"


@attrs.frozen
class _Stored:
    event: CalendarEvent
    stamped_at: datetime


class IcsCalendar:
    """Keeps calendar events and renders them as iCalendar feeds."""

    def __init__(
        self,
        *,
        clock: Clock | None = None,
        uid_domain: str = "coachcore",
        name: str = "Coaching sessions",
    ) -> None:
        self.uid_domain, self.name = uid_domain, name
        self._clock = clock or SystemClock()
        self._events: dict[str, _Stored] = {}
        self._cancelled: set[str] = set()  # cancels that arrived before their event
        self._erased: set[str] = set()  # events of erased people, never shown again
        self._lock = threading.Lock()

    def upsert_event(self, event: CalendarEvent) -> None:
        """Store the event unless a newer version (higher sequence) is already here."""
        with self._lock:
            if event.id in self._erased:
                return
            if event.id in self._cancelled:
                self._cancelled.discard(event.id)
                event = _cancelled(event)
            current = self._events.get(event.id)
            if current is None or event.sequence >= current.event.sequence:
                self._events[event.id] = _Stored(event, self._clock.now())

    def cancel_event(self, event_id: str) -> None:
        """Mark the event cancelled (once); a cancel for an unknown id is remembered."""
        with self._lock:
            current = self._events.get(event_id)
            if current is None:
                self._cancelled.add(event_id)
            elif current.event.status != CalendarEventStatus.CANCELLED:
                self._events[event_id] = _Stored(_cancelled(current.event), self._clock.now())

    def erase_person(self, user_id: str, event_ids: list[str]) -> None:
        """Delete the erased person's events from every feed (the optional
        ``ErasingCalendar`` port); a later upsert of them is ignored."""
        with self._lock:
            for event_id in event_ids:
                self._events.pop(event_id, None)
                self._erased.add(event_id)

    def event(self, event_id: str) -> CalendarEvent | None:
        """The stored version of one event, or None."""
        with self._lock:
            stored = self._events.get(event_id)
        return None if stored is None else stored.event

    def events_for(self, user_id: str) -> list[CalendarEvent]:
        """Events the user created or attends, by start time."""
        return [s.event for s in self._stored_for(user_id)]

    def feed_for(self, user_id: str) -> bytes:
        """The ``.ics`` feed (a VCALENDAR) of the user's events, as bytes."""
        calendar = self._calendar()
        for stored in self._stored_for(user_id):
            calendar.add_component(self.vevent(stored.event, stored.stamped_at))
        feed: bytes = calendar.to_ical()
        return feed

    def uid(self, event: CalendarEvent) -> str:
        """The iCalendar UID of an event: stable for the session's whole life."""
        return f"{event.session_id}@{self.uid_domain}"

    def vevent(self, event: CalendarEvent, stamped_at: datetime) -> icalendar.Event:
        """One VEVENT for ``event``; times are written in UTC."""
        vevent = icalendar.Event()
        vevent.add("uid", self.uid(event))
        vevent.add("dtstamp", _utc(stamped_at))
        vevent.add("last-modified", _utc(stamped_at))
        vevent.add("dtstart", _utc(event.start))
        vevent.add("dtend", _utc(event.end))
        vevent.add("sequence", event.sequence)
        vevent.add("status", _status(event))
        vevent.add("summary", event.title)
        vevent.add("categories", [event.category])
        if event.link:
            vevent.add("url", event.link)
            vevent.add("description", f"Session: {event.link}")
        return vevent

    def _calendar(self) -> icalendar.Calendar:
        calendar = icalendar.Calendar()
        calendar.add("prodid", PRODID)
        calendar.add("version", "2.0")
        calendar.add("calscale", "GREGORIAN")
        calendar.add("method", "PUBLISH")
        calendar.add("x-wr-calname", self.name)
        return calendar

    def _stored_for(self, user_id: str) -> list[_Stored]:
        with self._lock:
            mine = [s for s in self._events.values() if _involves(s.event, user_id)]
        return sorted(mine, key=lambda s: (s.event.start, s.event.id))


def _involves(event: CalendarEvent, user_id: str) -> bool:
    return event.creator_id == user_id or user_id in event.attendee_ids


def _cancelled(event: CalendarEvent) -> CalendarEvent:
    return attrs.evolve(event, status=CalendarEventStatus.CANCELLED, sequence=event.sequence + 1)


def _status(event: CalendarEvent) -> str:
    return "CANCELLED" if event.status == CalendarEventStatus.CANCELLED else "CONFIRMED"


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)
