"""The coaching hub (seed 003): action plans and items made from a session, the
overdue query, coaches' quick notes, and session scores with a member's progress."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import attrs

from coachcore.domain import checks
from coachcore.domain.entities import MemberProfile, Session
from coachcore.domain.hub import (
    ActionItem,
    ActionItemStatus,
    ActionPlan,
    QuickNote,
    SessionScore,
    score,
)
from coachcore.errors import NotFound, ValidationFailed
from coachcore.policies import hub as policy
from coachcore.ports.storage import UnitOfWork
from coachcore.services import audit, lookups
from coachcore.services.context import Tx, UseCases, new_id
from coachcore.services.session_settings import coaches

_UNSET: Any = object()
ItemList = list[ActionItem]


@attrs.frozen(kw_only=True)
class Progress:
    """A member's scores over time: one entry per scored session, oldest first."""

    member_id: str
    scores: tuple[SessionScore, ...] = ()

    @property
    def latest(self) -> float | None:
        return self.scores[-1].current_score if self.scores else None

    @property
    def overall_change(self) -> float | None:
        """Latest current score minus the first recorded score (previous if given)."""
        if not self.scores:
            return None
        first = self.scores[0]
        start = first.previous_score if first.previous_score is not None else first.current_score
        return self.scores[-1].current_score - start


def _find(get: Any, what: str, field: str, value: Any) -> Any:
    key = checks.identifier(field, value)
    found = get(key)
    if found is None:
        raise NotFound(f"{what} not found", details={field: key})
    return found


def _coaches(tx: Tx, member_id: str) -> bool:
    if tx.actor.sees_all or tx.actor.user_id == member_id:
        return False
    profile = tx.uow.members.get(member_id)
    return profile is not None and coaches(tx.uow, tx.actor.user_id, profile)


def _subject(
    tx: Tx, session_id: str | None, member_id: str | None
) -> tuple[MemberProfile, Session | None]:
    """The member a record is about, from the session or given directly; with a
    session, the actor must be its coach (or an admin)."""
    session = None if session_id is None else lookups.session(tx.uow, session_id)
    if session is not None:
        if member_id is not None and member_id != session.member_id:
            raise ValidationFailed(
                "member_id: is not the session's member", details={"field": "member_id"}
            )
        member_id = session.member_id
    if member_id is None:
        raise ValidationFailed("member_id: is required without a session_id")
    profile = lookups.member(tx.uow, member_id)
    if session is not None:
        policy.check_coach_side(tx.actor, tx.actor.user_id == session.coach_id)
    else:
        policy.check_coach_side(tx.actor, coaches(tx.uow, tx.actor.user_id, profile))
    return profile, session


def _coach_of(tx: Tx, profile: MemberProfile, session: Session | None) -> str:
    """The coach a record belongs to: the session's, the acting coach, or the primary."""
    if session is not None:
        return session.coach_id
    if not tx.actor.sees_all:
        return tx.actor.user_id
    if profile.coach_id is None:
        raise ValidationFailed("session_id: needed for a member without a coach")
    return profile.coach_id


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
            profile, session = _subject(tx, session_key, member_key)
            plan = ActionPlan(
                id=new_id(),
                member_id=profile.user_id,
                coach_id=_coach_of(tx, profile, session),
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
        def run(tx: Tx) -> ActionPlan:
            plan: ActionPlan = _find(tx.uow.action_plans.get, "Action plan", "plan_id", plan_id)
            policy.check_view_plan(tx.actor, plan, _coaches(tx, plan.member_id))
            return plan

        return self._rt.read(self._actor, run)

    def list(self, *, member_id: Any = None) -> list[ActionPlan]:
        """A member's plans (default: the actor's own as member, or as coach)."""
        member = checks.optional_identifier("member_id", member_id)

        def run(tx: Tx) -> list[ActionPlan]:
            if member is not None:
                policy.check_view_member_records(tx.actor, member, _coaches(tx, member))
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
                plan = _find(tx.uow.action_plans.get, "Action plan", "plan_id", plan_key)
                if given_member is not None and given_member != plan.member_id:
                    raise ValidationFailed("plan_id: belongs to another member")
                given_member = plan.member_id
            profile, session = _subject(tx, session_key or (plan and plan.session_id), given_member)
            coach_id = plan.coach_id if plan is not None else _coach_of(tx, profile, session)
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
        def run(tx: Tx) -> ActionItem:
            item = self._item(tx, item_id)
            policy.check_view_item(tx.actor, item, _coaches(tx, item.member_id))
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
                policy.check_view_member_records(tx.actor, member, _coaches(tx, member))
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
        changes: dict[str, Any] = {}
        if title is not _UNSET:
            changes["title"] = checks.required_text("title", title, max_len=500).strip()
        if description is not _UNSET:
            changes["description"] = checks.text("description", description)
        if due_date is not _UNSET:
            changes["due_date"] = _due(due_date)

        def run(tx: Tx) -> ActionItem:
            item = self._item(tx, item_id)
            policy.check_change_item(tx.actor, item, _coaches(tx, item.member_id))
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
            policy.check_change_item(tx.actor, item, _coaches(tx, item.member_id))
            moved = item.set_status(to, tx.now)
            tx.uow.action_items.update(moved)
            audit.record(tx, "action_item.status_changed", "action_item", item.id, new=to)
            return moved

        return self._rt.write(self._actor, run, action="actionitems.set_status")

    def complete(self, item_id: Any) -> ActionItem:
        return self.set_status(item_id, ActionItemStatus.DONE)

    def reopen(self, item_id: Any) -> ActionItem:
        return self.set_status(item_id, ActionItemStatus.OPEN)

    @staticmethod
    def _item(tx: Tx, item_id: Any) -> ActionItem:
        found: ActionItem = _find(tx.uow.action_items.get, "Action item", "item_id", item_id)
        return found

    @staticmethod
    def _visible(tx: Tx, member: str | None, plan: str | None) -> Sequence[ActionItem]:
        uow: UnitOfWork = tx.uow
        if member is not None:
            policy.check_view_member_records(tx.actor, member, _coaches(tx, member))
            return uow.action_items.list(member_id=member, plan_id=plan)
        if tx.actor.sees_all:
            return uow.action_items.list(plan_id=plan)
        me = tx.actor.user_id
        mine = {i.id: i for i in uow.action_items.list(member_id=me)}
        mine.update({i.id: i for i in uow.action_items.list(coach_id=me)})
        return sorted(mine.values(), key=lambda i: (i.created_at, i.id))


class QuickNotes(UseCases):
    """``scope.quick_notes``: a coach's private notes about members."""

    def create(self, *, member_id: Any, body: Any, session_id: Any = None) -> QuickNote:
        """A note by a coach who coaches the member (with a session: its coach)."""
        text = checks.required_text("body", body)
        member_key = checks.identifier("member_id", member_id)
        session_key = checks.optional_identifier("session_id", session_id)

        def run(tx: Tx) -> QuickNote:
            profile, session = _subject(tx, session_key, member_key)
            note = QuickNote(
                id=new_id(),
                coach_id=_coach_of(tx, profile, session),
                member_id=profile.user_id,
                session_id=None if session is None else session.id,
                body=text,
                created_at=tx.now,
                updated_at=tx.now,
            )
            tx.uow.quick_notes.add(note)
            audit.record(tx, "quick_note.created", "quick_note", note.id, member_id=note.member_id)
            return note

        return self._rt.write(self._actor, run, action="quicknotes.create")

    def get(self, note_id: Any) -> QuickNote:
        def run(tx: Tx) -> QuickNote:
            note = self._note(tx, note_id)
            policy.check_note(tx.actor, note)
            return note

        return self._rt.read(self._actor, run)

    def list(self, *, member_id: Any = None) -> list[QuickNote]:
        """The actor's own notes (all for admins), oldest first, optionally about one member."""
        member = checks.optional_identifier("member_id", member_id)

        def run(tx: Tx) -> list[QuickNote]:
            policy.check_list_notes(tx.actor)
            if tx.actor.sees_all:
                return list(tx.uow.quick_notes.list(member_id=member))
            return list(tx.uow.quick_notes.list(coach_id=tx.actor.user_id, member_id=member))

        return self._rt.read(self._actor, run)

    def update(self, note_id: Any, *, body: Any) -> QuickNote:
        text = checks.required_text("body", body)

        def run(tx: Tx) -> QuickNote:
            note = self._note(tx, note_id)
            policy.check_note(tx.actor, note)
            updated = attrs.evolve(note, body=text, updated_at=tx.now)
            tx.uow.quick_notes.update(updated)
            audit.record(tx, "quick_note.updated", "quick_note", note.id)
            return updated

        return self._rt.write(self._actor, run, action="quicknotes.update")

    def delete(self, note_id: Any) -> QuickNote:
        def run(tx: Tx) -> QuickNote:
            note = self._note(tx, note_id)
            policy.check_note(tx.actor, note)
            tx.uow.quick_notes.delete(note.id)
            audit.record(tx, "quick_note.deleted", "quick_note", note.id)
            return note

        return self._rt.write(self._actor, run, action="quicknotes.delete")

    @staticmethod
    def _note(tx: Tx, note_id: Any) -> QuickNote:
        found: QuickNote = _find(tx.uow.quick_notes.get, "Quick note", "note_id", note_id)
        return found


class Scores(UseCases):
    """``scope.scores``: previous and current scores on sessions, and progress."""

    def record(
        self, session_id: Any, *, current_score: Any, previous_score: Any = _UNSET
    ) -> SessionScore:
        """Record (or correct) the session's scores, by its coach or an admin.
        ``previous_score`` defaults to the member's latest current score from an
        earlier session (None if there is none)."""
        current = score("current_score", current_score)
        previous = (
            _UNSET
            if previous_score is _UNSET or previous_score is None
            else score("previous_score", previous_score)
        )
        explicit_none = previous_score is None
        session_key = checks.identifier("session_id", session_id)

        def run(tx: Tx) -> SessionScore:
            _, session = _subject(tx, session_key, None)
            assert session is not None
            before: float | None
            if explicit_none:
                before = None
            elif previous is _UNSET:
                earlier = [
                    s
                    for s in tx.uow.session_scores.for_member(session.member_id)
                    if (s.scored_at, s.session_id) < (session.scheduled_at, session.id)
                ]
                before = earlier[-1].current_score if earlier else None
            else:
                before = previous
            stored = tx.uow.session_scores.get(session.id)
            if stored is not None:
                updated = attrs.evolve(
                    stored,
                    previous_score=before,
                    current_score=current,
                    scored_at=session.scheduled_at,
                    updated_at=tx.now,
                )
                tx.uow.session_scores.update(updated)
                audit.record(tx, "score.recorded", "session", session.id, current=current)
                return updated
            created = SessionScore(
                session_id=session.id,
                member_id=session.member_id,
                coach_id=session.coach_id,
                previous_score=before,
                current_score=current,
                scored_at=session.scheduled_at,
                created_at=tx.now,
                updated_at=tx.now,
            )
            tx.uow.session_scores.add(created)
            audit.record(tx, "score.recorded", "session", session.id, current=current)
            return created

        return self._rt.write(self._actor, run, action="scores.record")

    def get(self, session_id: Any) -> SessionScore:
        def run(tx: Tx) -> SessionScore:
            found: SessionScore = _find(
                tx.uow.session_scores.get, "Session score", "session_id", session_id
            )
            if tx.actor.user_id != found.coach_id:
                coach = _coaches(tx, found.member_id)
                policy.check_view_member_records(tx.actor, found.member_id, coach)
            return found

        return self._rt.read(self._actor, run)

    def progress(self, member_id: Any = None) -> Progress:
        """The member's scores over time (``member_id`` defaults to the actor):
        the member, their coaches and admins."""
        member = checks.optional_identifier("member_id", member_id)

        def run(tx: Tx) -> Progress:
            who = member or tx.actor.user_id
            lookups.member(tx.uow, who)
            policy.check_view_member_records(tx.actor, who, _coaches(tx, who))
            return Progress(member_id=who, scores=tuple(tx.uow.session_scores.for_member(who)))

        return self._rt.read(self._actor, run)
