"""Where a coach or an admin may place a session: the slot rules a booking
meets, or a deliberate, audited exception to them."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from coachcore.domain import checks
from coachcore.domain.entities import Session, User
from coachcore.errors import BusinessRuleViolation
from coachcore.services.compliance import audit
from coachcore.services.runtime.transaction import Tx
from coachcore.services.scheduling.booking_rights import check_one_seat
from coachcore.services.scheduling.slots import rules_of, slot_at


def check_slot(
    tx: Tx,
    coach: User,
    member_id: str,
    start: datetime,
    duration: int,
    moving: Session | None = None,
) -> None:
    """The refusal a booking gets, for a session placed at ``start``: a start in
    the past, a slot the rules refuse or no window has (422), a full slot
    (``SlotFull``), or a slot where the member already has a seat (409).
    ``moving``: the session being moved, whose own seat does not count."""
    if start <= tx.now:
        raise BusinessRuleViolation("The requested time is in the past")
    leaving_out = None if moving is None else (moving.scheduled_at, moving.duration)
    check = slot_at(tx.uow, coach, start, duration, tx.now, member_id, leaving_out)
    check.seat(start, duration)
    check_one_seat(tx, coach.id, member_id, start, None if moving is None else moving.id)


def overriding(override: Any, reason: Any) -> str | None:
    """The reason of a deliberate exception to the slot rules, or None when
    there is none; ``override=True`` needs a reason, which the audit log keeps,
    and a reason without ``override=True`` is a mistake (422)."""
    forced = checks.boolean("override", override)
    why = checks.text("override_reason", reason, max_len=500)
    if forced and (why is None or not why.strip()):
        raise checks.fail("override_reason", "is required with override=True")
    if not forced and why is not None:
        raise checks.fail("override_reason", "is given only with override=True")
    return why if forced else None


def audit_override(tx: Tx, action: str, session: Session, reason: str | None) -> None:
    if reason is not None:
        audit.record(
            tx,
            action,
            "session",
            session.id,
            status=str(session.status),
            override=True,
            override_reason=reason,
        )


def duration_of(value: Any) -> int:
    return checks.integer("duration", value, low=5, high=1440)


def check_cutoff(tx: Tx, session: Session) -> None:
    """Members may not cancel or move a session within the coach's cut-off;
    the coach and admins may."""
    if tx.actor.sees_all or tx.actor.user_id == session.coach_id:
        return
    hours = rules_of(tx.uow, session.coach_id).cancellation_cutoff_hours
    if hours is not None and session.scheduled_at - tx.now < timedelta(hours=hours):
        raise BusinessRuleViolation(
            f"Sessions cannot be cancelled or moved within {hours} hours of the start; "
            "ask your coach",
            details={"cancellation_cutoff_hours": hours},
        )
