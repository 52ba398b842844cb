"""Hypothesis strategies for coachcore's inputs, valid and hostile.

Shipped in the package so that third-party adapters (stores, calendars,
notifiers) can drive their own property tests with the same generators the
library's 63 correctness properties use. Requires ``hypothesis`` (the
``test`` extra); importing this module is the only thing that needs it.

Everything valid here is accepted by the public API as it stands:

* :func:`user_specs` / :func:`unique_users` -- names, e-mail addresses
  (unique per example, case-insensitively) and IANA time zones;
* :func:`coach_settings` -- keyword arguments for ``coaches.update``;
* :func:`window_specs` / :func:`weekly_schedules` -- weekly availability
  windows (``"24:00"`` included), the latter never overlapping;
* :func:`aware_datetimes` -- timezone-aware instants in zones with DST and
  with half-hour or 45-minute offsets (no imaginary local times);
* :func:`session_types`, :func:`durations`, :func:`rating_specs`.

And everything in :func:`junk` should be refused with a
``coachcore.errors.CoachCoreError`` (never a ``KeyError``, a driver error or
a crash): ``None``, wrong types, naive datetimes, unknown ids, huge numbers,
empty and hostile strings.
"""

from __future__ import annotations

import functools
import string
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import attrs
from hypothesis import strategies as st

from coachcore.domain.enums import MembershipStatus, SessionType

__all__ = [
    "DST_ZONES",
    "FIXED_OFFSET_ZONES",
    "HOSTILE_STRINGS",
    "ZONES",
    "CoachSettings",
    "RatingSpec",
    "UserSpec",
    "WindowSpec",
    "aware_datetimes",
    "coach_settings",
    "dst_edge_datetimes",
    "durations",
    "emails",
    "feedback",
    "future_datetimes",
    "hhmm",
    "hostile_strings",
    "junk",
    "junk_datetimes",
    "junk_ids",
    "junk_integers",
    "junk_text",
    "membership_statuses",
    "naive_datetimes",
    "names",
    "notes",
    "offset_changes",
    "rating_specs",
    "ratings",
    "session_types",
    "timezones",
    "unique_users",
    "unknown_ids",
    "user_specs",
    "weekly_schedules",
    "window_specs",
]

#: Zones whose offset changes during 2030 (including a 30-minute DST shift on
#: Lord Howe, a southern-hemisphere switch in Adelaide and Chatham's +12:45).
DST_ZONES: tuple[str, ...] = (
    "Europe/Berlin",
    "Europe/London",
    "America/New_York",
    "America/St_Johns",
    "America/Santiago",
    "Australia/Adelaide",
    "Australia/Lord_Howe",
    "Pacific/Chatham",
)

#: Zones without DST, with whole, half-hour and 45-minute offsets.
FIXED_OFFSET_ZONES: tuple[str, ...] = (
    "UTC",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "Asia/Tokyo",
    "Pacific/Kiritimati",
    "Pacific/Pago_Pago",
)

ZONES: tuple[str, ...] = DST_ZONES + FIXED_OFFSET_ZONES

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

_DATE_MIN = datetime(2030, 1, 1)
_DATE_MAX = datetime(2030, 12, 31, 23, 59)


@attrs.frozen(kw_only=True)
class UserSpec:
    """What ``users.create`` / ``signup_member`` need (the role is the caller's)."""

    name: str
    email: str
    timezone: str = "UTC"


@attrs.frozen(kw_only=True)
class CoachSettings:
    """Keyword arguments for ``coaches.update``; ``None`` fields are left out."""

    specialization: str | None = None
    bio: str | None = None
    certifications: str | None = None
    max_members: int | None = None
    is_accepting_members: bool | None = None

    def as_kwargs(self) -> dict[str, Any]:
        return {k: v for k, v in attrs.asdict(self).items() if v is not None}


@attrs.frozen(kw_only=True)
class WindowSpec:
    """Keyword arguments for ``availability.create`` (0=Sunday .. 6=Saturday)."""

    day_of_week: int
    start_time: str
    end_time: str
    max_sessions_per_slot: int = 1
    buffer_minutes: int = 0

    @property
    def start_minute(self) -> int:
        return _minutes(self.start_time)

    @property
    def end_minute(self) -> int:
        return _minutes(self.end_time)

    def overlaps(self, other: WindowSpec) -> bool:
        return (
            self.day_of_week == other.day_of_week
            and self.start_minute < other.end_minute
            and other.start_minute < self.end_minute
        )

    def as_kwargs(self) -> dict[str, Any]:
        return attrs.asdict(self)


@attrs.frozen(kw_only=True)
class RatingSpec:
    """Keyword arguments for ``sessions.rate``."""

    rating: int
    feedback: str | None = None

    def as_kwargs(self) -> dict[str, Any]:
        return attrs.asdict(self)


def _minutes(hhmm_value: str) -> int:
    hours, minutes = hhmm_value.split(":")
    return int(hours) * 60 + int(minutes)


def _hhmm_of(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


# -- people ---------------------------------------------------------------------------

_NAME_ALPHABET = st.characters(
    exclude_categories=("Cs", "Cc"),  # no surrogates, no control characters
)
_TEXT_ALPHABET = st.characters(exclude_categories=["Cs"], exclude_characters="\x00")


def _storable(text: str) -> bool:
    """Not the marker of a sealed value, which the SQL stores refuse as plain text."""
    return not text.startswith("enc:")


def names(*, max_size: int = 40) -> st.SearchStrategy[str]:
    """Display names: any printable text with at least one non-space character."""
    text = st.text(_NAME_ALPHABET, min_size=1, max_size=max_size)
    return text.filter(lambda s: bool(s.strip()) and _storable(s))


_LOCAL_PART = st.text(string.ascii_letters + string.digits + "._+-", min_size=1, max_size=20)
_DOMAIN = st.sampled_from(["example.com", "example.org", "coach.example", "mail.example.net"])


def emails() -> st.SearchStrategy[str]:
    """Well-formed addresses (their case varies; the library lowercases them)."""
    return st.builds(lambda local, domain: f"{local}@{domain}", _LOCAL_PART, _DOMAIN)


def timezones(*, dst_only: bool = False) -> st.SearchStrategy[str]:
    """IANA zone names, weighted towards the awkward ones."""
    return st.sampled_from(DST_ZONES if dst_only else ZONES)


def user_specs(*, zones: st.SearchStrategy[str] | None = None) -> st.SearchStrategy[UserSpec]:
    """One user reference (name, e-mail, time zone)."""
    return st.builds(
        UserSpec, name=names(), email=emails(), timezone=zones if zones is not None else timezones()
    )


def unique_users(
    *, min_size: int = 1, max_size: int = 4, zones: st.SearchStrategy[str] | None = None
) -> st.SearchStrategy[list[UserSpec]]:
    """Several users whose e-mail addresses differ even after lowercasing."""
    return st.lists(
        user_specs(zones=zones),
        min_size=min_size,
        max_size=max_size,
        unique_by=lambda u: u.email.lower(),
    )


def coach_settings() -> st.SearchStrategy[CoachSettings]:
    """Valid profile changes for ``coaches.update``."""
    return st.builds(
        CoachSettings,
        specialization=st.none() | st.text(_NAME_ALPHABET, max_size=60),
        bio=st.none() | notes(max_size=200),
        certifications=st.none() | notes(max_size=100),
        max_members=st.none() | st.integers(min_value=1, max_value=50),
        is_accepting_members=st.none() | st.booleans(),
    )


def membership_statuses() -> st.SearchStrategy[MembershipStatus]:
    return st.sampled_from(list(MembershipStatus))


def notes(*, max_size: int = 200) -> st.SearchStrategy[str]:
    """Free text as stored in notes, goals and feedback (no NUL characters)."""
    hostile = [s for s in HOSTILE_STRINGS if "\x00" not in s and len(s) <= max_size]
    return st.text(_TEXT_ALPHABET, max_size=max_size).filter(_storable) | st.sampled_from(hostile)


# -- time -----------------------------------------------------------------------------


def hhmm(*, step: int = 15, allow_24: bool = False) -> st.SearchStrategy[str]:
    """Wall-clock times "HH:mm" on a ``step``-minute grid ("24:00" if allowed)."""
    top = 24 * 60 if allow_24 else 24 * 60 - step
    return st.integers(min_value=0, max_value=top // step).map(lambda i: _hhmm_of(i * step))


def window_specs(
    *,
    step: int = 15,
    days: st.SearchStrategy[int] | None = None,
    max_capacity: int = 4,
    max_buffer: int = 60,
) -> st.SearchStrategy[WindowSpec]:
    """One valid window: start before end, "24:00" allowed as the end."""

    @st.composite
    def build(draw: st.DrawFn) -> WindowSpec:
        start = draw(st.integers(min_value=0, max_value=24 * 60 // step - 1)) * step
        end = draw(st.integers(min_value=start // step + 1, max_value=24 * 60 // step)) * step
        return WindowSpec(
            day_of_week=draw(days if days is not None else st.integers(min_value=0, max_value=6)),
            start_time=_hhmm_of(start),
            end_time=_hhmm_of(end),
            max_sessions_per_slot=draw(st.integers(min_value=1, max_value=max_capacity)),
            buffer_minutes=draw(st.integers(min_value=0, max_value=max_buffer)),
        )

    return build()


def weekly_schedules(
    *,
    min_size: int = 1,
    max_size: int = 3,
    step: int = 15,
    days: st.SearchStrategy[int] | None = None,
    max_capacity: int = 4,
    max_buffer: int = 60,
) -> st.SearchStrategy[list[WindowSpec]]:
    """Several windows of one coach, none overlapping another on its weekday."""

    @st.composite
    def build(draw: st.DrawFn) -> list[WindowSpec]:
        wanted = draw(st.integers(min_value=min_size, max_value=max_size))
        kept: list[WindowSpec] = []
        candidates = window_specs(
            step=step, days=days, max_capacity=max_capacity, max_buffer=max_buffer
        )
        for _ in range(wanted * 3):
            if len(kept) >= wanted:
                break
            window = draw(candidates)
            if not any(window.overlaps(other) for other in kept):
                kept.append(window)
        if len(kept) < min_size:
            kept.append(
                WindowSpec(
                    day_of_week=(max((w.day_of_week for w in kept), default=-1) + 1) % 7,
                    start_time="09:00",
                    end_time="12:00",
                )
            )
        return kept

    return build()


def _zone_objects(zones: tuple[str, ...]) -> st.SearchStrategy[ZoneInfo]:
    return st.sampled_from([ZoneInfo(name) for name in zones])


def aware_datetimes(
    *,
    min_value: datetime = _DATE_MIN,
    max_value: datetime = _DATE_MAX,
    zones: tuple[str, ...] = ZONES,
) -> st.SearchStrategy[datetime]:
    """Aware datetimes in random IANA zones; local bounds are naive, as hypothesis wants.

    Imaginary local times (inside a spring-forward gap) are never generated;
    ambiguous ones come with either ``fold``.
    """
    return st.datetimes(
        min_value=min_value.replace(tzinfo=None),
        max_value=max_value.replace(tzinfo=None),
        timezones=_zone_objects(zones),
        allow_imaginary=False,
    )


def future_datetimes(
    now: datetime,
    *,
    within: timedelta = timedelta(days=30),
    zones: tuple[str, ...] = ZONES,
) -> st.SearchStrategy[datetime]:
    """Aware instants after ``now`` (at most ``within`` later), shown in random zones."""
    seconds = int(within.total_seconds())
    return st.builds(
        lambda offset, zone: (now + timedelta(seconds=offset)).astimezone(zone),
        st.integers(min_value=60, max_value=max(60, seconds)),
        _zone_objects(zones),
    )


@functools.cache
def offset_changes(zone_name: str, year: int = 2030) -> tuple[datetime, ...]:
    """The UTC instants at which ``zone_name`` changes its offset during ``year``."""
    zone = ZoneInfo(zone_name)

    def offset(moment: datetime) -> timedelta | None:
        return moment.astimezone(zone).utcoffset()

    moment = datetime(year, 1, 1, tzinfo=UTC)
    stop = datetime(year + 1, 1, 1, tzinfo=UTC)
    changes: list[datetime] = []
    while moment < stop:
        later = moment + timedelta(hours=1)
        if offset(later) != offset(moment):
            edge = moment + timedelta(minutes=15)
            while offset(edge) == offset(moment):
                edge += timedelta(minutes=15)
            changes.append(edge)
        moment = later
    return tuple(changes)


def dst_edge_datetimes(
    *,
    year: int = 2030,
    around: timedelta = timedelta(hours=4),
    zones: tuple[str, ...] = DST_ZONES,
) -> st.SearchStrategy[datetime]:
    """Aware instants within ``around`` of a clock change, in the changing zone.

    Shown in the zone's local time, so fall-back instants carry ``fold`` and
    arithmetic across the change is wall-clock arithmetic: exactly what a
    library must convert to UTC before adding durations.
    """
    span = int(around.total_seconds() // 300)

    def near(name: str) -> st.SearchStrategy[datetime]:
        return st.builds(
            lambda edge, steps: (edge + timedelta(minutes=5 * steps)).astimezone(ZoneInfo(name)),
            st.sampled_from(offset_changes(name, year)),
            st.integers(min_value=-span, max_value=span),
        )

    return st.sampled_from(zones).flatmap(near)


def durations(*, low: int = 15, high: int = 120, step: int = 15) -> st.SearchStrategy[int]:
    """Session lengths in minutes (the API accepts 5..1440)."""
    return st.integers(min_value=low // step, max_value=high // step).map(lambda i: i * step)


def session_types() -> st.SearchStrategy[SessionType]:
    return st.sampled_from(list(SessionType))


def ratings() -> st.SearchStrategy[int]:
    """Valid star ratings."""
    return st.integers(min_value=1, max_value=5)


def feedback() -> st.SearchStrategy[str | None]:
    """Optional rating feedback."""
    return st.none() | notes(max_size=300)


def rating_specs() -> st.SearchStrategy[RatingSpec]:
    return st.builds(RatingSpec, rating=ratings(), feedback=feedback())


# -- junk -----------------------------------------------------------------------------


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
    return st.datetimes(min_value=_DATE_MIN, max_value=_DATE_MAX)


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
