"""The field checks (domain/checks.py) at their edges: exactly at a limit is
accepted, one past it is refused, and only ValidationFailed escapes."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from enum import StrEnum

import pytest
from hypothesis import given
from hypothesis import strategies as st

from coachcore.domain import checks
from coachcore.errors import ValidationFailed


class Colour(StrEnum):
    RED = "red"
    BLUE = "blue"


@given(st.integers(1, 50), st.integers(0, 60))
def test_text_up_to_its_length_limit(limit: int, length: int) -> None:
    value = "a" * length
    if length <= limit:
        assert checks.text("f", value, max_len=limit) == value
    else:
        with pytest.raises(ValidationFailed):
            checks.text("f", value, max_len=limit)


@pytest.mark.parametrize("value", ["", "   ", None])
def test_required_text_is_neither_missing_nor_blank(value: str | None) -> None:
    with pytest.raises(ValidationFailed):
        checks.required_text("f", value)
    if value is not None:
        assert checks.text("f", value) == value
    else:
        assert checks.text("f", value) is None


@pytest.mark.parametrize("value", ["a\x00b", "x\ud800", 5, b"bytes"])
def test_text_refuses_nul_surrogates_and_non_strings(value: object) -> None:
    with pytest.raises(ValidationFailed):
        checks.text("f", value)


def test_non_ascii_unicode_is_text() -> None:
    assert checks.text("f", "Zoë 😊") == "Zoë 😊"
    assert checks.identifier("f", "ü" * checks.MAX_ID) == "ü" * checks.MAX_ID


@pytest.mark.parametrize("value", ["", "a" * (checks.MAX_ID + 1), "a\x00", None, 7, "x\udfff"])
def test_bad_identifiers(value: object) -> None:
    with pytest.raises(ValidationFailed):
        checks.identifier("f", value)
    if value is None:
        assert checks.optional_identifier("f", value) is None


@given(st.integers(-5, 5), st.integers(0, 5), st.integers(-10, 15))
def test_integers_in_a_closed_range(low: int, width: int, value: int) -> None:
    high = low + width
    if low <= value <= high:
        assert checks.integer("f", value, low=low, high=high) == value
    else:
        with pytest.raises(ValidationFailed):
            checks.integer("f", value, low=low, high=high)


@pytest.mark.parametrize("value", [True, False, 1.0, "1", None])
def test_an_integer_is_not_a_bool_float_or_text(value: object) -> None:
    with pytest.raises(ValidationFailed):
        checks.integer("f", value, low=-10, high=10)


def test_booleans_are_exactly_bools() -> None:
    assert checks.boolean("f", True) is True
    assert checks.boolean("f", False) is False
    for value in (0, 1, "true", None):
        with pytest.raises(ValidationFailed):
            checks.boolean("f", value)


def test_emails_are_normalised_or_refused() -> None:
    assert checks.email("f", "Ann@Example.COM") == "ann@example.com"
    for bad in ("ann", "ann@example", "a b@example.com", "", None, "a" * 65 + "@x.io"):
        with pytest.raises(ValidationFailed):
            checks.email("f", bad)


def test_instants_at_the_ends_of_the_accepted_range() -> None:
    first = datetime.combine(checks.EARLIEST, time(), UTC)
    last = datetime.combine(checks.LATEST, time.max, UTC)
    assert checks.aware("f", first) == first
    assert checks.aware("f", last) == last
    for outside in (first - timedelta(microseconds=1), last + timedelta(microseconds=1)):
        with pytest.raises(ValidationFailed):
            checks.aware("f", outside)
    with pytest.raises(ValidationFailed):
        checks.aware("f", datetime(9999, 12, 31, 23, tzinfo=timezone(-timedelta(hours=5))))
    plus_two = datetime(2030, 1, 1, 10, tzinfo=timezone(timedelta(hours=2)))
    assert checks.aware("f", plus_two) == datetime(2030, 1, 1, 8, tzinfo=UTC)
    assert checks.aware("f", plus_two).tzinfo is UTC
    assert checks.optional_aware("f", None) is None
    for bad in (datetime(2030, 1, 1), date(2030, 1, 1), "2030-01-01T00:00Z"):
        with pytest.raises(ValidationFailed):
            checks.aware("f", bad)


class NoOffset(tzinfo):
    """A tzinfo that knows no offset: its datetimes are naive in all but name."""

    def utcoffset(self, dt: datetime | None) -> timedelta | None:
        return None


def test_a_zone_without_an_offset_is_not_aware() -> None:
    with pytest.raises(ValidationFailed, match="timezone-aware"):
        checks.aware("f", datetime(2030, 1, 1, tzinfo=NoOffset()))


def test_dates_at_the_ends_of_the_accepted_range() -> None:
    assert checks.calendar_date("f", checks.EARLIEST) == checks.EARLIEST
    assert checks.calendar_date("f", checks.LATEST) == checks.LATEST
    for bad in (checks.EARLIEST - timedelta(days=1), checks.LATEST + timedelta(days=1),
                datetime(2030, 1, 1, tzinfo=UTC), "2030-01-01"):
        with pytest.raises(ValidationFailed):
            checks.calendar_date("f", bad)


def test_time_zones_by_iana_name() -> None:
    assert checks.timezone_name("f", "Pacific/Kiritimati") == "Pacific/Kiritimati"
    for bad in ("Mars/Olympus", "", None):
        with pytest.raises(ValidationFailed):
            checks.timezone_name("f", bad)


@given(st.integers(0, 23), st.integers(0, 59))
def test_wall_times_and_their_minutes(hour: int, minute: int) -> None:
    text = f"{hour:02d}:{minute:02d}"
    assert checks.wall_time("f", text) == text
    assert checks.wall_time("f", time(hour, minute)) == text
    assert checks.minutes_of(text) == hour * 60 + minute


def test_twenty_four_hundred_only_as_a_window_end() -> None:
    assert checks.wall_time("f", "24:00", allow_24=True) == "24:00"
    assert checks.minutes_of("24:00") == 1440
    for bad in ("24:00", "7:00", "12:60", 700, None):
        with pytest.raises(ValidationFailed):
            checks.wall_time("f", bad)
    with pytest.raises(ValidationFailed):
        checks.wall_time("f", "24:01", allow_24=True)


def test_choices_by_member_or_value() -> None:
    assert checks.choice("f", "red", Colour) is Colour.RED
    assert checks.choice("f", Colour.BLUE, Colour) is Colour.BLUE
    with pytest.raises(ValidationFailed, match="red, blue"):
        checks.choice("f", "green", Colour)
