"""The session lifecycle: completion, cancellation, notes, group conversations (requirement 4)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from propkit import T0, World

from coachcore.errors import Forbidden
from coachcore.testing.strategies import durations, future_datetimes, notes, session_types

STARTS = future_datetimes(T0, within=timedelta(days=60))


# Feature: coaching-platform, Property 19: Session Completion State
@given(start=STARTS, later=st.integers(0, 90 * 24 * 60), outcome=st.none() | notes())
def test_completing_sets_status_and_completion_time(
    backend: Any, start: Any, later: int, outcome: Any
) -> None:
    with World(backend) as w:
        coach = w.coach()
        member = w.member(coach)
        session = w.session(coach, member, start)
        w.clock.advance(timedelta(minutes=later))
        done = w.as_(coach).sessions.complete(session.id, coach_notes="notes", outcomes=outcome)
        assert done.status == "completed"
        assert done.completed_at == w.now
        stored = w.sys.sessions.get(session.id)
        assert stored.status == "completed"
        assert stored.completed_at == w.now
        assert stored.outcomes == outcome
        assert stored.scheduled_at == session.scheduled_at


# Feature: coaching-platform, Property 20: Session Cancellation Side Effects
@given(
    start=STARTS,
    by=st.sampled_from(["member", "coach", "admin"]),
    booked=st.booleans(),
    reason=st.none() | notes(max_size=100),
)
def test_cancelling_updates_status_calendar_and_tells_both(
    backend: Any, start: Any, by: str, booked: bool, reason: Any
) -> None:
    with World(backend) as w:
        coach = w.coach()
        member = w.member(coach)
        if booked:
            w.window(
                coach,
                day_of_week=start.astimezone(w.now.tzinfo).isoweekday() % 7,
                start_time="00:00",
                end_time="24:00",
                buffer_minutes=0,
            )
            day = start.astimezone(w.now.tzinfo).date()
            slot = w.slots(coach, day, day, 60)[-1]
            session = w.sys.sessions.get(w.book(member, coach, slot.start).session_id)
        else:
            session = w.session(coach, member, start)
        actor = {"member": member, "coach": coach, "admin": w.admin()}[by]
        cancelled = w.as_(actor).sessions.cancel(session.id, reason=reason)
        assert cancelled.status == "cancelled"
        assert cancelled.cancelled_at == w.now
        assert w.sys.sessions.get(session.id).cancellation_reason == reason
        (event,) = w.events_for(session.id)
        assert event.status == "cancelled"
        for person in (coach, member):
            (told,) = w.delivered(person, "session_cancelled")
            assert told.session_id == session.id
        if booked:
            assert [b.status for b in w.as_(member).bookings.list()] == ["cancelled"]


# Feature: coaching-platform, Property 21: Coach Notes Visibility
@given(text=notes().filter(bool), complete=st.booleans(), profile_notes=st.none() | notes())
def test_coach_notes_are_hidden_from_members(
    backend: Any, text: str, complete: bool, profile_notes: Any
) -> None:
    with World(backend) as w:
        coach, other_coach = w.coach(), w.coach()
        member = w.member(coach)
        admin = w.admin()
        session = w.session(coach, member)
        if complete:
            w.as_(coach).sessions.complete(session.id, coach_notes=text)
        else:
            w.as_(coach).sessions.add_coach_notes(session.id, text)
        w.as_(coach).members.update(member.id, coach_notes=profile_notes)
        for reader in (coach, admin):
            assert w.as_(reader).sessions.get(session.id).coach_notes == text
            assert [s.coach_notes for s in w.as_(reader).sessions.list()] == [text]
            assert w.as_(reader).members.get(member.id).coach_notes == profile_notes
        assert w.sys.sessions.get(session.id).coach_notes == text
        mine = w.as_(member)
        assert mine.sessions.get(session.id).coach_notes is None
        assert [s.coach_notes for s in mine.sessions.list()] == [None]
        assert all(s.coach_notes is None for s in mine.sessions.upcoming())
        assert all(s.coach_notes is None for s in mine.dashboards.member().upcoming)
        assert mine.members.get(member.id).coach_notes is None
        assert mine.dashboards.member().member.coach_notes is None
        with pytest.raises(Forbidden):
            w.as_(other_coach).sessions.get(session.id)
        with pytest.raises(Forbidden):
            mine.sessions.add_coach_notes(session.id, "mine now")


# Feature: coaching-platform, Property 22: Member Notes Visibility
@given(text=notes().filter(bool), at_booking=st.booleans())
def test_member_notes_are_seen_by_member_coach_and_admin(
    backend: Any, text: str, at_booking: bool
) -> None:
    with World(backend) as w:
        coach = w.coach()
        member, stranger = w.member(coach), w.member(coach)
        admin = w.admin()
        if at_booking:
            session = w.session(coach, member, member_notes=text)
        else:
            session = w.session(coach, member)
            w.as_(member).sessions.add_member_notes(session.id, text)
        for reader in (member, coach, admin):
            assert w.as_(reader).sessions.get(session.id).member_notes == text
        with pytest.raises(Forbidden):
            w.as_(stranger).sessions.get(session.id)
        assert w.as_(stranger).sessions.list() == []
        with pytest.raises(Forbidden):
            w.as_(stranger).sessions.add_member_notes(session.id, "not mine")
        assert w.sys.sessions.get(session.id).member_notes == text


# Feature: coaching-platform, Property 46: Session Group Conversation Creation
@given(group=st.booleans(), kind=session_types(), duration=durations(), start=STARTS)
def test_a_group_conversation_is_opened_only_when_asked(
    backend: Any, group: bool, kind: Any, duration: int, start: Any
) -> None:
    with World(backend) as w:
        coach = w.coach()
        member = w.member(coach)
        session = w.session(
            coach, member, start, duration, type=kind, create_group_conversation=group
        )
        assert session.type == kind
        groups = [c for c in w.as_(member).conversations.list() if c.kind == "group"]
        if group:
            (conversation,) = groups
            assert session.conversation_id == conversation.id
            assert set(conversation.participant_ids) == {coach.id, member.id}
            assert conversation.session_id == session.id
            assert w.as_(coach).conversations.get(conversation.id) == conversation
            w.flush()
            assert conversation.id in w.core.messaging.conversations  # type: ignore[attr-defined]
        else:
            assert groups == []
            assert session.conversation_id is None
