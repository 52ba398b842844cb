"""Concurrent transitions of coaching: invitations, relationships, interest, role changes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from backends import Backend
from races import (
    Race,
)
from transition_bench import (
    MONDAY,
    Bench,
    MakeRace,
    _expect,
    _invitation,
    _invitation_checker,
    assert_one_wins,
)
from world import World


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


PAIRS: dict[str, MakeRace] = {
    "invitation accept vs revoke": accept_vs_revoke,
    "invitation accept vs decline": accept_vs_decline,
    "relationships.pause vs relationships.complete": pause_vs_complete,
    "relationships.accept vs relationships.withdraw": request_accept_vs_withdraw,
    "relationships.decline vs relationships.withdraw": request_decline_vs_withdraw,
    "relationships.accept vs relationships.decline": request_accept_vs_decline,
    "users.change_role vs members.assign_coach": demote_vs_assign,
    "users.change_role vs relationships.accept": demote_vs_accept,
    "users.set_manager vs users.set_manager (a loop)": manager_loop,
    "users.change_role vs bookings.create (by an admin)": demote_vs_admin_booking,
    "users.change_role (promotion) vs members.assign_coach": promote_vs_assign,
    "users.change_role vs bookings.create (by the member)": leave_vs_own_booking,
    "users.change_role vs sessions.create (by the coach)": leave_vs_coach_scheduling,
    "users.change_role vs waitlist.join": leave_vs_waitlist_join,
    "users.change_role vs invitations.accept (a new coach)": leave_vs_invitation,
    "interest.submit vs interest.submit": interest_twice,
}


@pytest.mark.parametrize("pair", list(PAIRS))
def test_one_transition_wins(world: World, backend: Backend, pair: str) -> None:
    assert_one_wins(world, backend, pair, PAIRS)
