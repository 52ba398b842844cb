"""Fetch-or-404 helpers shared by the use cases."""

from __future__ import annotations

from coachcore.domain import checks
from coachcore.domain.entities import (
    AvailabilityWindow,
    Booking,
    CoachProfile,
    MemberProfile,
    Session,
    User,
)
from coachcore.errors import BusinessRuleViolation, NotFound
from coachcore.ports.storage import UnitOfWork


def _missing(what: str, key: str, value: str) -> NotFound:
    return NotFound(f"{what} not found", details={key: value})


def user(uow: UnitOfWork, user_id: object) -> User:
    uid = checks.identifier("user_id", user_id)
    found = uow.users.get(uid)
    if found is None:
        raise _missing("User", "user_id", uid)
    return found


def member(uow: UnitOfWork, member_id: object) -> MemberProfile:
    uid = checks.identifier("member_id", member_id)
    found = uow.members.get(uid)
    if found is None:
        raise _missing("Member", "member_id", uid)
    return found


def coach(uow: UnitOfWork, coach_id: object) -> CoachProfile:
    uid = checks.identifier("coach_id", coach_id)
    found = uow.coaches.get(uid)
    if found is None:
        raise _missing("Coach", "coach_id", uid)
    return found


def active_user(uow: UnitOfWork, user_id: object, field: str) -> User:
    """The user, which must exist (404) and be active (422), as requirement 14.1 asks."""
    found = user(uow, user_id)
    if not found.is_active:
        raise BusinessRuleViolation(f"{field} is not an active user", details={field: found.id})
    return found


def window(uow: UnitOfWork, window_id: object) -> AvailabilityWindow:
    wid = checks.identifier("window_id", window_id)
    found = uow.windows.get(wid)
    if found is None:
        raise _missing("Availability window", "window_id", wid)
    return found


def session(uow: UnitOfWork, session_id: object) -> Session:
    sid = checks.identifier("session_id", session_id)
    found = uow.sessions.get(sid)
    if found is None:
        raise _missing("Session", "session_id", sid)
    return found


def booking(uow: UnitOfWork, booking_id: object) -> Booking:
    bid = checks.identifier("booking_id", booking_id)
    found = uow.bookings.get(bid)
    if found is None:
        raise _missing("Booking", "booking_id", bid)
    return found
