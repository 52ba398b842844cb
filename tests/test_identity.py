"""Identity cannot be taken over: email, role and external id change only
through the system scope or an admin, never by the user on themself; an
invitation to an address that belongs to a user is bound to that user."""

from __future__ import annotations

import pytest

from backends import T0, Backend
from coachcore.adapters.clock import FixedClock
from coachcore.errors import Forbidden, ValidationFailed
from world import World


def test_a_user_cannot_change_their_own_identity(world: World) -> None:
    coach = world.coach()
    member, victim, admin = world.member(coach), world.member(), world.admin()
    mine = world.core.acting_as(member.id).users
    for change in (
        {"email": victim.email},
        {"email": "fresh@example.com"},
        {"external_id": "idp|victim"},
    ):
        with pytest.raises(Forbidden):
            mine.update(member.id, **change)
    with pytest.raises(Forbidden):
        mine.change_role(member.id, "admin")
    with pytest.raises(Forbidden):  # an admin neither: their sign-in is the host's
        world.core.acting_as(admin.id).users.update(admin.id, email="boss@example.com")
    assert world.sys.users.get(member.id).email == member.email
    # what is not identity the user still changes
    renamed = mine.update(
        member.id, name="Max M.", timezone="Europe/Berlin", email=member.email.upper()
    )  # restating one's own address (in any case) is no change
    assert (renamed.name, renamed.timezone, renamed.email) == (
        "Max M.",
        "Europe/Berlin",
        member.email,
    )
    # the host (after verifying) and admins change identity fields
    moved = world.sys.users.update(member.id, email="max.new@example.com", external_id="idp|1")
    assert (moved.email, moved.external_id) == ("max.new@example.com", "idp|1")
    by_admin = world.core.acting_as(admin.id).users.update(member.id, email="max3@example.com")
    assert by_admin.email == "max3@example.com"


def test_user_management_without_identity_rights_leaves_identity_alone(backend: Backend) -> None:
    core = backend.open(FixedClock(T0), roles={"manager": ["users:read", "users:write"]})
    try:
        manager = core.system.users.create(name="Man", email="man@example.com", role="manager")
        member = core.system.users.create(name="Mem", email="mem@example.com", role="member")
        theirs = core.acting_as(manager.id).users
        assert theirs.update(member.id, name="Mem B").name == "Mem B"
        with pytest.raises(Forbidden):
            theirs.update(member.id, email="elsewhere@example.com")
        with pytest.raises(Forbidden):
            theirs.change_role(member.id, "coach")
    finally:
        core.close()


def test_roles_change_through_an_admin_and_take_effect_on_the_next_call(world: World) -> None:
    admin, user = world.admin(), world.member()
    with pytest.raises(Forbidden):  # a member may not read the coach-side member list
        world.core.acting_as(user.id).members.list()
    with pytest.raises(ValidationFailed):
        world.core.acting_as(admin.id).users.change_role(user.id, "wizard")
    promoted = world.core.acting_as(admin.id).users.change_role(user.id, "coach")
    assert promoted.role == "coach"
    assert world.core.acting_as(user.id).members.list() == []  # a coach now, no members
    assert world.sys.coaches.get(user.id).user_id == user.id  # with a coach profile


def test_the_invitation_hijack_fails(world: World) -> None:
    """The attack: a member takes another user's address, a coach invites that
    address, and the hijacker accepts. Now the address change is refused, and
    an invitation to a user's address is theirs alone, token or not."""
    coach, hijacker, invitee = world.coach(), world.member(), world.member()
    with pytest.raises(Forbidden):
        world.core.acting_as(hijacker.id).users.update(hijacker.id, email=invitee.email)
    issued = world.core.acting_as(coach.id).invitations.create(email=invitee.email)
    assert issued.invitation.invitee_id == invitee.id
    leaked = world.core.acting_as(hijacker.id).invitations
    for answer in (leaked.lookup, leaked.accept, leaked.decline):
        with pytest.raises(Forbidden):
            answer(issued.token)
    # bound to the user, whatever addresses change later: the hijacker given the
    # address by mistake (an admin's change) still cannot accept
    world.sys.users.update(invitee.id, email="invitee.moved@example.com")
    world.sys.users.update(hijacker.id, email=invitee.email)
    with pytest.raises(Forbidden):
        leaked.accept(issued.token)
    assert world.sys.invitations.get(issued.invitation.id).status == "pending"
    accepted = world.core.acting_as(invitee.id).invitations.accept(issued.token)
    assert (accepted.user.id, accepted.relationship.member_id) == (invitee.id, invitee.id)
    relationships = world.sys.relationships.list(member_id=hijacker.id)
    assert relationships == []


def test_the_host_accepting_a_bound_invitation_connects_the_invitee(world: World) -> None:
    coach, invitee, other = world.coach(), world.member(), world.member()
    issued = world.core.acting_as(coach.id).invitations.create(email=invitee.email)
    world.sys.users.update(invitee.id, email="invitee.moved@example.com")
    world.sys.users.update(other.id, email=invitee.email)
    accepted = world.sys.invitations.accept(issued.token)
    assert accepted.user.id == invitee.id


def test_an_unbound_invitation_goes_to_whoever_the_host_gave_the_address(world: World) -> None:
    coach = world.coach()
    issued = world.core.acting_as(coach.id).invitations.create(email="later@example.com")
    assert issued.invitation.invitee_id is None
    someone = world.member()
    with pytest.raises(Forbidden):
        world.core.acting_as(someone.id).invitations.accept(issued.token)
    arrived = world.sys.signup_member(name="Later", email="later@example.com")
    accepted = world.core.acting_as(arrived.id).invitations.accept(issued.token)
    assert accepted.user.id == arrived.id
