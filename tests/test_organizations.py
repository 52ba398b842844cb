"""Organizations (issue 8.5): coach practices and client companies with metadata;
users belong to organizations; org admins manage their org only; platform
admins manage all."""

from __future__ import annotations

from datetime import timedelta

import pytest

from backends import T0, Backend
from coachcore.adapters.clock import FixedClock
from coachcore.errors import BusinessRuleViolation, Conflict, Forbidden, NotFound, ValidationFailed
from world import World


def test_coach_creates_a_practice_and_manages_it(world: World) -> None:
    coach, colleague = world.coach(), world.coach()
    scope = world.core.acting_as(coach.id).organizations
    practice = scope.create(
        name="Stride Coaching",
        kind="coach_practice",
        specialties=["running", "sleep", "running"],
        experience="10 years",
        philosophy="small steps",
    )
    assert (practice.kind, practice.specialties, practice.created_by) == (
        "coach_practice",
        ("running", "sleep"),
        coach.id,
    )
    (owner,) = scope.members(practice.id)
    assert (owner.user_id, owner.role) == (coach.id, "admin")
    invitation = scope.invite(practice.id, colleague.id)
    with pytest.raises(Conflict):  # one pending invitation per user
        scope.invite(practice.id, colleague.id)
    added = world.core.acting_as(colleague.id).organizations.accept_invitation(invitation.id)
    assert added.role == "member"
    with pytest.raises(Conflict):
        scope.invite(practice.id, colleague.id)
    updated = scope.update(practice.id, name="Stride", specialties=["marathon"])
    assert (updated.name, updated.specialties, updated.experience) == (
        "Stride",
        ("marathon",),
        "10 years",
    )
    assert scope.get(practice.id) == updated
    # a plain member reads but does not manage
    theirs = world.core.acting_as(colleague.id).organizations
    assert theirs.get(practice.id) == updated
    assert [o.id for o in theirs.list()] == [practice.id]
    with pytest.raises(Forbidden):
        theirs.update(practice.id, name="Mine now")
    with pytest.raises(Forbidden):
        theirs.invite(practice.id, world.coach().id)
    # promotion, and the last admin stays
    scope.set_member_role(practice.id, colleague.id, "admin")
    theirs.update(practice.id, description="now co-run")
    theirs.set_member_role(practice.id, coach.id, "member")
    with pytest.raises(BusinessRuleViolation):
        theirs.set_member_role(practice.id, colleague.id, "member")
    with pytest.raises(BusinessRuleViolation):
        theirs.remove_member(practice.id, colleague.id)
    assert scope.remove_member(practice.id, coach.id).user_id == coach.id  # leaving
    with pytest.raises(Forbidden):
        scope.get(practice.id)


def test_client_company_metadata_and_validation(world: World) -> None:
    member = world.member()
    scope = world.core.acting_as(member.id).organizations
    company = scope.create(name="Acme", kind="client_company", industry="Logistics", size="51-200")
    assert (company.industry, company.size, company.specialties) == ("Logistics", "51-200", ())
    with pytest.raises(ValidationFailed):
        scope.create(name="Acme 2", kind="client_company", specialties=["x"])
    with pytest.raises(ValidationFailed):
        scope.create(name="Acme 3", kind="client_company", size="huge")
    with pytest.raises(ValidationFailed):
        scope.create(name="Solo", kind="coach_practice", industry="Retail")
    with pytest.raises(ValidationFailed):
        scope.create(name="Solo", kind="coach_practice", specialties="running")
    with pytest.raises(ValidationFailed):
        scope.create(name=" ", kind="client_company")
    with pytest.raises(ValidationFailed):
        scope.create(name="X", kind="guild")
    with pytest.raises(ValidationFailed):
        scope.update(company.id, philosophy="no")


def test_org_admins_manage_their_org_only_platform_admins_all(world: World) -> None:
    coach, member = world.coach(), world.member()
    admin = world.admin()
    practice = world.core.acting_as(coach.id).organizations.create(
        name="Practice", kind="coach_practice"
    )
    company = world.core.acting_as(member.id).organizations.create(
        name="Company", kind="client_company"
    )
    with pytest.raises(Forbidden):
        world.core.acting_as(coach.id).organizations.update(company.id, name="x")
    with pytest.raises(Forbidden):
        world.core.acting_as(coach.id).organizations.get(company.id)
    with pytest.raises(Forbidden):
        world.core.acting_as(coach.id).organizations.members(company.id)
    with pytest.raises(Forbidden):
        world.core.acting_as(coach.id).organizations.list(user_id=member.id)
    platform = world.core.acting_as(admin.id).organizations
    listed = platform.list()  # by creation time, then id
    assert [o.id for o in listed] == sorted([practice.id, company.id])
    assert [o.id for o in platform.list(kind="client_company")] == [company.id]
    assert [o.id for o in platform.list(user_id=coach.id)] == [practice.id]
    platform.update(company.id, size="1-10")
    platform.add_member(company.id, coach.id)  # authority: a platform admin adds directly
    assert {o.id for o in world.core.acting_as(coach.id).organizations.list()} == {
        practice.id,
        company.id,
    }
    hosted = world.sys.organizations.create(
        name="Hosted", kind="client_company", admin_id=member.id
    )
    assert [m.user_id for m in world.sys.organizations.members(hosted.id)] == [member.id]
    with pytest.raises(Forbidden):
        world.core.acting_as(coach.id).organizations.create(
            name="Other", kind="coach_practice", admin_id=member.id
        )
    with pytest.raises(NotFound):
        platform.get("missing")
    with pytest.raises(NotFound):
        platform.remove_member(company.id, admin.id)


def test_nobody_is_added_to_an_organization_without_consent_or_authority(world: World) -> None:
    """The attack: a member creates a company and adds anyone to it, an admin
    included, as its admin. Now only platform admins add directly; the
    organization's admins invite, and only the invited user accepts."""
    member, victim, admin = world.member(), world.coach(), world.admin()
    mine = world.core.acting_as(member.id).organizations
    company = mine.create(name="Shell Inc", kind="client_company")
    for target in (victim, admin):
        with pytest.raises(Forbidden):
            mine.add_member(company.id, target.id, role="admin")
    assert [m.user_id for m in mine.members(company.id)] == [member.id]
    invitation = mine.invite(company.id, victim.id, role="admin")
    assert [m.user_id for m in mine.members(company.id)] == [member.id]  # not yet
    for someone in (member, world.coach(), world.member()):
        with pytest.raises(Forbidden):
            world.core.acting_as(someone.id).organizations.accept_invitation(invitation.id)
    theirs = world.core.acting_as(victim.id).organizations
    assert [i.id for i in theirs.invitations(status="pending")] == [invitation.id]
    declined = theirs.decline_invitation(invitation.id)
    assert declined.status == "declined"
    with pytest.raises(BusinessRuleViolation):
        theirs.accept_invitation(invitation.id)
    assert [m.user_id for m in mine.members(company.id)] == [member.id]
    # accepted, the user joins with the invited role
    again = mine.invite(company.id, victim.id)
    joined = theirs.accept_invitation(again.id)
    assert (joined.user_id, joined.role) == (victim.id, "member")
    assert {i.status for i in mine.invitations(organization_id=company.id)} == {
        "declined",
        "accepted",
    }
    # revoked invitations cannot be accepted; outsiders see no invitation list
    late = mine.invite(company.id, admin.id)
    with pytest.raises(Forbidden):
        theirs.revoke_invitation(late.id)
    with pytest.raises(Forbidden):
        theirs.invitations(organization_id=company.id)
    mine.revoke_invitation(late.id)
    with pytest.raises(BusinessRuleViolation):
        world.core.acting_as(admin.id).organizations.accept_invitation(late.id)
    # authority: a platform admin and the host add directly
    world.core.acting_as(admin.id).organizations.add_member(company.id, admin.id)
    world.sys.organizations.add_member(company.id, world.member().id)
    assert len(mine.members(company.id)) == 4


def test_who_creates_organizations_is_role_data(backend: Backend) -> None:
    from coachcore.policies.roles import BUILT_IN_ROLES

    assert "organizations:create" in BUILT_IN_ROLES["member"]
    core = backend.open(FixedClock(T0), roles={"guest": ["organizations:create"], "viewer": []})
    try:
        guest = core.system.users.create(name="G", email="g@example.com", role="guest")
        viewer = core.system.users.create(name="V", email="v@example.com", role="viewer")
        core.acting_as(guest.id).organizations.create(name="G Ltd", kind="client_company")
        with pytest.raises(Forbidden):
            core.acting_as(viewer.id).organizations.create(name="V Ltd", kind="client_company")
    finally:
        core.close()


def test_an_organization_invitation_tells_the_invitee_and_expires(world: World) -> None:
    owner, invitee, late = world.coach(), world.member(), world.member()
    orgs = world.core.acting_as(owner.id).organizations
    firm = orgs.create(name="Acme", kind="client_company")
    asked = orgs.invite(firm.id, invitee.id)
    short = orgs.invite(firm.id, late.id, expires_in=timedelta(hours=1))
    now = world.clock.now()
    assert asked.expires_at == now + timedelta(days=7)
    assert short.expires_at == now + timedelta(hours=1)
    with pytest.raises(ValidationFailed):  # the bounds of coaching invitations
        orgs.invite(firm.id, world.member().id, expires_in=timedelta(minutes=1))
    world.sys.outbox.dispatch()
    told = world.sys.notifications.list(invitee.id)
    (note,) = [n for n in told if n.kind == "organization_invitation"]
    assert note.title == f"{owner.name} invites you to join Acme"
    assert asked.expires_at.isoformat() in note.body
    delivered = world.core.notifier.kinds_for(invitee.id)  # type: ignore[attr-defined]
    assert delivered.count("organization_invitation") == 1

    world.advance(hours=1)
    assert [i.id for i in orgs.invitations(organization_id=firm.id, status="expired")] == [short.id]
    theirs = world.core.acting_as(late.id).organizations
    for answer in (theirs.accept_invitation, theirs.decline_invitation, orgs.revoke_invitation):
        with pytest.raises(BusinessRuleViolation) as caught:
            answer(short.id)
        assert (caught.value.message, caught.value.details["reason"]) == (
            "This invitation has expired",
            "expired",
        )
    assert late.id not in {m.user_id for m in orgs.members(firm.id)}
    again = orgs.invite(firm.id, late.id)  # an expired invitation does not block a new one
    assert theirs.accept_invitation(again.id).user_id == late.id
    world.advance(days=6, minutes=59)  # within its seven days
    joined = world.core.acting_as(invitee.id).organizations.accept_invitation(asked.id)
    assert joined.role == "member"


def test_expired_organization_and_coaching_invitations_fail_alike(world: World) -> None:
    owner, invitee = world.coach(), world.member()
    firm = world.core.acting_as(owner.id).organizations.create(name="Acme", kind="client_company")
    joining = world.core.acting_as(owner.id).organizations.invite(firm.id, invitee.id)
    coaching = world.core.acting_as(owner.id).invitations.create(email=invitee.email)
    world.advance(days=7)
    errors = []
    for answer in (
        lambda: world.core.acting_as(invitee.id).organizations.accept_invitation(joining.id),
        lambda: world.core.acting_as(invitee.id).invitations.accept(coaching.token),
    ):
        with pytest.raises(BusinessRuleViolation) as caught:
            answer()
        errors.append((type(caught.value), caught.value.status_code, caught.value.message))
        assert caught.value.details["reason"] == "expired"
    assert errors[0] == errors[1]
