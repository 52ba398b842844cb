"""Member and coach dashboards (requirements 7 and 8)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import event, given
from hypothesis import strategies as st
from propkit import World, utc

from coachcore.testing.strategies import aware_datetimes, membership_statuses, timezones

STATES = st.sampled_from(["scheduled", "scheduled", "scheduled", "completed", "cancelled"])
MINE = st.sampled_from([True, True, True, False])
MINUTES = st.integers(1, 12 * 24 * 60) | st.integers(-2 * 24 * 60, 0)
PLAN = st.lists(st.tuples(MINUTES, STATES, MINE), min_size=1, max_size=10)
LATER = st.just(0) | st.integers(0, 2 * 24 * 60)


def make_sessions(w: World, coach: Any, me: Any, other: Any, plan: Any) -> list[Any]:
    """Sessions ``minutes`` from now, for me or the other member, in the given state."""
    made = []
    for minutes, state, mine in plan:
        member = me if mine else other
        session = w.session(coach, member, utc(w.now) + timedelta(minutes=minutes), 45)
        if state == "completed":
            session = w.as_(coach).sessions.complete(session.id)
        elif state == "cancelled":
            session = w.as_(coach).sessions.cancel(session.id)
        made.append(session)
    return made


def upcoming_of(w: World, sessions: list[Any], member: Any) -> list[Any]:
    return sorted(
        (
            s
            for s in sessions
            if s.member_id == member.id
            and s.status == "scheduled"
            and utc(s.scheduled_at) > utc(w.now)
        ),
        key=lambda s: utc(s.scheduled_at),
    )


# Feature: coaching-platform, Property 36: Member Dashboard Next Session
@given(plan=PLAN, later=LATER)
def test_the_next_session_is_the_earliest_upcoming_one(backend: Any, plan: Any, later: int) -> None:
    with World(backend) as w:
        w.clock.advance(timedelta(minutes=later))
        coach = w.coach()
        me, other = w.member(coach), w.member(coach)
        sessions = make_sessions(w, coach, me, other, plan)
        dash = w.as_(me).dashboards.member()
        expected = upcoming_of(w, sessions, me)
        event(f"upcoming sessions: {min(len(expected), 2)}")
        if not expected:
            assert dash.next_session is None
            assert dash.seconds_until_next is None
            assert dash.prompt_to_book is True
        else:
            first = expected[0]
            assert dash.next_session is not None
            assert utc(dash.next_session.scheduled_at) == utc(first.scheduled_at)
            assert dash.next_session.id in {s.id for s in expected}
            wait = utc(first.scheduled_at) - utc(w.now)
            assert dash.seconds_until_next == int(wait.total_seconds())
            assert dash.prompt_to_book is False
        assert "book_session" in dash.quick_actions
        assert "message_coach" in dash.quick_actions


# Feature: coaching-platform, Property 37: Member Dashboard Upcoming Sessions
@given(plan=PLAN, later=LATER)
def test_the_dashboard_lists_the_next_three_sessions_in_order(
    backend: Any, plan: Any, later: int
) -> None:
    with World(backend) as w:
        w.clock.advance(timedelta(minutes=later))
        coach = w.coach()
        me, other = w.member(coach), w.member(coach)
        sessions = make_sessions(w, coach, me, other, plan)
        dash = w.as_(me).dashboards.member()
        expected = upcoming_of(w, sessions, me)
        event(f"upcoming sessions: {min(len(expected), 4)}")
        got = [utc(s.scheduled_at) for s in dash.upcoming]
        assert got == [utc(s.scheduled_at) for s in expected[:3]]
        assert {s.id for s in dash.upcoming} <= {s.id for s in expected}
        assert all(s.member_id == me.id and s.status == "scheduled" for s in dash.upcoming)


def coach_world(w: World, data: Any) -> tuple[Any, Any, list[Any], Any]:
    tz = data.draw(timezones(), label="tz")
    w.clock.set(data.draw(aware_datetimes(), label="now"))
    coach, rival = w.coach(tz=tz), w.coach()
    me, other = w.member(coach), w.member(rival)
    plan = data.draw(
        st.integers(0, 9).flatmap(
            lambda n: st.lists(
                st.tuples(
                    st.integers(-18 * 60, 18 * 60) | st.integers(-9 * 24 * 60, 9 * 24 * 60),
                    STATES,
                    MINE,
                ),
                min_size=n,
                max_size=n,
            )
        ),
        label="sessions (minutes from now, state, mine)",
    )
    made = []
    for minutes, state, mine in plan:
        owner, member = (coach, me) if mine else (rival, other)
        session = w.session(owner, member, utc(w.now) + timedelta(minutes=minutes), 30)
        if state == "completed":
            session = w.as_(owner).sessions.complete(session.id)
        elif state == "cancelled":
            session = w.as_(owner).sessions.cancel(session.id)
        made.append(session)
    return coach, ZoneInfo(tz), made, w.as_(coach).dashboards.coach()


# Feature: coaching-platform, Property 38: Coach Dashboard Today's Sessions
@given(data=st.data())
def test_today_holds_the_coachs_sessions_of_the_local_day(backend: Any, data: Any) -> None:
    with World(backend) as w:
        coach, zone, made, dash = coach_world(w, data)
        today = w.now.astimezone(zone).date()
        event(f"sessions today: {min(len(dash.today), 2)}")
        for session in dash.today:
            assert session.coach_id == coach.id
            assert session.scheduled_at.astimezone(zone).date() == today
        wanted = {
            s.id
            for s in made
            if s.coach_id == coach.id
            and s.status == "scheduled"
            and s.scheduled_at.astimezone(zone).date() == today
        }
        assert wanted <= {s.id for s in dash.today}


# Feature: coaching-platform, Property 39: Coach Dashboard Week Sessions
@given(data=st.data())
def test_this_week_holds_the_coachs_upcoming_sessions_of_the_week(backend: Any, data: Any) -> None:
    with World(backend) as w:
        coach, zone, made, dash = coach_world(w, data)
        today = w.now.astimezone(zone).date()
        monday = today - timedelta(days=today.weekday())
        week = {monday + timedelta(days=i) for i in range(7)}
        event(f"sessions this week: {min(len(dash.this_week), 2)}")
        for session in dash.this_week:
            assert session.coach_id == coach.id
            assert session.scheduled_at.astimezone(zone).date() in week
        wanted = {
            s.id
            for s in made
            if s.coach_id == coach.id
            and s.status == "scheduled"
            and utc(s.scheduled_at) >= utc(w.now)
            and s.scheduled_at.astimezone(zone).date() in week
        }
        assert wanted <= {s.id for s in dash.this_week}


# Feature: coaching-platform, Property 40: Coach Dashboard Member Count
@given(
    mine=st.lists(membership_statuses(), max_size=6),
    theirs=st.lists(membership_statuses(), max_size=3),
    unassigned=st.integers(0, 2),
)
def test_the_member_count_counts_active_members_of_the_coach(
    backend: Any, mine: Any, theirs: Any, unassigned: int
) -> None:
    with World(backend) as w:
        coach, rival = w.coach(), w.coach()
        for owner, statuses in ((coach, mine), (rival, theirs)):
            for status in statuses:
                member = w.member(owner)
                w.sys.members.update(member.id, membership_status=status)
        for _ in range(unassigned):
            w.member()
        expected = sum(1 for s in mine if s == "active")
        assert w.as_(coach).dashboards.coach().active_member_count == expected
        assert w.sys.dashboards.coach(coach.id).active_member_count == expected
        assert w.as_(coach).coaches.get(coach.id).current_member_count == expected
