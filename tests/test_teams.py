"""Teams: the coaching-hub role preset, reporting lines, a manager's read-only
view of their team, preparation notes and the score history, on every store."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
import pytest

import coachcore
from backends import T0, Backend, SqlBackend
from coachcore.adapters.clock import FixedClock
from coachcore.errors import BusinessRuleViolation, Forbidden, ValidationFailed
from privacy_kit import KEY_A, open_with_keys, raw_text

WEDNESDAY_9 = datetime(2030, 1, 2, 9, tzinfo=UTC)  # T0 is Tuesday 2030-01-01 08:00 UTC


@attrs.define
class Hub:
    """A manager over two team leaders, each leading one agent."""

    core: coachcore.Core
    admin: Any
    manager: Any
    leader_a: Any
    leader_b: Any
    agent_a: Any
    agent_b: Any

    def as_(self, who: Any) -> coachcore.Scope:
        return self.core.acting_as(who.id)


def build_hub(core: coachcore.Core) -> Hub:
    sys = core.system

    def user(name: str, role: str) -> Any:
        return sys.users.create(name=name, email=f"{name.lower()}@example.com", role=role)

    admin, manager = user("Ada", "admin"), user("Mona", "manager")
    leader_a, leader_b = user("Leo", "team_leader"), user("Lena", "team_leader")
    agent_a, agent_b = user("Alex", "agent"), user("Bea", "agent")
    for leader in (leader_a, leader_b):
        sys.users.set_manager(leader.id, manager.id)
    for agent, leader in ((agent_a, leader_a), (agent_b, leader_b)):
        sys.users.set_manager(agent.id, leader.id)
        sys.members.assign_coach(agent.id, leader.id)
    return Hub(core, admin, manager, leader_a, leader_b, agent_a, agent_b)


@pytest.fixture
def hub(backend: Backend) -> Iterator[Hub]:
    core = backend.open(FixedClock(T0), roles="coaching_hub")
    yield build_hub(core)
    core.close()


def coached_session(hub: Hub) -> Any:
    """Leader A schedules, prepares and completes a session with agent A in a
    free slot of their window, sets two action items (one done) and a score."""
    lead = hub.as_(hub.leader_a)
    lead.availability.create(day_of_week=3, start_time="09:00", end_time="12:00")
    session = lead.sessions.create(
        member_id=hub.agent_a.id, coach_id=hub.leader_a.id, scheduled_at=WEDNESDAY_9, duration=60
    )
    lead.sessions.prepare(session.id, "Ask about the escalation backlog")
    hub.as_(hub.agent_a).sessions.add_member_notes(session.id, "I felt rushed")
    done = lead.sessions.complete(session.id, coach_notes="Needs practice on empathy")
    first = lead.action_items.create(session_id=session.id, title="Shadow a senior agent")
    lead.action_items.create(session_id=session.id, title="Read the tone guide")
    hub.as_(hub.agent_a).action_items.complete(first.id)
    lead.scores.record(session.id, current_score=72, previous_score=60)
    return done


def test_the_preset_gives_leaders_coach_profiles_and_agents_member_profiles(hub: Hub) -> None:
    sys = hub.core.system
    assert {c.user_id for c in sys.coaches.list_accepting()} == {hub.leader_a.id, hub.leader_b.id}
    assert sys.members.get(hub.agent_a.id).coach_id == hub.leader_a.id
    assert hub.core.roles.is_a("team_leader", "coach") and hub.core.roles.is_a("agent", "member")
    assert not hub.core.roles.is_a("manager", "coach")
    promoted = sys.users.change_role(hub.agent_b.id, "team_leader")  # was coached: released
    assert sys.coaches.get(promoted.id).user_id == hub.agent_b.id
    with pytest.raises(ValidationFailed):
        coachcore.open("memory://", roles="no_such_preset")


def test_a_team_leader_schedules_holds_and_completes_a_session_with_an_agent(hub: Hub) -> None:
    session = coached_session(hub)
    assert (session.status, session.coach_id) == ("completed", hub.leader_a.id)
    mine = hub.as_(hub.leader_a).sessions.get(session.id)
    assert mine.preparation_notes == "Ask about the escalation backlog"
    assert mine.coach_notes == "Needs practice on empathy"
    theirs = hub.as_(hub.agent_a).sessions.get(session.id)
    assert (theirs.preparation_notes, theirs.coach_notes) == (None, None)  # the coach's own
    assert theirs.member_notes == "I felt rushed"
    progress = hub.as_(hub.agent_a).scores.progress()
    (point,) = progress.points
    assert (point.previous, point.current, point.change) == (60, 72, 12)
    assert (progress.previous, progress.latest, progress.overall_change) == (60, 72, 12)


def test_the_manager_sees_the_teams_progress_without_private_notes(hub: Hub) -> None:
    session = coached_session(hub)
    team = hub.as_(hub.manager).team
    assert [u.id for u in team.reports()] == [
        *sorted([hub.leader_a.id, hub.leader_b.id], key=_created(hub)),
        *sorted([hub.agent_a.id, hub.agent_b.id], key=_created(hub)),
    ]
    rows = {p.user.id: p for p in team.progress()}
    agent = rows[hub.agent_a.id]
    assert (agent.sessions_completed, agent.action_items_open, agent.action_items_done) == (
        1,
        1,
        1,
    )
    assert (agent.latest_score, agent.score_change) == (72, 12)
    assert rows[hub.leader_a.id].sessions_held_as_coach == 1
    assert rows[hub.agent_b.id].sessions_completed == 0
    (seen,) = team.sessions(hub.agent_a.id)
    assert seen.id == session.id and seen.status == "completed"
    assert (seen.coach_notes, seen.member_notes, seen.preparation_notes) == (None, None, None)
    assert [s.id for s in team.sessions(hub.leader_a.id)] == [session.id]  # as the coach
    assert sorted(i.status for i in team.action_items(hub.agent_a.id)) == ["done", "open"]
    assert [p.current for p in team.scores(hub.agent_a.id).points] == [72]
    # and nothing else: no sessions, profiles, notes, items or documents directly
    manager = hub.as_(hub.manager)
    for attempt in (
        lambda: manager.sessions.get(session.id),
        lambda: manager.sessions.list(),
        lambda: manager.members.get(hub.agent_a.id),
        lambda: manager.quick_notes.list(),
        lambda: manager.action_items.list(member_id=hub.agent_a.id),
        lambda: manager.scores.progress(hub.agent_a.id),
        lambda: manager.documents.list(),
        lambda: manager.team.sessions(hub.admin.id),  # not a report
    ):
        with pytest.raises(Forbidden):
            attempt()


def test_another_teams_leader_sees_nothing_of_it(hub: Hub) -> None:
    session = coached_session(hub)
    other = hub.as_(hub.leader_b)
    assert [u.id for u in other.team.reports()] == [hub.agent_b.id]
    assert [p.user.id for p in other.team.progress()] == [hub.agent_b.id]
    for attempt in (
        lambda: other.team.sessions(hub.agent_a.id),
        lambda: other.team.action_items(hub.agent_a.id),
        lambda: other.team.scores(hub.agent_a.id),
        lambda: other.team.reports(hub.leader_a.id),
        lambda: other.team.progress(hub.manager.id),
        lambda: other.team.sessions(hub.leader_a.id),  # a peer, not a report
        lambda: other.sessions.get(session.id),
        lambda: other.members.get(hub.agent_a.id),
        lambda: other.scores.progress(hub.agent_a.id),
    ):
        with pytest.raises(Forbidden):
            attempt()
    assert session.id not in {s.id for s in other.sessions.list()}
    with pytest.raises(Forbidden):  # agents have no team view
        hub.as_(hub.agent_a).team.reports()
    admin = hub.as_(hub.admin).team  # admins read any team
    assert [u.id for u in admin.reports(hub.leader_a.id)] == [hub.agent_a.id]


def test_reporting_lines_refuse_loops_strangers_and_non_admins(hub: Hub) -> None:
    sys = hub.core.system
    for user, manager in (
        (hub.manager, hub.agent_a),  # agent_a is under the manager: a loop
        (hub.leader_a, hub.agent_a),
        (hub.agent_a, hub.agent_a),
    ):
        with pytest.raises(BusinessRuleViolation):
            sys.users.set_manager(user.id, manager.id)
    assert sys.users.get(hub.manager.id).manager_id is None
    for who in (hub.manager, hub.leader_a, hub.agent_a):
        with pytest.raises(Forbidden):  # lines are the host's and admins'
            hub.as_(who).users.set_manager(hub.agent_b.id, who.id)
    sys.users.deactivate(hub.leader_b.id)
    with pytest.raises(BusinessRuleViolation):
        sys.users.set_manager(hub.agent_b.id, hub.leader_b.id)
    moved = hub.as_(hub.admin).users.set_manager(hub.agent_b.id, hub.leader_a.id)
    assert moved.manager_id == hub.leader_a.id
    assert [u.id for u in hub.as_(hub.leader_a).team.reports()] == sorted(
        [hub.agent_a.id, hub.agent_b.id], key=_created(hub)
    )
    assert sys.users.set_manager(hub.agent_b.id, None).manager_id is None
    assert [u.id for u in hub.as_(hub.leader_a).team.reports()] == [hub.agent_a.id]
    entries = sys.audit.list(entity_type="user", entity_id=hub.agent_b.id)
    moves = [(e.details.get("old"), e.details.get("new")) for e in entries
             if e.action == "user.manager_changed"]  # fmt: skip
    assert (hub.leader_a.id, None) in moves


def test_a_manager_must_share_an_organization_with_the_user(hub: Hub) -> None:
    sys = hub.core.system
    org = sys.organizations.create(name="Support", kind="client_company")
    sys.organizations.add_member(org.id, hub.agent_a.id)
    with pytest.raises(BusinessRuleViolation):  # leader_a belongs to no organization of theirs
        sys.users.set_manager(hub.agent_a.id, hub.leader_a.id)
    sys.organizations.add_member(org.id, hub.leader_a.id)
    assert sys.users.set_manager(hub.agent_a.id, hub.leader_a.id).manager_id == hub.leader_a.id


def test_preparation_notes_are_sealed_at_rest(backend: Backend) -> None:
    core = open_with_keys(backend, [KEY_A], roles="coaching_hub")
    hub = build_hub(core)
    session = coached_session(hub)
    assert hub.as_(hub.leader_a).sessions.get(session.id).preparation_notes.startswith("Ask")
    if isinstance(backend, SqlBackend):
        assert "escalation backlog" not in raw_text(backend)


def _created(hub: Hub) -> Any:
    order = {u.id: (u.created_at, u.id) for u in hub.core.system.users.list()}
    return lambda user_id: order[user_id]


def test_preparation_notes_go_with_the_private_notes(hub: Hub) -> None:
    """Purged after the retention period (even when they are the only note
    left), and erased with the member."""
    session = coached_session(hub)
    lead = hub.as_(hub.leader_a).sessions
    lead.add_coach_notes(session.id, None)
    hub.as_(hub.agent_a).sessions.add_member_notes(session.id, None)
    assert lead.get(session.id).preparation_notes is not None
    hub.core.clock.set(T0 + timedelta(days=60))  # type: ignore[attr-defined]
    assert hub.core.system.privacy.purge(days=30) == 1
    assert lead.get(session.id).preparation_notes is None
    again = hub.as_(hub.leader_a).sessions.create(
        member_id=hub.agent_a.id,
        coach_id=hub.leader_a.id,
        scheduled_at=T0 + timedelta(days=70),
        duration=30,
        override=True,
        override_reason="set up by the test",
    )
    lead.prepare(again.id, "Bring the call recording")
    lead.cancel(again.id, reason="erasure ahead")
    hub.core.system.privacy.erase(hub.agent_a.id)
    assert hub.core.system.sessions.get(again.id).preparation_notes is None
