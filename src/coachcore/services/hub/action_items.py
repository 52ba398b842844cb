"""Action plans and items: made from a session or for a member, with
due dates, status changes and the overdue query."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import attrs

from coachcore.domain import checks
from coachcore.domain.hub import (
    ActionItem,
    ActionItemStatus,
    ActionPlan,
)
from coachcore.errors import ValidationFailed
from coachcore.policies import hub as policy
from coachcore.ports.storage import UnitOfWork
from coachcore.services.compliance import audit
from coachcore.services.hub.subjects import actor_coaches, coach_of, find, subject
from coachcore.services.runtime.transaction import Tx, UseCases, new_id

_UNSET: Any = object()
ItemList = list[ActionItem]


def _due(value: Any) -> date | None:
    return None if value is None else checks.calendar_date("due_date", value)


class ActionPlans(UseCases):
    """``scope.action_plans``: named groups of action items."""

    def create(
        self,
        *,
        title: Any,
        session_id: Any = None,
        member_id: Any = None,
        description: Any = None,
    ) -> ActionPlan:
        """A plan for the session's member (by the session's coach) or for a
        member the coach coaches; admins for anyone."""
        name = checks.required_text("title", title, max_len=500).strip()
        about = checks.text("description", description)
        session_key = checks.optional_identifier("session_id", session_id)
        member_key = checks.optional_identifier("member_id", member_id)

        def run(tx: Tx) -> ActionPlan:
            profile, session = subject(tx, session_key, member_key)
            plan = ActionPlan(
                id=new_id(),
                member_id=profile.user_id,
                coach_id=coach_of(tx, profile, session),
                session_id=None if session is None else session.id,
                title=name,
                description=about,
                created_at=tx.now,
                updated_at=tx.now,
            )
            tx.uow.action_plans.add(plan)
            audit.record(
                tx, "action_plan.created", "action_plan", plan.id, member_id=plan.member_id
            )
            return plan

        return self._rt.write(self._actor, run, action="actionplans.create")

    def get(self, plan_id: Any) -> ActionPlan:
        """One action plan, if the actor may see it."""

        def run(tx: Tx) -> ActionPlan:
            plan: ActionPlan = find(tx.uow.action_plans.get, "Action plan", "plan_id", plan_id)
            policy.check_view_plan(tx.actor, plan, actor_coaches(tx, plan.member_id))
            return plan

        return self._rt.read(self._actor, run)

    def list(self, *, member_id: Any = None) -> list[ActionPlan]:
        """A member's plans (default: the actor's own as member, or as coach)."""
        member = checks.optional_identifier("member_id", member_id)

        def run(tx: Tx) -> list[ActionPlan]:
            if member is not None:
                policy.check_view_member_records(tx.actor, member, actor_coaches(tx, member))
                return list(tx.uow.action_plans.list(member_id=member))
            if tx.actor.sees_all:
                return list(tx.uow.action_plans.list())
            mine = {p.id: p for p in tx.uow.action_plans.list(member_id=tx.actor.user_id)}
            mine.update({p.id: p for p in tx.uow.action_plans.list(coach_id=tx.actor.user_id)})
            return sorted(mine.values(), key=lambda p: (p.created_at, p.id))

        return self._rt.read(self._actor, run)


class ActionItems(UseCases):
    """``scope.action_items``: things to do, open or done, with due dates."""

    def create(
        self,
        *,
        title: Any,
        session_id: Any = None,
        member_id: Any = None,
        plan_id: Any = None,
        owner_id: Any = None,
        due_date: Any = None,
        description: Any = None,
    ) -> ActionItem:
        """An open item for the session's (or given) member, owned by the member
        (default) or the coach; in a plan of the same member if ``plan_id``."""
        name = checks.required_text("title", title, max_len=500).strip()
        about = checks.text("description", description)
        due = _due(due_date)
        session_key = checks.optional_identifier("session_id", session_id)
        member_key = checks.optional_identifier("member_id", member_id)
        plan_key = checks.optional_identifier("plan_id", plan_id)
        owner_key = checks.optional_identifier("owner_id", owner_id)

        def run(tx: Tx) -> ActionItem:
            plan = None
            given_member = member_key
            if plan_key is not None:
                plan = find(tx.uow.action_plans.get, "Action plan", "plan_id", plan_key)
                if given_member is not None and given_member != plan.member_id:
                    raise ValidationFailed("plan_id: belongs to another member")
                given_member = plan.member_id
            profile, session = subject(tx, session_key or (plan and plan.session_id), given_member)
            coach_id = plan.coach_id if plan is not None else coach_of(tx, profile, session)
            owner = owner_key or profile.user_id
            if owner not in (profile.user_id, coach_id):
                raise ValidationFailed(
                    "owner_id: must be the member or their coach", details={"field": "owner_id"}
                )
            item = ActionItem(
                id=new_id(),
                member_id=profile.user_id,
                coach_id=coach_id,
                owner_id=owner,
                session_id=None if session is None else session.id,
                plan_id=None if plan is None else plan.id,
                title=name,
                description=about,
                due_date=due,
                created_at=tx.now,
                updated_at=tx.now,
            )
            tx.uow.action_items.add(item)
            audit.record(
                tx, "action_item.created", "action_item", item.id, member_id=item.member_id
            )
            return item

        return self._rt.write(self._actor, run, action="actionitems.create")

    def get(self, item_id: Any) -> ActionItem:
        """One action item, if the actor may see it."""

        def run(tx: Tx) -> ActionItem:
            item = self._item(tx, item_id)
            policy.check_view_item(tx.actor, item, actor_coaches(tx, item.member_id))
            return item

        return self._rt.read(self._actor, run)

    def list(
        self,
        *,
        member_id: Any = None,
        plan_id: Any = None,
        session_id: Any = None,
        status: Any = None,
        owner_id: Any = None,
    ) -> ItemList:
        """Items the actor may see (their own as member, owner or coach; all for
        admins), oldest first, filtered."""
        member = checks.optional_identifier("member_id", member_id)
        plan = checks.optional_identifier("plan_id", plan_id)
        session = checks.optional_identifier("session_id", session_id)
        owner = checks.optional_identifier("owner_id", owner_id)
        wanted = None if status is None else checks.choice("status", status, ActionItemStatus)

        def run(tx: Tx) -> ItemList:
            rows = self._visible(tx, member, plan)
            return [
                i
                for i in rows
                if (session is None or i.session_id == session)
                and (owner is None or i.owner_id == owner)
                and (wanted is None or i.status == wanted)
                and (plan is None or i.plan_id == plan)
            ]

        return self._rt.read(self._actor, run)

    def overdue(self, *, member_id: Any = None, as_of: Any = None) -> ItemList:
        """Open items due before ``as_of`` (default: today, UTC), soonest due first,
        among those the actor may see."""
        member = checks.optional_identifier("member_id", member_id)
        day = None if as_of is None else checks.calendar_date("as_of", as_of)

        def run(tx: Tx) -> ItemList:
            today = day or tx.now.date()
            if member is not None:
                policy.check_view_member_records(tx.actor, member, actor_coaches(tx, member))
                return list(tx.uow.action_items.overdue(today, member_id=member))
            if tx.actor.sees_all:
                return list(tx.uow.action_items.overdue(today))
            visible = {i.id for i in self._visible(tx, None, None)}
            mine = [i for i in tx.uow.action_items.overdue(today) if i.id in visible]
            return mine

        return self._rt.read(self._actor, run)

    def update(
        self,
        item_id: Any,
        *,
        title: Any = _UNSET,
        description: Any = _UNSET,
        due_date: Any = _UNSET,
    ) -> ActionItem:
        """Change an item's title, description or due date (only the fields given)."""
        changes: dict[str, Any] = {}
        if title is not _UNSET:
            changes["title"] = checks.required_text("title", title, max_len=500).strip()
        if description is not _UNSET:
            changes["description"] = checks.text("description", description)
        if due_date is not _UNSET:
            changes["due_date"] = _due(due_date)

        def run(tx: Tx) -> ActionItem:
            item = self._item(tx, item_id)
            policy.check_change_item(tx.actor, item, actor_coaches(tx, item.member_id))
            updated = attrs.evolve(item, updated_at=tx.now, **changes)
            tx.uow.action_items.update(updated)
            audit.record(tx, "action_item.updated", "action_item", item.id, fields=sorted(changes))
            return updated

        return self._rt.write(self._actor, run, action="actionitems.update")

    def set_status(self, item_id: Any, status: Any) -> ActionItem:
        """open -> done (``completed_at`` set) or done -> open; by the owner, the
        member, their coaches or admins; the same status again is a 422."""
        to = checks.choice("status", status, ActionItemStatus)

        def run(tx: Tx) -> ActionItem:
            item = self._item(tx, item_id)
            policy.check_change_item(tx.actor, item, actor_coaches(tx, item.member_id))
            moved = item.set_status(to, tx.now)
            tx.uow.action_items.update(moved)
            audit.record(tx, "action_item.status_changed", "action_item", item.id, new=to)
            return moved

        return self._rt.write(self._actor, run, action="actionitems.set_status")

    def complete(self, item_id: Any) -> ActionItem:
        """Mark an item done."""
        return self.set_status(item_id, ActionItemStatus.DONE)

    def reopen(self, item_id: Any) -> ActionItem:
        """Mark a done item open again."""
        return self.set_status(item_id, ActionItemStatus.OPEN)

    @staticmethod
    def _item(tx: Tx, item_id: Any) -> ActionItem:
        found: ActionItem = find(tx.uow.action_items.get, "Action item", "item_id", item_id)
        return found

    @staticmethod
    def _visible(tx: Tx, member: str | None, plan: str | None) -> Sequence[ActionItem]:
        uow: UnitOfWork = tx.uow
        if member is not None:
            policy.check_view_member_records(tx.actor, member, actor_coaches(tx, member))
            return uow.action_items.list(member_id=member, plan_id=plan)
        if tx.actor.sees_all:
            return uow.action_items.list(plan_id=plan)
        me = tx.actor.user_id
        mine = {i.id: i for i in uow.action_items.list(member_id=me)}
        mine.update({i.id: i for i in uow.action_items.list(coach_id=me)})
        return sorted(mine.values(), key=lambda i: (i.created_at, i.id))
