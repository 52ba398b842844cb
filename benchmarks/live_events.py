"""Live events across app servers on PostgreSQL (a measurement, not a timed test).

    python benchmarks/live_events.py            # 200 bookings, a 300,000-message outbox
    python benchmarks/live_events.py --quick    # 20 bookings, 30,000 messages

On a throwaway PostgreSQL server (``coachcore.testing.pgserver``, no fsync):

- ``booking``: the time of ``bookings.create`` (commit and after-commit delivery
  included) without and with a ``LiveRelay`` plugin (one ``NOTIFY`` more), with
  nobody listening and with a listener in the same process;
- ``latency``: from the start of ``bookings.create`` until a ``LiveListener``
  on its own connection has read the ``booked`` event back from the outbox;
- ``catch-up``: a listener's start (connect, ``LISTEN``, note the end of the
  outbox) and one periodic catch-up, over an outbox of many delivered messages
  (a quarter of them broadcasts).
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time
from datetime import UTC, date, datetime
from typing import Any

import psycopg
import sqlalchemy as sa

import coachcore
from coachcore import Role
from coachcore.adapters.clock import FixedClock
from coachcore.adapters.pglive import LiveListener, LiveRelay, libpq_url
from coachcore.testing.pgserver import ThrowawayPostgres

T0 = datetime(2030, 3, 1, 8, 0, tzinfo=UTC)


def _ms(values: list[float]) -> str:
    ordered = sorted(values)
    p95 = ordered[int(0.95 * (len(ordered) - 1))]
    return f"median {1000 * statistics.median(ordered):.2f} ms, p95 {1000 * p95:.2f} ms"


def _bookings(core: coachcore.Core, n: int, seen: Any = None) -> tuple[list[float], list[float]]:
    """Book ``n`` distinct slots; the booking times and (with ``seen``) latencies."""
    system = core.system
    stamp = time.monotonic_ns()
    coach = system.users.create(
        name="Coach", email=f"coach{stamp}@example.com", role=Role.COACH, timezone="UTC"
    )
    member = system.signup_member(name="M", email=f"m{stamp}@example.com", coach_id=coach.id)
    for day in range(7):
        core.acting_as(coach.id).availability.create(
            day_of_week=day,
            start_time="00:00",
            end_time="24:00",
            max_sessions_per_slot=1,
            buffer_minutes=0,
        )
    slots = core.acting_as(member.id).availability.available_slots(
        coach.id, start_date=date(2030, 3, 2), end_date=date(2030, 3, 30), duration=30
    )
    took, latency = [], []
    for slot in slots[:n]:
        began = time.perf_counter()
        core.acting_as(member.id).bookings.create(coach_id=coach.id, start=slot.start, duration=30)
        took.append(time.perf_counter() - began)
        if seen is not None:
            latency.append(seen(slot.start.isoformat()) - began)
    return took, latency


class Arrivals:
    """When each ``booked`` event reached the listener (perf_counter)."""

    def __init__(self) -> None:
        self.at: dict[str, float] = {}
        self.changed = threading.Condition()

    def put(self, event: dict[str, Any]) -> None:
        with self.changed:
            if event.get("change") == "booked":
                self.at[event["start"]] = time.perf_counter()
                self.changed.notify_all()

    def wait(self, start: str) -> float:
        with self.changed:
            if not self.changed.wait_for(lambda: start in self.at, 10):
                raise RuntimeError(f"event for {start} never arrived")
            return self.at[start]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    n, outbox_size = (20, 30_000) if args.quick else (200, 300_000)
    pg = ThrowawayPostgres().start()
    try:
        url = str(pg.url)
        plain = coachcore.open(url, clock=FixedClock(T0))
        without, _ = _bookings(plain, n)
        plain.close()
        relay = LiveRelay(url)
        alone = coachcore.open(url, clock=FixedClock(T0), plugins=[relay])
        unheard, _ = _bookings(alone, n)
        alone.close()
        arrivals = Arrivals()
        listener = LiveListener(url, arrivals.put).start(wait=10)
        relayed = coachcore.open(url, clock=FixedClock(T0), plugins=[relay])
        with_relay, latency = _bookings(relayed, n, arrivals.wait)
        relayed.close()
        listener.stop()
        announce = []
        for _ in range(n):
            began = time.perf_counter()
            relay.coachcore_broadcast({"event_id": "0" * 36, "type": "slot_changed"})
            announce.append(time.perf_counter() - began)
        relay.close()
        print(f"booking without relay ({n}): {_ms(without)}")
        print(f"booking with LiveRelay, nobody listening ({n}): {_ms(unheard)}")
        print(f"booking with LiveRelay, a listener in this process ({n}): {_ms(with_relay)}")
        print(f"booking -> listener latency: {_ms(latency)}")
        print(f"one NOTIFY by the relay, nobody listening: {_ms(announce)}")

        engine = sa.create_engine(url)
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO coachcore_outbox (id, idempotency_key, channel, payload,"
                    " created_at, status, attempts, next_attempt_at, version)"
                    " SELECT gen_random_uuid()::text, gen_random_uuid()::text,"
                    " CASE WHEN mod(g, 4) = 0 THEN 'broadcast' ELSE 'notification' END,"
                    ' \'{"type": "slot_changed", "coach_id": "c"}\'::json,'
                    " :t0 - make_interval(secs => g), 'delivered', 1, :t0, 0"
                    " FROM generate_series(1, :n) AS g"
                ),
                {"t0": T0, "n": outbox_size},
            )
            conn.execute(sa.text("ANALYZE coachcore_outbox"))
        engine.dispose()
        late = LiveListener(url, lambda event: None)
        began = time.perf_counter()
        late.start(wait=30)
        started = time.perf_counter() - began
        late.stop()
        with psycopg.connect(libpq_url(url), autocommit=True) as conn:
            rounds = []
            for _ in range(21):
                began = time.perf_counter()
                late._catch_up(conn)
                rounds.append(time.perf_counter() - began)
        print(f"listener start over {outbox_size:,} outbox messages: {1000 * started:.1f} ms")
        print(f"periodic catch-up over {outbox_size:,} outbox messages: {_ms(rounds)}")
    finally:
        pg.stop()


if __name__ == "__main__":
    main()
