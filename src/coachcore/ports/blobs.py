"""The blob-storage port: where document bytes live (outside the database).

A blob is an opaque byte string under a key (``documents/<document id>``);
the database row that refers to it holds the key, the size and the SHA-256
digest of the stored bytes. Adapters: a local directory
(:class:`coachcore.adapters.blobs.LocalBlobs`, the default next to a SQLite
file), S3-compatible storage (:class:`coachcore.adapters.blobs.S3Blobs`, the
``coachcore[s3]`` extra) and memory (:class:`coachcore.adapters.blobs.MemoryBlobs`).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Protocol, runtime_checkable


@runtime_checkable
class BlobStore(Protocol):
    """Keeps byte strings under keys. Every method may be called from any thread.

    Keys are made of ``[A-Za-z0-9._/-]`` (no ``..``, no leading ``/``).
    Errors are :class:`coachcore.errors.StoreError` (storage unreachable or
    refusing) or :class:`coachcore.errors.NotFound` (``get`` of a missing key).
    """

    def put(self, key: str, data: bytes) -> None:
        """Store ``data`` under ``key`` (replacing what was there), durably
        before returning."""
        ...

    def get(self, key: str) -> bytes:
        """The bytes under ``key``; :class:`~coachcore.errors.NotFound` if none."""
        ...

    def delete(self, key: str) -> None:
        """Remove ``key``; nothing happens if it is not there."""
        ...

    def listing(self, prefix: str) -> Iterator[tuple[str, datetime]]:
        """Every key starting with ``prefix``, with when it was last written
        (timezone-aware): what a sweep of orphaned blobs walks."""
        ...
