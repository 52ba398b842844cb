"""User references: create (with the coach or member profile), get, update,
change role, deactivate."""

from __future__ import annotations

from typing import Any

import attrs

from coachcore.domain import checks
from coachcore.domain.entities import User
from coachcore.errors import Conflict, Forbidden, ValidationFailed
from coachcore.policies.roles import check_change_identity
from coachcore.services.accounts import reporting, role_changes
from coachcore.services.accounts.profiles import new_user
from coachcore.services.runtime import records
from coachcore.services.runtime.transaction import Tx, UseCases

_UNSET: Any = object()
UserList = list[User]


def check_read_user(tx: Tx, user: User) -> None:
    """Yourself, admins, a coach reading their member, a member reading their coach."""
    actor = tx.actor
    if actor.sees_all or actor.can("users:read") or actor.user_id == user.id:
        return
    mine = tx.uow.members.get(actor.user_id)
    theirs = tx.uow.members.get(user.id)
    if (mine and mine.coach_id == user.id) or (theirs and theirs.coach_id == actor.user_id):
        return
    raise Forbidden("You may not read this user")


class Users(UseCases):
    """``scope.users``: the host's user references (admins and the system write)."""

    def create(
        self,
        *,
        name: Any,
        email: Any,
        role: Any,
        timezone: Any = "UTC",
        external_id: Any = None,
    ) -> User:
        """Create a user; a coach also gets a coach profile, a member a member profile."""

        def run(tx: Tx) -> User:
            tx.actor.require("users:write")
            if isinstance(role, str) and role in self._rt.roles:
                self._rt.roles.check_may_grant(tx.actor, role)
            return new_user(
                tx,
                self._rt.roles,
                name=name,
                email=email,
                role=role,
                timezone=timezone,
                external_id=external_id,
            )

        return self._rt.write(self._actor, run, action="users.create")

    def get(self, user_id: Any) -> User:
        def run(tx: Tx) -> User:
            user = records.user(tx.uow, user_id)
            check_read_user(tx, user)
            return user

        return self._rt.read(self._actor, run)

    def list(self, *, role: Any = None, email: Any = None) -> UserList:
        """Users (by creation time), optionally of one role or with one email."""
        wanted = None if role is None else checks.required_text("role", role, max_len=64)
        address = None if email is None else checks.email("email", email)

        def run(tx: Tx) -> UserList:
            tx.actor.require("users:read")
            rows = tx.uow.users.list(role=wanted)
            return [u for u in rows if address is None or u.email == address]

        return self._rt.read(self._actor, run)

    def update(
        self,
        user_id: Any,
        *,
        name: Any = _UNSET,
        email: Any = _UNSET,
        timezone: Any = _UNSET,
        external_id: Any = _UNSET,
    ) -> User:
        """Change name, email, time zone or external id. Name and time zone:
        yourself, or with ``users:write``. Email and external id identify the
        user: only the system scope (the host, after verifying the address) or
        an admin (``users:identity``) changes them, never the user themself
        (restating the current value is no change and is allowed)."""

        def run(tx: Tx) -> User:
            user = records.user(tx.uow, user_id)
            if tx.actor.user_id != user.id:
                tx.actor.require("users:write")
                self._rt.roles.check_may_grant(tx.actor, user.role)
            changes: dict[str, Any] = {"updated_at": tx.now}
            if name is not _UNSET:
                changes["name"] = checks.required_text("name", name, max_len=checks.MAX_NAME)
            if timezone is not _UNSET:
                changes["timezone"] = checks.timezone_name("timezone", timezone)
            if email is not _UNSET:
                changes["email"] = checks.email("email", email)
            if external_id is not _UNSET:
                changes["external_id"] = checks.text("external_id", external_id, max_len=200)
            if any(
                field in changes and changes[field] != getattr(user, field)
                for field in ("email", "external_id")
            ):  # restating the current value is no change
                check_change_identity(tx.actor, user.id)
            if changes.get("email", user.email) != user.email:
                other = tx.uow.users.find(email=changes["email"])
                if other is not None and other.id != user.id:
                    raise Conflict("A user with this email already exists")
            updated = attrs.evolve(user, **changes)
            tx.uow.users.update(updated)
            return updated

        return self._rt.write(self._actor, run, action="users.update")

    def change_role(self, user_id: Any, role: Any) -> User:
        """Give the user another role (the system scope or an admin with
        ``users:identity``; never on oneself, never above one's own rank).
        Takes effect on the user's next call. What happens to their profiles,
        members, sessions and requests: see
        :mod:`coachcore.services.accounts.role_changes` (a coach who still
        coaches is a 422)."""

        def run(tx: Tx) -> User:
            user = records.user(tx.uow, user_id)
            check_change_identity(tx.actor, user.id)
            if not isinstance(role, str) or role not in self._rt.roles:
                raise ValidationFailed("role: unknown role", details={"field": "role"})
            self._rt.roles.check_may_grant(tx.actor, user.role)
            self._rt.roles.check_may_grant(tx.actor, role)
            return role_changes.change_role(tx, user, role)

        return self._rt.write(self._actor, run, action="users.change_role")

    def set_manager(self, user_id: Any, manager_id: Any) -> User:
        """Set who the user reports to (None: nobody), by the host or an admin
        (``users:identity``: a reporting line opens the user's coaching results
        to the manager). 422 for a loop, an inactive manager, or a manager
        outside the user's organizations (where the user belongs to some)."""
        manager = checks.optional_identifier("manager_id", manager_id)

        def run(tx: Tx) -> User:
            tx.actor.require("users:identity")
            user = records.user(tx.uow, user_id)
            return reporting.set_manager(tx, user, manager)

        return self._rt.write(self._actor, run, action="users.set_manager")

    def deactivate(self, user_id: Any) -> User:
        """Mark the user inactive: they can no longer act, book or be booked."""

        def run(tx: Tx) -> User:
            tx.actor.require("users:write")
            user = records.user(tx.uow, user_id)
            self._rt.roles.check_may_grant(tx.actor, user.role)
            updated = attrs.evolve(user, is_active=False, updated_at=tx.now)
            tx.uow.users.update(updated)
            return updated

        return self._rt.write(self._actor, run, action="users.deactivate")
