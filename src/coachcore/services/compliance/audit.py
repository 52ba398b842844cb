"""The audit log: changes record who did what in the same unit of work; admins
read it, and purge what is older than a retention period."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from coachcore.domain import checks
from coachcore.domain.audit import AuditEntry
from coachcore.domain.entities import MemberProfile
from coachcore.errors import ValidationFailed
from coachcore.serialization import to_dict
from coachcore.services.runtime import denials
from coachcore.services.runtime.batches import RetentionRun
from coachcore.services.runtime.denials import DENIED
from coachcore.services.runtime.transaction import Tx, UseCases, new_id

MAX_PAGE = 500
EntryList = list[AuditEntry]
PURGE_BATCH = 500
"""Audit entries deleted per transaction by ``purge``."""
PURGE = "audit.purge"
"""The action (and ``entity_id``, with ``entity_type`` ``"call"``) of the one
entry each purge writes."""
SHORTEST_RETENTION = -(-denials.WINDOW // timedelta(days=1))
"""The fewest days ``purge`` keeps: whole days covering the denied-attempt
rate limit's window (the entries it counts must stay)."""


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
    """``scope.audit``: the audit log, for admins (``audit:read``); its
    retention purge needs ``audit:manage``."""

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

    def purge(self, *, days: Any, progress: Callable[[int], None] | None = None) -> int:
        """Delete the entries created more than ``days`` ago, in short
        transactions of up to ``PURGE_BATCH`` (500) each; returns how many.
        Needs ``audit:manage``.

        ``days`` is a whole number, at least ``SHORTEST_RETENTION`` (1): the
        denied-attempt rate limit counts each actor's entries of the last
        minute, so a shorter period is ``ValidationFailed``. The cut-off
        (``now - days``) is fixed when the run starts.

        A run writes one entry, never one per batch: ``audit.purge`` (entity
        ``call``/``audit.purge``), its ``details`` the ``days``, the cut-off
        (``before``) and the ``count`` deleted. It is written with the first
        batch and its ``count`` updated in each later batch's transaction, so
        a run that stops part-way still says how many entries it deleted; it
        is newer than the cut-off, so the run never deletes it. A run that
        finds nothing to delete writes it too (count 0). ``progress``, if
        given, is called with the count of each purged batch."""
        tell = checks.callback("progress", progress)

        def delete(tx: Tx, before: datetime, limit: int) -> int:
            return tx.uow.audit.purge_before(before, limit)

        run = RetentionRun(PURGE, "audit:manage", retention_period(days), delete, PURGE_BATCH)
        return run.run(lambda b: self._rt.write(self._actor, b, action="audit.purge"), tell)

    def purgeable(self, *, days: Any) -> int:
        """How many entries ``purge(days=...)`` would delete now; changes nothing."""
        period = retention_period(days)

        def run(tx: Tx) -> int:
            tx.actor.require("audit:manage")
            return tx.uow.audit.count_before(tx.now - period)

        return self._rt.read(self._actor, run, action="audit.purgeable")


def retention_period(days: Any) -> timedelta:
    """The retention period of audit entries, ``days`` long: a whole number of
    days, at least ``SHORTEST_RETENTION``, so that a purge never deletes an
    entry the denied-attempt rate limit still counts."""
    period = timedelta(days=checks.integer("days", days, low=0, high=36_500))
    if period < timedelta(days=SHORTEST_RETENTION):
        minutes = denials.WINDOW // timedelta(minutes=1)
        raise ValidationFailed(
            f"days: must be at least {SHORTEST_RETENTION}: the denied-attempt rate limit "
            f"counts each actor's entries of the last {minutes} minute(s), so a purge "
            "must leave those",
            details={"field": "days", "minimum": SHORTEST_RETENTION},
        )
    return period
