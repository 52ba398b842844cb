"""Notifications: created, confirmed, rejected, completed, assigned (requirement 11)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from propkit import T0, World

from coachcore.errors import SlotFull
from coachcore.testing.strategies import durations, future_datetimes, timezones, user_specs

STARTS = future_datetimes(T0, within=timedelta(days=60))
FIRST, LAST = date(2030, 1, 2), date(2030, 1, 8)


def _exactly_once(w: World, who: Any, kind: str, **match: Any) -> Any:
    """The one notification of ``kind`` for ``who``: stored once and delivered once."""
    stored = [n for n in w.stored(who, kind) if all(getattr(n, k) == v for k, v in match.items())]
    sent = [n for n in w.delivered(who, kind) if all(getattr(n, k) == v for k, v in match.items())]
    assert len(stored) == 1, f"{kind} stored {len(stored)} times for {who.id}"
    assert [n.id for n in sent] == [stored[0].id]
    assert w.core.notifier.repeats == 0  # type: ignore[attr-defined]
    return stored[0]


# Feature: coaching-platform, Property 18: Session Creation Notifications
@given(start=STARTS, duration=durations(), sessions=st.integers(1, 3))
def test_both_parties_are_told_of_a_new_session(
    backend: Any, start: Any, duration: int, sessions: int
) -> None:
    with World(backend) as w:
        coach = w.coach()
        member = w.member(coach)
        made = [
            w.session(coach, member, start + timedelta(days=i), duration) for i in range(sessions)
        ]
        for session in made:
            for person in (coach, member):
                note = _exactly_once(w, person, "session_created", session_id=session.id)
                assert note.recipient_id == person.id
        assert w.stored(w.member(coach), "session_created") == []


def _one_slot(w: World, data: Any, capacity: int) -> tuple[Any, Any, int]:
    coach = w.coach(tz=data.draw(timezones(), label="tz"))
    day = data.draw(st.integers(0, 6), label="day")
    w.window(
        coach, day_of_week=day, start_time="06:00", end_time="20:00", max_sessions_per_slot=capacity
    )
    duration = data.draw(durations(), label="duration")
    slot = data.draw(st.sampled_from(w.slots(coach, FIRST, LAST, duration)), label="slot")
    return coach, slot, duration


# Feature: coaching-platform, Property 47: Booking Confirmation Notification
@given(data=st.data(), capacity=st.integers(1, 3))
def test_every_confirmed_booking_is_confirmed_to_its_member(
    backend: Any, data: Any, capacity: int
) -> None:
    with World(backend) as w:
        coach, slot, duration = _one_slot(w, data, capacity)
        for _ in range(capacity):
            member = w.member(coach)
            booking = w.book(member, coach, slot.start, duration)
            note = _exactly_once(w, member, "booking_confirmed")
            assert (note.booking_id, note.session_id) == (booking.id, booking.session_id)
            assert w.stored(member, "booking_rejected") == []
        assert w.stored(coach, "booking_confirmed") == []


# Feature: coaching-platform, Property 48: Booking Rejection Notification
@given(data=st.data(), capacity=st.integers(1, 3), late=st.integers(1, 3))
def test_every_rejected_booking_is_reported_to_its_member(
    backend: Any, data: Any, capacity: int, late: int
) -> None:
    with World(backend) as w:
        coach, slot, duration = _one_slot(w, data, capacity)
        for _ in range(capacity):
            w.book(w.member(coach), coach, slot.start, duration)
        for _ in range(late):
            member = w.member(coach)
            try:
                w.book(member, coach, slot.start, duration)
            except SlotFull as full:
                rejected_id = full.details["booking_id"]
            else:
                raise AssertionError("a full slot took another booking")
            note = _exactly_once(w, member, "booking_rejected")
            assert note.booking_id == rejected_id
            assert w.stored(member, "booking_confirmed") == []
            assert w.stored(member, "session_created") == []


# Feature: coaching-platform, Property 49: Session Completion Notification
@given(start=STARTS, booked_before=st.integers(0, 2))
def test_completion_is_announced_to_both_and_the_member_is_asked_to_rate(
    backend: Any, start: Any, booked_before: int
) -> None:
    with World(backend) as w:
        coach = w.coach()
        member = w.member(coach)
        others = [
            w.session(coach, member, start + timedelta(days=i + 1)) for i in range(booked_before)
        ]
        session = w.session(coach, member, start)
        w.as_(coach).sessions.complete(session.id, coach_notes="well done")
        for person in (coach, member):
            _exactly_once(w, person, "session_completed", session_id=session.id)
        _exactly_once(w, member, "rate_session", session_id=session.id)
        assert w.stored(coach, "rate_session") == []
        completed = {n.session_id for n in w.stored(member, "session_completed")}
        assert completed == {session.id}, "sessions still scheduled were announced as completed"
        assert all(other.id not in completed for other in others)


# Feature: coaching-platform, Property 50: Member Assignment Notification
@given(
    via=st.sampled_from(["signup", "assign", "reassign"]),
    bystanders=st.integers(0, 2),
    spec=user_specs(),
    tz=timezones(),
)
def test_the_coach_is_told_of_each_new_member(
    backend: Any, via: str, bystanders: int, spec: Any, tz: str
) -> None:
    with World(backend) as w:
        coach, previous = w.coach(tz=tz), w.coach()
        for _ in range(bystanders):
            w.member(previous)
        if via == "signup":
            member = w.member(coach, spec=spec)
        elif via == "assign":
            member = w.member(spec=spec)
            w.sys.members.assign_coach(member.id, coach.id)
        else:
            member = w.member(previous, spec=spec)
            w.sys.members.assign_coach(member.id, coach.id)
        note = _exactly_once(w, coach, "member_assigned")
        assert note.recipient_id == coach.id
        assert w.stored(member, "member_assigned") == []
        assert len(w.stored(previous, "member_assigned")) == bystanders + (via == "reassign")
