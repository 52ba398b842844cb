"""Properties of coaching relationships (issue 8.1), on every store."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from propkit import World

from coachcore.domain.relations import RELATIONSHIP_MOVES, RelationshipStatus
from coachcore.errors import BusinessRuleViolation, Forbidden

STATUSES = list(RelationshipStatus)


# Feature: sister-systems, Property S1: Relationship status moves follow the lifecycle
@given(moves=st.lists(st.sampled_from(STATUSES), max_size=8))
def test_status_moves_follow_the_lifecycle(backend: Any, moves: list[RelationshipStatus]) -> None:
    with World(backend) as w:
        coach, member = w.coach(), w.member()
        rel = w.sys.relationships.request(coach_id=coach.id, member_id=member.id)
        model = RelationshipStatus.PENDING
        for to in moves:
            if to in RELATIONSHIP_MOVES[model]:
                assert w.sys.relationships.set_status(rel.id, to).status == to
                model = to
            else:
                try:
                    w.sys.relationships.set_status(rel.id, to)
                except BusinessRuleViolation as exc:
                    assert exc.status_code == 422
                else:  # pragma: no cover - the point of the property
                    raise AssertionError(f"{model} -> {to} was allowed")
            assert w.sys.relationships.get(rel.id).status == model
        stored = w.as_(member).relationships.get(rel.id)
        assert stored.status == model
        assert (stored.started_at is None) == (RelationshipStatus.ACTIVE not in moves_taken(moves))
        assert (stored.ended_at is not None) == (model == RelationshipStatus.COMPLETED)


def moves_taken(moves: list[RelationshipStatus]) -> list[RelationshipStatus]:
    model, taken = RelationshipStatus.PENDING, []
    for to in moves:
        if to in RELATIONSHIP_MOVES[model]:
            taken.append(to)
            model = to
    return taken


# Feature: sister-systems, Property S2: Only an active relationship (or the primary coach) books
@given(path=st.sampled_from([(), ("active",), ("active", "paused"), ("active", "completed")]))
def test_only_an_active_relationship_lets_a_member_book(
    backend: Any, path: tuple[str, ...]
) -> None:
    with World(backend) as w:
        coach, member = w.coach(), w.member()
        w.window(coach, day_of_week=3, start_time="09:00", end_time="10:00")
        rel = w.sys.relationships.request(coach_id=coach.id, member_id=member.id)
        for status in path:
            w.sys.relationships.set_status(rel.id, status)
        (slot,) = w.slots(coach, w.now.date(), w.now.date().replace(day=2))
        if path == ("active",):
            assert w.book(member, coach, slot.start).status == "confirmed"
        else:
            with pytest.raises(Forbidden):  # no active relationship
                w.book(member, coach, slot.start)
