"""What the actor has been told: their notifications."""

from __future__ import annotations

from typing import Any

from coachcore.domain import checks
from coachcore.domain.entities import Notification
from coachcore.errors import Forbidden
from coachcore.services.runtime.transaction import Tx, UseCases


class Notifications(UseCases):
    """``scope.notifications``: what the actor has been told, oldest first."""

    def list(self, recipient_id: Any = None) -> list[Notification]:
        wanted = checks.optional_identifier("recipient_id", recipient_id)

        def run(tx: Tx) -> list[Notification]:
            tx.actor.require("notifications:read")
            if wanted not in (None, tx.actor.user_id) and not tx.actor.sees_all:
                raise Forbidden("You may only read your own notifications")
            return list(tx.uow.notifications.list(recipient_id=wanted or tx.actor.user_id))

        return self._rt.read(self._actor, run)
