"""Quick notes: a coach's private notes about a member."""

from __future__ import annotations

from typing import Any

import attrs

from coachcore.domain import checks
from coachcore.domain.hub import (
    QuickNote,
)
from coachcore.policies import hub as policy
from coachcore.services.compliance import audit
from coachcore.services.hub.subjects import coach_of, find, subject
from coachcore.services.runtime.transaction import Tx, UseCases, new_id


class QuickNotes(UseCases):
    """``scope.quick_notes``: a coach's private notes about members."""

    def create(self, *, member_id: Any, body: Any, session_id: Any = None) -> QuickNote:
        """A note by a coach who coaches the member (with a session: its coach)."""
        text = checks.required_text("body", body)
        member_key = checks.identifier("member_id", member_id)
        session_key = checks.optional_identifier("session_id", session_id)

        def run(tx: Tx) -> QuickNote:
            profile, session = subject(tx, session_key, member_key)
            note = QuickNote(
                id=new_id(),
                coach_id=coach_of(tx, profile, session),
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
        """One quick note, if the actor may see it."""

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
        """Change a quick note's text."""
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
        """Delete a quick note."""

        def run(tx: Tx) -> QuickNote:
            note = self._note(tx, note_id)
            policy.check_note(tx.actor, note)
            tx.uow.quick_notes.delete(note.id)
            audit.record(tx, "quick_note.deleted", "quick_note", note.id)
            return note

        return self._rt.write(self._actor, run, action="quicknotes.delete")

    @staticmethod
    def _note(tx: Tx, note_id: Any) -> QuickNote:
        found: QuickNote = find(tx.uow.quick_notes.get, "Quick note", "note_id", note_id)
        return found
