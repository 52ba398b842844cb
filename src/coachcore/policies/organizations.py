"""Who may see and manage organizations: platform admins everything, an
organization's admins that organization only, its members read it."""

from __future__ import annotations

from coachcore.domain.organizations import OrganizationMembership, OrganizationRole
from coachcore.errors import Forbidden
from coachcore.policies.roles import Actor

MANAGE_ALL = "organizations:manage"


def is_platform_admin(actor: Actor) -> bool:
    return actor.can(MANAGE_ALL)


def check_create(actor: Actor) -> None:
    """Platform admins, and users whose role may create organizations."""
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
