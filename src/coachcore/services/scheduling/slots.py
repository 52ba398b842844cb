"""Slot look-ups against the store: one code path for listing and for booking.

Both read the coach's windows, rules and date overrides, count the seats
taken (sessions, plus seats the waitlist holds for someone else), lay out the
grid with the slot engine and pass every slot through
:meth:`~coachcore.scheduling.calendar.BookingCalendar.refusal`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import lru_cache
from typing import TypeVar

import attrs

from coachcore.domain.entities import AvailabilityWindow, User
from coachcore.domain.rules import SchedulingRules, WaitlistEntry
from coachcore.errors import BusinessRuleViolation, SlotFull
from coachcore.ports.storage import UnitOfWork
from coachcore.scheduling.calendar import DAY_FULL, BookingCalendar, sessions_per_day
from coachcore.scheduling.grid import grid
from coachcore.scheduling.listing import available_slots_indexed, slot_states_indexed
from coachcore.scheduling.lookup import slot_state_among
from coachcore.scheduling.occupancy import Columns, OccupancyIndex, columns_of, search_margin
from coachcore.scheduling.slots import AvailableSlot, SlotState
from coachcore.scheduling.wallclock import day_of_week, zone_of

# Sessions last at most a day (``Session.duration`` is validated to 1..1440
# minutes), so one that starts earlier than this before a slot cannot reach it.
LONGEST_SESSION = timedelta(minutes=1440)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

Occupancy = list[tuple[datetime, int, int]]
S = TypeVar("S", AvailableSlot, SlotState)


def rules_of(uow: UnitOfWork, coach_id: str) -> SchedulingRules:
    """The coach's rules (all off when the coach never set any)."""
    return uow.rules.get(coach_id) or _no_rules(coach_id)


@lru_cache(maxsize=1024)
def _no_rules(coach_id: str) -> SchedulingRules:
    """The rules of a coach who never set any (immutable: one per coach is shared)."""
    return SchedulingRules(coach_id=coach_id)


def seats_taken(
    uow: UnitOfWork,
    coach_id: str,
    low: datetime,
    high: datetime,
    now: datetime,
    member_id: str | None = None,
    leaving_out: tuple[datetime, int] | None = None,
) -> Columns:
    """Seats taken by intervals starting in ``[low, high)``, as columns (starts
    in microseconds since the epoch, durations, counts): non-cancelled
    sessions, plus seats the waitlist holds for anyone but ``member_id``, less
    one seat of ``leaving_out`` (the session being moved). Each source is read
    once; the store's columns are handed over as they are when nothing is
    added or left out."""
    columns = uow.sessions.occupancy(coach_id, low, high)
    holds = _holds(uow, coach_id, low, high, now, member_id)
    if not holds and leaving_out is None:
        return columns
    counts = {(start, length): n for start, length, n in _rows(columns)}
    for hold in holds:
        key = (hold.start, hold.duration)
        counts[key] = counts.get(key, 0) + 1
    if leaving_out is not None and leaving_out in counts:
        counts[leaving_out] -= 1
    return columns_of((start, length, n) for (start, length), n in sorted(counts.items()) if n > 0)


def _rows(columns: Columns) -> Occupancy:
    """Columns back as ``(start, duration, count)`` rows."""
    starts, lengths, seats = columns
    return [
        (_EPOCH + timedelta(microseconds=at), length, n)
        for at, length, n in zip(starts, lengths, seats, strict=True)
    ]


def _with_day_counts(calendar: BookingCalendar, columns: Columns, zone: tzinfo) -> BookingCalendar:
    """The calendar knowing how many sessions each local day has (for a daily limit)."""
    return attrs.evolve(calendar, day_counts=sessions_per_day(_rows(columns), zone))


def own_seats(
    uow: UnitOfWork, coach_id: str, member_id: str | None, low: datetime, high: datetime
) -> Sequence[datetime]:
    """The starts in ``[low, high)`` of the member's non-cancelled sessions with
    the coach: the slots where they have a seat, which booking refuses a second time."""
    if member_id is None:
        return []
    return [s.scheduled_at for s in uow.sessions.seats_held(coach_id, member_id, low, high)]


def _holds(
    uow: UnitOfWork,
    coach_id: str,
    low: datetime,
    high: datetime,
    now: datetime,
    member_id: str | None,
) -> list[WaitlistEntry]:
    """The waitlist's seat holds in ``[low, high)`` for anyone but ``member_id``."""
    return [h for h in uow.waitlist.holds(coach_id, low, high, now) if h.member_id != member_id]


def _local_day(day: date, zone: tzinfo) -> datetime:
    return datetime.combine(day, time(), zone).astimezone(UTC)


@attrs.frozen
class _Plan:
    """What a listing needs: the calendar, the windows, the seats taken."""

    calendar: BookingCalendar
    windows: Sequence[AvailabilityWindow]
    extra: dict[date, list[AvailabilityWindow]]
    index: OccupancyIndex
    last: date
    low: datetime
    high: datetime
    """The instants whose sessions were read: ``[low, high)``."""


def _plan(
    uow: UnitOfWork,
    coach: User,
    first: date,
    last: date,
    duration: int,
    now: datetime,
    member_id: str | None,
) -> _Plan | None:
    """Load everything a listing between two local dates needs, or None if the
    coach has no hours then.

    Bounds go to the store in UTC, like the stored instants: comparing datetimes
    of different zones costs a UTC-offset look-up per comparison.
    """
    zone = zone_of(coach.timezone)
    rules = rules_of(uow, coach.id)
    windows = uow.windows.list(coach_id=coach.id)
    overrides = uow.overrides.for_coach(coach.id, first, last)
    calendar = BookingCalendar(zone, rules, now, overrides)
    extra = calendar.extra_windows()
    last = calendar.last_date(last)
    if (not windows and not extra) or last < first:
        return None
    margin = search_margin([*windows, *(w for ws in extra.values() for w in ws)], duration)
    low = _local_day(first, zone) - margin
    high = _local_day(last + timedelta(days=1), zone) + margin
    columns = seats_taken(uow, coach.id, low, high, now, member_id)
    if rules.max_sessions_per_day is not None:
        calendar = _with_day_counts(calendar, columns, zone)
    index = OccupancyIndex.from_arrays(*columns)
    return _Plan(calendar, windows, extra, index, last, low, high)


def _listing(
    plan: _Plan,
    first: date,
    grid_of: Callable[[Sequence[AvailabilityWindow], date], Iterable[datetime]],
    lay_out: Callable[[Sequence[AvailabilityWindow], date, date], list[S]],
) -> list[S]:
    """The weekly windows' slots plus each extra date's, filtered by the rules.

    Where an extra window and a weekly one have a grid slot at the same start,
    the weekly slot is the one (booking looks there first too), even when it
    is full or blocked.
    """
    slots: list[S] = lay_out(plan.windows, first, plan.last) if plan.windows else []
    extra: list[S] = []
    for day, windows in sorted(plan.extra.items()):
        if first <= day <= plan.last:
            weekly = set(grid_of(plan.windows, day))
            extra.extend(s for s in lay_out(windows, day, day) if s.start not in weekly)
    if extra:
        slots.extend(extra)
        slots.sort(key=lambda s: s.start)
    return plan.calendar.keep(slots)


def _grid_starts(
    zone: tzinfo, duration: int, step: int | None
) -> Callable[[Sequence[AvailabilityWindow], date], Iterable[datetime]]:
    """The starts of every grid slot the windows have on one local date."""

    def starts(windows: Sequence[AvailabilityWindow], day: date) -> Iterable[datetime]:
        return (start for start, _, _, _ in grid(windows, zone, day, day, duration, step))

    return starts


def coach_slot_states(
    uow: UnitOfWork,
    coach: User,
    start_date: date,
    end_date: date,
    duration: int,
    now: datetime,
    interval: int | None = None,
    member_id: str | None = None,
) -> list[SlotState]:
    """Every grid slot of the coach the rules allow between two local dates, with seats."""
    plan = _plan(uow, coach, start_date, end_date, duration, now, member_id)
    if plan is None:
        return []
    zone, cal = zone_of(coach.timezone), plan.calendar
    step = interval or cal.interval

    def lay_out(windows: Sequence[AvailabilityWindow], first: date, last: date) -> list[SlotState]:
        return slot_states_indexed(
            windows, zone, first, last, duration, cal.earliest, plan.index, step
        )

    return _listing(plan, start_date, _grid_starts(zone, duration, step), lay_out)


def coach_available_slots(
    uow: UnitOfWork,
    coach: User,
    start_date: date,
    end_date: date,
    duration: int,
    now: datetime,
    interval: int | None = None,
    viewer: tzinfo | None = None,
    member_id: str | None = None,
) -> list[AvailableSlot]:
    """The coach's bookable slots between two local dates: the same slots as
    :func:`coach_slot_states`, keeping those with a free seat, without building
    a ``SlotState`` for every grid slot. ``member_id``'s own waitlist hold
    counts as free for them, and the slots where they have a session are
    marked ``you_have_a_seat``."""
    plan = _plan(uow, coach, start_date, end_date, duration, now, member_id)
    if plan is None:
        return []
    zone, cal = zone_of(coach.timezone), plan.calendar
    step = interval or cal.interval
    seats = own_seats(uow, coach.id, member_id, plan.low, plan.high)

    def lay_out(
        windows: Sequence[AvailabilityWindow], first: date, last: date
    ) -> list[AvailableSlot]:
        return available_slots_indexed(
            windows, zone, first, last, duration, cal.earliest, plan.index, step, viewer, seats
        )

    return _listing(plan, start_date, _grid_starts(zone, duration, step), lay_out)


def _windows_on(
    uow: UnitOfWork, coach_id: str, calendar: BookingCalendar, day: date, weekday: int
) -> Iterator[list[AvailabilityWindow]]:
    """The coach's weekly windows on ``day``'s weekday, then (only if asked
    for) the extra hours of that date: where booking looks for a slot."""
    weekly = [w for w in uow.windows.list(coach_id=coach_id) if w.day_of_week == weekday]
    if weekly:
        yield weekly
    extra = calendar.extra_windows().get(day)
    if extra:
        yield extra


@attrs.frozen
class SlotCheck:
    """The booking-time answer for one slot: its state, or why the rules
    refuse it, and the coach's rules it was decided by."""

    rules: SchedulingRules
    state: SlotState | None
    refusal: str | None = None

    def seat(self, start: datetime, duration: int) -> SlotState:
        """The slot's state if it has a free seat; otherwise why not:
        ``SlotFull`` (409), or 422 when the rules refuse it or no window has it."""
        if self.refusal == DAY_FULL:
            raise SlotFull(DAY_FULL)
        if self.refusal is not None:
            raise BusinessRuleViolation(self.refusal, details={"start": start.isoformat()})
        if self.state is None:
            raise BusinessRuleViolation(
                "The requested time is outside the coach's availability",
                details={"start": start.isoformat(), "duration": duration},
            )
        if self.state.available_capacity <= 0:
            raise SlotFull()
        return self.state


def slot_at(
    uow: UnitOfWork,
    coach: User,
    start: datetime,
    duration: int,
    now: datetime,
    member_id: str | None = None,
    leaving_out: tuple[datetime, int] | None = None,
) -> SlotCheck:
    """The coach's grid slot starting exactly at ``start`` (state None if there is none).

    The same rules and the same engine as the listing, for one slot: only the
    sessions that can share or block it are read (those starting within
    ``LONGEST_SESSION`` + buffer before it, up to its end + buffer), and the
    whole local day's sessions when a daily limit is set. ``leaving_out`` is
    the ``(start, duration)`` of a session being moved: its seat is not counted.
    """
    zone = zone_of(coach.timezone)
    day = start.astimezone(zone).date()
    rules = rules_of(uow, coach.id)
    calendar = BookingCalendar(zone, rules, now, uow.overrides.for_coach(coach.id, day, day))
    if rules.max_sessions_per_day is not None:
        low, high = _local_day(day, zone), _local_day(day + timedelta(days=1), zone)
        columns = seats_taken(uow, coach.id, low, high, now, member_id, leaving_out)
        calendar = _with_day_counts(calendar, columns, zone)
    refusal = calendar.refusal(start, start + timedelta(minutes=duration), day)
    if refusal is not None:
        return SlotCheck(rules, None, refusal)
    weekday = day_of_week(day)
    for windows in _windows_on(uow, coach.id, calendar, day, weekday):
        buffer = timedelta(minutes=max(w.buffer_minutes for w in windows))
        low = start - buffer - LONGEST_SESSION
        high = start + timedelta(minutes=duration) + buffer
        columns = seats_taken(uow, coach.id, low, high, now, member_id, leaving_out)
        state = slot_state_among(
            windows, zone, start, duration, calendar.earliest, columns, calendar.interval
        )
        if state is not None:
            return SlotCheck(rules, state)
    return SlotCheck(rules, None)
