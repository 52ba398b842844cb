"""Properties of coaching interest submissions (issue 8.3), on every store."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from propkit import World

from coachcore import Role
from coachcore.errors import Forbidden
from coachcore.testing.strategies import notes

ROLES = st.sampled_from([Role.ADMIN, Role.COACH, Role.MEMBER])


# Feature: sister-systems, Property S4: Interest submissions are visible to admins only
@given(goals=notes().filter(lambda s: bool(s.strip())), viewer=ROLES, handle=st.booleans())
def test_interest_is_visible_to_admins_only(
    backend: Any, goals: str, viewer: str, handle: bool
) -> None:
    with World(backend) as w:
        member = w.member()
        sent = w.as_(member).interest.submit(goals=goals)
        assert sent.goals == goals
        who = w.user(viewer) if viewer != Role.MEMBER else w.member()
        scope = w.as_(who).interest
        if viewer == Role.ADMIN:
            assert scope.list() == [sent]
            if handle:
                handled = scope.mark_handled(sent.id)
                assert scope.list(status="handled") == [handled]
                assert scope.list(status="new") == []
        else:
            for call in (
                scope.list,
                lambda: scope.get(sent.id),
                lambda: scope.mark_handled(sent.id),
            ):
                try:
                    call()
                except Forbidden:
                    continue
                raise AssertionError(f"{viewer} saw interest submissions")  # pragma: no cover
        assert w.sys.interest.get(sent.id).goals == goals
