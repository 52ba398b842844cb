"""No mutation without its audit record (issue 8.7), across every kind of command.

Random sequences of commands (users, windows, rules, overrides, bookings,
cancellations, completions, ratings, waitlist, reminders) run on the memory
store, the executable specification. After each call the store's rows (all
but the audit log) are compared with those before it: a call that changed
anything must have appended an audit entry by its actor; a call that failed
outright changed nothing and appended nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from backends import Backend
from coachcore import Role
from coachcore.adapters.clock import FixedClock
from coachcore.errors import CoachCoreError, Forbidden, SlotFull

T0 = datetime(2030, 1, 1, 8, tzinfo=UTC)
MONDAY_NINE = datetime(2030, 1, 7, 9, tzinfo=UTC)


def snapshot(core: Any) -> dict[str, dict[str, Any]]:
    """Every row of the memory store but the audit log's (rows are immutable)."""
    repos = core.store.repositories
    return {name: dict(repo.rows) for name, repo in repos.items() if name != "audit"}


class Run:
    def __init__(self, backend: Backend) -> None:
        self.clock = FixedClock(T0)
        self.core = backend.open(self.clock)
        sys = self.core.system
        self.coach = sys.users.create(name="C", email="c@example.com", role=Role.COACH)
        self.members = [
            sys.signup_member(name=f"M{i}", email=f"m{i}@example.com", coach_id=self.coach.id)
            for i in range(3)
        ]
        self.bookings: list[Any] = []

    def as_(self, who: Any) -> Any:
        return self.core.acting_as(who.id)

    def op(self, kind: str, pick: int) -> tuple[str, Any]:
        """Run one command; returns (actor id, callable)."""
        member = self.members[pick % len(self.members)]
        coach = self.as_(self.coach)
        start = MONDAY_NINE + timedelta(hours=pick % 4)
        booking = self.bookings[pick % len(self.bookings)] if self.bookings else None
        commands: dict[str, tuple[Any, Any]] = {
            "window": (self.coach, lambda: coach.availability.create(
                day_of_week=1, start_time=f"{9 + pick % 3:02d}:00", end_time="13:00",
                max_sessions_per_slot=1 + pick % 2, buffer_minutes=0)),
            "rules": (self.coach, lambda: coach.scheduling.set_rules(
                waitlist_hold_minutes=30, max_sessions_per_day=None if pick % 2 else 3)),
            "block": (self.coach, lambda: coach.scheduling.add_override(
                date=start.date(), kind="block", start_time="12:00", end_time="13:00")),
            "book": (member, lambda: self.bookings.append(self.as_(member).bookings.create(
                coach_id=self.coach.id, start=start))),
            "cancel": (member, lambda: self.as_(member).bookings.cancel(
                booking.id if booking else "none")),
            "complete": (self.coach, lambda: coach.sessions.complete(
                booking.session_id if booking else "none")),
            "rate": (member, lambda: self.as_(member).sessions.rate(
                booking.session_id if booking else "none", rating=1 + pick % 5)),
            "wait": (member, lambda: self.as_(member).waitlist.join(
                coach_id=self.coach.id, start=start)),
            "goals": (member, lambda: self.as_(member).members.update(
                member.id, goals=f"goal {pick}")),
            "reminders": (None, lambda: self.core.system.reminders.send_due()),
            "holds": (None, lambda: self.core.system.waitlist.release_expired()),
            "later": (None, None),
        }  # fmt: skip
        who, call = commands[kind]
        return ("system" if who is None else who.id), call


KINDS = [
    "window", "rules", "block", "book", "cancel", "complete",
    "rate", "wait", "goals", "reminders", "holds", "later",
]  # fmt: skip


@given(steps=st.lists(st.tuples(st.sampled_from(KINDS), st.integers(0, 11)), max_size=25))
def test_every_change_has_its_audit_entry(steps: list[tuple[str, int]]) -> None:
    run = Run(Backend())  # the memory store: the row snapshot reads its tables
    audit = run.core.system.audit
    for kind, pick in steps:
        actor, call = run.op(kind, pick)
        if call is None:
            run.clock.advance(timedelta(hours=6 + pick))
            continue
        before, seen = snapshot(run.core), {e.id for e in audit.list(limit=500)}
        try:
            call()
            failed = False
            denied = False
        except SlotFull:
            failed = denied = False  # the rejected booking is kept: a change
        except CoachCoreError as error:
            failed, denied = True, isinstance(error, Forbidden)
        new = [e for e in audit.list(limit=500) if e.id not in seen]
        changed = snapshot(run.core) != before
        if failed:  # nothing changes; a denied attempt leaves its one entry
            assert not changed, kind
            assert [(e.entity_type, e.actor_id) for e in new] == (
                [("denied", actor)] if denied else []
            ), (kind, new)
        elif changed:
            assert new, kind
            assert {e.actor_id for e in new} == {actor}, (kind, new)
