"""The default cipher: AES-256-GCM with a key id in every token, Fernet still read.

Keys are url-safe base64 strings of 32 random bytes (``coachcore keys
generate`` prints one; Fernet keys have this form, so keys from earlier
versions keep working). Give them newest first: the first key seals, every
key opens. From each key, HKDF-SHA256 derives separate subkeys: the AES-256
key, the key id written into each token, and the blind-index key (unless the
host gives a blind-index key of its own).

A token is ``<key id>:<base64url(nonce | ciphertext | tag)>`` (12-byte random
nonce, ``cryptography``'s ``AESGCM``). Fernet tokens written by earlier
versions (AES-128-CBC + HMAC) still decrypt; :meth:`AesGcmCipher.rotate`
turns them, and tokens under older keys, into AES-256-GCM under the newest key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from collections.abc import Iterable

from cryptography.exceptions import InvalidTag
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from coachcore.errors import KeyMismatch, ValidationFailed

NONCE_BYTES = 12
KEY_BYTES = 32
Keys = str | bytes | Iterable[str | bytes]


def parse_keys(keys: Keys, field: str = "keys") -> list[bytes]:
    """The keys of a comma-separated string (``COACHCORE_KEYS``) or a sequence,
    newest first; blanks are skipped.

    :raises ValidationFailed: no key, or an item is not text.
    """
    if isinstance(keys, bytes):
        keys = keys.decode("ascii", "replace")
    if isinstance(keys, str):
        items: list[object] = list(keys.split(","))
    else:
        try:
            items = list(keys)
        except TypeError as bad:
            raise _bad_keys(field) from bad
    parsed: list[bytes] = []
    for item in items:
        if isinstance(item, str):
            raw = item.encode("ascii", "replace").strip()
        elif isinstance(item, bytes):
            raw = item.strip()
        else:
            raise _bad_keys(field)
        if raw:
            parsed.append(raw)
    if not parsed:
        raise ValidationFailed(
            f"{field}: give at least one encryption key", details={"field": field}
        )
    return parsed


def _bad_keys(field: str) -> ValidationFailed:
    return ValidationFailed(
        f"{field}: each key must be a url-safe base64 string of 32 random bytes "
        "(make one with 'coachcore keys generate')",
        details={"field": field},
    )


def _secret(raw: bytes, field: str) -> bytes:
    """The 32 bytes of a key, or ValidationFailed."""
    try:
        secret = base64.urlsafe_b64decode(raw)
    except (binascii.Error, ValueError) as bad:
        raise _bad_keys(field) from bad
    if len(secret) != KEY_BYTES:
        raise _bad_keys(field)
    return secret


def _derive(secret: bytes, purpose: str) -> bytes:
    """A subkey of ``secret`` for one purpose (HKDF-SHA256, no salt)."""
    info = f"coachcore/{purpose}".encode("ascii")
    return HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=info).derive(secret)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class _Keyring:
    """Keys newest first, the legacy Fernet keys over them, and the blind index."""

    def __init__(self, keys: Keys, *, index_key: str | bytes | None = None) -> None:
        secrets = [_secret(raw, "keys") for raw in parse_keys(keys)]
        self._fernet = MultiFernet([Fernet(base64.urlsafe_b64encode(s)) for s in secrets])
        self._aes = {
            _derive(s, "key-id")[:4].hex(): AESGCM(_derive(s, "aes-256-gcm")) for s in secrets
        }
        self._newest = next(iter(self._aes))
        if index_key is None:
            self._index_keys = [_derive(s, "blind-index") for s in secrets]
        else:
            given = parse_keys([index_key], "index_key")[0]
            self._index_keys = [_derive(_secret(given, "index_key"), "blind-index")]

    @classmethod
    def generate_key(cls) -> str:
        """A new random key (for the host to keep in its secret store)."""
        return base64.urlsafe_b64encode(os.urandom(KEY_BYTES)).decode("ascii")

    @property
    def key_count(self) -> int:
        return len(self._aes)

    @property
    def key_id(self) -> str:
        """The id of the newest key, as written into the tokens it seals."""
        return self._newest

    def blind_index(self, value: str) -> str:
        """HMAC-SHA256 of ``value`` under the newest blind-index key (hex)."""
        return hmac.new(self._index_keys[0], value.encode("utf-8"), hashlib.sha256).hexdigest()

    def blind_indexes(self, value: str) -> tuple[str, ...]:
        """The blind index of ``value`` under every key, newest first."""
        data = value.encode("utf-8")
        return tuple(hmac.new(k, data, hashlib.sha256).hexdigest() for k in self._index_keys)

    def _seal_gcm(self, plaintext: str) -> str:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._aes[self._newest].encrypt(nonce, plaintext.encode("utf-8"), None)
        return f"{self._newest}:{_b64(nonce + sealed)}"

    def decrypt(self, token: str) -> str:
        try:
            if ":" not in token:  # a Fernet token (base64url has no colon)
                return self._fernet.decrypt(token.encode("ascii")).decode("utf-8")
            key_id, body = token.split(":", 1)
            aes = self._aes.get(key_id)
            if aes is None:
                raise self._mismatch()
            data = _unb64(body)
            return aes.decrypt(data[:NONCE_BYTES], data[NONCE_BYTES:], None).decode("utf-8")
        except (InvalidToken, InvalidTag, UnicodeError, ValueError, binascii.Error) as wrong:
            raise self._mismatch() from wrong

    def is_current(self, token: str) -> bool:
        """Whether ``token`` is AES-256-GCM under the newest key (nothing to rotate)."""
        return token.startswith(self._newest + ":")

    @staticmethod
    def _mismatch() -> KeyMismatch:
        return KeyMismatch(
            "None of the given keys decrypts this value: the key is wrong, or the "
            "value was encrypted with a key that is no longer configured"
        )

    def __repr__(self) -> str:  # never shows key material
        return f"<{type(self).__name__} keys={len(self._aes)}>"


class AesGcmCipher(_Keyring):
    """A :class:`coachcore.ports.cipher.Cipher`: AES-256-GCM, keys newest first.

    :param keys: a comma-separated string or a sequence of keys.
    :param index_key: the blind-index key, if the host keeps one apart from the
        sealing keys (then rotating sealing keys leaves every blind index as it is).
    :raises ValidationFailed: a key is not 32 bytes of url-safe base64.
    """

    scheme = "aes-256-gcm"

    def encrypt(self, plaintext: str) -> str:
        return self._seal_gcm(plaintext)

    def rotate(self, token: str) -> str:
        return token if self.is_current(token) else self._seal_gcm(self.decrypt(token))


class FernetCipher(_Keyring):
    """The earlier default (Fernet: AES-128-CBC + HMAC-SHA256), kept so that
    hosts and tests can still write the old format; reads both formats."""

    scheme = "fernet"

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode("utf-8")).decode("ascii")

    def rotate(self, token: str) -> str:
        if ":" in token:
            return self.encrypt(self.decrypt(token))
        try:
            return self._fernet.rotate(token.encode("ascii")).decode("ascii")
        except (InvalidToken, UnicodeError, ValueError) as wrong:
            raise self._mismatch() from wrong

    def is_current(self, token: str) -> bool:
        return False  # Fernet tokens do not name their key: always re-encrypt
