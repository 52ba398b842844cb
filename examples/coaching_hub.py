"""The coaching hub's shape: a manager, team leaders who coach agents.

Run: python examples/coaching_hub.py [url]   (default: memory://)
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import Any

import coachcore
from coachcore.adapters.clock import FixedClock


def main(url: str = "memory://") -> dict[str, Any]:
    core = coachcore.open(
        url, clock=FixedClock(datetime(2030, 1, 1, 8, tzinfo=UTC)), roles="coaching_hub"
    )
    try:
        sys_ = core.system
        manager = sys_.users.create(name="Mona", email="mona@example.com", role="manager")
        leader = sys_.users.create(name="Leo", email="leo@example.com", role="team_leader")
        agent = sys_.users.create(name="Alex", email="alex@example.com", role="agent")
        sys_.users.set_manager(leader.id, manager.id)
        sys_.users.set_manager(agent.id, leader.id)
        sys_.members.assign_coach(agent.id, leader.id)

        lead = core.acting_as(leader.id)
        lead.availability.create(day_of_week=3, start_time="09:00", end_time="12:00")
        session = lead.sessions.create(
            member_id=agent.id,
            coach_id=leader.id,
            scheduled_at=datetime(2030, 1, 2, 9, tzinfo=UTC),
            duration=60,
        )
        lead.sessions.prepare(session.id, "Review last week's escalations")
        lead.sessions.complete(session.id, coach_notes="Calm and clear on the phone")
        lead.action_items.create(session_id=session.id, title="Shadow a senior agent")
        lead.scores.record(session.id, current_score=78, previous_score=70)

        team = core.acting_as(manager.id).team
        (seen,) = team.sessions(agent.id)
        row = next(p for p in team.progress() if p.user.id == agent.id)
        return {
            "reports": [u.name for u in team.reports()],
            "completed": row.sessions_completed,
            "open_items": row.action_items_open,
            "score": row.latest_score,
            "change": row.score_change,
            "notes_seen_by_manager": (seen.coach_notes, seen.preparation_notes),
        }
    finally:
        core.close()


if __name__ == "__main__":
    print(main(*sys.argv[1:2]))
