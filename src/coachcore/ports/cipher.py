"""The cipher port: how SQL stores encrypt sensitive fields at rest.

A cipher turns text into an opaque ASCII token and back. It holds one or more
keys: the first (newest) encrypts, every key is tried to decrypt, so old
tokens stay readable while keys rotate. The text may hold any character, NUL
included: the stores encrypt ``<place>\\x00<value>`` (the table, column and
row a value belongs to, then the value), so a token copied elsewhere in the
database does not open there; the cipher needs to know nothing about it.

The key material always comes from the host (``coachcore.open(url,
keys=...)``, the ``COACHCORE_KEYS`` environment variable of the command
line, or a cipher object of its own); coachcore never generates or stores a
key by itself.

A cipher also computes blind indexes: a keyed hash (HMAC-SHA256) of a
normalised value, so that a sealed column (an e-mail address) can still be
looked up by equality without storing the value. The blind-index key is not
the sealing key.

The default adapter is :class:`coachcore.adapters.crypto.AesGcmCipher`
(AES-256-GCM, a key id in each token; reads the Fernet tokens of earlier
versions).
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable


@runtime_checkable
class Cipher(Protocol):
    """Authenticated encryption of short texts with rotating keys."""

    def encrypt(self, plaintext: str) -> str:
        """A token (ASCII, no whitespace) of ``plaintext`` under the newest key.

        Two calls with the same text give different tokens.
        """
        ...

    def decrypt(self, token: str) -> str:
        """The text of a token made by any of the cipher's keys.

        :raises coachcore.errors.KeyMismatch: no key decrypts the token, or
            the token was tampered with; never returns garbage.
        """
        ...

    def rotate(self, token: str) -> str:
        """The same text re-encrypted under the newest key.

        :raises coachcore.errors.KeyMismatch: as :meth:`decrypt`.
        """
        ...

    def is_current(self, token: str) -> bool:
        """Whether the token is already in the newest format under the newest
        key (:meth:`rotate` would change nothing but the nonce)."""
        ...

    def blind_index(self, value: str) -> str:
        """The keyed hash of ``value`` under the newest blind-index key: equal
        values give equal indexes; without the key, nothing about the value."""
        ...

    def blind_indexes(self, value: str) -> tuple[str, ...]:
        """:meth:`blind_index` under every blind-index key, newest first (to find
        rows indexed before a key rotation was finished)."""
        ...
