"""The slot engine against a small, obviously correct reference (pure, no store).

The reference walks dates, windows and wall-clock minutes, converts each local
start with ``zoneinfo`` (``fold=0``, so an ambiguous time is its first
occurrence), drops local times that do not survive the round trip through UTC
(they do not exist), keeps slots that end inside the window and start after
``now``, and counts seats and buffers against every occupied interval, as
ARCHITECTURE.md ("Semantics that the seeds leave open") decides. The engine
(``coachcore.scheduling.grid``) takes integer shortcuts on days without an
offset change; this property says the shortcuts change nothing.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Collection, Sequence
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import event, given
from hypothesis import strategies as st

from coachcore.domain.entities import AvailabilityWindow
from coachcore.scheduling.grid import grid
from coachcore.scheduling.listing import available_slots, slot_states
from coachcore.scheduling.lookup import slot_state_at
from coachcore.scheduling.occupancy import OccupancyIndex, Occupied
from coachcore.scheduling.slots import find_slot
from coachcore.scheduling.wallclock import zone_of

ZONES = [
    "Europe/Berlin",
    "America/New_York",
    "Australia/Lord_Howe",  # DST of 30 minutes
    "Asia/Kolkata",  # +05:30
    "Asia/Kathmandu",  # +05:45
    "Pacific/Chatham",  # +12:45 / +13:45, DST
    "America/St_Johns",  # -03:30 / -02:30, DST
    "America/Havana",  # DST changes at midnight
    "UTC",
]
CREATED = datetime(2029, 1, 1, tzinfo=UTC)
FIRST_YEAR, LAST_YEAR = 2029, 2031


# ----------------------------------------------------------------------------- reference


def _minutes(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


def reference(
    windows: Sequence[AvailabilityWindow],
    tz: str | tzinfo,
    first: date,
    last: date,
    duration: int,
    now: datetime,
    occupied: Sequence[tuple[datetime, int]],
    interval: int | None,
) -> list[tuple[Any, ...]]:
    """``(start, end, local wall time, utc offset, window id, seats, blocked, free)``
    for every future grid slot, sorted by start (ties in generation order)."""
    zone = ZoneInfo(tz) if isinstance(tz, str) else tz
    step = interval or duration
    length = timedelta(minutes=duration)
    out = []
    day = first
    while day <= last:
        midnight = datetime.combine(day, time())
        todays = [w for w in windows if w.is_active and w.day_of_week == day.isoweekday() % 7]
        for window in sorted(todays, key=lambda w: _minutes(w.start_time)):
            begin, finish = _minutes(window.start_time), _minutes(window.end_time)
            window_end = (midnight + timedelta(minutes=finish)).replace(tzinfo=zone, fold=0)
            buffer = timedelta(minutes=window.buffer_minutes)
            for minute in range(begin, finish, step):
                wall = midnight + timedelta(minutes=minute)
                local = wall.replace(tzinfo=zone, fold=0)
                if local.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != wall:
                    continue  # does not exist (spring forward)
                start = local.astimezone(UTC)
                end = start + length
                if end > window_end.astimezone(UTC) or start <= now:
                    continue
                seats = sum(1 for o, d in occupied if o == start and d == duration)
                blocked = any(
                    o < end + buffer and o + timedelta(minutes=d) > start - buffer
                    for o, d in occupied
                    if not (o == start and d == duration)
                )
                free = 0 if blocked else max(0, window.max_sessions_per_slot - seats)
                out.append((start, end, wall, local.utcoffset(), window.id, seats, blocked, free))
        day += timedelta(days=1)
    out.sort(key=lambda row: row[0])
    return out


def reference_available(
    rows: Sequence[tuple[Any, ...]],
    windows: Sequence[AvailabilityWindow],
    mine: Collection[datetime],
) -> list[tuple[Any, ...]]:
    """The bookable ``reference`` rows: ``(start, end, local wall time, free,
    capacity, whether one of ``mine``, the member's seats, starts there)``."""
    capacity = {w.id: w.max_sessions_per_slot for w in windows}
    return [
        (row[0], row[1], row[2], row[7], capacity[row[4]], row[0] in mine)
        for row in rows
        if row[7] > 0
    ]


def _available_row(slot: Any) -> tuple[Any, ...]:
    return (
        slot.start,
        slot.end,
        slot.local_start.replace(tzinfo=None),
        slot.available_capacity,
        slot.max_capacity,
        slot.you_have_a_seat,
    )


def _engine_row(state: Any) -> tuple[Any, ...]:
    return (
        state.start,
        state.end,
        state.local_start.replace(tzinfo=None),
        state.local_start.utcoffset(),
        state.window.id,
        state.seats_taken,
        state.blocked,
        state.available_capacity,
    )


# ----------------------------------------------------------------------------- strategies


@functools.cache
def _transition_days(tz: str) -> list[date]:
    """Local dates on which the zone changes its UTC offset (midnight to midnight)."""
    zone = ZoneInfo(tz)
    days = []
    day = date(FIRST_YEAR, 1, 1)
    before = datetime.combine(day, time(), zone).utcoffset()
    while day < date(LAST_YEAR, 12, 31):
        following = day + timedelta(days=1)
        after = datetime.combine(following, time(), zone).utcoffset()
        if after != before:
            days.append(day)
        day, before = following, after
    return days


def _hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


@st.composite
def windows_of(draw: st.DrawFn, focus: int | None) -> list[AvailabilityWindow]:
    """1-4 windows; some on the focus weekday, "24:00" ends, sometimes overlapping."""
    out = []
    for i in range(draw(st.integers(1, 4))):
        weekday = draw(st.integers(0, 6) if focus is None else st.sampled_from([focus, focus, i]))
        start = draw(st.integers(0, 1435) | st.sampled_from([0, 60, 90, 120, 150, 180, 1380]))
        end = draw(st.integers(start + 5, 1440) | st.just(1440))
        out.append(
            AvailabilityWindow(
                id=f"w{i}",
                coach_id="coach",
                day_of_week=weekday % 7,
                start_time=_hhmm(start),
                end_time="24:00" if end == 1440 else _hhmm(end),
                max_sessions_per_slot=draw(st.integers(1, 3)),
                buffer_minutes=draw(st.sampled_from([0, 0, 5, 10, 15, 30, 45, 90])),
                is_active=draw(st.booleans() | st.just(True)),
                created_at=CREATED,
                updated_at=CREATED,
            )
        )
    return out


@st.composite
def scenarios(draw: st.DrawFn) -> dict[str, Any]:
    tz = draw(st.sampled_from(ZONES), label="tz")
    transitions = _transition_days(tz)
    if transitions and draw(st.integers(0, 3)):
        around = draw(st.sampled_from(transitions))
        first = around - timedelta(days=draw(st.integers(0, 2)))
        last = around + timedelta(days=draw(st.integers(0, 3)))
    else:
        first = date(FIRST_YEAR, 1, 1) + timedelta(days=draw(st.integers(0, 3 * 365)))
        last = first + timedelta(days=draw(st.integers(0, 6)))
    focus = None
    if transitions:
        focus = draw(st.sampled_from(transitions)).isoweekday() % 7
    windows = draw(windows_of(focus), label="windows")
    duration = draw(st.sampled_from([15, 30, 45, 60, 90]) | st.integers(5, 240), label="duration")
    interval = draw(st.none() | st.sampled_from([15, 30]) | st.integers(5, 120), label="interval")
    # the grid without occupancy: occupied intervals on it share seats
    zone = ZoneInfo(tz)
    low = datetime.combine(first, time(), zone).astimezone(UTC)
    high = datetime.combine(last + timedelta(days=1), time(), zone).astimezone(UTC)
    span = int((high - low).total_seconds()) // 60
    now = low + timedelta(
        minutes=draw(st.integers(-120, span + 120)),
        seconds=draw(st.sampled_from([0, 0, 0, 1, 59])),
        microseconds=draw(st.sampled_from([0, 0, 0, 1, 999_999])),
    )
    before = low - timedelta(days=1)
    grid_starts = [
        row[0] for row in reference(windows, tz, first, last, duration, before, [], interval)
    ]
    if grid_starts and draw(st.booleans()):
        now = draw(st.sampled_from(grid_starts)) + draw(
            st.sampled_from([timedelta(0), timedelta(microseconds=-1)])
        )
    occupied: list[tuple[datetime, int]] = []
    for _ in range(draw(st.integers(0, 12))):
        if grid_starts and draw(st.booleans()):
            start = draw(st.sampled_from(grid_starts))
            length = draw(st.sampled_from([duration, duration, duration, 30, 60]))
            copies = draw(st.integers(1, 3))
        else:
            start = low + timedelta(
                minutes=draw(st.integers(-1500, span + 300)),
                seconds=draw(st.sampled_from([0, 0, 30])),
            )
            length = draw(st.integers(1, 1440) | st.sampled_from([duration, 30, 60]))
            copies = 1
        occupied.extend([(start, length)] * copies)
    if draw(st.booleans()):
        occupied.sort()
    else:
        occupied = draw(st.permutations(occupied))
    # the member's own seats: starts of some occupied intervals, or any grid start
    seats = sorted({start for start, _ in occupied} | set(grid_starts[::7]))
    mine = draw(st.lists(st.sampled_from(seats), max_size=4), label="mine") if seats else []
    return {
        "windows": windows,
        "tz": tz,
        "first": first,
        "last": last,
        "duration": duration,
        "interval": interval,
        "now": now,
        "occupied": occupied,
        "mine": mine,
    }


# ----------------------------------------------------------------------------- properties


@given(sc=scenarios())
def test_engine_equals_the_reference(sc: dict[str, Any]) -> None:
    want = reference(
        sc["windows"],
        sc["tz"],
        sc["first"],
        sc["last"],
        sc["duration"],
        sc["now"],
        sc["occupied"],
        sc["interval"],
    )
    occupied = [Occupied(start, length) for start, length in sc["occupied"]]
    zone = zone_of(sc["tz"])
    args = (sc["windows"], zone, sc["first"], sc["last"], sc["duration"], sc["now"], occupied)
    states = slot_states(*args, interval=sc["interval"])
    assert [_engine_row(s) for s in states] == want

    viewer = ZoneInfo("Asia/Kathmandu")
    free = available_slots(*args, interval=sc["interval"], viewer=viewer, own_seats=sc["mine"])
    assert [_available_row(s) for s in free] == reference_available(want, sc["windows"], sc["mine"])
    assert all(s.viewer_local_start == s.start.astimezone(viewer) for s in free)
    unmarked = available_slots(*args, interval=sc["interval"])
    assert [s.start for s in unmarked] == [s.start for s in free]
    assert not any(s.you_have_a_seat for s in unmarked)

    index = OccupancyIndex(occupied)
    for state in states:
        found = find_slot(states, state.start)
        assert found is not None and found.start == state.start
        # booking's look-up of one slot gives the listing's state of that slot
        one = slot_state_at(
            sc["windows"], zone, state.start, sc["duration"], sc["now"], index, sc["interval"]
        )
        assert one == found
        off_grid = state.start + timedelta(minutes=1)
        if find_slot(states, off_grid) is None:
            assert (
                slot_state_at(
                    sc["windows"], zone, off_grid, sc["duration"], sc["now"], index, sc["interval"]
                )
                is None
            )

    event(f"zone: {sc['tz']}")
    event(f"offset changes in range: {_changes(sc)}")
    event(f"slots: {'none' if not want else 'some'}")
    event(f"seats taken somewhere: {any(row[5] for row in want)}")
    event(f"blocked somewhere: {any(row[6] for row in want)}")
    event(f"own seat listed: {any(s.you_have_a_seat for s in free)}")


def _changes(sc: dict[str, Any]) -> bool:
    zone = ZoneInfo(sc["tz"])
    low = datetime.combine(sc["first"], time(), zone)
    high = datetime.combine(sc["last"] + timedelta(days=1), time(), zone)
    return low.utcoffset() != high.utcoffset()


@given(sc=scenarios())
def test_grid_and_occupancy_index_agree_with_the_reference(sc: dict[str, Any]) -> None:
    zone = zone_of(sc["tz"])
    far_past = datetime(1970, 1, 2, tzinfo=UTC)
    want = reference(
        sc["windows"],
        sc["tz"],
        sc["first"],
        sc["last"],
        sc["duration"],
        far_past,
        [],
        sc["interval"],
    )
    cells = list(grid(sc["windows"], zone, sc["first"], sc["last"], sc["duration"], sc["interval"]))
    assert sorted(
        ((s, e, local.replace(tzinfo=None), w.id) for s, e, local, w in cells),
        key=lambda row: row[0],
    ) == [(row[0], row[1], row[2], row[4]) for row in want]
    index = OccupancyIndex(Occupied(s, d) for s, d in sc["occupied"])
    whole = [(s, d) for s, d in sc["occupied"] if s.microsecond == 0 and s.second == 0]
    exact = OccupancyIndex(Occupied(s, d) for s, d in whole)
    for start, end, _, window in cells[:50]:
        length = sc["duration"]
        buffer = timedelta(minutes=window.buffer_minutes)
        seats = sum(1 for o, d in whole if o == start and d == length)
        blocked = any(
            o < end + buffer and o + timedelta(minutes=d) > start - buffer
            for o, d in whole
            if not (o == start and d == length)
        )
        # what slot_state_at asks the index: the slot's own interval, then the latest other end
        start_us = int(start.timestamp()) * 1_000_000
        buffer_us = window.buffer_minutes * 60_000_000
        at = exact.interval_at(start_us, length)
        limit = start_us + length * 60_000_000 + buffer_us
        taken = 0 if at is None else exact.counts[at]
        assert (taken, exact.latest_end(limit, at) > start_us - buffer_us) == (seats, blocked)
    assert len(index) == len(set(sc["occupied"]))
    tally: dict[tuple[datetime, int], int] = {}
    for key in sc["occupied"]:
        tally[key] = tally.get(key, 0) + 1
    counted = OccupancyIndex.from_counts((s, d, n) for (s, d), n in tally.items())
    assert (counted.starts, counted.lengths, counted.counts) == (
        index.starts,
        index.lengths,
        index.counts,
    )
    assert (counted.top1, counted.top1_at, counted.top2) == (index.top1, index.top1_at, index.top2)


def test_tzdata_changes_offsets_days_apart_and_by_at_most_a_day() -> None:
    """The engine's per-day shortcut relies on these two facts of the tz database."""
    import zoneinfo

    try:
        from zoneinfo._zoneinfo import ZoneInfo as PureZoneInfo  # the pure-Python twin
    except ImportError:  # pragma: no cover
        pytest.skip("no pure-Python zoneinfo to read transitions from")
    closest, widest = (float("inf"), ""), (timedelta(0), "")
    for name in sorted(zoneinfo.available_timezones()):
        transitions = getattr(PureZoneInfo.no_cache(name), "_trans_utc", None)
        if transitions is None:  # pragma: no cover
            pytest.skip("zoneinfo internals changed")
        zone = ZoneInfo(name)
        for earlier, later in itertools.pairwise(transitions):
            closest = min(closest, (later - earlier, name))
        for moment in transitions:
            if moment < -(2**31) or moment > 2**33:  # pragma: no cover
                continue
            before = datetime.fromtimestamp(moment - 1, zone).utcoffset()
            after = datetime.fromtimestamp(moment, zone).utcoffset()
            assert before is not None and after is not None
            widest = max(widest, (abs(after - before), name))
    assert closest[0] > 2 * 86_400, closest
    assert widest[0] <= timedelta(days=1), widest


@pytest.mark.parametrize(
    ("tz", "day", "expected"),
    [
        # Lord Howe moves its clocks by 30 minutes: 02:00 -> 02:30 on 2030-10-06.
        (
            "Australia/Lord_Howe",
            date(2030, 10, 6),
            "00:00+1030 00:30+1030 01:00+1030 01:30+1030 02:30+1100 03:00+1100 03:30+1100 "
            "04:00+1100",
        ),
        # ... and back 02:00 -> 01:30 on 2030-04-07: 01:30 is its first occurrence.
        (
            "Australia/Lord_Howe",
            date(2030, 4, 7),
            "00:00+1100 00:30+1100 01:00+1100 01:30+1100 02:00+1030 02:30+1030 03:00+1030 "
            "03:30+1030 04:00+1030",
        ),
        # Chatham falls back 03:45 -> 02:45 (+13:45 -> +12:45) on 2030-04-07.
        (
            "Pacific/Chatham",
            date(2030, 4, 7),
            "00:00+1345 00:30+1345 01:00+1345 01:30+1345 02:00+1345 02:30+1345 03:00+1345 "
            "03:30+1345 04:00+1245",
        ),
        # Havana springs forward at midnight: 00:00-01:00 does not exist on 2030-03-10.
        ("America/Havana", date(2030, 3, 10), "01:00-0400 01:30-0400 02:00-0400 02:30-0400"),
        # Samoa skipped 2011-12-30 altogether (-10:00 -> +14:00 at midnight) ...
        ("Pacific/Apia", date(2011, 12, 30), ""),
        (
            "Pacific/Apia",
            date(2011, 12, 31),
            "00:00+1400 00:30+1400 01:00+1400 01:30+1400 "
            "02:00+1400 02:30+1400 03:00+1400 03:30+1400 04:00+1400",
        ),
        # ... and Kwajalein 1993-08-21 (-12:00 -> +12:00).
        ("Pacific/Kwajalein", date(1993, 8, 21), ""),
        # Havana falls back at 01:00 to 00:00 on 2030-11-03 (00:00-01:00 ambiguous).
        (
            "America/Havana",
            date(2030, 11, 3),
            "00:00-0400 00:30-0400 01:00-0500 01:30-0500 02:00-0500 02:30-0500",
        ),
    ],
)
def test_transition_days_match_the_reference(tz: str, day: date, expected: str) -> None:
    window = AvailabilityWindow(
        id="w",
        coach_id="coach",
        day_of_week=day.isoweekday() % 7,
        start_time="00:00",
        end_time="03:00" if tz == "America/Havana" else "04:30",
        max_sessions_per_slot=1,
        buffer_minutes=0,
        created_at=CREATED,
        updated_at=CREATED,
    )
    past = datetime(2000, 1, 1, tzinfo=UTC)
    states = slot_states([window], zone_of(tz), day, day, 30, past, [])
    assert [_engine_row(s) for s in states] == reference([window], tz, day, day, 30, past, [], None)
    assert " ".join(s.local_start.strftime("%H:%M%z") for s in states) == expected


class OneShift(tzinfo):
    """A made-up zone with one offset change at ``at`` (UTC), PEP 495 folds included.

    tzdata has no gap or fold that straddles midnight; these zones do, to pin
    down the engine's per-day check (offsets at both midnights, both folds).
    """

    def __init__(self, at: datetime, before: timedelta, after: timedelta) -> None:
        self.at = at.replace(tzinfo=None)
        self.before, self.after = before, after
        self.wall_before = self.at + before  # the change's wall time on the old offset
        self.wall_after = self.at + after  # ... and on the new one

    def utcoffset(self, dt: datetime | None) -> timedelta:
        assert dt is not None
        wall = dt.replace(tzinfo=None)
        low, high = sorted((self.wall_before, self.wall_after))
        if wall < low:
            return self.before
        if wall >= high:
            return self.after
        return self.before if dt.fold == 0 else self.after  # in the gap or the fold

    def fromutc(self, dt: datetime) -> datetime:
        moment = dt.replace(tzinfo=None)
        if moment < self.at:
            return (moment + self.before).replace(tzinfo=self)
        wall = moment + self.after
        ambiguous = self.after < self.before and wall < self.wall_before
        return wall.replace(tzinfo=self, fold=1 if ambiguous else 0)

    def dst(self, dt: datetime | None) -> timedelta | None:
        return None

    def tzname(self, dt: datetime | None) -> str | None:
        return "shift"


HOUR = timedelta(hours=1)


@pytest.mark.parametrize(
    "zone",
    [
        # clocks jump 23:30 -> 00:30 into 2030-06-05: 23:30-24:00 of the 4th does not exist
        OneShift(datetime(2030, 6, 4, 22, 30), HOUR, 2 * HOUR),
        # clocks jump 23:00 -> 00:30: a 90-minute gap across midnight
        OneShift(datetime(2030, 6, 4, 22, 0), HOUR, timedelta(hours=2, minutes=30)),
        # clocks fall back 00:30 -> 23:30: 23:30-00:30 happens twice
        OneShift(datetime(2030, 6, 4, 22, 30), 2 * HOUR, HOUR),
        # a gap that ends exactly at midnight, and a fold that starts there
        OneShift(datetime(2030, 6, 4, 22, 0), HOUR, 2 * HOUR),
        OneShift(datetime(2030, 6, 4, 22, 0), 2 * HOUR, HOUR),
    ],
    ids=["gap-23:30", "gap-23:00-00:30", "fold-23:30", "gap-to-midnight", "fold-at-midnight"],
)
@pytest.mark.parametrize("duration", [30, 45, 60])
def test_gaps_and_folds_across_midnight(zone: OneShift, duration: int) -> None:
    windows = [
        AvailabilityWindow(
            id=f"w{day}",
            coach_id="coach",
            day_of_week=day,
            start_time="20:00" if day == 2 else "00:00",
            end_time="24:00" if day == 2 else "03:00",
            max_sessions_per_slot=2,
            buffer_minutes=15,
            created_at=CREATED,
            updated_at=CREATED,
        )
        for day in (2, 3)  # Tuesday 2030-06-04 evening, Wednesday 2030-06-05 night
    ]
    past = datetime(2000, 1, 1, tzinfo=UTC)
    first, last = date(2030, 6, 3), date(2030, 6, 6)
    taken = [(datetime(2030, 6, 4, 21, 0, tzinfo=UTC), duration)] * 2
    want = reference(windows, zone, first, last, duration, past, taken, None)
    occupied = [Occupied(s, d) for s, d in taken]
    states = slot_states(windows, zone, first, last, duration, past, occupied)
    assert [_engine_row(s) for s in states] == want
    assert want, "the scenario has slots"
