"""The coach's private note fields of a session, set by its coach or an admin."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs

from coachcore.domain.entities import Session
from coachcore.policies import access
from coachcore.services.runtime import records
from coachcore.services.runtime.transaction import Tx


def coach_side_notes(session_id: Any, field: str, text: str | None) -> Callable[[Tx], Session]:
    """The use case setting one of the coach's private note fields."""

    def run(tx: Tx) -> Session:
        session = records.session(tx.uow, session_id)
        access.check_manage_session(tx.actor, session)
        changes: dict[str, Any] = {field: text, "updated_at": tx.now}
        updated = attrs.evolve(session, **changes)
        tx.uow.sessions.update(updated)
        return updated

    return run
