"""Every coach-side or writing check needs its permission, even for a role that
sees all: a host-defined role is exactly its permission set. For each check, the
actor holding every permission passes and the same actor lacking only the one
the check names is refused (policies/hub.py, documents.py, relations.py)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from coachcore.domain.documents import Document
from coachcore.domain.hub import ActionItem, ActionPlan, QuickNote
from coachcore.domain.relations import CoachingRelationship, RelationshipStatus
from coachcore.errors import Forbidden
from coachcore.policies import documents, hub, relations
from coachcore.policies.roles import PERMISSIONS, Actor

T = datetime(2030, 1, 1, 8, tzinfo=UTC)
ITEM = ActionItem(id="i", plan_id="p", member_id="m", coach_id="c", owner_id="c", title="t",
                  created_at=T, updated_at=T)
NOTE = QuickNote(id="n", coach_id="c", member_id="m", body="b", created_at=T, updated_at=T)
DOC = Document(id="d", owner_id="c", member_id="m", title="t", filename="a.txt",
               content_type="text/plain", size_bytes=1, sha256="0" * 64,
               created_at=T, updated_at=T)
PAIR = CoachingRelationship(id="r", coach_id="c", member_id="m", requested_by="c",
                            created_at=T, updated_at=T)

CHECKS: dict[str, tuple[str, Callable[[Actor], None]]] = {
    "coach side": ("hub:write", lambda a: hub.check_coach_side(a, True)),
    "change item": ("hub:write", lambda a: hub.check_change_item(a, ITEM, True)),
    "note": ("hub:read", lambda a: hub.check_note(a, NOTE)),
    "list notes": ("hub:read", lambda a: hub.check_list_notes(a)),
    "upload": ("documents:write", lambda a: documents.check_upload(
        a, "m", None, coaches=True, in_organization=True)),
    "change document": ("documents:write", lambda a: documents.check_change(a, DOC)),
    "view relationship": ("relationships:read",
                          lambda a: relations.check_view_relationship(a, PAIR)),
    "request relationship": ("relationships:write",
                             lambda a: relations.check_request_relationship(a, "c", "m")),
    "move relationship": ("relationships:write", lambda a: relations.check_move_relationship(
        a, PAIR, RelationshipStatus.ACTIVE)),
}


@pytest.mark.parametrize("name", sorted(CHECKS))
@pytest.mark.parametrize("who", ["c", "m", "x"])
def test_each_check_needs_its_permission(name: str, who: str) -> None:
    permission, check = CHECKS[name]
    check(Actor(who, "host_admin", PERMISSIONS))
    with pytest.raises(Forbidden):
        check(Actor(who, "host_admin", PERMISSIONS - {permission}))


def test_who_sees_an_action_plan() -> None:
    plan = ActionPlan(id="p", member_id="m", coach_id="c", title="t", created_at=T, updated_at=T)
    reader = frozenset({"hub:read"})
    for who, coaches, seen in [("c", False, True), ("m", False, True), ("x", True, True),
                               ("x", False, False)]:
        actor = Actor(who, "host_role", reader)
        if seen:
            hub.check_view_plan(actor, plan, coaches)
        else:
            with pytest.raises(Forbidden):
                hub.check_view_plan(actor, plan, coaches)


def test_an_upload_into_an_organization_needs_membership() -> None:
    writer = Actor("x", "host_role", frozenset({"documents:write"}))
    documents.check_upload(writer, None, "o", coaches=False, in_organization=True)
    with pytest.raises(Forbidden):
        documents.check_upload(writer, None, "o", coaches=False, in_organization=False)


def test_either_side_resumes_a_paused_relationship_only_the_other_accepts() -> None:
    """Only accepting a *pending* request is for the side that did not make it."""
    requester = Actor("c", "coach", frozenset({"relationships:write"}))
    paused = CoachingRelationship(id="r", coach_id="c", member_id="m", requested_by="c",
                                  status=RelationshipStatus.PAUSED, created_at=T, updated_at=T)
    relations.check_move_relationship(requester, paused, RelationshipStatus.ACTIVE)
    with pytest.raises(Forbidden):
        relations.check_move_relationship(requester, PAIR, RelationshipStatus.ACTIVE)
    other_side = Actor("m", "member", frozenset({"relationships:write"}))
    relations.check_move_relationship(other_side, PAIR, RelationshipStatus.ACTIVE)
