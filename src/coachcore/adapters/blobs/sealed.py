"""Sealing of blobs: bytes are encrypted with the store's cipher before they
leave the process, in the format of sealed binary columns
(:mod:`coachcore.adapters.sqlalchemy.sealing`: ``enc:v3:`` + token), bound
to the blob's key: sealed bytes copied to another key do not open there.
Without a cipher, bytes that start with ``enc:`` are stored escaped
(``enc:plain:`` + the bytes) and read back as they were."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from coachcore.adapters.sealed_values import (
    MISSING_KEY,
    _token,
    escaped,
    is_legacy,
    is_sealed,
    open_value,
    place,
    seal_value,
    unescaped,
)
from coachcore.errors import KeyMissing, NotFound
from coachcore.ports.blobs import BlobStore
from coachcore.ports.cipher import Cipher


def blob_place(key: str) -> str:
    """The place a blob's bytes are sealed for: its key."""
    return place("blobs", "bytes", key)


class SealedBlobs:
    """A :class:`~coachcore.ports.blobs.BlobStore` that seals what it puts into
    ``inner`` with ``cipher`` (plain without one) and opens what it gets.

    :raises KeyMissing: (``get``) a blob is sealed and there is no cipher.
    """

    def __init__(self, inner: BlobStore, cipher: Cipher | None) -> None:
        self.inner = inner
        self.cipher = cipher

    def stored_form(self, key: str, data: bytes) -> bytes:
        """The bytes as they will be stored under ``key`` (sealed for that key
        when there is a cipher, else escaped where they start with ``enc:``)."""
        if self.cipher is None:
            plain: bytes = escaped(data)
            return plain
        sealed = seal_value(self.cipher, data, blob_place(key))
        assert isinstance(sealed, bytes)
        return sealed

    def opened(self, key: str, stored: bytes) -> bytes:
        """The plain bytes of the blob stored under ``key``.

        :raises KeyMismatch: they do not open (tampered, or sealed for another key).
        """
        if not is_sealed(stored):
            data: bytes = unescaped(stored)
            return data
        if self.cipher is None:
            raise KeyMissing(MISSING_KEY)
        plain = open_value(self.cipher, stored, blob_place(key))
        assert isinstance(plain, bytes)
        return plain

    def reseal(self, key: str) -> bool:
        """Re-seal one blob in place under the cipher's newest key (sealing a
        plain one, upgrading one of an earlier format); False if it was current
        or is gone. A crash leaves either the old or the new form, both of which open."""
        if self.cipher is None:
            raise KeyMissing("Key rotation needs the encryption keys (newest first)")
        try:
            stored = self.inner.get(key)
        except NotFound:  # deleted meanwhile
            return False
        if is_sealed(stored) and not is_legacy(stored) and self.cipher.is_current(_token(stored)):
            return False
        self.inner.put(key, self.stored_form(key, self.opened(key, stored)))
        return True

    def put(self, key: str, data: bytes) -> None:
        self.inner.put(key, self.stored_form(key, data))

    def get(self, key: str) -> bytes:
        return self.opened(key, self.inner.get(key))

    def delete(self, key: str) -> None:
        self.inner.delete(key)

    def listing(self, prefix: str) -> Iterator[tuple[str, datetime]]:
        return self.inner.listing(prefix)
