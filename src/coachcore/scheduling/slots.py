"""What the slot engine hands out: bookable slots and the state of any grid slot.

The engine (:mod:`~coachcore.scheduling.grid`, :mod:`~coachcore.scheduling.occupancy`,
:mod:`~coachcore.scheduling.listing`, :mod:`~coachcore.scheduling.lookup`) is
pure: ``now`` and the occupied intervals are arguments. Its rules are in
docs/architecture.md, "The slot rules".
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, tzinfo
from typing import NamedTuple

import attrs

from coachcore.domain.entities import AvailabilityWindow


@attrs.frozen
class AvailableSlot:
    """A bookable slot: UTC ``start``/``end`` and the coach-local start."""

    start: datetime
    end: datetime
    local_start: datetime
    available_capacity: int
    max_capacity: int
    viewer_local_start: datetime | None = None


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


def find_slot(states: Sequence[SlotState], start: datetime) -> SlotState | None:
    """The grid slot starting exactly at ``start`` (any zone), if there is one."""
    for state in states:
        if state.start == start:
            return state
    return None
