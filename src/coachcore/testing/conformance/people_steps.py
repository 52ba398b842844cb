"""The agreement machine's operations on people: sign-ups, coaches, assignment,
capacity, membership status, deactivation, and the notes people write."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from coachcore.testing.conformance.machinery import Machinery
from coachcore.testing.conformance.side import MAX_COACHES, MAX_MEMBERS
from coachcore.testing.strategies import membership_statuses, names, notes, timezones


class PeopleSteps(Machinery):
    """Users, profiles and notes, changed the same way on both stores."""

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
