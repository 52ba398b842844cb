"""The in-memory reference store: the executable specification of the storage port.

One re-entrant lock is held for the whole unit of work, so units of work run
one at a time (serializable by construction: an item cannot change between a
unit of work's read and its write, so every ``update`` is trivially a
compare-and-set); an undo journal rolls back everything a unit of work wrote
when it ends without ``commit()``.
"""

from __future__ import annotations

import threading
from typing import Any

from coachcore.adapters.blobs.choice import chosen
from coachcore.adapters.blobs.memory import MemoryBlobs
from coachcore.adapters.blobs.sealed import SealedBlobs
from coachcore.adapters.memory.queries import QUERIES
from coachcore.adapters.memory.repository import MemoryRepository
from coachcore.adapters.memory.tables import Journal
from coachcore.ports.blobs import BlobStore
from coachcore.ports.cipher import Cipher
from coachcore.ports.storage import repositories


class MemoryUnitOfWork:
    """A unit of work over the store's repositories; created by :class:`MemoryStore`.

    It is its own context manager: entering takes the store's lock and starts
    recording undo entries in the store's journal; leaving undoes whatever was
    not committed and releases the lock.
    """

    def __init__(
        self, repos: dict[str, MemoryRepository[Any]], journal: Journal, lock: threading.RLock
    ) -> None:
        for name, repo in repos.items():
            setattr(self, name, repo)
        self._journal = journal
        self._lock = lock
        self._outer: list[Any] | None = None
        self._entries: list[Any] = []

    def __enter__(self) -> MemoryUnitOfWork:
        self._lock.acquire()
        self._outer = self._journal.begin()
        entries = self._journal.entries
        assert entries is not None
        self._entries = entries
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self._journal.end(self._outer)
        finally:
            self._lock.release()

    def lock_coach(self, coach_id: str) -> None:
        """Nothing to do: the store lock already serializes units of work."""

    def hold_inserts(self) -> None:
        """Nothing to do: writes are applied as they are made."""

    def flush(self) -> None:
        """Nothing to do: writes are applied as they are made."""

    def commit(self) -> None:
        self._entries.clear()

    def rollback(self) -> None:
        Journal.undo_entries(self._entries)


class MemoryStore:
    """The reference store. Thread-safe; dispatches the outbox after each commit."""

    dispatch_on_commit = True

    def __init__(self, *, cipher: Cipher | None = None, blobs: Any = None) -> None:
        self.cipher = cipher
        """Kept for the record: nothing is at rest here, so nothing is sealed
        (but blobs given in ``blobs`` leave the process, and are)."""
        self.blobs: BlobStore = (
            MemoryBlobs() if blobs is None else SealedBlobs(chosen(blobs, None), cipher)
        )
        self._lock = threading.RLock()
        self._journal = Journal()
        self._repos: dict[str, MemoryRepository[Any]] = {}
        for name, (described, _) in repositories().items():
            kind = QUERIES.get(name, MemoryRepository)
            self._repos[name] = kind(described, self._journal, self._repos)

    @property
    def repositories(self) -> dict[str, MemoryRepository[Any]]:
        """The store's repositories by name (the same in every unit of work)."""
        return self._repos

    def unit_of_work(self, *, write: bool) -> MemoryUnitOfWork:
        """A unit of work, to be used as a context manager (``with``)."""
        return MemoryUnitOfWork(self._repos, self._journal, self._lock)

    def wipe_traces(self) -> None:
        """Nothing at rest, nothing to wipe."""

    def close(self) -> None:
        """Nothing to release."""
