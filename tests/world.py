"""Small builders for service tests: a coach with windows, members, a clock."""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta
from typing import Any

import coachcore
from coachcore import Role
from coachcore.adapters.clock import FixedClock

_counter = itertools.count()


class World:
    """A core plus handy builders; ``now`` starts on Tuesday 2030-01-01 08:00 UTC."""

    def __init__(self, core: coachcore.Core, clock: FixedClock) -> None:
        self.core = core
        self.clock = clock

    @property
    def sys(self) -> coachcore.SystemScope:
        return self.core.system

    def coach(self, tz: str = "UTC", **profile: Any) -> coachcore.User:
        n = next(_counter)
        user = self.sys.users.create(
            name=f"Coach {n}", email=f"coach{n}@example.com", role=Role.COACH, timezone=tz
        )
        if profile:
            self.sys.coaches.update(user.id, **profile)
        return user

    def member(self, coach: coachcore.User | None = None) -> coachcore.User:
        n = next(_counter)
        return self.sys.signup_member(
            name=f"Member {n}",
            email=f"member{n}@example.com",
            coach_id=None if coach is None else coach.id,
        )

    def admin(self) -> coachcore.User:
        n = next(_counter)
        return self.sys.users.create(
            name=f"Admin {n}", email=f"admin{n}@example.com", role=Role.ADMIN
        )

    def window(self, coach: coachcore.User, day: int, start: str, end: str, **kw: Any) -> Any:
        return self.core.acting_as(coach.id).availability.create(
            day_of_week=day, start_time=start, end_time=end, **kw
        )

    def slots(
        self,
        viewer: coachcore.User,
        coach: coachcore.User,
        first: date,
        last: date | None = None,
        duration: int = 60,
    ) -> list[coachcore.AvailableSlot]:
        return self.core.acting_as(viewer.id).availability.available_slots(
            coach.id, start_date=first, end_date=last or first, duration=duration
        )

    def first_booking(self, day: date) -> tuple[coachcore.User, coachcore.User, coachcore.Booking]:
        """A coach with a 09:00-12:00 window on ``day``'s weekday, a member of
        theirs, and the member's booking of the first slot that day."""
        coach = self.coach()
        member = self.member(coach)
        self.window(coach, day.isoweekday() % 7, "09:00", "12:00")  # 0 is Sunday
        start = self.slots(member, coach, day)[0].start
        return coach, member, self.book(member, coach, start)

    def book(
        self, member: coachcore.User, coach: coachcore.User, start: datetime, duration: int = 60
    ) -> coachcore.Booking:
        return self.core.acting_as(member.id).bookings.create(
            coach_id=coach.id, start=start, duration=duration
        )

    def advance(self, **delta: float) -> datetime:
        return self.clock.advance(timedelta(**delta))
