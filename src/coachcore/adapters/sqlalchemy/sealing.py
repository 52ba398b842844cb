"""Sealing at rest of the personal columns (``domain.privacy.SENSITIVE_FIELDS``).

A sealed value is a prefix + the cipher's token, so a reader can always tell
ciphertext from plain text: ``enc:v3:`` for values sealed by this version
(AES-256-GCM by default, the key id inside the token), bound to their place:
the token seals ``<place>\\x00<value>``, the place being the table (without
the host's prefix), the column and the row's primary key (a settings row: its
name; a blob: its key). A value copied into another row or column does not
open there (:class:`~coachcore.errors.KeyMismatch`). ``enc:v2:``
(AES-256-GCM, not bound) and ``enc:v1:`` (Fernet) values of earlier versions
still open, and ``coachcore keys rotate`` upgrades them. A binary value (a
document's bytes) is the same text as ASCII bytes, its token made from the
bytes in base64; a structured value (JSON: an outbox payload) is sealed
whole, as the token of its JSON text. The rules:

- With a cipher, every sensitive value is written sealed; values read back
  are opened (legacy plain values, written before keys were turned on, read
  as they are until ``coachcore keys rotate`` seals them).
- Fields looked up by equality (``domain.privacy.BLIND_INDEXED``, e-mail
  addresses) get a ``<field>_index`` column: the cipher's blind index (HMAC)
  of the value, or the value itself without a cipher. Lookups match every
  blind-index key's index and the plain value (rows from before the keys).
- Without a cipher, plain text is written only while the store holds no
  sealed value: opening a store whose key check row exists raises
  :class:`~coachcore.errors.KeyMissing`, and reading a sealed value does too.
  Plain text that starts with ``enc:`` is stored escaped (``enc:plain:`` +
  the text) and read back as it was; its blind index is that of the text.
- A wrong key fails when the store is opened (the key check row does not
  decrypt: :class:`~coachcore.errors.KeyMismatch`), never with garbage later.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import attrs
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from coachcore.adapters.sealed_values import (  # re-exported: the format lives there
    BINARY_PREFIX as BINARY_PREFIX,
)
from coachcore.adapters.sealed_values import (
    BINARY_PREFIXES as BINARY_PREFIXES,
)
from coachcore.adapters.sealed_values import (
    ESCAPE as ESCAPE,
)
from coachcore.adapters.sealed_values import (
    LEGACY_PREFIX as LEGACY_PREFIX,
)
from coachcore.adapters.sealed_values import (
    MISSING_KEY,
    _token,
    escaped,
    is_escaped,
    is_legacy,
    is_marked,
    is_sealed,
    open_value,
    place,
    seal_value,
    unescaped,
)
from coachcore.adapters.sealed_values import (
    PREFIX as PREFIX,
)
from coachcore.adapters.sealed_values import (
    UNBOUND_PREFIX as UNBOUND_PREFIX,
)
from coachcore.adapters.sqlalchemy.db import Db, insert_ignoring_duplicates, translate
from coachcore.adapters.sqlalchemy.engines import BEGIN_OPTION
from coachcore.adapters.sqlalchemy.tables import Tables
from coachcore.domain.privacy import BLIND_INDEXED, SENSITIVE_FIELDS
from coachcore.errors import KeyMismatch, KeyMissing
from coachcore.ports.cipher import Cipher
from coachcore.ports.storage import repositories

KEY_CHECK = "encryption_key_check"
"""The settings row whose value is the sealed ``KEY_CHECK_TEXT``."""
KEY_CHECK_TEXT = "coachcore encryption key check"
INDEX_CHECK = "blind_index_check"
"""The settings row whose value is the blind index of ``KEY_CHECK_TEXT``."""


@attrs.frozen
class SealedColumns:
    """What a table seals: its sealed fields, which of them hold JSON, and
    which have a blind index (column ``<field>_index``); ``table`` (its name
    without the host's prefix) and ``key`` (its primary key column) name the
    place each value is sealed for."""

    fields: tuple[str, ...] = ()
    structured: frozenset[str] = frozenset()
    indexed: tuple[str, ...] = ()
    table: str = ""
    key: str = "id"

    @classmethod
    def of(cls, table: sa.Table, entity: type, name: str) -> SealedColumns:
        """The sealed columns of ``table``, the table of ``entity`` called
        ``name`` without the host's prefix."""
        fields = SENSITIVE_FIELDS.get(entity, ())
        structured = frozenset(f for f in fields if isinstance(table.c[f].type, sa.JSON))
        key = next(iter(table.primary_key.columns)).name
        return cls(fields, structured, BLIND_INDEXED.get(entity, ()), name, key)

    def place(self, column: str, row: Mapping[Any, Any]) -> str:
        """Where the value of ``column`` in ``row`` is sealed for."""
        return place(self.table, column, row[self.key])


def index_column(field: str) -> str:
    return f"{field}_index"


def sensitive_columns(tables: Tables) -> list[tuple[sa.Table, SealedColumns]]:
    """Every table with sealed columns, and what it seals."""
    found = []
    for described, _ in repositories().values():
        if described.entity in SENSITIVE_FIELDS:
            table: sa.Table = getattr(tables, described.table)
            found.append((table, SealedColumns.of(table, described.entity, described.table)))
    return found


def _dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


@attrs.frozen
class Sealer:
    """Seals rows on the way in and opens them on the way out."""

    cipher: Cipher | None = None

    def seal(self, row: dict[str, Any], sealed: SealedColumns) -> dict[str, Any]:
        """The row with its sensitive values sealed for their place (plain
        without a cipher, escaped where they start with ``enc:``) and its
        blind indexes set. The row carries its primary key."""
        cipher = self.cipher
        for name in sealed.indexed:
            value = row.get(name)
            if value is not None:
                row[index_column(name)] = value if cipher is None else cipher.blind_index(value)
        for name in sealed.fields:
            value = row.get(name)
            if value is None:
                continue
            if cipher is None:
                row[name] = escaped(value)
            else:
                text = _dump(value) if name in sealed.structured else value
                row[name] = seal_value(cipher, text, sealed.place(name, row))
        return row

    def lookup(self, field: str, value: Any) -> list[str]:
        """The blind indexes a row whose ``field`` equals ``value`` may carry."""
        if not isinstance(value, str):
            return [value]
        if self.cipher is None:
            return [value]
        return [*self.cipher.blind_indexes(value), value]

    def open(self, row: Mapping[str, Any], sealed: SealedColumns) -> Mapping[str, Any]:
        """The row with its sealed values opened and escaped ones unescaped
        (the row carries its primary key).

        :raises KeyMissing: a value is sealed and the store has no cipher.
        :raises KeyMismatch: no key of the cipher opens a value, or a value
            was sealed for another row or column.
        """
        opened: dict[str, Any] | None = None
        for name in sealed.fields:
            value = row[name]
            if not is_marked(value):
                continue  # plain text, the common case
            if opened is None:
                opened = dict(row)
            opened[name] = self._plain(value, name, row, sealed)
        return row if opened is None else opened

    def _plain(self, value: Any, name: str, row: Mapping[str, Any], sealed: SealedColumns) -> Any:
        if is_escaped(value) or not is_sealed(value):
            return unescaped(value)
        if self.cipher is None:
            raise KeyMissing(MISSING_KEY)
        plain = open_value(self.cipher, value, sealed.place(name, row))
        return json.loads(plain) if name in sealed.structured else plain


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


def _setting(conn: Connection, tables: Tables, name: str) -> str | None:
    t = tables.settings
    stored = conn.scalar(sa.select(t.c.value).where(t.c.name == name))
    return None if stored is None else str(stored)


KEY_CHECK_PLACE = place("settings", "value", KEY_CHECK)
"""Where the key check is sealed for (a settings row's key is its name)."""


def _checks(cipher: Cipher) -> dict[str, str]:
    """The settings rows that let a later opening verify the keys."""
    return {
        KEY_CHECK: str(seal_value(cipher, KEY_CHECK_TEXT, KEY_CHECK_PLACE)),
        INDEX_CHECK: cipher.blind_index(KEY_CHECK_TEXT),
    }


def verify_keys(bind: Engine | Connection, tables: Tables, cipher: Cipher | None) -> None:
    """Check the given keys against the store when it is opened (see the module doc).

    The first store opened with a cipher records the sealed key check and the
    blind index check; from then on the store counts as sealed.
    """
    try:
        with _transaction(bind, write=False) as conn:
            stored = _setting(conn, tables, KEY_CHECK)
            index = _setting(conn, tables, INDEX_CHECK)
        if cipher is not None and (stored is None or index is None):
            with _transaction(bind, write=True) as conn:
                checks = _checks(cipher)
                for name in (KEY_CHECK, INDEX_CHECK):
                    row = {"name": name, "value": checks[name]}
                    insert = insert_ignoring_duplicates(tables.settings, conn.dialect.name)
                    conn.execute(insert, row)
                stored = _setting(conn, tables, KEY_CHECK)
                index = _setting(conn, tables, INDEX_CHECK)
    except sa.exc.SQLAlchemyError as exc:
        raise translate(exc) from exc
    if stored is None:
        return
    if cipher is None:
        raise KeyMissing(MISSING_KEY)
    try:
        text = open_value(cipher, stored, KEY_CHECK_PLACE) if is_sealed(stored) else None
    except KeyMismatch:
        text = None
    if text != KEY_CHECK_TEXT:
        raise KeyMismatch(
            "None of the given encryption keys opens this database (its key check "
            "does not decrypt): the key is wrong, or the key that encrypted it was "
            "dropped before 'coachcore keys rotate' ran"
        )
    if index is not None and index not in cipher.blind_indexes(KEY_CHECK_TEXT):
        raise KeyMismatch(
            "The blind-index key does not fit this database (e-mail lookups would "
            "miss): give the index key it was sealed with"
        )


@attrs.frozen
class RotationReport:
    """What ``coachcore keys rotate`` did."""

    rotated: int = 0
    """Sealed values re-sealed under the newest key."""
    upgraded: int = 0
    """Values of earlier formats moved to the newest one, bound to their place
    (``enc:v1:`` Fernet, ``enc:v2:`` AES-256-GCM not bound)."""
    encrypted: int = 0
    """Plain (legacy) values sealed for the first time."""
    reindexed: int = 0
    """Blind indexes recomputed under the newest blind-index key."""
    rows: int = 0
    """Rows rewritten."""
    blobs: int = 0
    """Document blobs re-sealed (or sealed for the first time) in blob storage."""

    def __add__(self, other: RotationReport) -> RotationReport:
        pairs = zip(attrs.astuple(self), attrs.astuple(other), strict=True)
        return RotationReport(*(a + b for a, b in pairs))


def _resealed(
    cipher: Cipher, row: Mapping[Any, Any], sealed: SealedColumns
) -> tuple[dict[str, Any], RotationReport]:
    """The changed columns of one row, and what changed. Every value ends up
    sealed for its place under the newest key: plain ones (escaped or not)
    sealed as the text they stand for, those of earlier formats upgraded.

    :raises KeyMismatch: a value does not open here (tampered, or misplaced).
    """
    values: dict[str, Any] = {}
    rotated = upgraded = encrypted = reindexed = 0
    opened = Sealer(cipher).open(row, sealed)
    for name in sealed.fields:
        value = row[name]
        if value is None:
            continue
        if not is_sealed(value):
            encrypted += 1
        elif is_legacy(value):
            upgraded += 1
        elif not cipher.is_current(_token(value)):
            rotated += 1
        else:
            continue
        plain = opened[name]
        text = _dump(plain) if name in sealed.structured else plain
        values[name] = seal_value(cipher, text, sealed.place(name, row))
    for name in sealed.indexed:
        column = index_column(name)
        if opened[name] is None:
            continue
        index = cipher.blind_index(opened[name])
        if row[column] != index:
            values[column] = index
            reindexed += 1
    return values, RotationReport(rotated, upgraded, encrypted, reindexed, int(bool(values)))


def rotate_batch(
    db: Db,
    table: sa.Table,
    sealed: SealedColumns,
    cipher: Cipher,
    after: str,
    batch: int,
) -> tuple[RotationReport, str | None]:
    """Re-seal one batch of rows with keys after ``after`` (in the caller's
    write transaction, rows locked on PostgreSQL); returns the counts and the
    last key seen (None: the table is done). Rows already current are left."""
    pk = table.c[sealed.key]
    key: Any = pk.collate("C") if db.postgresql else pk  # byte-wise, like Python
    columns = [*sealed.fields, *(index_column(n) for n in sealed.indexed)]
    any_value = sa.or_(*(table.c[name].is_not(None) for name in sealed.fields))
    stmt = (
        sa.select(pk, *(table.c[name] for name in columns))
        .where(key > sa.bindparam("after"), any_value)
        .order_by(key)
        .limit(batch)
    )
    if db.postgresql:
        stmt = stmt.with_for_update()
    rows = db.rows(stmt, {"after": after})
    total = RotationReport()
    for row in rows:
        values, done = _resealed(cipher, row, sealed)
        total += done
        if values:
            update = (
                sa.update(table)
                .where(pk == sa.bindparam("key_"))
                .values({name: sa.bindparam(f"new_{name}") for name in values})
            )
            db.execute(update, {"key_": row[pk.name], **{f"new_{n}": v for n, v in values.items()}})
    last = str(rows[-1][pk.name]) if len(rows) == batch else None
    return total, last


def rotate_key_check(db: Db, tables: Tables, cipher: Cipher) -> None:
    """Re-seal (or write) the key check and the blind index check under the newest keys."""
    t = tables.settings
    for name, value in _checks(cipher).items():
        done = db.execute(sa.update(t).where(t.c.name == name).values(value=value))
        if done.rowcount == 0:
            db.execute(insert_ignoring_duplicates(t, db.dialect), {"name": name, "value": value})
