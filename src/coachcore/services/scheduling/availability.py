"""Weekly availability windows and the slots members can book."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import attrs

from coachcore.domain import checks
from coachcore.domain.entities import AvailabilityWindow
from coachcore.errors import BusinessRuleViolation, Conflict, ValidationFailed
from coachcore.policies import access
from coachcore.scheduling.slots import AvailableSlot
from coachcore.scheduling.wallclock import window_holds, zone_of
from coachcore.services.delivery import outgoing
from coachcore.services.runtime import records
from coachcore.services.runtime.transaction import SYSTEM_ID, Tx, UseCases, new_id
from coachcore.services.scheduling.placement import duration_of
from coachcore.services.scheduling.slots import coach_available_slots

_UNSET: Any = object()
MAX_RANGE_DAYS = 366
SlotList = list[AvailableSlot]


def _validated(window: AvailabilityWindow) -> AvailabilityWindow:
    if window.start_minute >= window.end_minute:
        raise ValidationFailed(
            "start_time must be before end_time", details={"field": "start_time"}
        )
    return window


def _check_overlap(tx: Tx, window: AvailabilityWindow) -> None:
    for other in tx.uow.windows.list(coach_id=window.coach_id):
        if other.id != window.id and other.is_active and window.overlaps(other):
            raise Conflict(
                "This window overlaps another window of the coach",
                details={"window_id": other.id},
            )


def _protect_bookings(tx: Tx, old: AvailabilityWindow, new: AvailabilityWindow | None) -> None:
    """Refuse to delete or shrink a window under future confirmed bookings."""
    booked = tx.uow.bookings.confirmed_for_window(old.id, tx.now)
    if not booked:
        return
    if new is None:
        raise BusinessRuleViolation(
            "This window still has bookings", details={"bookings": len(booked)}
        )
    zone = zone_of(records.user(tx.uow, old.coach_id).timezone)
    seats: dict[tuple[Any, int], int] = {}
    for booking in booked:
        if not window_holds(new, booking.requested_date, booking.start, booking.duration, zone):
            raise BusinessRuleViolation(
                "The change would leave bookings outside the window",
                details={"booking_id": booking.id},
            )
        key = (booking.start, booking.duration)
        seats[key] = seats.get(key, 0) + 1
    if max(seats.values()) > new.max_sessions_per_slot:
        raise BusinessRuleViolation("A slot already has more bookings than the new capacity")


def _changed(coach_id: str) -> dict[str, Any]:
    return {"type": "availability_changed", "coach_id": coach_id}


class Availability(UseCases):
    """``scope.availability``: a coach's weekly windows (0=Sunday .. 6=Saturday)."""

    def create(
        self,
        *,
        day_of_week: Any,
        start_time: Any,
        end_time: Any,
        max_sessions_per_slot: Any = 1,
        buffer_minutes: Any = 15,
        coach_id: Any = None,
    ) -> AvailabilityWindow:
        """Add a weekly window in the coach's wall-clock time ("24:00" ends a day)."""
        fields: dict[str, Any] = {
            "day_of_week": checks.integer("day_of_week", day_of_week, low=0, high=6),
            "start_time": checks.wall_time("start_time", start_time),
            "end_time": checks.wall_time("end_time", end_time, allow_24=True),
            "max_sessions_per_slot": checks.integer(
                "max_sessions_per_slot", max_sessions_per_slot, low=1, high=1000
            ),
            "buffer_minutes": checks.integer("buffer_minutes", buffer_minutes, low=0, high=1440),
        }
        owner = checks.optional_identifier("coach_id", coach_id)

        def run(tx: Tx) -> AvailabilityWindow:
            coach = records.coach(tx.uow, owner or tx.actor.user_id)
            access.check_own_coach(tx.actor, coach.user_id, "availability:write")
            window = _validated(
                AvailabilityWindow(
                    id=new_id(),
                    coach_id=coach.user_id,
                    created_at=tx.now,
                    updated_at=tx.now,
                    **fields,
                )
            )
            tx.uow.lock_coach(coach.user_id)
            _check_overlap(tx, window)
            tx.uow.windows.add(window)
            outgoing.broadcast(tx, _changed(coach.user_id))
            return window

        return self._rt.write(self._actor, run, action="availability.create")

    def update(
        self,
        window_id: Any,
        *,
        day_of_week: Any = _UNSET,
        start_time: Any = _UNSET,
        end_time: Any = _UNSET,
        max_sessions_per_slot: Any = _UNSET,
        buffer_minutes: Any = _UNSET,
        is_active: Any = _UNSET,
    ) -> AvailabilityWindow:
        """Change a window; refused (422) if future bookings would no longer fit."""
        changes: dict[str, Any] = {}
        if day_of_week is not _UNSET:
            changes["day_of_week"] = checks.integer("day_of_week", day_of_week, low=0, high=6)
        if start_time is not _UNSET:
            changes["start_time"] = checks.wall_time("start_time", start_time)
        if end_time is not _UNSET:
            changes["end_time"] = checks.wall_time("end_time", end_time, allow_24=True)
        if max_sessions_per_slot is not _UNSET:
            changes["max_sessions_per_slot"] = checks.integer(
                "max_sessions_per_slot", max_sessions_per_slot, low=1, high=1000
            )
        if buffer_minutes is not _UNSET:
            changes["buffer_minutes"] = checks.integer(
                "buffer_minutes", buffer_minutes, low=0, high=1440
            )
        if is_active is not _UNSET:
            changes["is_active"] = checks.boolean("is_active", is_active)

        def run(tx: Tx) -> AvailabilityWindow:
            old = records.window(tx.uow, window_id)
            access.check_own_coach(tx.actor, old.coach_id, "availability:write")
            new = _validated(attrs.evolve(old, updated_at=tx.now, **changes))
            tx.uow.lock_coach(old.coach_id)
            _check_overlap(tx, new)
            _protect_bookings(tx, old, new)
            tx.uow.windows.update(new)
            outgoing.broadcast(tx, _changed(old.coach_id))
            return new

        return self._rt.write(self._actor, run, action="availability.update")

    def delete(self, window_id: Any) -> AvailabilityWindow:
        """Remove a window; refused (422) while it has future confirmed bookings."""

        def run(tx: Tx) -> AvailabilityWindow:
            window = records.window(tx.uow, window_id)
            access.check_own_coach(tx.actor, window.coach_id, "availability:write")
            tx.uow.lock_coach(window.coach_id)
            _protect_bookings(tx, window, None)
            tx.uow.windows.delete(window.id)
            outgoing.broadcast(tx, _changed(window.coach_id))
            return window

        return self._rt.write(self._actor, run, action="availability.delete")

    def list(self, coach_id: Any = None) -> list[AvailabilityWindow]:
        """A coach's windows (the actor's own when ``coach_id`` is omitted)."""
        owner = checks.optional_identifier("coach_id", coach_id)

        def run(tx: Tx) -> list[AvailabilityWindow]:
            tx.actor.require("availability:read")
            coach = records.coach(tx.uow, owner or tx.actor.user_id)
            return list(tx.uow.windows.list(coach_id=coach.user_id))

        return self._rt.read(self._actor, run)

    def available_slots(
        self,
        coach_id: Any,
        *,
        start_date: Any,
        end_date: Any,
        duration: Any = 60,
        interval: Any = None,
        viewer_timezone: Any = None,
    ) -> SlotList:
        """Bookable slots between two coach-local dates (inclusive), sorted by start.

        Listed for the acting user: the slots where they have a session are
        marked ``you_have_a_seat`` (never through the system scope)."""
        owner = checks.identifier("coach_id", coach_id)
        first = checks.calendar_date("start_date", start_date)
        last = checks.calendar_date("end_date", end_date)
        minutes = duration_of(duration)
        step = None if interval is None else checks.integer("interval", interval, low=5, high=1440)
        viewer = None
        if viewer_timezone is not None:
            viewer = zone_of(checks.timezone_name("viewer_timezone", viewer_timezone))
        if last < first:
            raise ValidationFailed("end_date must not be before start_date")
        if last - first > timedelta(days=MAX_RANGE_DAYS):
            raise ValidationFailed(f"The date range may span at most {MAX_RANGE_DAYS} days")

        def run(tx: Tx) -> SlotList:
            tx.actor.require("availability:read")
            coach = records.active_user(tx.uow, owner, "coach_id")
            records.coach(tx.uow, coach.id)
            member = None if tx.actor.user_id == SYSTEM_ID else tx.actor.user_id
            return coach_available_slots(
                tx.uow, coach, first, last, minutes, tx.now, step, viewer, member
            )

        return self._rt.read(self._actor, run)
