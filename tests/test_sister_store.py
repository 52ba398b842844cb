"""The sister systems' repositories: the store checks moved to
``coachcore.testing.conformance.sisters`` (run on every backend by
``tests/test_conformance.py``); what is left is domain arithmetic."""

from __future__ import annotations

import pytest

from backends import T0
from coachcore.domain.hub import SessionScore


def test_session_score_change() -> None:
    score = SessionScore(
        session_id="s",
        member_id="member",
        coach_id="coach",
        previous_score=0.1,
        current_score=99.99,
        scored_at=T0,
        created_at=T0,
        updated_at=T0,
    )
    assert score.change == pytest.approx(99.89)
