"""Who may see and change documents, as pure functions of the actor and the facts
the services look up (``coaches``: the actor coaches the document's member;
``in_organization``: the actor belongs to the document's organization)."""

from __future__ import annotations

from coachcore.domain.documents import Document
from coachcore.errors import Forbidden
from coachcore.policies.roles import Actor


def can_read(actor: Actor, document: Document, *, coaches: bool, in_organization: bool) -> bool:
    """Admins, the uploader, the member it is about and their coaches, and the
    members of its organization."""
    if actor.sees_all or actor.user_id in (document.owner_id, document.member_id):
        return True
    return actor.can("documents:read") and (coaches or in_organization)


def check_read(actor: Actor, document: Document, *, coaches: bool, in_organization: bool) -> None:
    if not can_read(actor, document, coaches=coaches, in_organization=in_organization):
        raise Forbidden("You may not access this document")


def check_upload(
    actor: Actor,
    member_id: str | None,
    organization_id: str | None,
    *,
    coaches: bool,
    in_organization: bool,
) -> None:
    """About a member: that member, their coaches or admins; into an
    organization: its members or admins."""
    actor.require("documents:write")
    if actor.sees_all:
        return
    if member_id is not None and not (actor.user_id == member_id or coaches):
        raise Forbidden("You may not add documents about this member")
    if organization_id is not None and not in_organization:
        raise Forbidden("You may not add documents to this organization")


def check_change(actor: Actor, document: Document) -> None:
    """Metadata changes and deletion: the uploader or admins."""
    actor.require("documents:write")
    if not (actor.sees_all or actor.user_id == document.owner_id):
        raise Forbidden("Only the uploader changes this document")
