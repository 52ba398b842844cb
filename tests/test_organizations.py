"""Organizations (issue 8.5): coach practices and client companies with metadata;
users belong to organizations; org admins manage their org only; platform
admins manage all."""

from __future__ import annotations

import pytest

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
    added = scope.add_member(practice.id, colleague.id)
    assert added.role == "member"
    with pytest.raises(Conflict):
        scope.add_member(practice.id, colleague.id)
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
        theirs.add_member(practice.id, world.coach().id)
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
    platform.add_member(company.id, coach.id)  # cross-organization: the coach joins
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
