"""Properties of member session settings (issue 8.4), on every store."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from propkit import World

from coachcore.testing.strategies import notes


# Feature: sister-systems, Property S5: Coaches see goals and shared context only while sharing
@given(
    toggles=st.lists(st.booleans(), min_size=1, max_size=4),
    goals=notes().filter(bool),
    context=notes().filter(bool),
    via=st.sampled_from(["primary", "relationship"]),
)
def test_coaches_see_context_only_while_sharing(
    backend: Any, toggles: list[bool], goals: str, context: str, via: str
) -> None:
    with World(backend) as w:
        coach = w.coach()
        member = w.member(coach if via == "primary" else None)
        if via == "relationship":
            rel = w.sys.relationships.request(coach_id=coach.id, member_id=member.id)
            w.sys.relationships.accept(rel.id)
        w.as_(member).members.update(member.id, goals=goals)
        w.as_(member).session_settings.update(shared_context=context)
        for share in toggles:
            w.as_(member).session_settings.update(share_context_with_coach=share)
            seen = w.as_(coach).members.get(member.id)
            settings = w.as_(coach).session_settings.get(member.id)
            assert seen.goals == (goals if share else None)
            assert settings.shared_context == (context if share else None)
            assert settings.share_context_with_coach is share
            assert w.as_(member).members.get(member.id).goals == goals
            assert w.as_(member).session_settings.get().shared_context == context
