"""The memory store and a candidate store agree: same operations, same outcomes, same views.

A hypothesis state machine drives two cores side by side, the reference memory
store and the candidate, each with its own FixedClock moved in step. Each step
draws one operation (by weight, see ``WEIGHTS``) and makes the same call on
both: member signup (an address already taken too), coaches, assignment, coach
capacity, membership status, deactivation, availability windows, scheduling
rules and date overrides, slot listings, bookings (listed slots, full slots,
off-grid and past times; by the member, the coach, an admin, or with a coach
not theirs), direct sessions, cancellations, reschedules, completion, notes,
ratings, the waitlist, the clock, and the cron jobs (expired waitlist holds,
reminders, the outbox and its purge, the audit log's purge). After every
step the outcomes and everything observable through the public API must
agree (see :class:`.side.Side`).

The operations are in :mod:`.booking_steps`, :mod:`.availability_steps` and
:mod:`.people_steps`; this module has the clock's, the rule drawing them, and
the invariant.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import invariant, rule, run_state_machine_as_test

from coachcore.testing.conformance.availability_steps import AvailabilitySteps
from coachcore.testing.conformance.booking_steps import BookingSteps
from coachcore.testing.conformance.people_steps import PeopleSteps
from coachcore.testing.conformance.side import LEADS, OpenCore, _explain


class StoreAgreement(BookingSteps, AvailabilitySteps, PeopleSteps):
    """The operations, the one rule drawing them, and the invariant comparing
    every view of the two stores."""

    # -- operations: time, reminders, outbox -----------------------------------------------

    def time_passes(self, data: Any) -> None:
        """Both clocks move on; most often the host's cron jobs then run: the
        waitlist's expired holds, reminders, the outbox, then its purge and
        the audit log's."""
        minutes = data.draw(st.one_of(st.integers(0, 120), st.integers(60, 36 * 60)), label="min")
        self.both(lambda side: side.clock.advance(timedelta(minutes=minutes)))
        if data.draw(st.sampled_from([True, True, False]), label="cron runs"):
            self.apply("waitlist.release_expired", lambda side: side.sys.waitlist.release_expired())
            self.apply("reminders.send_due", lambda side: side.sys.reminders.send_due())
            self.apply("outbox.dispatch", lambda side: side.sys.outbox.dispatch())
            self.apply("outbox.purge", lambda side: side.sys.outbox.purge(days=1))
            self.apply("audit.purge", lambda side: side.sys.audit.purge(days=1))

    def skip_to_a_reminder(self, data: Any) -> None:
        """Move both clocks to when a reminder falls due (exactly, a minute
        before or after, or later), then run the job."""
        session = self.pick(data, "session", "scheduled")
        lead = data.draw(st.sampled_from(sorted(LEADS.values())), label="lead")
        late = timedelta(minutes=data.draw(st.sampled_from([0, 0, -1, 1, 45]), label="late"))
        target = self.session_row(session).scheduled_at - lead + late
        if target > self.now():
            self.both(lambda side: side.clock.set(target))
        self.apply("reminders.send_due", lambda side: side.sys.reminders.send_due())

    # -- the one rule ----------------------------------------------------------------------

    @rule(data=st.data())
    def step(self, data: Any) -> None:
        """One operation, drawn by weight (those needing a session wait for one)."""
        table = ANY_TIME if self.sessions else BEFORE_THE_FIRST_SESSION
        operation = data.draw(st.sampled_from(table), label="operation")
        event(f"operation {operation}")
        getattr(self, operation)(data)

    # -- the check -------------------------------------------------------------------------

    @invariant()
    def stores_agree(self) -> None:
        if not self.sides:
            return
        assert len({side.clock.now() for side in self.sides}) == 1
        mine, theirs = (side.snapshot(self.coaches, self.members) for side in self.sides)
        differ = [k for k in mine.keys() | theirs.keys() if mine.get(k) != theirs.get(k)]
        assert not differ, "\n\n".join(
            _explain(key, self.labels, mine.get(key), theirs.get(key)) for key in sorted(differ)[:3]
        )


#: The operations and their weights. Hypothesis draws index 0 of a
#: ``sampled_from`` far more often than the others (a third of the steps here),
#: so the first entry, booking a listed slot, has weight 1 and still comes up most.
WEIGHTS = {
    "book_listed": 1,
    "book": 3,
    "direct_session": 2,
    "cancel": 2,
    "reschedule": 2,
    "complete": 3,
    "rate": 2,
    "skip_to_a_reminder": 2,
    "time_passes": 3,
    "change_windows": 2,
    "scheduling": 2,
    "waitlist": 2,
    "list_slots": 1,
    "people": 2,
    "write_notes": 1,
}
NEED_A_SESSION = {"cancel", "reschedule", "complete", "rate", "skip_to_a_reminder"}
ANY_TIME = [name for name, weight in WEIGHTS.items() for _ in range(weight)]
BEFORE_THE_FIRST_SESSION = [name for name in ANY_TIME if name not in NEED_A_SESSION]


def machine_for(open_core: OpenCore, name: str = "candidate") -> type[StoreAgreement]:
    """The machine comparing the memory store with the store ``open_core`` opens."""
    body = {"open_candidate": staticmethod(open_core), "candidate": name}
    return type(f"StoreAgreement_{name}", (StoreAgreement,), body)


def check_agreement(
    open_core: OpenCore, *, examples: int = 10, steps: int = 25, name: str = "candidate"
) -> None:
    """Run the agreement machine: ``examples`` runs of ``steps`` operations each
    (a step costs ~45 ms on SQLite, ~85 ms on PostgreSQL). The settings of the
    loaded hypothesis profile apply otherwise (set ``deadline=None`` there)."""
    chosen = settings(max_examples=examples, stateful_step_count=steps, deadline=None)
    run_state_machine_as_test(machine_for(open_core, name), settings=chosen)
