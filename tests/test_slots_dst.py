"""Slots on DST days, at 24:00, and seen from another zone (pure engine + API)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from coachcore.adapters.clock import FixedClock
from coachcore.domain.entities import AvailabilityWindow
from coachcore.scheduling.listing import available_slots
from coachcore.scheduling.occupancy import Occupied
from coachcore.scheduling.wallclock import zone_of
from world import World

NOW = datetime(2030, 1, 1, tzinfo=UTC)


def _window(
    day: int, start: str, end: str, capacity: int = 1, buffer: int = 0
) -> AvailabilityWindow:
    return AvailabilityWindow(
        id=f"w{day}{start}",
        coach_id="c",
        day_of_week=day,
        start_time=start,
        end_time=end,
        max_sessions_per_slot=capacity,
        buffer_minutes=buffer,
        created_at=NOW,
        updated_at=NOW,
    )


def _starts(zone: str, day: date, start: str, end: str, duration: int = 60) -> list[str]:
    window = _window(day.isoweekday() % 7, start, end)
    slots = available_slots([window], zone_of(zone), day, day, duration, NOW, [])
    return [s.start.strftime("%d %H:%M") for s in slots]


@pytest.mark.parametrize(
    ("zone", "day", "start", "end", "expected"),
    [
        # Berlin springs forward 02:00 -> 03:00 on 2030-03-31: local 02:00 does not exist.
        (
            "Europe/Berlin",
            date(2030, 3, 31),
            "01:00",
            "05:00",
            ["31 00:00", "31 01:00", "31 02:00"],
        ),
        # Berlin falls back 03:00 -> 02:00 on 2030-10-27: 02:00 takes its first occurrence.
        (
            "Europe/Berlin",
            date(2030, 10, 27),
            "01:00",
            "04:00",
            ["26 23:00", "27 00:00", "27 02:00"],
        ),
        # New York springs forward on 2030-03-10.
        (
            "America/New_York",
            date(2030, 3, 10),
            "00:00",
            "04:00",
            ["10 05:00", "10 06:00", "10 07:00"],
        ),
        # New York falls back on 2030-11-03: 01:00 is ambiguous, first occurrence is EDT.
        (
            "America/New_York",
            date(2030, 11, 3),
            "00:00",
            "03:00",
            ["03 04:00", "03 05:00", "03 07:00"],
        ),
        # A window ending at 24:00.
        ("UTC", date(2030, 1, 7), "22:00", "24:00", ["07 22:00", "07 23:00"]),
        # Half-hour offset zone.
        ("Asia/Kolkata", date(2030, 1, 7), "09:00", "11:00", ["07 03:30", "07 04:30"]),
    ],
)
def test_dst_and_edges(zone: str, day: date, start: str, end: str, expected: list[str]) -> None:
    assert _starts(zone, day, start, end) == expected


def test_local_start_carries_the_coach_wall_clock() -> None:
    day = date(2030, 3, 31)
    window = _window(0, "01:00", "05:00")
    slots = available_slots([window], zone_of("Europe/Berlin"), day, day, 60, NOW, [])
    assert [s.local_start.strftime("%H:%M %z") for s in slots] == [
        "01:00 +0100",
        "03:00 +0200",
        "04:00 +0200",
    ]


def test_seats_and_buffers_in_the_engine() -> None:
    day = date(2030, 1, 7)
    window = _window(1, "09:00", "12:00", capacity=2, buffer=15)
    nine = datetime(2030, 1, 7, 9, tzinfo=UTC)
    taken = [Occupied(nine, 60)]
    slots = available_slots([window], UTC, day, day, 60, NOW, taken)
    assert [(s.start.hour, s.available_capacity) for s in slots] == [(9, 1), (11, 2)]


def test_viewer_timezone_adds_viewer_local_start(world: World) -> None:
    coach = world.coach(tz="Europe/Berlin")
    member = world.member(coach)
    world.window(coach, 1, "09:00", "10:00")
    slots = world.core.acting_as(member.id).availability.available_slots(
        coach.id,
        start_date=date(2030, 1, 7),
        end_date=date(2030, 1, 7),
        viewer_timezone="America/New_York",
    )
    assert slots[0].local_start.hour == 9
    assert slots[0].viewer_local_start is not None
    assert slots[0].viewer_local_start.hour == 3
    assert slots[0].start == datetime(2030, 1, 7, 8, tzinfo=UTC)


def test_past_slots_are_not_offered(world: World) -> None:
    coach = world.coach()
    member = world.member(coach)
    world.window(coach, 2, "07:00", "10:00")  # Tuesday 2030-01-01, now is 08:00 UTC
    assert isinstance(world.clock, FixedClock)
    slots = world.slots(member, coach, date(2030, 1, 1))
    assert [s.start.hour for s in slots] == [9]
