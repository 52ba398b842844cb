"""The records a use case starts from, fetched by id, or NotFound (404)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from coachcore.domain import checks
from coachcore.domain.entities import (
    AvailabilityWindow,
    Booking,
    CoachProfile,
    MemberProfile,
    Session,
    User,
)
from coachcore.domain.rules import DateOverride, WaitlistEntry
from coachcore.errors import BusinessRuleViolation, NotFound
from coachcore.ports.storage import UnitOfWork

T = TypeVar("T")


def _find(get: Callable[[str], T | None], what: str, field: str, value: object) -> T:
    key = checks.identifier(field, value)
    found = get(key)
    if found is None:
        raise NotFound(f"{what} not found", details={field: key})
    return found


def user(uow: UnitOfWork, user_id: object) -> User:
    return _find(uow.users.get, "User", "user_id", user_id)


def member(uow: UnitOfWork, member_id: object) -> MemberProfile:
    return _find(uow.members.get, "Member", "member_id", member_id)


def coach(uow: UnitOfWork, coach_id: object) -> CoachProfile:
    return _find(uow.coaches.get, "Coach", "coach_id", coach_id)


def window(uow: UnitOfWork, window_id: object) -> AvailabilityWindow:
    return _find(uow.windows.get, "Availability window", "window_id", window_id)


def session(uow: UnitOfWork, session_id: object) -> Session:
    return _find(uow.sessions.get, "Session", "session_id", session_id)


def booking(uow: UnitOfWork, booking_id: object) -> Booking:
    return _find(uow.bookings.get, "Booking", "booking_id", booking_id)


def waitlist_entry(uow: UnitOfWork, entry_id: object) -> WaitlistEntry:
    return _find(uow.waitlist.get, "Waitlist entry", "entry_id", entry_id)


def date_override(uow: UnitOfWork, override_id: object) -> DateOverride:
    return _find(uow.overrides.get, "Date override", "override_id", override_id)


def active_user(uow: UnitOfWork, user_id: object, field: str) -> User:
    """The user, which must exist (404) and be active (422), as requirement 14.1 asks."""
    found = _find(uow.users.get, "User", field, user_id)
    if not found.is_active:
        raise BusinessRuleViolation(f"{field} is not an active user", details={field: found.id})
    return found
