"""Member session settings (issue 8.4): stored per member, changed by the member,
honoured by the policies (coaches see goals and shared context only while sharing)."""

from __future__ import annotations

import pytest

from coachcore.errors import Forbidden, ValidationFailed
from world import World


def test_defaults_then_member_changes_them(world: World) -> None:
    coach = world.coach()
    member = world.member(coach)
    mine = world.core.acting_as(member.id).session_settings
    default = mine.get()
    assert (default.share_context_with_coach, default.shared_context, default.updated_at) == (
        True,
        None,
        None,
    )
    changed = mine.update(share_context_with_coach=False, shared_context="Rough week at work")
    assert changed.share_context_with_coach is False
    assert changed.created_at == changed.updated_at == world.clock.now()
    world.advance(minutes=5)
    again = mine.update(shared_context="Better now")
    assert again.share_context_with_coach is False and again.shared_context == "Better now"
    assert again.created_at == changed.created_at and again.updated_at == world.clock.now()
    assert mine.get() == again
    assert world.sys.session_settings.get(member.id) == again
    with pytest.raises(ValidationFailed):
        mine.update(share_context_with_coach="yes")
    with pytest.raises(Forbidden):  # the coach does not change the member's settings
        world.core.acting_as(coach.id).session_settings.update(
            member.id, share_context_with_coach=True
        )
    other = world.member(coach)
    with pytest.raises(Forbidden):
        world.core.acting_as(other.id).session_settings.get(member.id)
    with pytest.raises(Forbidden):
        world.core.acting_as(world.coach().id).session_settings.get(member.id)


def test_coach_sees_goals_and_context_only_while_sharing(world: World) -> None:
    coach = world.coach()
    extra = world.coach()
    member = world.member(coach)
    rel = world.sys.relationships.request(coach_id=extra.id, member_id=member.id)
    world.sys.relationships.accept(rel.id)
    world.core.acting_as(member.id).members.update(member.id, goals="Run 10k")
    world.core.acting_as(member.id).session_settings.update(shared_context="Sleeping badly")
    for who in (coach, extra):
        scope = world.core.acting_as(who.id)
        assert scope.members.get(member.id).goals == "Run 10k"
        assert scope.session_settings.get(member.id).shared_context == "Sleeping badly"
    assert world.core.acting_as(coach.id).members.list()[0].goals == "Run 10k"
    assert world.core.acting_as(coach.id).dashboards.member(member.id).member.goals == "Run 10k"

    world.core.acting_as(member.id).session_settings.update(share_context_with_coach=False)
    for who in (coach, extra):
        scope = world.core.acting_as(who.id)
        assert scope.members.get(member.id).goals is None
        hidden = scope.session_settings.get(member.id)
        assert (hidden.share_context_with_coach, hidden.shared_context) == (False, None)
    assert world.core.acting_as(coach.id).members.list()[0].goals is None
    assert world.core.acting_as(coach.id).dashboards.member(member.id).member.goals is None
    # the member and admins still see everything
    assert world.core.acting_as(member.id).members.get(member.id).goals == "Run 10k"
    assert world.sys.members.get(member.id).goals == "Run 10k"
    assert world.sys.session_settings.get(member.id).shared_context == "Sleeping badly"
    overview = world.core.acting_as(member.id).relationships.overview()
    assert overview.settings is not None and overview.settings.share_context_with_coach is False


def test_a_coach_in_an_active_relationship_sees_the_member_profile(world: World) -> None:
    coach, extra = world.coach(), world.coach()
    member = world.member(coach)
    with pytest.raises(Forbidden):
        world.core.acting_as(extra.id).members.get(member.id)
    rel = world.sys.relationships.request(coach_id=extra.id, member_id=member.id)
    world.sys.relationships.accept(rel.id)
    world.sys.members.update(member.id, coach_notes="primary coach's notes")
    seen = world.core.acting_as(extra.id).members.get(member.id)
    assert seen.user_id == member.id and seen.coach_notes is None
    world.sys.relationships.complete(rel.id)
    with pytest.raises(Forbidden):
        world.core.acting_as(extra.id).members.get(member.id)
