"""Concurrent transitions of organizations, hub documents and action items."""

from __future__ import annotations

from typing import Any

import pytest

from backends import Backend
from coachcore.errors import NotFound
from races import (
    Race,
)
from transition_bench import (
    Bench,
    MakeRace,
    _expect,
    _session,
    assert_one_wins,
)
from world import World


def _organization(bench: Bench, ctx: dict[str, Any], kind: str) -> tuple[Any, str]:
    """The pair's organization of ``kind`` (made by its owner, a coach, on the
    first round) and its owner."""
    owner = ctx.setdefault("owner", bench.world.coach())
    if "org" not in ctx:
        ctx["org"] = bench.scope(owner).organizations.create(name="Firm", kind=kind)
    return owner, ctx["org"].id


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
    owner, org = _organization(bench, ctx, "coach_practice")
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
    owner, org = _organization(bench, ctx, "client_company")
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
    owner, org = _organization(bench, ctx, "client_company")
    if "second" not in ctx:
        ctx["second"] = bench.world.coach()
        bench.core.system.organizations.add_member(org, ctx["second"].id, role="admin")
    second = ctx["second"]
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


PAIRS: dict[str, MakeRace] = {
    "action_items.complete vs action_items.update": item_complete_vs_update,
    "documents.update vs documents.delete": document_update_vs_delete,
    "organizations.set_member_role vs remove_member": role_vs_removal,
    "organization invitation accept vs revoke": org_accept_vs_revoke,
    "organization invite vs invite (one user)": org_invite_vs_invite,
    "organizations.remove_member vs set_member_role (the last admins)": last_admins_step_down,
}


@pytest.mark.parametrize("pair", list(PAIRS))
def test_one_transition_wins(world: World, backend: Backend, pair: str) -> None:
    assert_one_wins(world, backend, pair, PAIRS)
