"""Who may see and manage organizations: platform admins everything, an
organization's admins that organization only, its members read it. Nobody is
made a member without consent or authority: organization admins invite, the
invited user accepts; only platform admins (and the host) add users directly."""

from __future__ import annotations

from coachcore.domain.organizations import (
    OrganizationInvitation,
    OrganizationMembership,
    OrganizationRole,
)
from coachcore.errors import Forbidden
from coachcore.policies.roles import Actor, denied

MANAGE_ALL = "organizations:manage"


def is_platform_admin(actor: Actor) -> bool:
    return actor.can(MANAGE_ALL)


def check_create(actor: Actor) -> None:
    """Platform admins, and users whose role holds ``organizations:create``
    (role data: coaches and members by default; a host may take it away)."""
    if not is_platform_admin(actor):
        actor.require("organizations:create")


def check_view(actor: Actor, membership: OrganizationMembership | None) -> None:
    """Platform admins and the organization's own members."""
    if not (is_platform_admin(actor) or membership is not None):
        raise Forbidden("You may not access this organization")


def check_manage(actor: Actor, membership: OrganizationMembership | None) -> None:
    """Platform admins, and the organization's admins (for their organization only)."""
    if is_platform_admin(actor):
        return
    if membership is None or membership.role != OrganizationRole.ADMIN:
        raise Forbidden("Only this organization's admins may manage it")


def check_view_user(actor: Actor, user_id: str) -> None:
    """A user's organizations: the user themself and platform admins."""
    if not (is_platform_admin(actor) or actor.user_id == user_id):
        raise Forbidden("You may not list this user's organizations")


def check_add_directly(actor: Actor, organization_id: str) -> None:
    """Adding a user without their consent takes authority: platform admins and
    the host only; an organization's own admins invite instead."""
    if not is_platform_admin(actor):
        raise denied(
            "Users join by accepting an invitation; this organization's admins invite them",
            "organization",
            organization_id,
        )


def check_answer(actor: Actor, invitation: OrganizationInvitation) -> None:
    """An organization invitation is answered by the invited user (platform
    admins and the host may answer for them)."""
    if not (is_platform_admin(actor) or actor.user_id == invitation.user_id):
        raise denied(
            "This invitation is for someone else", "organization_invitation", invitation.id
        )

