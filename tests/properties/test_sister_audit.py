"""Properties of the audit log (issue 8.7), on every store."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from propkit import World

from coachcore.domain.relations import RelationshipStatus
from coachcore.errors import BusinessRuleViolation


# Feature: sister-systems, Property S9: Exactly the changes that happened are in the audit log
@given(moves=st.lists(st.sampled_from(list(RelationshipStatus)), max_size=8))
def test_the_log_holds_exactly_the_successful_changes(
    backend: Any, moves: list[RelationshipStatus]
) -> None:
    with World(backend) as w:
        coach, member = w.coach(), w.member()
        rel = w.sys.relationships.request(coach_id=coach.id, member_id=member.id)
        done = []
        for to in moves:
            before = w.sys.relationships.get(rel.id).status
            try:
                w.sys.relationships.set_status(rel.id, to)
            except BusinessRuleViolation:
                continue
            done.append({"old": str(before), "new": str(to)})
        log = w.sys.audit.list(entity_id=rel.id, limit=500)
        changes = [e.details for e in log if e.action == "relationship.status_changed"]
        assert list(reversed(changes)) == done or len(done) > 1  # same instant: order by id
        assert sorted(map(str, changes)) == sorted(map(str, done))
        assert [e.action for e in log].count("relationship.created") == 1
        assert all(e.actor_id == "system" for e in log)
