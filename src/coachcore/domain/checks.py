"""Field checks shared by the entities and the use cases; each raises ValidationFailed."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, time
from typing import Any, cast

import pendulum

from coachcore.errors import ValidationFailed

EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,255}\.[^@\s]{1,63}$")
HHMM_RE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
MAX_TEXT = 10_000
MAX_NAME = 200
MAX_ID = 64
EARLIEST = date(1900, 1, 1)
LATEST = date(8999, 12, 31)
"""Dates and instants outside [EARLIEST, LATEST] are refused: far enough from
``date.min``/``date.max`` that scheduling arithmetic (buffers, weeks, time
zones) never overflows."""
_EARLIEST_INSTANT = datetime.combine(EARLIEST, time(), UTC)
_LATEST_INSTANT = datetime.combine(LATEST, time.max, UTC)


_RANGE = f"must be between {EARLIEST} and {LATEST}"


def fail(field: str, message: str, value: Any = None) -> ValidationFailed:
    """Build the ValidationFailed for one field (never includes the raw value)."""
    return ValidationFailed(f"{field}: {message}", details={"field": field})


def text(field: str, value: Any, *, max_len: int = MAX_TEXT, required: bool = False) -> str | None:
    """A string of at most ``max_len`` characters; None allowed unless required."""
    if value is None:
        if required:
            raise fail(field, "is required")
        return None
    if not isinstance(value, str):
        raise fail(field, "must be a string")
    if "\x00" in value:
        raise fail(field, "must not contain NUL characters")
    unicode(field, value)
    if len(value) > max_len:
        raise fail(field, f"must be at most {max_len} characters")
    if required and not value.strip():
        raise fail(field, "must not be empty")
    return value


def unicode(field: str, value: str) -> str:
    """``value`` if it is valid Unicode: no lone surrogate (such as "\\ud800",
    which Python strings allow but UTF-8, JSON and databases do not)."""
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise fail(field, "must be valid Unicode (no lone surrogates)") from exc
    return value


def required_text(field: str, value: Any, *, max_len: int = MAX_TEXT) -> str:
    result = text(field, value, max_len=max_len, required=True)
    assert result is not None
    return result


def identifier(field: str, value: Any) -> str:
    """An entity id: a non-empty string of at most 64 characters."""
    if not isinstance(value, str) or not value or len(value) > MAX_ID or "\x00" in value:
        raise fail(field, "must be an id string")
    return unicode(field, value)


def optional_identifier(field: str, value: Any) -> str | None:
    return None if value is None else identifier(field, value)


def integer(field: str, value: Any, *, low: int, high: int) -> int:
    """An int (not a bool) in ``[low, high]``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise fail(field, "must be an integer")
    if not low <= value <= high:
        raise fail(field, f"must be between {low} and {high}")
    return value


def callback(field: str, value: Any) -> Callable[[int], None] | None:
    """None, or a function to call (e.g. a progress report)."""
    if value is not None and not callable(value):
        raise fail(field, "must be a function taking a count, or None")
    return cast("Callable[[int], None] | None", value)


def boolean(field: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise fail(field, "must be true or false")
    return value


def email(field: str, value: Any) -> str:
    result = required_text(field, value, max_len=320)
    if not EMAIL_RE.match(result):
        raise fail(field, "must be an email address")
    return result.strip().lower()


def aware(field: str, value: Any) -> datetime:
    """A timezone-aware datetime, as the same instant in UTC (naive ones are rejected).

    Normalising at the boundary keeps arithmetic elapsed-time exact across DST
    changes and makes instants comparable even in a repeated (fold=1) hour.
    """
    if not isinstance(value, datetime):
        raise fail(field, "must be a datetime")
    if value.tzinfo is None or value.utcoffset() is None:
        raise fail(field, "must be timezone-aware")
    try:
        instant = value.astimezone(UTC)
    except OverflowError as exc:
        raise fail(field, _RANGE) from exc
    if not _EARLIEST_INSTANT <= instant <= _LATEST_INSTANT:
        raise fail(field, _RANGE)
    return instant


def optional_aware(field: str, value: Any) -> datetime | None:
    return None if value is None else aware(field, value)


def calendar_date(field: str, value: Any) -> date:
    """A date (a datetime is not accepted)."""
    if isinstance(value, datetime) or not isinstance(value, date):
        raise fail(field, "must be a date")
    if not EARLIEST <= value <= LATEST:
        raise fail(field, _RANGE)
    return value


def timezone_name(field: str, value: Any) -> str:
    """An IANA time-zone name known to pendulum."""
    name = required_text(field, value, max_len=64)
    try:
        pendulum.timezone(name)
    except Exception as exc:  # pendulum raises several types for bad names
        raise fail(field, "must be a known IANA time zone") from exc
    return name


def wall_time(field: str, value: Any, *, allow_24: bool = False) -> str:
    """A wall-clock time "HH:mm" (with ``allow_24``, "24:00" as a window end)."""
    if isinstance(value, time):
        value = value.strftime("%H:%M")
    if not isinstance(value, str):
        raise fail(field, "must be a time in HH:mm format")
    if allow_24 and value == "24:00":
        return value
    if not HHMM_RE.match(value):
        raise fail(field, "must be a time in HH:mm format")
    return value


def minutes_of(hhmm: str) -> int:
    """Minutes after midnight of an "HH:mm" string ("24:00" gives 1440)."""
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


def choice(field: str, value: Any, enum: Any) -> Any:
    """A member of ``enum`` given as the member or its string value."""
    try:
        return enum(value)
    except (ValueError, TypeError) as exc:
        allowed = ", ".join(str(m.value) for m in enum)
        raise fail(field, f"must be one of: {allowed}") from exc
