"""The stores the shared tests run on: memory, SQLite and PostgreSQL.

Each backend's ``open(clock)`` returns a core over an *empty* store, so a
test (or a hypothesis example) can call it as often as it likes.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import coachcore
from coachcore.adapters.clock import FixedClock

T0 = datetime.fromisoformat("2030-01-01T08:00:00+00:00")


class Backend:
    name = "memory"

    def url(self) -> str:
        return "memory://"

    def open(self, clock: Any = None, **options: Any) -> coachcore.Core:
        """A core over an empty store (the clock defaults to a FixedClock at T0)."""
        return coachcore.open(self.url(), clock=clock or FixedClock(T0), **options)

    def close(self) -> None:
        """Release what the backend holds for the test session."""


def sql_store_available() -> bool:
    return importlib.util.find_spec("coachcore.adapters.sqlalchemy.store") is not None


def backend_names() -> list[str]:
    names = ["memory"]
    if sql_store_available():
        names += ["sqlite", "postgresql"]
    return names


def make_backend(name: str, tmp_dir: Any) -> Iterator[Backend]:
    """Yield the named backend (SQL backends are added by the SQL store)."""
    if name == "memory":
        yield Backend()
        return
    raise LookupError(name)
