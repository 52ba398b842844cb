"""The clock port: the only way the core learns the time."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol, runtime_checkable


@runtime_checkable
class Clock(Protocol):
    """Returns the current instant."""

    def now(self) -> datetime:
        """The current time as a timezone-aware datetime."""
        ...
