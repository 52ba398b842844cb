"""Who: user references, coach profiles, ratings, and the free text people write."""

from __future__ import annotations

import string
from typing import Any

import attrs
from hypothesis import strategies as st

from coachcore.domain.enums import MembershipStatus
from coachcore.testing.strategies.junk import HOSTILE_STRINGS
from coachcore.testing.strategies.times import timezones


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
class RatingSpec:
    """Keyword arguments for ``sessions.rate``."""

    rating: int
    feedback: str | None = None

    def as_kwargs(self) -> dict[str, Any]:
        return attrs.asdict(self)


_NAME_ALPHABET = st.characters(
    exclude_categories=("Cs", "Cc"),  # no surrogates, no control characters
)
_TEXT_ALPHABET = st.characters(exclude_categories=["Cs"], exclude_characters="\x00")


LOOK_SEALED = ("enc:v2:0a1b2c3d:not-a-token", "enc:plain:Ann", "enc:")
"""Plain text that starts like a sealed value (stores without keys escape it)."""


def names(*, max_size: int = 40) -> st.SearchStrategy[str]:
    """Display names: any printable text with at least one non-space character."""
    text = st.text(_NAME_ALPHABET, min_size=1, max_size=max_size)
    return text.filter(lambda s: bool(s.strip())) | st.sampled_from(LOOK_SEALED)


_LOCAL_PART = st.text(string.ascii_letters + string.digits + "._+-", min_size=1, max_size=20)
_DOMAIN = st.sampled_from(["example.com", "example.org", "coach.example", "mail.example.net"])


def emails() -> st.SearchStrategy[str]:
    """Well-formed addresses (their case varies; the library lowercases them)."""
    return st.builds(lambda local, domain: f"{local}@{domain}", _LOCAL_PART, _DOMAIN)


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
    plain = [s for s in (*HOSTILE_STRINGS, *LOOK_SEALED) if "\x00" not in s]
    hostile = [s for s in plain if len(s) <= max_size]
    return st.text(_TEXT_ALPHABET, max_size=max_size) | st.sampled_from(hostile)


def ratings() -> st.SearchStrategy[int]:
    """Valid star ratings."""
    return st.integers(min_value=1, max_value=5)


def feedback() -> st.SearchStrategy[str | None]:
    """Optional rating feedback."""
    return st.none() | notes(max_size=300)


def rating_specs() -> st.SearchStrategy[RatingSpec]:
    return st.builds(RatingSpec, rating=ratings(), feedback=feedback())
