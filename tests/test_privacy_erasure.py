"""Erasure of a member: anonymised, future sessions cancelled, averages kept, idempotent."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

import coachcore
from backends import Backend, SqlBackend
from coachcore import SessionStatus
from coachcore.adapters.clock import FixedClock
from coachcore.domain.enums import OutboxChannel, OutboxStatus
from coachcore.errors import Forbidden, NotFound
from privacy_kit import KEY_A, open_with_keys, raw_text
from world import World

NINE = datetime(2030, 1, 7, 9, tzinfo=UTC)  # a Monday


def _history(w: World) -> dict[str, str]:
    coach = w.coach()
    w.window(coach, 1, "09:00", "12:00")
    w.core.acting_as(coach.id).scheduling.set_rules(waitlist_hold_minutes=30)
    member = w.member(coach)
    other = w.member(coach)
    as_member, as_coach = w.core.acting_as(member.id), w.core.acting_as(coach.id)
    as_member.members.update(member.id, goals="Zebra goals", health_info="Zebra health")
    as_coach.members.update(member.id, coach_notes="Zebra profile note")
    past = as_member.bookings.create(coach_id=coach.id, start=NINE, member_notes="Zebra booking")
    future = as_member.bookings.create(coach_id=coach.id, start=NINE + timedelta(days=7))
    taken = w.core.acting_as(other.id).bookings.create(
        coach_id=coach.id, start=NINE + timedelta(days=14)
    )
    entry = as_member.waitlist.join(coach_id=coach.id, start=taken.start, duration=60)
    w.clock.set(NINE + timedelta(hours=1))
    as_member.sessions.add_member_notes(str(past.session_id), "Zebra member note")
    as_coach.sessions.complete(str(past.session_id), coach_notes="Zebra coach", outcomes="Zebra")
    as_member.sessions.rate(str(past.session_id), rating=4, feedback="Zebra feedback")
    return {
        "coach": coach.id,
        "member": member.id,
        "name": member.name,
        "email": member.email,
        "past": str(past.session_id),
        "future": str(future.session_id),
        "entry": entry.id,
    }


def test_an_admin_erases_a_member(world: World) -> None:
    w = world
    h = _history(w)
    admin = w.admin()
    before = w.sys.coaches.get(h["coach"])
    assert (before.average_rating, before.rating_count) == (4.0, 1)

    erased = w.core.acting_as(admin.id).privacy.erase(h["member"])

    assert erased.name == "Erased member"
    assert erased.email == f"erased-{h['member']}@erased.invalid"
    assert not erased.is_active and erased.erased_at == w.clock.now()
    profile = w.sys.members.get(h["member"])
    assert (profile.goals, profile.health_info, profile.coach_notes, profile.coach_id) == (
        None,
        None,
        None,
        None,
    )
    future = w.sys.sessions.get(h["future"])
    assert future.status == SessionStatus.CANCELLED
    past = w.sys.sessions.get(h["past"])
    assert past.status == SessionStatus.COMPLETED and past.rating == 4
    assert (past.coach_notes, past.member_notes, past.outcomes, past.rating_feedback) == (
        None,
        None,
        None,
        None,
    )
    after = w.sys.coaches.get(h["coach"])  # the coach's average and count survive
    assert (after.average_rating, after.rating_count) == (4.0, 1)
    assert after.current_member_count == before.current_member_count - 1
    assert "session_cancelled" in w.core.notifier.kinds_for(h["coach"])  # type: ignore[attr-defined]
    assert all(e.status != "waiting" for e in w.sys.waitlist.list() if e.id == h["entry"])

    doc = json.dumps(w.sys.privacy.export(h["member"]))
    for personal in ("Zebra", h["name"], h["email"]):
        assert personal not in doc
    coach_inbox = json.dumps(coachcore.to_dict(w.sys.notifications.list(h["coach"])))
    assert h["name"] not in coach_inbox
    with w.core.store.unit_of_work(write=False) as uow:
        event = uow.calendar_events.get(past.calendar_event_id)
        assert event is not None and h["name"] not in event.title

    # the adapters were told to forget the person
    calendar, messaging, notifier = w.core.calendar, w.core.messaging, w.core.notifier
    assert ("erase", h["member"]) in calendar.calls  # type: ignore[attr-defined]
    assert calendar.for_session(h["past"]) == []  # type: ignore[attr-defined]
    assert h["member"] in messaging.erased  # type: ignore[attr-defined]
    assert notifier.kinds_for(h["member"]) == []  # type: ignore[attr-defined]
    assert w.sys.outbox.pending() == []

    with pytest.raises(Forbidden):  # an erased member can no longer act
        w.core.acting_as(h["member"]).sessions.list()


def test_erasure_is_idempotent(world: World) -> None:
    h = _history(world)
    first = world.sys.privacy.erase(h["member"])
    calls = list(world.core.calendar.calls)  # type: ignore[attr-defined]
    with world.core.store.unit_of_work(write=False) as uow:
        queued = len(uow.outbox.list(status=OutboxStatus.PENDING)) + len(
            uow.notifications.list(recipient_id=h["coach"])
        )
    world.clock.set(world.clock.now() + timedelta(days=1))
    assert world.sys.privacy.erase(h["member"]) == first
    assert world.core.calendar.calls == calls  # type: ignore[attr-defined]
    with world.core.store.unit_of_work(write=False) as uow:
        assert len(uow.outbox.list(status=OutboxStatus.PENDING)) + len(
            uow.notifications.list(recipient_id=h["coach"])
        ) == (queued)


def test_only_privacy_admins_erase_members(world: World) -> None:
    h = _history(world)
    for actor in (h["member"], h["coach"]):
        with pytest.raises(Forbidden):
            world.core.acting_as(actor).privacy.erase(h["member"])
    with pytest.raises(NotFound):
        world.sys.privacy.erase("nobody")
    with pytest.raises(NotFound):  # coaches are not erased this way
        world.sys.privacy.erase(h["coach"])
    assert world.sys.users.get(h["member"]).erased_at is None


def test_erasure_on_an_encrypted_store_leaves_no_trace(backend: Backend) -> None:
    clock = FixedClock(NINE - timedelta(days=1))
    w = World(open_with_keys(backend, [KEY_A], clock), clock)
    h = _history(w)
    w.sys.privacy.erase(h["member"])
    if isinstance(backend, SqlBackend):
        text = raw_text(backend)
        assert h["email"] not in text
        assert f"{h['name']} " not in text and f"& {h['name']}" not in text


def test_erasure_messages_are_a_no_op_for_adapters_without_erase_person(
    backend: Backend,
) -> None:
    class PlainCalendar:
        def __init__(self) -> None:
            self.cancelled: list[str] = []
            self.upserted: list[object] = []

        def upsert_event(self, event: object) -> None:
            self.upserted.append(event)

        def cancel_event(self, event_id: str) -> None:
            self.cancelled.append(event_id)

    calendar = PlainCalendar()
    clock = FixedClock(NINE - timedelta(days=1))
    w = World(backend.open(clock, calendar=calendar), clock)
    h = _history(w)
    w.sys.privacy.erase(h["member"])
    assert w.sys.outbox.pending() == [] and w.sys.outbox.failed() == []
    assert len(calendar.cancelled) == 1
    with w.core.store.unit_of_work(write=False) as uow:
        channels = {m.channel for m in uow.outbox.list(status=OutboxStatus.PENDING)}
    assert OutboxChannel.CALENDAR_ERASE not in channels


def test_names_with_like_wildcards_quotes_and_accents_are_scrubbed(world: World) -> None:
    coach = world.coach()
    world.window(coach, 1, "09:00", "12:00")
    name = 'Zoë "50%_off" O\'Brien\\x'
    member = world.sys.signup_member(name=name, email="zoe@example.com", coach_id=coach.id)
    world.core.acting_as(member.id).bookings.create(coach_id=coach.id, start=NINE)
    decoy = world.sys.signup_member(name="Zoë 50 off", email="d@example.com", coach_id=coach.id)
    world.sys.privacy.erase(member.id)
    with world.core.store.unit_of_work(write=False) as uow:
        assert uow.outbox.mentioning(name) == []
        assert uow.outbox.mentioning("Zoë 50 off")  # the look-alike is left alone
        assert uow.outbox.mentioning("Erased member")
    assert world.sys.users.get(decoy.id).name == "Zoë 50 off"


def test_erasure_reaches_the_sister_systems_records(backend: Backend) -> None:
    clock = FixedClock(NINE - timedelta(days=1))
    w = World(open_with_keys(backend, [KEY_A], clock), clock)
    coach = w.coach()
    member = w.member(coach)
    as_member, as_coach = w.core.acting_as(member.id), w.core.acting_as(coach.id)
    early = as_coach.invitations.create(email="lou@example.com", message="Zebra early")
    loner = w.sys.signup_member(name="Lou", email="lou@example.com")  # invited before signing up
    document = as_member.documents.upload(
        title="Scan", filename="scan.txt", content=b"Zebra scan", member_id=member.id
    )
    as_coach.quick_notes.create(member_id=member.id, body="Zebra quick note")
    as_member.session_settings.update(shared_context="Zebra context")
    as_coach.action_items.create(member_id=member.id, title="Walk", description="Zebra walk")
    interest = w.core.acting_as(loner.id).interest.submit(goals="Zebra goals", notes="Zebra")
    invited = as_coach.invitations.create(email=member.email, name="Zebra", message="Zebra hi")

    w.sys.privacy.erase(member.id)
    w.sys.privacy.erase(loner.id)

    with pytest.raises(NotFound):
        w.sys.documents.get(document.id)
    assert w.sys.quick_notes.list(member_id=member.id) == []
    assert w.sys.session_settings.get(member.id).shared_context is None
    assert [i.description for i in w.sys.action_items.list(member_id=member.id)] == [None]
    handled = w.sys.interest.get(interest.id)
    assert (handled.goals, handled.notes) == ("", None)
    gone = next(i for i in w.sys.invitations.list() if i.id == invited.invitation.id)
    assert (gone.email, gone.name, gone.message) == (
        f"erased-{member.id}@erased.invalid",
        None,
        None,
    )
    first = next(i for i in w.sys.invitations.list() if i.id == early.invitation.id)
    assert (first.email, first.message) == (f"erased-{loner.id}@erased.invalid", None)
    for erased in (member.id, loner.id):
        text = json.dumps(w.sys.privacy.export(erased))
        assert "Zebra" not in text, text[max(0, text.find("Zebra") - 300) :][:400]
    if isinstance(backend, SqlBackend):
        assert "Zebra" not in raw_text(backend)
        assert member.email not in raw_text(backend)


def test_erasure_blanks_decline_and_override_reasons_and_their_copies(world: World) -> None:
    w = world
    coach, other = w.coach(), w.coach()
    member = w.member(coach)
    as_member, as_other = w.core.acting_as(member.id), w.core.acting_as(other.id)
    as_coach = w.core.acting_as(coach.id)
    asked = as_member.relationships.request(coach_id=other.id)
    as_other.relationships.decline(asked.id, reason="Zebra is full")
    offered = as_other.relationships.request(coach_id=other.id, member_id=member.id)
    as_member.relationships.decline(offered.id, reason="Zebra moves away")
    placed = as_coach.sessions.create(
        member_id=member.id,
        coach_id=coach.id,
        scheduled_at=NINE,
        override=True,
        override_reason="Zebra asked for it",
    )
    as_coach.sessions.update(
        placed.id, scheduled_at=NINE + timedelta(hours=1), override=True, override_reason="Zebra"
    )

    def reasons() -> list[str]:
        entries = w.sys.audit.list(entity_type="session", entity_id=placed.id)
        return sorted(str(e.details["override_reason"]) for e in entries if "override" in e.details)

    told = json.dumps(coachcore.to_dict(w.sys.notifications.list(other.id)))
    assert "Reason: Zebra moves away" in told  # the coach was told why
    assert reasons() == ["Zebra", "Zebra asked for it"]

    w.sys.privacy.erase(member.id)

    assert [r.decline_reason for r in w.sys.relationships.list(member_id=member.id)] == [None] * 2
    assert reasons() == ["[erased]", "[erased]"]
    for reader in (coach.id, other.id):
        assert "Zebra" not in json.dumps(coachcore.to_dict(w.sys.notifications.list(reader)))
    with w.core.store.unit_of_work(write=False) as uow:
        assert uow.outbox.mentioning("Zebra") == []


def test_erasure_unnames_the_members_organization_in_invitations_they_sent(
    world: World,
) -> None:
    member, invitee = world.member(), world.member()
    as_member = world.core.acting_as(member.id)
    firm = as_member.organizations.create(name="Zebra Partners", kind="client_company")
    as_member.organizations.invite(firm.id, invitee.id)
    inbox = world.sys.notifications.list(invitee.id)
    assert [n.title for n in inbox] == [f"{member.name} invites you to join Zebra Partners"]

    world.sys.privacy.erase(member.id)

    text = json.dumps(coachcore.to_dict(world.sys.notifications.list(invitee.id)))
    assert "Zebra" not in text and member.name not in text
    with world.core.store.unit_of_work(write=False) as uow:
        assert uow.outbox.mentioning("Zebra Partners") == []
