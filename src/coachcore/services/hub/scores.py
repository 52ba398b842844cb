"""Session scores: previous and current scores per session, and a
member's progress over them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import attrs

from coachcore.domain import checks
from coachcore.domain.hub import (
    SessionScore,
    score,
)
from coachcore.policies import hub as policy
from coachcore.services.compliance import audit
from coachcore.services.hub.subjects import actor_coaches, find, subject
from coachcore.services.runtime import records
from coachcore.services.runtime.transaction import Tx, UseCases

_UNSET: Any = object()


@attrs.frozen(kw_only=True)
class ScorePoint:
    """One scored session on a chart: its time, the score before and after,
    and the change (None where nothing came before)."""

    session_id: str
    at: datetime
    previous: float | None
    current: float
    change: float | None


@attrs.frozen(kw_only=True)
class Progress:
    """A member's scores over time: one entry per scored session, oldest first."""

    member_id: str
    scores: tuple[SessionScore, ...] = ()

    @property
    def latest(self) -> float | None:
        """The most recent score of each kind, or None when nothing was scored."""
        return self.scores[-1].current_score if self.scores else None

    @property
    def previous(self) -> float | None:
        """The score before the latest (the latest session's previous score)."""
        return self.scores[-1].previous_score if self.scores else None

    @property
    def points(self) -> tuple[ScorePoint, ...]:
        """The history as a chart's series, oldest first."""
        return tuple(
            ScorePoint(
                session_id=s.session_id,
                at=s.scored_at,
                previous=s.previous_score,
                current=s.current_score,
                change=None if s.previous_score is None else s.current_score - s.previous_score,
            )
            for s in self.scores
        )

    @property
    def overall_change(self) -> float | None:
        """Latest current score minus the first recorded score (previous if given)."""
        if not self.scores:
            return None
        first = self.scores[0]
        start = first.previous_score if first.previous_score is not None else first.current_score
        return self.scores[-1].current_score - start


class Scores(UseCases):
    """``scope.scores``: previous and current scores on sessions, and progress."""

    def record(
        self, session_id: Any, *, current_score: Any, previous_score: Any = _UNSET
    ) -> SessionScore:
        """Record (or correct) the session's scores, by its coach or an admin.
        ``previous_score`` defaults to the member's latest current score from an
        earlier session (None if there is none)."""
        current = score("current_score", current_score)
        previous = (
            _UNSET
            if previous_score is _UNSET or previous_score is None
            else score("previous_score", previous_score)
        )
        explicit_none = previous_score is None
        session_key = checks.identifier("session_id", session_id)

        def run(tx: Tx) -> SessionScore:
            _, session = subject(tx, session_key, None)
            assert session is not None
            before: float | None
            if explicit_none:
                before = None
            elif previous is _UNSET:
                earlier = [
                    s
                    for s in tx.uow.session_scores.list(member_id=session.member_id)
                    if (s.scored_at, s.session_id) < (session.scheduled_at, session.id)
                ]
                before = earlier[-1].current_score if earlier else None
            else:
                before = previous
            stored = tx.uow.session_scores.get(session.id)
            if stored is not None:
                updated = attrs.evolve(
                    stored,
                    previous_score=before,
                    current_score=current,
                    scored_at=session.scheduled_at,
                    updated_at=tx.now,
                )
                tx.uow.session_scores.update(updated)
                audit.record(tx, "score.recorded", "session", session.id, current=current)
                return updated
            created = SessionScore(
                session_id=session.id,
                member_id=session.member_id,
                coach_id=session.coach_id,
                previous_score=before,
                current_score=current,
                scored_at=session.scheduled_at,
                created_at=tx.now,
                updated_at=tx.now,
            )
            tx.uow.session_scores.add(created)
            audit.record(tx, "score.recorded", "session", session.id, current=current)
            return created

        return self._rt.write(self._actor, run, action="scores.record")

    def get(self, session_id: Any) -> SessionScore:
        """The scores recorded for one session, if the actor may see them."""

        def run(tx: Tx) -> SessionScore:
            found: SessionScore = find(
                tx.uow.session_scores.get, "Session score", "session_id", session_id
            )
            if tx.actor.user_id != found.coach_id:
                coach = actor_coaches(tx, found.member_id)
                policy.check_view_member_records(tx.actor, found.member_id, coach)
            return found

        return self._rt.read(self._actor, run)

    def progress(self, member_id: Any = None) -> Progress:
        """The member's scores over time (``member_id`` defaults to the actor):
        the member, their coaches and admins."""
        member = checks.optional_identifier("member_id", member_id)

        def run(tx: Tx) -> Progress:
            who = member or tx.actor.user_id
            records.member(tx.uow, who)
            policy.check_view_member_records(tx.actor, who, actor_coaches(tx, who))
            return Progress(member_id=who, scores=tuple(tx.uow.session_scores.list(member_id=who)))

        return self._rt.read(self._actor, run)
