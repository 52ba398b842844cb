"""Member profiles: list, get, update, coach assignment, onboarding, signup."""

from __future__ import annotations

from typing import Any

import attrs

from coachcore.domain import checks
from coachcore.domain.entities import Conversation, MemberProfile
from coachcore.domain.enums import (
    ConversationKind,
    MembershipStatus,
    NotificationKind,
    OnboardingStatus,
    Role,
)
from coachcore.domain.hub import QuickNote
from coachcore.domain.relations import RelationshipStatus
from coachcore.errors import BusinessRuleViolation, Conflict, Forbidden
from coachcore.policies import access
from coachcore.services.accounts.profiles import (
    new_user,
    require_coach_role,
    require_member_role,
)
from coachcore.services.coaching.session_settings import redacted, related
from coachcore.services.compliance import audit
from coachcore.services.delivery import outgoing
from coachcore.services.runtime import records
from coachcore.services.runtime.transaction import Tx, UseCases, new_id

_UNSET: Any = object()
MAX_PAGE = 500


def assign(tx: Tx, profile: MemberProfile, coach_id: Any) -> MemberProfile:
    """Give the member a coach: accepting and under max_members, with a direct
    conversation and a member_assigned notification to the coach."""
    coach = records.coach(tx.uow, coach_id)
    tx.uow.lock_coach(coach.user_id)  # before reading the role: a role change locks it too
    coach_user = records.active_user(tx.uow, coach.user_id, "coach_id")
    require_coach_role(tx, coach_user)
    member_user = records.user(tx.uow, profile.user_id)
    require_member_role(tx, member_user)
    if profile.coach_id == coach.user_id:
        return profile
    if not coach.is_accepting_members:
        raise BusinessRuleViolation("This coach is not accepting members")
    if tx.uow.members.count_for_coach(coach.user_id, active_only=True) >= coach.max_members:
        raise Conflict(
            "This coach has reached their maximum number of members",
            details={"max_members": coach.max_members},
        )
    updated = attrs.evolve(
        _notes_kept_by_previous_coach(tx, profile), coach_id=coach.user_id, updated_at=tx.now
    )
    tx.uow.members.update(updated)
    if tx.uow.conversations.find_direct(coach.user_id, profile.user_id) is None:
        outgoing.open_conversation(
            tx,
            Conversation(
                id=new_id(),
                kind=ConversationKind.DIRECT,
                participant_ids=(coach.user_id, profile.user_id),
                created_at=tx.now,
            ),
        )
    outgoing.notify(
        tx,
        coach.user_id,
        NotificationKind.MEMBER_ASSIGNED,
        "New member assigned",
        f"{member_user.name} is now your member, {coach_user.name}.",
    )
    return updated


def release_coach(tx: Tx, profile: MemberProfile) -> MemberProfile:
    """The member without a primary coach; that coach's private notes become
    their quick note about the member (as on any reassignment)."""
    updated = attrs.evolve(
        _notes_kept_by_previous_coach(tx, profile), coach_id=None, updated_at=tx.now
    )
    tx.uow.members.update(updated)
    return updated


def _notes_kept_by_previous_coach(tx: Tx, profile: MemberProfile) -> MemberProfile:
    """The profile without the previous coach's private notes, which become
    that coach's quick note about the member (theirs and admins' to read):
    a new coach does not inherit them."""
    if profile.coach_id is None or not profile.coach_notes:
        return profile
    note = QuickNote(
        id=new_id(),
        coach_id=profile.coach_id,
        member_id=profile.user_id,
        body=profile.coach_notes,
        created_at=tx.now,
        updated_at=tx.now,
    )
    tx.uow.quick_notes.add(note)
    return attrs.evolve(profile, coach_notes=None)


def signup(
    tx: Tx, roles: Any, *, name: Any, email: Any, coach_id: Any, goals: Any, timezone: Any
) -> MemberProfile:
    """A new Member user with a pending profile, assigned to ``coach_id`` if given."""
    user = new_user(tx, roles, name=name, email=email, role=Role.MEMBER, timezone=timezone)
    profile = records.member(tx.uow, user.id)
    if goals is not None:
        profile = attrs.evolve(profile, goals=checks.text("goals", goals))
        tx.uow.members.update(profile)
    if coach_id is not None:
        profile = assign(tx, profile, coach_id)
    return profile


def _matches(tx: Tx, profile: MemberProfile, search: str | None, status: Any) -> bool:
    if status is not None and profile.membership_status != status:
        return False
    if not search:
        return True
    user = tx.uow.users.get(profile.user_id)
    needle = search.casefold()
    return user is not None and (needle in user.name.casefold() or needle in user.email)


def _coached(tx: Tx, coach_id: str | None) -> list[MemberProfile]:
    """The coach's members: their own (primary coach) and those in an active
    relationship with them, by ``joined_at`` then id; everyone for ``None``."""
    primary = list(tx.uow.members.list(coach_id=coach_id))
    if coach_id is None:
        return primary
    seen = {p.user_id for p in primary}
    related = [
        profile
        for r in tx.uow.relationships.list(coach_id=coach_id)
        if r.status == RelationshipStatus.ACTIVE and r.member_id not in seen
        for profile in (tx.uow.members.get(r.member_id),)
        if profile is not None
    ]
    return sorted([*primary, *related], key=lambda p: (p.joined_at, p.user_id))


class Members(UseCases):
    """``scope.members``: member profiles, by member user id."""

    def list(
        self,
        *,
        search: Any = None,
        coach_id: Any = None,
        membership_status: Any = None,
        offset: Any = 0,
        limit: Any = 50,
    ) -> list[MemberProfile]:
        """Members the actor may see (a coach: their own and those in an active
        relationship with them; an admin: all, or one coach's), paginated."""
        text = checks.text("search", search, max_len=200)
        coach = checks.optional_identifier("coach_id", coach_id)
        status = None
        if membership_status is not None:
            status = checks.choice("membership_status", membership_status, MembershipStatus)
        start = checks.integer("offset", offset, low=0, high=10**9)
        size = checks.integer("limit", limit, low=1, high=MAX_PAGE)

        def run(tx: Tx) -> list[MemberProfile]:
            tx.actor.require("members:read")
            only = coach
            if not tx.actor.sees_all:
                if coach not in (None, tx.actor.user_id):
                    raise Forbidden("You may only list your own members")
                only = tx.actor.user_id
            rows = [redacted(tx, p) for p in _coached(tx, only) if _matches(tx, p, text, status)]
            return [audit.note_profile_read(tx, p) for p in rows[start : start + size]]

        return self._rt.read(self._actor, run)

    def get(self, member_id: Any) -> MemberProfile:
        """One member's profile, if the actor may see it."""

        def run(tx: Tx) -> MemberProfile:
            profile = records.member(tx.uow, member_id)
            access.check_view_member(tx.actor, profile, related(tx, profile))
            return audit.note_profile_read(tx, redacted(tx, profile))

        return self._rt.read(self._actor, run)

    def update(
        self,
        member_id: Any,
        *,
        goals: Any = _UNSET,
        health_info: Any = _UNSET,
        coach_notes: Any = _UNSET,
        membership_status: Any = _UNSET,
    ) -> MemberProfile:
        """The member changes goals and health info; their coach or an admin anything."""

        def run(tx: Tx) -> MemberProfile:
            profile = records.member(tx.uow, member_id)
            coach_side = coach_notes is not _UNSET or membership_status is not _UNSET
            if coach_side or tx.actor.user_id != profile.user_id:
                access.check_manage_member(tx.actor, profile)
            changes: dict[str, Any] = {"updated_at": tx.now}
            if goals is not _UNSET:
                changes["goals"] = checks.text("goals", goals)
            if health_info is not _UNSET:
                changes["health_info"] = checks.text("health_info", health_info)
            if coach_notes is not _UNSET:
                changes["coach_notes"] = checks.text("coach_notes", coach_notes)
            if membership_status is not _UNSET:
                changes["membership_status"] = checks.choice(
                    "membership_status", membership_status, MembershipStatus
                )
            updated = attrs.evolve(profile, **changes)
            tx.uow.members.update(updated)
            return redacted(tx, updated)

        return self._rt.write(self._actor, run, action="members.update")

    def assign_coach(self, member_id: Any, coach_id: Any) -> MemberProfile:
        """Assign (or reassign) the member's coach; admins only."""

        def run(tx: Tx) -> MemberProfile:
            tx.actor.require("members:assign")
            profile = records.member(tx.uow, member_id)
            return assign(tx, profile, coach_id)

        return self._rt.write(self._actor, run, action="members.assign_coach")

    def set_onboarding_status(self, member_id: Any, status: Any) -> MemberProfile:
        """pending -> in_progress -> completed; by the member, their coach or an admin."""
        value = checks.choice("status", status, OnboardingStatus)

        def run(tx: Tx) -> MemberProfile:
            profile = records.member(tx.uow, member_id)
            if tx.actor.user_id != profile.user_id:
                access.check_manage_member(tx.actor, profile)
            updated = attrs.evolve(profile, onboarding_status=value, updated_at=tx.now)
            tx.uow.members.update(updated)
            return redacted(tx, updated)

        return self._rt.write(self._actor, run, action="members.set_onboarding_status")
