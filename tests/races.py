"""A harness for racing two state transitions on one item, in threads or processes.

A :class:`Race` is two callables on the same fresh item plus a checker of the
end state. :func:`run_races` releases each race's two calls together (a
``threading.Barrier``) and :func:`judge` says what went wrong in each round:
two winners where one must lose, a loser that failed with an unexpected error,
an end state that is not the winner's (lost updates, duplicated side effects).

The process workers (:func:`process_worker`) live here, not in the test module,
so a 'spawn' child imports only coachcore and this file.
"""

from __future__ import annotations

import threading
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from coachcore.errors import BusinessRuleViolation, Conflict, Forbidden, NotFound

#: what the losing call may raise: 409 (changed meanwhile, or a clash found on
#: re-reading), 422 (the state it re-read no longer allows the move), 404 (the
#: item is gone), 403 (the link it re-read no longer lets the actor act)
LOSER_ERRORS: tuple[type[Exception], ...] = (Conflict, BusinessRuleViolation, NotFound, Forbidden)
TWO_WINNERS = "two winners"


@dataclass
class Outcome:
    """What one call did: its value, or the error it raised."""

    value: Any = None
    error: BaseException | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def __str__(self) -> str:
        if self.error is None:
            return "ok"
        return f"{type(self.error).__name__}({getattr(self.error, 'message', self.error)!s})"


Checker = Callable[[bool, bool], list[str]]
"""Given which of (a, b) succeeded, the problems found in the stored end state."""


@dataclass
class Race:
    """Two transitions of one item and the checker of its end state.

    ``both_ok``: the pair also succeeds run one after the other in some order
    (say "update, then delete"); then two successes are allowed, and the
    checker must make sure the end state is that order's, not a lost update.
    """

    a: Callable[[], Any]
    b: Callable[[], Any]
    check: Checker
    both_ok: bool = False


@dataclass
class Round:
    race: Race
    outcomes: tuple[Outcome, Outcome]
    problems: list[str] = field(default_factory=list)


def race_once(
    a: Callable[[], Any], b: Callable[[], Any], timeout: float = 30.0
) -> tuple[Outcome, Outcome]:
    """Run ``a`` and ``b`` in two threads released together by a barrier."""
    barrier = threading.Barrier(2)
    results = [Outcome(error=RuntimeError("did not run")) for _ in range(2)]

    def run(i: int, call: Callable[[], Any]) -> None:
        try:
            barrier.wait(timeout=timeout)
            results[i] = Outcome(value=call())
        except BaseException as exc:  # reported by judge()
            results[i] = Outcome(error=exc)

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate((a, b))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=timeout)
    return results[0], results[1]


def run_races(races: Sequence[Race]) -> list[Round]:
    """Race every pair, one round after the other."""
    return [Round(race, race_once(race.a, race.b)) for race in races]


def outcome_problems(a: Outcome, b: Outcome, both_ok: bool = False) -> list[str]:
    """What is wrong with the two calls' outcomes alone (not the end state)."""
    problems = []
    for name, o in (("a", a), ("b", b)):
        if o.error is not None and not isinstance(o.error, LOSER_ERRORS):
            detail = "".join(traceback.format_exception_only(o.error)).strip()
            problems.append(f"{name} failed unexpectedly: {detail}")
    if a.ok and b.ok and not both_ok:
        problems.append(TWO_WINNERS)
    if not a.ok and not b.ok:
        problems.append(f"no winner: a {a}, b {b}")
    return problems


def judge(rounds: Sequence[Round]) -> list[Round]:
    """Fill in each round's problems (outcomes, then the end state); the rounds."""
    for r in rounds:
        a, b = r.outcomes
        r.problems = outcome_problems(a, b, r.race.both_ok)
        try:
            r.problems += r.race.check(a.ok, b.ok)
        except Exception as exc:  # a checker that cannot read the end state
            r.problems.append(f"checker failed: {exc!r}")
    return rounds


def report(name: str, rounds: Sequence[Round]) -> str:
    """One line per bad round: its outcomes and problems."""
    bad = [(i, r) for i, r in enumerate(rounds) if r.problems]
    lines = [f"{name}: {len(bad)} of {len(rounds)} rounds wrong"]
    for i, r in bad:
        a, b = r.outcomes
        lines.append(f"  round {i}: a {a}, b {b}: " + "; ".join(r.problems))
    return "\n".join(lines)


# -- two processes -----------------------------------------------------------


def outcome_of(error_name: str | None, message: str) -> Outcome:
    """An outcome a worker process reported, its error rebuilt from the class name."""
    if error_name is None:
        return Outcome()
    from coachcore import errors

    kind = getattr(errors, error_name, None)
    if isinstance(kind, type) and issubclass(kind, errors.CoachCoreError):
        return Outcome(error=kind(message))
    return Outcome(error=RuntimeError(f"{error_name}: {message}"))


def _call(core: Any, job: tuple[str, str, str]) -> Any:
    """One transition named by (kind, actor id, item): the two-process pairs."""
    kind, actor, item = job
    scope = core.system if actor == "system" else core.acting_as(actor)
    if kind == "accept":
        return scope.invitations.accept(item)
    if kind == "revoke":
        return scope.invitations.revoke(item)
    if kind == "cancel_booking":
        return scope.bookings.cancel(item)
    if kind == "book":  # item: "member id|coach id|start (ISO)"
        member_id, coach_id, start = item.split("|")
        return scope.bookings.create(
            member_id=member_id, coach_id=coach_id, start=datetime.fromisoformat(start)
        )
    raise LookupError(kind)


def process_worker(
    url: str,
    now: datetime,
    who: int,
    jobs: list[tuple[str, str, str]],
    barrier: Any,
    results: Any,
) -> None:
    """Open a core on ``url``; per job, wait for the other process, then run it
    and report (round, who, None, "") or (round, who, error class name, message)."""
    import coachcore
    from coachcore.adapters.clock import FixedClock

    try:
        core = coachcore.open(url, clock=FixedClock(now))
    except Exception as exc:  # pragma: no cover - reported, the test fails on it
        barrier.abort()
        results.put((-1, who, type(exc).__name__, str(exc)))
        return
    try:
        for i, job in enumerate(jobs):
            barrier.wait(timeout=60)
            try:
                _call(core, job)
                results.put((i, who, None, ""))
            except Exception as exc:
                results.put((i, who, type(exc).__name__, str(exc)))
    finally:
        core.close()
