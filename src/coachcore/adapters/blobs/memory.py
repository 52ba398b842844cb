"""Blobs in a dict: the memory store's adapter (and a reference for tests)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime

from coachcore.adapters.blobs.keys import checked
from coachcore.errors import NotFound, ValidationFailed


class MemoryBlobs:
    """A :class:`~coachcore.ports.blobs.BlobStore` in memory (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._blobs: dict[str, tuple[bytes, datetime]] = {}

    def put(self, key: str, data: bytes) -> None:
        with self._lock:
            self._blobs[checked(key)] = (bytes(data), datetime.now(UTC))

    def get(self, key: str) -> bytes:
        with self._lock:
            found = self._blobs.get(checked(key))
        if found is None:
            raise NotFound("Blob not found", details={"key": key})
        return found[0]

    def delete(self, key: str) -> None:
        with self._lock:
            self._blobs.pop(checked(key), None)

    def listing(self, prefix: str) -> Iterator[tuple[str, datetime]]:
        with self._lock:
            found = [(k, at) for k, (_, at) in self._blobs.items() if k.startswith(prefix)]
        return iter(sorted(found))


class MissingBlobs:
    """Stands in where no blob storage is configured (a PostgreSQL store opened
    without ``blobs=``): storing or reading a document's bytes says so."""

    def put(self, key: str, data: bytes) -> None:
        raise _unconfigured()

    def get(self, key: str) -> bytes:
        raise _unconfigured()

    def delete(self, key: str) -> None:
        raise _unconfigured()

    def listing(self, prefix: str) -> Iterator[tuple[str, datetime]]:
        return iter(())


def _unconfigured() -> ValidationFailed:
    return ValidationFailed(
        "blobs: this store has no file storage for document bytes; open it with "
        "coachcore.open(url, blobs=<directory or BlobStore>)",
        details={"field": "blobs"},
    )
