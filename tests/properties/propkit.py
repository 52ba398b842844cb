"""Helpers shared by the property tests: a fresh world per example and a slot reference.

Everything here goes through the public API (``core.system``,
``core.acting_as``, the recorders ``core.calendar`` / ``core.notifier`` /
``core.messaging``) so the properties run unchanged on every store.
"""

from __future__ import annotations

import functools
import itertools
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import attrs
from hypothesis import strategies as st

import coachcore
from coachcore import Role
from coachcore.adapters.clock import FixedClock
from coachcore.errors import CoachCoreError
from coachcore.testing.strategies import (
    UserSpec,
    WindowSpec,
    offset_changes,
    timezones,
    window_specs,
)

#: Tuesday 2030-01-01 08:00 UTC: the default "now" of every world.
T0 = datetime(2030, 1, 1, 8, 0, tzinfo=UTC)


@functools.cache
def transition_days(tz: str, year: int = 2030) -> tuple[date, ...]:
    """Local dates on which ``tz`` changes its UTC offset during ``year``."""
    zone = ZoneInfo(tz)
    out = []
    day = date(year, 1, 1)
    while day.year == year:
        today = datetime.combine(day, time(), zone).utcoffset()
        tomorrow = datetime.combine(day + timedelta(days=1), time(), zone).utcoffset()
        if today != tomorrow:
            out.append(day)
        day += timedelta(days=1)
    return tuple(out)


@functools.cache
def clock_anomalies(tz: str, year: int = 2030) -> tuple[tuple[date, int], ...]:
    """Where the wall clock of ``tz`` misbehaves in ``year``: the local date and minute
    at which a gap (spring forward) or a repeated stretch (fall back) begins."""
    zone = ZoneInfo(tz)
    out = []
    for edge in offset_changes(tz, year):
        before = (edge - timedelta(minutes=1)).astimezone(zone).replace(tzinfo=None)
        after = edge.astimezone(zone).replace(tzinfo=None)
        begins = min(before + timedelta(minutes=1), after)
        out.append((begins.date(), begins.hour * 60 + begins.minute))
    return tuple(out)


class World:
    """A core over an empty store plus small builders; use as a context manager."""

    def __init__(self, backend: Any, now: datetime = T0, **options: Any) -> None:
        self.clock = FixedClock(now)
        self.core: coachcore.Core = backend.open(self.clock, **options)
        self._n = itertools.count()

    def __enter__(self) -> World:
        return self

    def __exit__(self, *exc: object) -> None:
        self.core.close()

    # -- scopes -------------------------------------------------------------------
    @property
    def sys(self) -> coachcore.SystemScope:
        return self.core.system

    @property
    def now(self) -> datetime:
        return self.clock.now()

    def as_(self, who: Any) -> coachcore.Scope:
        return self.core.acting_as(who if isinstance(who, str) else who.id)

    # -- people -------------------------------------------------------------------
    def _email(self, kind: str) -> str:
        return f"{kind}{next(self._n)}@example.com"

    def coach(
        self, tz: str = "UTC", spec: UserSpec | None = None, **profile: Any
    ) -> coachcore.User:
        user = self.sys.users.create(
            name=spec.name if spec else f"Coach {next(self._n)}",
            email=spec.email if spec else self._email("coach"),
            role=Role.COACH,
            timezone=spec.timezone if spec else tz,
        )
        if profile:
            self.sys.coaches.update(user.id, **profile)
        return user

    def member(self, coach: Any = None, spec: UserSpec | None = None) -> coachcore.User:
        return self.sys.signup_member(
            name=spec.name if spec else f"Member {next(self._n)}",
            email=spec.email if spec else self._email("member"),
            coach_id=None if coach is None else _id(coach),
            timezone=spec.timezone if spec else "UTC",
        )

    def admin(self) -> coachcore.User:
        return self.user(Role.ADMIN)

    def user(self, role: str) -> coachcore.User:
        return self.sys.users.create(
            name=f"{role.title()} {next(self._n)}", email=self._email(str(role)), role=role
        )

    # -- schedule -----------------------------------------------------------------
    def window(self, coach: Any, spec: WindowSpec | None = None, **kw: Any) -> Any:
        fields = spec.as_kwargs() if spec is not None else {}
        fields.update(kw)
        return self.as_(coach).availability.create(**fields)

    def slots(
        self, coach: Any, first: date, last: date, duration: int = 60, **kw: Any
    ) -> list[Any]:
        return self.sys.availability.available_slots(
            _id(coach), start_date=first, end_date=last, duration=duration, **kw
        )

    def coach_with_mornings(self, seats: int) -> coachcore.User:
        """A UTC coach with Wednesday 09:00-12:00 hours, ``seats`` per slot, no buffer."""
        coach = self.coach()
        self.window(
            coach,
            day_of_week=3,
            start_time="09:00",
            end_time="12:00",
            max_sessions_per_slot=seats,
            buffer_minutes=0,
        )
        return coach

    def distinct_slots(self, data: Any, coach: Any, first: date, last: date) -> list[Any]:
        """Two of the coach's 60-minute slots with different starts, drawn."""
        return data.draw(  # type: ignore[no-any-return]
            st.lists(
                st.sampled_from(self.slots(coach, first, last)),
                min_size=2,
                max_size=2,
                unique_by=lambda s: s.start,
            ),
            label="slots",
        )

    def book(self, member: Any, coach: Any, start: datetime, duration: int = 60) -> Any:
        return self.as_(member).bookings.create(coach_id=_id(coach), start=start, duration=duration)

    def session(
        self,
        coach: Any,
        member: Any,
        start: datetime | None = None,
        duration: int = 60,
        **kw: Any,
    ) -> coachcore.Session:
        """A session the coach schedules directly (default: one day after now),
        outside any window: an override of the slot rules unless ``override=False``."""
        if kw.get("override", True):
            kw = {"override": True, "override_reason": "set up by the test", **kw}
        return self.as_(coach).sessions.create(
            member_id=_id(member),
            coach_id=_id(coach),
            scheduled_at=start if start is not None else self.now + timedelta(days=1),
            duration=duration,
            **kw,
        )

    def completed(self, coach: Any, member: Any, **kw: Any) -> coachcore.Session:
        session = self.session(coach, member, **kw)
        return self.as_(coach).sessions.complete(session.id, coach_notes="done")

    def cancelled(self, coach: Any, member: Any, **kw: Any) -> coachcore.Session:
        session = self.session(coach, member, **kw)
        return self.as_(coach).sessions.cancel(session.id, reason="cancelled in test")

    # -- side effects ---------------------------------------------------------------
    def flush(self) -> None:
        """Deliver whatever is still in the outbox (stores that do not dispatch on commit)."""
        self.sys.outbox.dispatch()

    def stored(self, who: Any, kind: str | None = None) -> list[Any]:
        """Notifications stored for ``who`` (of ``kind``), read through the system scope."""
        rows = self.sys.notifications.list(recipient_id=_id(who))
        return [n for n in rows if kind is None or n.kind == kind]

    def delivered(self, who: Any, kind: str | None = None) -> list[Any]:
        """Notifications the notifier received for ``who`` (of ``kind``)."""
        self.flush()
        sent = self.core.notifier.sent  # type: ignore[attr-defined]
        return [n for n in sent if n.recipient_id == _id(who) and (kind is None or n.kind == kind)]

    def events_for(self, session_id: str) -> list[Any]:
        """Calendar events the calendar adapter holds for a session."""
        self.flush()
        calendar: Any = self.core.calendar
        return [e for e in calendar.events.values() if e.session_id == session_id]


def _id(who: Any) -> str:
    return who if isinstance(who, str) else str(who.id)


def raises(error: type[BaseException], call: Any, *args: Any, **kwargs: Any) -> BaseException:
    """Call and return the exception, failing if it is not ``error``."""
    try:
        call(*args, **kwargs)
    except error as exc:
        return exc
    except CoachCoreError as exc:  # pragma: no cover - the message is the point
        raise AssertionError(f"expected {error.__name__}, got {exc!r}") from exc
    raise AssertionError(f"expected {error.__name__}, nothing was raised")


# -- the slot reference -------------------------------------------------------------------


@attrs.frozen
class RefSlot:
    start: datetime
    end: datetime
    local_start: datetime
    available_capacity: int
    max_capacity: int
    buffer_minutes: int
    day_of_week: int
    window_start: int
    window_end: int


def minutes(hhmm: str) -> int:
    hours, mins = hhmm.split(":")
    return int(hours) * 60 + int(mins)


def weekday(day: date) -> int:
    """0=Sunday .. 6=Saturday."""
    return {0: 1, 1: 2, 2: 3, 3: 4, 4: 5, 5: 6, 6: 0}[day.weekday()]


def local_to_utc(day: date, minute: int, zone: ZoneInfo) -> datetime | None:
    """The instant of ``minute`` minutes after local midnight; None if it never happens.

    A wall-clock time inside a spring-forward gap does not exist; an ambiguous one
    (fall back) is its first occurrence, ``fold=0``.
    """
    wall = datetime.combine(day, time()) + timedelta(minutes=minute)
    first = wall.replace(tzinfo=zone, fold=0)
    instant = first.astimezone(UTC)
    if instant.astimezone(zone).replace(tzinfo=None) != wall:
        return None
    return instant


def window_end_utc(day: date, end_minute: int, zone: ZoneInfo) -> datetime:
    """When a dated window ends; an end inside a gap counts with the pre-gap offset."""
    wall = datetime.combine(day, time()) + timedelta(minutes=end_minute)
    return wall.replace(tzinfo=zone, fold=0).astimezone(UTC)


def reference_slots(
    windows: Iterable[Any],
    tz: str,
    first: date,
    last: date,
    duration: int,
    now: datetime,
    occupied: Sequence[tuple[datetime, int]],
    interval: int | None = None,
    stats: Counter[str] | None = None,
) -> list[RefSlot]:
    """Every future grid slot (even full or blocked ones), by brute force.

    For each date, each active window on that weekday, each grid minute from the
    window start in steps of ``interval or duration``: the local start must exist,
    the slot must end by the window's end and start after ``now``. Seats: occupied
    intervals with the same start and duration. Blocked: any other occupied interval
    that comes within the window's buffer of the slot.
    """
    zone = ZoneInfo(tz)
    step = interval or duration
    length = timedelta(minutes=duration)
    out: list[RefSlot] = []
    day = first
    while day <= last:
        for w in windows:
            if not getattr(w, "is_active", True) or w.day_of_week != weekday(day):
                continue
            start_min, end_min = minutes(w.start_time), minutes(w.end_time)
            ends = window_end_utc(day, end_min, zone)
            buffer = timedelta(minutes=w.buffer_minutes)
            for minute in range(start_min, end_min, step):
                start = local_to_utc(day, minute, zone)
                if stats is not None:
                    wall = datetime.combine(day, time()) + timedelta(minutes=minute)
                    if start is None:
                        stats["nonexistent"] += 1
                    elif (
                        wall.replace(tzinfo=zone, fold=1).utcoffset()
                        != start.astimezone(zone).utcoffset()
                    ):
                        stats["ambiguous"] += 1
                if start is None or start + length > ends or start <= now:
                    continue
                end = start + length
                seats = sum(1 for s, d in occupied if s == start and d == duration)
                blocked = any(
                    not (s == start and d == duration)
                    and s < end + buffer
                    and s + timedelta(minutes=d) > start - buffer
                    for s, d in occupied
                )
                capacity = 0 if blocked else max(0, w.max_sessions_per_slot - seats)
                out.append(
                    RefSlot(
                        start=start,
                        end=end,
                        local_start=start.astimezone(zone),
                        available_capacity=capacity,
                        max_capacity=w.max_sessions_per_slot,
                        buffer_minutes=w.buffer_minutes,
                        day_of_week=w.day_of_week,
                        window_start=start_min,
                        window_end=end_min,
                    )
                )
        day += timedelta(days=1)
    return sorted(out, key=lambda s: s.start)


def slot_tuple(slot: Any) -> tuple[Any, ...]:
    """What a listed slot and a reference slot must agree on: the instants, the
    coach-local wall time and offset, the seats."""
    return (
        slot.start,
        slot.end,
        slot.local_start.replace(tzinfo=None),
        slot.local_start.utcoffset(),
        slot.available_capacity,
        slot.max_capacity,
    )


def utc(moment: datetime) -> datetime:
    """The same instant in UTC (compare these: ``==`` across zones is False for
    ambiguous wall-clock times, and ``+`` on local times is wall-clock arithmetic)."""
    return moment.astimezone(UTC)


# -- a random slot scenario -------------------------------------------------------------

DURATIONS = st.sampled_from([15, 30, 45, 60, 90])


def night_windows(days: st.SearchStrategy[int]) -> st.SearchStrategy[WindowSpec]:
    """Windows around the small hours, where clocks change."""

    @st.composite
    def build(draw: Any) -> WindowSpec:
        start = draw(st.integers(0, 12)) * 15
        end = draw(st.integers(start // 15 + 1, 22)) * 15
        return WindowSpec(
            day_of_week=draw(days),
            start_time=f"{start // 60:02d}:{start % 60:02d}",
            end_time=f"{end // 60:02d}:{end % 60:02d}",
            max_sessions_per_slot=draw(st.integers(1, 3)),
            buffer_minutes=draw(st.sampled_from([0, 0, 5, 15, 30])),
        )

    return build()


@attrs.define
class Scenario:
    coach: Any
    members: list[Any]
    windows: list[Any]
    tz: str
    first: date
    last: date
    occupied: list[tuple[datetime, int]] = attrs.Factory(list)
    bookings: list[tuple[Any, Any, datetime, int]] = attrs.Factory(list)


def build_scenario(w: World, data: Any, *, actions: int = 4) -> Scenario:
    """A coach in a random zone, a few windows, bookings, direct sessions and
    cancellations, then the clock moved forward by up to a day and a half."""
    draw = data.draw
    tz = draw(st.one_of(timezones(dst_only=True), timezones()), label="tz")
    anomalies = clock_anomalies(tz)
    specs: list[WindowSpec] = []
    if anomalies and draw(st.booleans(), label="around a clock change"):
        base, minute = draw(st.sampled_from(anomalies), label="clock change (date, minute)")
        # a window on that day around the gap or the repeated hour
        start = max(0, (minute // 15 - draw(st.integers(0, 8))) * 15)
        end = min(1440, max(start + 15, minute + 15 * draw(st.integers(1, 12))))
        specs.append(
            WindowSpec(
                day_of_week=weekday(base),
                start_time=f"{start // 60:02d}:{start % 60:02d}",
                end_time=f"{end // 60:02d}:{end % 60:02d}",
                max_sessions_per_slot=draw(st.integers(1, 3)),
                buffer_minutes=draw(st.sampled_from([0, 5, 15, 30])),
            )
        )
    else:
        base = draw(st.dates(date(2030, 1, 3), date(2030, 12, 20)), label="base")
    first = base - timedelta(days=draw(st.integers(0, 2)))
    last = base + timedelta(days=draw(st.integers(0, 2)))
    hours_before = draw(st.integers(0, 36), label="hours before first day")
    w.clock.set(datetime.combine(first, time(), UTC) - timedelta(hours=hours_before, minutes=7))

    coach = w.coach(tz=tz)
    members = [w.member(coach) for _ in range(3)]
    days = sorted({weekday(first + timedelta(days=i)) for i in range((last - first).days + 1)})
    day_st = st.sampled_from(days)
    candidates = st.one_of(
        window_specs(days=day_st, max_capacity=3, max_buffer=45), night_windows(day_st)
    )
    for spec in draw(st.lists(candidates, min_size=1, max_size=3), label="windows"):
        if not any(spec.overlaps(other) for other in specs):
            specs.append(spec)
    windows = [w.window(coach, spec) for spec in specs]
    sc = Scenario(coach, members, windows, tz, first, last)
    seated: set[tuple[str, datetime]] = set()  # (member, start) of their seats
    for _ in range(draw(st.integers(1, actions), label="actions")):
        action = draw(st.sampled_from(["book", "book", "direct", "cancel"]))
        if action == "book":
            duration = draw(DURATIONS)
            slots = w.slots(coach, first, last, duration)
            if not slots:
                continue
            slot = draw(st.sampled_from(slots))
            free = [m for m in members if (m.id, slot.start) not in seated]
            if not free:  # one seat per member per slot
                continue
            member = draw(st.sampled_from(free))
            booking = w.book(member, coach, slot.start, duration)
            seated.add((member.id, slot.start))
            assert booking.status == "confirmed"
            sc.occupied.append((slot.start, duration))
            sc.bookings.append((booking, member, slot.start, duration))
        elif action == "direct":
            span = ((last - first).days + 3) * 24 * 12
            start = datetime.combine(first - timedelta(days=1), time(), UTC) + timedelta(
                minutes=5 * draw(st.integers(0, span))
            )
            duration = draw(st.integers(1, 24)) * 5
            member = draw(st.sampled_from(members))
            w.session(coach, member, start, duration)
            seated.add((member.id, start))
            sc.occupied.append((start, duration))
        elif sc.bookings:
            booking, member, start, duration = sc.bookings.pop(
                draw(st.integers(0, len(sc.bookings) - 1))
            )
            w.as_(member).bookings.cancel(booking.id)
            sc.occupied.remove((start, duration))
            seated.discard((member.id, start))
    w.clock.advance(timedelta(minutes=draw(st.integers(0, 36 * 4)) * 15))
    return sc
