"""IcsCalendar: per-person iCalendar feeds, parsed back with icalendar."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta
from typing import Any

import attrs
import pytest

import coachcore
from backends import T0
from coachcore.adapters.clock import FixedClock
from world import World

icalendar = pytest.importorskip("icalendar")
from coachcore.adapters.ical import IcsCalendar  # noqa: E402

MONDAY = date(2030, 1, 7)


@pytest.fixture
def world() -> World:
    clock = FixedClock(T0)
    return World(coachcore.open("memory://", clock=clock, calendar=IcsCalendar(clock=clock)), clock)


def _calendar(world: World) -> IcsCalendar:
    calendar = world.core.calendar
    assert isinstance(calendar, IcsCalendar)
    return calendar


def _vevents(world: World, user_id: str) -> list[Any]:
    feed = _calendar(world).feed_for(user_id)
    parsed = icalendar.Calendar.from_ical(feed)
    assert parsed["VERSION"] == "2.0" and "PRODID" in parsed
    return list(parsed.walk("VEVENT"))


def _book(world: World, tz: str = "UTC") -> tuple[Any, Any, Any]:
    coach = world.coach(tz)
    member = world.member(coach)
    world.window(coach, 1, "09:00", "12:00")
    booking = world.book(member, coach, world.slots(member, coach, MONDAY)[0].start)
    session = world.core.acting_as(member.id).sessions.get(booking.session_id)
    return coach, member, session


def test_booking_appears_in_coach_and_member_feeds(world: World) -> None:
    coach, member, session = _book(world)
    for person in (coach, member):
        (event,) = _vevents(world, person.id)
        assert str(event["UID"]) == f"{session.id}@coachcore"
        assert int(event["SEQUENCE"]) == 0 and str(event["STATUS"]) == "CONFIRMED"
        assert event.decoded("DTSTART") == session.scheduled_at
        assert event.decoded("DTEND") == session.ends_at
        assert str(event["SUMMARY"]) == f"Coaching session: {coach.name} & {member.name}"
        assert list(event["CATEGORIES"].cats) == ["Coaching Session"]
        assert str(event["URL"]) == f"coachcore://sessions/{session.id}"
        assert session.id in str(event["DESCRIPTION"])
        assert event.decoded("DTSTAMP") == T0
    assert _vevents(world, world.member().id) == []  # an outsider sees nothing


def test_times_are_written_in_utc_for_a_berlin_coach(world: World) -> None:
    coach, _, session = _book(world, tz="Europe/Berlin")
    feed = _calendar(world).feed_for(coach.id).decode()
    (event,) = _vevents(world, coach.id)
    start = event.decoded("DTSTART")
    assert start.utcoffset() == timedelta(0) and start == datetime(2030, 1, 7, 8, tzinfo=UTC)
    assert "DTSTART:20300107T080000Z" in feed and "TZID" not in feed
    assert session.scheduled_at == start


def test_reschedule_keeps_uid_and_raises_sequence(world: World) -> None:
    coach, member, session = _book(world)
    sessions = world.core.acting_as(coach.id).sessions
    later = session.scheduled_at + timedelta(days=7, hours=1)
    sessions.update(
        session.id,
        scheduled_at=later,
        duration=45,
        override=True,
        override_reason="set up by the test",
    )
    (event,) = _vevents(world, member.id)
    assert str(event["UID"]) == f"{session.id}@coachcore"
    assert int(event["SEQUENCE"]) == 1
    assert event.decoded("DTSTART") == later
    assert event.decoded("DTEND") == later + timedelta(minutes=45)


def test_cancel_marks_the_event_cancelled_with_a_higher_sequence(world: World) -> None:
    coach, member, session = _book(world)
    sessions = world.core.acting_as(coach.id).sessions
    sessions.update(
        session.id,
        scheduled_at=session.scheduled_at + timedelta(hours=1),
        override=True,
        override_reason="set up by the test",
    )
    world.advance(minutes=5)
    sessions.cancel(session.id, reason="Coach is ill")
    for person in (coach, member):
        (event,) = _vevents(world, person.id)
        assert str(event["STATUS"]) == "CANCELLED"
        assert int(event["SEQUENCE"]) == 2
        assert event.decoded("DTSTAMP") == T0 + timedelta(minutes=5)
    assert world.sys.outbox.pending() == []


def _event(**changes: Any) -> coachcore.CalendarEvent:
    base = coachcore.CalendarEvent(
        id="ev-1",
        session_id="s-1",
        title="Session",
        creator_id="coach",
        attendee_ids=("member",),
        start=T0,
        end=T0 + timedelta(hours=1),
    )
    return attrs.evolve(base, **changes)


def test_repeated_and_stale_deliveries_change_nothing() -> None:
    calendar = IcsCalendar(clock=FixedClock(T0))
    newer = _event(sequence=1, start=T0 + timedelta(days=1), end=T0 + timedelta(days=1, hours=1))
    calendar.upsert_event(_event())
    calendar.upsert_event(newer)
    calendar.upsert_event(_event())  # a late retry of the first version
    calendar.upsert_event(newer)
    assert calendar.event("ev-1") == newer
    calendar.cancel_event("ev-1")
    calendar.cancel_event("ev-1")
    cancelled = calendar.event("ev-1")
    assert cancelled is not None and cancelled.status == "cancelled" and cancelled.sequence == 2
    calendar.upsert_event(newer)  # a retry after the cancel does not revive it
    assert calendar.event("ev-1") == cancelled
    calendar.cancel_event("unknown")  # ignored


def test_cancel_arriving_before_its_event_is_remembered() -> None:
    calendar = IcsCalendar(clock=FixedClock(T0))
    calendar.cancel_event("ev-1")
    calendar.upsert_event(_event())
    (event,) = icalendar.Calendar.from_ical(calendar.feed_for("member")).walk("VEVENT")
    assert str(event["STATUS"]) == "CANCELLED" and int(event["SEQUENCE"]) == 1


def test_concurrent_upserts_keep_one_event_per_id() -> None:
    calendar = IcsCalendar(clock=FixedClock(T0))
    events = [_event(id=f"ev-{i % 20}", session_id=f"s-{i % 20}") for i in range(400)]

    def work(chunk: list[coachcore.CalendarEvent]) -> None:
        for n, event in enumerate(chunk):
            calendar.upsert_event(event)
            if n % 25 == 0:
                calendar.feed_for("coach")  # reading while others write

    threads = [threading.Thread(target=work, args=(events[i::4],)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    parsed = icalendar.Calendar.from_ical(calendar.feed_for("coach"))
    uids = [str(e["UID"]) for e in parsed.walk("VEVENT")]
    assert sorted(uids) == sorted(f"s-{i}@coachcore" for i in range(20))
