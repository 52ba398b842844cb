"""Member and coach dashboards."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

import attrs

from coachcore.domain import checks
from coachcore.domain.entities import CoachProfile, MemberProfile, Session
from coachcore.domain.enums import SessionStatus
from coachcore.errors import Forbidden
from coachcore.policies import access
from coachcore.scheduling.wallclock import zone_of
from coachcore.services.accounts.coaches import with_stats
from coachcore.services.coaching.session_settings import redacted
from coachcore.services.runtime import records
from coachcore.services.runtime.transaction import Tx, UseCases
from coachcore.services.scheduling.sessions import visible

RECENT = 10


@attrs.frozen(kw_only=True)
class MemberDashboard:
    """What a member sees first: the next session with a countdown, the next ones, quick actions."""

    member: MemberProfile
    coach: CoachProfile | None
    next_session: Session | None
    seconds_until_next: int | None
    upcoming: list[Session]
    quick_actions: list[str]
    prompt_to_book: bool
    conversation_id: str | None


@attrs.frozen(kw_only=True)
class Activity:
    """Something a member did recently, for the coach's overview."""

    kind: str
    member_id: str
    session_id: str | None
    at: datetime
    summary: str


@attrs.frozen(kw_only=True)
class CoachDashboard:
    """What a coach sees first: today's and this week's sessions, active members,
    recent activity."""

    coach: CoachProfile
    today: list[Session]
    this_week: list[Session]
    active_member_count: int
    recent_activity: list[Activity]


def _activity(session: Session) -> list[Activity]:
    """The moments in a session's life worth showing to its coach."""
    moments = [
        ("booked", session.created_at, f"Session on {session.scheduled_at:%Y-%m-%d}"),
        ("completed", session.completed_at, "Session completed"),
        ("cancelled", session.cancelled_at, "Session cancelled"),
        ("rated", session.updated_at if session.rating else None, f"Rated {session.rating}/5"),
    ]
    return [
        Activity(
            kind=kind, member_id=session.member_id, session_id=session.id, at=at, summary=summary
        )
        for kind, at, summary in moments
        if at is not None
    ]


class Dashboards(UseCases):
    """``scope.dashboards``: what a member and a coach see first."""

    def member(self, member_id: Any = None) -> MemberDashboard:
        """Next session with a countdown, the next three, quick actions."""
        wanted = checks.optional_identifier("member_id", member_id)

        def run(tx: Tx) -> MemberDashboard:
            profile = records.member(tx.uow, wanted or tx.actor.user_id)
            access.check_view_member(tx.actor, profile)
            rows = tx.uow.sessions.list(member_id=profile.user_id)
            ahead = [
                s for s in rows if s.status == SessionStatus.SCHEDULED and s.scheduled_at > tx.now
            ]
            upcoming = [visible(tx, s) for s in ahead[:3]]
            first = upcoming[0] if upcoming else None
            coach = None if profile.coach_id is None else tx.uow.coaches.get(profile.coach_id)
            conversation = None
            if profile.coach_id is not None:
                conversation = tx.uow.conversations.find_direct(profile.coach_id, profile.user_id)
            return MemberDashboard(
                member=redacted(tx, profile),
                coach=None if coach is None else with_stats(tx.uow, coach),
                next_session=first,
                seconds_until_next=None
                if first is None
                else int((first.scheduled_at - tx.now).total_seconds()),
                upcoming=upcoming,
                quick_actions=["book_session", "message_coach"] if coach else ["book_session"],
                prompt_to_book=first is None,
                conversation_id=None if conversation is None else conversation.id,
            )

        return self._rt.read(self._actor, run)

    def coach(self, coach_id: Any = None) -> CoachDashboard:
        """Today's and this week's sessions (coach's time zone), members, activity."""
        wanted = checks.optional_identifier("coach_id", coach_id)

        def run(tx: Tx) -> CoachDashboard:
            profile = records.coach(tx.uow, wanted or tx.actor.user_id)
            if not (tx.actor.sees_all or tx.actor.user_id == profile.user_id):
                raise Forbidden("You may only see your own dashboard")
            user = records.user(tx.uow, profile.user_id)
            zone = zone_of(user.timezone)
            today = tx.now.astimezone(zone).date()
            week_start = today - timedelta(days=today.weekday())
            rows = [s for s in tx.uow.sessions.list(coach_id=profile.user_id)]
            live = [s for s in rows if s.status == SessionStatus.SCHEDULED]

            def local_day(s: Session) -> Any:
                return s.scheduled_at.astimezone(zone).date()

            week_end = datetime.combine(week_start + timedelta(days=7), time(), zone)
            activity = sorted((a for s in rows for a in _activity(s)), key=lambda a: a.at)
            return CoachDashboard(
                coach=with_stats(tx.uow, profile),
                today=[s for s in live if local_day(s) == today],
                this_week=[s for s in live if tx.now <= s.scheduled_at < week_end],
                active_member_count=tx.uow.members.count_for_coach(
                    profile.user_id, active_only=True
                ),
                recent_activity=activity[::-1][:RECENT],
            )

        return self._rt.read(self._actor, run)
