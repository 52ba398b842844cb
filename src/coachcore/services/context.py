"""The runtime of one core and the per-call transaction context."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import attrs

from coachcore.domain.entities import User
from coachcore.errors import CoachCoreError, Forbidden, NotFound, StoreError, ValidationFailed
from coachcore.policies.roles import SYSTEM, Actor, RoleRegistry
from coachcore.ports.clock import Clock
from coachcore.ports.storage import Store, UnitOfWork

T = TypeVar("T")
SYSTEM_ID = SYSTEM.user_id
WRITE_ATTEMPTS = 3


def new_id() -> str:
    """A fresh entity id or idempotency key (UUID4, never derived from data)."""
    return str(uuid.uuid4())


class CommitThenRaise(Exception):
    """Raised inside a use case to keep its writes and still fail the call."""

    def __init__(self, error: CoachCoreError) -> None:
        super().__init__(error.message)
        self.error = error


@attrs.define
class Tx:
    """What a use case works with: the unit of work, the actor and the time."""

    uow: UnitOfWork
    actor: Actor
    now: datetime


@attrs.define
class Runtime:
    """Everything a scope needs; built once by ``coachcore.open``."""

    store: Store
    clock: Clock
    roles: RoleRegistry
    after_commit: Callable[[], None] = lambda: None
    retention_days: int | None = None
    """How long completed sessions keep their private notes (None: for ever)."""

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

    def read(self, actor_id: str, use_case: Callable[[Tx], T]) -> T:
        """Run a query in a read-only unit of work."""
        with self.store.unit_of_work(write=False) as uow:
            return use_case(Tx(uow, self.actor(uow, actor_id), self.now()))

    def write(self, actor_id: str, use_case: Callable[[Tx], T]) -> T:
        """Run a command in one unit of work, commit, then deliver side effects.

        A unit of work the store reports as retryable (a serialization failure
        or deadlock) is rolled back and the whole use case runs again, at most
        ``WRITE_ATTEMPTS`` times.
        """
        for attempt in range(1, WRITE_ATTEMPTS + 1):
            try:
                result, failure = self._write_once(actor_id, use_case)
                break
            except StoreError as error:
                retryable = isinstance(error.details, dict) and error.details.get("retryable")
                if not retryable or attempt == WRITE_ATTEMPTS:
                    raise
        if self.store.dispatch_on_commit:
            self.after_commit()
        if failure is not None:
            raise failure
        return result  # type: ignore[no-any-return]

    def _write_once(
        self, actor_id: str, use_case: Callable[[Tx], T]
    ) -> tuple[Any, CoachCoreError | None]:
        failure: CoachCoreError | None = None
        result: Any = None
        with self.store.unit_of_work(write=True) as uow:
            tx = Tx(uow, self.actor(uow, actor_id), self.now())
            try:
                result = use_case(tx)
            except CommitThenRaise as keep:
                failure = keep.error
            uow.commit()
        return result, failure


class UseCases:
    """Base of the use-case groups a scope exposes (``scope.members`` ...)."""

    def __init__(self, rt: Runtime, actor_id: str) -> None:
        self._rt, self._actor = rt, actor_id
