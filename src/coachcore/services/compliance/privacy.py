"""Privacy use cases: the retention purge, the member's data export, erasure."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import attrs

from coachcore.domain import checks
from coachcore.domain.audit import AuditEntry
from coachcore.domain.documents import Document
from coachcore.domain.entities import User
from coachcore.domain.enums import OutboxChannel, SessionStatus
from coachcore.domain.hub import ActionItem
from coachcore.domain.organizations import Organization
from coachcore.domain.privacy import (
    ERASED_NAME,
    OVERRIDE_REASON,
    erase_booking,
    erase_decline_reason,
    erase_interest,
    erase_invitation,
    erase_override_reason,
    erase_profile,
    erase_rating,
    erase_session,
    erase_user,
    erased_email,
    holds_notes,
    is_erased,
    purge_notes,
    replace_text,
)
from coachcore.domain.relations import ENDED_BY_ROLE_CHANGE, CoachingRelationship
from coachcore.domain.rules import OPEN_WAITLIST
from coachcore.errors import Conflict, Forbidden, NotFound, ValidationFailed
from coachcore.serialization import to_dict
from coachcore.services.compliance.data_export import member_export
from coachcore.services.delivery import outgoing
from coachcore.services.hub.documents import drop_bytes
from coachcore.services.runtime import records
from coachcore.services.runtime.batches import RetentionRun
from coachcore.services.runtime.transaction import Tx, UseCases
from coachcore.services.scheduling import waitlist
from coachcore.services.scheduling.sessions import cancel as cancel_session

ERASURE_REASON = "The member's account was closed"
ERASED_TEXT = "[erased]"
"""What replaces the member's words where they were copied (notifications, outbox)."""
SHORTEST_WORDS = 3
"""Copies of shorter texts are not searched for (they would match anything)."""

PURGE_BATCH = 200


def retention_days(days: Any) -> int:
    """A retention period of private notes, in whole days (0 to 100 years)."""
    return checks.integer("days", days, low=0, high=36_500)


def purge_batch(tx: Tx, before: datetime, limit: int) -> int:
    """Purge the private notes of up to ``limit`` sessions completed at ``before``
    or earlier (and the member notes of their bookings); returns how many."""
    due = tx.uow.sessions.completed_with_notes(before, limit)
    for session in due:
        if not holds_notes(session):
            continue
        tx.uow.sessions.update(purge_notes(session, tx.now))
        booking = tx.uow.bookings.find(session_id=session.id)
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


def erase_member(tx: Tx, member_id: str) -> User:
    """Erase a member (see :meth:`Privacy.erase`); a second call changes nothing."""
    user = records.user(tx.uow, member_id)
    profile = records.member(tx.uow, user.id)
    if is_erased(user):
        return user
    uow = tx.uow
    # leave queues first, so seats freed below are never offered to the member
    for entry in uow.waitlist.list(member_id=user.id):
        if entry.status in OPEN_WAITLIST:
            waitlist.leave_entry(tx, entry)
    for session in uow.sessions.list(member_id=user.id):
        if session.status == SessionStatus.SCHEDULED:
            uow.lock_coach(session.coach_id)
            cancel_session(tx, session, ERASURE_REASON, notify_member=False)
    readers = _readers(tx, user)
    words = _words_of(tx, user)
    event_ids: list[str] = []
    for session in uow.sessions.list(member_id=user.id):
        readers.add(session.coach_id)
        uow.sessions.update(erase_session(session, tx.now))
        rating = uow.ratings.find(session_id=session.id)
        if rating is not None and rating.feedback is not None:
            uow.ratings.update(erase_rating(rating))
        event = uow.calendar_events.get(session.calendar_event_id)
        if event is not None:
            event_ids.append(event.id)
            title = event.title.replace(user.name, ERASED_NAME)
            uow.calendar_events.update(attrs.evolve(event, title=title))
    for booking in uow.bookings.list(member_id=user.id):
        if booking.member_notes is not None:
            uow.bookings.update(erase_booking(booking, tx.now))
    for reader in sorted(readers):  # "<name> is now your member", reasons quoted
        for note in uow.notifications.list(recipient_id=reader):
            body, title = _unsay(note.body, user, words), _unsay(note.title, user, words)
            if (body, title) != (note.body, note.title):
                uow.notifications.update(attrs.evolve(note, body=body, title=title))
    for conversation in uow.conversations.for_user(user.id):
        title = _unsay(conversation.title, user, words)
        if title != conversation.title:
            uow.conversations.update(attrs.evolve(conversation, title=title))
    copies = uow.outbox.mentioning(user.name, user.email, *words)
    for message in copies:  # copies in delivered or pending side effects
        payload = message.payload
        for personal in (user.name, user.email):
            payload = replace_text(payload, personal, ERASED_NAME)
        for text in words:
            payload = replace_text(payload, text, ERASED_TEXT)
        uow.outbox.update(attrs.evolve(message, payload=payload))
    _erase_records_about(tx, user)
    uow.members.update(erase_profile(profile, tx.now))
    erased = erase_user(user, tx.now)
    uow.users.update(erased)
    outgoing.erase_person(
        tx,
        user.id,
        event_ids=event_ids,
        conversation_ids=[c.id for c in uow.conversations.for_user(user.id)],
        notification_ids=[n.id for n in uow.notifications.list(recipient_id=user.id)],
    )
    return erased


def _words_of(tx: Tx, user: User) -> list[str]:
    """The member's own free text that other rows may quote: cancellation
    reasons, notes, feedback, submissions, the titles of what they edited
    (longest first, so a text inside another is replaced after it)."""
    uow = tx.uow
    found: set[str | None] = {user.external_id}
    for session in uow.sessions.list(member_id=user.id):
        found |= {session.cancellation_reason, session.member_notes, session.rating_feedback}
    for booking in uow.bookings.list(member_id=user.id):
        found |= {booking.member_notes}
    for relationship in _relationships_of(tx, user):
        found |= {relationship.decline_reason}
    profile = records.member(uow, user.id)
    found |= {profile.goals, profile.health_info}
    for interest in uow.interests.list(member_id=user.id):
        found |= {interest.goals, interest.notes, interest.preferred_times}
    settings = uow.session_settings.get(user.id)
    if settings is not None:
        found.add(settings.shared_context)
    for item in _items_touched(tx, user):
        found |= {item.title, item.description}
    for document in _documents_of(tx, user):
        found |= {document.title, document.description}
    found |= {o.name for o in _organizations_created(tx, user)}
    texts = {t for t in found if t is not None and len(t.strip()) >= SHORTEST_WORDS}
    texts -= {ERASURE_REASON, ENDED_BY_ROLE_CHANGE, ERASED_NAME, ERASED_TEXT}
    return sorted(texts, key=lambda t: (-len(t), t))


def _unsay(text: str, user: User, words: list[str]) -> str:
    """``text`` without the member's name, address and words."""
    for personal in (user.name, user.email):
        text = text.replace(personal, ERASED_NAME)
    for word in words:
        text = text.replace(word, ERASED_TEXT)
    return text


def _readers(tx: Tx, user: User) -> set[str]:
    """Others whose notifications may name the member or quote their words:
    the primary coach, the other parties of the member's coaching requests
    (told of a decline with its reason), those the member invited to an
    organization (the coaches of their sessions are added as they are read)."""
    profile = records.member(tx.uow, user.id)
    readers: set[str] = set() if profile.coach_id is None else {profile.coach_id}
    for relationship in _relationships_of(tx, user):
        readers |= {relationship.coach_id, relationship.requested_by}
    return (readers | _invitees_of(tx, user)) - {user.id}


def _organizations_created(tx: Tx, user: User) -> list[Organization]:
    return [o for o in tx.uow.organizations.list() if o.created_by == user.id]


def _invitees_of(tx: Tx, user: User) -> set[str]:
    """Users the member invited to an organization, or invited to one the
    member created: their invitations' notifications name both."""
    uow = tx.uow
    created = {o.id for o in _organizations_created(tx, user)}
    joined = {m.organization_id for m in uow.organization_memberships.list(user_id=user.id)}
    invitees: set[str] = set()
    for organization_id in created | joined:
        for invitation in uow.organization_invitations.list(organization_id=organization_id):
            if invitation.invited_by == user.id or organization_id in created:
                invitees.add(invitation.user_id)
    return invitees - {user.id}


def _relationships_of(tx: Tx, user: User) -> list[CoachingRelationship]:
    """The coaching relationships and requests the member is a party to."""
    uow = tx.uow
    found = {r.id: r for r in uow.relationships.list(member_id=user.id)}
    found.update((r.id, r) for r in uow.relationships.list(coach_id=user.id))
    return list(found.values())


def _erase_reasons(tx: Tx, user: User) -> None:
    """What others wrote about the member's requests and sessions: decline
    reasons of the member's relationships, and coaches' override reasons (the
    audit log) for the member's sessions."""
    uow = tx.uow
    for relationship in _relationships_of(tx, user):
        if relationship.decline_reason is not None:
            uow.relationships.update(erase_decline_reason(relationship, tx.now))
    session_ids = [s.id for s in uow.sessions.list(member_id=user.id)]
    for entry in uow.audit.about(session_ids):
        if entry.entity_type == "session" and _has_reason(entry):
            _rewrite(tx, entry)


def _has_reason(entry: AuditEntry) -> bool:
    return entry.details.get(OVERRIDE_REASON) not in (None, ERASED_TEXT)


def _rewrite(tx: Tx, entry: AuditEntry) -> None:
    """Erase the override reason of an audit entry read in this transaction.
    An audit purge (``core.system.audit.purge``) that committed since the read
    may have deleted it (the store says ``NotFound``, or ``Conflict`` where it
    checks versions): an entry that is gone has nothing left to erase, so the
    erasure goes on. One changed meanwhile is a Conflict, as for any row."""
    try:
        tx.uow.audit.update(erase_override_reason(entry, ERASED_TEXT))
    except (NotFound, Conflict):
        if tx.uow.audit.get(entry.id) is not None:
            raise


def _items_touched(tx: Tx, user: User) -> list[ActionItem]:
    """Action items about the member, or that the member changed (the audit
    log names them)."""
    uow = tx.uow
    items = {item.id: item for item in uow.action_items.list(member_id=user.id)}
    for entry in uow.audit.list(actor_id=user.id, entity_type="action_item"):
        item = uow.action_items.get(entry.entity_id)
        if item is not None:
            items[item.id] = item
    return list(items.values())


def _documents_of(tx: Tx, user: User) -> list[Document]:
    """Documents about the member and those they uploaded anywhere."""
    uow = tx.uow
    documents = {d.id: d for d in uow.documents.list(member_id=user.id)}
    documents.update((d.id, d) for d in uow.documents.list(owner_id=user.id))
    return list(documents.values())


def _erase_records_about(tx: Tx, user: User) -> None:
    """The sister systems' personal data about the member: documents about them
    or uploaded by them and coaches' quick notes go; organizations they
    created lose their name and descriptions; decline and override reasons
    about them are blanked; interest submissions,
    shared context, action plans and items about them or edited by them lose
    their text; invitations their address."""
    uow, now = tx.uow, tx.now
    _erase_reasons(tx, user)
    for document in _documents_of(tx, user):
        drop_bytes(tx, document.id)
        uow.documents.delete(document.id)
    for organization in _organizations_created(tx, user):  # what the member wrote
        if organization.name != ERASED_TEXT:
            unnamed = attrs.evolve(
                organization,
                name=ERASED_TEXT,
                description=None,
                specialties=(),
                experience=None,
                philosophy=None,
                industry=None,
                updated_at=now,
            )
            uow.organizations.update(unnamed)
    for quick in uow.quick_notes.list(member_id=user.id):
        uow.quick_notes.delete(quick.id)
    for interest in uow.interests.list(member_id=user.id):
        uow.interests.update(erase_interest(interest, now))
    settings = uow.session_settings.get(user.id)
    if settings is not None and settings.shared_context is not None:
        uow.session_settings.update(attrs.evolve(settings, shared_context=None, updated_at=now))
    for plan in uow.action_plans.list(member_id=user.id):
        if plan.description is not None or plan.title != ERASED_TEXT:
            erased_plan = attrs.evolve(plan, title=ERASED_TEXT, description=None, updated_at=now)
            uow.action_plans.update(erased_plan)
    for item in _items_touched(tx, user):
        if item.description is not None or item.title != ERASED_TEXT:
            erased_item = attrs.evolve(item, title=ERASED_TEXT, description=None, updated_at=now)
            uow.action_items.update(erased_item)
    # invitations (and what they said) reached the member under their id, or
    # under the invitation's id when the member had not signed up yet
    recipients = [user.id]
    for invitation in uow.invitations.list(email=user.email):
        uow.invitations.update(erase_invitation(invitation, user.id, now))
        recipients.append(invitation.id)
    for recipient in recipients:
        _silence_notifications(tx, recipient, user)


def _silence_notifications(tx: Tx, recipient: str, user: User) -> None:
    """The recipient's notifications (stored and in the outbox) without their
    bodies, which may quote a coach's message, and without the member's address."""
    for note in tx.uow.notifications.list(recipient_id=recipient):
        if note.body or note.recipient_email is not None:
            address = None if note.recipient_email is None else erased_email(user.id)
            tx.uow.notifications.update(attrs.evolve(note, body="", recipient_email=address))
    for message in tx.uow.outbox.mentioning(recipient):
        payload = message.payload
        if message.channel == OutboxChannel.NOTIFICATION and payload["recipient_id"] == recipient:
            address = None if payload.get("recipient_email") is None else erased_email(user.id)
            unsaid = {**payload, "body": "", "recipient_email": address}
            tx.uow.outbox.update(attrs.evolve(message, payload=unsaid))


class Privacy(UseCases):
    """``scope.privacy``: retention, export and erasure of personal data."""

    def purge(self, *, days: Any = None, progress: Callable[[int], None] | None = None) -> int:
        """Remove the coach's and the member's notes from sessions completed more
        than ``days`` ago (default: the core's ``retention_days``); returns how
        many sessions lost notes. Idempotent: a second run purges nothing.
        ``progress``, if given, is called with the count of each purged batch.
        Needs ``privacy:manage`` (admins, the system scope). The cut-off is
        fixed when the run starts, and the run writes one audit entry (see
        :class:`~coachcore.services.runtime.batches.RetentionRun`)."""
        progress = checks.callback("progress", progress)
        if days is None:
            days = self._rt.retention_days
            if days is None:
                raise ValidationFailed(
                    "days: no retention period given and none configured "
                    "(coachcore.open(url, retention_days=...))",
                    details={"field": "days"},
                )
        period = timedelta(days=retention_days(days))
        run = RetentionRun("privacy.purge", "privacy:manage", period, purge_batch, PURGE_BATCH)
        return run.run(lambda b: self._rt.write(self._actor, b, action="privacy.purge"), progress)

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

    def erase(self, member_id: Any) -> User:
        """Erase a member (GDPR article 17); admins (``privacy:manage``) only.

        In one transaction: scheduled sessions are cancelled with the usual
        side effects; open waitlist entries are left; every session, booking
        and rating of the member loses its free text (ratings keep their
        stars, so the coach's average and counts stay right); decline reasons
        of the member's coaching requests go, and coaches' override reasons
        for the member's sessions become ``[erased]`` in the audit log; the profile
        loses goals, health information and notes, and its coach; the user
        becomes "Erased member" with a unique placeholder address, inactive,
        with ``erased_at`` set; the member's name leaves calendar event titles
        and the coach's "new member" notifications; and the calendar,
        messaging and notifier adapters are told through the outbox to forget
        the person. Idempotent: erasing an erased member returns it unchanged.
        Returns the erased user.
        """
        wanted = checks.identifier("member_id", member_id)

        def run(tx: Tx) -> User:
            tx.actor.require("privacy:manage")
            return erase_member(tx, wanted)

        erased = self._rt.write(self._actor, run, action="privacy.erase")
        self._rt.store.wipe_traces()
        return erased
