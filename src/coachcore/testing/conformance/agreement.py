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
reminders, the outbox). After every step the outcomes and everything
observable through the public API must agree (see :class:`.side.Side`).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import invariant, rule, run_state_machine_as_test

from coachcore.errors import CoachCoreError
from coachcore.testing.conformance.machinery import Machinery
from coachcore.testing.conformance.side import (
    HORIZON,
    LEADS,
    MAX_COACHES,
    MAX_MEMBERS,
    RULE_CHOICES,
    OpenCore,
    _booked,
    _explain,
    by_queue,
    by_schedule,
    by_start,
)
from coachcore.testing.strategies import (
    membership_statuses,
    names,
    notes,
    timezones,
    window_specs,
)


class StoreAgreement(Machinery):
    """The operations, the one rule drawing them, and the invariant comparing
    every view of the two stores."""

    # -- operations: bookings and sessions -------------------------------------------------

    def book_listed(self, data: Any) -> None:
        """What a member does in the UI: list their coach's slots, take one
        where they have no seat yet."""
        member = data.draw(st.sampled_from(self.members), label="member")
        coach = self.coach_of(member)
        if coach is None:
            return
        duration = data.draw(st.sampled_from([30, 60, 90]), label="duration")
        first = self.now().date()
        listed = self.apply(
            "availability.available_slots",
            lambda side: side.as_(member).availability.available_slots(
                side.id(coach),
                start_date=first,
                end_date=first + timedelta(days=HORIZON - 2),
                duration=duration,
            ),
        )
        if isinstance(listed, CoachCoreError):
            return
        offered = [s for s in listed if not s.you_have_a_seat]  # the page offers no second seat
        if not offered:
            return
        start = data.draw(st.sampled_from(offered), label="slot").start
        self.apply(
            "bookings.create(listed)",
            lambda side: side.as_(member).bookings.create(
                coach_id=side.id(coach), start=start, duration=duration
            ),
            _booked,
        )

    def book(self, data: Any) -> None:
        """Any booking: by the member, their coach, an admin, or with another coach."""
        actor = data.draw(
            st.sampled_from(["member", "member", "coach", "admin", "stranger"]), label="actor"
        )
        member = data.draw(st.sampled_from(self.members), label="member")
        coach = self.coach_of(member)
        if coach is None or actor == "stranger":
            coach = data.draw(st.sampled_from(self.coaches), label="coach")
        duration = data.draw(st.sampled_from([15, 30, 45, 60, 90]), label="duration")
        start, duration = self.moment(data, coach, duration)
        who = {"member": member, "coach": coach, "admin": None, "stranger": member}[actor]
        self.apply(
            "bookings.create",
            lambda side: side.as_(who).bookings.create(
                coach_id=side.id(coach),
                start=start,
                duration=duration,
                member_id=None if who == member else side.id(member),
            ),
            _booked,
        )

    def direct_session(self, data: Any) -> None:
        """The coach (or an admin) schedules a session, on the grid or off it."""
        member = data.draw(st.sampled_from(self.members), label="member")
        coach = self.coach_of(member) or data.draw(st.sampled_from(self.coaches), label="coach")
        duration = data.draw(st.sampled_from([30, 60, 75]), label="duration")
        start, duration = self.moment(data, coach, duration)
        by_admin = data.draw(st.booleans(), label="by an admin")
        forced = _override(data)
        self.apply(
            "sessions.create",
            lambda side: side.as_(None if by_admin else coach).sessions.create(
                member_id=side.id(member),
                coach_id=side.id(coach),
                scheduled_at=start,
                duration=duration,
                **forced,
            ),
            lambda r: {"session": getattr(r, "id", None)},
        )

    def cancel(self, data: Any) -> None:
        """Cancel a booking (bookings.cancel) or a session (sessions.cancel)."""
        if self.bookings and data.draw(st.booleans(), label="a booking"):
            booking = self.pick(data, "booking", "confirmed")
            row = self.look("bookings.get", lambda side: side.sys.bookings.get(side.id(booking)))
            who = self.party(data, row, ["member", "member", "coach", "admin", "other"])
            self.apply(
                "bookings.cancel",
                lambda side: side.as_(who).bookings.cancel(side.id(booking), reason="cannot come"),
            )
            return
        session = self.pick(data, "session", "scheduled")
        who = self.party(data, self.session_row(session), ["member", "coach", "admin", "other"])
        self.apply(
            "sessions.cancel",
            lambda side: side.as_(who).sessions.cancel(side.id(session), reason=None),
        )

    def reschedule(self, data: Any) -> None:
        """Move a session: sessions.update (its coach or an admin, not its member),
        or bookings.reschedule (its member too, within the coach's cut-off and by
        the same rules as a new booking)."""
        session = self.pick(data, "session", "scheduled")
        row = self.session_row(session)
        coach = self.ref.handle_of[row.coach_id]
        bookings = self.look("bookings.list", lambda side: side.sys.bookings.list(), by_start)
        booked = [
            self.ref.handle_of[b.id]
            for b in bookings
            if b.session_id == row.id and b.id in self.ref.handle_of
        ]
        if booked and data.draw(st.booleans(), label="through its booking"):
            who = self.party(data, row, ["member", "member", "coach", "admin", "other"])
            start, _ = self.moment(data, coach, row.duration)
            self.apply(
                "bookings.reschedule",
                lambda side: side.as_(who).bookings.reschedule(side.id(booked[0]), start=start),
            )
            return
        who = self.party(data, row, ["coach", "coach", "coach", "admin", "member"])
        duration = data.draw(st.sampled_from([None, None, 30, 60, 90]), label="new duration")
        start, length = self.moment(data, coach, duration or row.duration)
        changes: dict[str, Any] = {"scheduled_at": start, **_override(data)}
        if duration is not None:
            changes["duration"] = length
        self.apply(
            "sessions.update",
            lambda side: side.as_(who).sessions.update(side.id(session), **changes),
        )

    def complete(self, data: Any) -> None:
        session = self.pick(data, "session", "scheduled")
        who = self.party(data, self.session_row(session), ["coach", "coach", "admin", "member"])
        text = data.draw(notes(max_size=30), label="coach notes")
        self.apply(
            "sessions.complete",
            lambda side: side.as_(who).sessions.complete(
                side.id(session), coach_notes=text, outcomes="went well"
            ),
        )

    def rate(self, data: Any) -> None:
        session = self.pick(data, "session", "completed")
        who = self.party(data, self.session_row(session), ["member", "member", "admin", "coach"])
        stars = data.draw(st.integers(1, 5), label="stars")
        text = data.draw(st.one_of(st.none(), notes(max_size=30)), label="feedback")
        self.apply(
            "sessions.rate",
            lambda side: side.as_(who).sessions.rate(side.id(session), rating=stars, feedback=text),
        )

    # -- operations: availability ----------------------------------------------------------

    def change_windows(self, data: Any) -> None:
        """Add, update (shape, capacity, buffer, active) or delete a window."""
        action = data.draw(st.sampled_from(["add", "update", "update", "delete"]), label="action")
        spec = data.draw(window_specs(max_capacity=3, max_buffer=30), label="shape")
        windows = self.live_windows()
        if action == "add" or not windows:
            coach = data.draw(st.sampled_from(self.coaches), label="coach")
            self.add_window(coach, spec, data.draw(st.booleans(), label="by an admin"))
            return
        window = data.draw(st.sampled_from(windows), label="window")
        owner = next(c for c, ws in self.windows.items() if window in ws)
        if action == "delete":
            result = self.apply(
                "availability.delete",
                lambda side: side.as_(owner).availability.delete(side.id(window)),
            )
            if not isinstance(result, CoachCoreError):
                self.windows[owner].remove(window)
            return
        fields = {k: v for k, v in spec.as_kwargs().items() if data.draw(st.booleans(), label=k)}
        if data.draw(st.integers(0, 3), label="toggle active") == 0:
            fields["is_active"] = data.draw(st.booleans(), label="is_active")
        self.apply(
            "availability.update",
            lambda side: side.as_(owner).availability.update(side.id(window), **fields),
        )

    def list_slots(self, data: Any) -> None:
        """Any viewer lists any coach's slots: ranges, durations, grid steps, zones."""
        viewer = data.draw(st.sampled_from([None, *self.members, *self.coaches]), label="viewer")
        coach = data.draw(st.sampled_from(self.coaches), label="coach")
        duration = data.draw(st.sampled_from([15, 30, 45, 60, 90]), label="duration")
        first = self.now().date() + timedelta(days=data.draw(st.integers(-2, HORIZON)))
        last = first + timedelta(days=data.draw(st.integers(0, 4), label="days"))
        interval = data.draw(st.sampled_from([None, 5, 15, 20]), label="interval")
        viewer_zone = data.draw(st.one_of(st.none(), timezones()), label="viewer zone")
        self.apply(
            "availability.available_slots",
            lambda side: side.as_(viewer).availability.available_slots(
                side.id(coach),
                start_date=first,
                end_date=last,
                duration=duration,
                interval=interval,
                viewer_timezone=viewer_zone,
            ),
        )

    def scheduling(self, data: Any) -> None:
        """A coach's booking rules, and date overrides: blocked dates or hours,
        extra hours with their own seats and buffer."""
        coach = data.draw(st.sampled_from(self.coaches), label="coach")
        action = data.draw(st.sampled_from(["rules", "block", "extra", "remove"]), label="action")
        who = data.draw(st.sampled_from([coach, coach, None, self.members[0]]), label="by")
        overrides = self.overrides.setdefault(coach, [])
        if action == "rules":
            changes = {
                name: data.draw(st.sampled_from(values), label=name)
                for name, values in RULE_CHOICES.items()
                if data.draw(st.booleans(), label=f"change {name}")
            }
            self.set_rules(coach, who, changes)
        elif action == "remove" and overrides:
            override = data.draw(st.sampled_from(overrides), label="override")
            result = self.apply(
                "scheduling.remove_override",
                lambda side: side.as_(who).scheduling.remove_override(side.id(override)),
            )
            if not isinstance(result, CoachCoreError):
                overrides.remove(override)
        else:
            ahead = data.draw(st.integers(-1, HORIZON - 2), label="days ahead")
            hours = data.draw(window_specs(max_capacity=3, max_buffer=30), label="hours")
            kind = "extra" if action == "extra" else "block"
            whole = kind == "block" and data.draw(st.booleans(), label="whole day")
            fields = {
                "date": self.now().date() + timedelta(days=ahead),
                "kind": kind,
                "start_time": None if whole else hours.start_time,
                "end_time": None if whole else hours.end_time,
                "max_sessions_per_slot": hours.max_sessions_per_slot,
                "buffer_minutes": hours.buffer_minutes,
                "reason": data.draw(st.one_of(st.none(), notes(max_size=20)), label="reason"),
            }
            self.apply(
                "scheduling.add_override",
                lambda side: side.as_(who).scheduling.add_override(
                    coach_id=side.id(coach), **fields
                ),
                lambda r: {"override": getattr(r, "id", None)},
            )
            if "override" in self.fresh:
                overrides.append(self.fresh["override"])

    def waitlist(self, data: Any) -> None:
        """Queue for a slot (mostly a taken one), or leave a queue.

        Joins come a second apart: the queue is first come first by joining
        time, and joins at the same instant are ordered by their random ids.
        """
        if self.entries and data.draw(st.sampled_from([False, False, True]), label="leave"):
            entry = data.draw(st.sampled_from(self.entries), label="entry")
            entries = self.look("waitlist.list", lambda side: side.sys.waitlist.list(), by_queue)
            row = next(e for e in entries if e.id == self.ref.id(entry))
            who = self.party(data, row, ["member", "member", "coach", "admin", "other"])
            self.apply(
                "waitlist.leave",
                lambda side: side.as_(who).waitlist.leave(side.id(entry)),
            )
            return
        now = self.now()
        keeping = {self.ref.id(c) for c in self.coaches if self.keeps_waitlist(c)}
        sessions = self.look(
            "sessions.list", lambda side: side.sys.sessions.list(limit=500), by_schedule
        )
        ahead = [
            s
            for s in self.stable(sessions)
            if s.status == "scheduled" and s.scheduled_at > now and s.coach_id in keeping
        ]
        if ahead and data.draw(st.sampled_from([True, True, False]), label="a booked slot"):
            # a session's slot at a coach who keeps a waitlist: most likely full
            row = data.draw(st.sampled_from(ahead), label="slot of session")
            coach = self.ref.handle_of[row.coach_id]
            start, duration = row.scheduled_at, row.duration
            others = [
                m for m in self.members if m != self.ref.handle_of[row.member_id]
            ]  # someone else waits for that seat
            member = data.draw(st.sampled_from(others or self.members), label="member")
        else:
            member = data.draw(st.sampled_from(self.members), label="member")
            coach = self.coach_of(member) or data.draw(st.sampled_from(self.coaches))
            duration = data.draw(st.sampled_from([30, 60, 90]), label="duration")
            start, duration = self.moment(data, coach, duration)
        who = data.draw(st.sampled_from([member, member, coach, None]), label="by")
        self.both(lambda side: side.clock.advance(timedelta(seconds=1)))
        self.apply(
            "waitlist.join",
            lambda side: side.as_(who).waitlist.join(
                coach_id=side.id(coach),
                start=start,
                duration=duration,
                member_id=None if who == member else side.id(member),
            ),
            lambda r: {"entry": getattr(r, "id", None)},
        )

    # -- operations: people ----------------------------------------------------------------

    def people(self, data: Any) -> None:
        """Users and profiles: sign up (a taken address too), add a coach, assign,
        change a coach's capacity, a membership status, deactivate a member."""
        actions = ["assign", "assign", "signup", "coach profile", "membership", "add coach"]
        action = data.draw(st.sampled_from([*actions, "deactivate"]), label="action")
        member = data.draw(st.sampled_from(self.members), label="member")
        coach = data.draw(st.sampled_from(self.coaches), label="coach")
        if action == "signup" and len(self.members) < MAX_MEMBERS:
            taken = data.draw(st.booleans(), label="a taken address")
            self.signup(
                data.draw(st.one_of(st.none(), st.just(coach)), label="with coach"),
                data.draw(names(max_size=20), label="name"),
                f"{member.upper()}@Example.COM" if taken else None,
            )
        elif action == "add coach" and len(self.coaches) < MAX_COACHES:
            self.add_coach(data.draw(timezones(), label="zone"), data.draw(names(max_size=20)))
        elif action == "coach profile":
            max_members = data.draw(st.integers(1, 4), label="max_members")
            accepting = data.draw(st.booleans(), label="is_accepting_members")
            who = data.draw(st.sampled_from([coach, None]), label="by")
            self.apply(
                "coaches.update",
                lambda side: side.as_(who).coaches.update(
                    side.id(coach), max_members=max_members, is_accepting_members=accepting
                ),
            )
        elif action == "membership":  # only active members count against max_members
            status = data.draw(membership_statuses(), label="status")
            who = data.draw(st.sampled_from([self.coach_of(member), None]), label="by")
            self.apply(
                "members.update(membership_status)",
                lambda side: side.as_(who).members.update(
                    side.id(member), membership_status=status
                ),
            )
        elif action == "deactivate" and not self.deactivated and len(self.sessions) >= 3:
            self.deactivated.add(member)
            self.apply("users.deactivate", lambda side: side.sys.users.deactivate(side.id(member)))
        else:
            self.apply(
                "members.assign_coach",
                lambda side: side.sys.members.assign_coach(side.id(member), side.id(coach)),
            )

    def write_notes(self, data: Any) -> None:
        """Free text round trips (hostile strings, any Unicode but NUL): a member's
        goals, a coach's notes on a member or on a session."""
        member = data.draw(st.sampled_from(self.members), label="member")
        coach = self.coach_of(member)
        text = data.draw(notes(max_size=40), label="text")
        what = data.draw(st.sampled_from(["session", "member", "goals"]), label="notes on")
        if what == "session" and self.sessions:
            session = data.draw(st.sampled_from(self.sessions), label="session")
            owner = self.ref.handle_of[self.session_row(session).coach_id]
            self.apply(
                "sessions.add_coach_notes",
                lambda side: side.as_(owner).sessions.add_coach_notes(side.id(session), text),
            )
        elif what == "member" and coach is not None:
            self.apply(
                "members.update(coach_notes)",
                lambda side: side.as_(coach).members.update(side.id(member), coach_notes=text),
            )
        else:
            self.apply(
                "members.update(goals)",
                lambda side: side.as_(member).members.update(side.id(member), goals=text),
            )

    # -- operations: time, reminders, outbox -----------------------------------------------

    def time_passes(self, data: Any) -> None:
        """Both clocks move on; most often the host's cron jobs then run: the
        waitlist's expired holds, reminders, then the outbox."""
        minutes = data.draw(st.one_of(st.integers(0, 120), st.integers(60, 36 * 60)), label="min")
        self.both(lambda side: side.clock.advance(timedelta(minutes=minutes)))
        if data.draw(st.sampled_from([True, True, False]), label="cron runs"):
            self.apply("waitlist.release_expired", lambda side: side.sys.waitlist.release_expired())
            self.apply("reminders.send_due", lambda side: side.sys.reminders.send_due())
            self.apply("outbox.dispatch", lambda side: side.sys.outbox.dispatch())

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


def _override(data: Any) -> dict[str, Any]:
    """Half the time, a coach-made session placed as a deliberate exception to
    the slot rules; otherwise it meets them like a booking."""
    if data.draw(st.booleans(), label="override"):
        return {"override": True, "override_reason": "agreed with the member"}
    return {}
