"""Clocks: the system clock and a settable one for tests and demos."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta


class SystemClock:
    """The real time, in UTC."""

    def now(self) -> datetime:
        """The current time, UTC."""
        return datetime.now(UTC)


class FixedClock:
    """A clock that stands still until moved; thread-safe."""

    def __init__(self, now: datetime) -> None:
        if now.tzinfo is None:
            raise ValueError("FixedClock needs an aware datetime")
        self._now = now
        self._lock = threading.Lock()

    def now(self) -> datetime:
        """The time the clock was set to."""
        with self._lock:
            return self._now

    def set(self, now: datetime) -> None:
        """Move the clock to ``now`` (an aware datetime)."""
        with self._lock:
            self._now = now

    def advance(self, delta: timedelta) -> datetime:
        """Move the clock forward by ``delta`` and return the new time."""
        with self._lock:
            self._now += delta
            return self._now
