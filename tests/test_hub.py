"""The coaching hub (issue 8.6): action plans and items from a session, the overdue
query, quick notes by coaches, scores on sessions and a member's progress."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

import coachcore
from coachcore.errors import BusinessRuleViolation, Forbidden, NotFound, ValidationFailed
from world import World


def _session(
    world: World, coach: coachcore.User, member: coachcore.User, day: int
) -> coachcore.Session:
    return world.core.acting_as(coach.id).sessions.create(
        member_id=member.id,
        coach_id=coach.id,
        scheduled_at=datetime(2030, 1, day, 15, tzinfo=UTC),
        duration=45,
        override=True,
        override_reason="set up by the test",
    )


def test_plan_and_items_from_a_session(world: World) -> None:
    coach = world.coach()
    member = world.member(coach)
    session = _session(world, coach, member, 3)
    as_coach = world.core.acting_as(coach.id)
    plan = as_coach.action_plans.create(session_id=session.id, title="Marathon block")
    assert (plan.member_id, plan.coach_id, plan.session_id) == (member.id, coach.id, session.id)
    item = as_coach.action_items.create(
        plan_id=plan.id, title="Run 3x this week", due_date=date(2030, 1, 7)
    )
    assert (item.owner_id, item.session_id, item.plan_id, item.status) == (
        member.id,
        session.id,
        plan.id,
        "open",
    )
    mine = as_coach.action_items.create(
        session_id=session.id, title="Send training plan", owner_id=coach.id
    )
    assert mine.owner_id == coach.id and mine.due_date is None
    with pytest.raises(ValidationFailed):
        as_coach.action_items.create(session_id=session.id, title="x", owner_id=world.member().id)
    as_member = world.core.acting_as(member.id)
    assert [i.id for i in as_member.action_items.list()] == sorted([item.id, mine.id])
    assert [i.id for i in as_member.action_items.list(plan_id=plan.id)] == [item.id]
    assert [p.id for p in as_member.action_plans.list()] == [plan.id]
    done = as_member.action_items.complete(item.id)
    assert done.status == "done" and done.completed_at == world.clock.now()
    with pytest.raises(BusinessRuleViolation):
        as_member.action_items.complete(item.id)
    reopened = as_coach.action_items.reopen(item.id)
    assert reopened.status == "open" and reopened.completed_at is None
    moved = as_member.action_items.update(item.id, due_date=date(2030, 1, 9), title="Run 4x")
    assert (moved.due_date, moved.title) == (date(2030, 1, 9), "Run 4x")
    with pytest.raises(ValidationFailed):
        as_member.action_items.update(item.id, due_date=datetime(2030, 1, 9, tzinfo=UTC))


def test_overdue_query(world: World) -> None:
    coach = world.coach()
    member, other = world.member(coach), world.member(coach)
    items = world.core.acting_as(coach.id).action_items
    late = items.create(member_id=member.id, title="late", due_date=date(2029, 12, 30))
    later = items.create(member_id=member.id, title="later", due_date=date(2029, 12, 31))
    today = items.create(member_id=member.id, title="today", due_date=date(2030, 1, 1))
    items.create(member_id=member.id, title="no date")
    theirs = items.create(member_id=other.id, title="theirs", due_date=date(2029, 12, 1))
    done = items.create(member_id=member.id, title="done", due_date=date(2029, 12, 1))
    items.complete(done.id)
    assert [i.id for i in items.overdue(member_id=member.id)] == [late.id, later.id]
    assert [i.id for i in items.overdue()] == [theirs.id, late.id, later.id]
    assert [i.id for i in items.overdue(member_id=member.id, as_of=date(2030, 1, 2))] == [
        late.id,
        later.id,
        today.id,
    ]
    assert [i.id for i in world.core.acting_as(member.id).action_items.overdue()] == [
        late.id,
        later.id,
    ]
    world.advance(days=1)
    assert today.id in [i.id for i in world.sys.action_items.overdue()]
    with pytest.raises(Forbidden):
        world.core.acting_as(other.id).action_items.overdue(member_id=member.id)


def test_hub_permissions(world: World) -> None:
    coach, stranger = world.coach(), world.coach()
    member, other = world.member(coach), world.member()
    session = _session(world, coach, member, 3)
    with pytest.raises(Forbidden):
        world.core.acting_as(stranger.id).action_items.create(member_id=member.id, title="x")
    with pytest.raises(Forbidden):
        world.core.acting_as(stranger.id).action_plans.create(session_id=session.id, title="x")
    with pytest.raises(Forbidden):  # members do not create items
        world.core.acting_as(member.id).action_items.create(member_id=member.id, title="x")
    item = world.core.acting_as(coach.id).action_items.create(member_id=member.id, title="x")
    for who in (stranger, other):
        with pytest.raises(Forbidden):
            world.core.acting_as(who.id).action_items.get(item.id)
        with pytest.raises(Forbidden):
            world.core.acting_as(who.id).action_items.complete(item.id)
        with pytest.raises(Forbidden):
            world.core.acting_as(who.id).scores.progress(member.id)
    assert world.core.acting_as(stranger.id).action_items.list() == []
    # a coach in an active relationship works with the member too
    rel = world.sys.relationships.request(coach_id=stranger.id, member_id=member.id)
    world.sys.relationships.accept(rel.id)
    assert world.core.acting_as(stranger.id).action_items.get(item.id) == item
    extra = world.core.acting_as(stranger.id).action_items.create(member_id=member.id, title="y")
    assert extra.coach_id == stranger.id
    with pytest.raises(NotFound):
        world.sys.action_items.get("missing")
    with pytest.raises(ValidationFailed):
        world.sys.action_items.create(title="no member")


def test_quick_notes_are_the_coaches_own(world: World) -> None:
    coach, other_coach = world.coach(), world.coach()
    member = world.member(coach)
    notes = world.core.acting_as(coach.id).quick_notes
    note = notes.create(member_id=member.id, body="Seemed tired")
    assert (note.coach_id, note.member_id, note.session_id) == (coach.id, member.id, None)
    assert notes.list() == [note] and notes.list(member_id=member.id) == [note]
    world.advance(minutes=1)
    edited = notes.update(note.id, body="Seemed tired; check sleep")
    assert edited.body.endswith("sleep") and edited.updated_at > note.updated_at
    for who in (member, other_coach):
        with pytest.raises(Forbidden):
            world.core.acting_as(who.id).quick_notes.get(note.id)
    with pytest.raises(Forbidden):
        world.core.acting_as(member.id).quick_notes.list()
    with pytest.raises(Forbidden):
        world.core.acting_as(other_coach.id).quick_notes.create(member_id=member.id, body="x")
    assert world.core.acting_as(other_coach.id).quick_notes.list() == []
    assert world.sys.quick_notes.list() == [edited]
    notes.delete(note.id)
    assert notes.list() == []
    with pytest.raises(ValidationFailed):
        notes.create(member_id=member.id, body="")


def test_scores_and_progress(world: World) -> None:
    coach = world.coach()
    member = world.member(coach)
    first, second, third = (_session(world, coach, member, d) for d in (3, 10, 17))
    scores = world.core.acting_as(coach.id).scores
    a = scores.record(first.id, current_score=40)
    assert (a.previous_score, a.current_score, a.scored_at) == (None, 40.0, first.scheduled_at)
    c = scores.record(third.id, current_score=70.5)
    assert c.previous_score == 40.0
    b = scores.record(second.id, current_score=55, previous_score=42)
    assert b.previous_score == 42.0
    again = scores.record(
        third.id, current_score=72.25
    )  # re-recorded: previous from the session before
    assert (again.previous_score, again.current_score) == (55.0, 72.25)
    progress = world.core.acting_as(member.id).scores.progress()
    assert [s.session_id for s in progress.scores] == [first.id, second.id, third.id]
    assert progress.latest == 72.25 and progress.overall_change == pytest.approx(32.25)
    assert world.core.acting_as(member.id).scores.get(second.id).change == 13
    for bad in (-1, 100.5, float("nan"), "50", True):
        with pytest.raises(ValidationFailed):
            scores.record(first.id, current_score=bad)
    with pytest.raises(Forbidden):
        world.core.acting_as(member.id).scores.record(first.id, current_score=90)
    with pytest.raises(Forbidden):
        world.core.acting_as(world.coach().id).scores.record(first.id, current_score=90)
    empty = world.sys.scores.progress(world.member().id)
    assert (empty.scores, empty.latest, empty.overall_change) == ((), None, None)
    assert world.clock.now() < first.scheduled_at + timedelta(days=30)
