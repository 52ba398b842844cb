"""Direct booking: confirm into a session at once, or reject a full slot."""

from __future__ import annotations

from datetime import datetime
from typing import Any, NoReturn

import attrs

from coachcore.domain import checks
from coachcore.domain.entities import Booking, User
from coachcore.domain.enums import BookingStatus, NotificationKind, SessionStatus
from coachcore.domain.rules import SchedulingRules
from coachcore.errors import SLOT_FULL_MESSAGE, BusinessRuleViolation, Conflict, Forbidden, SlotFull
from coachcore.policies.roles import Actor
from coachcore.scheduling.slots import SlotState
from coachcore.scheduling.wallclock import zone_of
from coachcore.services.accounts.profiles import require_coach_role, require_member_role
from coachcore.services.delivery import outgoing
from coachcore.services.runtime import records
from coachcore.services.runtime.transaction import CommitThenRaise, Tx, UseCases, new_id
from coachcore.services.scheduling import placement, sessions, waitlist
from coachcore.services.scheduling.booking_rights import check_booker, check_one_seat
from coachcore.services.scheduling.slots import slot_at


def _check_view(actor: Actor, booking: Booking) -> None:
    if actor.sees_all or actor.user_id in (booking.member_id, booking.coach_id):
        return
    raise Forbidden("You may not access this booking")


def _new_booking(
    tx: Tx,
    member: User,
    coach: User,
    start: datetime,
    duration: int,
    notes: str | None,
    key: str | None,
) -> Booking:
    local = start.astimezone(zone_of(coach.timezone))
    return Booking(
        id=new_id(),
        member_id=member.id,
        coach_id=coach.id,
        requested_date=local.date(),
        requested_time=local.strftime("%H:%M"),
        start=start,
        duration=duration,
        member_notes=notes,
        idempotency_key=key,
        created_at=tx.now,
        updated_at=tx.now,
    )


def _reject(tx: Tx, booking: Booking, reason: str = SLOT_FULL_MESSAGE) -> NoReturn:
    rejected = attrs.evolve(booking, status=BookingStatus.REJECTED, rejection_reason=reason)
    tx.uow.bookings.add(rejected)
    outgoing.notify(
        tx,
        booking.member_id,
        NotificationKind.BOOKING_REJECTED,
        "Booking not possible",
        reason,
        booking_id=booking.id,
    )
    raise CommitThenRaise(
        SlotFull(reason, details={"booking_id": booking.id, "start": booking.start.isoformat()})
    )


def _confirm(tx: Tx, booking: Booking, coach: User, member: User, slot: SlotState) -> Booking:
    session = sessions.schedule(
        tx, coach, member, booking.start, booking.duration, member_notes=booking.member_notes
    )
    confirmed = attrs.evolve(
        booking, status=BookingStatus.CONFIRMED, session_id=session.id, window_id=slot.window.id
    )
    tx.uow.bookings.add(confirmed)
    outgoing.notify(
        tx,
        member.id,
        NotificationKind.BOOKING_CONFIRMED,
        "Booking confirmed",
        f"Your session on {booking.start.isoformat()} is confirmed.",
        session_id=session.id,
        booking_id=booking.id,
    )
    event = sessions.slot_event(session, "booked")
    event["available_capacity"] = slot.available_capacity - 1
    event["max_capacity"] = slot.window.max_sessions_per_slot
    outgoing.broadcast(tx, event)
    return confirmed


def book(
    tx: Tx,
    coach_id: Any,
    member_id: Any,
    start: datetime,
    duration: int,
    notes: str | None,
    key: str | None,
) -> Booking:
    """The booking decision, under the coach's lock: the same rules as the listing.
    The lock comes first: a role change ending the member's coaching holds it
    too, so the link and the roles read below are current."""
    uow = tx.uow
    coach_key = checks.identifier("coach_id", coach_id)
    tx.uow.lock_coach(coach_key)
    profile = records.member(tx.uow, member_id)
    check_booker(tx, profile, coach_key)
    if key is not None:
        existing = tx.uow.bookings.find(member_id=profile.user_id, idempotency_key=key)
        if existing is not None:
            if (existing.coach_id, existing.start, existing.duration) != (
                coach_id,
                start,
                duration,
            ):
                raise Conflict("This idempotency key was used for another booking")
            return existing
    coach = records.active_user(tx.uow, coach_id, "coach_id")
    member = records.active_user(tx.uow, profile.user_id, "member_id")
    records.coach(tx.uow, coach.id)
    if start <= tx.now:
        raise BusinessRuleViolation("The requested time is in the past")
    require_coach_role(tx, coach)
    require_member_role(tx, member)
    check_one_seat(tx, coach.id, member.id, start)
    check = slot_at(uow, coach, start, duration, tx.now, member.id)
    booking = _new_booking(tx, member, coach, start, duration, notes, key)
    try:
        state = check.seat(start, duration)
        _check_member_cap(tx, member.id, coach.id, check.rules)
    except SlotFull as full:
        _reject(tx, booking, full.message)
    # Read before writing: a store that holds inserts back sends them together.
    entries = uow.waitlist.for_slot(coach.id, start, duration)
    confirmed = _confirm(tx, booking, coach, member, state)
    waitlist.mark_booked(tx, confirmed, entries)
    return confirmed


def _check_member_cap(tx: Tx, member_id: str, coach_id: str, rules: SchedulingRules) -> None:
    """A member holds at most the coach's cap of upcoming sessions with them."""
    cap = rules.max_future_bookings_per_member
    if cap is not None and tx.uow.sessions.count_upcoming(member_id, coach_id, tx.now) >= cap:
        raise BusinessRuleViolation(
            f"You already have {cap} upcoming sessions with this coach, the most allowed",
            details={"max_future_bookings_per_member": cap},
        )


class Bookings(UseCases):
    """``scope.bookings``: direct booking against the coach's slots."""

    def create(
        self,
        *,
        coach_id: Any,
        start: Any,
        duration: Any = 60,
        member_id: Any = None,
        member_notes: Any = None,
        idempotency_key: Any = None,
    ) -> Booking:
        """Book the slot at ``start``: a confirmed booking with its session, or
        ``SlotFull`` (after storing the rejected booking and its notification)."""
        moment = checks.aware("start", start)
        minutes = placement.duration_of(duration)
        notes = checks.text("member_notes", member_notes)
        key = (
            None
            if idempotency_key is None
            else checks.identifier("idempotency_key", idempotency_key)
        )
        checks.identifier("coach_id", coach_id)
        member = checks.optional_identifier("member_id", member_id)

        member_id = member or self._actor

        def run(tx: Tx) -> Booking:
            return book(tx, coach_id, member_id, moment, minutes, notes, key)

        return self._rt.write(self._actor, run, action="bookings.create")

    def get(self, booking_id: Any) -> Booking:
        """One booking, if the actor may see it (its member, its coach, an admin)."""

        def run(tx: Tx) -> Booking:
            booking = records.booking(tx.uow, booking_id)
            _check_view(tx.actor, booking)
            return booking

        return self._rt.read(self._actor, run)

    def list(self, *, status: Any = None) -> list[Booking]:
        """The actor's bookings (as member or coach; all for admins), by start."""
        wanted = None if status is None else checks.choice("status", status, BookingStatus)

        def run(tx: Tx) -> list[Booking]:
            tx.actor.require("bookings:read")
            if tx.actor.sees_all:
                rows = tx.uow.bookings.list()
            elif tx.actor.can("sessions:write"):
                rows = tx.uow.bookings.list(coach_id=tx.actor.user_id)
            else:
                rows = tx.uow.bookings.list(member_id=tx.actor.user_id)
            return [b for b in rows if wanted is None or b.status == wanted]

        return self._rt.read(self._actor, run)

    def cancel(self, booking_id: Any, *, reason: Any = None) -> Booking:
        """Cancel a confirmed booking: its session is cancelled and the seat freed."""
        why = checks.text("reason", reason, max_len=2000)

        def run(tx: Tx) -> Booking:
            booking = records.booking(tx.uow, booking_id)
            _check_view(tx.actor, booking)
            if booking.status != BookingStatus.CONFIRMED or booking.session_id is None:
                raise BusinessRuleViolation(f"A {booking.status} booking cannot be cancelled")
            session = records.session(tx.uow, booking.session_id)
            placement.check_cutoff(tx, session)
            tx.uow.lock_coach(booking.coach_id)
            sessions.cancel(tx, session, why)
            return records.booking(tx.uow, booking.id)

        return self._rt.write(self._actor, run, action="bookings.cancel")

    def reschedule(self, booking_id: Any, *, start: Any) -> Booking:
        """Move a confirmed booking (and its session) to another slot of the same
        coach, checked by the same rules as a new booking; the seat it leaves
        goes to the waitlist. Members are held to the coach's cut-off."""
        moment = checks.aware("start", start)

        def run(tx: Tx) -> Booking:
            booking = records.booking(tx.uow, booking_id)
            _check_view(tx.actor, booking)
            tx.actor.require("bookings:write")
            if booking.status != BookingStatus.CONFIRMED or booking.session_id is None:
                raise BusinessRuleViolation(f"A {booking.status} booking cannot be moved")
            session = records.session(tx.uow, booking.session_id)
            if session.status != SessionStatus.SCHEDULED:  # decide on the row written
                raise BusinessRuleViolation(f"A {session.status} session cannot be moved")
            placement.check_cutoff(tx, session)
            tx.uow.lock_coach(booking.coach_id)
            coach = records.active_user(tx.uow, booking.coach_id, "coach_id")
            placement.check_slot(tx, coach, booking.member_id, moment, booking.duration, session)
            sessions.reschedule(tx, session, moment, None, None)
            moved = records.booking(tx.uow, booking.id)
            waitlist.mark_booked(tx, moved)
            return moved

        return self._rt.write(self._actor, run, action="bookings.reschedule")
