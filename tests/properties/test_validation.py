"""Data validation and integrity (requirement 14), and junk input on every entry point."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st
from propkit import DURATIONS, T0, World, build_scenario, reference_slots, utc

from coachcore.errors import (
    BusinessRuleViolation,
    CoachCoreError,
    Conflict,
    NotFound,
    SlotFull,
)
from coachcore.testing.strategies import (
    aware_datetimes,
    durations,
    future_datetimes,
    junk,
    notes,
    rating_specs,
    unknown_ids,
)

STATES = st.sampled_from(["scheduled", "completed", "cancelled"])
STARTS = future_datetimes(T0, within=timedelta(days=90))


def session_in(
    w: World, state: str, start: datetime, duration: int, rated: bool = False
) -> tuple[Any, Any, Any]:
    """A coach, their member and a session brought into ``state``."""
    coach = w.coach()
    member = w.member(coach)
    session = w.session(coach, member, start, duration)
    if state == "completed":
        w.as_(coach).sessions.complete(session.id)
        if rated:
            w.as_(member).sessions.rate(session.id, rating=4)
    elif state == "cancelled":
        w.as_(member).sessions.cancel(session.id)
    return coach, member, w.sys.sessions.get(session.id)


# Feature: coaching-platform, Property 58: Session Creation User Validation
@given(
    coach_state=st.sampled_from(["ok", "ok", "inactive", "unknown", "not a coach"]),
    member_state=st.sampled_from(["ok", "ok", "inactive", "unknown", "not a member"]),
    ghost=unknown_ids(),
)
def test_sessions_need_an_existing_active_coach_and_member(
    backend: Any, coach_state: str, member_state: str, ghost: str
) -> None:
    with World(backend) as w:
        coach = w.coach()
        member = w.member(coach)
        coach_id = {
            "ok": coach.id,
            "inactive": coach.id,
            "unknown": ghost,
            "not a coach": w.member().id,
        }[coach_state]
        member_id = {
            "ok": member.id,
            "inactive": member.id,
            "unknown": ghost,
            "not a member": w.coach().id,
        }[member_state]
        if coach_state == "inactive":
            w.sys.users.deactivate(coach.id)
        if member_state == "inactive":
            w.sys.users.deactivate(member.id)

        def create() -> Any:
            return w.sys.sessions.create(
                member_id=member_id,
                coach_id=coach_id,
                scheduled_at=w.now + timedelta(days=1),
                override=True,
                override_reason="set up by the test",
            )

        if coach_state == member_state == "ok":
            assert create().status == "scheduled"
            return
        with pytest.raises((NotFound, BusinessRuleViolation)) as caught:
            create()
        if member_state == "ok":
            expected = BusinessRuleViolation if coach_state == "inactive" else NotFound
            assert isinstance(caught.value, expected)
        if coach_state == "ok":
            expected = BusinessRuleViolation if member_state == "inactive" else NotFound
            assert isinstance(caught.value, expected)
        assert w.sys.sessions.list() == []
        assert w.core.calendar.events == {}  # type: ignore[attr-defined]


def ambiguous(moment: datetime) -> bool:
    """A wall-clock time that happens twice in its zone (fall back)."""
    return moment.replace(fold=1 - moment.fold).utcoffset() != moment.utcoffset()


def candidate_starts(sc: Any, grid: list[Any]) -> st.SearchStrategy[datetime]:
    """Grid instants in several zones, instants near the grid, and anything at all."""
    zones = st.sampled_from([ZoneInfo(sc.tz), UTC, ZoneInfo("Asia/Kathmandu")])
    day0 = datetime.combine(sc.first - timedelta(days=1), time(), UTC)
    span = ((sc.last - sc.first).days + 3) * 24 * 12
    on_grid = st.sampled_from([s.start for s in grid]) if grid else st.nothing()
    return st.one_of(
        st.builds(lambda s, z: s.astimezone(z), on_grid, zones),
        st.builds(
            lambda k, z: (day0 + timedelta(minutes=5 * k)).astimezone(z),
            st.integers(0, span),
            zones,
        ),
        aware_datetimes(),
    )


# Feature: coaching-platform, Property 60: Booking Availability Validation
@given(data=st.data())
def test_bookings_must_fall_on_the_coachs_slots(backend: Any, data: Any) -> None:
    with World(backend) as w:
        sc = build_scenario(w, data, actions=3)
        duration = data.draw(DURATIONS, label="duration")
        grid = reference_slots(sc.windows, sc.tz, sc.first, sc.last, duration, w.now, sc.occupied)
        start = data.draw(candidate_starts(sc, grid), label="start")
        seats = {s.start: s.available_capacity for s in grid}
        member = w.member(sc.coach)
        before = len(w.sys.bookings.list())
        if utc(start) not in seats:
            with pytest.raises(BusinessRuleViolation) as caught:
                w.book(member, sc.coach, start, duration)
            assert caught.value.status_code == 422
            assert len(w.sys.bookings.list()) == before
            assert w.as_(member).sessions.list() == []
        elif seats[utc(start)] > 0:
            booking = w.book(member, sc.coach, start, duration)
            assert booking.status == "confirmed"
            assert utc(booking.start) == utc(start)
        else:
            with pytest.raises(SlotFull):
                w.book(member, sc.coach, start, duration)
            assert w.as_(member).sessions.list() == []


# Feature: coaching-platform, Property 60: Booking Availability Validation
@pytest.mark.parametrize(
    ("tz", "day"),
    [
        ("Europe/Berlin", date(2030, 10, 27)),
        ("America/New_York", date(2030, 11, 3)),
        ("Australia/Lord_Howe", date(2030, 4, 7)),
        ("Pacific/Chatham", date(2030, 4, 7)),
    ],
)
def test_a_slot_in_a_repeated_hour_can_be_booked_by_its_local_start(
    backend: Any, tz: str, day: date
) -> None:
    with World(backend, now=datetime.combine(day - timedelta(days=2), time(), UTC)) as w:
        coach = w.coach(tz=tz)
        member = w.member(coach)
        w.window(coach, day_of_week=0, start_time="00:00", end_time="06:00", buffer_minutes=0)
        slots = w.slots(coach, day, day, 30)
        doubled = [s for s in slots if ambiguous(s.local_start)]
        assert doubled, "the zone repeats an hour that day"
        booking = w.book(member, coach, doubled[0].local_start, 30)
        assert booking.status == "confirmed"


# Feature: coaching-platform, Property 61: Session Completion State Validation
@given(state=STATES, start=STARTS, duration=durations(), by_admin=st.booleans(), text=notes())
def test_only_scheduled_sessions_can_be_completed(
    backend: Any, state: str, start: Any, duration: int, by_admin: bool, text: str
) -> None:
    with World(backend) as w:
        coach, _, session = session_in(w, state, start, duration)
        actor = w.as_(w.admin() if by_admin else coach)
        if state == "scheduled":
            done = actor.sessions.complete(session.id, coach_notes=text)
            assert (done.status, done.coach_notes) == ("completed", text)
        else:
            with pytest.raises(BusinessRuleViolation) as caught:
                actor.sessions.complete(session.id, coach_notes=text)
            assert caught.value.status_code == 422
            assert w.sys.sessions.get(session.id) == session


# Feature: coaching-platform, Property 62: Session Cancellation State Validation
@given(
    state=STATES,
    by=st.sampled_from(["member", "coach", "admin"]),
    start=STARTS,
    duration=durations(),
    reason=st.none() | notes(),
)
def test_completed_sessions_cannot_be_cancelled(
    backend: Any, state: str, by: str, start: Any, duration: int, reason: Any
) -> None:
    with World(backend) as w:
        coach, member, session = session_in(w, state, start, duration)
        actor = {"member": member, "coach": coach, "admin": w.admin()}[by]
        if state == "scheduled":
            assert w.as_(actor).sessions.cancel(session.id, reason=reason).status == "cancelled"
        else:
            with pytest.raises(BusinessRuleViolation) as caught:
                w.as_(actor).sessions.cancel(session.id, reason=reason)
            assert caught.value.status_code == 422
            assert w.sys.sessions.get(session.id) == session


# Feature: coaching-platform, Property 63: Session Rating State Validation
@given(state=STATES, rated=st.booleans(), spec=rating_specs(), start=STARTS)
def test_only_completed_unrated_sessions_can_be_rated(
    backend: Any, state: str, rated: bool, spec: Any, start: Any
) -> None:
    with World(backend) as w:
        _, member, session = session_in(w, state, start, 60, rated)
        rate = w.as_(member).sessions.rate
        if state == "completed" and not rated:
            assert rate(session.id, **spec.as_kwargs()).rating == spec.rating
        elif state == "completed":
            with pytest.raises(Conflict):
                rate(session.id, **spec.as_kwargs())
            assert w.sys.sessions.get(session.id).rating == 4
        else:
            with pytest.raises(BusinessRuleViolation):
                rate(session.id, **spec.as_kwargs())
            assert w.sys.sessions.get(session.id).rating is None


@attrs.define
class Ctx:
    """The world one junk call runs in: scopes and a few existing entities."""

    w: World
    coach: Any
    member: Any
    window: Any
    session: Any

    @property
    def s(self) -> Any:
        return self.w.sys

    @property
    def c(self) -> Any:
        return self.w.as_(self.coach)

    @property
    def m(self) -> Any:
        return self.w.as_(self.member)

    @property
    def when(self) -> datetime:
        return self.w.now + timedelta(days=1)

    day = date(2030, 1, 2)


#: One call per public entry point and argument, each taking the junk value ``j``.
ENTRY_POINTS: dict[str, Callable[[Ctx, Any], Any]] = {
    "users.create name": lambda x, j: x.s.users.create(
        name=j, email="j@example.com", role="member"
    ),
    "users.create email": lambda x, j: x.s.users.create(name="J", email=j, role="member"),
    "users.create role": lambda x, j: x.s.users.create(name="J", email="j@example.com", role=j),
    "users.create timezone": lambda x, j: x.s.users.create(
        name="J", email="j@example.com", role="coach", timezone=j
    ),
    "users.get": lambda x, j: x.s.users.get(j),
    "users.update name": lambda x, j: x.s.users.update(x.member.id, name=j),
    "users.update timezone": lambda x, j: x.s.users.update(x.coach.id, timezone=j),
    "users.deactivate": lambda x, j: x.s.users.deactivate(j),
    "signup_member coach_id": lambda x, j: x.s.signup_member(
        name="J", email="j@example.com", coach_id=j
    ),
    "signup_member goals": lambda x, j: x.s.signup_member(name="J", email="j@example.com", goals=j),
    "acting_as": lambda x, j: x.w.core.acting_as(j).members.list(),
    "members.list search": lambda x, j: x.s.members.list(search=j),
    "members.list limit": lambda x, j: x.s.members.list(limit=j),
    "members.list offset": lambda x, j: x.s.members.list(offset=j),
    "members.list status": lambda x, j: x.s.members.list(membership_status=j),
    "members.get": lambda x, j: x.s.members.get(j),
    "members.update goals": lambda x, j: x.m.members.update(x.member.id, goals=j),
    "members.update status": lambda x, j: x.c.members.update(x.member.id, membership_status=j),
    "members.assign_coach": lambda x, j: x.s.members.assign_coach(x.member.id, j),
    "members.set_onboarding_status": lambda x, j: x.m.members.set_onboarding_status(x.member.id, j),
    "coaches.get": lambda x, j: x.s.coaches.get(j),
    "coaches.update max_members": lambda x, j: x.c.coaches.update(x.coach.id, max_members=j),
    "coaches.update accepting": lambda x, j: x.c.coaches.update(x.coach.id, is_accepting_members=j),
    "coaches.update bio": lambda x, j: x.c.coaches.update(x.coach.id, bio=j),
    "availability.create day": lambda x, j: x.c.availability.create(
        day_of_week=j, start_time="13:00", end_time="14:00"
    ),
    "availability.create start": lambda x, j: x.c.availability.create(
        day_of_week=5, start_time=j, end_time="14:00"
    ),
    "availability.create end": lambda x, j: x.c.availability.create(
        day_of_week=5, start_time="13:00", end_time=j
    ),
    "availability.create capacity": lambda x, j: x.c.availability.create(
        day_of_week=5, start_time="13:00", end_time="14:00", max_sessions_per_slot=j
    ),
    "availability.create buffer": lambda x, j: x.c.availability.create(
        day_of_week=5, start_time="13:00", end_time="14:00", buffer_minutes=j
    ),
    "availability.create coach_id": lambda x, j: x.s.availability.create(
        day_of_week=5, start_time="13:00", end_time="14:00", coach_id=j
    ),
    "availability.update id": lambda x, j: x.c.availability.update(j, buffer_minutes=5),
    "availability.update end": lambda x, j: x.c.availability.update(x.window.id, end_time=j),
    "availability.update active": lambda x, j: x.c.availability.update(x.window.id, is_active=j),
    "availability.delete": lambda x, j: x.c.availability.delete(j),
    "availability.list": lambda x, j: x.m.availability.list(j),
    "slots coach_id": lambda x, j: x.s.availability.available_slots(
        j, start_date=x.day, end_date=x.day
    ),
    "slots start_date": lambda x, j: x.s.availability.available_slots(
        x.coach.id, start_date=j, end_date=x.day
    ),
    "slots end_date": lambda x, j: x.s.availability.available_slots(
        x.coach.id, start_date=x.day, end_date=j
    ),
    "slots duration": lambda x, j: x.s.availability.available_slots(
        x.coach.id, start_date=x.day, end_date=x.day, duration=j
    ),
    "slots interval": lambda x, j: x.s.availability.available_slots(
        x.coach.id, start_date=x.day, end_date=x.day, interval=j
    ),
    "slots viewer_timezone": lambda x, j: x.s.availability.available_slots(
        x.coach.id, start_date=x.day, end_date=x.day, viewer_timezone=j
    ),
    "bookings.create coach_id": lambda x, j: x.m.bookings.create(coach_id=j, start=x.when),
    "bookings.create start": lambda x, j: x.m.bookings.create(coach_id=x.coach.id, start=j),
    "bookings.create duration": lambda x, j: x.m.bookings.create(
        coach_id=x.coach.id, start=x.when, duration=j
    ),
    "bookings.create member_id": lambda x, j: x.c.bookings.create(
        coach_id=x.coach.id, start=x.when, member_id=j
    ),
    "bookings.create notes": lambda x, j: x.m.bookings.create(
        coach_id=x.coach.id, start=x.when, member_notes=j
    ),
    "bookings.create key": lambda x, j: x.m.bookings.create(
        coach_id=x.coach.id, start=x.when, idempotency_key=j
    ),
    "bookings.get": lambda x, j: x.m.bookings.get(j),
    "bookings.list": lambda x, j: x.m.bookings.list(status=j),
    "bookings.cancel": lambda x, j: x.m.bookings.cancel(j),
    "sessions.create member_id": lambda x, j: x.c.sessions.create(
        member_id=j,
        coach_id=x.coach.id,
        scheduled_at=x.when,
        override=True,
        override_reason="set up by the test",
    ),
    "sessions.create coach_id": lambda x, j: x.s.sessions.create(
        member_id=x.member.id,
        coach_id=j,
        scheduled_at=x.when,
        override=True,
        override_reason="set up by the test",
    ),
    "sessions.create scheduled_at": lambda x, j: x.c.sessions.create(
        member_id=x.member.id,
        coach_id=x.coach.id,
        scheduled_at=j,
        override=True,
        override_reason="set up by the test",
    ),
    "sessions.create duration": lambda x, j: x.c.sessions.create(
        member_id=x.member.id,
        coach_id=x.coach.id,
        scheduled_at=x.when,
        duration=j,
        override=True,
        override_reason="set up by the test",
    ),
    "sessions.create type": lambda x, j: x.c.sessions.create(
        member_id=x.member.id,
        coach_id=x.coach.id,
        scheduled_at=x.when,
        type=j,
        override=True,
        override_reason="set up by the test",
    ),
    "sessions.create group": lambda x, j: x.c.sessions.create(
        member_id=x.member.id,
        coach_id=x.coach.id,
        scheduled_at=x.when,
        create_group_conversation=j,
        override=True,
        override_reason="set up by the test",
    ),
    "sessions.get": lambda x, j: x.m.sessions.get(j),
    "sessions.list status": lambda x, j: x.m.sessions.list(status=j),
    "sessions.list member_id": lambda x, j: x.c.sessions.list(member_id=j),
    "sessions.list limit": lambda x, j: x.c.sessions.list(limit=j),
    "sessions.upcoming": lambda x, j: x.m.sessions.upcoming(limit=j),
    "sessions.update scheduled_at": lambda x, j: x.c.sessions.update(
        x.session.id, scheduled_at=j, override=True, override_reason="set up by the test"
    ),
    "sessions.update duration": lambda x, j: x.c.sessions.update(
        x.session.id, duration=j, override=True, override_reason="set up by the test"
    ),
    "sessions.complete id": lambda x, j: x.c.sessions.complete(j),
    "sessions.complete notes": lambda x, j: x.c.sessions.complete(x.session.id, coach_notes=j),
    "sessions.cancel reason": lambda x, j: x.m.sessions.cancel(x.session.id, reason=j),
    "sessions.add_coach_notes": lambda x, j: x.c.sessions.add_coach_notes(x.session.id, j),
    "sessions.add_member_notes": lambda x, j: x.m.sessions.add_member_notes(x.session.id, j),
    "sessions.rate rating": lambda x, j: x.m.sessions.rate(x.session.id, rating=j),
    "sessions.rate id": lambda x, j: x.m.sessions.rate(j, rating=3),
    "dashboards.member": lambda x, j: x.s.dashboards.member(j),
    "dashboards.coach": lambda x, j: x.s.dashboards.coach(j),
    "notifications.list": lambda x, j: x.s.notifications.list(j),
    "conversations.list": lambda x, j: x.s.conversations.list(j),
    "conversations.get": lambda x, j: x.s.conversations.get(j),
    "outbox.retry": lambda x, j: x.s.outbox.retry(j),
    "outbox.purge days": lambda x, j: x.s.outbox.purge(days=j),
    "outbox.purgeable days": lambda x, j: x.s.outbox.purgeable(days=j),
    "audit.purge days": lambda x, j: x.s.audit.purge(days=j),
    "audit.purgeable days": lambda x, j: x.s.audit.purgeable(days=j),
}


@given(entry=st.sampled_from(sorted(ENTRY_POINTS)), value=junk())
def test_junk_input_is_refused_with_a_coachcore_error(backend: Any, entry: str, value: Any) -> None:
    """No KeyError, TypeError, driver error or crash escapes for untrusted input."""
    with World(backend) as w:
        coach = w.coach()
        member = w.member(coach)
        window = w.window(coach, day_of_week=3, start_time="09:00", end_time="12:00")
        session = w.session(coach, member)
        try:
            ENTRY_POINTS[entry](Ctx(w, coach, member, window, session), value)
        except CoachCoreError as error:
            assert error.status_code in (400, 403, 404, 409, 422), repr(error)
            assert set(error.to_dict()) == {"statusCode", "message", "error", "details"}
        # whatever happened, the core still answers
        assert w.sys.sessions.get(session.id).id == session.id
