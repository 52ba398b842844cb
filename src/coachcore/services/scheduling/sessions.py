"""The session lifecycle: create, read, reschedule, complete, cancel, notes, rating."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import attrs

from coachcore.domain import checks
from coachcore.domain.entities import CalendarEvent, Conversation, Rating, Session, User
from coachcore.domain.enums import (
    BookingStatus,
    CalendarEventStatus,
    ConversationKind,
    NotificationKind,
    SessionStatus,
    SessionType,
)
from coachcore.domain.rules import OverrideKind
from coachcore.errors import BusinessRuleViolation, Conflict, Forbidden
from coachcore.policies import access
from coachcore.scheduling.calendar import extra_window
from coachcore.scheduling.wallclock import window_containing, zone_of
from coachcore.services.accounts.profiles import require_coach_role, require_member_role
from coachcore.services.coaching.relationships import active_between
from coachcore.services.delivery import outgoing
from coachcore.services.runtime import records
from coachcore.services.runtime.transaction import Tx, UseCases, new_id
from coachcore.services.scheduling import placement, reminders, waitlist
from coachcore.services.scheduling.session_notes import coach_side_notes

_UNSET: Any = object()
MAX_PAGE = 500
SessionList = list[Session]


def _event(session: Session, coach: User, member: User, sequence: int = 0) -> CalendarEvent:
    return CalendarEvent(
        id=session.calendar_event_id,
        session_id=session.id,
        title=f"Coaching session: {coach.name} & {member.name}",
        creator_id=coach.id,
        attendee_ids=(member.id,),
        start=session.scheduled_at,
        end=session.ends_at,
        sequence=sequence,
        link=f"coachcore://sessions/{session.id}",
    )


def schedule(
    tx: Tx,
    coach: User,
    member: User,
    start: datetime,
    duration: int,
    *,
    kind: SessionType = SessionType.REGULAR,
    member_notes: str | None = None,
    group_conversation: bool = False,
) -> Session:
    """A scheduled session with its calendar event, reminders and notifications."""
    session = Session(
        id=new_id(),
        calendar_event_id=new_id(),
        member_id=member.id,
        coach_id=coach.id,
        type=kind,
        duration=duration,
        scheduled_at=start,
        member_notes=member_notes,
        created_at=tx.now,
        updated_at=tx.now,
    )
    if group_conversation:
        conversation = Conversation(
            id=new_id(),
            kind=ConversationKind.GROUP,
            participant_ids=(coach.id, member.id),
            session_id=session.id,
            title="Coaching session",
            created_at=tx.now,
        )
        outgoing.open_conversation(tx, conversation)
        session = attrs.evolve(session, conversation_id=conversation.id)
    tx.uow.sessions.add(session)
    event = _event(session, coach, member)
    tx.uow.calendar_events.add(event)
    outgoing.upsert_event(tx, event)
    reminders.arm(tx, session)
    when = start.isoformat()
    for person in (coach.id, member.id):
        outgoing.notify(
            tx,
            person,
            NotificationKind.SESSION_CREATED,
            "Coaching session scheduled",
            f"Session on {when} ({duration} min).",
            session_id=session.id,
        )
    return session


def cancel(tx: Tx, session: Session, reason: str | None, *, notify_member: bool = True) -> Session:
    """Cancel a scheduled session: calendar, both parties, the booking, reminders.

    ``notify_member=False`` tells only the coach (the member is being erased)."""
    if session.status != SessionStatus.SCHEDULED:
        raise BusinessRuleViolation(
            f"A {session.status} session cannot be cancelled", details={"status": session.status}
        )
    cancelled = attrs.evolve(
        session,
        status=SessionStatus.CANCELLED,
        cancelled_at=tx.now,
        cancellation_reason=reason,
        updated_at=tx.now,
    )
    tx.uow.sessions.update(cancelled)
    event = tx.uow.calendar_events.get(session.calendar_event_id)
    if event is not None:
        tx.uow.calendar_events.update(
            attrs.evolve(event, status=CalendarEventStatus.CANCELLED, sequence=event.sequence + 1)
        )
    outgoing.cancel_event(tx, session.calendar_event_id)
    booking = tx.uow.bookings.find(session_id=session.id)
    if booking is not None and booking.status == BookingStatus.CONFIRMED:
        tx.uow.bookings.update(
            attrs.evolve(booking, status=BookingStatus.CANCELLED, updated_at=tx.now)
        )
    reminders.disarm(tx, session.id)
    told = (session.coach_id, session.member_id) if notify_member else (session.coach_id,)
    for person in told:
        outgoing.notify(
            tx,
            person,
            NotificationKind.SESSION_CANCELLED,
            "Coaching session cancelled",
            reason or "",
            session_id=session.id,
        )
    outgoing.broadcast(tx, slot_event(session, "cancelled"))
    waitlist.offer_freed(tx, session.coach_id, session.scheduled_at, session.duration)
    return cancelled


def slot_event(session: Session, change: str) -> dict[str, Any]:
    """A committed slot change for live availability (hosts re-query the slot)."""
    return {
        "type": "slot_changed",
        "change": change,
        "coach_id": session.coach_id,
        "start": session.scheduled_at.isoformat(),
        "duration": session.duration,
    }


def _member_coach(tx: Tx, session: Session) -> str | None:
    profile = tx.uow.members.get(session.member_id)
    return None if profile is None else profile.coach_id


def visible(tx: Tx, session: Session) -> Session:
    """Check the actor may see the session and redact what it may not."""
    coach_id = _member_coach(tx, session)
    access.check_view_session(tx.actor, session, coach_id)
    return access.redact_session(tx.actor, session, coach_id)


class Sessions(UseCases):
    """``scope.sessions``: the session lifecycle."""

    def create(
        self,
        *,
        member_id: Any,
        coach_id: Any,
        scheduled_at: Any,
        duration: Any = 60,
        type: Any = SessionType.REGULAR,
        member_notes: Any = None,
        create_group_conversation: Any = False,
        override: Any = False,
        override_reason: Any = None,
    ) -> Session:
        """A coach (for their member) or an admin schedules a session directly,
        in a slot with a free seat, as a booking would be. ``override=True``
        with an ``override_reason`` places it anyway (audited)."""
        start = checks.aware("scheduled_at", scheduled_at)
        minutes = placement.duration_of(duration)
        kind = checks.choice("type", type, SessionType)
        notes = checks.text("member_notes", member_notes)
        group = checks.boolean("create_group_conversation", create_group_conversation)
        forced = placement.overriding(override, override_reason)

        def run(tx: Tx) -> Session:
            tx.actor.require("sessions:write")
            coach = records.active_user(tx.uow, coach_id, "coach_id")
            if not tx.actor.sees_all and tx.actor.user_id != coach.id:
                raise Forbidden("Coaches schedule their own sessions only")
            # before the link and the roles: a role change ending either side holds it too
            tx.uow.lock_coach(coach.id)
            member = records.active_user(tx.uow, member_id, "member_id")
            records.coach(tx.uow, coach.id)
            profile = records.member(tx.uow, member.id)
            related = profile.coach_id == coach.id or active_between(tx.uow, coach.id, member.id)
            if not tx.actor.sees_all and not related:
                raise Forbidden("This member is not assigned to you")
            require_coach_role(tx, records.user(tx.uow, coach.id))
            require_member_role(tx, member)
            if forced is None:
                placement.check_slot(tx, coach, member.id, start, minutes)
            session = schedule(
                tx,
                coach,
                member,
                start,
                minutes,
                kind=kind,
                member_notes=notes,
                group_conversation=group,
            )
            placement.audit_override(tx, "sessions.create", session, forced)
            return session

        return self._rt.write(self._actor, run, action="sessions.create")

    def get(self, session_id: Any) -> Session:
        """One session; a member sees it with the coach's notes redacted."""
        return self._rt.read(
            self._actor, lambda tx: visible(tx, records.session(tx.uow, session_id))
        )

    def list(
        self,
        *,
        status: Any = None,
        member_id: Any = None,
        coach_id: Any = None,
        offset: Any = 0,
        limit: Any = 100,
    ) -> list[Session]:
        """Sessions the actor may see, by scheduled time; filters narrow them further."""
        wanted = None if status is None else checks.choice("status", status, SessionStatus)
        member = checks.optional_identifier("member_id", member_id)
        coach = checks.optional_identifier("coach_id", coach_id)
        start = checks.integer("offset", offset, low=0, high=10**9)
        size = checks.integer("limit", limit, low=1, high=MAX_PAGE)

        def run(tx: Tx) -> list[Session]:
            rows = self._visible_rows(tx, member, coach)
            kept = [s for s in rows if wanted is None or s.status == wanted]
            return [visible(tx, s) for s in kept[start : start + size]]

        return self._rt.read(self._actor, run)

    def _visible_rows(self, tx: Tx, member: str | None, coach: str | None) -> SessionList:
        actor = tx.actor
        if actor.sees_all:
            return list(tx.uow.sessions.list(member_id=member, coach_id=coach))
        if member is not None and member != actor.user_id:
            profile = records.member(tx.uow, member)
            access.check_view_member(
                tx.actor, profile, active_between(tx.uow, actor.user_id, member)
            )
        if not actor.can("sessions:read"):
            raise Forbidden("Missing permission sessions:read")
        if actor.can("sessions:write"):
            mine = {s.id: s for s in tx.uow.sessions.list(coach_id=actor.user_id)}
            mine.update({s.id: s for s in tx.uow.sessions.of_members_coached_by(actor.user_id)})
            rows = sorted(mine.values(), key=lambda s: (s.scheduled_at, s.id))
        else:
            rows = list(tx.uow.sessions.list(member_id=actor.user_id))
        return [
            s
            for s in rows
            if (member is None or s.member_id == member) and (coach is None or s.coach_id == coach)
        ]

    def upcoming(self, *, limit: Any = 10) -> SessionList:
        """The actor's scheduled sessions that have not started yet, soonest first."""
        size = checks.integer("limit", limit, low=1, high=MAX_PAGE)

        def run(tx: Tx) -> SessionList:
            rows = self._visible_rows(tx, None, None)
            ahead = [
                s for s in rows if s.status == SessionStatus.SCHEDULED and s.scheduled_at > tx.now
            ]
            return [visible(tx, s) for s in ahead[:size]]

        return self._rt.read(self._actor, run)

    def update(
        self,
        session_id: Any,
        *,
        scheduled_at: Any = _UNSET,
        duration: Any = _UNSET,
        type: Any = _UNSET,
        override: Any = False,
        override_reason: Any = None,
    ) -> Session:
        """Reschedule or retype a scheduled session; the calendar and reminders
        follow. A new time goes through the same check as a booking (the
        session's own seat left out) unless ``override=True`` with a reason."""
        start = None if scheduled_at is _UNSET else checks.aware("scheduled_at", scheduled_at)
        minutes = None if duration is _UNSET else placement.duration_of(duration)
        kind = None if type is _UNSET else checks.choice("type", type, SessionType)
        forced = placement.overriding(override, override_reason)

        def run(tx: Tx) -> Session:
            session = records.session(tx.uow, session_id)
            access.check_manage_session(tx.actor, session)
            if session.status != SessionStatus.SCHEDULED:
                raise BusinessRuleViolation("Only a scheduled session can be changed")
            tx.uow.lock_coach(session.coach_id)
            new_start, new_length = start or session.scheduled_at, minutes or session.duration
            moved = (new_start, new_length) != (session.scheduled_at, session.duration)
            if moved and forced is None:
                coach = records.user(tx.uow, session.coach_id)
                placement.check_slot(tx, coach, session.member_id, new_start, new_length, session)
            updated = reschedule(tx, session, start, minutes, kind)
            placement.audit_override(tx, "sessions.update", updated, forced)
            return updated

        return self._rt.write(self._actor, run, action="sessions.update")

    def complete(
        self, session_id: Any, *, coach_notes: Any = None, outcomes: Any = None
    ) -> Session:
        """Mark a scheduled session completed; both parties are told, the member asked to rate."""
        notes = checks.text("coach_notes", coach_notes)
        results = checks.text("outcomes", outcomes)

        def run(tx: Tx) -> Session:
            session = records.session(tx.uow, session_id)
            access.check_manage_session(tx.actor, session)
            if session.status != SessionStatus.SCHEDULED:
                raise BusinessRuleViolation(
                    f"A {session.status} session cannot be completed",
                    details={"status": session.status},
                )
            done = attrs.evolve(
                session,
                status=SessionStatus.COMPLETED,
                completed_at=tx.now,
                coach_notes=notes if notes is not None else session.coach_notes,
                outcomes=results if results is not None else session.outcomes,
                updated_at=tx.now,
            )
            tx.uow.sessions.update(done)
            reminders.disarm(tx, session.id)
            for person in (session.coach_id, session.member_id):
                outgoing.notify(
                    tx,
                    person,
                    NotificationKind.SESSION_COMPLETED,
                    "Coaching session completed",
                    session_id=session.id,
                )
            outgoing.notify(
                tx,
                session.member_id,
                NotificationKind.RATE_SESSION,
                "How was your session?",
                "Rate it from 1 to 5.",
                session_id=session.id,
            )
            return done

        return self._rt.write(self._actor, run, action="sessions.complete")

    def cancel(self, session_id: Any, *, reason: Any = None) -> Session:
        """Cancel a scheduled session (its member, its coach or an admin)."""
        why = checks.text("reason", reason, max_len=2000)

        def run(tx: Tx) -> Session:
            session = records.session(tx.uow, session_id)
            if tx.actor.user_id != session.member_id:
                access.check_manage_session(tx.actor, session)
            placement.check_cutoff(tx, session)
            tx.uow.lock_coach(session.coach_id)
            return visible(tx, cancel(tx, session, why))

        return self._rt.write(self._actor, run, action="sessions.cancel")

    def add_coach_notes(self, session_id: Any, notes: Any) -> Session:
        """Set the coach's private notes (seen by coaches and admins only)."""
        run = coach_side_notes(session_id, "coach_notes", checks.text("notes", notes))
        return self._rt.write(self._actor, run, action="sessions.add_coach_notes")

    def prepare(self, session_id: Any, notes: Any) -> Session:
        """Set the coach's preparation notes (private like coach notes: the
        session's coach and admins read them; sealed at rest)."""
        run = coach_side_notes(session_id, "preparation_notes", checks.text("notes", notes))
        return self._rt.write(self._actor, run, action="sessions.prepare")

    def add_member_notes(self, session_id: Any, notes: Any) -> Session:
        """Set the member's notes (seen by the member, their coach and admins)."""
        text = checks.text("notes", notes)

        def run(tx: Tx) -> Session:
            session = records.session(tx.uow, session_id)
            if not (tx.actor.sees_all or tx.actor.user_id == session.member_id):
                raise Forbidden("Only the session's member may add member notes")
            updated = attrs.evolve(session, member_notes=text, updated_at=tx.now)
            tx.uow.sessions.update(updated)
            return visible(tx, updated)

        return self._rt.write(self._actor, run, action="sessions.add_member_notes")

    def rate(self, session_id: Any, *, rating: Any, feedback: Any = None) -> Session:
        """The member (or an admin for them) rates a completed session once, 1 to 5."""
        stars = checks.integer("rating", rating, low=1, high=5)
        text = checks.text("feedback", feedback, max_len=5000)

        def run(tx: Tx) -> Session:
            session = records.session(tx.uow, session_id)
            if not (tx.actor.sees_all or tx.actor.user_id == session.member_id):
                raise Forbidden("Only the session's member (or an admin) may rate it")
            tx.actor.require("ratings:write")
            if session.status != SessionStatus.COMPLETED:
                raise BusinessRuleViolation("Only a completed session can be rated")
            if session.rating is not None or tx.uow.ratings.find(session_id=session.id):
                raise Conflict("This session has already been rated")
            tx.uow.ratings.add(
                Rating(
                    id=new_id(),
                    session_id=session.id,
                    member_id=session.member_id,
                    coach_id=session.coach_id,
                    rating=stars,
                    feedback=text,
                    created_at=tx.now,
                )
            )
            rated = attrs.evolve(session, rating=stars, rating_feedback=text, updated_at=tx.now)
            tx.uow.sessions.update(rated)
            return visible(tx, rated)

        return self._rt.write(self._actor, run, action="sessions.rate")


def reschedule(
    tx: Tx,
    session: Session,
    start: datetime | None,
    minutes: int | None,
    kind: SessionType | None,
) -> Session:
    moved = attrs.evolve(
        session,
        scheduled_at=start or session.scheduled_at,
        duration=minutes or session.duration,
        type=kind or session.type,
        updated_at=tx.now,
    )
    tx.uow.sessions.update(moved)
    timing_changed = (moved.scheduled_at, moved.duration) != (
        session.scheduled_at,
        session.duration,
    )
    if not timing_changed:
        return moved
    event = tx.uow.calendar_events.get(session.calendar_event_id)
    if event is not None:
        event = attrs.evolve(
            event, start=moved.scheduled_at, end=moved.ends_at, sequence=event.sequence + 1
        )
        tx.uow.calendar_events.update(event)
        outgoing.upsert_event(tx, event)
    booking = tx.uow.bookings.find(session_id=session.id)
    if booking is not None:
        coach = records.user(tx.uow, session.coach_id)
        zone = zone_of(coach.timezone)
        local = moved.scheduled_at.astimezone(zone)
        day = local.date()
        extra = [
            extra_window(o)
            for o in tx.uow.overrides.for_coach(coach.id, day, day)
            if o.kind == OverrideKind.EXTRA
        ]  # weekly windows first, as booking looks there first
        windows = [*tx.uow.windows.list(coach_id=coach.id), *extra]
        window = window_containing(windows, moved.scheduled_at, moved.duration, zone)
        tx.uow.bookings.update(
            attrs.evolve(
                booking,
                start=moved.scheduled_at,
                duration=moved.duration,
                requested_date=local.date(),
                requested_time=local.strftime("%H:%M"),
                window_id=None if window is None else window.id,
                updated_at=tx.now,
            )
        )
    reminders.disarm(tx, session.id)
    reminders.arm(tx, moved)
    outgoing.broadcast(tx, slot_event(session, "cancelled"))
    outgoing.broadcast(tx, slot_event(moved, "booked"))
    waitlist.offer_freed(tx, session.coach_id, session.scheduled_at, session.duration)
    return moved
