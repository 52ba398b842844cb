"""Concurrent transitions of sessions and bookings, one seat per member, across processes."""

from __future__ import annotations

import multiprocessing
import time
from datetime import timedelta
from typing import Any

import pytest

import coachcore
from backends import T0, Backend, SqlBackend
from coachcore import NotificationKind
from coachcore.adapters.clock import FixedClock
from coachcore.domain.relations import InvitationStatus
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
from transition_bench import (
    BOOKING_ROUNDS,
    CANCELLED,
    MONDAY,
    NAIVE_DELAY,
    ROUNDS,
    TODAY_9,
    Bench,
    MakeRace,
    _booking,
    _calendar_and_parties,
    _cancelled_once,
    _expect,
    _invitation,
    _invitation_checker,
    _one_seat,
    _session,
    _two_seat_slots,
    assert_one_wins,
    one_seat_losers,
    play,
)
from world import World


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
            problems += _calendar_and_parties(
                bench, event, session_id, (coach, member), cancelled=True
            )
        elif b_ok and not a_ok:
            _expect(problems, "booking", (found.status, found.start), ("confirmed", target))
            _expect(
                problems, "session", (session.status, session.scheduled_at), ("scheduled", target)
            )
            problems += _calendar_and_parties(
                bench, event, session_id, (coach, member), cancelled=False
            )
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
            problems += _calendar_and_parties(
                bench, event, session.id, (coach, member), cancelled=False
            )
        elif b_ok and not a_ok:
            _expect(
                problems,
                "session",
                (found.status, found.scheduled_at),
                ("cancelled", session.scheduled_at),
            )
            problems += _calendar_and_parties(
                bench, event, session.id, (coach, member), cancelled=True
            )
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


PAIRS: dict[str, MakeRace] = {
    "sessions.complete vs sessions.cancel": complete_vs_cancel,
    "bookings.cancel vs bookings.cancel": cancel_vs_cancel,
    "bookings.cancel vs bookings.reschedule": cancel_vs_reschedule,
    "sessions.update vs sessions.cancel": update_vs_cancel,
    "sessions.rate vs sessions.rate": rate_vs_rate,
}


@pytest.mark.parametrize("pair", list(PAIRS))
def test_one_transition_wins(world: World, backend: Backend, pair: str) -> None:
    assert_one_wins(world, backend, pair, PAIRS)


# -- one seat per member in a slot ------------------------------------------------


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


BOOKING_PAIRS: dict[str, MakeRace] = {
    "bookings.create vs bookings.create (the member twice)": book_twice,
    "bookings.create by the member vs by their coach": book_with_the_coach,
}


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
