"""The built-in adapters, registered through the same hooks as third-party ones."""

from __future__ import annotations

from typing import Any

from coachcore.adapters.memory.recorders import (
    RecordingCalendar,
    RecordingMessaging,
    RecordingNotifier,
)
from coachcore.adapters.memory.store import MemoryStore
from coachcore.plugins.hookspecs import hookimpl


@hookimpl
def coachcore_store(url: str, cipher: Any, blobs: Any) -> Any:
    if url.startswith("memory:"):
        return MemoryStore(cipher=cipher, blobs=blobs)  # nothing at rest: nothing is sealed
    if url.startswith(("sqlite", "postgresql")):
        from coachcore.adapters.sqlalchemy.store import SqlStore

        return SqlStore.from_url(url, cipher=cipher, blobs=blobs)
    return None


@hookimpl
def coachcore_text_extractor() -> Any:
    from coachcore.adapters.documents import BoundedExtractor

    return BoundedExtractor()


@hookimpl
def coachcore_calendar() -> Any:
    return RecordingCalendar()


@hookimpl
def coachcore_messaging() -> Any:
    return RecordingMessaging()


@hookimpl
def coachcore_notifier() -> Any:
    return RecordingNotifier()
