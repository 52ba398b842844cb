"""Coaching interest (issue 8.3): members without a coach submit, admins list,
filter and handle, nobody else sees the submissions."""

from __future__ import annotations

from datetime import timedelta

import pytest

from coachcore.errors import BusinessRuleViolation, Conflict, Forbidden, NotFound, ValidationFailed
from world import World


def test_member_without_coach_submits_and_admin_handles(world: World) -> None:
    member = world.member()
    admin = world.admin()
    mine = world.core.acting_as(member.id)
    assert mine.relationships.overview().next_steps == ("submit_interest",)
    sent = mine.interest.submit(
        goals="Run a marathon", preferred_times="weekday mornings", notes="knee injury in 2029"
    )
    assert (sent.member_id, sent.status, sent.goals) == (member.id, "new", "Run a marathon")
    assert mine.relationships.overview().next_steps == ("await_admin",)
    with pytest.raises(Conflict):
        mine.interest.submit(goals="again")
    as_admin = world.core.acting_as(admin.id).interest
    assert as_admin.list() == [sent]
    assert as_admin.get(sent.id) == sent
    world.advance(hours=2)
    handled = as_admin.mark_handled(sent.id, note="matched with Cleo")
    assert (handled.status, handled.handled_by, handled.handling_note) == (
        "handled",
        admin.id,
        "matched with Cleo",
    )
    assert handled.handled_at == world.clock.now()
    with pytest.raises(BusinessRuleViolation):
        as_admin.mark_handled(sent.id)
    assert mine.relationships.overview().next_steps == ("submit_interest",)
    again = mine.interest.submit(goals="Still looking")
    assert [i.id for i in as_admin.list(status="new")] == [again.id]
    assert [i.id for i in as_admin.list(status="handled")] == [sent.id]


def test_members_with_a_coach_cannot_submit(world: World) -> None:
    coach = world.coach()
    primary = world.member(coach)
    with pytest.raises(BusinessRuleViolation):
        world.core.acting_as(primary.id).interest.submit(goals="x")
    related = world.member()
    rel = world.sys.relationships.request(coach_id=coach.id, member_id=related.id)
    world.core.acting_as(related.id).interest.submit(goals="pending is not a coach")
    world.sys.relationships.accept(rel.id)
    world.sys.interest.mark_handled(world.sys.interest.list()[0].id)
    with pytest.raises(BusinessRuleViolation):
        world.core.acting_as(related.id).interest.submit(goals="y")


def test_nobody_but_admins_sees_submissions(world: World) -> None:
    coach = world.coach()
    member, other = world.member(), world.member()
    sent = world.core.acting_as(member.id).interest.submit(goals="g")
    for who in (coach, member, other):
        scope = world.core.acting_as(who.id).interest
        with pytest.raises(Forbidden):
            scope.list()
        with pytest.raises(Forbidden):
            scope.get(sent.id)
        with pytest.raises(Forbidden):
            scope.mark_handled(sent.id)
    with pytest.raises(Forbidden):  # coaches do not submit interest
        world.core.acting_as(coach.id).interest.submit(goals="g")
    with pytest.raises(NotFound):
        world.sys.interest.get("missing")


def test_admin_filters(world: World) -> None:
    a, b, c = world.member(), world.member(), world.member()
    first = world.core.acting_as(a.id).interest.submit(goals="Lose weight", notes="evenings")
    world.advance(days=1)
    second = world.core.acting_as(b.id).interest.submit(goals="Sleep better")
    world.advance(days=1)
    third = world.core.acting_as(c.id).interest.submit(goals="Run", preferred_times="Evenings")
    scope = world.sys.interest
    assert [i.id for i in scope.list()] == [first.id, second.id, third.id]
    assert [i.id for i in scope.list(member_id=b.id)] == [second.id]
    assert [i.id for i in scope.list(search="EVENINGS")] == [first.id, third.id]
    assert [i.id for i in scope.list(submitted_after=second.created_at)] == [second.id, third.id]
    assert [i.id for i in scope.list(submitted_before=second.created_at)] == [first.id]
    assert [i.id for i in scope.list(offset=1, limit=1)] == [second.id]
    with pytest.raises(ValidationFailed):
        scope.list(submitted_after=second.created_at.replace(tzinfo=None))
    with pytest.raises(ValidationFailed):
        scope.list(status="lost")
    with pytest.raises(ValidationFailed):
        world.core.acting_as(a.id).interest.submit(goals="  ")
    assert world.clock.now() - first.created_at == timedelta(days=2)
