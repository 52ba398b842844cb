"""The audit log: who changed what, when, as append-only entries."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import attrs

from coachcore.domain import checks


def _aware(_: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    checks.aware(attribute.name, value)


@attrs.frozen(kw_only=True)
class AuditEntry:
    """One change: ``action`` such as ``"relationship.status_changed"`` on the
    entity ``(entity_type, entity_id)`` by ``actor_id`` (``"system"`` for the
    system scope), with JSON-ready ``details`` (never secrets)."""

    id: str
    actor_id: str
    action: str
    entity_type: str
    entity_id: str
    details: dict[str, Any] = attrs.field(factory=dict)
    created_at: datetime = attrs.field(validator=_aware)
