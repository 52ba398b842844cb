"""The coaching hub: action plans and action items made from a session,
coaches' quick notes, and scores on sessions that show a member's progress.
Pure attrs entities; no I/O, no clock reads."""

from __future__ import annotations

import math
from datetime import date, datetime
from enum import StrEnum
from typing import Any

import attrs

from coachcore.domain import checks
from coachcore.errors import BusinessRuleViolation

MIN_SCORE = 0.0
MAX_SCORE = 100.0


def _aware(_: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    checks.aware(attribute.name, value)


def _optional_aware(_: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    checks.optional_aware(attribute.name, value)


def score(field: str, value: Any) -> float:
    """A finite number in ``[0, 100]`` (ints accepted, bools not)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise checks.fail(field, "must be a number")
    number = float(value)
    if not math.isfinite(number) or not MIN_SCORE <= number <= MAX_SCORE:
        raise checks.fail(field, f"must be between {MIN_SCORE:g} and {MAX_SCORE:g}")
    return number


def _score(_: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None:
        score(attribute.name, value)


class ActionItemStatus(StrEnum):
    OPEN = "open"
    DONE = "done"


@attrs.frozen(kw_only=True)
class ActionPlan:
    """A named group of action items for a member, usually made in a session."""

    id: str
    member_id: str
    coach_id: str
    session_id: str | None = None
    title: str
    description: str | None = None
    created_at: datetime = attrs.field(validator=_aware)
    updated_at: datetime = attrs.field(validator=_aware)


@attrs.frozen(kw_only=True)
class ActionItem:
    """Something to do by ``due_date``: owned by the member or their coach."""

    id: str
    member_id: str
    coach_id: str
    owner_id: str
    session_id: str | None = None
    plan_id: str | None = None
    title: str
    description: str | None = None
    due_date: date | None = None
    status: ActionItemStatus = ActionItemStatus.OPEN
    completed_at: datetime | None = attrs.field(default=None, validator=_optional_aware)
    created_at: datetime = attrs.field(validator=_aware)
    updated_at: datetime = attrs.field(validator=_aware)

    def is_overdue(self, today: date) -> bool:
        """Open with a due date before ``today``."""
        return (
            self.status == ActionItemStatus.OPEN
            and self.due_date is not None
            and self.due_date < today
        )

    def set_status(self, status: ActionItemStatus, now: datetime) -> ActionItem:
        """open -> done or done -> open; the same status again is a 422."""
        if status == self.status:
            raise BusinessRuleViolation(
                f"This action item is already {status}", details={"status": str(status)}
            )
        done = status == ActionItemStatus.DONE
        return attrs.evolve(self, status=status, completed_at=now if done else None, updated_at=now)


@attrs.frozen(kw_only=True)
class QuickNote:
    """A coach's private note about a member (optionally about one session)."""

    id: str
    coach_id: str
    member_id: str
    session_id: str | None = None
    body: str
    created_at: datetime = attrs.field(validator=_aware)
    updated_at: datetime = attrs.field(validator=_aware)


@attrs.frozen(kw_only=True)
class SessionScore:
    """The previous and current score (0-100) recorded on one session;
    ``scored_at`` is the session's start, the axis of the member's progress."""

    session_id: str
    member_id: str
    coach_id: str
    previous_score: float | None = attrs.field(default=None, validator=_score)
    current_score: float = attrs.field(validator=_score)
    scored_at: datetime = attrs.field(validator=_aware)
    created_at: datetime = attrs.field(validator=_aware)
    updated_at: datetime = attrs.field(validator=_aware)

    @property
    def change(self) -> float | None:
        """current - previous (None without a previous score)."""
        if self.previous_score is None:
            return None
        return self.current_score - self.previous_score
