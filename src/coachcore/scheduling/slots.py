"""What the slot engine hands out: bookable slots and the state of any grid slot.

The engine (:mod:`~coachcore.scheduling.grid`, :mod:`~coachcore.scheduling.occupancy`,
:mod:`~coachcore.scheduling.listing`, :mod:`~coachcore.scheduling.lookup`) is
pure: ``now`` and the occupied intervals are arguments. Its rules are in
docs/architecture.md, "The slot rules".
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Collection, Sequence
from datetime import datetime, tzinfo
from operator import attrgetter
from typing import NamedTuple

import attrs

from coachcore.domain.entities import AvailabilityWindow


@attrs.frozen
class AvailableSlot:
    """A bookable slot: UTC ``start``/``end`` and the coach-local start.

    ``you_have_a_seat`` is true when the member the listing is made for
    already has a session starting in this slot: booking it again is refused
    (409, one seat per member per slot), though other members still can.
    """

    start: datetime
    end: datetime
    local_start: datetime
    available_capacity: int
    max_capacity: int
    viewer_local_start: datetime | None = None
    you_have_a_seat: bool = False


class _SlotFields(NamedTuple):
    start: datetime
    end: datetime
    local_start: datetime
    window: AvailabilityWindow
    seats_taken: int
    blocked: bool
    available_capacity: int


class SlotState(_SlotFields):
    """One grid slot with its seat count and whether a buffer blocks it.

    Immutable. ``available_capacity`` is 0 when blocked, else the free seats.
    """

    __slots__ = ()

    def __new__(
        cls,
        start: datetime,
        end: datetime,
        local_start: datetime,
        window: AvailabilityWindow,
        seats_taken: int,
        blocked: bool,
    ) -> SlotState:
        free = 0 if blocked else max(0, window.max_sessions_per_slot - seats_taken)
        return tuple.__new__(cls, (start, end, local_start, window, seats_taken, blocked, free))

    def to_available(self, viewer: tzinfo | None = None) -> AvailableSlot:
        start, end, local_start, window, _, _, free = self
        if viewer is None:
            return AvailableSlot(start, end, local_start, free, window.max_sessions_per_slot)
        return AvailableSlot(
            start,
            end,
            local_start,
            free,
            window.max_sessions_per_slot,
            start.astimezone(viewer),
        )


_START = attrgetter("start")


def mark_own_seats(
    slots: list[AvailableSlot], own_seats: Collection[datetime]
) -> list[AvailableSlot]:
    """``slots`` (sorted by start) with those starting at one of ``own_seats``
    (the starts of the member's sessions) marked ``you_have_a_seat``."""
    if not own_seats or not slots:
        return slots
    marked = list(slots)
    for start in own_seats:
        at = bisect_left(marked, start, key=_START)
        while at < len(marked) and marked[at].start == start:
            slot = marked[at]  # built anew: attrs.evolve costs twice as much
            marked[at] = AvailableSlot(
                slot.start,
                slot.end,
                slot.local_start,
                slot.available_capacity,
                slot.max_capacity,
                slot.viewer_local_start,
                True,
            )
            at += 1
    return marked


def find_slot(states: Sequence[SlotState], start: datetime) -> SlotState | None:
    """The grid slot starting exactly at ``start`` (any zone), if there is one."""
    for state in states:
        if state.start == start:
            return state
    return None
