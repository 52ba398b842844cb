"""Booking's one-slot look-up over occupancy columns gives the listing's state.

``slot_state_among`` (what booking uses: one pass over the occupied intervals
near the slot, as the memory store hands them over) must agree with
``slot_state_at`` over an ``OccupancyIndex`` and with ``slot_states`` on the
reference test's random zones, windows, occupied intervals and ``now``; the
listing marks, among the slots booking finds a free seat in, exactly those
where the member already has a seat (booking refuses those a second time).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from hypothesis import given

from coachcore.scheduling.listing import available_slots, slot_states
from coachcore.scheduling.lookup import slot_state_among, slot_state_at
from coachcore.scheduling.occupancy import OccupancyIndex, Occupied, columns_of
from coachcore.scheduling.slots import find_slot
from coachcore.scheduling.wallclock import zone_of
from test_slot_reference import scenarios


@given(sc=scenarios())
def test_lookup_over_columns_equals_the_listing(sc: dict[str, Any]) -> None:
    zone = zone_of(sc["tz"])
    occupied = [Occupied(start, length) for start, length in sc["occupied"]]
    states = slot_states(
        sc["windows"], zone, sc["first"], sc["last"], sc["duration"], sc["now"], occupied,
        sc["interval"],
    )  # fmt: skip
    index = OccupancyIndex(occupied)
    tally: dict[tuple[Any, int], int] = {}
    for start, length in sc["occupied"]:
        tally[(start, length)] = tally.get((start, length), 0) + 1
    columns = columns_of(sorted((s, d, n) for (s, d), n in tally.items()))
    args = (sc["windows"], zone)
    tail = (sc["duration"], sc["now"])
    for state in states:
        for start in (state.start, state.start + timedelta(minutes=1)):
            by_index = slot_state_at(*args, start, *tail, index, sc["interval"])
            by_columns = slot_state_among(*args, start, *tail, columns, sc["interval"])
            assert by_columns == by_index
            if start == state.start:  # overlapping windows: the first one's slot
                assert by_columns == find_slot(states, start)
    free = available_slots(
        sc["windows"], zone, sc["first"], sc["last"], sc["duration"], sc["now"], occupied,
        sc["interval"], own_seats=sc["mine"],
    )  # fmt: skip
    bookable = [state for state in states if state.available_capacity > 0]
    assert [(s.start, s.you_have_a_seat) for s in free] == [
        (state.start, state.start in sc["mine"]) for state in bookable
    ]
