"""Invitations: a coach invites a client by email; the client accepts (becoming a
member in an active relationship with the coach) or declines with the token."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

import attrs

from coachcore.domain import checks
from coachcore.domain.entities import Notification, User
from coachcore.domain.enums import NotificationKind, OutboxChannel, Role
from coachcore.domain.relations import (
    CoachingRelationship,
    Invitation,
    InvitationStatus,
    RelationshipStatus,
    token_digest,
)
from coachcore.errors import BusinessRuleViolation, Conflict, NotFound
from coachcore.policies import relations as policy
from coachcore.serialization import to_dict
from coachcore.services.accounts.profiles import new_user
from coachcore.services.coaching import relationships
from coachcore.services.compliance import audit
from coachcore.services.delivery import outgoing
from coachcore.services.runtime import records
from coachcore.services.runtime.transaction import Tx, UseCases, new_id

DEFAULT_INVITATION_TTL = timedelta(days=7)
"""How long an invitation stays valid unless ``expires_in`` says otherwise."""
MIN_TTL = timedelta(minutes=5)
MAX_TTL = timedelta(days=365)
TOKEN_BYTES = 32


@attrs.frozen(kw_only=True)
class IssuedInvitation:
    """What ``invitations.create`` returns: the invitation and, this once, its token."""

    invitation: Invitation
    token: str = attrs.field(repr=False)


@attrs.frozen(kw_only=True)
class AcceptedInvitation:
    """What ``invitations.accept`` returns: the invitation, the member's user
    reference (new or existing) and the active relationship with the coach."""

    invitation: Invitation
    user: User
    relationship: CoachingRelationship


def invitation_ttl(value: Any) -> timedelta:
    """How long an invitation stays valid: ``expires_in`` (a timedelta between
    5 minutes and 365 days), default 7 days."""
    if value is None:
        return DEFAULT_INVITATION_TTL
    if not isinstance(value, timedelta):
        raise checks.fail("expires_in", "must be a timedelta")
    if not MIN_TTL <= value <= MAX_TTL:
        raise checks.fail("expires_in", "must be between 5 minutes and 365 days")
    return value


def _token(value: Any) -> str:
    token = checks.required_text("token", value, max_len=200)
    return token.strip()


def _by_token(tx: Tx, token: str) -> Invitation:
    found = tx.uow.invitations.find(token_hash=token_digest(token))
    if found is None:
        raise NotFound("Invitation not found")
    return found


def _check_answerer(tx: Tx, invitation: Invitation) -> None:
    email = None
    if not tx.actor.sees_all:
        email = records.user(tx.uow, tx.actor.user_id).email
    policy.check_answer_invitation(tx.actor, email, invitation)


def _send(tx: Tx, invitation: Invitation, token: str, coach: User) -> None:
    """The invitation email, through the notifier (outbox), to the invitee's address."""
    existing = None if invitation.invitee_id is None else tx.uow.users.get(invitation.invitee_id)
    lines = [
        f"{coach.name} invites you to coaching.",
        f"Your invitation code: {token}",
        f"It is valid until {invitation.expires_at.isoformat()}.",
    ]
    if invitation.message:
        lines.insert(1, invitation.message)
    notification = Notification(
        id=new_id(),
        recipient_id=existing.id if existing is not None else invitation.id,
        recipient_email=invitation.email,
        kind=NotificationKind.COACHING_INVITATION,
        title=f"{coach.name} invites you to coaching",
        body="\n".join(lines),
        created_at=tx.now,
    )
    tx.uow.notifications.add(notification)
    outgoing.emit(tx, OutboxChannel.NOTIFICATION, to_dict(notification), key=notification.id)


def _member_for(tx: Tx, invitation: Invitation, name: Any, timezone: Any) -> User:
    """The invitee's user: the one the invitation is bound to, else the existing
    one with that address (a member), else a new member."""
    if invitation.invitee_id is not None:
        existing: User | None = records.user(tx.uow, invitation.invitee_id)
    else:
        existing = tx.uow.users.find(email=invitation.email)
    if existing is None:
        fallback = invitation.name or invitation.email.split("@", 1)[0]
        return new_user(
            tx,
            _MEMBER_ROLES,
            name=fallback if name is None else name,
            email=invitation.email,
            role=Role.MEMBER,
            timezone=timezone,
        )
    if not existing.is_active:
        raise BusinessRuleViolation("This user is deactivated", details={"user_id": existing.id})
    if tx.uow.members.get(existing.id) is None:
        raise BusinessRuleViolation(
            "This email belongs to a user who is not a member", details={"user_id": existing.id}
        )
    return existing


_MEMBER_ROLES = frozenset({Role.MEMBER})


def _connect(tx: Tx, invitation: Invitation, member: User) -> CoachingRelationship:
    """The active relationship: a new one, or the pair's open one moved to active."""
    found = relationships.open_between(tx.uow, invitation.coach_id, member.id)
    if found is None:
        return relationships.start(
            tx,
            invitation.coach_id,
            member.id,
            status=RelationshipStatus.ACTIVE,
            requested_by=invitation.coach_id,
        )
    if found.status == RelationshipStatus.ACTIVE:
        return found
    return relationships.move(tx, found, RelationshipStatus.ACTIVE)


class Invitations(UseCases):
    """``scope.invitations``: coaches invite clients by email."""

    def create(
        self,
        *,
        email: Any,
        coach_id: Any = None,
        name: Any = None,
        message: Any = None,
        expires_in: Any = None,
    ) -> IssuedInvitation:
        """Invite ``email`` to coaching with ``coach_id`` (default: the calling
        coach). The token is returned once here and emailed to the invitee; it
        expires after ``expires_in`` (a timedelta, default 7 days). A second
        pending invitation from the same coach to the same address is a 409."""
        address = checks.email("email", email)
        coach = checks.optional_identifier("coach_id", coach_id)
        who = checks.text("name", name, max_len=checks.MAX_NAME)
        note = checks.text("message", message, max_len=2000)
        ttl = invitation_ttl(expires_in)

        def run(tx: Tx) -> IssuedInvitation:
            inviter = coach or tx.actor.user_id
            policy.check_manage_invitation(tx.actor, inviter, "invitations:write")
            coach_user = records.active_user(tx.uow, inviter, "coach_id")
            records.coach(tx.uow, coach_user.id)
            tx.uow.lock_coach(coach_user.id)  # one pending invitation per address, even racing
            for other in tx.uow.invitations.list(coach_id=coach_user.id, email=address):
                if other.status_at(tx.now) == InvitationStatus.PENDING:
                    raise Conflict(
                        "This address already has a pending invitation from this coach",
                        details={"invitation_id": other.id},
                    )
            token = secrets.token_urlsafe(TOKEN_BYTES)
            owner = tx.uow.users.find(email=address)
            invitation = Invitation(
                id=new_id(),
                coach_id=coach_user.id,
                email=address,
                invitee_id=None if owner is None else owner.id,
                name=who.strip() if who else None,
                message=note,
                token_hash=token_digest(token),
                expires_at=tx.now + ttl,
                created_at=tx.now,
                updated_at=tx.now,
            )
            tx.uow.invitations.add(invitation)
            audit.record(
                tx,
                "invitation.created",
                "invitation",
                invitation.id,
                coach_id=coach_user.id,
                expires_at=invitation.expires_at,
            )
            _send(tx, invitation, token, coach_user)
            return IssuedInvitation(invitation=invitation, token=token)

        return self._rt.write(self._actor, run, action="invitations.create")

    def get(self, invitation_id: Any) -> Invitation:
        """One invitation, if the actor may see it."""

        def run(tx: Tx) -> Invitation:
            found = self._find(tx, invitation_id)
            policy.check_manage_invitation(tx.actor, found.coach_id, "invitations:read")
            return found

        return self._rt.read(self._actor, run)

    def list(self, *, status: Any = None, coach_id: Any = None) -> list[Invitation]:
        """The coach's invitations (all for admins), oldest first; ``status``
        may be ``"expired"`` (pending past their expiry)."""
        wanted = None if status is None else checks.choice("status", status, InvitationStatus)
        coach = checks.optional_identifier("coach_id", coach_id)

        def run(tx: Tx) -> list[Invitation]:
            tx.actor.require("invitations:read")
            only = coach
            if not tx.actor.sees_all:
                policy.check_manage_invitation(
                    tx.actor, coach or tx.actor.user_id, "invitations:read"
                )
                only = tx.actor.user_id
            rows = tx.uow.invitations.list(coach_id=only)
            return [i for i in rows if wanted is None or i.status_at(tx.now) == wanted]

        return self._rt.read(self._actor, run)

    def lookup(self, token: Any) -> Invitation:
        """The invitation a token belongs to (to show "X invites you" before the
        answer); NotFound for an unknown token."""
        secret = _token(token)

        def run(tx: Tx) -> Invitation:
            found = _by_token(tx, secret)
            _check_answerer(tx, found)
            return found

        return self._rt.read(self._actor, run)

    def accept(self, token: Any, *, name: Any = None, timezone: Any = "UTC") -> AcceptedInvitation:
        """Accept with the token, in one transaction: the user reference (a new
        member named ``name``, or the existing member with the invited address),
        the member profile and the active relationship with the coach.

        Unknown tokens are NotFound; used, declined, revoked and expired ones
        raise BusinessRuleViolation with ``details["reason"]``. Hosts call it
        through ``core.system`` once they trust the invitee's address, or a
        signed-in user through their own scope (the address must match).
        """

        secret = _token(token)

        def run(tx: Tx) -> AcceptedInvitation:
            invitation = _by_token(tx, secret)
            _check_answerer(tx, invitation)
            invitation.check_usable(tx.now)
            records.active_user(tx.uow, invitation.coach_id, "coach_id")
            member = _member_for(tx, invitation, name, timezone)
            rel = _connect(tx, invitation, member)
            accepted = invitation.answer(
                InvitationStatus.ACCEPTED, tx.now, member_id=member.id, relationship_id=rel.id
            )
            tx.uow.invitations.update(accepted)
            audit.record(
                tx,
                "invitation.accepted",
                "invitation",
                accepted.id,
                member_id=member.id,
                relationship_id=rel.id,
            )
            return AcceptedInvitation(invitation=accepted, user=member, relationship=rel)

        return self._rt.write(self._actor, run, action="invitations.accept")

    def decline(self, token: Any) -> Invitation:
        """Decline with the token; the same errors as ``accept``."""
        secret = _token(token)

        def run(tx: Tx) -> Invitation:
            invitation = _by_token(tx, secret)
            _check_answerer(tx, invitation)
            declined = invitation.answer(InvitationStatus.DECLINED, tx.now)
            tx.uow.invitations.update(declined)
            audit.record(tx, "invitation.declined", "invitation", declined.id)
            return declined

        return self._rt.write(self._actor, run, action="invitations.decline")

    def revoke(self, invitation_id: Any) -> Invitation:
        """The inviting coach (or an admin) withdraws a pending invitation."""

        def run(tx: Tx) -> Invitation:
            invitation = self._find(tx, invitation_id)
            policy.check_manage_invitation(tx.actor, invitation.coach_id, "invitations:write")
            revoked = invitation.answer(InvitationStatus.REVOKED, tx.now)
            tx.uow.invitations.update(revoked)
            audit.record(tx, "invitation.revoked", "invitation", revoked.id)
            return revoked

        return self._rt.write(self._actor, run, action="invitations.revoke")

    @staticmethod
    def _find(tx: Tx, invitation_id: Any) -> Invitation:
        key = checks.identifier("invitation_id", invitation_id)
        found = tx.uow.invitations.get(key)
        if found is None:
            raise NotFound("Invitation not found", details={"invitation_id": key})
        return found
