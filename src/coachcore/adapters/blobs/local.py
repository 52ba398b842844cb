"""Blobs as files in a local directory (the default next to a SQLite file).

A blob is written to a temporary file in the same directory, flushed and
fsynced, then renamed over its key's path, so a reader never sees half a
blob and a crash leaves either the old bytes or the new ones.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from coachcore.adapters.blobs.keys import checked
from coachcore.errors import NotFound, StoreError

_PARTIAL = ".partial-"


def default_directory(database: str | os.PathLike[str]) -> Path:
    """Where a SQLite file store keeps its blobs: ``<file>.blobs`` beside it."""
    path = Path(database)
    return path.with_name(path.name + ".blobs")


class LocalBlobs:
    """A :class:`~coachcore.ports.blobs.BlobStore` over a directory (created on
    first write, with mode 0700)."""

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory)

    def _path(self, key: str) -> Path:
        return self.directory.joinpath(*checked(key).split("/"))

    def put(self, key: str, data: bytes) -> None:
        path = self._path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd, temporary = tempfile.mkstemp(prefix=_PARTIAL, dir=path.parent)
            try:
                with os.fdopen(fd, "wb") as out:
                    out.write(data)
                    out.flush()
                    os.fsync(out.fileno())
                os.replace(temporary, path)
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise
        except OSError as exc:
            raise StoreError(f"Could not write blob {key}: {exc.strerror}") from exc

    def get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError as exc:
            raise NotFound("Blob not found", details={"key": key}) from exc
        except OSError as exc:
            raise StoreError(f"Could not read blob {key}: {exc.strerror}") from exc

    def delete(self, key: str) -> None:
        try:
            self._path(key).unlink(missing_ok=True)
        except OSError as exc:
            raise StoreError(f"Could not delete blob {key}: {exc.strerror}") from exc

    def listing(self, prefix: str) -> Iterator[tuple[str, datetime]]:
        if not self.directory.is_dir():
            return
        for path in sorted(self.directory.rglob("*")):
            if not path.is_file():
                continue
            key = path.relative_to(self.directory).as_posix()
            if key.startswith(prefix):  # a crash's partial file is swept too
                yield key, datetime.fromtimestamp(path.stat().st_mtime, UTC)
