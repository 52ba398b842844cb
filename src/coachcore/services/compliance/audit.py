"""The audit log: changes record who did what in the same unit of work; admins read it."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from coachcore.domain import checks
from coachcore.domain.audit import AuditEntry
from coachcore.domain.entities import MemberProfile
from coachcore.serialization import to_dict
from coachcore.services.runtime.denials import DENIED
from coachcore.services.runtime.transaction import Tx, UseCases, new_id

MAX_PAGE = 500
EntryList = list[AuditEntry]


def _plain(value: Any) -> Any:
    """JSON-ready, the same on every store (StrEnums as their value, datetimes ISO)."""
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, str | int | float | bool):
        return value
    return to_dict(value)


def record(tx: Tx, action: str, entity_type: str, entity_id: str, **details: Any) -> AuditEntry:
    """Append one entry for the actor of ``tx`` (written, or rolled back, with the change)."""
    entry = AuditEntry(
        id=new_id(),
        actor_id=tx.actor.user_id,
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        details={k: _plain(v) for k, v in details.items() if v is not None},
        created_at=tx.now,
    )
    tx.uow.audit.add(entry)
    tx.audited = True
    return entry


SENSITIVE_PROFILE_FIELDS = ("health_info", "goals", "coach_notes")


def note_profile_read(tx: Tx, profile: MemberProfile) -> MemberProfile:
    """Note that someone other than the member read the profile's sensitive
    fields (those not empty in what they got); the read is logged after it ends."""
    fields = [name for name in SENSITIVE_PROFILE_FIELDS if getattr(profile, name) is not None]
    note_sensitive_read(tx, profile.user_id, fields)
    return profile


def note_sensitive_read(tx: Tx, member_id: str, fields: list[str], **details: Any) -> None:
    """Note a read of the member's sensitive ``fields`` by someone else (nothing
    for the member themself or no fields): a ``member.sensitive_read`` entry,
    appended to the log right after the read transaction."""
    if tx.actor.user_id == member_id or not fields:
        return
    tx.reads.append(
        AuditEntry(
            id=new_id(),
            actor_id=tx.actor.user_id,
            action="member.sensitive_read",
            entity_type="member",
            entity_id=member_id,
            details={"fields": fields, **details},
            created_at=tx.now,
        )
    )


class Audit(UseCases):
    """``scope.audit``: the audit log, for admins (``audit:read``)."""

    def list(
        self,
        *,
        entity_type: Any = None,
        entity_id: Any = None,
        actor_id: Any = None,
        since: Any = None,
        until: Any = None,
        limit: Any = 100,
    ) -> list[AuditEntry]:
        """Entries newest first, filtered; ``since <= created_at < until``."""
        etype = checks.text("entity_type", entity_type, max_len=64)
        return self._newest(etype, entity_id, actor_id, since, until, limit, "audit.list")

    def denied(
        self, *, actor_id: Any = None, since: Any = None, until: Any = None, limit: Any = 100
    ) -> EntryList:
        """Denied attempts, newest first: each a ``Forbidden`` call, by
        ``actor_id``, of ``action`` (the call), on ``entity_id`` (the record
        refused, its kind in ``details["target_type"]``; the call's name when
        the policy named no record), at ``created_at``."""
        return self._newest(DENIED, None, actor_id, since, until, limit, "audit.denied")

    def _newest(
        self,
        etype: str | None,
        entity_id: Any,
        actor_id: Any,
        since: Any,
        until: Any,
        limit: Any,
        action: str,
    ) -> EntryList:
        eid = checks.optional_identifier("entity_id", entity_id)
        actor = checks.optional_identifier("actor_id", actor_id)
        start = checks.optional_aware("since", since)
        end = checks.optional_aware("until", until)
        size = checks.integer("limit", limit, low=1, high=MAX_PAGE)

        def run(tx: Tx) -> EntryList:
            tx.actor.require("audit:read")
            return list(
                tx.uow.audit.newest(
                    entity_type=etype,
                    entity_id=eid,
                    actor_id=actor,
                    since=start,
                    until=end,
                    limit=size,
                )
            )

        return self._rt.read(self._actor, run, action=action)
