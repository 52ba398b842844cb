"""Coach profiles: accepting coaches, get with live statistics, update."""

from __future__ import annotations

from typing import Any

import attrs

from coachcore.domain import checks
from coachcore.domain.entities import CoachProfile
from coachcore.policies import access
from coachcore.ports.storage import UnitOfWork
from coachcore.services.runtime import records
from coachcore.services.runtime.transaction import Tx, UseCases

_UNSET: Any = object()


def with_stats(uow: UnitOfWork, profile: CoachProfile) -> CoachProfile:
    """The profile with member count, free capacity and average rating filled in."""
    count = uow.members.count_for_coach(profile.user_id, active_only=True)
    ratings = [r.rating for r in uow.ratings.list(coach_id=profile.user_id)]
    return attrs.evolve(
        profile,
        current_member_count=count,
        available_capacity=max(0, profile.max_members - count),
        average_rating=round(sum(ratings) / len(ratings), 2) if ratings else None,
        rating_count=len(ratings),
    )


class Coaches(UseCases):
    """``scope.coaches``: coach profiles, by coach user id."""

    def list_accepting(self) -> list[CoachProfile]:
        """Active coaches with ``is_accepting_members`` on, for member signup."""

        def run(tx: Tx) -> list[CoachProfile]:
            tx.actor.require("coaches:read")
            out = []
            for profile in tx.uow.coaches.list():
                user = tx.uow.users.get(profile.user_id)
                if profile.is_accepting_members and user is not None and user.is_active:
                    out.append(with_stats(tx.uow, profile))
            return out

        return self._rt.read(self._actor, run)

    def get(self, coach_id: Any) -> CoachProfile:
        """One coach's profile, if the actor may see it."""

        def run(tx: Tx) -> CoachProfile:
            tx.actor.require("coaches:read")
            return with_stats(tx.uow, records.coach(tx.uow, coach_id))

        return self._rt.read(self._actor, run)

    def update(
        self,
        coach_id: Any,
        *,
        specialization: Any = _UNSET,
        bio: Any = _UNSET,
        certifications: Any = _UNSET,
        max_members: Any = _UNSET,
        is_accepting_members: Any = _UNSET,
    ) -> CoachProfile:
        """The coach (or an admin) changes the profile; max_members must be >= 1."""

        def run(tx: Tx) -> CoachProfile:
            profile = records.coach(tx.uow, coach_id)
            access.check_own_coach(tx.actor, profile.user_id, "coaches:write")
            changes: dict[str, Any] = {"updated_at": tx.now}
            if specialization is not _UNSET:
                value = checks.text("specialization", specialization, max_len=200)
                changes["specialization"] = None if value is None else value.strip() or None
            if bio is not _UNSET:
                changes["bio"] = checks.text("bio", bio)
            if certifications is not _UNSET:
                changes["certifications"] = checks.text("certifications", certifications)
            if max_members is not _UNSET:
                changes["max_members"] = checks.integer(
                    "max_members", max_members, low=1, high=100_000
                )
            if is_accepting_members is not _UNSET:
                changes["is_accepting_members"] = checks.boolean(
                    "is_accepting_members", is_accepting_members
                )
            updated = attrs.evolve(profile, **changes)
            tx.uow.coaches.update(updated)
            return with_stats(tx.uow, updated)

        return self._rt.write(self._actor, run, action="coaches.update")
