"""Who may see and change the coaching hub's records (seed 003), as pure functions.

``coaches`` tells whether the actor coaches the member (primary coach or an
active relationship); the services look it up.
"""

from __future__ import annotations

from coachcore.domain.hub import ActionItem, ActionPlan, QuickNote
from coachcore.errors import Forbidden
from coachcore.policies.roles import Actor, denied


def _deny(what: str, entity_type: str, entity_id: str) -> Forbidden:
    return denied(f"You may not access this {what}", entity_type, entity_id)


def check_coach_side(actor: Actor, coaches: bool) -> None:
    """Creating plans, items and notes, recording scores: admins, or a coach
    (``hub:write`` and ``sessions:write``) who coaches the member."""
    actor.require("hub:write")
    if actor.sees_all:
        return
    if not (actor.can("sessions:write") and coaches):
        raise Forbidden("You do not coach this member")


def can_view_member_records(actor: Actor, member_id: str, coaches: bool) -> bool:
    """Plans, items, scores and progress: admins, the member, their coaches."""
    if actor.sees_all or actor.user_id == member_id:
        return True
    return actor.can("hub:read") and coaches


def check_view_member_records(actor: Actor, member_id: str, coaches: bool) -> None:
    if not can_view_member_records(actor, member_id, coaches):
        raise _deny("member's records", "member", member_id)


def check_view_plan(actor: Actor, plan: ActionPlan, coaches: bool) -> None:
    if not (
        actor.user_id == plan.coach_id or can_view_member_records(actor, plan.member_id, coaches)
    ):
        raise _deny("action plan", "action_plan", plan.id)


def check_view_item(actor: Actor, item: ActionItem, coaches: bool) -> None:
    mine = actor.user_id in (item.owner_id, item.coach_id)
    if not (mine or can_view_member_records(actor, item.member_id, coaches)):
        raise _deny("action item", "action_item", item.id)


def check_change_item(actor: Actor, item: ActionItem, coaches: bool) -> None:
    """Status and details: the owner, the member, the item's coach, the member's
    coaches, admins."""
    actor.require("hub:write")
    check_view_item(actor, item, coaches)


def check_note(actor: Actor, note: QuickNote) -> None:
    """Quick notes are the author's (and admins'): members never see them."""
    actor.require("hub:read")
    if not (actor.sees_all or actor.user_id == note.coach_id):
        raise _deny("note", "quick_note", note.id)


def check_list_notes(actor: Actor) -> None:
    """Listing notes is for coaches (their own) and admins (all)."""
    actor.require("hub:read")
    if not (actor.sees_all or actor.can("sessions:write")):
        raise Forbidden("Quick notes are for coaches")
