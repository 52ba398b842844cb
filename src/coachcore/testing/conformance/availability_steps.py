"""The agreement machine's operations on availability: weekly windows, slot
listings, booking rules and date overrides, and the waitlist."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from hypothesis import strategies as st

from coachcore.errors import CoachCoreError
from coachcore.testing.conformance.machinery import Machinery
from coachcore.testing.conformance.side import HORIZON, RULE_CHOICES, by_queue, by_schedule
from coachcore.testing.strategies import notes, timezones, window_specs


class AvailabilitySteps(Machinery):
    """Windows, listings, rules, overrides and the waitlist, changed the same way on both stores."""

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
