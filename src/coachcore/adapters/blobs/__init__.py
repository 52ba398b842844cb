"""Blob-storage adapters (:mod:`coachcore.ports.blobs`): a local directory,
S3-compatible storage (``coachcore[s3]``), memory, and the sealing wrapper
that encrypts bytes before they leave the process."""

from __future__ import annotations

from coachcore.adapters.blobs.local import LocalBlobs, default_directory
from coachcore.adapters.blobs.memory import MemoryBlobs
from coachcore.adapters.blobs.sealed import SealedBlobs

__all__ = ["LocalBlobs", "MemoryBlobs", "S3Blobs", "SealedBlobs", "default_directory"]


def __getattr__(name: str) -> object:
    if name == "S3Blobs":  # boto3 is an optional extra: import it on demand
        from coachcore.adapters.blobs.s3 import S3Blobs

        return S3Blobs
    raise AttributeError(name)
