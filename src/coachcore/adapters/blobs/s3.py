"""Blobs in S3-compatible storage (AWS S3, MinIO, Ceph, ...), through boto3
(the ``coachcore[s3]`` extra)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any, Literal

from coachcore.adapters.blobs.keys import checked
from coachcore.errors import NotFound, StoreError

try:
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError
except ImportError as exc:  # pragma: no cover - exercised without the extra
    raise ImportError("S3 blob storage needs the s3 extra: pip install 'coachcore[s3]'") from exc


class S3Blobs:
    """A :class:`~coachcore.ports.blobs.BlobStore` over one bucket.

    :param bucket: the bucket (it must exist).
    :param prefix: prepended to every key (e.g. ``"coaching/"``).
    :param client: a boto3 S3 client; default one made from ``client_options``
        (``endpoint_url``, ``region_name``, credentials ...), else from the
        environment as boto3 does.
    """

    def __init__(
        self, bucket: str, *, prefix: str = "", client: Any = None, **client_options: Any
    ) -> None:
        self.bucket = bucket
        self.prefix = prefix
        self._client = client if client is not None else boto3.client("s3", **client_options)

    def _key(self, key: str) -> str:
        return self.prefix + checked(key)

    def put(self, key: str, data: bytes) -> None:
        with _translated(key):
            self._client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data)

    def get(self, key: str) -> bytes:
        with _translated(key):
            answer = self._client.get_object(Bucket=self.bucket, Key=self._key(key))
            body: bytes = answer["Body"].read()
        return body

    def delete(self, key: str) -> None:
        with _translated(key):
            self._client.delete_object(Bucket=self.bucket, Key=self._key(key))

    def listing(self, prefix: str) -> Iterator[tuple[str, datetime]]:
        pages = self._client.get_paginator("list_objects_v2")
        with _translated(prefix):
            for page in pages.paginate(Bucket=self.bucket, Prefix=self.prefix + prefix):
                for item in page.get("Contents", ()):
                    yield item["Key"][len(self.prefix) :], item["LastModified"]


class _translated:
    """Turns boto's errors into coachcore's (NotFound for a missing key)."""

    def __init__(self, key: str) -> None:
        self.key = key

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: Any, exc: Any, tb: Any) -> Literal[False]:
        if isinstance(exc, ClientError):
            code = exc.response.get("Error", {}).get("Code")
            if code in ("NoSuchKey", "404"):
                raise NotFound("Blob not found", details={"key": self.key}) from exc
            raise StoreError(f"S3 refused {self.key}: {code}") from exc
        if isinstance(exc, BotoCoreError):
            raise StoreError(f"S3 is unreachable: {exc}") from exc
        return False
