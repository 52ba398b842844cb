"""What the public API must refuse with a ``coachcore.errors.CoachCoreError``
(never a ``KeyError``, a driver error or a crash): ``None``, wrong types,
naive datetimes, unknown ids, huge numbers, empty and hostile strings."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from hypothesis import strategies as st

from coachcore.testing.strategies.times import FIRST_MOMENT, LAST_MOMENT

#: Strings that have broken other systems; valid as free text, invalid as ids.
HOSTILE_STRINGS: tuple[str, ...] = (
    "",
    " ",
    "\t\n",
    "'; DROP TABLE users; --",
    '" OR "1"="1',
    "Robert'); DELETE FROM sessions;--",
    "<script>alert(1)</script>",
    "../../../../etc/passwd",
    "%s%s%s%n",
    "{0}{1}{__class__}",
    "${jndi:ldap://x}",
    "\u202egnp.exe",
    "\ufeff",
    "Z\u0351\u0360\u0368a\u0352\u0302l\u0307\u0311go",
    "\U0001f600\U0001f4a9",
    "NULL",
    "null",
    "None",
    "undefined",
    "0",
    "-1",
    "9" * 400,
    "x" * 20_000,
    "a\x00b",
)


def hostile_strings() -> st.SearchStrategy[str]:
    return st.sampled_from(HOSTILE_STRINGS)


def unknown_ids() -> st.SearchStrategy[str]:
    """Well-formed ids that name nothing (fresh UUIDs, or plausible-looking strings)."""
    return st.uuids().map(str) | st.sampled_from(["0", "1", "admin", "system-", "x" * 64])


def junk_ids() -> st.SearchStrategy[Any]:
    """Things that are not ids at all: wrong types, empty, too long, hostile."""
    return st.one_of(
        st.none(),
        st.integers(),
        st.floats(allow_nan=True),
        st.booleans(),
        st.just(""),
        st.just("x" * 65),
        st.lists(st.integers(), max_size=2),
        st.just({"id": "1"}),
        st.just(b"abc"),
        st.just(uuid.uuid4()),
    )


def junk_integers() -> st.SearchStrategy[Any]:
    """Out-of-range and wrongly typed numbers: huge, negative, floats, bools, strings."""
    return st.one_of(
        st.sampled_from([-1, 0, 10**6, 10**18, 2**63, -(2**63) - 1, 10**100]),
        st.integers(max_value=-1),
        st.integers(min_value=10**7),
        st.floats(allow_nan=True, allow_infinity=True),
        st.booleans(),
        st.sampled_from(["1", "60", "", "one"]),
        st.none(),
    )


def naive_datetimes() -> st.SearchStrategy[datetime]:
    return st.datetimes(min_value=FIRST_MOMENT, max_value=LAST_MOMENT)


def junk_datetimes() -> st.SearchStrategy[Any]:
    """Naive datetimes, dates, strings and numbers where an aware datetime is due."""
    return st.one_of(
        naive_datetimes(),
        st.dates(min_value=date(2030, 1, 1), max_value=date(2030, 12, 31)),
        st.just("2030-01-01T10:00:00+00:00"),
        st.just(1893456000),
        st.none(),
        st.just(datetime(2030, 1, 1, tzinfo=UTC).timestamp()),
    )


def junk_text() -> st.SearchStrategy[Any]:
    """Wrong types and unacceptable strings for text fields."""
    return st.one_of(
        st.integers(),
        st.booleans(),
        st.lists(st.text(max_size=3), max_size=2),
        st.just(b"bytes"),
        st.just("a\x00b"),
        st.just("x" * 20_000),
    )


def junk() -> st.SearchStrategy[Any]:
    """Anything an untrusted caller might pass where something sensible was due."""
    return st.one_of(
        st.none(),
        junk_ids(),
        junk_integers(),
        junk_datetimes(),
        junk_text(),
        hostile_strings(),
        unknown_ids(),
        st.just(object()),
    )
