"""The core is safe to share between threads: capacity holds (memory store)."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime

import coachcore
from coachcore import BookingStatus
from coachcore.adapters.clock import FixedClock
from coachcore.errors import SlotFull
from world import World


def test_sixteen_threads_one_slot_of_three_seats() -> None:
    clock = FixedClock(datetime(2030, 1, 1, 8, tzinfo=UTC))
    world = World(coachcore.open("memory://", clock=clock), clock)
    coach = world.coach()
    members = [world.member(coach) for _ in range(16)]
    world.window(coach, 1, "09:00", "10:00", max_sessions_per_slot=3)
    start = world.slots(members[0], coach, date(2030, 1, 7))[0].start
    barrier = threading.Barrier(16)
    results: list[str] = []
    lock = threading.Lock()

    def book(member: coachcore.User) -> None:
        barrier.wait()
        try:
            outcome = str(world.book(member, coach, start).status)
        except SlotFull:
            outcome = "full"
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=book, args=(m,)) for m in members]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["confirmed"] * 3 + ["full"] * 13
    confirmed = [b for b in world.sys.bookings.list() if b.status == BookingStatus.CONFIRMED]
    assert len(confirmed) == 3
