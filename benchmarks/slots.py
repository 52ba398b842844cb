"""Slot engine benchmark: ratios measured in one run (not a timed test).

    pip install -r benchmarks/requirements.txt && python benchmarks/slots.py

Workload A (a busy coach): Europe/Berlin, daily windows 07:00-21:00 on all
seven days, 30-minute sessions, 15-minute buffer, 10 seats per slot; 84 days
of slots (crossing the March DST change) queried through the public
``core.acting_as(member).availability.available_slots(...)`` on the memory
store, with 1,000 and then 10,000 confirmed bookings spread over the period.
Printed: the query time at 1k and 10k, the ratio against a straightforward
O(slots x bookings) implementation of the same semantics (below), the ratio
against the floor of building the output, the growth from 1k to 10k, and the
booking throughput through the public API with 10,000 bookings stored.

Workload B (the peer): UTC, daily 07:00-21:00, 30-minute sessions, one seat,
no buffer, 84 days, 1,000 bookings; coachcore's public ``available_slots``
against django-appointment's pure per-day functions ``calculate_slots`` +
``exclude_unavailable_slots`` (naive datetimes, no capacity). The peer is
given its appointments already grouped by day as light objects (no database,
no ORM), which favours the peer.

Times are CPU time of this process (``time.process_time``), the minimum of
several runs (``--repeat``; the query at 1k and 10k and the floor get three
times as many), so that other work on a shared machine inflates them less;
ratios compare numbers measured in this process, in this run, and the two
sides of each ratio are run in turn, in alternating order (for the floor, the
median of the rounds' own ratios is printed too). As timeit
does, the garbage collector is paused during each timed run, so that neither
side pays for collecting garbage the other one left.
"""

from __future__ import annotations

import argparse
import gc
import logging
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import coachcore
from coachcore import Role
from coachcore.adapters.clock import FixedClock
from coachcore.scheduling.slots import AvailableSlot
from coachcore.scheduling.wallclock import zone_of

FIRST_DAY = date(2030, 3, 4)  # a Monday; 84 days reach past the March DST change
DAYS = 84
LAST_DAY = FIRST_DAY + timedelta(days=DAYS - 1)
NOW = datetime(2030, 3, 1, 8, 0, tzinfo=UTC)

TARGETS = {
    "naive": 30.0,  # engine at least 30x faster than the naive implementation at 10k
    "floor": 4.0,  # at most 4x the floor of building the output
    "growth": 2.0,  # 10k bookings cost at most 2x the 1k query
    "throughput": 2000.0,  # bookings/s through the public API with 10k stored
    "peer": 1.0,  # no slower than django-appointment's per-day loop
}


# --------------------------------------------------------------------------- timing


def best_of(func: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """The fastest of ``repeat`` runs (CPU seconds of this process) and the last result."""
    best, result = float("inf"), None
    for _ in range(repeat):
        gc.disable()  # as timeit does: no collection of anyone's garbage mid-run
        try:
            started = time.process_time()
            result = func()
            best = min(best, time.process_time() - started)
        finally:
            gc.enable()
    return best, result


def best_of_each(
    funcs: dict[str, Callable[[], Any]],
    repeat: int,
    rounds: dict[str, list[float]] | None = None,
) -> dict[str, float]:
    """Like :func:`best_of` for several functions, run in turn (in alternating
    order) so that they share whatever the machine is doing meanwhile. Each
    round's times are appended to ``rounds``, if given."""
    best = dict.fromkeys(funcs, float("inf"))
    order = list(funcs.items())
    for _ in range(repeat):
        for name, func in order:
            gc.disable()
            try:
                started = time.process_time()
                func()
                took = time.process_time() - started
                best[name] = min(best[name], took)
                if rounds is not None:
                    rounds.setdefault(name, []).append(took)
            finally:
                gc.enable()
        order.reverse()  # no function always runs first, after the others' caches
    return best


def median(values: Sequence[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def verdict(ok: bool) -> str:
    return "meets target" if ok else "MISSES target"


# --------------------------------------------------------------------------- setup


class Workload:
    """A memory-store core with one coach, daily windows, and members to book."""

    def __init__(
        self,
        tz: str,
        duration: int,
        buffer: int,
        seats: int,
        members: int = 200,
    ) -> None:
        self.tz, self.duration, self.buffer, self.seats = tz, duration, buffer, seats
        self.core = coachcore.open("memory://", clock=FixedClock(NOW))
        system = self.core.system
        self.coach = system.users.create(
            name="Busy Coach", email="busy@example.com", role=Role.COACH, timezone=tz
        )
        system.coaches.update(self.coach.id, max_members=members + 10)
        as_coach = self.core.acting_as(self.coach.id)
        for day in range(7):
            as_coach.availability.create(
                day_of_week=day,
                start_time="07:00",
                end_time="21:00",
                max_sessions_per_slot=seats,
                buffer_minutes=buffer,
            )
        self.windows = as_coach.availability.list()
        self.members = [
            system.signup_member(
                name=f"Member {i}", email=f"m{i}@example.com", coach_id=self.coach.id
            )
            for i in range(members)
        ]
        self.scopes = [self.core.acting_as(m.id) for m in self.members]
        self.viewer = self.scopes[0]
        self.booked = 0
        self.occupied: list[tuple[datetime, int]] = []

    def grid_starts(self, every: int = 1) -> list[datetime]:
        """UTC starts of every ``every``-th grid slot of the period (independent of the engine)."""
        zone = ZoneInfo(self.tz)
        starts = []
        for offset in range(DAYS):
            day = FIRST_DAY + timedelta(days=offset)
            for minute in range(7 * 60, 21 * 60 - self.duration + 1, self.duration * every):
                local = datetime(day.year, day.month, day.day, minute // 60, minute % 60)
                aware = local.replace(tzinfo=zone)
                back = aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None)
                if back == local:  # skip local times that do not exist
                    starts.append(aware.astimezone(UTC))
        return starts

    def book(self, starts: Sequence[datetime]) -> float:
        """Book each start through the public API (members in turn); returns bookings/s."""
        scopes = self.scopes
        count = len(scopes)
        duration = self.duration
        coach_id = self.coach.id
        gc.collect()
        started = time.process_time()
        for i, start in enumerate(starts):
            scopes[(self.booked + i) % count].bookings.create(
                coach_id=coach_id, start=start, duration=duration
            )
        elapsed = time.process_time() - started
        self.booked += len(starts)
        self.occupied.extend((start, duration) for start in starts)
        return len(starts) / elapsed

    def query(self) -> list[AvailableSlot]:
        return self.viewer.availability.available_slots(
            self.coach.id, start_date=FIRST_DAY, end_date=LAST_DAY, duration=self.duration
        )


def spread(slots: Sequence[datetime], total: int, skip: int = 0) -> list[datetime]:
    """``total`` starts spread evenly over ``slots``: bookings ``skip .. total-1``."""
    n = len(slots)
    if total <= n:
        return [slots[(i * n) // total] for i in range(skip, total)]
    return [slots[i % n] for i in range(skip, total)]


# --------------------------------------------------------------------------- naive


def naive_slots(
    windows: Sequence[Any],
    tz: str,
    first: date,
    last: date,
    duration: int,
    now: datetime,
    occupied: Sequence[tuple[datetime, int]],
) -> list[tuple[datetime, datetime, datetime, datetime, int, int]]:
    """The same semantics, straightforwardly: every slot against every booking.

    Returns ``(start, end, local wall-clock, utc offset, available, max)`` rows.
    """
    zone = ZoneInfo(tz)
    busy = [(start, start + timedelta(minutes=length), length) for start, length in occupied]
    out = []
    day = first
    while day <= last:
        weekday = day.isoweekday() % 7
        midnight = datetime(day.year, day.month, day.day)
        for window in windows:
            if not window.is_active or window.day_of_week != weekday:
                continue
            begin, end_minute = _minutes(window.start_time), _minutes(window.end_time)
            window_end = (midnight + timedelta(minutes=end_minute)).replace(tzinfo=zone)
            buffer = timedelta(minutes=window.buffer_minutes)
            for minute in range(begin, end_minute, duration):
                wall = midnight + timedelta(minutes=minute)
                local = wall.replace(tzinfo=zone)
                if local.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != wall:
                    continue
                start = local.astimezone(UTC)
                end = start + timedelta(minutes=duration)
                if end > window_end.astimezone(UTC):
                    break
                if start <= now:
                    continue
                seats, blocked = 0, False
                for other_start, other_end, other_length in busy:
                    if other_start == start and other_length == duration:
                        seats += 1
                    elif other_start < end + buffer and other_end > start - buffer:
                        blocked = True
                free = 0 if blocked else max(0, window.max_sessions_per_slot - seats)
                if free > 0:
                    offset = local.utcoffset()
                    assert offset is not None
                    out.append((start, end, wall, offset, free, window.max_sessions_per_slot))
        day += timedelta(days=1)
    out.sort(key=lambda row: row[0])
    return [(s, e, w, datetime.min + o, f, m) for s, e, w, o, f, m in out]


def _minutes(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


def comparable(slots: Sequence[AvailableSlot]) -> list[tuple[Any, ...]]:
    rows = []
    for s in slots:
        offset = s.local_start.utcoffset()
        assert offset is not None
        rows.append(
            (
                s.start,
                s.end,
                s.local_start.replace(tzinfo=None),
                datetime.min + offset,
                s.available_capacity,
                s.max_capacity,
            )
        )
    return rows


# --------------------------------------------------------------------------- floor


def floor_of(slots: Sequence[AvailableSlot]) -> Callable[[], list[AvailableSlot]]:
    """Building the same output and nothing else: as many ``AvailableSlot``
    objects, from field values that are already made."""
    ready = [(s.start, s.end, s.local_start, s.available_capacity, s.max_capacity) for s in slots]

    def build() -> list[AvailableSlot]:
        return [AvailableSlot(a, b, c, d, e) for a, b, c, d, e in ready]

    return build


# --------------------------------------------------------------------------- breakdown


def breakdown(work: Workload, repeat: int) -> dict[str, float]:
    """Where a public query's time goes (internal calls, for the report only)."""
    from datetime import time as wall

    try:
        from coachcore.scheduling.listing import available_slots_indexed, slot_states_indexed
        from coachcore.scheduling.occupancy import OccupancyIndex, search_margin
        from coachcore.services.scheduling.slots import coach_available_slots
    except ImportError:  # an older engine (for before/after comparisons)
        return {}

    store = work.core.store
    zone = zone_of(work.tz)
    margin = search_margin(work.windows, work.duration)
    low = (datetime.combine(FIRST_DAY, wall(), zone) - margin).astimezone(UTC)
    high = (datetime.combine(LAST_DAY + timedelta(days=1), wall(), zone) + margin).astimezone(UTC)
    coach = work.coach

    def fetch() -> Any:
        with store.unit_of_work(write=False) as uow:
            return uow.sessions.occupancy(coach.id, low, high)

    columns = fetch()
    index = OccupancyIndex.from_arrays(*columns)
    states = slot_states_indexed(
        work.windows, zone, FIRST_DAY, LAST_DAY, work.duration, NOW, index
    )

    def direct() -> Any:
        with store.unit_of_work(write=False) as uow:
            return coach_available_slots(
                uow, coach, FIRST_DAY, LAST_DAY, work.duration, NOW
            )

    parts: dict[str, Callable[[], Any]] = {
        "public available_slots": work.query,
        "store: sessions.occupancy (columns)": fetch,
        "engine: OccupancyIndex.from_arrays": lambda: OccupancyIndex.from_arrays(*columns),
        "engine: available_slots_indexed": lambda: available_slots_indexed(
            work.windows, zone, FIRST_DAY, LAST_DAY, work.duration, NOW, index
        ),
    }
    parts["engine: slot_states (every slot, for comparison)"] = lambda: slot_states_indexed(
        work.windows, zone, FIRST_DAY, LAST_DAY, work.duration, NOW, index
    )
    parts["availability.py: filter + to_available"] = lambda: [
        s.to_available(None) for s in states if s.available_capacity > 0
    ]
    parts["coach_available_slots (no SlotState)"] = direct
    return best_of_each(parts, repeat)


# --------------------------------------------------------------------------- peer


def load_peer() -> tuple[Callable[..., Any], Callable[..., Any]] | str:
    """django-appointment's pure slot functions, or why they cannot be used."""
    try:
        import django
        from django.conf import settings

        if not settings.configured:
            settings.configure(
                INSTALLED_APPS=[
                    "django.contrib.auth",
                    "django.contrib.contenttypes",
                    "appointment",
                ],
                DATABASES={},  # the two functions never touch a database
                USE_TZ=False,
            )
        logging.disable(logging.WARNING)  # it warns that django-q is not installed
        try:
            django.setup()
            from appointment.utils.db_helpers import (
                calculate_slots,
                exclude_unavailable_slots,
            )
        finally:
            logging.disable(logging.NOTSET)
    except Exception as exc:  # not installed, or does not import without more setup
        return f"{type(exc).__name__}: {exc}"
    return calculate_slots, exclude_unavailable_slots


def peer_models(starts: Sequence[datetime], length: timedelta) -> dict[date, list[Any]]:
    """The peer's own ``Appointment`` model objects (unsaved: no database)."""
    from appointment.models import Appointment, AppointmentRequest

    by_day: dict[date, list[Any]] = {}
    for start in starts:
        naive = start.replace(tzinfo=None)
        request = AppointmentRequest(
            date=naive.date(), start_time=naive.time(), end_time=(naive + length).time()
        )
        by_day.setdefault(naive.date(), []).append(Appointment(appointment_request=request))
    return by_day


class PeerAppointment:
    """What ``exclude_unavailable_slots`` reads from an Appointment, precomputed
    (its model's ``get_start_time`` combines a date and a time on every call)."""

    __slots__ = ("_end", "_start")

    def __init__(self, start: datetime, end: datetime) -> None:
        self._start, self._end = start, end

    def get_start_time(self) -> datetime:
        return self._start

    def get_end_time(self) -> datetime:
        return self._end


def peer_comparison(repeat: int) -> None:
    print("\n== Peer: django-appointment, UTC, 30 min, 1 seat, no buffer, 84 days, 1k bookings")
    work = Workload("UTC", duration=30, buffer=0, seats=1)
    starts = spread(work.grid_starts(), 1000)
    work.book(starts)
    slots = work.query()
    try:
        import importlib.metadata as md

        version = md.version("django-appointment")
    except Exception:
        version = "not installed"
    peer = load_peer()
    if isinstance(peer, str):
        ours, _ = best_of(work.query, repeat)
        print(f"coachcore available_slots:          {ours * 1000:8.2f} ms  ({len(slots)} slots)")
        print(f"django-appointment ({version}) could not be run: {peer}")
        print("peer ratio: not measured")
        return
    calculate_slots, exclude_unavailable_slots = peer
    length = timedelta(minutes=30)
    now_naive = NOW.replace(tzinfo=None)
    by_day: dict[date, list[PeerAppointment]] = {}
    for start in starts:
        naive = start.replace(tzinfo=None)
        by_day.setdefault(naive.date(), []).append(PeerAppointment(naive, naive + length))
    days = [FIRST_DAY + timedelta(days=i) for i in range(DAYS)]
    opening, closing = timedelta(hours=7), timedelta(hours=21)

    def peer_loop(booked: dict[date, list[Any]]) -> list[datetime]:
        out: list[datetime] = []
        for day in days:
            midnight = datetime(day.year, day.month, day.day)
            free = calculate_slots(midnight + opening, midnight + closing, now_naive, length)
            out.extend(exclude_unavailable_slots(free, booked.get(day, []), slot_duration=length))
        return out

    models = peer_models(starts, length)
    with_models, _ = best_of(lambda: peer_loop(models), repeat)

    peer_slots = peer_loop(by_day)
    timed = best_of_each({"ours": work.query, "theirs": lambda: peer_loop(by_day)}, repeat)
    ours, theirs = timed["ours"], timed["theirs"]
    print(f"coachcore available_slots:          {ours * 1000:8.2f} ms  ({len(slots)} slots)")
    print(
        f"django-appointment {version} per-day loop: {theirs * 1000:8.2f} ms  "
        f"({len(peer_slots)} slots)"
    )
    print(
        f"  (the same loop over its own Appointment model objects: {with_models * 1000:.2f} ms;"
        " the ratio uses the light objects above)"
    )
    same = [s.replace(tzinfo=None) for s in (x.start for x in slots)] == peer_slots
    print(f"same slot starts as the peer:       {same}")
    ratio = ours / theirs
    print(
        f"peer ratio (coachcore / peer):      {ratio:8.2f}   target <= "
        f"{TARGETS['peer']:.1f}: {verdict(ratio <= TARGETS['peer'])}"
    )


# --------------------------------------------------------------------------- main


def busy_coach(repeat: int) -> None:
    print("== Busy coach: Europe/Berlin, 07:00-21:00 daily, 30 min, 15 min buffer, 10 seats")
    print(f"   {DAYS} days from {FIRST_DAY} (crosses the DST change of 2030-03-31)")
    work = Workload("Europe/Berlin", duration=30, buffer=15, seats=10)
    # Every other grid slot takes bookings, so the buffer blocks the ones between.
    targets = work.grid_starts(every=2)

    def naive() -> list[tuple[Any, ...]]:
        return naive_slots(work.windows, work.tz, FIRST_DAY, LAST_DAY, 30, NOW, work.occupied)

    rate_1k = work.book(spread(targets, 1000))
    t_1k, slots_1k = best_of(work.query, 3 * repeat)  # as many runs as the query at 10k
    naive_1k_time, naive_1k = best_of(naive, 1)
    assert comparable(slots_1k) == naive_1k, "engine and naive differ at 1k"

    rate_9k = work.book(spread(targets, 10_000, skip=1000))
    slots_10k = work.query()
    naive_10k_time, naive_10k = best_of(naive, 1)
    assert comparable(slots_10k) == naive_10k, "engine and naive differ at 10k"
    floor = floor_of(slots_10k)
    # This pair decides a target: three times the rounds, against a busy machine's noise.
    rounds: dict[str, list[float]] = {}
    timed = best_of_each({"query": work.query, "floor": floor}, 3 * repeat, rounds)
    t_10k, t_floor = timed["query"], timed["floor"]
    paired = median([q / f for q, f in zip(rounds["query"], rounds["floor"], strict=True)])
    parts = breakdown(work, repeat)

    # Throughput with 10,000 bookings stored: fill free seats of the booked slots.
    seats: dict[datetime, int] = {}
    for start, _ in work.occupied:
        seats[start] = seats.get(start, 0) + 1
    more: list[datetime] = []
    for start in targets:
        more.extend([start] * (work.seats - seats.get(start, 0)))
    more = more[:1000]
    rate_at_10k = work.book(more)

    print(f"grid slots in the period:           {len(work.grid_starts())}")
    print(f"query at  1k bookings:              {t_1k * 1000:8.2f} ms  ({len(slots_1k)} slots)")
    print(f"query at 10k bookings:              {t_10k * 1000:8.2f} ms  ({len(slots_10k)} slots)")
    print(f"naive at  1k bookings:              {naive_1k_time * 1000:8.2f} ms")
    print(f"naive at 10k bookings:              {naive_10k_time * 1000:8.2f} ms")
    print("engine == naive at 1k and 10k:      True")
    ratio = naive_10k_time / t_10k
    print(
        f"vs naive at 10k (naive / engine):   {ratio:8.1f}x  target >= "
        f"{TARGETS['naive']:.0f}x: {verdict(ratio >= TARGETS['naive'])}"
    )
    print(f"output floor ({len(slots_10k)} AvailableSlot):  {t_floor * 1000:8.2f} ms")
    over = t_10k / t_floor
    print(
        f"vs floor at 10k (engine / floor):   {over:8.2f}x  target <= "
        f"{TARGETS['floor']:.0f}x: {verdict(over <= TARGETS['floor'])}"
    )
    print(f"  (median of the {len(rounds['query'])} rounds' own ratios: {paired:.2f}x)")
    growth = t_10k / t_1k
    print(
        f"growth 1k -> 10k:                   {growth:8.2f}x  target <= "
        f"{TARGETS['growth']:.0f}x: {verdict(growth <= TARGETS['growth'])}"
    )
    print(f"booking, first 1k (public API):     {rate_1k:8.0f} bookings/s")
    print(f"booking, 1k -> 10k (public API):    {rate_9k:8.0f} bookings/s")
    print(
        f"booking with 10k stored ({len(more)} more): {rate_at_10k:8.0f} bookings/s  "
        f"target >= {TARGETS['throughput']:.0f}: {verdict(rate_at_10k >= TARGETS['throughput'])}"
    )
    if parts:
        print("where a query at 10k goes (best of each, ms; parts of the first line):")
    for name, seconds in parts.items():
        print(f"   {name:50s} {seconds * 1000:7.2f}   {seconds / t_floor:5.2f}x floor")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7, help="runs per timed query (min)")
    parser.add_argument("--no-peer", action="store_true", help="skip django-appointment")
    args = parser.parse_args(argv)
    print(f"python {sys.version.split()[0]}, coachcore {coachcore.__version__}")
    busy_coach(args.repeat)
    if not args.no_peer:
        peer_comparison(args.repeat)
    return 0


if __name__ == "__main__":
    zone_of("UTC")  # fail early if pendulum is missing
    raise SystemExit(main())
