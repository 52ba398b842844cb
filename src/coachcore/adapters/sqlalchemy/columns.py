"""Column types and column helpers of the coachcore tables."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

ID = sa.String(64)
WORD = sa.String(32)


SQLITE_DATETIME_FORMAT = (
    "%(year)04d-%(month)02d-%(day)02d %(hour)02d:%(minute)02d:%(second)02d.%(microsecond)06d"
)
"""How SQLAlchemy's SQLite DATETIME writes a datetime (its default storage format)."""


def _sqlite_utc_text(value: datetime | None) -> str | None:
    """An aware datetime as SQLite's DATETIME text of its UTC time."""
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError("naive datetimes are not stored")
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """An aware datetime stored in UTC; comes back aware (UTC) on every backend.

    SQLite has no time zones: values are stored as naive UTC text and UTC is
    re-attached on read. PostgreSQL stores ``timestamptz``.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def bind_processor(self, dialect: Dialect) -> Callable[[Any], Any] | None:
        """On SQLite, one function doing what ``process_bind_param`` and the
        dialect's DATETIME do in turn (the same text, in half the time)."""
        impl_format = getattr(self.impl_instance, "_storage_format", None)
        if dialect.name == "sqlite" and impl_format == SQLITE_DATETIME_FORMAT:
            return _sqlite_utc_text
        return super().bind_processor(dialect)

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored")
        utc = value.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def when(name: str, nullable: bool = False) -> sa.Column[datetime]:
    return sa.Column(name, UTCDateTime(), nullable=nullable)


def version() -> sa.Column[int]:
    """How often the row was updated: what ``update`` compares and sets."""
    return sa.Column("version", sa.Integer(), nullable=False, server_default="0")


def ref(column: str, target: sa.Column[Any], nullable: bool = False) -> sa.Column[str]:
    """A reference checked at commit (deferred), so insertion order is free."""
    fk = sa.ForeignKey(target, deferrable=True, initially="DEFERRED")
    return sa.Column(column, ID, fk, nullable=nullable)
