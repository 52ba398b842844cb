"""Coaching interest: members without a coach ask to be matched; admins list,
filter and handle the submissions, and nobody else sees them."""

from __future__ import annotations

from typing import Any

from coachcore.domain import checks
from coachcore.domain.relations import CoachingInterest, InterestStatus
from coachcore.errors import BusinessRuleViolation, Conflict, NotFound
from coachcore.ports.storage import UnitOfWork
from coachcore.services.coaching import relationships
from coachcore.services.compliance import audit
from coachcore.services.runtime import records
from coachcore.services.runtime.transaction import Tx, UseCases, new_id

MAX_PAGE = 500


def has_open_interest(uow: UnitOfWork, member_id: str) -> bool:
    """True if the member has a submission no admin has handled yet."""
    return bool(uow.interests.list(member_id=member_id, status=InterestStatus.NEW))


def _find(uow: UnitOfWork, interest_id: Any) -> CoachingInterest:
    key = checks.identifier("interest_id", interest_id)
    found = uow.interests.get(key)
    if found is None:
        raise NotFound("Interest submission not found", details={"interest_id": key})
    return found


class Interest(UseCases):
    """``scope.interest``: coaching interest submissions."""

    def submit(
        self, *, goals: Any, preferred_times: Any = None, notes: Any = None
    ) -> CoachingInterest:
        """The calling member, who has no coach (no primary coach, no active or
        paused relationship), asks to be matched; one open submission at a time."""
        wanted = checks.required_text("goals", goals)
        times = checks.text("preferred_times", preferred_times, max_len=2000)
        extra = checks.text("notes", notes)

        def run(tx: Tx) -> CoachingInterest:
            tx.actor.require("interest:submit")
            tx.uow.lock_coach(tx.actor.user_id)  # the member's key: one open submission, racing
            member = records.member(tx.uow, tx.actor.user_id)
            if relationships.overview(tx, member.user_id).coaches:
                raise BusinessRuleViolation(
                    "You already have a coach", details={"member_id": member.user_id}
                )
            if has_open_interest(tx.uow, member.user_id):
                raise Conflict("You already have an open interest submission")
            created = CoachingInterest(
                id=new_id(),
                member_id=member.user_id,
                goals=wanted,
                preferred_times=times,
                notes=extra,
                created_at=tx.now,
                updated_at=tx.now,
            )
            tx.uow.interests.add(created)
            audit.record(tx, "interest.submitted", "interest", created.id)
            return created

        return self._rt.write(self._actor, run, action="interest.submit")

    def list(
        self,
        *,
        status: Any = None,
        member_id: Any = None,
        submitted_after: Any = None,
        submitted_before: Any = None,
        search: Any = None,
        offset: Any = 0,
        limit: Any = 50,
    ) -> list[CoachingInterest]:
        """Admins only: submissions oldest first, filtered by status, member,
        submission time ``[submitted_after, submitted_before)`` and a
        case-insensitive ``search`` in goals, preferred times and notes."""
        wanted = None if status is None else checks.choice("status", status, InterestStatus)
        member = checks.optional_identifier("member_id", member_id)
        after = checks.optional_aware("submitted_after", submitted_after)
        before = checks.optional_aware("submitted_before", submitted_before)
        needle = checks.text("search", search, max_len=200)
        start = checks.integer("offset", offset, low=0, high=10**9)
        size = checks.integer("limit", limit, low=1, high=MAX_PAGE)

        def keep(i: CoachingInterest) -> bool:
            if after is not None and i.created_at < after:
                return False
            if before is not None and i.created_at >= before:
                return False
            if needle:
                text = " ".join(filter(None, (i.goals, i.preferred_times, i.notes)))
                return needle.casefold() in text.casefold()
            return True

        def run(tx: Tx) -> list[CoachingInterest]:
            tx.actor.require("interest:manage")
            rows = [i for i in tx.uow.interests.list(member_id=member, status=wanted) if keep(i)]
            return rows[start : start + size]

        return self._rt.read(self._actor, run)

    def get(self, interest_id: Any) -> CoachingInterest:
        """Admins only."""

        def run(tx: Tx) -> CoachingInterest:
            tx.actor.require("interest:manage")
            return _find(tx.uow, interest_id)

        return self._rt.read(self._actor, run)

    def mark_handled(self, interest_id: Any, *, note: Any = None) -> CoachingInterest:
        """Admins only: the submission is handled (once; again is a 422)."""
        text = checks.text("note", note, max_len=2000)

        def run(tx: Tx) -> CoachingInterest:
            tx.actor.require("interest:manage")
            handled = _find(tx.uow, interest_id).handle(tx.actor.user_id, tx.now, text)
            tx.uow.interests.update(handled)
            audit.record(tx, "interest.handled", "interest", handled.id)
            return handled

        return self._rt.write(self._actor, run, action="interest.mark_handled")
