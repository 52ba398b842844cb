"""Live slot availability: a coachcore plugin feeding an asyncio fan-out hub.

coachcore calls ``coachcore_broadcast(event)`` after commit, in whatever
thread delivered the outbox (with the memory store: the thread that made the
booking, here one of FastAPI's worker threads). The hook only queues the
event; one hub thread turns it into a message (re-querying the slot through
the public API, so the numbers are the ones a fresh page load would show)
and hands it to every watching socket's event loop with
``loop.call_soon_threadsafe``. A single hub thread keeps messages in commit
order and keeps the re-query out of the request that made the booking.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import coachcore
from coachcore import hookimpl
from coachcore.errors import CoachCoreError

log = logging.getLogger("fastapi_app.hub")

Message = dict[str, Any]


class Subscription:
    """One watching socket: its event loop and its queue of messages."""

    def __init__(self, coach_id: str, loop: asyncio.AbstractEventLoop) -> None:
        self.coach_id = coach_id
        self.loop = loop
        self.queue: asyncio.Queue[Message] = asyncio.Queue(maxsize=1000)

    def offer(self, message: Message) -> None:
        """Runs on ``self.loop``: queue the message (a stuck socket drops the oldest)."""
        if self.queue.full():
            self.queue.get_nowait()
        self.queue.put_nowait(message)


class SlotHub:
    """The coachcore plugin (``coachcore.open(url, plugins=[hub])``) and the fan-out."""

    def __init__(self) -> None:
        self._core: coachcore.Core | None = None
        self._lock = threading.Lock()
        self._subscriptions: dict[str, set[Subscription]] = {}
        self._worker: ThreadPoolExecutor | None = None
        self.published = 0  # messages handed to sockets' loops, for tests and metrics

    def attach(self, core: coachcore.Core) -> None:
        """Give the hub the core it re-queries slots with (``create_app`` does this)."""
        self._core = core

    # -- the plugin side (any thread) ---------------------------------------------

    @hookimpl
    def coachcore_broadcast(self, event: dict[str, Any]) -> None:
        """Hand the committed event to the hub thread; never raises into coachcore."""
        coach_id = event.get("coach_id")
        if not isinstance(coach_id, str):
            return
        with self._lock:
            if not self._subscriptions.get(coach_id):
                return  # nobody is watching this coach
            if self._worker is None:
                self._worker = ThreadPoolExecutor(1, thread_name_prefix="slot-hub")
            self._worker.submit(self._publish, dict(event))

    def _publish(self, event: dict[str, Any]) -> None:
        try:
            message = self.message_for(event)
        except Exception:  # a broken event must not stop the hub thread
            log.exception("could not build a live message for %r", event)
            return
        with self._lock:
            targets = list(self._subscriptions.get(message["coach_id"], ()))
        for subscription in targets:
            try:
                subscription.loop.call_soon_threadsafe(subscription.offer, message)
            except RuntimeError:  # that socket's loop has closed
                self.unsubscribe(subscription)
            else:
                self.published += 1

    # -- messages -------------------------------------------------------------------

    def message_for(self, event: dict[str, Any]) -> Message:
        """The message sockets receive for one committed event.

        ``slot_changed``: ``coach_id``, ``start``, ``duration``, ``change`` and the
        slot's ``available_capacity`` (0 when the slot is full or a neighbour's
        buffer blocks it), plus ``day``: every bookable slot of the same duration
        on that coach-local day, so a page can also update neighbours whose
        buffers changed. Other events pass through with their ``type`` and
        ``coach_id`` (pages reload their list on ``availability_changed``).
        Each message carries the committed event's ``event_id``.
        """
        if event.get("type") != "slot_changed":
            return {
                "type": event.get("type"),
                "coach_id": event["coach_id"],
                "event_id": event.get("event_id"),
            }
        coach_id = event["coach_id"]
        start = datetime.fromisoformat(event["start"])
        duration = int(event["duration"])
        message: Message = {
            "type": "slot_changed",
            "change": event.get("change"),
            "coach_id": coach_id,
            "start": event["start"],
            "duration": duration,
            "available_capacity": event.get("available_capacity"),
            "max_capacity": event.get("max_capacity"),
            "event_id": event.get("event_id"),
        }
        try:
            day, slots = self._slots_of_day(coach_id, start, duration)
        except CoachCoreError as error:  # e.g. the coach was deactivated meanwhile
            log.warning("re-query failed for %s: %s", coach_id, error.message)
            if message["available_capacity"] is None:
                message["available_capacity"] = 0
            return message
        mine = next((s for s in slots if datetime.fromisoformat(s["start"]) == start), None)
        # the fresh count wins over the event's: it also covers later commits
        message["available_capacity"] = 0 if mine is None else mine["available_capacity"]
        if mine is not None:
            message["max_capacity"] = mine["max_capacity"]
        message["date"] = day.isoformat()
        message["day"] = slots
        return message

    def _slots_of_day(
        self, coach_id: str, start: datetime, duration: int
    ) -> tuple[date, list[dict[str, Any]]]:
        core = self._require_core()
        zone = ZoneInfo(core.system.users.get(coach_id).timezone)
        day = start.astimezone(zone).date()
        slots = core.system.availability.available_slots(
            coach_id, start_date=day, end_date=day, duration=duration
        )
        return day, [
            {
                "start": s.start.isoformat(),
                "local_start": s.local_start.isoformat(),
                "available_capacity": s.available_capacity,
                "max_capacity": s.max_capacity,
            }
            for s in slots
        ]

    def _require_core(self) -> coachcore.Core:
        if self._core is None:
            raise RuntimeError("SlotHub.attach(core) was not called")
        return self._core

    # -- the socket side (event loop) ----------------------------------------------

    def subscribe(self, coach_id: str) -> Subscription:
        """Called from a socket's handler; messages arrive on its running loop."""
        subscription = Subscription(coach_id, asyncio.get_running_loop())
        with self._lock:
            self._subscriptions.setdefault(coach_id, set()).add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        with self._lock:
            watchers = self._subscriptions.get(subscription.coach_id)
            if watchers is not None:
                watchers.discard(subscription)
                if not watchers:
                    del self._subscriptions[subscription.coach_id]

    def watchers(self, coach_id: str) -> int:
        with self._lock:
            return len(self._subscriptions.get(coach_id, ()))

    def close(self) -> None:
        """Stop the hub thread (pending messages are still published)."""
        with self._lock:
            worker, self._worker = self._worker, None
        if worker is not None:
            worker.shutdown(wait=True)
