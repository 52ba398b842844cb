"""Privacy use cases: the retention purge, the member's data export, erasure."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from coachcore.domain import checks
from coachcore.domain.privacy import (
    MemberExport,
    PersonRef,
    erase_booking,
    holds_notes,
    purge_notes,
)
from coachcore.errors import Forbidden, ValidationFailed
from coachcore.policies import access
from coachcore.serialization import to_dict
from coachcore.services import lookups
from coachcore.services.context import Tx, UseCases

PURGE_BATCH = 200


def purge_batch(tx: Tx, days: int, limit: int) -> int:
    """Purge the private notes of up to ``limit`` sessions completed ``days`` ago or
    earlier (and the member notes of their bookings); returns how many."""
    before = tx.now - timedelta(days=days)
    due = tx.uow.sessions.completed_with_notes(before, limit)
    for session in due:
        if not holds_notes(session):
            continue
        tx.uow.sessions.update(purge_notes(session, tx.now))
        booking = tx.uow.bookings.get_by_session(session.id)
        if booking is not None and booking.member_notes is not None:
            tx.uow.bookings.update(erase_booking(booking, tx.now))
    return len(due)


def check_data_subject(tx: Tx, member_id: str) -> None:
    """A member may act on their own data; others need ``privacy:manage``."""
    if tx.actor.user_id == member_id:
        return
    if not tx.actor.can("privacy:manage"):
        raise Forbidden(
            "Only the member themself or a privacy administrator may do this",
            details={"permission": "privacy:manage"},
        )


def member_export(tx: Tx, member_id: str) -> MemberExport:
    """The member's data as the actor may see it (see ``MemberExport``)."""
    user = lookups.user(tx.uow, member_id)
    profile = lookups.member(tx.uow, user.id)
    coach = None if profile.coach_id is None else tx.uow.users.get(profile.coach_id)
    sessions = list(tx.uow.sessions.list(member_id=user.id))
    ratings = [
        rating
        for rating in (tx.uow.ratings.get_for_session(s.id) for s in sessions)
        if rating is not None
    ]
    return MemberExport(
        exported_at=tx.now,
        requested_by=tx.actor.user_id,
        user=user,
        profile=access.redact_member(tx.actor, profile),
        coach=None if coach is None else PersonRef(id=coach.id, name=coach.name),
        sessions=[access.redact_session(tx.actor, s, profile.coach_id) for s in sessions],
        bookings=list(tx.uow.bookings.list(member_id=user.id)),
        ratings=ratings,
        waitlist=list(tx.uow.waitlist.list(member_id=user.id)),
        notifications=list(tx.uow.notifications.for_recipient(user.id)),
        conversations=list(tx.uow.conversations.for_user(user.id)),
    )


class Privacy(UseCases):
    """``scope.privacy``: retention, export and erasure of personal data."""

    def purge(self, *, days: Any = None) -> int:
        """Remove the coach's and the member's notes from sessions completed more
        than ``days`` ago (default: the core's ``retention_days``); returns how
        many sessions lost notes. Idempotent: a second run purges nothing.
        Needs ``privacy:manage`` (admins, the system scope)."""
        if days is None:
            days = self._rt.retention_days
            if days is None:
                raise ValidationFailed(
                    "days: no retention period given and none configured "
                    "(coachcore.open(url, retention_days=...))",
                    details={"field": "days"},
                )
        period = checks.integer("days", days, low=0, high=36_500)

        def run(tx: Tx) -> int:
            tx.actor.require("privacy:manage")
            return purge_batch(tx, period, PURGE_BATCH)

        total = 0
        while True:  # one short transaction per batch
            done = self._rt.write(self._actor, run)
            total += done
            if done < PURGE_BATCH:
                return total

    def export(self, member_id: Any = None) -> dict[str, Any]:
        """Everything stored about a member as one JSON-ready document.

        ``member_id`` defaults to the actor: a member exports themself; an
        admin (``privacy:manage``) exports anyone; nobody else may. The keys
        are those of :class:`~coachcore.domain.privacy.MemberExport`
        (``schema``, ``version``, ``exported_at``, ``requested_by``, ``user``,
        ``profile``, ``coach``, ``sessions``, ``bookings``, ``ratings``,
        ``waitlist``, ``notifications``, ``conversations``), unstructured by
        the shared cattrs converter: ``json.dumps`` takes it as it is.
        """
        wanted = checks.optional_identifier("member_id", member_id)

        def run(tx: Tx) -> dict[str, Any]:
            subject = wanted or tx.actor.user_id
            check_data_subject(tx, subject)
            document: dict[str, Any] = to_dict(member_export(tx, subject))
            return document

        return self._rt.read(self._actor, run)
