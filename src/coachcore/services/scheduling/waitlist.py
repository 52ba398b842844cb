"""The waitlist of full slots: join, leave, and freed seats offered in turn.

A coach turns the waitlist on with the ``waitlist_hold_minutes`` rule. When a
seat frees (a cancellation, a reschedule, an expired hold), the first member
waiting for that slot is offered it: the seat is held for them for the hold
period (it counts as taken for everyone else, in listing and booking alike)
and they are notified through the outbox. They book it with
``bookings.create`` as usual. ``core.system.waitlist.release_expired()``
(``coachcore waitlist run`` from cron) ends holds that ran out and offers the
seat to the next member.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import attrs

from coachcore.domain import checks
from coachcore.domain.entities import Booking
from coachcore.domain.enums import NotificationKind
from coachcore.domain.rules import OPEN_WAITLIST, WaitlistEntry, WaitlistStatus
from coachcore.errors import BusinessRuleViolation, Conflict, Forbidden, SlotFull
from coachcore.services.accounts.profiles import require_member_role
from coachcore.services.delivery import outgoing
from coachcore.services.runtime import records
from coachcore.services.runtime.transaction import Tx, UseCases, new_id
from coachcore.services.scheduling.booking_rights import check_booker, check_one_seat
from coachcore.services.scheduling.slots import rules_of, slot_at

BATCH = 100


def _offer(tx: Tx, entry: WaitlistEntry, hold_minutes: int) -> None:
    until = tx.now + timedelta(minutes=hold_minutes)
    tx.uow.waitlist.update(
        attrs.evolve(entry, status=WaitlistStatus.OFFERED, hold_until=until, updated_at=tx.now)
    )
    outgoing.notify(
        tx,
        entry.member_id,
        NotificationKind.WAITLIST_OFFER,
        "A seat is free for you",
        f"A seat in the session at {entry.start.isoformat()} is held for you until "
        f"{until.isoformat()}. Book it before then.",
    )


def offer_freed(tx: Tx, coach_id: str, start: datetime, duration: int) -> int:
    """Offer the slot's free seats to those waiting, first come first; how many offers."""
    hold = rules_of(tx.uow, coach_id).waitlist_hold_minutes
    if hold is None or start <= tx.now:
        return 0
    waiting = [
        e
        for e in tx.uow.waitlist.for_slot(coach_id, start, duration)
        if e.status == WaitlistStatus.WAITING
    ]
    if not waiting:
        return 0
    coach = records.user(tx.uow, coach_id)
    check = slot_at(tx.uow, coach, start, duration, tx.now)
    free = 0 if check.state is None else check.state.available_capacity
    for entry in waiting[:free]:
        _offer(tx, entry, hold)
    return min(free, len(waiting))


def mark_booked(tx: Tx, booking: Booking, entries: Sequence[WaitlistEntry] | None = None) -> None:
    """The member booked the slot: their waiting or offered entry is done.
    ``entries``: the slot's open entries, if the caller read them already."""
    if entries is None:
        entries = tx.uow.waitlist.for_slot(booking.coach_id, booking.start, booking.duration)
    for entry in entries:
        if entry.member_id == booking.member_id:
            tx.uow.waitlist.update(
                attrs.evolve(
                    entry,
                    status=WaitlistStatus.BOOKED,
                    booking_id=booking.id,
                    hold_until=None,
                    updated_at=tx.now,
                )
            )


def leave_entry(tx: Tx, entry: WaitlistEntry) -> WaitlistEntry:
    """End an open entry as left, under the coach's lock; a seat held for it
    is offered to the next member (and they are notified)."""
    tx.uow.lock_coach(entry.coach_id)
    left = attrs.evolve(entry, status=WaitlistStatus.LEFT, hold_until=None, updated_at=tx.now)
    tx.uow.waitlist.update(left)
    if entry.status == WaitlistStatus.OFFERED:
        offer_freed(tx, entry.coach_id, entry.start, entry.duration)
    return left


def release_expired(tx: Tx) -> int:
    """End holds that ran out and offer their seats on; returns how many ended."""
    ended, batch = 0, BATCH
    while batch == BATCH:
        expired = tx.uow.waitlist.expired_holds(tx.now, BATCH)
        batch = len(expired)
        for entry in expired:
            tx.uow.lock_coach(entry.coach_id)
            current = tx.uow.waitlist.get(entry.id)  # another job may have ended it
            if current is None or current.status != WaitlistStatus.OFFERED:
                continue
            tx.uow.waitlist.update(
                attrs.evolve(current, status=WaitlistStatus.EXPIRED, updated_at=tx.now)
            )
            offer_freed(tx, entry.coach_id, entry.start, entry.duration)
            ended += 1
    return ended


def _check_joinable(
    tx: Tx, coach_id: str, member_id: str, start: datetime, duration: int
) -> Sequence[WaitlistEntry]:
    """Refuse a join that cannot be taken; the slot's open entries otherwise.
    Only a full slot can be joined: one the rules refuse, outside the coach's
    windows or with a free seat cannot (422)."""
    coach = records.active_user(tx.uow, coach_id, "coach_id")
    check = slot_at(tx.uow, coach, start, duration, tx.now, member_id)
    if check.rules.waitlist_hold_minutes is None:
        raise BusinessRuleViolation("This coach does not keep a waitlist")
    if check.refusal is not None:
        raise BusinessRuleViolation(check.refusal, details={"start": start.isoformat()})
    try:
        check.seat(start, duration)
    except SlotFull:
        pass  # full: the one case a waitlist is for
    else:
        raise BusinessRuleViolation("The slot has a free seat: book it instead")
    queue = tx.uow.waitlist.for_slot(coach_id, start, duration)
    if any(e.member_id == member_id for e in queue):
        raise Conflict("You are already on the waitlist of this slot")
    check_one_seat(tx, coach_id, member_id, start)
    return queue


def _check_entry(tx: Tx, entry: WaitlistEntry) -> None:
    actor = tx.actor
    if not (actor.sees_all or actor.user_id in (entry.member_id, entry.coach_id)):
        raise Forbidden("You may not access this waitlist entry")


class Waitlist(UseCases):
    """``scope.waitlist``: wait for a seat in a full slot."""

    def join(
        self, *, coach_id: Any, start: Any, duration: Any = 60, member_id: Any = None
    ) -> WaitlistEntry:
        """Queue for a full slot (422 if it has a free seat or the coach keeps no waitlist)."""
        moment = checks.aware("start", start)
        minutes = checks.integer("duration", duration, low=5, high=1440)
        coach = checks.identifier("coach_id", coach_id)
        member = checks.optional_identifier("member_id", member_id)

        def run(tx: Tx) -> WaitlistEntry:
            tx.uow.lock_coach(coach)  # first: a role change ending the link holds it too
            profile = records.member(tx.uow, member or tx.actor.user_id)
            check_booker(tx, profile, coach)
            require_member_role(tx, records.active_user(tx.uow, profile.user_id, "member_id"))
            if moment <= tx.now:
                raise BusinessRuleViolation("The requested time is in the past")
            queue = _check_joinable(tx, coach, profile.user_id, moment, minutes)
            entry = WaitlistEntry(
                id=new_id(),
                coach_id=coach,
                member_id=profile.user_id,
                start=moment,
                duration=minutes,
                position=max((e.position for e in queue), default=0) + 1,
                created_at=tx.now,
                updated_at=tx.now,
            )
            tx.uow.waitlist.add(entry)
            return entry

        return self._rt.write(self._actor, run, action="waitlist.join")

    def leave(self, entry_id: Any) -> WaitlistEntry:
        """Leave the queue; a seat held for this entry goes to the next member."""

        def run(tx: Tx) -> WaitlistEntry:
            entry = records.waitlist_entry(tx.uow, entry_id)
            _check_entry(tx, entry)
            if entry.status not in OPEN_WAITLIST:
                raise BusinessRuleViolation(f"A {entry.status} waitlist entry cannot be left")
            return leave_entry(tx, entry)

        return self._rt.write(self._actor, run, action="waitlist.leave")

    def list(self) -> list[WaitlistEntry]:
        """The actor's entries (as member, or for their slots as coach; all for admins)."""

        def run(tx: Tx) -> list[WaitlistEntry]:
            tx.actor.require("bookings:read")
            if tx.actor.sees_all:
                return list(tx.uow.waitlist.list())
            if tx.actor.can("sessions:write"):
                return list(tx.uow.waitlist.list(coach_id=tx.actor.user_id))
            return list(tx.uow.waitlist.list(member_id=tx.actor.user_id))

        return self._rt.read(self._actor, run)


class WaitlistJobs(Waitlist):
    """``core.system.waitlist``: the waitlist plus the job that ends expired holds."""

    def release_expired(self) -> int:
        """End holds that ran out and offer the seats on; returns how many ended."""

        def run(tx: Tx) -> int:
            tx.actor.require("waitlist:run")
            return release_expired(tx)

        return self._rt.write(self._actor, run, action="waitlistjobs.release_expired")

    def expired(self) -> list[WaitlistEntry]:
        """The holds ``release_expired()`` would end now; changes nothing."""

        def run(tx: Tx) -> list[WaitlistEntry]:
            tx.actor.require("waitlist:run")
            return list(tx.uow.waitlist.expired_holds(tx.now, BATCH))

        return self._rt.read(self._actor, run)
