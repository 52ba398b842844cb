"""A coach's booking rules and date overrides (``scope.scheduling``).

Rules and overrides change which slots are listed and booked from the next
call on; sessions already booked are never touched by them.
"""

from __future__ import annotations

from typing import Any

import attrs

from coachcore.domain import checks
from coachcore.domain.rules import RULE_RANGES, DateOverride, OverrideKind, SchedulingRules
from coachcore.errors import BusinessRuleViolation, Conflict, ValidationFailed
from coachcore.policies import access
from coachcore.services.delivery import outgoing
from coachcore.services.runtime import records
from coachcore.services.runtime.transaction import Tx, UseCases, new_id
from coachcore.services.scheduling.slots import rules_of

MAX_OVERRIDE_RANGE_DAYS = 3660


def _changed(coach_id: str) -> dict[str, Any]:
    return {"type": "availability_changed", "coach_id": coach_id}


def _rule_value(name: str, value: Any) -> int | None:
    if value is None:
        return None
    low, high = RULE_RANGES[name]
    return checks.integer(name, value, low=low, high=high)


def _override_times(
    kind: OverrideKind, start_time: Any, end_time: Any
) -> tuple[str | None, str | None]:
    """Both times or (for a whole-day block) neither; start before end."""
    if start_time is None and end_time is None and kind == OverrideKind.BLOCK:
        return None, None
    if start_time is None or end_time is None:
        raise ValidationFailed(
            "start_time and end_time are both required (a block may omit both for the whole day)",
            details={"field": "start_time" if start_time is None else "end_time"},
        )
    start = checks.wall_time("start_time", start_time)
    end = checks.wall_time("end_time", end_time, allow_24=True)
    if checks.minutes_of(start) >= checks.minutes_of(end):
        raise ValidationFailed(
            "start_time must be before end_time", details={"field": "start_time"}
        )
    return start, end


def _check_extra_overlap(tx: Tx, new: DateOverride) -> None:
    """Extra hours on one date may not overlap each other (as weekly windows may not)."""
    assert new.start_time is not None and new.end_time is not None
    for other in tx.uow.overrides.for_coach(new.coach_id, new.date, new.date):
        if (
            other.kind == OverrideKind.EXTRA
            and other.start_time is not None
            and other.end_time is not None
            and checks.minutes_of(other.start_time) < checks.minutes_of(new.end_time)
            and checks.minutes_of(new.start_time) < checks.minutes_of(other.end_time)
        ):
            raise Conflict(
                "These extra hours overlap other extra hours on that date",
                details={"override_id": other.id},
            )


class Scheduling(UseCases):
    """``scope.scheduling``: booking rules and date overrides, by coach user id."""

    def rules(self, coach_id: Any = None) -> SchedulingRules:
        """The coach's rules (the actor's own when ``coach_id`` is omitted)."""
        owner = checks.optional_identifier("coach_id", coach_id)

        def run(tx: Tx) -> SchedulingRules:
            tx.actor.require("availability:read")
            coach = records.coach(tx.uow, owner or tx.actor.user_id)
            return rules_of(tx.uow, coach.user_id)

        return self._rt.read(self._actor, run)

    def set_rules(self, coach_id: Any = None, **changes: Any) -> SchedulingRules:
        """Change some rules (``None`` turns one off); the coach or an admin.

        Names: ``slot_interval_minutes``, ``min_notice_minutes``,
        ``booking_horizon_days``, ``max_sessions_per_day``,
        ``max_future_bookings_per_member``, ``cancellation_cutoff_hours``,
        ``waitlist_hold_minutes``.
        """
        owner = checks.optional_identifier("coach_id", coach_id)
        unknown = sorted(set(changes) - set(RULE_RANGES))
        if unknown:
            raise ValidationFailed(
                f"Unknown scheduling rules: {', '.join(unknown)}", details={"unknown": unknown}
            )
        values: dict[str, Any] = {name: _rule_value(name, value) for name, value in changes.items()}

        def run(tx: Tx) -> SchedulingRules:
            coach = records.coach(tx.uow, owner or tx.actor.user_id)
            access.check_own_coach(tx.actor, coach.user_id, "availability:write")
            tx.uow.lock_coach(coach.user_id)
            stored = tx.uow.rules.get(coach.user_id)
            current = stored or SchedulingRules(coach_id=coach.user_id)
            rules = attrs.evolve(current, updated_at=tx.now, **values)
            if stored is None:
                tx.uow.rules.add(rules)
            else:
                tx.uow.rules.update(rules)
            outgoing.broadcast(tx, _changed(coach.user_id))
            return rules

        return self._rt.write(self._actor, run, action="scheduling.set_rules")

    def add_override(
        self,
        *,
        date: Any,
        kind: Any,
        start_time: Any = None,
        end_time: Any = None,
        max_sessions_per_slot: Any = 1,
        buffer_minutes: Any = 0,
        reason: Any = None,
        coach_id: Any = None,
    ) -> DateOverride:
        """Block a coach-local date (whole, or ``start_time``-``end_time``) or add
        extra hours on it (``kind="extra"``, with their seats and buffer).

        Blocking keeps sessions already booked then; cancel them if needed.
        """
        owner = checks.optional_identifier("coach_id", coach_id)
        day = checks.calendar_date("date", date)
        what = checks.choice("kind", kind, OverrideKind)
        start, end = _override_times(what, start_time, end_time)
        seats = checks.integer("max_sessions_per_slot", max_sessions_per_slot, low=1, high=1000)
        buffer = checks.integer("buffer_minutes", buffer_minutes, low=0, high=1440)
        why = checks.text("reason", reason, max_len=2000)

        def run(tx: Tx) -> DateOverride:
            coach = records.coach(tx.uow, owner or tx.actor.user_id)
            access.check_own_coach(tx.actor, coach.user_id, "availability:write")
            tx.uow.lock_coach(coach.user_id)
            override = DateOverride(
                id=new_id(),
                coach_id=coach.user_id,
                date=day,
                kind=what,
                start_time=start,
                end_time=end,
                max_sessions_per_slot=seats,
                buffer_minutes=buffer,
                reason=why,
                created_at=tx.now,
            )
            if what == OverrideKind.EXTRA:
                _check_extra_overlap(tx, override)
            tx.uow.overrides.add(override)
            outgoing.broadcast(tx, _changed(coach.user_id))
            return override

        return self._rt.write(self._actor, run, action="scheduling.add_override")

    def remove_override(self, override_id: Any) -> DateOverride:
        """Remove an override; extra hours with future bookings are kept (422)."""

        def run(tx: Tx) -> DateOverride:
            override = records.date_override(tx.uow, override_id)
            access.check_own_coach(tx.actor, override.coach_id, "availability:write")
            tx.uow.lock_coach(override.coach_id)
            booked = tx.uow.bookings.confirmed_for_window(override.id, tx.now)
            if booked:
                raise BusinessRuleViolation(
                    "These extra hours still have bookings", details={"bookings": len(booked)}
                )
            tx.uow.overrides.delete(override.id)
            outgoing.broadcast(tx, _changed(override.coach_id))
            return override

        return self._rt.write(self._actor, run, action="scheduling.remove_override")

    def overrides(
        self, coach_id: Any = None, *, start_date: Any, end_date: Any
    ) -> list[DateOverride]:
        """The coach's overrides dated ``start_date`` .. ``end_date`` (inclusive)."""
        owner = checks.optional_identifier("coach_id", coach_id)
        first = checks.calendar_date("start_date", start_date)
        last = checks.calendar_date("end_date", end_date)
        if last < first or (last - first).days > MAX_OVERRIDE_RANGE_DAYS:
            raise ValidationFailed(
                "end_date must be on or after start_date, "
                f"at most {MAX_OVERRIDE_RANGE_DAYS} days later"
            )

        def run(tx: Tx) -> list[DateOverride]:
            tx.actor.require("availability:read")
            coach = records.coach(tx.uow, owner or tx.actor.user_id)
            return list(tx.uow.overrides.for_coach(coach.user_id, first, last))

        return self._rt.read(self._actor, run)
