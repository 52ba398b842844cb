"""The runtime of one core and the per-call transaction context."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar

import attrs

from coachcore.domain.audit import AuditEntry
from coachcore.domain.entities import OutboxMessage, User
from coachcore.errors import CoachCoreError, Forbidden, NotFound, StoreError, ValidationFailed
from coachcore.policies.roles import SYSTEM, Actor, RoleRegistry
from coachcore.ports.clock import Clock
from coachcore.ports.documents import TextExtractor
from coachcore.ports.storage import Store, UnitOfWork
from coachcore.services.runtime import denials, logs

log = logging.getLogger("coachcore")

T = TypeVar("T")
SYSTEM_ID = SYSTEM.user_id
WRITE_ATTEMPTS = 3


def new_id() -> str:
    """A fresh entity id or idempotency key (UUID4, never derived from data)."""
    return str(uuid.uuid4())


Fresh = tuple[OutboxMessage, Any]
"""An outbox message written by the running use case, with the entity its
payload was made from (or None when the payload is the whole message)."""


class AfterCommitOutbox(Protocol):
    """What a write needs from the outbox dispatcher to have its messages
    delivered right after commit (:class:`coachcore.services.delivery.outbox.Dispatcher`)."""

    def lease_until(self, now: datetime) -> datetime: ...

    def claim_others(self, uow: UnitOfWork, now: datetime) -> list[OutboxMessage]: ...

    def hand_over(self, fresh: Sequence[Fresh], others: list[OutboxMessage]) -> None: ...

    def drop_handover(self) -> None: ...


class CommitThenRaise(Exception):
    """Raised inside a use case to keep its writes and still fail the call."""

    def __init__(self, error: CoachCoreError) -> None:
        super().__init__(error.message)
        self.error = error


@attrs.define
class Tx:
    """What a use case works with: the unit of work, the actor, the time and
    the core's roles (what a user's role makes them: a coach, a member).

    ``audited`` turns true once the use case wrote its own audit entry; a
    command that did not gets a generic one (see :func:`audit_call`).

    ``lease_until`` is set when the outbox messages the use case writes will
    be delivered by this process right after commit: they are written leased
    to it until then (no other dispatcher takes them meanwhile) and kept in
    ``fresh``, to be handed to the dispatcher as they are.
    """

    uow: UnitOfWork
    actor: Actor
    now: datetime
    roles: RoleRegistry
    audited: bool = False
    reads: list[AuditEntry] = attrs.field(factory=list)
    lease_until: datetime | None = None
    fresh: list[Fresh] = attrs.Factory(list)
    dropped_blobs: list[str] = attrs.Factory(list)
    """Keys of blobs whose rows the use case deleted: removed from blob storage
    after commit, never before (see :meth:`Runtime.drop_blobs`)."""


def query_name(use_case: Callable[..., Any]) -> str:
    """``"sessions.get"`` for a use case defined in ``Sessions.get`` (its
    qualified name), the name a query is audited under when it is denied."""
    parts = getattr(use_case, "__qualname__", "").split(".<locals>")[0].split(".")
    if len(parts) >= 2:
        return f"{parts[-2].lower()}.{parts[-1]}"
    return parts[-1] or "query"


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")


def audit_call(tx: Tx, action: str, result: Any, failure: CoachCoreError | None) -> None:
    """The audit entry of a command that wrote none itself: who, its declared
    ``action``, the entity it returned (or the job and its count), its status,
    the time."""
    if tx.audited:
        return
    details: dict[str, Any] = {}
    entity_id = getattr(result, "id", None)
    if isinstance(entity_id, str):
        entity_type = _snake(type(result).__name__)
        status = getattr(result, "status", None)
        if status is not None:
            details["status"] = str(status)
    else:
        entity_type, entity_id = "call", action
        if isinstance(result, int) and not isinstance(result, bool):
            details["count"] = result
    if failure is not None:
        details["error"] = type(failure).__name__
        booking = failure.details.get("booking_id") if isinstance(failure.details, dict) else None
        if isinstance(booking, str):
            entity_type, entity_id = "booking", booking
    tx.uow.audit.add(
        AuditEntry(
            id=new_id(),
            actor_id=tx.actor.user_id,
            action=action,
            entity_type=entity_type,
            entity_id=entity_id,
            details=details,
            created_at=tx.now,
        )
    )


@attrs.define
class Runtime:
    """Everything a scope needs; built once by ``coachcore.open``."""

    store: Store
    clock: Clock
    roles: RoleRegistry
    after_commit: Callable[[], None] = lambda: None
    outbox: AfterCommitOutbox | None = None
    """The dispatcher that ``after_commit`` runs, if it takes hand-overs (it
    attaches itself: see ``Dispatcher.__attrs_post_init__``)."""
    retention_days: int | None = None
    """How long completed sessions keep their private notes (None: for ever)."""
    extractor: TextExtractor | None = None
    """Finds an uploaded document's text (``coachcore_text_extractor`` hook)."""

    def now(self) -> datetime:
        moment = self.clock.now()
        if not isinstance(moment, datetime) or moment.tzinfo is None:
            raise ValidationFailed("clock: now() must return an aware datetime")
        return moment.astimezone(UTC)

    def actor(self, uow: UnitOfWork, user_id: str) -> Actor:
        """Resolve the acting user; unknown is NotFound, deactivated is Forbidden."""
        if user_id == SYSTEM_ID:
            return SYSTEM
        user = uow.users.get(user_id)
        if user is None:
            raise NotFound("User not found", details={"user_id": user_id})
        return self.actor_of(user)

    def actor_of(self, user: User) -> Actor:
        if not user.is_active:
            raise Forbidden("This user is deactivated")
        return Actor(user.id, user.role, self.roles.permissions(user.role))

    def read(self, actor_id: str, use_case: Callable[[Tx], T], *, action: str | None = None) -> T:
        """Run a query in a read-only unit of work; the sensitive reads it noted
        (``Tx.reads``) are then appended to the audit log in a short write.

        ``action`` names the query in the audit log should it be denied
        (default: ``"<group>.<method>"`` of the method that defined ``use_case``).
        """
        try:
            with self.store.unit_of_work(write=False) as uow:
                tx = Tx(uow, self.actor(uow, actor_id), self.now(), self.roles)
                result = use_case(tx)
        except Forbidden as denied:
            name = action or query_name(use_case)
            logs.failed(name, actor_id, denied)
            self.note_denied(actor_id, name, denied)
            raise
        if tx.reads:
            with self.store.unit_of_work(write=True) as uow:
                for entry in tx.reads:
                    uow.audit.add(entry)
                uow.commit()
        return result

    def note_denied(self, actor_id: str, action: str, error: Forbidden) -> None:
        """Log a denied attempt in a short transaction of its own (the attempt's
        own unit of work is already rolled back); rate-limited per actor (see
        :mod:`coachcore.services.runtime.denials`). A store failure here does
        not hide the ``Forbidden``: the caller gets that all the same."""
        try:
            attempt = denials.entry(actor_id, action, error, self.now(), new_id())
            with self.store.unit_of_work(write=False) as uow:  # no write lock to say no
                if not denials.worth_keeping(uow, attempt):
                    return
            with self.store.unit_of_work(write=True) as uow:
                uow.audit.add(attempt)
                uow.commit()
        except CoachCoreError:
            return

    def write(self, actor_id: str, use_case: Callable[[Tx], T], *, action: str) -> T:
        """Run a command in one unit of work, commit, then deliver side effects.

        ``action`` is what the audit log records the command as (e.g.
        ``"bookings.create"``), declared by the command itself, never derived
        from a name: see :func:`audit_call`.

        A unit of work the store reports as retryable (a serialization failure
        or deadlock) is rolled back and the whole use case runs again, at most
        ``WRITE_ATTEMPTS`` times.

        Where the store dispatches on commit, the claim that delivery needs
        happens inside this unit of work instead of one of its own: the
        messages the use case writes are written leased to this process, the
        other due ones (retries) are claimed just before commit, and both are
        handed to the dispatcher, which delivers them after commit and records
        the outcome.
        """
        for attempt in range(1, WRITE_ATTEMPTS + 1):
            try:
                result, failure, handover, dropped = self._write_once(actor_id, use_case, action)
                break
            except Forbidden as denied:
                logs.failed(action, actor_id, denied)
                self.note_denied(actor_id, action, denied)
                raise
            except StoreError as error:
                retryable = isinstance(error.details, dict) and error.details.get("retryable")
                if not retryable or attempt == WRITE_ATTEMPTS:
                    logs.failed(action, actor_id, error)
                    raise
            except CoachCoreError as error:
                logs.failed(action, actor_id, error)
                raise
        self.drop_blobs(dropped)
        if self.store.dispatch_on_commit:
            outbox = self.outbox
            if outbox is not None and handover is not None:
                outbox.hand_over(*handover)
                try:
                    self.after_commit()
                finally:
                    outbox.drop_handover()
            else:
                self.after_commit()
        if failure is not None:
            logs.failed(action, actor_id, failure)
            raise failure
        logs.done(action, actor_id, result)
        return result  # type: ignore[no-any-return]

    def drop_blobs(self, keys: list[str]) -> None:
        """Delete the blobs of rows a committed unit of work deleted.

        Only where the store's commit is final (``dispatch_on_commit``: not
        inside a host's transaction, which may still roll back). A failure, a
        crash before this runs, or a host's transaction leaves orphans, which
        ``documents.sweep_orphans()`` removes; never is a blob deleted before
        the rows that name it are gone."""
        if not keys or not self.store.dispatch_on_commit:
            return
        for key in keys:
            try:
                self.store.blobs.delete(key)
            except (CoachCoreError, OSError):
                log.warning("could not delete blob %s after commit; the sweep will", key)

    def _write_once(
        self, actor_id: str, use_case: Callable[[Tx], T], action: str
    ) -> tuple[
        Any, CoachCoreError | None, tuple[list[Fresh], list[OutboxMessage]] | None, list[str]
    ]:
        failure: CoachCoreError | None = None
        result: Any = None
        handover = None
        outbox = self.outbox if self.store.dispatch_on_commit else None
        with self.store.unit_of_work(write=True) as uow:
            uow.hold_inserts()
            tx = Tx(uow, self.actor(uow, actor_id), self.now(), self.roles)
            if outbox is not None:
                tx.lease_until = outbox.lease_until(tx.now)
            try:
                result = use_case(tx)
            except CommitThenRaise as keep:
                failure = keep.error
            audit_call(tx, action, result, failure)
            if outbox is None:
                uow.commit()
            else:
                others = outbox.claim_others(uow, tx.now)
                uow.commit()
                handover = (tx.fresh, others)
        return result, failure, handover, tx.dropped_blobs


class UseCases:
    """Base of the use-case groups a scope exposes (``scope.members`` ...)."""

    def __init__(self, rt: Runtime, actor_id: str) -> None:
        self._rt, self._actor = rt, actor_id
