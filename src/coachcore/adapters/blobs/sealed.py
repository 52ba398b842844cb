"""Sealing of blobs: bytes are encrypted with the store's cipher before they
leave the process, in the format of sealed binary columns
(:mod:`coachcore.adapters.sqlalchemy.sealing`: ``enc:v2:`` + token)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from coachcore.adapters.sealed_values import (
    MISSING_KEY,
    _token,
    is_legacy,
    is_sealed,
    open_value,
    reseal_value,
    seal_value,
)
from coachcore.errors import KeyMissing, NotFound, ValidationFailed
from coachcore.ports.blobs import BlobStore
from coachcore.ports.cipher import Cipher


class SealedBlobs:
    """A :class:`~coachcore.ports.blobs.BlobStore` that seals what it puts into
    ``inner`` with ``cipher`` (plain without one) and opens what it gets.

    :raises KeyMissing: (``get``) a blob is sealed and there is no cipher.
    """

    def __init__(self, inner: BlobStore, cipher: Cipher | None) -> None:
        self.inner = inner
        self.cipher = cipher

    def stored_form(self, data: bytes) -> bytes:
        """The bytes as they will be stored (sealed when there is a cipher)."""
        if self.cipher is None:
            if is_sealed(data):
                raise ValidationFailed(
                    "content: may not start with 'enc:' (it marks ciphertext)",
                    details={"field": "content"},
                )
            return data
        sealed = seal_value(self.cipher, data)
        assert isinstance(sealed, bytes)
        return sealed

    def opened(self, stored: bytes) -> bytes:
        """The plain bytes of a stored blob."""
        if not is_sealed(stored):
            return stored
        if self.cipher is None:
            raise KeyMissing(MISSING_KEY)
        plain = open_value(self.cipher, stored)
        assert isinstance(plain, bytes)
        return plain

    def reseal(self, key: str) -> bool:
        """Re-seal one blob in place under the cipher's newest key (sealing a
        plain one, upgrading a legacy one); False if it was current or is gone.
        A crash leaves either the old or the new form, both of which open."""
        if self.cipher is None:
            raise KeyMissing("Key rotation needs the encryption keys (newest first)")
        try:
            stored = self.inner.get(key)
        except NotFound:  # deleted meanwhile
            return False
        if is_sealed(stored) and not is_legacy(stored) and self.cipher.is_current(_token(stored)):
            return False
        if is_sealed(stored) and not is_legacy(stored):
            fresh = reseal_value(self.cipher, stored)
        else:
            fresh = seal_value(self.cipher, self.opened(stored))
        assert isinstance(fresh, bytes)
        self.inner.put(key, fresh)
        return True

    def put(self, key: str, data: bytes) -> None:
        self.inner.put(key, self.stored_form(data))

    def get(self, key: str) -> bytes:
        return self.opened(self.inner.get(key))

    def delete(self, key: str) -> None:
        self.inner.delete(key)

    def listing(self, prefix: str) -> Iterator[tuple[str, datetime]]:
        return self.inner.listing(prefix)
