"""The default cipher: ``cryptography``'s Fernet, several keys through MultiFernet.

Keys are url-safe base64 Fernet keys (``coachcore keys generate`` prints a
new one). Give them newest first: the first key encrypts, every key decrypts,
and :meth:`FernetCipher.rotate` moves a token to the first key.
"""

from __future__ import annotations

from collections.abc import Iterable

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from coachcore.errors import KeyMismatch, ValidationFailed


def parse_keys(keys: str | bytes | Iterable[str | bytes]) -> list[bytes]:
    """The keys of a comma-separated string (``COACHCORE_KEYS``) or a sequence,
    newest first; blanks are skipped.

    :raises ValidationFailed: no key, or one is not a Fernet key.
    """
    if isinstance(keys, bytes):
        keys = keys.decode("ascii", "replace")
    items = keys.split(",") if isinstance(keys, str) else list(keys)
    parsed: list[bytes] = []
    for item in items:
        raw = item.encode("ascii", "replace") if isinstance(item, str) else item
        raw = raw.strip()
        if raw:
            parsed.append(raw)
    if not parsed:
        raise ValidationFailed("keys: give at least one encryption key", details={"field": "keys"})
    return parsed


class FernetCipher:
    """A :class:`coachcore.ports.cipher.Cipher` over Fernet keys, newest first."""

    scheme = "fernet"

    def __init__(self, keys: str | bytes | Iterable[str | bytes]) -> None:
        parsed = parse_keys(keys)
        try:
            self._keys = [Fernet(key) for key in parsed]
        except (ValueError, TypeError) as bad:
            raise ValidationFailed(
                "keys: each key must be a url-safe base64 Fernet key of 32 bytes "
                "(make one with 'coachcore keys generate')",
                details={"field": "keys"},
            ) from bad
        self._multi = MultiFernet(self._keys)

    @classmethod
    def generate_key(cls) -> str:
        """A new random key (for the host to keep in its secret store)."""
        return Fernet.generate_key().decode("ascii")

    @property
    def key_count(self) -> int:
        return len(self._keys)

    def encrypt(self, plaintext: str) -> str:
        return self._multi.encrypt(plaintext.encode("utf-8")).decode("ascii")

    def decrypt(self, token: str) -> str:
        try:
            return self._multi.decrypt(token.encode("ascii")).decode("utf-8")
        except (InvalidToken, UnicodeError, ValueError) as wrong:
            raise self._mismatch() from wrong

    def rotate(self, token: str) -> str:
        try:
            return self._multi.rotate(token.encode("ascii")).decode("ascii")
        except (InvalidToken, UnicodeError, ValueError) as wrong:
            raise self._mismatch() from wrong

    @staticmethod
    def _mismatch() -> KeyMismatch:
        return KeyMismatch(
            "None of the given keys decrypts this value: the key is wrong, or the "
            "value was encrypted with a key that is no longer configured"
        )

    def __repr__(self) -> str:  # never shows key material
        return f"<FernetCipher keys={len(self._keys)}>"
