"""Concurrent state transitions of one item: one wins, the other fails, and the
end state is the winner's (no lost update, nothing of the loser's written).

Each pair below is a function that sets up one fresh item through the public
API and returns a :class:`races.Race`: the two calls and a checker of the end
state. Every pair runs ``ROUNDS`` times per store (all items set up first,
then raced one round after the other, two threads released by a barrier),
and the rounds are judged once the outbox is drained.

The loser may fail with 409 (the item changed meanwhile) or, where it re-read
the item, with the 422/409 its new state calls for; two successes are a lost
update (except for pairs marked ``both_ok``, which also succeed one after the
other in some order: their checker then makes sure the end state is that
order's). A two-process variant races two pairs between 'spawn' processes on
the SQL stores, and a negative control shows the harness reports a naive
read-then-write transition.
"""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

import coachcore
from backends import T0, Backend, BackendPool, BackendUnavailable, SqlBackend
from coachcore import NotificationKind
from coachcore.adapters.clock import FixedClock
from coachcore.domain.relations import InvitationStatus
from coachcore.errors import Conflict, NotFound, SlotFull
from coachcore.services.scheduling.booking_rights import ONE_SEAT
from races import (
    TWO_WINNERS,
    Checker,
    Outcome,
    Race,
    Round,
    judge,
    outcome_of,
    process_worker,
    report,
    run_races,
)
from world import World

ROUNDS = 20
MONDAY = datetime(2030, 1, 7, tzinfo=UTC)  # T0 is Tuesday 2030-01-01 08:00 UTC
TODAY_9 = datetime(2030, 1, 1, 9, tzinfo=UTC)  # within a 24 h cut-off of T0
CANCELLED = NotificationKind.SESSION_CANCELLED
CONFIRMED = NotificationKind.BOOKING_CONFIRMED
BOOKING_ROUNDS = 4
"""Rounds of the one-seat booking pairs (a few: each books through the whole path)."""
NAIVE_DELAY = 0.02
"""Seconds the negative control's naive transition waits between read and write."""


class Bench:
    """A world plus what the checkers read: notifications, deliveries, audit."""

    def __init__(self, world: World, *, delivered_here: bool = True) -> None:
        self.world = world
        self.core = world.core
        self.delivered_here = delivered_here
        """False where other processes made the calls (and delivered their effects):
        the checkers then look at the stored rows only."""

    def scope(self, user: Any) -> Any:
        return self.core.acting_as(user.id)

    def stored(self, recipient_id: str, kind: str, session_id: str | None = None) -> int:
        """Notifications of ``kind`` stored for the recipient (about the session)."""
        rows = self.core.system.notifications.list(recipient_id)
        return sum(1 for n in rows if n.kind == kind and session_id in (None, n.session_id))

    def sent(self, recipient_id: str, kind: str, session_id: str | None = None) -> int:
        """Notifications of ``kind`` delivered to the recipient (about the session)."""
        return sum(
            1
            for n in self.core.notifier.sent  # type: ignore[attr-defined]
            if n.recipient_id == recipient_id
            and n.kind == kind
            and session_id in (None, n.session_id)
        )

    def told(self, who: Any, kind: str, session_id: str, want: int) -> list[str]:
        """Problems unless ``who`` has exactly ``want`` such notifications, stored and sent."""
        stored = self.stored(who.id, kind, session_id)
        got = (stored, self.sent(who.id, kind, session_id) if self.delivered_here else stored)
        if got != (want, want):
            return [f"{kind} to {who.name}: {got[0]} stored, {got[1]} sent, expected {want}"]
        return []

    def queued(self, kind: str, session_id: str) -> int:
        """Outbox notification messages of ``kind`` about the session, delivered or not."""
        with self.core.store.unit_of_work(write=False) as uow:
            rows = uow.outbox.list()
        return sum(
            1
            for m in rows
            if m.channel == "notification"
            and m.payload.get("kind") == kind
            and m.payload.get("session_id") == session_id
        )

    def audit(self, entity_type: str, entity_id: str) -> list[Any]:
        return self.core.system.audit.list(entity_type=entity_type, entity_id=entity_id)

    def calendar_cancels(self, event_id: str) -> int:
        if not self.delivered_here:
            return 1
        calls = self.core.calendar.calls  # type: ignore[attr-defined]
        return sum(1 for call in calls if call == ("cancel", event_id))

    def event_status(self, event_id: str) -> str | None:
        event = self.core.calendar.events.get(event_id)  # type: ignore[attr-defined]
        return None if event is None else str(event.status)


def _expect(problems: list[str], what: str, got: Any, want: Any) -> None:
    if got != want:
        problems.append(f"{what}: {got!r}, expected {want!r}")


# -- the pairs ----------------------------------------------------------------
# Each takes the bench and a per-pair context (built once, shared by the
# pair's rounds) and the round number; it returns one fresh race.


def _invitation(bench: Bench, ctx: dict[str, Any]) -> tuple[Any, Any, Any]:
    """An existing member (no coach yet) invited by the pair's coach: (member, id, token)."""
    coach = ctx.setdefault("coach", bench.world.coach())
    member = bench.world.member()
    issued = bench.scope(coach).invitations.create(email=member.email)
    return member, issued.invitation.id, issued.token


def _invitation_checker(
    bench: Bench, coach: Any, member: Any, invitation_id: str, other: str
) -> Checker:
    """(a) accept vs (b) ``other`` (revoked or declined): the winner's state only."""

    def check(a_ok: bool, b_ok: bool) -> list[str]:
        problems: list[str] = []
        found = bench.scope(coach).invitations.get(invitation_id)
        rels = bench.core.system.relationships.list(coach_id=coach.id, member_id=member.id)
        actions = sorted(e.action for e in bench.audit("invitation", invitation_id))
        if a_ok and not b_ok:
            _expect(problems, "invitation", found.status, InvitationStatus.ACCEPTED)
            _expect(problems, "relationships", [str(r.status) for r in rels], ["active"])
            _expect(problems, "relationship", found.relationship_id, rels[0].id if rels else None)
            _expect(
                problems, "audit", actions, sorted(["invitation.created", "invitation.accepted"])
            )
        elif b_ok and not a_ok:
            _expect(problems, "invitation", found.status, other)
            _expect(problems, "relationships", [str(r.status) for r in rels], [])
            _expect(
                problems, "audit", actions, sorted(["invitation.created", f"invitation.{other}"])
            )
        else:
            problems.append(
                f"end state: invitation {found.status}, relationships "
                f"{[str(r.status) for r in rels]}, audit {actions}"
            )
        return problems

    return check


def accept_vs_revoke(bench: Bench, ctx: dict[str, Any], i: int) -> Race:
    member, invitation_id, token = _invitation(bench, ctx)
    coach = ctx["coach"]
    return Race(
        a=lambda: bench.scope(member).invitations.accept(token),
        b=lambda: bench.scope(coach).invitations.revoke(invitation_id),
        check=_invitation_checker(bench, coach, member, invitation_id, "revoked"),
    )


def accept_vs_decline(bench: Bench, ctx: dict[str, Any], i: int) -> Race:
    member, invitation_id, token = _invitation(bench, ctx)
    return Race(
        a=lambda: bench.scope(member).invitations.accept(token),
        b=lambda: bench.scope(member).invitations.decline(token),
        check=_invitation_checker(bench, ctx["coach"], member, invitation_id, "declined"),
    )


def _session(bench: Bench, ctx: dict[str, Any], i: int, cutoff: int | None = None) -> Any:
    """A session the pair's coach scheduled with the pair's member, Monday + i hours."""
    if "coach" not in ctx:
        ctx["coach"] = bench.world.coach(max_members=1000)
        ctx["member"] = bench.world.member(ctx["coach"])
        if cutoff is not None:
            bench.scope(ctx["coach"]).scheduling.set_rules(cancellation_cutoff_hours=cutoff)
    return bench.scope(ctx["coach"]).sessions.create(
        member_id=ctx["member"].id,
        coach_id=ctx["coach"].id,
        scheduled_at=MONDAY + timedelta(hours=i),
        duration=30,
        override=True,
        override_reason="set up by the test",
    )


def complete_vs_cancel(bench: Bench, ctx: dict[str, Any], i: int) -> Race:
    session = _session(bench, ctx, i)
    coach, member = ctx["coach"], ctx["member"]
    notes = f"went well ({i})"

    def check(a_ok: bool, b_ok: bool) -> list[str]:
        problems: list[str] = []
        found = bench.scope(coach).sessions.get(session.id)
        event = session.calendar_event_id
        done = NotificationKind.SESSION_COMPLETED
        rate = NotificationKind.RATE_SESSION
        if a_ok and not b_ok:
            _expect(problems, "session", (found.status, found.coach_notes), ("completed", notes))
            _expect(problems, "calendar cancels", bench.calendar_cancels(event), 0)
            _expect(problems, "calendar event", bench.event_status(event), "confirmed")
            for who in (coach, member):
                problems += bench.told(who, done, session.id, 1)
                problems += bench.told(who, CANCELLED, session.id, 0)
            problems += bench.told(member, rate, session.id, 1)
        elif b_ok and not a_ok:
            _expect(problems, "session", (found.status, found.coach_notes), ("cancelled", None))
            _expect(problems, "calendar cancels", bench.calendar_cancels(event), 1)
            _expect(problems, "calendar event", bench.event_status(event), "cancelled")
            for who in (coach, member):
                problems += bench.told(who, CANCELLED, session.id, 1)
                problems += bench.told(who, done, session.id, 0)
            problems += bench.told(member, rate, session.id, 0)
        else:
            told = {str(k): bench.stored(member.id, k, session.id) for k in (done, CANCELLED, rate)}
            problems.append(
                f"end state: session {found.status}, coach notes {found.coach_notes!r}, "
                f"calendar cancels {bench.calendar_cancels(event)}, member told {told}"
            )
        return problems

    return Race(
        a=lambda: bench.scope(coach).sessions.complete(session.id, coach_notes=notes),
        b=lambda: bench.scope(member).sessions.cancel(session.id),
        check=check,
    )


def _booking(bench: Bench, ctx: dict[str, Any], i: int, cutoff: int | None = None) -> Any:
    """The pair's member's booking of Monday's slot number i with the pair's coach
    (one 20-hour window of 1-seat slots; with ``cutoff``, also 2-seat slots today)."""
    if "coach" not in ctx:
        coach = ctx["coach"] = bench.world.coach()
        ctx["member"] = bench.world.member(coach)
        bench.world.window(coach, 1, "00:00", "20:00", buffer_minutes=0)
        if cutoff is not None:
            bench.world.window(
                coach, 2, "09:00", "19:00", max_sessions_per_slot=2, buffer_minutes=0
            )
            bench.scope(coach).scheduling.set_rules(cancellation_cutoff_hours=cutoff)
    return bench.world.book(ctx["member"], ctx["coach"], MONDAY + timedelta(hours=i))


def _cancelled_once(bench: Bench, coach: Any, member: Any, booking: Any) -> Checker:
    """Whoever won: the booking and its session cancelled, once (one calendar
    cancellation, one notification to each party)."""
    session_id = booking.session_id

    def check(a_ok: bool, b_ok: bool) -> list[str]:
        problems: list[str] = []
        found = bench.core.system.bookings.get(booking.id)
        session = bench.core.system.sessions.get(session_id)
        _expect(problems, "booking", found.status, "cancelled")
        _expect(problems, "session", session.status, "cancelled")
        event = session.calendar_event_id
        _expect(problems, "calendar cancels", bench.calendar_cancels(event), 1)
        for who in (coach, member):
            problems += bench.told(who, CANCELLED, session_id, 1)
        return problems

    return check


def cancel_vs_cancel(bench: Bench, ctx: dict[str, Any], i: int) -> Race:
    booking = _booking(bench, ctx, i)
    coach, member = ctx["coach"], ctx["member"]
    return Race(
        a=lambda: bench.scope(member).bookings.cancel(booking.id),
        b=lambda: bench.scope(coach).bookings.cancel(booking.id),
        check=_cancelled_once(bench, coach, member, booking),
    )


def cancel_vs_reschedule(bench: Bench, ctx: dict[str, Any], i: int) -> Race:
    """The member cancels or moves a booking to today, inside the coach's 24 h
    cut-off: after the move the member may no longer cancel, after the
    cancellation nothing can be moved, so one must lose either way."""
    booking = _booking(bench, ctx, i, cutoff=24)
    coach, member = ctx["coach"], ctx["member"]
    target = TODAY_9 + timedelta(hours=i // 2)
    session_id = booking.session_id

    def check(a_ok: bool, b_ok: bool) -> list[str]:
        problems: list[str] = []
        found = bench.core.system.bookings.get(booking.id)
        session = bench.core.system.sessions.get(session_id)
        event = session.calendar_event_id
        scheduled = [
            s.id
            for s in bench.core.system.sessions.list(member_id=member.id, status="scheduled")
            if s.id == session_id
        ]
        if found.status == "cancelled" and scheduled:
            problems.append("a cancelled booking with a scheduled session")
        if a_ok and not b_ok:
            _expect(problems, "booking", (found.status, found.start), ("cancelled", booking.start))
            _expect(
                problems,
                "session",
                (session.status, session.scheduled_at),
                ("cancelled", booking.start),
            )
            _expect(problems, "calendar event", bench.event_status(event), "cancelled")
            _expect(problems, "calendar cancels", bench.calendar_cancels(event), 1)
            for who in (coach, member):
                problems += bench.told(who, CANCELLED, session_id, 1)
        elif b_ok and not a_ok:
            _expect(problems, "booking", (found.status, found.start), ("confirmed", target))
            _expect(
                problems, "session", (session.status, session.scheduled_at), ("scheduled", target)
            )
            _expect(problems, "calendar event", bench.event_status(event), "confirmed")
            _expect(problems, "calendar cancels", bench.calendar_cancels(event), 0)
            for who in (coach, member):
                problems += bench.told(who, CANCELLED, session_id, 0)
        else:
            problems.append(
                f"end state: booking {found.status} at {found.start}, session {session.status} "
                f"at {session.scheduled_at}, calendar cancels {bench.calendar_cancels(event)}"
            )
        return problems

    return Race(
        a=lambda: bench.scope(member).bookings.cancel(booking.id),
        b=lambda: bench.scope(member).bookings.reschedule(booking.id, start=target),
        check=check,
    )


def update_vs_cancel(bench: Bench, ctx: dict[str, Any], i: int) -> Race:
    """The coach moves a session to today, inside the 24 h cut-off that binds the
    member, while the member cancels it: one must lose either way."""
    session = _session(bench, ctx, i, cutoff=24)
    coach, member = ctx["coach"], ctx["member"]
    target = TODAY_9 + timedelta(minutes=30 * i)

    def check(a_ok: bool, b_ok: bool) -> list[str]:
        problems: list[str] = []
        found = bench.core.system.sessions.get(session.id)
        event = session.calendar_event_id
        if a_ok and not b_ok:
            _expect(problems, "session", (found.status, found.scheduled_at), ("scheduled", target))
            _expect(problems, "calendar event", bench.event_status(event), "confirmed")
            _expect(problems, "calendar cancels", bench.calendar_cancels(event), 0)
            for who in (coach, member):
                problems += bench.told(who, CANCELLED, session.id, 0)
        elif b_ok and not a_ok:
            _expect(
                problems,
                "session",
                (found.status, found.scheduled_at),
                ("cancelled", session.scheduled_at),
            )
            _expect(problems, "calendar event", bench.event_status(event), "cancelled")
            _expect(problems, "calendar cancels", bench.calendar_cancels(event), 1)
            for who in (coach, member):
                problems += bench.told(who, CANCELLED, session.id, 1)
        else:
            problems.append(
                f"end state: session {found.status} at {found.scheduled_at}, calendar "
                f"event {bench.event_status(event)}, cancels {bench.calendar_cancels(event)}"
            )
        return problems

    return Race(
        a=lambda: bench.scope(coach).sessions.update(
            session.id, scheduled_at=target, override=True, override_reason="set up by the test"
        ),
        b=lambda: bench.scope(member).sessions.cancel(session.id),
        check=check,
    )


def rate_vs_rate(bench: Bench, ctx: dict[str, Any], i: int) -> Race:
    session = _session(bench, ctx, i)
    bench.scope(ctx["coach"]).sessions.complete(session.id)
    member = ctx["member"]

    def check(a_ok: bool, b_ok: bool) -> list[str]:
        problems: list[str] = []
        found = bench.core.system.sessions.get(session.id)
        want = 5 if a_ok else 2
        _expect(problems, "rating", (found.rating, found.rating_feedback), (want, f"{want} stars"))
        return problems

    return Race(
        a=lambda: bench.scope(member).sessions.rate(session.id, rating=5, feedback="5 stars"),
        b=lambda: bench.scope(member).sessions.rate(session.id, rating=2, feedback="2 stars"),
        check=check,
    )


def pause_vs_complete(bench: Bench, ctx: dict[str, Any], i: int) -> Race:
    """Pausing then ending is allowed, ending then pausing is not: two successes
    must leave the relationship completed, each move made from the other's state."""
    coach = ctx.setdefault("coach", bench.world.coach(max_members=1000))
    member = bench.world.member()
    rels = bench.core.system.relationships
    rel = rels.accept(rels.request(coach_id=coach.id, member_id=member.id).id)

    def check(a_ok: bool, b_ok: bool) -> list[str]:
        problems: list[str] = []
        found = rels.get(rel.id)
        moves = sorted(
            (e.details.get("old"), e.details.get("new"))
            for e in bench.audit("relationship", rel.id)
            if e.action == "relationship.status_changed"
        )
        if a_ok and b_ok:
            _expect(problems, "relationship", found.status, "completed")
            want = [("active", "paused"), ("paused", "completed"), ("pending", "active")]
        elif a_ok:
            _expect(problems, "relationship", found.status, "paused")
            want = [("active", "paused"), ("pending", "active")]
        else:
            _expect(problems, "relationship", found.status, "completed")
            want = [("active", "completed"), ("pending", "active")]
        _expect(problems, "moves", moves, want)
        return problems

    return Race(
        a=lambda: bench.scope(coach).relationships.pause(rel.id),
        b=lambda: bench.scope(member).relationships.complete(rel.id),
        check=check,
        both_ok=True,
    )


def _request_race(bench: Bench, ctx: dict[str, Any], a_move: str, b_move: str) -> Race:
    """A member's pending request to the pair's coach, ended two ways at once:
    exactly one ending wins, with its audit entry and its notification only
    (a fresh pair each round: notifications name no relationship)."""
    coach = bench.world.coach()
    member = bench.world.member()
    rel = bench.scope(member).relationships.request(coach_id=coach.id)
    moves = {
        "accept": (coach, lambda: bench.scope(coach).relationships.accept(rel.id)),
        "decline": (coach, lambda: bench.scope(coach).relationships.decline(rel.id, "no room")),
        "withdraw": (member, lambda: bench.scope(member).relationships.withdraw(rel.id)),
    }
    status = {"accept": "active", "decline": "declined", "withdraw": "withdrawn"}
    kinds = {"decline": "relationship_declined", "withdraw": "relationship_withdrawn"}

    def check(a_ok: bool, b_ok: bool) -> list[str]:
        problems: list[str] = []
        found = bench.core.system.relationships.get(rel.id)
        ended = [
            e.details.get("new")
            for e in bench.audit("relationship", rel.id)
            if e.action == "relationship.status_changed"
        ]
        if a_ok == b_ok:
            return [f"end state: {found.status}, moves {ended}"]
        winner, loser = (a_move, b_move) if a_ok else (b_move, a_move)
        _expect(problems, "relationship", found.status, status[winner])
        _expect(problems, "moves", ended, [status[winner]])
        for move, kind in kinds.items():
            told = member if move == "decline" else coach
            want = 1 if move == winner else 0
            if move in (winner, loser):
                problems += bench.told(told, kind, None, want)  # type: ignore[arg-type]
        return problems

    return Race(a=moves[a_move][1], b=moves[b_move][1], check=check)


def request_accept_vs_withdraw(bench: Bench, ctx: dict[str, Any], i: int) -> Race:
    return _request_race(bench, ctx, "accept", "withdraw")


def request_decline_vs_withdraw(bench: Bench, ctx: dict[str, Any], i: int) -> Race:
    return _request_race(bench, ctx, "decline", "withdraw")


def request_accept_vs_decline(bench: Bench, ctx: dict[str, Any], i: int) -> Race:
    return _request_race(bench, ctx, "accept", "decline")


def demote_vs_assign(bench: Bench, ctx: dict[str, Any], i: int) -> Race:
    """A coach demoted while an admin gives them a member: one wins; never a
    member assigned to someone who no longer coaches."""
    coach, member = bench.world.coach(), bench.world.member()

    def check(a_ok: bool, b_ok: bool) -> list[str]:
        problems: list[str] = []
        role = bench.core.system.users.get(coach.id).role
        assigned = bench.core.system.members.get(member.id).coach_id
        if a_ok == b_ok:
            return [f"end state: role {role}, member's coach {assigned}"]
        _expect(problems, "(role, member's coach)", (role, assigned),
                ("member", None) if a_ok else ("coach", coach.id))  # fmt: skip
        return problems

    return Race(
        a=lambda: bench.core.system.users.change_role(coach.id, "member"),
        b=lambda: bench.core.system.members.assign_coach(member.id, coach.id),
        check=check,
    )


def demote_vs_accept(bench: Bench, ctx: dict[str, Any], i: int) -> Race:
    """A coach demoted while accepting a member's request: one wins; never an
    active relationship with someone who no longer coaches."""
    coach, member = bench.world.coach(), bench.world.member()
    rel = bench.scope(member).relationships.request(coach_id=coach.id)

    def check(a_ok: bool, b_ok: bool) -> list[str]:
        problems: list[str] = []
        role = bench.core.system.users.get(coach.id).role
        status = bench.core.system.relationships.get(rel.id).status
        if a_ok == b_ok:
            return [f"end state: role {role}, relationship {status}"]
        _expect(problems, "(role, relationship)", (role, str(status)),
                ("member", "declined") if a_ok else ("coach", "active"))  # fmt: skip
        return problems

    return Race(
        a=lambda: bench.core.system.users.change_role(coach.id, "member"),
        b=lambda: bench.scope(coach).relationships.accept(rel.id),
        check=check,
    )


def promote_vs_assign(bench: Bench, ctx: dict[str, Any], i: int) -> Race:
    """A member promoted to admin while given a coach: assigning then promoting
    is fine (the promotion releases the coach), promoting then assigning is
    not (422); never an admin with a primary coach."""
    coach, member = bench.world.coach(), bench.world.member()

    def check(a_ok: bool, b_ok: bool) -> list[str]:
        problems: list[str] = []
        role = bench.core.system.users.get(member.id).role
        assigned = bench.core.system.members.get(member.id).coach_id
        if not (a_ok or b_ok):
            return [f"end state: role {role}, coach {assigned}"]
        _expect(problems, "(role, coach)", (role, assigned),
                ("admin", None) if a_ok else ("member", coach.id))  # fmt: skip
        return problems

    return Race(
        a=lambda: bench.core.system.users.change_role(member.id, "admin"),
        b=lambda: bench.core.system.members.assign_coach(member.id, coach.id),
        check=check,
        both_ok=True,
    )


def demote_vs_admin_booking(bench: Bench, ctx: dict[str, Any], i: int) -> Race:
    """A coach demoted while an admin books a member into their slot (no member
    link vouches for the coach): one wins; never a session with a non-coach."""
    coach, member = bench.world.coach(), bench.world.member()
    bench.world.window(coach, 1, "09:00", "10:00")
    admin = ctx.setdefault("admin", bench.world.admin())
    start = MONDAY + timedelta(hours=9)

    def check(a_ok: bool, b_ok: bool) -> list[str]:
        problems: list[str] = []
        role = bench.core.system.users.get(coach.id).role
        held = len(bench.core.system.sessions.list(coach_id=coach.id, status="scheduled"))
        if a_ok == b_ok:
            return [f"end state: role {role}, scheduled sessions {held}"]
        _expect(problems, "(role, sessions)", (role, held), ("member", 0) if a_ok else ("coach", 1))
        return problems

    return Race(
        a=lambda: bench.core.system.users.change_role(coach.id, "member"),
        b=lambda: bench.scope(admin).bookings.create(
            member_id=member.id, coach_id=coach.id, start=start, duration=60
        ),
        check=check,
    )


def manager_loop(bench: Bench, ctx: dict[str, Any], i: int) -> Race:
    """Two admins make two users each other's manager at once: one line wins,
    never a loop."""
    x, y = bench.world.coach(), bench.world.coach()
    users = bench.core.system.users

    def check(a_ok: bool, b_ok: bool) -> list[str]:
        lines = (users.get(x.id).manager_id, users.get(y.id).manager_id)
        if a_ok == b_ok:
            return [f"end state: managers {lines}"]
        problems: list[str] = []
        _expect(problems, "managers", lines, (y.id, None) if a_ok else (None, x.id))
        return problems

    return Race(
        a=lambda: users.set_manager(x.id, y.id),
        b=lambda: users.set_manager(y.id, x.id),
        check=check,
    )


def item_complete_vs_update(bench: Bench, ctx: dict[str, Any], i: int) -> Race:
    """Completing and retitling commute: both may succeed (then both show), or
    the loser fails and only the winner's change shows, never one lost."""
    if "session" not in ctx:
        ctx["session"] = _session(bench, ctx, 0)
    coach, member = ctx["coach"], ctx["member"]
    item = bench.scope(coach).action_items.create(session_id=ctx["session"].id, title="Run")
    title = f"Run {i} km"

    def check(a_ok: bool, b_ok: bool) -> list[str]:
        problems: list[str] = []
        found = bench.scope(coach).action_items.get(item.id)
        want = ("done" if a_ok else "open", title if b_ok else "Run")
        _expect(problems, "item (status, title)", (found.status, found.title), want)
        return problems

    return Race(
        a=lambda: bench.scope(member).action_items.complete(item.id),
        b=lambda: bench.scope(coach).action_items.update(item.id, title=title),
        check=check,
        both_ok=True,
    )


def document_update_vs_delete(bench: Bench, ctx: dict[str, Any], i: int) -> Race:
    """Updating then deleting is fine; deleting then updating is not (404)."""
    coach = ctx.setdefault("coach", bench.world.coach())
    doc = bench.scope(coach).documents.upload(
        title="Plan", filename="plan.md", content=f"# Week {i}".encode()
    )

    def check(a_ok: bool, b_ok: bool) -> list[str]:
        problems: list[str] = []
        try:
            found = bench.scope(coach).documents.get(doc.id)
        except NotFound:
            found = None
        if b_ok:
            _expect(problems, "document", found, None)
        else:
            _expect(problems, "document title", found and found.title, "Plan 2")
        return problems

    return Race(
        a=lambda: bench.scope(coach).documents.update(doc.id, title="Plan 2"),
        b=lambda: bench.scope(coach).documents.delete(doc.id),
        check=check,
        both_ok=True,
    )


def role_vs_removal(bench: Bench, ctx: dict[str, Any], i: int) -> Race:
    """Promoting then removing is fine; removing then promoting is not (404)."""
    owner = ctx.setdefault("owner", bench.world.coach())
    if "org" not in ctx:
        ctx["org"] = bench.scope(owner).organizations.create(name="Practice", kind="coach_practice")
    org = ctx["org"].id
    colleague = bench.world.coach()
    orgs = bench.scope(owner).organizations
    asked = orgs.invite(org, colleague.id)
    bench.scope(colleague).organizations.accept_invitation(asked.id)

    def check(a_ok: bool, b_ok: bool) -> list[str]:
        problems: list[str] = []
        roles = {m.user_id: str(m.role) for m in orgs.members(org)}
        want = None if b_ok else "admin"
        _expect(problems, "membership", roles.get(colleague.id), want)
        return problems

    return Race(
        a=lambda: orgs.set_member_role(org, colleague.id, "admin"),
        b=lambda: orgs.remove_member(org, colleague.id),
        check=check,
        both_ok=True,
    )


def org_accept_vs_revoke(bench: Bench, ctx: dict[str, Any], i: int) -> Race:
    """The invited user accepts while the organization's admin withdraws."""
    owner = ctx.setdefault("owner", bench.world.coach())
    if "org" not in ctx:
        ctx["org"] = bench.scope(owner).organizations.create(name="Firm", kind="client_company")
    org = ctx["org"].id
    invitee = bench.world.member()
    asked = bench.scope(owner).organizations.invite(org, invitee.id)

    def check(a_ok: bool, b_ok: bool) -> list[str]:
        problems: list[str] = []
        orgs = bench.scope(owner).organizations
        found = next(x for x in orgs.invitations(organization_id=org) if x.id == asked.id)
        joined = invitee.id in {m.user_id for m in bench.scope(owner).organizations.members(org)}
        if a_ok and not b_ok:
            _expect(problems, "invitation", str(found.status), "accepted")
            _expect(problems, "joined", joined, True)
        elif b_ok and not a_ok:
            _expect(problems, "invitation", str(found.status), "revoked")
            _expect(problems, "joined", joined, False)
        else:
            problems.append(f"end state: invitation {found.status}, joined {joined}")
        return problems

    return Race(
        a=lambda: bench.scope(invitee).organizations.accept_invitation(asked.id),
        b=lambda: bench.scope(owner).organizations.revoke_invitation(asked.id),
        check=check,
    )


def org_invite_vs_invite(bench: Bench, ctx: dict[str, Any], i: int) -> Race:
    """Two of the organization's admins invite the same user at once: one
    invitation, one notification; the other admin is told it exists."""
    owner = ctx.setdefault("owner", bench.world.coach())
    if "org" not in ctx:
        ctx["org"] = bench.scope(owner).organizations.create(name="Firm", kind="client_company")
        ctx["second"] = bench.world.coach()
        bench.core.system.organizations.add_member(ctx["org"].id, ctx["second"].id, role="admin")
    org, second = ctx["org"].id, ctx["second"]
    invitee = bench.world.member()

    def check(a_ok: bool, b_ok: bool) -> list[str]:
        problems: list[str] = []
        asked = [
            x
            for x in bench.scope(owner).organizations.invitations(organization_id=org)
            if x.user_id == invitee.id
        ]
        _expect(problems, "invitations", len(asked), 1)
        told = bench.core.notifier.kinds_for(invitee.id)  # type: ignore[attr-defined]
        _expect(problems, "notifications", told.count("organization_invitation"), 1)
        return problems

    return Race(
        a=lambda: bench.scope(owner).organizations.invite(org, invitee.id),
        b=lambda: bench.scope(second).organizations.invite(org, invitee.id),
        check=check,
    )


def _left_coaching(bench: Bench, member: Any) -> Callable[[], Any]:
    """The member becomes a coach: released from being coached (422 while they
    hold scheduled sessions as member)."""
    return lambda: bench.core.system.users.change_role(member.id, "coach")


def _member_sessions(bench: Bench, member: Any) -> tuple[str, int]:
    role = bench.core.system.users.get(member.id).role
    held = bench.core.system.sessions.list(member_id=member.id, status="scheduled")
    return str(role), len(held)


def _leave_vs_session(bench: Bench, make: Callable[[Any, Any], Any]) -> Race:
    """A member stops being coached while ``make(coach, member)`` gives them a
    session: one wins; never a session held by someone who is no longer coached."""
    coach = bench.world.coach()
    member = bench.world.member(coach)
    bench.world.window(coach, 1, "09:00", "10:00")

    def check(a_ok: bool, b_ok: bool) -> list[str]:
        problems: list[str] = []
        got = _member_sessions(bench, member)
        if a_ok == b_ok:
            return [f"end state: (role, sessions) {got}"]
        _expect(problems, "(role, sessions)", got, ("coach", 0) if a_ok else ("member", 1))
        return problems

    return Race(a=_left_coaching(bench, member), b=lambda: make(coach, member), check=check)


def leave_vs_own_booking(bench: Bench, ctx: dict[str, Any], i: int) -> Race:
    """The member books with their coach."""
    return _leave_vs_session(
        bench,
        lambda coach, member: bench.scope(member).bookings.create(
            coach_id=coach.id, start=MONDAY + timedelta(hours=9)
        ),
    )


def leave_vs_coach_scheduling(bench: Bench, ctx: dict[str, Any], i: int) -> Race:
    """Their coach schedules them a session."""
    return _leave_vs_session(
        bench,
        lambda coach, member: bench.scope(coach).sessions.create(
            member_id=member.id, coach_id=coach.id, scheduled_at=MONDAY + timedelta(hours=9)
        ),
    )


def leave_vs_waitlist_join(bench: Bench, ctx: dict[str, Any], i: int) -> Race:
    """A member stops being coached while joining their coach's waitlist:
    joining then leaving is fine (the entry is left), leaving then joining is
    not (403); never an open entry of someone who is no longer coached."""
    coach = bench.world.coach()
    bench.scope(coach).scheduling.set_rules(waitlist_hold_minutes=30)
    bench.world.window(coach, 1, "09:00", "10:00")
    start = MONDAY + timedelta(hours=9)
    bench.scope(coach).sessions.create(
        member_id=bench.world.member(coach).id, coach_id=coach.id, scheduled_at=start
    )
    member = bench.world.member(coach)

    def check(a_ok: bool, b_ok: bool) -> list[str]:
        problems: list[str] = []
        role = str(bench.core.system.users.get(member.id).role)
        entries = bench.scope(coach).waitlist.list()
        statuses = [str(e.status) for e in entries if e.member_id == member.id]
        want = ("coach", ["left"] if b_ok else []) if a_ok else ("member", ["waiting"])
        _expect(problems, "(role, entries)", (role, statuses), want)
        return problems

    return Race(
        a=_left_coaching(bench, member),
        b=lambda: bench.scope(member).waitlist.join(coach_id=coach.id, start=start),
        check=check,
        both_ok=True,
    )


def leave_vs_invitation(bench: Bench, ctx: dict[str, Any], i: int) -> Race:
    """A member stops being coached while accepting a new coach's invitation:
    accepting then leaving is fine (the relationship is completed), leaving
    then accepting is not (422); never an open relationship with someone who
    is no longer coached (their new coach would still see their profile)."""
    coach = ctx.setdefault("coach", bench.world.coach())
    member = bench.world.member()
    token = bench.scope(coach).invitations.create(email=member.email).token

    def check(a_ok: bool, b_ok: bool) -> list[str]:
        problems: list[str] = []
        role = str(bench.core.system.users.get(member.id).role)
        rels = bench.core.system.relationships.list(coach_id=coach.id, member_id=member.id)
        statuses = [str(r.status) for r in rels]
        want = ("coach", ["completed"] if b_ok else []) if a_ok else ("member", ["active"])
        _expect(problems, "(role, relationships)", (role, statuses), want)
        return problems

    return Race(
        a=_left_coaching(bench, member),
        b=lambda: bench.scope(member).invitations.accept(token),
        check=check,
        both_ok=True,
    )


def interest_twice(bench: Bench, ctx: dict[str, Any], i: int) -> Race:
    """A member without a coach submits their interest twice at once: one
    wins; never two open submissions."""
    member = bench.world.member()
    submit = bench.scope(member).interest.submit

    def check(a_ok: bool, b_ok: bool) -> list[str]:
        mine = bench.core.system.interest.list(status="new", member_id=member.id)
        if a_ok == b_ok:
            return [f"end state: {len(mine)} open submissions"]
        problems: list[str] = []
        _expect(problems, "open submissions", len(mine), 1)
        return problems

    return Race(
        a=lambda: submit(goals="Run a marathon"),
        b=lambda: submit(goals="Sleep better"),
        check=check,
    )


def last_admins_step_down(bench: Bench, ctx: dict[str, Any], i: int) -> Race:
    """An organization's two admins step down at once (one leaves, the other
    becomes a plain member): one wins; never an organization without an admin."""
    owner, colleague = bench.world.coach(), bench.world.coach()
    org = bench.scope(owner).organizations.create(name="Studio", kind="coach_practice").id
    asked = bench.scope(owner).organizations.invite(org, colleague.id, role="admin")
    bench.scope(colleague).organizations.accept_invitation(asked.id)

    def check(a_ok: bool, b_ok: bool) -> list[str]:
        rows = bench.core.system.organizations.members(org)
        roles = sorted((m.user_id == owner.id, str(m.role)) for m in rows)
        if a_ok == b_ok:
            return [f"end state: memberships {roles}"]
        problems: list[str] = []
        want = [(False, "admin")] if a_ok else [(False, "member"), (True, "admin")]
        _expect(problems, "memberships (is owner, role)", roles, want)
        return problems

    return Race(
        a=lambda: bench.scope(owner).organizations.remove_member(org, owner.id),
        b=lambda: bench.scope(colleague).organizations.set_member_role(org, colleague.id, "member"),
        check=check,
    )


PAIRS: dict[str, Callable[[Bench, dict[str, Any], int], Race]] = {
    "invitation accept vs revoke": accept_vs_revoke,
    "invitation accept vs decline": accept_vs_decline,
    "sessions.complete vs sessions.cancel": complete_vs_cancel,
    "bookings.cancel vs bookings.cancel": cancel_vs_cancel,
    "bookings.cancel vs bookings.reschedule": cancel_vs_reschedule,
    "sessions.update vs sessions.cancel": update_vs_cancel,
    "sessions.rate vs sessions.rate": rate_vs_rate,
    "relationships.pause vs relationships.complete": pause_vs_complete,
    "relationships.accept vs relationships.withdraw": request_accept_vs_withdraw,
    "relationships.decline vs relationships.withdraw": request_decline_vs_withdraw,
    "relationships.accept vs relationships.decline": request_accept_vs_decline,
    "users.change_role vs members.assign_coach": demote_vs_assign,
    "users.change_role vs relationships.accept": demote_vs_accept,
    "users.set_manager vs users.set_manager (a loop)": manager_loop,
    "users.change_role vs bookings.create (by an admin)": demote_vs_admin_booking,
    "users.change_role (promotion) vs members.assign_coach": promote_vs_assign,
    "action_items.complete vs action_items.update": item_complete_vs_update,
    "documents.update vs documents.delete": document_update_vs_delete,
    "organizations.set_member_role vs remove_member": role_vs_removal,
    "organization invitation accept vs revoke": org_accept_vs_revoke,
    "organization invite vs invite (one user)": org_invite_vs_invite,
    "users.change_role vs bookings.create (by the member)": leave_vs_own_booking,
    "users.change_role vs sessions.create (by the coach)": leave_vs_coach_scheduling,
    "users.change_role vs waitlist.join": leave_vs_waitlist_join,
    "users.change_role vs invitations.accept (a new coach)": leave_vs_invitation,
    "interest.submit vs interest.submit": interest_twice,
    "organizations.remove_member vs set_member_role (the last admins)": last_admins_step_down,
}


def play(
    bench: Bench, make: Callable[[Bench, dict[str, Any], int], Race], rounds: int = ROUNDS
) -> list[Round]:
    """Set up ``rounds`` fresh items, race each, drain the outbox, judge."""
    ctx: dict[str, Any] = {}
    races = [make(bench, ctx, i) for i in range(rounds)]
    rounds = run_races(races)
    bench.core.system.outbox.dispatch()
    return judge(rounds)


@pytest.mark.parametrize("pair", list(PAIRS))
def test_one_transition_wins(world: World, backend: Backend, pair: str) -> None:
    rounds = play(Bench(world), PAIRS[pair])
    assert not any(r.problems for r in rounds), report(f"{backend.name} {pair}", rounds)


# -- one seat per member in a slot ------------------------------------------------


def _two_seat_slots(bench: Bench, ctx: dict[str, Any]) -> tuple[Any, Any]:
    """The pairs' coach, with Monday's 2-seat slots (only the one-seat rule keeps
    a member from taking both seats), and a member of theirs."""
    if "coach" not in ctx:
        coach = ctx["coach"] = bench.world.coach()
        ctx["member"] = bench.world.member(coach)
        bench.world.window(coach, 1, "00:00", "20:00", max_sessions_per_slot=2, buffer_minutes=0)
    return ctx["coach"], ctx["member"]


def _one_seat(bench: Bench, member: Any, start: datetime) -> Checker:
    """Whoever won: the member holds one seat at ``start``: one confirmed booking,
    one scheduled session, one booking_confirmed notification (stored, sent, and
    in the outbox), and no rejection."""

    def check(a_ok: bool, b_ok: bool) -> list[str]:
        problems: list[str] = []
        booked = [b for b in bench.scope(member).bookings.list() if b.start == start]
        _expect(problems, "bookings", [str(b.status) for b in booked], ["confirmed"])
        held = bench.core.system.sessions.list(member_id=member.id)
        held = [s for s in held if s.scheduled_at == start]
        _expect(problems, "sessions", [str(s.status) for s in held], ["scheduled"])
        for session in held:
            problems += bench.told(member, CONFIRMED, session.id, 1)
            _expect(problems, "booking_confirmed queued", bench.queued(CONFIRMED, session.id), 1)
        _expect(problems, "rejections", bench.stored(member.id, "booking_rejected"), 0)
        return problems

    return check


def book_twice(bench: Bench, ctx: dict[str, Any], i: int) -> Race:
    """The member books the same slot twice at once (two tabs, a double click)."""
    coach, member = _two_seat_slots(bench, ctx)
    start = MONDAY + timedelta(hours=i)

    def book() -> Any:
        return bench.scope(member).bookings.create(coach_id=coach.id, start=start)

    return Race(a=book, b=book, check=_one_seat(bench, member, start))


def book_with_the_coach(bench: Bench, ctx: dict[str, Any], i: int) -> Race:
    """The member books a slot while their coach books the same slot for them."""
    coach, member = _two_seat_slots(bench, ctx)
    start = MONDAY + timedelta(hours=i)
    return Race(
        a=lambda: bench.scope(member).bookings.create(coach_id=coach.id, start=start),
        b=lambda: bench.scope(coach).bookings.create(
            member_id=member.id, coach_id=coach.id, start=start
        ),
        check=_one_seat(bench, member, start),
    )


BOOKING_PAIRS: dict[str, Callable[[Bench, dict[str, Any], int], Race]] = {
    "bookings.create vs bookings.create (the member twice)": book_twice,
    "bookings.create by the member vs by their coach": book_with_the_coach,
}


def one_seat_losers(rounds: list[Round]) -> list[Round]:
    """Add a problem to each round whose loser did not get the one-seat Conflict."""
    for r in rounds:
        for o in r.outcomes:
            error = o.error
            if error is None:
                continue
            if not isinstance(error, Conflict) or isinstance(error, SlotFull):
                r.problems.append(f"the loser got {o}, expected Conflict")
            elif getattr(error, "message", "") != ONE_SEAT:
                r.problems.append(f"the loser got {o}, expected {ONE_SEAT!r}")
    return rounds


@pytest.mark.parametrize("pair", list(BOOKING_PAIRS))
def test_a_member_gets_one_seat_in_a_slot(world: World, backend: Backend, pair: str) -> None:
    rounds = one_seat_losers(play(Bench(world), BOOKING_PAIRS[pair], BOOKING_ROUNDS))
    assert not any(r.problems for r in rounds), report(f"{backend.name} {pair}", rounds)


# -- negative control -----------------------------------------------------------


def naive_revoke(core: coachcore.Core, invitation_id: str) -> Any:
    """A revoke without a guard: read the invitation, wait, write it back as
    revoked with the repository's plain update (whatever happened meanwhile)."""
    with core.store.unit_of_work(write=False) as uow:
        invitation = uow.invitations.get(invitation_id)
    assert invitation is not None
    revoked = invitation.answer(InvitationStatus.REVOKED, T0)  # 422 unless it was pending
    time.sleep(NAIVE_DELAY)
    with core.store.unit_of_work(write=True) as uow:
        uow.invitations.update(revoked)
        uow.commit()
    return revoked


def test_harness_catches_a_lost_update(world: World, backend: Backend) -> None:
    """A naive read-then-write revoke raced against itself: the harness must report
    two winners (both read "pending" and both wrote) in some round."""
    bench = Bench(world)
    coach = world.coach()
    races = []
    for _ in range(ROUNDS):
        issued = bench.scope(coach).invitations.create(email=world.member().email)
        iid = issued.invitation.id
        races.append(
            Race(
                a=lambda iid=iid: naive_revoke(world.core, iid),
                b=lambda iid=iid: naive_revoke(world.core, iid),
                check=lambda a_ok, b_ok: [],
            )
        )
    rounds = judge(run_races(races))
    lost = [r for r in rounds if TWO_WINNERS in r.problems]
    assert lost, report(f"{backend.name} naive revoke vs naive revoke", rounds)
    print(f"\n{backend.name}: {len(lost)} of {ROUNDS} naive rounds with two winners")


# -- two processes ------------------------------------------------------------------


@pytest.fixture(params=["sqlite", "postgresql"])
def sql_backend(request: pytest.FixtureRequest, backend_pool: BackendPool) -> Iterator[SqlBackend]:
    """The session's SQLite file or PostgreSQL database, which 'spawn' processes open."""
    try:
        chosen = backend_pool.get(request.param)
    except BackendUnavailable as why:
        pytest.skip(str(why))
    assert isinstance(chosen, SqlBackend)
    yield chosen
    chosen.release()


Job = tuple[str, str, str]  # (transition, actor id or "system", token or id)


def race_in_processes(
    url: str, a_jobs: list[Job], b_jobs: list[Job]
) -> list[tuple[Outcome, Outcome]]:
    """Two 'spawn' processes on ``url``: round i runs a_jobs[i] against b_jobs[i]."""
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(2), ctx.Queue()
    procs = [
        ctx.Process(target=process_worker, args=(url, T0, who, jobs, barrier, results))
        for who, jobs in enumerate((a_jobs, b_jobs))
    ]
    for p in procs:
        p.start()
    reports = [results.get(timeout=120) for _ in range(2 * len(a_jobs))]
    for p in procs:
        p.join(timeout=30)
    assert [r for r in reports if r[0] < 0] == []
    assert [p.exitcode for p in procs] == [0, 0]
    got = {(i, who): outcome_of(error, message) for i, who, error, message in reports}
    return [(got[i, 0], got[i, 1]) for i in range(len(a_jobs))]


def judge_processes(
    outcomes: list[tuple[Outcome, Outcome]], checkers: list[Checker]
) -> list[Round]:
    rounds = [
        Round(Race(a=lambda: None, b=lambda: None, check=check), pair)
        for pair, check in zip(outcomes, checkers, strict=True)
    ]
    return judge(rounds)


def test_accept_vs_revoke_across_processes(sql_backend: SqlBackend) -> None:
    core = sql_backend.open(FixedClock(T0))
    bench = Bench(World(core, FixedClock(T0)), delivered_here=False)
    ctx: dict[str, Any] = {}
    made = [_invitation(bench, ctx) for _ in range(ROUNDS)]
    coach = ctx["coach"]
    accepts = [("accept", member.id, token) for member, _, token in made]
    revokes = [("revoke", coach.id, iid) for _, iid, _ in made]
    outcomes = race_in_processes(sql_backend.url(), accepts, revokes)
    checkers = [_invitation_checker(bench, coach, m, iid, "revoked") for m, iid, _ in made]
    rounds = judge_processes(outcomes, checkers)
    assert not any(r.problems for r in rounds), report(
        f"{sql_backend.name} accept vs revoke, two processes", rounds
    )


def test_cancel_vs_cancel_across_processes(sql_backend: SqlBackend) -> None:
    core = sql_backend.open(FixedClock(T0))
    bench = Bench(World(core, FixedClock(T0)), delivered_here=False)
    ctx: dict[str, Any] = {}
    bookings = [_booking(bench, ctx, i) for i in range(ROUNDS)]
    coach, member = ctx["coach"], ctx["member"]
    by_member = [("cancel_booking", member.id, b.id) for b in bookings]
    by_coach = [("cancel_booking", coach.id, b.id) for b in bookings]
    outcomes = race_in_processes(sql_backend.url(), by_member, by_coach)
    checkers = [_cancelled_once(bench, coach, member, b) for b in bookings]
    rounds = judge_processes(outcomes, checkers)
    assert not any(r.problems for r in rounds), report(
        f"{sql_backend.name} bookings.cancel vs bookings.cancel, two processes", rounds
    )


def test_one_seat_bookings_across_processes(sql_backend: SqlBackend) -> None:
    """Both booking pairs, each for a few rounds: the member twice, then the
    member against their coach."""
    core = sql_backend.open(FixedClock(T0))
    bench = Bench(World(core, FixedClock(T0)), delivered_here=False)
    coach, member = _two_seat_slots(bench, {})
    starts = [MONDAY + timedelta(hours=i) for i in range(2 * BOOKING_ROUNDS)]
    jobs = [f"{member.id}|{coach.id}|{start.isoformat()}" for start in starts]
    by_member = [("book", member.id, job) for job in jobs]
    twice, with_coach = by_member[:BOOKING_ROUNDS], by_member[BOOKING_ROUNDS:]
    rivals = twice + [("book", coach.id, job) for job in jobs[BOOKING_ROUNDS:]]
    outcomes = race_in_processes(sql_backend.url(), twice + with_coach, rivals)
    checkers = [_one_seat(bench, member, start) for start in starts]
    rounds = one_seat_losers(judge_processes(outcomes, checkers))
    assert not any(r.problems for r in rounds), report(
        f"{sql_backend.name} one seat per member, two processes", rounds
    )
