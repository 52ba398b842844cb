"""The coaching conversations the actor takes part in."""

from __future__ import annotations

from typing import Any

from coachcore.domain import checks
from coachcore.domain.entities import Conversation
from coachcore.errors import Forbidden, NotFound
from coachcore.services.runtime.transaction import Tx, UseCases


class Conversations(UseCases):
    """``scope.conversations``: the coaching conversations the actor takes part in."""

    def list(self, user_id: Any = None) -> list[Conversation]:
        wanted = checks.optional_identifier("user_id", user_id)

        def run(tx: Tx) -> list[Conversation]:
            tx.actor.require("conversations:read")
            if wanted not in (None, tx.actor.user_id) and not tx.actor.sees_all:
                raise Forbidden("You may only list your own conversations")
            return list(tx.uow.conversations.for_user(wanted or tx.actor.user_id))

        return self._rt.read(self._actor, run)

    def get(self, conversation_id: Any) -> Conversation:
        cid = checks.identifier("conversation_id", conversation_id)

        def run(tx: Tx) -> Conversation:
            found = tx.uow.conversations.get(cid)
            if found is None:
                raise NotFound("Conversation not found")
            if not (tx.actor.sees_all or tx.actor.user_id in found.participant_ids):
                raise Forbidden("You are not part of this conversation")
            return found

        return self._rt.read(self._actor, run)
