"""Who may see and change the sister systems' records, as pure functions of the actor."""

from __future__ import annotations

from coachcore.domain.relations import CoachingRelationship, Invitation, RelationshipStatus
from coachcore.errors import Forbidden
from coachcore.policies.roles import Actor, denied


def _deny(what: str, entity_id: str) -> Forbidden:
    return denied(f"You may not access this {what}", what, entity_id)


def is_party(actor: Actor, relationship: CoachingRelationship) -> bool:
    return actor.user_id in (relationship.coach_id, relationship.member_id)


def check_view_relationship(actor: Actor, relationship: CoachingRelationship) -> None:
    """Admins, and the relationship's coach and member."""
    actor.require("relationships:read")
    if not (actor.sees_all or is_party(actor, relationship)):
        raise _deny("relationship", relationship.id)


def check_request_relationship(actor: Actor, coach_id: str, member_id: str) -> None:
    """A coach asks to coach a member, a member asks for a coach; admins for anyone."""
    actor.require("relationships:write")
    if not (actor.sees_all or actor.user_id in (coach_id, member_id)):
        raise Forbidden("You may only request relationships you take part in")


def check_move_relationship(
    actor: Actor, relationship: CoachingRelationship, to: RelationshipStatus
) -> None:
    """Either side (or an admin) changes the status; a pending request is
    accepted or declined by a side that did not make it, and withdrawn only
    by the side that made it."""
    actor.require("relationships:write")
    if actor.sees_all:
        return
    if not is_party(actor, relationship):
        raise _deny("relationship", relationship.id)
    mine = actor.user_id == relationship.requested_by
    if to == RelationshipStatus.WITHDRAWN and not mine:
        raise Forbidden("Only the side that made a coaching request withdraws it")
    if to == RelationshipStatus.DECLINED and mine:
        raise Forbidden("The other side declines a coaching request; withdraw it instead")
    accepting = (
        relationship.status == RelationshipStatus.PENDING and to == RelationshipStatus.ACTIVE
    )
    if accepting and mine:
        raise Forbidden("The other side accepts a coaching request")


def check_manage_invitation(actor: Actor, coach_id: str, permission: str) -> None:
    """A coach's invitations: that coach, or an admin."""
    actor.require(permission)
    if not (actor.sees_all or actor.user_id == coach_id):
        raise denied("You may not access this coach's invitations", "coach", coach_id)


def check_answer_invitation(actor: Actor, actor_email: str | None, invitation: Invitation) -> None:
    """The token is the credential, held by the invitee: the host (system
    scope, admins) answers for the invitee; a signed-in user answers only an
    invitation bound to them (``invitee_id``, set when the address already
    belonged to a user) or, when unbound, one to their own address."""
    if actor.sees_all:
        return
    if invitation.invitee_id is not None:
        if actor.user_id == invitation.invitee_id:
            return
    elif actor_email == invitation.email:
        return
    raise denied("This invitation is for someone else", "invitation", invitation.id)
