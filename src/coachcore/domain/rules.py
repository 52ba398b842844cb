"""A coach's booking rules, date overrides and waitlist entries.

Every rule is off by default (``None``): no slot interval other than the
duration, no minimum notice, no horizon, no daily or per-member limit, no
cancellation cut-off and no waitlist. A coach without a stored
:class:`SchedulingRules` row books exactly as before these rules existed.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

import attrs

from coachcore.domain import checks


def _aware(_: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    checks.aware(attribute.name, value)


def _optional_aware(_: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    checks.optional_aware(attribute.name, value)


def _in_range(low: int, high: int) -> Any:
    def check(_: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        checks.integer(attribute.name, value, low=low, high=high)

    return check


def _optional_in_range(low: int, high: int) -> Any:
    def check(_: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if value is not None:
            checks.integer(attribute.name, value, low=low, high=high)

    return check


#: rule name -> (lowest, highest) accepted value; ``None`` turns the rule off.
RULE_RANGES: dict[str, tuple[int, int]] = {
    "slot_interval_minutes": (5, 1440),
    "min_notice_minutes": (1, 525_600),
    "booking_horizon_days": (1, 3650),
    "max_sessions_per_day": (1, 1000),
    "max_future_bookings_per_member": (1, 1000),
    "cancellation_cutoff_hours": (1, 8760),
    "waitlist_hold_minutes": (1, 10_080),
}


@attrs.frozen(kw_only=True)
class SchedulingRules:
    """A coach's booking rules; ``None`` means the rule is off.

    - ``slot_interval_minutes``: slots start every N minutes (default: every
      session duration), for listing and booking alike.
    - ``min_notice_minutes``: no slot starts within N minutes of now.
    - ``booking_horizon_days``: no slot starts more than N days after now.
    - ``max_sessions_per_day``: a coach-local date with N scheduled sessions
      has no more slots.
    - ``max_future_bookings_per_member``: a member holds at most N upcoming
      sessions with this coach.
    - ``cancellation_cutoff_hours``: members cannot cancel or reschedule within
      N hours of the start (the coach and admins still can).
    - ``waitlist_hold_minutes``: members may join the waitlist of a full slot;
      a freed seat is held N minutes for the first one waiting.
    """

    coach_id: str
    slot_interval_minutes: int | None = attrs.field(
        default=None, validator=_optional_in_range(*RULE_RANGES["slot_interval_minutes"])
    )
    min_notice_minutes: int | None = attrs.field(
        default=None, validator=_optional_in_range(*RULE_RANGES["min_notice_minutes"])
    )
    booking_horizon_days: int | None = attrs.field(
        default=None, validator=_optional_in_range(*RULE_RANGES["booking_horizon_days"])
    )
    max_sessions_per_day: int | None = attrs.field(
        default=None, validator=_optional_in_range(*RULE_RANGES["max_sessions_per_day"])
    )
    max_future_bookings_per_member: int | None = attrs.field(
        default=None,
        validator=_optional_in_range(*RULE_RANGES["max_future_bookings_per_member"]),
    )
    cancellation_cutoff_hours: int | None = attrs.field(
        default=None, validator=_optional_in_range(*RULE_RANGES["cancellation_cutoff_hours"])
    )
    waitlist_hold_minutes: int | None = attrs.field(
        default=None, validator=_optional_in_range(*RULE_RANGES["waitlist_hold_minutes"])
    )
    updated_at: datetime | None = attrs.field(default=None, validator=_optional_aware)


class OverrideKind(StrEnum):
    BLOCK = "block"
    EXTRA = "extra"


@attrs.frozen(kw_only=True)
class DateOverride:
    """One coach-local date made different from the weekly windows.

    ``block`` without times takes the whole date off; ``block`` with times
    removes every slot overlapping ``[start_time, end_time)``; ``extra`` adds
    bookable hours on that date with their own seats and buffer.
    """

    id: str
    coach_id: str
    date: date
    kind: OverrideKind
    start_time: str | None = None
    end_time: str | None = None
    max_sessions_per_slot: int = attrs.field(default=1, validator=_in_range(1, 1000))
    buffer_minutes: int = attrs.field(default=0, validator=_in_range(0, 1440))
    reason: str | None = None
    created_at: datetime = attrs.field(validator=_aware)

    @property
    def whole_day(self) -> bool:
        """Whether the override covers the whole day (no start and end time)."""
        return self.start_time is None


class WaitlistStatus(StrEnum):
    WAITING = "waiting"
    OFFERED = "offered"
    BOOKED = "booked"
    EXPIRED = "expired"
    LEFT = "left"


#: statuses of an entry still in the queue (waiting, or holding a seat)
OPEN_WAITLIST = (WaitlistStatus.WAITING, WaitlistStatus.OFFERED)


@attrs.frozen(kw_only=True)
class WaitlistEntry:
    """A member waiting for a seat in one full slot of a coach.

    ``offered`` entries hold a freed seat until ``hold_until``: the seat counts
    as taken for everyone else, and the member books it as usual.
    """

    id: str
    coach_id: str
    member_id: str
    start: datetime = attrs.field(validator=_aware)
    duration: int
    status: WaitlistStatus = WaitlistStatus.WAITING
    hold_until: datetime | None = attrs.field(default=None, validator=_optional_aware)
    booking_id: str | None = None
    #: place in the slot's queue (1, 2, ...): seats are offered in this order.
    #: Joins queue on the coach's lock, so it is the order of joining, even
    #: for joins at the same instant.
    position: int = 0
    created_at: datetime = attrs.field(validator=_aware)
    updated_at: datetime = attrs.field(validator=_aware)
