"""Encryption at rest of the sensitive columns (``domain.privacy.SENSITIVE_FIELDS``).

A stored encrypted value is ``PREFIX`` + the cipher's token, so a reader can
always tell ciphertext from plain text; a binary value (a document's bytes) is
the same text as ASCII bytes, its token made from the bytes in base64. The
rules:

- With a cipher, every sensitive value is written encrypted; values read back
  are decrypted (legacy plain values, written before encryption was turned on,
  read as they are until ``coachcore keys rotate`` encrypts them).
- Without a cipher, plain text is written only while the store holds no
  encrypted value: opening a store whose key check row exists raises
  :class:`~coachcore.errors.KeyMissing`, and reading a prefixed value does too.
- A wrong key fails when the store is opened (the key check row does not
  decrypt: :class:`~coachcore.errors.KeyMismatch`), never with garbage later.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import attrs
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from coachcore.adapters.sqlalchemy.db import Db, insert_ignoring_duplicates, translate
from coachcore.adapters.sqlalchemy.engines import BEGIN_OPTION
from coachcore.adapters.sqlalchemy.tables import Tables
from coachcore.domain.documents import Document, DocumentContent
from coachcore.domain.entities import Booking, MemberProfile, Rating, Session
from coachcore.domain.hub import QuickNote
from coachcore.domain.privacy import SENSITIVE_FIELDS
from coachcore.domain.relations import CoachingInterest, MemberSessionSettings
from coachcore.errors import KeyMismatch, KeyMissing, ValidationFailed
from coachcore.ports.cipher import Cipher

PREFIX = "enc:v1:"
"""Marks a stored value as ciphertext (the cipher's token follows)."""
BINARY_PREFIX = PREFIX.encode("ascii")
KEY_CHECK = "encryption_key_check"
"""The settings row whose value is the encrypted ``KEY_CHECK_TEXT``."""
KEY_CHECK_TEXT = "coachcore encryption key check"
TABLE_OF: Mapping[type, str] = {
    MemberProfile: "member_profiles",
    Session: "sessions",
    Booking: "bookings",
    Rating: "ratings",
    QuickNote: "quick_notes",
    CoachingInterest: "coaching_interests",
    MemberSessionSettings: "member_session_settings",
    Document: "documents",
    DocumentContent: "document_contents",
}
"""The table (attribute of :class:`Tables`) of each entity with sensitive fields."""

MISSING_KEY = (
    "This database holds encrypted fields and no encryption key was given: open it "
    "with its keys (coachcore.open(url, keys=...), or COACHCORE_KEYS for the "
    "command line)"
)


def sensitive_columns(tables: Tables) -> list[tuple[sa.Table, tuple[str, ...]]]:
    """Every table with sensitive columns, and those columns."""
    return [(getattr(tables, TABLE_OF[cls]), fields) for cls, fields in SENSITIVE_FIELDS.items()]


def is_sealed(value: Any) -> bool:
    if isinstance(value, str):
        return value.startswith(PREFIX)
    return isinstance(value, bytes | memoryview) and bytes(value).startswith(BINARY_PREFIX)


def seal_value(cipher: Cipher, value: str | bytes) -> str | bytes:
    """The stored form of a plain value (text, or bytes for binary columns)."""
    if isinstance(value, str):
        return PREFIX + cipher.encrypt(value)
    token = cipher.encrypt(base64.b64encode(value).decode("ascii"))
    return BINARY_PREFIX + token.encode("ascii")


def open_value(cipher: Cipher, stored: str | bytes) -> str | bytes:
    """The plain value of a sealed one (see :func:`is_sealed`)."""
    if isinstance(stored, str):
        return cipher.decrypt(stored[len(PREFIX) :])
    text = cipher.decrypt(bytes(stored)[len(BINARY_PREFIX) :].decode("ascii"))
    return base64.b64decode(text)


def reseal_value(cipher: Cipher, stored: str | bytes) -> str | bytes:
    """A sealed value re-encrypted under the newest key."""
    if isinstance(stored, str):
        return PREFIX + cipher.rotate(stored[len(PREFIX) :])
    token = cipher.rotate(bytes(stored)[len(BINARY_PREFIX) :].decode("ascii"))
    return BINARY_PREFIX + token.encode("ascii")


@attrs.frozen
class Sealer:
    """Seals rows on the way in and opens them on the way out."""

    cipher: Cipher | None = None

    def seal(self, row: dict[str, Any], fields: Sequence[str]) -> dict[str, Any]:
        """The row with its sensitive values encrypted (plain without a cipher)."""
        cipher = self.cipher
        for name in fields:
            value = row.get(name)
            if value is None:
                continue
            if cipher is not None:
                row[name] = seal_value(cipher, value)
            elif is_sealed(value):
                raise ValidationFailed(
                    f"{name}: a value may not start with {PREFIX!r} (it marks ciphertext)",
                    details={"field": name},
                )
        return row

    def open(self, row: Mapping[str, Any], fields: Sequence[str]) -> Mapping[str, Any]:
        """The row with its sensitive values decrypted.

        :raises KeyMissing: a value is encrypted and the store has no cipher.
        :raises KeyMismatch: no key of the cipher decrypts a value.
        """
        opened: dict[str, Any] | None = None
        for name in fields:
            value = row[name]
            if not is_sealed(value):
                continue
            if self.cipher is None:
                raise KeyMissing(MISSING_KEY)
            if opened is None:
                opened = dict(row)
            opened[name] = open_value(self.cipher, value)
        return row if opened is None else opened


@contextmanager
def _transaction(bind: Engine | Connection, write: bool) -> Iterator[Connection]:
    """A short transaction of our own (a SAVEPOINT inside a host's Connection)."""
    if isinstance(bind, Connection):
        tx = bind.begin_nested() if bind.in_transaction() else bind.begin()
        with tx:
            yield bind
        return
    with bind.connect() as conn:
        if conn.dialect.name == "sqlite":
            conn.execution_options(**{BEGIN_OPTION: "IMMEDIATE" if write else "DEFERRED"})
        with conn.begin():
            yield conn


def _key_check(conn: Connection, tables: Tables) -> str | None:
    t = tables.settings
    stored = conn.scalar(sa.select(t.c.value).where(t.c.name == KEY_CHECK))
    return None if stored is None else str(stored)


def verify_keys(bind: Engine | Connection, tables: Tables, cipher: Cipher | None) -> None:
    """Check the given key against the store when it is opened (see the module doc).

    The first store opened with a cipher records the encrypted key check; from
    then on the store counts as encrypted.
    """
    try:
        with _transaction(bind, write=False) as conn:
            stored = _key_check(conn, tables)
        if stored is None and cipher is not None:
            with _transaction(bind, write=True) as conn:
                row = {"name": KEY_CHECK, "value": PREFIX + cipher.encrypt(KEY_CHECK_TEXT)}
                conn.execute(insert_ignoring_duplicates(tables.settings, conn.dialect.name), row)
                stored = _key_check(conn, tables)
    except sa.exc.SQLAlchemyError as exc:
        raise translate(exc) from exc
    if stored is None:
        return
    if cipher is None:
        raise KeyMissing(MISSING_KEY)
    try:
        text = cipher.decrypt(stored[len(PREFIX) :]) if is_sealed(stored) else None
    except KeyMismatch:
        text = None
    if text != KEY_CHECK_TEXT:
        raise KeyMismatch(
            "None of the given encryption keys opens this database (its key check "
            "does not decrypt): the key is wrong, or the key that encrypted it was "
            "dropped before 'coachcore keys rotate' ran"
        )


@attrs.frozen
class RotationReport:
    """What ``coachcore keys rotate`` did."""

    rotated: int = 0
    """Encrypted values re-encrypted under the newest key."""
    encrypted: int = 0
    """Plain (legacy) values encrypted for the first time."""
    rows: int = 0
    """Rows rewritten."""


def rotate_batch(
    db: Db,
    table: sa.Table,
    fields: Sequence[str],
    cipher: Cipher,
    after: str,
    batch: int,
) -> tuple[RotationReport, str | None]:
    """Re-encrypt one batch of rows with ids after ``after`` (in the caller's
    write transaction, rows locked on PostgreSQL); returns the counts and the
    last id seen (None: the table is done)."""
    pk = next(iter(table.primary_key.columns))
    key: Any = pk.collate("C") if db.postgresql else pk  # byte-wise, like Python
    any_value = sa.or_(*(table.c[name].is_not(None) for name in fields))
    stmt = (
        sa.select(pk.label("key_"), *(table.c[name] for name in fields))
        .where(key > sa.bindparam("after"), any_value)
        .order_by(key)
        .limit(batch)
    )
    if db.postgresql:
        stmt = stmt.with_for_update()
    rows = db.rows(stmt, {"after": after})
    rotated = encrypted = 0
    updates: list[dict[str, Any]] = []
    for row in rows:
        values: dict[str, Any] = {}
        for name in fields:
            value = row[name]
            if value is None:
                values[name] = None
            elif is_sealed(value):
                values[name] = reseal_value(cipher, value)
                rotated += 1
            else:
                values[name] = seal_value(cipher, value)
                encrypted += 1
        updates.append({"key_": row["key_"], **values})
    if updates:
        update = sa.update(table).where(pk == sa.bindparam("key_"))
        db.execute(update, updates)
    last = str(rows[-1]["key_"]) if len(rows) == batch else None
    return RotationReport(rotated=rotated, encrypted=encrypted, rows=len(rows)), last


def rotate_key_check(db: Db, tables: Tables, cipher: Cipher) -> None:
    """Re-encrypt (or write) the key check under the newest key."""
    t = tables.settings
    value = PREFIX + cipher.encrypt(KEY_CHECK_TEXT)
    done = db.execute(sa.update(t).where(t.c.name == KEY_CHECK).values(value=value))
    if done.rowcount == 0:
        db.execute(insert_ignoring_duplicates(t, db.dialect), {"name": KEY_CHECK, "value": value})
