"""Roles change through ``users.change_role`` and take effect on the next call;
what happens to profiles, members, sessions and requests (docs/guides/roles.md)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from coachcore.domain.rules import WaitlistStatus
from coachcore.errors import BusinessRuleViolation, Forbidden, NotFound, ValidationFailed
from world import World


def _session(world: World, coach: object, member: object) -> object:
    return world.core.acting_as(coach.id).sessions.create(  # type: ignore[attr-defined]
        member_id=member.id,  # type: ignore[attr-defined]
        coach_id=coach.id,  # type: ignore[attr-defined]
        scheduled_at=world.clock.now() + timedelta(days=2),
        duration=30,
        override=True,
        override_reason="set up by the test",
    )


def test_a_member_promoted_to_admin_acts_as_admin_on_the_next_call(world: World) -> None:
    admin, member = world.admin(), world.member()
    as_member = world.core.acting_as(member.id)
    with pytest.raises(Forbidden):
        as_member.users.list()
    promoted = world.core.acting_as(admin.id).users.change_role(member.id, "admin")
    assert promoted.role == "admin" and world.sys.users.get(member.id).role == "admin"
    assert {u.id for u in as_member.users.list()} >= {admin.id, member.id}  # same scope object
    entries = world.sys.audit.list(entity_type="user", entity_id=member.id)
    (entry,) = [e for e in entries if e.action == "user.role_changed"]
    assert entry.actor_id == admin.id
    assert (entry.details["old"], entry.details["new"]) == ("member", "admin")
    # and back: demoted, the access is gone at once, the member profile is still there
    world.core.acting_as(admin.id).users.change_role(member.id, "member")
    with pytest.raises(Forbidden):
        as_member.users.list()
    assert world.sys.members.get(member.id).user_id == member.id


def test_only_an_identity_holder_changes_roles_and_never_their_own(world: World) -> None:
    admin, coach, member = world.admin(), world.coach(), world.member()
    with pytest.raises(Forbidden):
        world.core.acting_as(admin.id).users.change_role(admin.id, "member")
    with pytest.raises(Forbidden):
        world.core.acting_as(coach.id).users.change_role(member.id, "coach")
    with pytest.raises(ValidationFailed):
        world.sys.users.change_role(member.id, "wizard")
    with pytest.raises(NotFound):
        world.sys.users.change_role("nobody", "coach")
    same = world.sys.users.change_role(member.id, "member")  # no change
    assert same == world.sys.users.get(member.id)
    entries = world.sys.audit.list(entity_type="user", entity_id=member.id)
    assert [e for e in entries if e.action == "user.role_changed"] == []


def test_a_coach_who_still_coaches_cannot_be_demoted(world: World) -> None:
    coach, successor = world.coach(), world.coach()
    own = world.member(coach)
    related = world.member()
    rel = world.sys.relationships.request(coach_id=coach.id, member_id=related.id)
    world.sys.relationships.accept(rel.id)
    session = _session(world, coach, related)

    def refused() -> dict[str, object]:
        with pytest.raises(BusinessRuleViolation) as caught:
            world.sys.users.change_role(coach.id, "member")
        assert caught.value.status_code == 422
        return caught.value.details  # type: ignore[no-any-return]

    details = refused()
    assert details["member_ids"] == [own.id]
    assert details["relationship_ids"] == [rel.id]
    assert details["session_ids"] == [session.id]  # type: ignore[attr-defined]
    world.sys.members.assign_coach(own.id, successor.id)
    world.sys.relationships.pause(rel.id)  # paused still counts
    assert refused()["relationship_ids"] == [rel.id]
    world.sys.relationships.complete(rel.id)
    assert refused() == {"user_id": coach.id, "member_ids": [], "relationship_ids": [],
                         "session_ids": [session.id]}  # type: ignore[attr-defined]  # fmt: skip
    world.core.acting_as(coach.id).sessions.cancel(session.id, reason="handing over")  # type: ignore[attr-defined]
    assert world.sys.users.get(coach.id).role == "coach"  # nothing changed meanwhile
    assert world.sys.users.change_role(coach.id, "member").role == "member"


def test_a_demoted_coach_loses_coach_access_and_their_requests_end(world: World) -> None:
    coach, admin = world.coach(), world.admin()
    asked_by_member, asked_by_coach = world.member(), world.member()
    incoming = world.core.acting_as(asked_by_member.id).relationships.request(coach_id=coach.id)
    outgoing = world.core.acting_as(coach.id).relationships.request(
        coach_id=coach.id, member_id=asked_by_coach.id
    )
    as_coach = world.core.acting_as(coach.id)
    as_coach.availability.create(day_of_week=3, start_time="09:00", end_time="10:00")
    profile = world.sys.coaches.get(coach.id)
    world.core.acting_as(admin.id).users.change_role(coach.id, "member")
    with pytest.raises(Forbidden):  # at once, through the scope made before
        as_coach.availability.create(day_of_week=4, start_time="09:00", end_time="10:00")
    assert world.sys.relationships.get(incoming.id).status == "declined"
    assert world.sys.relationships.get(outgoing.id).status == "withdrawn"
    world.sys.outbox.dispatch()
    told = {
        who.id: [n.kind for n in world.sys.notifications.list(who.id) if n.kind.startswith("rel")]
        for who in (asked_by_member, asked_by_coach)
    }
    assert told == {
        asked_by_member.id: ["relationship_declined"],
        asked_by_coach.id: ["relationship_withdrawn"],
    }
    kept = world.sys.coaches.get(coach.id)  # the profile stays, closed to new members
    assert kept.id == profile.id and not kept.is_accepting_members
    assert coach.id not in {c.user_id for c in world.sys.coaches.list_accepting()}
    newcomer = world.member()
    with pytest.raises(BusinessRuleViolation):  # nobody links up with a former coach
        world.sys.relationships.request(coach_id=coach.id, member_id=newcomer.id)
    world.sys.coaches.update(coach.id, is_accepting_members=True)
    with pytest.raises(BusinessRuleViolation):
        world.sys.members.assign_coach(newcomer.id, coach.id)
    assert world.sys.members.get(coach.id).coach_id is None  # a member now, uncoached
    # back to coach: the same profile, and coaching works again
    world.sys.users.change_role(coach.id, "coach")
    assert world.sys.coaches.get(coach.id).id == profile.id
    assert world.sys.members.assign_coach(newcomer.id, coach.id).coach_id == coach.id


def test_a_member_who_leaves_the_member_role_is_released_from_coaching(world: World) -> None:
    coach, other = world.coach(), world.coach()
    member = world.member(coach)
    world.sys.members.update(member.id, coach_notes="private to the first coach")
    rel = world.core.acting_as(member.id).relationships.request(coach_id=other.id)
    world.core.acting_as(other.id).relationships.accept(rel.id)
    third = world.coach()
    pending = world.core.acting_as(third.id).relationships.request(
        coach_id=third.id, member_id=member.id
    )
    session = _session(world, coach, member)
    with pytest.raises(BusinessRuleViolation) as caught:
        world.sys.users.change_role(member.id, "coach")
    assert caught.value.details["session_ids"] == [session.id]  # type: ignore[attr-defined]
    assert world.sys.relationships.get(rel.id).status == "active"  # the refusal changed nothing
    world.core.acting_as(coach.id).sessions.cancel(session.id, reason="promotion")  # type: ignore[attr-defined]
    promoted = world.sys.users.change_role(member.id, "coach")
    assert promoted.role == "coach"
    assert world.sys.coaches.get(member.id).user_id == member.id  # a coach profile now
    profile = world.sys.members.get(member.id)
    assert (profile.coach_id, profile.coach_notes) == (None, None)
    notes = world.core.acting_as(coach.id).quick_notes.list(member_id=member.id)
    assert [n.body for n in notes] == ["private to the first coach"]  # kept by their coach
    assert world.sys.relationships.get(rel.id).status == "completed"
    assert world.sys.relationships.get(pending.id).status == "declined"
    assert member.id not in {p.user_id for p in world.core.acting_as(coach.id).members.list()}
    as_new_coach = world.core.acting_as(member.id)
    window = as_new_coach.availability.create(day_of_week=3, start_time="09:00", end_time="10:00")
    assert window.coach_id == member.id  # coach things on the very next call


def test_not_even_an_admin_books_or_schedules_with_a_former_coach(world: World) -> None:
    coach, admin = world.coach(), world.admin()
    member = world.member()
    world.window(coach, 3, "09:00", "12:00")
    world.sys.users.change_role(coach.id, "member")
    as_admin = world.core.acting_as(admin.id)
    start = datetime(2030, 1, 2, 9, tzinfo=UTC)
    with pytest.raises(BusinessRuleViolation, match="does not coach"):
        as_admin.sessions.create(
            member_id=member.id,
            coach_id=coach.id,
            scheduled_at=start,
            duration=30,
            override=True,
            override_reason="trying",
        )
    with pytest.raises(BusinessRuleViolation, match="does not coach"):
        as_admin.bookings.create(member_id=member.id, coach_id=coach.id, start=start, duration=60)
    assert world.sys.sessions.list(coach_id=coach.id) == []


def test_a_member_who_leaves_the_member_role_leaves_the_waitlists(world: World) -> None:
    """Open entries end as when the member leaves the queue: left, and a seat
    held for them is offered to the next member waiting (who is told)."""
    nine = datetime(2030, 1, 7, 9, tzinfo=UTC)
    coach = world.coach()
    world.window(coach, 1, "09:00", "11:00", max_sessions_per_slot=1, buffer_minutes=0)
    world.core.acting_as(coach.id).scheduling.set_rules(waitlist_hold_minutes=30)
    first, leaver, next_one = world.member(coach), world.member(coach), world.member(coach)
    taken = [world.book(first, coach, nine + timedelta(hours=h)) for h in (0, 1)]
    queues = {}
    for who, start in ((leaver, nine), (next_one, nine), (leaver, nine + timedelta(hours=1))):
        world.advance(seconds=1)
        entry = world.core.acting_as(who.id).waitlist.join(coach_id=coach.id, start=start)
        queues[who.id, start] = entry.id
    world.core.acting_as(first.id).bookings.cancel(taken[0].id)  # the seat is held for leaver

    def statuses() -> dict[str, WaitlistStatus]:
        return {e.id: e.status for e in world.sys.waitlist.list()}

    assert statuses()[queues[leaver.id, nine]] == WaitlistStatus.OFFERED
    world.sys.users.change_role(leaver.id, "admin")
    world.sys.outbox.dispatch()

    now = statuses()
    mine = [queues[leaver.id, nine], queues[leaver.id, nine + timedelta(hours=1)]]
    assert [now[i] for i in mine] == [WaitlistStatus.LEFT, WaitlistStatus.LEFT]
    assert now[queues[next_one.id, nine]] == WaitlistStatus.OFFERED  # the seat passed on
    offered = world.core.notifier.kinds_for(next_one.id)  # type: ignore[attr-defined]
    assert offered.count("waitlist_offer") == 1
    entries = world.sys.audit.list(entity_type="user", entity_id=leaver.id)
    (changed,) = [e for e in entries if e.action == "user.role_changed"]
    assert sorted(changed.details["waitlist_left"]) == sorted(mine)
    with pytest.raises(BusinessRuleViolation):  # as after leaving the queue
        world.core.acting_as(coach.id).waitlist.leave(mine[0])


def test_no_one_puts_a_former_member_on_a_waitlist(world: World) -> None:
    """A former member keeps a profile; joining a queue for them is refused as
    booking for them is (even by an admin), and nothing is queued."""
    nine = datetime(2030, 1, 7, 9, tzinfo=UTC)
    coach, admin = world.coach(), world.admin()
    world.window(coach, 1, "09:00", "10:00", max_sessions_per_slot=1, buffer_minutes=0)
    world.core.acting_as(coach.id).scheduling.set_rules(waitlist_hold_minutes=30)
    world.book(world.member(coach), coach, nine)
    former = world.member(coach)
    world.sys.users.change_role(former.id, "admin")
    with pytest.raises(BusinessRuleViolation, match="not coached"):
        world.core.acting_as(admin.id).waitlist.join(
            coach_id=coach.id, start=nine, member_id=former.id
        )
    assert [e for e in world.sys.waitlist.list() if e.member_id == former.id] == []
