"""Which blob storage a store uses: the one given, a directory given by its
path, a bucket given by an ``s3://`` URL, or the default for the database
(see ``docs/guides/documents.md``)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from coachcore.adapters.blobs.local import LocalBlobs, default_directory
from coachcore.adapters.blobs.memory import MemoryBlobs, MissingBlobs
from coachcore.errors import MissingDependency, ValidationFailed
from coachcore.ports.blobs import BlobStore

if TYPE_CHECKING:  # the memory store uses this module: no SQLAlchemy at import
    from sqlalchemy.engine import URL


S3_SCHEME = "s3://"


def chosen(given: Any, url: URL | None) -> BlobStore:
    """``given`` (a BlobStore, ``s3://bucket/prefix`` or a directory's path),
    else the default for ``url``: ``<file>.blobs`` beside a SQLite file,
    memory for an in-memory SQLite database, and none elsewhere (documents
    then ask for ``blobs=``)."""
    if isinstance(given, str) and given.startswith(S3_SCHEME):
        return bucket(given)
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


def bucket(location: str) -> BlobStore:
    """The S3 storage ``s3://bucket/prefix`` names (the prefix ends with "/"),
    through a boto3 client configured from the environment (``AWS_*``
    variables: credentials, region, ``AWS_ENDPOINT_URL`` for other services)."""
    parts = urlsplit(location)
    if not parts.netloc or parts.query or parts.fragment or "@" in parts.netloc:
        raise ValidationFailed(
            "blobs: an S3 location is s3://bucket or s3://bucket/prefix",
            details={"field": "blobs"},
        )
    prefix = parts.path.strip("/")
    try:
        from coachcore.adapters.blobs.s3 import S3Blobs
    except ImportError as exc:
        raise MissingDependency("S3 blob storage", extra="s3", module="boto3") from exc
    return S3Blobs(parts.netloc, prefix=f"{prefix}/" if prefix else "")
