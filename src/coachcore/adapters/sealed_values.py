"""The stored form of a sealed value (see :mod:`coachcore.adapters.sqlalchemy.sealing`):
a prefix + the cipher's token, for text, and the same as ASCII bytes for
binary values (a document's bytes in blob storage).

``enc:v3:`` values are bound to their place: the token is the cipher's
encryption of ``<place>\\x00<value>``, where the place names the table
(without the host's prefix), the column and the row's key (see
:func:`place`). Such a value opens only where it was sealed for: copied into
another row or column, it raises :class:`~coachcore.errors.KeyMismatch`.
``enc:v2:`` (AES-256-GCM) and ``enc:v1:`` (Fernet) values of earlier versions
are not bound; they still open anywhere, and rotation upgrades them.

Plain text that itself starts with ``enc:`` is stored escaped, as
``enc:plain:`` + the text, so that no plain value is taken for ciphertext.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from coachcore.errors import KeyMismatch
from coachcore.ports.cipher import Cipher

PREFIX = "enc:v3:"
"""Marks a value sealed by this version, bound to its place (the cipher's token follows)."""
UNBOUND_PREFIX = "enc:v2:"
"""Marks an AES-256-GCM value of earlier versions, not bound to a place (still opens)."""
LEGACY_PREFIX = "enc:v1:"
"""Marks a Fernet value of earlier versions (still opens; rotation upgrades it)."""
PREFIXES = (PREFIX, UNBOUND_PREFIX, LEGACY_PREFIX)
BINARY_PREFIXES = tuple(p.encode("ascii") for p in PREFIXES)
BINARY_PREFIX = BINARY_PREFIXES[0]
MARK = "enc:"
"""What every stored form other than plain text starts with."""
ESCAPE = "enc:plain:"
"""Marks plain text that starts with :data:`MARK` (the text follows as it is)."""
BINARY_MARK = MARK.encode("ascii")
BINARY_ESCAPE = ESCAPE.encode("ascii")
SEPARATOR = "\x00"
"""Between the place and the value in a bound token's plain text."""
MISSING_KEY = (
    "This database holds encrypted fields and no encryption key was given: open it "
    "with its keys (coachcore.open(url, keys=...), or COACHCORE_KEYS for the "
    "command line)"
)
MISPLACED = (
    "This sealed value does not belong to this row and column: it was sealed for "
    "another place and copied here (the database was changed behind coachcore)"
)


def place(table: str, column: str, key: Any) -> str:
    """The place a value is sealed for: ``table`` without the host's prefix, the
    ``column`` and the row's key (as JSON text, so never ambiguous)."""
    dump = json.dumps  # the default encoder is cached: a tenth of the time of any other
    return f"[{dump(table)},{dump(column)},{dump(str(key))}]"


def is_sealed(value: Any) -> bool:
    """Whether a stored value is ciphertext (escaped plain text is not)."""
    if isinstance(value, str):
        return value.startswith(PREFIXES)
    return isinstance(value, bytes | memoryview) and bytes(value).startswith(BINARY_PREFIXES)


def is_legacy(value: str | bytes) -> bool:
    """Whether a sealed value is in a format of earlier versions (Fernet, or
    AES-256-GCM not bound to its place): rotation upgrades it."""
    if isinstance(value, str):
        return value.startswith((UNBOUND_PREFIX, LEGACY_PREFIX))
    return bytes(value).startswith(BINARY_PREFIXES[1:])


def escaped(value: Any) -> Any:
    """The stored form of a plain value: as it is, or escaped if it starts
    with :data:`MARK` (text or bytes)."""
    if isinstance(value, str) and value.startswith(MARK):
        return ESCAPE + value
    if isinstance(value, bytes) and value.startswith(BINARY_MARK):
        return BINARY_ESCAPE + value
    return value


def is_marked(value: Any) -> bool:
    """Whether a stored value starts with :data:`MARK`: sealed, escaped, or
    plain text of earlier versions that happened to."""
    if isinstance(value, str):
        return value.startswith(MARK)
    return isinstance(value, bytes | memoryview) and bytes(value).startswith(BINARY_MARK)


def is_escaped(value: Any) -> bool:
    """Whether a stored value is plain text (or bytes) stored escaped."""
    if isinstance(value, str):
        return value.startswith(ESCAPE)
    return isinstance(value, bytes | memoryview) and bytes(value).startswith(BINARY_ESCAPE)


def unescaped(value: Any) -> Any:
    """The plain value of a stored plain one (the escape removed, if any)."""
    if isinstance(value, str) and value.startswith(ESCAPE):
        return value[len(ESCAPE) :]
    if isinstance(value, bytes | memoryview) and bytes(value).startswith(BINARY_ESCAPE):
        return bytes(value)[len(BINARY_ESCAPE) :]
    return value


def _token(stored: str | bytes) -> str:
    text = stored if isinstance(stored, str) else bytes(stored).decode("ascii")
    return text[len(PREFIX) :]  # every prefix has the same length


def seal_value(cipher: Cipher, value: str | bytes, where: str) -> str | bytes:
    """The stored form of a plain value (text, or bytes for binary values),
    bound to the place ``where`` (see :func:`place`)."""
    if isinstance(value, str):
        return PREFIX + cipher.encrypt(where + SEPARATOR + value)
    text = base64.b64encode(value).decode("ascii")
    return BINARY_PREFIX + cipher.encrypt(where + SEPARATOR + text).encode("ascii")


def open_value(cipher: Cipher, stored: str | bytes, where: str) -> str | bytes:
    """The plain value of a sealed one (see :func:`is_sealed`) found at ``where``.

    :raises KeyMismatch: no key opens it, or it was sealed for another place.
    """
    text = cipher.decrypt(_token(stored))
    if not is_legacy(stored):
        found, separator, text = text.partition(SEPARATOR)
        if not separator or found != where:
            raise KeyMismatch(MISPLACED)
    return text if isinstance(stored, str) else base64.b64decode(text)
