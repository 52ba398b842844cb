"""Denied attempts in the audit log: who tried what on which record, and when.

A ``Forbidden`` raised while a use case runs rolls its unit of work back as
any error does; the runtime then writes one audit entry about the attempt in
a short transaction of its own (:meth:`Runtime.write` / :meth:`Runtime.read`).
The entry holds only words the code chose (the call's declared action, the
missing permission, the kind of record) and ids that look like ids, never the
caller's free text, and an actor's denied attempts are rate-limited, so a
stream of forbidden calls cannot flood the log.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from coachcore.domain.audit import AuditEntry
from coachcore.errors import Forbidden
from coachcore.policies.roles import PERMISSIONS
from coachcore.ports.storage import UnitOfWork

DENIED = "denied"
"""The ``entity_type`` of every denied-attempt entry (``audit.denied()`` lists them)."""
WINDOW = timedelta(minutes=1)
PER_ACTOR = 20
"""At most this many denied-attempt entries per actor within ``WINDOW``; an
attempt already logged in the window (same call, same record) is not logged again."""

_ID = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
_WORD = re.compile(r"[a-z_' ]{1,40}")


def _id_like(value: object) -> str | None:
    return value if isinstance(value, str) and _ID.fullmatch(value) else None


def entry(actor_id: str, action: str, error: Forbidden, now: datetime, key: str) -> AuditEntry:
    """The entry for ``actor_id``'s attempt at ``action`` that raised ``error``;
    the target is the record the policy named (``error.details``), else the call."""
    details = error.details if isinstance(error.details, dict) else {}
    target_type = details.get("entity_type")
    target_id = _id_like(details.get("entity_id"))
    facts: dict[str, str] = {"error": "Forbidden"}
    if isinstance(target_type, str) and _WORD.fullmatch(target_type) and target_id:
        facts["target_type"] = target_type
    else:
        target_id = _id_like(action) or "call"
    permission = details.get("permission")
    if isinstance(permission, str) and permission in PERMISSIONS:
        facts["permission"] = permission
    return AuditEntry(
        id=key,
        actor_id=actor_id,
        action=action,
        entity_type=DENIED,
        entity_id=target_id,
        details=facts,
        created_at=now,
    )


def worth_keeping(uow: UnitOfWork, attempt: AuditEntry) -> bool:
    """False when the actor already has ``PER_ACTOR`` denied attempts logged in
    the last ``WINDOW``, or this very attempt (call and record) among them."""
    recent = uow.audit.newest(
        entity_type=DENIED,
        actor_id=attempt.actor_id,
        since=attempt.created_at - WINDOW,
        limit=PER_ACTOR,
    )
    if len(recent) >= PER_ACTOR:
        return False
    return not any(e.action == attempt.action and e.entity_id == attempt.entity_id for e in recent)
