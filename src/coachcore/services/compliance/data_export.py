"""The member's data export: everything coachcore holds about one member."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import attrs

from coachcore.domain.audit import AuditEntry
from coachcore.domain.privacy import MemberExport, PersonRef
from coachcore.policies import access
from coachcore.services.compliance import audit
from coachcore.services.runtime import records
from coachcore.services.runtime.transaction import Tx

ALL = 2**31 - 1
"""No limit: an export holds every audit entry."""


def member_export(tx: Tx, member_id: str) -> MemberExport:
    """The member's data as the actor may see it (see ``MemberExport``)."""
    uow = tx.uow
    user = records.user(uow, member_id)
    profile = records.member(uow, user.id)
    coach = None if profile.coach_id is None else uow.users.get(profile.coach_id)
    sessions = list(uow.sessions.list(member_id=user.id))
    ratings = [r for r in (uow.ratings.find(session_id=s.id) for s in sessions) if r is not None]
    documents = {d.id: d for d in uow.documents.list(member_id=user.id)}
    documents.update({d.id: d for d in uow.documents.list(owner_id=user.id)})
    export = MemberExport(
        exported_at=tx.now,
        requested_by=tx.actor.user_id,
        user=user,
        profile=audit.note_profile_read(tx, access.redact_member(tx.actor, profile)),
        coach=None if coach is None else PersonRef(id=coach.id, name=coach.name),
        sessions=[access.redact_session(tx.actor, s, profile.coach_id) for s in sessions],
        bookings=list(uow.bookings.list(member_id=user.id)),
        ratings=ratings,
        waitlist=list(uow.waitlist.list(member_id=user.id)),
        notifications=list(uow.notifications.list(recipient_id=user.id)),
        conversations=list(uow.conversations.for_user(user.id)),
        relationships=list(uow.relationships.list(member_id=user.id)),
        invitations=list(uow.invitations.list(email=user.email)),
        interest=list(uow.interests.list(member_id=user.id)),
        session_settings=uow.session_settings.get(user.id),
        organizations=list(uow.organization_memberships.list(user_id=user.id)),
        organization_invitations=list(uow.organization_invitations.list(user_id=user.id)),
        action_plans=list(uow.action_plans.list(member_id=user.id)),
        action_items=list(uow.action_items.list(member_id=user.id)),
        scores=list(uow.session_scores.list(member_id=user.id)),
        # a member never sees a coach's private notes, not even in their export
        quick_notes=[]
        if tx.actor.user_id == user.id
        else list(uow.quick_notes.list(member_id=user.id)),
        documents=sorted(documents.values(), key=lambda d: (d.created_at, d.id)),
        audit=[],
    )
    return _with_audit(tx, export)


def _with_audit(tx: Tx, export: MemberExport) -> MemberExport:
    """The export with the audit entries by the member, about them, or about any
    record it holds, oldest first."""
    entries: dict[str, AuditEntry] = {}
    member = export.user.id
    for entry in tx.uow.audit.newest(actor_id=member, limit=ALL):
        entries[entry.id] = entry
    for entry in tx.uow.audit.about({member, *_record_ids(export)}):
        entries[entry.id] = entry
    trail = sorted(entries.values(), key=lambda e: (e.created_at, e.id))
    return attrs.evolve(export, audit=trail)


def _record_ids(export: MemberExport) -> Iterable[str]:
    groups: tuple[Iterable[Any], ...] = (
        export.sessions,
        export.bookings,
        export.ratings,
        export.waitlist,
        export.notifications,
        export.conversations,
        export.relationships,
        export.invitations,
        export.interest,
        export.action_plans,
        export.action_items,
        export.quick_notes,
        export.documents,
    )
    return dict.fromkeys(record.id for group in groups for record in group)
