"""Properties of coaching relationships (issue 8.1), on every store."""

from __future__ import annotations

from functools import partial
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from propkit import World

from coachcore.domain.relations import (
    ENDED_REQUEST,
    OPEN_RELATIONSHIP,
    RELATIONSHIP_MOVES,
    RelationshipStatus,
)
from coachcore.errors import BusinessRuleViolation, Conflict, Forbidden

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
        ended = model == RelationshipStatus.COMPLETED or model in ENDED_REQUEST
        assert (stored.ended_at is not None) == ended


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


ACTIONS = ("accept", "decline", "withdraw", "pause", "resume", "complete", "request")
ACTORS = ("coach", "member", "admin", "outsider")
_TARGET = {
    "accept": RelationshipStatus.ACTIVE,
    "decline": RelationshipStatus.DECLINED,
    "withdraw": RelationshipStatus.WITHDRAWN,
    "pause": RelationshipStatus.PAUSED,
    "resume": RelationshipStatus.ACTIVE,
    "complete": RelationshipStatus.COMPLETED,
}


def expected(
    status: RelationshipStatus | None, requester: str, actor: str, action: str
) -> type[Exception] | RelationshipStatus:
    """What the model says a call does: the new status, or the error it raises."""
    if actor == "outsider":
        return Forbidden
    if action == "request":
        open_ = status is not None and status in OPEN_RELATIONSHIP
        return Conflict if open_ else RelationshipStatus.PENDING
    assert status is not None
    if actor != "admin":
        mine = actor == requester
        if (action == "withdraw" and not mine) or (action == "decline" and mine):
            return Forbidden
        accepting = _TARGET[action] == RelationshipStatus.ACTIVE  # accept, or resume
        if accepting and status == RelationshipStatus.PENDING and mine:
            return Forbidden
    to = _TARGET[action]
    return to if to in RELATIONSHIP_MOVES[status] else BusinessRuleViolation


# Feature: sister-systems, Property S12: A request is accepted or declined by the
# side asked, withdrawn by the side that asked, and an ended one blocks nothing
@given(
    steps=st.lists(
        st.tuples(st.sampled_from(ACTORS), st.sampled_from(ACTIONS)), min_size=1, max_size=10
    )
)
def test_request_lifecycle_allows_and_refuses_like_the_model(
    backend: Any, steps: list[tuple[str, str]]
) -> None:
    with World(backend) as w:
        people = {"coach": w.coach(), "member": w.member(), "admin": w.admin()}
        people["outsider"] = w.member()
        current: Any = None  # the pair's newest relationship
        requester = ""
        for actor, action in steps:
            scope = w.as_(people[actor]).relationships
            if current is None and (action != "request" or actor == "outsider"):
                continue  # nothing to move yet
            want = expected(None if current is None else current.status, requester, actor, action)
            if action == "request":
                call = partial(
                    scope.request, coach_id=people["coach"].id, member_id=people["member"].id
                )
            else:
                call = partial(getattr(scope, action), current.id)
            if isinstance(want, type):
                before = None if current is None else w.sys.relationships.get(current.id)
                with pytest.raises(want):
                    call()
                if current is not None:  # a refused call changes nothing
                    assert w.sys.relationships.get(current.id) == before
                continue
            got = call()
            assert got.status == want
            if action == "request":
                current, requester = got, actor
                assert got.requested_by == people[actor].id
            else:
                assert got.id == current.id
                current = got
            ended = want in (
                RelationshipStatus.COMPLETED,
                RelationshipStatus.DECLINED,
                RelationshipStatus.WITHDRAWN,
            )
            assert (got.ended_at is not None) == ended
        pair = w.sys.relationships.list(coach_id=people["coach"].id, member_id=people["member"].id)
        assert sum(1 for r in pair if r.status in OPEN_RELATIONSHIP) <= 1
        if current is not None:
            assert current in pair  # stored as the last call returned it
