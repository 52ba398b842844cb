"""Small rules of the slot engine's parts: occupied rows without sessions take
no time, and a slot shown to a viewer keeps its instant in the viewer's zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from coachcore.domain.entities import AvailabilityWindow
from coachcore.scheduling.occupancy import OccupancyIndex
from coachcore.scheduling.slots import SlotState
from coachcore.scheduling.wallclock import micros

T = datetime(2030, 1, 7, 9, tzinfo=UTC)
MINUTE = 60_000_000


def test_rows_without_sessions_occupy_nothing() -> None:
    start = micros(T)
    index = OccupancyIndex.from_arrays([start, start + 60 * MINUTE], [30, 30], [0, 2])
    assert len(index) == 1
    assert index.latest_end(start + 61 * MINUTE, None) == start + 90 * MINUTE
    assert index.interval_at(start, 30) is None
    empty = OccupancyIndex.from_arrays([start], [30], [0])
    assert len(empty) == 0


def test_a_slot_shown_to_a_viewer() -> None:
    window = AvailabilityWindow(id="w", coach_id="c", day_of_week=1, start_time="09:00",
                                end_time="17:00", max_sessions_per_slot=3, created_at=T,
                                updated_at=T)
    state = SlotState(T, T + timedelta(hours=1), T, window, 1, False)
    plain = state.to_available()
    assert (plain.available_capacity, plain.max_capacity, plain.viewer_local_start) == (2, 3, None)
    tokyo = state.to_available(ZoneInfo("Asia/Tokyo"))
    assert tokyo.viewer_local_start == T
    assert tokyo.viewer_local_start.utcoffset() == timedelta(hours=9)
    blocked = SlotState(T, T + timedelta(hours=1), T, window, 0, True)
    assert blocked.to_available().available_capacity == 0
