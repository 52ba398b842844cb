"""Invitations (issue 8.2): unguessable single-use tokens that expire and can be
revoked; accepting creates the member and the relationship in one transaction."""

from __future__ import annotations

from datetime import timedelta

import pytest

import coachcore
from coachcore import NotificationKind
from coachcore.domain.relations import token_digest
from coachcore.errors import (
    BusinessRuleViolation,
    Conflict,
    Forbidden,
    NotFound,
    ValidationFailed,
)
from world import World


def _reason(call: object, *args: object, **kwargs: object) -> str:
    with pytest.raises(BusinessRuleViolation) as caught:
        call(*args, **kwargs)  # type: ignore[operator]
    assert caught.value.status_code == 422
    return str(caught.value.details["reason"])


def test_invite_accept_creates_member_profile_and_active_relationship(world: World) -> None:
    coach = world.coach()
    issued = world.core.acting_as(coach.id).invitations.create(
        email="New.Client@Example.com", name="Nia", message="Looking forward!"
    )
    invitation = issued.invitation
    assert invitation.email == "new.client@example.com"
    assert invitation.status == "pending" and invitation.coach_id == coach.id
    assert invitation.expires_at == world.clock.now() + timedelta(days=7)
    assert len(issued.token) >= 40 and issued.token not in repr(issued)
    assert invitation.token_hash == token_digest(issued.token) != issued.token
    # the invitation email goes through the notifier, addressed by email
    world.sys.outbox.dispatch()
    sent = [
        n
        for n in world.core.notifier.sent  # type: ignore[attr-defined]
        if n.kind == NotificationKind.COACHING_INVITATION
    ]
    assert [(n.recipient_email, n.recipient_id) for n in sent] == [
        ("new.client@example.com", invitation.id)
    ]
    assert issued.token in sent[0].body and "Looking forward!" in sent[0].body

    accepted = world.sys.invitations.accept(issued.token, timezone="Europe/Berlin")
    user = accepted.user
    assert (user.name, user.email, user.role, user.timezone) == (
        "Nia",
        "new.client@example.com",
        "member",
        "Europe/Berlin",
    )
    assert world.sys.members.get(user.id).user_id == user.id
    rel = accepted.relationship
    assert (rel.coach_id, rel.member_id, rel.status, rel.requested_by) == (
        coach.id,
        user.id,
        "active",
        coach.id,
    )
    assert accepted.invitation.status == "accepted"
    assert accepted.invitation.member_id == user.id
    assert accepted.invitation.relationship_id == rel.id
    stored = world.core.acting_as(coach.id).invitations.get(invitation.id)
    assert stored == accepted.invitation
    assert world.core.acting_as(user.id).relationships.overview().state == "connected"
    # single use
    assert _reason(world.sys.invitations.accept, issued.token) == "accepted"
    assert _reason(world.sys.invitations.decline, issued.token) == "accepted"


def test_an_existing_member_accepts_through_their_own_scope(world: World) -> None:
    coach = world.coach()
    member = world.member()
    stranger = world.member()
    issued = world.core.acting_as(coach.id).invitations.create(email=member.email)
    with pytest.raises(Forbidden):
        world.core.acting_as(stranger.id).invitations.accept(issued.token)
    assert world.core.acting_as(member.id).invitations.lookup(issued.token).coach_id == coach.id
    accepted = world.core.acting_as(member.id).invitations.accept(issued.token)
    assert accepted.user.id == member.id
    assert accepted.relationship.status == "active"
    # the invitation email went to the existing user's inbox as well
    stored = world.sys.notifications.list(recipient_id=member.id)
    assert [n.kind for n in stored] == [NotificationKind.COACHING_INVITATION]


def test_accept_activates_a_pending_request_of_the_same_pair(world: World) -> None:
    coach, member = world.coach(), world.member()
    pending = world.core.acting_as(coach.id).relationships.request(
        coach_id=coach.id, member_id=member.id
    )
    issued = world.core.acting_as(coach.id).invitations.create(email=member.email)
    accepted = world.sys.invitations.accept(issued.token)
    assert accepted.relationship.id == pending.id and accepted.relationship.status == "active"


def test_decline_expiry_and_revocation_give_clear_errors(world: World) -> None:
    coach = world.coach()
    invitations = world.core.acting_as(coach.id).invitations
    declined = invitations.create(email="a@example.com")
    assert world.sys.invitations.decline(declined.token).status == "declined"
    assert _reason(world.sys.invitations.accept, declined.token) == "declined"

    revoked = invitations.create(email="b@example.com")
    assert invitations.revoke(revoked.invitation.id).status == "revoked"
    assert _reason(world.sys.invitations.accept, revoked.token) == "revoked"
    assert _reason(invitations.revoke, revoked.invitation.id) == "revoked"

    short = invitations.create(email="c@example.com", expires_in=timedelta(hours=1))
    assert short.invitation.expires_at == world.clock.now() + timedelta(hours=1)
    world.advance(hours=1)
    assert _reason(world.sys.invitations.accept, short.token) == "expired"
    assert _reason(world.sys.invitations.decline, short.token) == "expired"
    assert [i.id for i in invitations.list(status="expired")] == [short.invitation.id]
    assert world.sys.users.list() == [coach]  # nobody was created

    with pytest.raises(NotFound):
        world.sys.invitations.accept("not-a-real-token")
    with pytest.raises(ValidationFailed):
        world.sys.invitations.accept("")
    with pytest.raises(ValidationFailed):
        invitations.create(email="d@example.com", expires_in=timedelta(seconds=1))
    with pytest.raises(ValidationFailed):
        invitations.create(email="not an email")


def test_invitation_permissions_and_duplicates(world: World) -> None:
    coach, other = world.coach(), world.coach()
    member = world.member()
    issued = world.core.acting_as(coach.id).invitations.create(email="x@example.com")
    with pytest.raises(Conflict):
        world.core.acting_as(coach.id).invitations.create(email="X@example.com")
    # another coach may invite the same address
    world.core.acting_as(other.id).invitations.create(email="x@example.com")
    with pytest.raises(Forbidden):
        world.core.acting_as(other.id).invitations.revoke(issued.invitation.id)
    with pytest.raises(Forbidden):
        world.core.acting_as(other.id).invitations.get(issued.invitation.id)
    with pytest.raises(Forbidden):
        world.core.acting_as(other.id).invitations.create(email="y@example.com", coach_id=coach.id)
    with pytest.raises(Forbidden):
        world.core.acting_as(member.id).invitations.create(email="z@example.com")
    with pytest.raises(Forbidden):
        world.core.acting_as(other.id).invitations.list(coach_id=coach.id)
    mine = world.core.acting_as(coach.id).invitations.list()
    assert [i.id for i in mine] == [issued.invitation.id]
    assert len(world.sys.invitations.list()) == 2
    admin_made = world.sys.invitations.create(email="w@example.com", coach_id=coach.id)
    assert admin_made.invitation.coach_id == coach.id
    with pytest.raises(NotFound):  # only coaches invite
        world.sys.invitations.create(email="v@example.com", coach_id=member.id)


def test_tokens_are_unguessable_and_distinct(world: World) -> None:
    coach = world.coach()
    tokens = {
        world.core.acting_as(coach.id).invitations.create(email=f"p{n}@example.com").token
        for n in range(20)
    }
    assert len(tokens) == 20
    assert all(len(t) >= 40 for t in tokens)


def test_accept_is_one_transaction(world: World) -> None:
    """A failure after the user is created leaves nothing behind."""
    coach = world.coach()
    issued = world.core.acting_as(coach.id).invitations.create(email="t@example.com")
    world.sys.users.deactivate(coach.id)
    with pytest.raises(BusinessRuleViolation):
        world.sys.invitations.accept(issued.token, name="Tom")
    assert [u.id for u in world.sys.users.list()] == [coach.id]
    assert world.sys.invitations.get(issued.invitation.id).status == "pending"


def test_invitation_email_renders_and_smtp_uses_the_address(world: World) -> None:
    from coachcore.adapters.email import SmtpNotifier

    coach = world.coach()
    issued = world.core.acting_as(coach.id).invitations.create(email="r@example.com")
    (note,) = [
        n
        for n in world.sys.notifications.list(recipient_id=issued.invitation.id)
        if n.kind == "coaching_invitation"
    ]
    assert isinstance(note, coachcore.Notification)
    smtp = SmtpNotifier("localhost", 25, "coach@example.com", lambda _: None)
    message = smtp.compose(note, note.recipient_email or "")
    assert message["To"] == "r@example.com"
    assert message["Subject"] == "You are invited to coaching"
