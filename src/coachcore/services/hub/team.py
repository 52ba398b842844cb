"""A manager's view of their team: the people reporting to them (directly or
through others) and what their coaching produced, without private notes."""

from __future__ import annotations

from typing import Any

import attrs

from coachcore.domain import checks
from coachcore.domain.entities import Session, User
from coachcore.domain.enums import SessionStatus
from coachcore.domain.hub import ActionItem, ActionItemStatus
from coachcore.policies import team as policy
from coachcore.policies.access import without_private_notes
from coachcore.services.accounts.reporting import manages, reports_of
from coachcore.services.hub.scores import Progress
from coachcore.services.runtime import records
from coachcore.services.runtime.transaction import Tx, UseCases


@attrs.frozen(kw_only=True)
class ReportProgress:
    """One report's coaching at a glance (as a member, and as a coach)."""

    user: User
    sessions_completed: int = 0
    sessions_scheduled: int = 0
    sessions_held_as_coach: int = 0
    action_items_open: int = 0
    action_items_done: int = 0
    latest_score: float | None = None
    score_change: float | None = None


def _sessions(tx: Tx, user_id: str) -> list[Session]:
    """The user's sessions as member or coach, by scheduled time."""
    rows = {s.id: s for s in tx.uow.sessions.list(member_id=user_id)}
    rows.update({s.id: s for s in tx.uow.sessions.list(coach_id=user_id)})
    return sorted(rows.values(), key=lambda s: (s.scheduled_at, s.id))


def _progress(tx: Tx, user: User) -> ReportProgress:
    sessions = _sessions(tx, user.id)
    items = tx.uow.action_items.list(member_id=user.id)
    scores = Progress(
        member_id=user.id, scores=tuple(tx.uow.session_scores.list(member_id=user.id))
    )
    return ReportProgress(
        user=user,
        sessions_completed=sum(
            1 for s in sessions if s.member_id == user.id and s.status == SessionStatus.COMPLETED
        ),
        sessions_scheduled=sum(
            1 for s in sessions if s.member_id == user.id and s.status == SessionStatus.SCHEDULED
        ),
        sessions_held_as_coach=sum(
            1 for s in sessions if s.coach_id == user.id and s.status == SessionStatus.COMPLETED
        ),
        action_items_open=sum(1 for i in items if i.status == ActionItemStatus.OPEN),
        action_items_done=sum(1 for i in items if i.status == ActionItemStatus.DONE),
        latest_score=scores.latest,
        score_change=scores.overall_change,
    )


class Team(UseCases):
    """``scope.team``: managers (``team:read``) read their reports' coaching
    results; admins read anyone's team."""

    def reports(self, manager_id: Any = None) -> list[User]:
        """Everyone reporting to the manager (default: the actor), directly first."""
        wanted = checks.optional_identifier("manager_id", manager_id)

        def run(tx: Tx) -> list[User]:
            who = wanted or tx.actor.user_id
            policy.check_read_team(tx.actor, who)
            return reports_of(tx.uow, who)

        return self._rt.read(self._actor, run)

    def progress(self, manager_id: Any = None) -> list[ReportProgress]:
        """Each report's sessions, action items and scores, counted (the team
        dashboard), in the order of :meth:`reports`."""
        wanted = checks.optional_identifier("manager_id", manager_id)

        def run(tx: Tx) -> list[ReportProgress]:
            who = wanted or tx.actor.user_id
            policy.check_read_team(tx.actor, who)
            return [_progress(tx, user) for user in reports_of(tx.uow, who)]

        return self._rt.read(self._actor, run)

    def sessions(self, user_id: Any) -> list[Session]:
        """The report's sessions (as member or coach), without private notes."""

        def run(tx: Tx) -> list[Session]:
            user = self._report(tx, user_id)
            return [without_private_notes(s) for s in _sessions(tx, user.id)]

        return self._rt.read(self._actor, run)

    def action_items(self, user_id: Any) -> list[ActionItem]:
        """The report's action items (as the member they are for)."""

        def run(tx: Tx) -> list[ActionItem]:
            user = self._report(tx, user_id)
            return list(tx.uow.action_items.list(member_id=user.id))

        return self._rt.read(self._actor, run)

    def scores(self, user_id: Any) -> Progress:
        """The report's score history (previous, current, change over time)."""

        def run(tx: Tx) -> Progress:
            user = self._report(tx, user_id)
            rows = tuple(tx.uow.session_scores.list(member_id=user.id))
            return Progress(member_id=user.id, scores=rows)

        return self._rt.read(self._actor, run)

    @staticmethod
    def _report(tx: Tx, user_id: Any) -> User:
        user = records.user(tx.uow, user_id)
        policy.check_read_report(tx.actor, user.id, manages(tx.uow, tx.actor.user_id, user.id))
        return user
