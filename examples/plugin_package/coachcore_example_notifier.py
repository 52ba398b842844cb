"""An example coachcore plugin: every core opened gets a ``PrintingNotifier``.

Installed, it is found through the ``coachcore`` entry-point group; nothing
in the host changes. A notifier passed to ``coachcore.open(notifier=...)``
still wins over it.
"""

from __future__ import annotations

import sys
import threading
from typing import Any, TextIO

from coachcore import Notification, hookimpl


class PrintingNotifier:
    """Prints one line per notification and keeps them; a repeated id is skipped."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.sent: list[Notification] = []
        self._stream = stream
        self._seen: set[str] = set()
        self._lock = threading.Lock()

    def send(self, notification: Notification) -> None:
        """Record and print the notification once per id (its idempotency key)."""
        with self._lock:
            if notification.id in self._seen:
                return
            self._seen.add(notification.id)
            self.sent.append(notification)
        stream = self._stream or sys.stdout
        print(
            f"[coachcore] {notification.kind} -> {notification.recipient_id}: {notification.title}",
            file=stream,
            flush=True,
        )


@hookimpl
def coachcore_notifier() -> Any:
    """A fresh notifier for each core."""
    return PrintingNotifier()
