"""The agreement machine's operations on bookings and sessions: booking (a
listed slot, or any time by anyone), sessions a coach places, cancelling,
moving, completing and rating."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from hypothesis import strategies as st

from coachcore.errors import CoachCoreError
from coachcore.testing.conformance.machinery import Machinery
from coachcore.testing.conformance.side import HORIZON, _booked, by_start
from coachcore.testing.strategies import notes


class BookingSteps(Machinery):
    """Bookings and sessions, made the same way on both stores."""

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


def _override(data: Any) -> dict[str, Any]:
    """Half the time, a coach-made session placed as a deliberate exception to
    the slot rules; otherwise it meets them like a booking."""
    if data.draw(st.booleans(), label="override"):
        return {"override": True, "override_reason": "agreed with the member"}
    return {}
