"""Coaching relationships (issue 8.1): statuses, permissions, the member's overview,
and booking or scheduling with any coach in an active relationship."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from coachcore.domain.relations import RelationshipStatus
from coachcore.errors import BusinessRuleViolation, Conflict, Forbidden, NotFound, ValidationFailed
from world import World

WEDNESDAY = date(2030, 1, 2)


def test_coach_request_member_accepts_then_pause_resume_complete(world: World) -> None:
    coach, member = world.coach(), world.member()
    as_coach = world.core.acting_as(coach.id).relationships
    as_member = world.core.acting_as(member.id).relationships
    rel = as_coach.request(member_id=member.id, coach_id=coach.id)
    assert (rel.status, rel.requested_by, rel.started_at) == ("pending", coach.id, None)
    with pytest.raises(Forbidden):  # the requester does not accept their own request
        as_coach.accept(rel.id)
    active = as_member.accept(rel.id)
    assert active.status == RelationshipStatus.ACTIVE
    assert active.started_at == world.clock.now()
    world.advance(days=1)
    assert as_coach.pause(rel.id).status == "paused"
    assert as_member.resume(rel.id).status == "active"
    done = as_coach.complete(rel.id)
    assert done.status == "completed" and done.ended_at == world.clock.now()
    assert done.started_at == active.started_at
    assert as_member.get(rel.id) == done
    assert world.sys.relationships.get(rel.id) == done


@pytest.mark.parametrize(
    ("path", "bad"),
    [
        ((), "paused"),
        ((), "completed"),
        (("active",), "pending"),
        (("active",), "active"),
        (("active", "completed"), "active"),
        (("active", "completed"), "paused"),
        (("active", "paused"), "pending"),
    ],
)
def test_invalid_moves_are_business_rule_violations(
    world: World, path: tuple[str, ...], bad: str
) -> None:
    coach, member = world.coach(), world.member()
    rel = world.sys.relationships.request(coach_id=coach.id, member_id=member.id)
    for status in path:
        world.sys.relationships.set_status(rel.id, status)
    with pytest.raises(BusinessRuleViolation) as caught:
        world.sys.relationships.set_status(rel.id, bad)
    assert caught.value.status_code == 422
    with pytest.raises(ValidationFailed):
        world.sys.relationships.set_status(rel.id, "sleeping")


def test_one_open_relationship_per_pair_and_several_coaches(world: World) -> None:
    first, second = world.coach(), world.coach()
    member = world.member(first)
    as_member = world.core.acting_as(member.id).relationships
    rel = as_member.request(coach_id=second.id)
    assert rel.member_id == member.id and rel.requested_by == member.id
    with pytest.raises(Conflict):
        world.core.acting_as(second.id).relationships.request(
            coach_id=second.id, member_id=member.id
        )
    world.core.acting_as(second.id).relationships.accept(rel.id)
    third = world.sys.relationships.request(coach_id=first.id, member_id=member.id)
    world.sys.relationships.accept(third.id)
    assert {r.coach_id for r in as_member.list(status="active")} == {first.id, second.id}
    world.sys.relationships.complete(rel.id)  # completed: the pair may start again
    again = as_member.request(coach_id=second.id)
    assert again.status == "pending"


def test_visibility_and_permissions(world: World) -> None:
    coach, other_coach = world.coach(), world.coach()
    member, other_member = world.member(), world.member()
    rel = world.sys.relationships.request(coach_id=coach.id, member_id=member.id)
    with pytest.raises(Forbidden):
        world.core.acting_as(other_coach.id).relationships.get(rel.id)
    with pytest.raises(Forbidden):
        world.core.acting_as(other_member.id).relationships.set_status(rel.id, "active")
    with pytest.raises(Forbidden):  # a coach cannot tie two other people together
        world.core.acting_as(other_coach.id).relationships.request(
            coach_id=coach.id, member_id=other_member.id
        )
    with pytest.raises(Forbidden):
        world.core.acting_as(other_member.id).relationships.overview(member.id)
    assert world.core.acting_as(other_coach.id).relationships.list() == []
    assert [r.id for r in world.core.acting_as(coach.id).relationships.list()] == [rel.id]
    assert [r.id for r in world.sys.relationships.list(member_id=member.id)] == [rel.id]
    with pytest.raises(NotFound):
        world.sys.relationships.get("nope")
    with pytest.raises(NotFound):  # only coaches (with a coach profile) coach
        world.sys.relationships.request(coach_id=other_member.id, member_id=member.id)


def test_overview_unconnected_then_connected(world: World) -> None:
    coach = world.coach(specialization="Running")
    member = world.member()
    as_member = world.core.acting_as(member.id).relationships
    empty = as_member.overview()
    assert (empty.state, empty.coaches) == ("unconnected", ())
    assert "submit_interest" in empty.next_steps
    rel = world.core.acting_as(coach.id).relationships.request(
        coach_id=coach.id, member_id=member.id
    )
    pending = as_member.overview()
    assert pending.state == "unconnected" and "accept_request" in pending.next_steps
    assert [p.id for p in pending.pending] == [rel.id]
    as_member.accept(rel.id)
    connected = as_member.overview()
    assert connected.state == "connected" and connected.next_steps[0] == "book_session"
    (link,) = connected.coaches
    assert link.coach.id == coach.id and link.profile.specialization == "Running"
    assert link.relationship is not None and link.relationship.id == rel.id
    assert not link.is_primary
    world.sys.relationships.complete(rel.id)
    assert as_member.overview().state == "unconnected"


def test_overview_lists_the_primary_coach_first(world: World) -> None:
    primary, extra = world.coach(), world.coach()
    member = world.member(primary)
    rel = world.sys.relationships.request(coach_id=extra.id, member_id=member.id)
    world.sys.relationships.accept(rel.id)
    view = world.sys.relationships.overview(member.id)
    assert [(c.coach.id, c.is_primary) for c in view.coaches] == [
        (primary.id, True),
        (extra.id, False),
    ]


def test_booking_and_scheduling_accept_an_active_relationship(world: World) -> None:
    primary, extra = world.coach(), world.coach()
    member = world.member(primary)
    world.window(extra, 3, "09:00", "12:00")
    start = datetime(2030, 1, 2, 9, tzinfo=UTC)
    with pytest.raises(Forbidden):
        world.book(member, extra, start)
    with pytest.raises(Forbidden):
        world.core.acting_as(extra.id).sessions.create(
            member_id=member.id,
            coach_id=extra.id,
            scheduled_at=start,
            duration=30,
            override=True,
            override_reason="set up by the test",
        )
    rel = world.core.acting_as(member.id).relationships.request(coach_id=extra.id)
    with pytest.raises(Forbidden):  # pending is not enough
        world.book(member, extra, start)
    world.core.acting_as(extra.id).relationships.accept(rel.id)
    booking = world.book(member, extra, start)
    assert booking.status == "confirmed"
    session = world.core.acting_as(extra.id).sessions.create(
        member_id=member.id,
        coach_id=extra.id,
        scheduled_at=datetime(2030, 1, 3, 15, tzinfo=UTC),
        duration=30,
        override=True,
        override_reason="set up by the test",
    )
    assert session.coach_id == extra.id
    world.core.acting_as(extra.id).relationships.pause(rel.id)
    with pytest.raises(Forbidden):  # paused is not active
        world.book(member, extra, datetime(2030, 1, 2, 10, tzinfo=UTC))
    # the primary coach still works as before
    world.window(primary, 3, "13:00", "15:00")
    assert world.book(member, primary, datetime(2030, 1, 2, 13, tzinfo=UTC)).status == "confirmed"


def test_a_coach_lists_the_members_of_their_active_relationships(world: World) -> None:
    primary, extra = world.coach(), world.coach()
    own = world.member(extra)
    world.clock.set(world.clock.now() + timedelta(minutes=1))
    member = world.member(primary)
    world.member(primary)  # someone else's member stays out
    as_extra = world.core.acting_as(extra.id)
    assert [p.user_id for p in as_extra.members.list()] == [own.id]
    rel = world.sys.relationships.request(coach_id=extra.id, member_id=member.id)
    assert [p.user_id for p in as_extra.members.list()] == [own.id]  # pending: not yet
    world.sys.relationships.accept(rel.id)
    listed = as_extra.members.list()
    assert [p.user_id for p in listed] == [own.id, member.id]  # by joined_at
    assert [p.user_id for p in as_extra.members.list(search=member.email)] == [member.id]
    world.sys.relationships.pause(rel.id)
    assert [p.user_id for p in as_extra.members.list()] == [own.id]


def test_the_addressee_declines_with_a_reason_and_the_requester_is_told(world: World) -> None:
    coach, member = world.coach(), world.member()
    as_member = world.core.acting_as(member.id).relationships
    as_coach = world.core.acting_as(coach.id).relationships
    rel = as_member.request(coach_id=coach.id)
    with pytest.raises(Forbidden):  # the requester withdraws, never declines
        as_member.decline(rel.id)
    with pytest.raises(Forbidden):  # and the addressee declines, never withdraws
        as_coach.withdraw(rel.id)
    with pytest.raises(ValidationFailed):
        as_coach.decline(rel.id, reason="x" * 1001)
    world.advance(days=1)
    declined = as_coach.decline(rel.id, reason="My calendar is full")
    assert (declined.status, declined.decline_reason) == ("declined", "My calendar is full")
    assert declined.ended_at == world.clock.now() and declined.started_at is None
    assert world.sys.relationships.get(rel.id) == declined
    world.sys.outbox.dispatch()
    told = [n for n in world.sys.notifications.list(member.id) if n.kind == "relationship_declined"]
    assert len(told) == 1 and "My calendar is full" in told[0].body
    sent = [n for n in world.core.notifier.sent if n.kind == "relationship_declined"]  # type: ignore[attr-defined]
    assert [n.recipient_id for n in sent] == [member.id]
    assert not [n for n in world.sys.notifications.list(coach.id) if n.kind.startswith("relat")]
    moves = [
        (e.action, e.actor_id, e.details.get("old"), e.details.get("new"))
        for e in world.sys.audit.list(entity_type="relationship", entity_id=rel.id)
    ]
    assert ("relationship.status_changed", coach.id, "pending", "declined") in moves
    for move in (as_coach.accept, as_member.withdraw, as_coach.decline):  # declined is final
        with pytest.raises((BusinessRuleViolation, Forbidden)):
            move(rel.id)
    with pytest.raises(BusinessRuleViolation):
        world.sys.relationships.set_status(rel.id, "active")
    # no longer blocking: the pair may ask again, and this time it works out
    again = as_member.request(coach_id=coach.id)
    assert again.status == "pending" and again.id != rel.id
    assert as_coach.accept(again.id).status == "active"


def test_the_requester_withdraws_and_the_addressee_is_told(world: World) -> None:
    coach, member, stranger = world.coach(), world.member(), world.member()
    as_coach = world.core.acting_as(coach.id).relationships
    rel = as_coach.request(coach_id=coach.id, member_id=member.id)
    with pytest.raises(Forbidden):
        world.core.acting_as(stranger.id).relationships.withdraw(rel.id)
    with pytest.raises(Forbidden):
        world.core.acting_as(member.id).relationships.withdraw(rel.id)
    withdrawn = as_coach.withdraw(rel.id)
    assert (withdrawn.status, withdrawn.decline_reason) == ("withdrawn", None)
    world.sys.outbox.dispatch()
    told = world.sys.notifications.list(member.id)
    assert [n.kind for n in told if n.kind.startswith("relationship")] == ["relationship_withdrawn"]
    with pytest.raises(BusinessRuleViolation):
        world.core.acting_as(member.id).relationships.accept(rel.id)
    assert world.core.acting_as(member.id).relationships.overview().pending == ()
    assert as_coach.request(coach_id=coach.id, member_id=member.id).status == "pending"


def test_only_a_pending_request_is_declined_or_withdrawn(world: World) -> None:
    coach, member = world.coach(), world.member()
    rel = world.core.acting_as(member.id).relationships.request(coach_id=coach.id)
    world.core.acting_as(coach.id).relationships.accept(rel.id)
    with pytest.raises(BusinessRuleViolation) as caught:
        world.core.acting_as(coach.id).relationships.decline(rel.id)
    assert caught.value.details == {"from": "active", "to": "declined"}
    with pytest.raises(BusinessRuleViolation):
        world.core.acting_as(member.id).relationships.withdraw(rel.id)
    assert world.sys.relationships.get(rel.id).status == "active"


def test_an_admin_ends_a_request_for_either_side_and_both_are_told(world: World) -> None:
    coach, member, admin = world.coach(), world.member(), world.admin()
    as_admin = world.core.acting_as(admin.id).relationships
    first = world.core.acting_as(member.id).relationships.request(coach_id=coach.id)
    as_admin.decline(first.id, reason="Coach is leaving")
    second = world.core.acting_as(member.id).relationships.request(coach_id=coach.id)
    assert as_admin.withdraw(second.id).status == "withdrawn"
    world.sys.outbox.dispatch()
    kinds = {
        who.id: sorted(
            n.kind for n in world.sys.notifications.list(who.id) if n.kind.startswith("relat")
        )
        for who in (coach, member)
    }
    assert kinds == {
        coach.id: ["relationship_declined", "relationship_withdrawn"],
        member.id: ["relationship_declined", "relationship_withdrawn"],
    }
