"""Which blob storage a store uses: the one given, a directory given by its
path, or the default for the database (see ``docs/guides/documents.md``)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from coachcore.adapters.blobs.local import LocalBlobs, default_directory
from coachcore.adapters.blobs.memory import MemoryBlobs, MissingBlobs
from coachcore.errors import ValidationFailed
from coachcore.ports.blobs import BlobStore

if TYPE_CHECKING:  # the memory store uses this module: no SQLAlchemy at import
    from sqlalchemy.engine import URL


def chosen(given: Any, url: URL | None) -> BlobStore:
    """``given`` (a BlobStore, or a directory's path), else the default for
    ``url``: ``<file>.blobs`` beside a SQLite file, memory for an in-memory
    SQLite database, and none elsewhere (documents then ask for ``blobs=``)."""
    if isinstance(given, str | os.PathLike):
        return LocalBlobs(given)
    if given is not None:
        if not isinstance(given, BlobStore):
            raise ValidationFailed(
                "blobs: must be a directory's path or provide the BlobStore methods",
                details={"field": "blobs"},
            )
        return given
    if url is not None and url.get_backend_name() == "sqlite":
        database = url.database or ""
        if database in ("", ":memory:") or ":memory:" in database or "mode=memory" in database:
            return MemoryBlobs()
        return LocalBlobs(default_directory(database))
    return MissingBlobs()
