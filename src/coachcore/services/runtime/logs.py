"""Log records of use cases, with what happened as structured ``extra`` fields.

Every record on the ``coachcore.use_cases`` logger carries ``use_case``
(e.g. ``"bookings.create"``), ``actor_id``, ``outcome`` (``"done"``,
``"failed"`` or ``"denied"``) and ``ids`` (the entity ids involved, by kind,
e.g. ``{"booking_id": "..."}``); failures add ``error`` (the error class).
coachcore never configures handlers: the host routes these records (see
``docs/guides/operations.md``).
"""

from __future__ import annotations

import logging
from typing import Any

from coachcore.errors import CoachCoreError

log = logging.getLogger("coachcore.use_cases")


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")


def ids_of(result: Any, failure: CoachCoreError | None = None) -> dict[str, str]:
    """The ids a call touched: the returned entity's, and the ``*_id`` details of its error."""
    ids: dict[str, str] = {}
    entity_id = getattr(result, "id", None)
    if isinstance(entity_id, str):
        ids[f"{_snake(type(result).__name__)}_id"] = entity_id
    details = failure.details if failure is not None else None
    if isinstance(details, dict):
        for key, value in details.items():
            if key.endswith("_id") and isinstance(value, str):
                ids.setdefault(key, value)
    return ids


def done(use_case: str, actor_id: str, result: Any) -> None:
    """A command committed."""
    if log.isEnabledFor(logging.INFO):
        ids = ids_of(result)
        log.info(
            "%s by %s: done %s",
            use_case,
            actor_id,
            ids,
            extra={"use_case": use_case, "actor_id": actor_id, "outcome": "done", "ids": ids},
        )


def failed(use_case: str, actor_id: str, error: CoachCoreError) -> None:
    """A call raised a coachcore error: a denial is a warning, the rest information."""
    denied = error.status_code == 403
    level = logging.WARNING if denied else logging.INFO
    if log.isEnabledFor(level):
        ids = ids_of(None, error)
        outcome = "denied" if denied else "failed"
        log.log(
            level,
            "%s by %s: %s (%s: %s)",
            use_case,
            actor_id,
            outcome,
            type(error).__name__,
            error.message,
            extra={
                "use_case": use_case,
                "actor_id": actor_id,
                "outcome": outcome,
                "ids": ids,
                "error": type(error).__name__,
            },
        )
