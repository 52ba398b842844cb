"""The bench of the transition races (``test_races_*`` modules).

Concurrent state transitions of one item: one wins, the other fails, and the
end state is the winner's (no lost update, nothing of the loser's written).

Each pair in the ``test_races_*`` modules is a function that sets up one
fresh item through the public API and returns a :class:`races.Race`: the two
calls and a checker of the end state. Every pair runs ``ROUNDS`` times per
store (all items set up first, then raced one round after the other, two
threads released by a barrier), and the rounds are judged once the outbox is
drained.

The loser may fail with 409 (the item changed meanwhile) or, where it re-read
the item, with the 422/409 its new state calls for; two successes are a lost
update (except for pairs marked ``both_ok``, which also succeed one after the
other in some order: their checker then makes sure the end state is that
order's). A two-process variant races two pairs between 'spawn' processes on
the SQL stores, and a negative control shows the harness reports a naive
read-then-write transition.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from backends import Backend
from coachcore import NotificationKind
from coachcore.domain.relations import InvitationStatus
from coachcore.errors import Conflict, SlotFull
from coachcore.services.scheduling.booking_rights import ONE_SEAT
from races import (
    Checker,
    Race,
    Round,
    judge,
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


def _calendar_and_parties(
    bench: Bench, event: Any, session_id: str, people: Any, *, cancelled: bool
) -> list[str]:
    """What is wrong with the session's calendar event and what its people were
    told: cancelled (one calendar cancellation, each told once), or still on
    (confirmed, no cancellation, no one told)."""
    problems: list[str] = []
    times = int(cancelled)
    status = "cancelled" if cancelled else "confirmed"
    _expect(problems, "calendar event", bench.event_status(event), status)
    _expect(problems, "calendar cancels", bench.calendar_cancels(event), times)
    for who in people:
        problems += bench.told(who, CANCELLED, session_id, times)
    return problems


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


def play(
    bench: Bench, make: Callable[[Bench, dict[str, Any], int], Race], rounds: int = ROUNDS
) -> list[Round]:
    """Set up ``rounds`` fresh items, race each, drain the outbox, judge."""
    ctx: dict[str, Any] = {}
    races = [make(bench, ctx, i) for i in range(rounds)]
    rounds = run_races(races)
    bench.core.system.outbox.dispatch()
    return judge(rounds)


MakeRace = Callable[[Bench, dict[str, Any], int], Race]
"""A pair: builds round ``i``'s race (``ctx`` is shared by the pair's rounds)."""


def assert_one_wins(world: World, backend: Backend, pair: str, pairs: dict[str, MakeRace]) -> None:
    """Play ``pairs[pair]`` on ``backend``; no round may go wrong."""
    rounds = play(Bench(world), pairs[pair])
    assert not any(r.problems for r in rounds), report(f"{backend.name} {pair}", rounds)
