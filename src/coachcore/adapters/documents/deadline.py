"""The time budget of one extraction."""

from __future__ import annotations

import time


class Deadline:
    """A budget of the calling thread's CPU time after which extraction stops
    (CPU rather than wall time, so a busy machine does not cut texts short)."""

    def __init__(self, seconds: float) -> None:
        self._end = time.thread_time() + seconds

    def passed(self) -> bool:
        return time.thread_time() >= self._end
