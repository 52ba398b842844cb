"""What a denied call costs: the time of a ``Forbidden`` read, with its audit
entry, against an allowed read, and how many entries a stream of denied calls
leaves (a measurement, not a timed test).

    python benchmarks/denied_attempts.py            # SQLite file in a temp dir
    python benchmarks/denied_attempts.py memory://  # or any store URL

One member asks ``members.get`` for 59 other members, five times over (295
denied calls), then reads their own profile as often. A denied call rolls its
read back, checks the actor's recent denied attempts (a read) and, under the
limit, appends one entry in a short write; the log keeps at most
``denials.PER_ACTOR`` entries per actor and minute.
"""

from __future__ import annotations

import sys
import tempfile
import time
from datetime import UTC, datetime

import coachcore
from coachcore.adapters.clock import FixedClock
from coachcore.errors import Forbidden


def main(url: str | None) -> None:
    with tempfile.TemporaryDirectory() as folder:
        clock = FixedClock(datetime(2030, 1, 1, 8, tzinfo=UTC))
        core = coachcore.open(url or f"sqlite:///{folder}/denied.db", clock=clock)
        system = core.system
        members = [system.signup_member(name=f"M{i}", email=f"m{i}@example.com") for i in range(60)]
        spy = core.acting_as(members[0].id)
        denied = 0
        started = time.perf_counter()
        for _ in range(5):
            for other in members[1:]:
                try:
                    spy.members.get(other.id)
                except Forbidden:
                    denied += 1
        refused = (time.perf_counter() - started) / denied
        started = time.perf_counter()
        for _ in range(denied):
            spy.members.get(members[0].id)
        allowed = (time.perf_counter() - started) / denied
        logged = len(system.audit.denied(limit=500))
        core.close()
    print(
        f"{denied} denied calls: {refused * 1000:.2f} ms each, allowed read "
        f"{allowed * 1000:.2f} ms (ratio {refused / allowed:.1f}); entries logged: {logged}"
    )


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)
