"""The stored form of a sealed value (see :mod:`coachcore.adapters.sqlalchemy.sealing`):
a prefix + the cipher's token, for text, and the same as ASCII bytes for
binary values (a document's bytes in blob storage)."""

from __future__ import annotations

import base64
from typing import Any

from coachcore.ports.cipher import Cipher

PREFIX = "enc:v2:"
"""Marks a value sealed by this version (the cipher's token follows)."""
LEGACY_PREFIX = "enc:v1:"
"""Marks a Fernet value of earlier versions (still opens; rotation upgrades it)."""
PREFIXES = (PREFIX, LEGACY_PREFIX)
BINARY_PREFIXES = tuple(p.encode("ascii") for p in PREFIXES)
BINARY_PREFIX = BINARY_PREFIXES[0]
MISSING_KEY = (
    "This database holds encrypted fields and no encryption key was given: open it "
    "with its keys (coachcore.open(url, keys=...), or COACHCORE_KEYS for the "
    "command line)"
)


def is_sealed(value: Any) -> bool:
    if isinstance(value, str):
        return value.startswith(PREFIXES)
    return isinstance(value, bytes | memoryview) and bytes(value).startswith(BINARY_PREFIXES)


def is_legacy(value: str | bytes) -> bool:
    """Whether a sealed value is in the Fernet format of earlier versions."""
    if isinstance(value, str):
        return value.startswith(LEGACY_PREFIX)
    return bytes(value).startswith(BINARY_PREFIXES[1])


def _token(stored: str | bytes) -> str:
    text = stored if isinstance(stored, str) else bytes(stored).decode("ascii")
    return text[len(PREFIX) :]  # both prefixes have the same length


def seal_value(cipher: Cipher, value: str | bytes) -> str | bytes:
    """The stored form of a plain value (text, or bytes for binary columns)."""
    if isinstance(value, str):
        return PREFIX + cipher.encrypt(value)
    token = cipher.encrypt(base64.b64encode(value).decode("ascii"))
    return BINARY_PREFIX + token.encode("ascii")


def open_value(cipher: Cipher, stored: str | bytes) -> str | bytes:
    """The plain value of a sealed one (see :func:`is_sealed`)."""
    text = cipher.decrypt(_token(stored))
    return text if isinstance(stored, str) else base64.b64decode(text)


def reseal_value(cipher: Cipher, stored: str | bytes) -> str | bytes:
    """A sealed value in the newest format under the newest key."""
    if is_legacy(stored):
        return seal_value(cipher, open_value(cipher, stored))
    token = cipher.rotate(_token(stored))
    return PREFIX + token if isinstance(stored, str) else BINARY_PREFIX + token.encode("ascii")
