"""Calendar integration: one event per session, kept in step with it (requirement 13)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import example, given
from hypothesis import strategies as st
from propkit import T0, World, utc

from coachcore.testing.strategies import (
    dst_edge_datetimes,
    durations,
    future_datetimes,
    session_types,
    unique_users,
)

STARTS = st.one_of(future_datetimes(T0, within=timedelta(days=300)), dst_edge_datetimes())
LENGTHS = durations(low=15, high=240)


def spans_a_clock_change(start: datetime, minutes: int) -> bool:
    """True if adding the duration on ``start``'s wall clock gives another instant than
    adding it in UTC: the session crosses a clock change, or starts in a repeated hour's
    second pass (``fold=1``, which ``+`` drops)."""
    delta = timedelta(minutes=minutes)
    return utc(start + delta) != utc(start) + delta


def check_event(w: World, session: Any, start: datetime, minutes: int) -> Any:
    (event,) = w.events_for(session.id)
    assert event.id == session.calendar_event_id
    assert utc(event.start) == utc(start)
    assert utc(event.end) == utc(start) + timedelta(minutes=minutes)
    assert event.status == "confirmed"
    return event


# Feature: coaching-platform, Property 17: Session Calendar Integration
@given(
    start=STARTS,
    duration=LENGTHS,
    kind=session_types(),
    by_admin=st.booleans(),
    people=unique_users(min_size=2, max_size=2),
)
def test_each_session_gets_a_calendar_event_for_coach_and_member(
    backend: Any, start: Any, duration: int, kind: Any, by_admin: bool, people: Any
) -> None:
    with World(backend) as w:
        coach = w.coach(spec=people[0])
        member = w.member(coach, spec=people[1])
        author = w.admin() if by_admin else coach
        session = w.as_(author).sessions.create(
            member_id=member.id,
            coach_id=coach.id,
            scheduled_at=start,
            duration=duration,
            type=kind,
            override=True,
            override_reason="set up by the test",
        )
        event = check_event(w, session, start, duration)
        assert event.category == "Coaching Session"
        assert event.creator_id == coach.id
        assert tuple(event.attendee_ids) == (member.id,)
        assert session.id in event.link


# Feature: coaching-platform, Property 17: Session Calendar Integration
@given(
    pair=st.tuples(dst_edge_datetimes(around=timedelta(hours=2)), LENGTHS).filter(
        lambda p: spans_a_clock_change(*p)
    )
)
@example(pair=(datetime(2030, 3, 31, 1, 30, tzinfo=ZoneInfo("Europe/Berlin")), 120))
def test_events_of_sessions_across_a_clock_change_last_their_duration(
    backend: Any, pair: Any
) -> None:
    start, duration = pair
    with World(backend) as w:
        coach = w.coach()
        member = w.member(coach)
        session = w.session(coach, member, start, duration)
        check_event(w, session, start, duration)


# Feature: coaching-platform, Property 57: Session Time Update Calendar Sync
@given(
    start=STARTS,
    changes=st.lists(st.tuples(st.none() | STARTS, st.none() | LENGTHS), min_size=1, max_size=3),
)
def test_rescheduling_moves_the_calendar_event(backend: Any, start: Any, changes: Any) -> None:
    with World(backend) as w:
        coach = w.coach()
        member = w.member(coach)
        when, length = start, 60
        session = w.session(coach, member, start, 60)
        for new_start, new_duration in changes:
            fields: dict[str, Any] = {}
            if new_duration is not None:
                fields["duration"] = length = new_duration
            if new_start is not None:
                fields["scheduled_at"] = when = new_start
            moved = w.as_(coach).sessions.update(
                session.id, **fields, override=True, override_reason="set up by the test"
            )
            assert (utc(moved.scheduled_at), moved.duration) == (utc(when), length)
            check_event(w, session, when, length)
        assert utc(w.sys.sessions.get(session.id).scheduled_at) == utc(when)


# Feature: coaching-platform, Property 57: Session Time Update Calendar Sync
@given(
    pair=st.tuples(dst_edge_datetimes(around=timedelta(hours=2)), LENGTHS).filter(
        lambda p: spans_a_clock_change(*p)
    )
)
@example(pair=(datetime(2030, 10, 27, 1, 30, tzinfo=ZoneInfo("Europe/Berlin")), 180))
def test_rescheduling_across_a_clock_change_keeps_the_duration(backend: Any, pair: Any) -> None:
    start, duration = pair
    with World(backend) as w:
        coach = w.coach()
        member = w.member(coach)
        session = w.session(coach, member, T0 + timedelta(days=1), 60)
        w.as_(coach).sessions.update(
            session.id,
            scheduled_at=start,
            duration=duration,
            override=True,
            override_reason="set up by the test",
        )
        check_event(w, session, start, duration)
