"""Roles map to permissions as data; hosts may define more roles.

``scope:all`` lifts ownership checks (an admin sees every member and session);
every other permission names a resource and an action.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from coachcore.domain.enums import Role
from coachcore.errors import Forbidden, ValidationFailed

SCOPE_ALL = "scope:all"

PERMISSIONS: frozenset[str] = frozenset(
    {
        SCOPE_ALL,
        "users:read",
        "users:write",
        "users:identity",
        "members:read",
        "members:write",
        "members:assign",
        "coaches:read",
        "coaches:write",
        "availability:read",
        "availability:write",
        "bookings:read",
        "bookings:write",
        "sessions:read",
        "sessions:write",
        "ratings:write",
        "dashboards:member",
        "dashboards:coach",
        "conversations:read",
        "notifications:read",
        "reminders:run",
        "waitlist:run",
        "outbox:manage",
        # the sister systems (seeds 000, 001, 003)
        "relationships:read",
        "relationships:write",
        "invitations:read",
        "invitations:write",
        "interest:submit",
        "interest:manage",
        "organizations:create",
        "organizations:manage",
        "hub:read",
        "hub:write",
        "audit:read",
        "audit:manage",
        "documents:read",
        "documents:write",
        "privacy:manage",
        "team:read",
    }
)

_COACH = {
    "members:read",
    "members:write",
    "coaches:read",
    "coaches:write",
    "availability:read",
    "availability:write",
    "bookings:read",
    "bookings:write",
    "sessions:read",
    "sessions:write",
    "dashboards:coach",
    "conversations:read",
    "notifications:read",
    "relationships:read",
    "relationships:write",
    "invitations:read",
    "invitations:write",
    "organizations:create",
    "hub:read",
    "hub:write",
    "documents:read",
    "documents:write",
}
_MEMBER = {
    "coaches:read",
    "availability:read",
    "bookings:read",
    "bookings:write",
    "sessions:read",
    "ratings:write",
    "dashboards:member",
    "conversations:read",
    "notifications:read",
    "relationships:read",
    "relationships:write",
    "interest:submit",
    "organizations:create",
    "hub:read",
    "hub:write",
    "documents:read",
    "documents:write",
}

BUILT_IN_ROLES: Mapping[str, frozenset[str]] = {
    Role.ADMIN: PERMISSIONS,
    Role.COACH: frozenset(_COACH),
    Role.MEMBER: frozenset(_MEMBER),
}


@attrs.frozen
class Actor:
    """Who is calling: a user id, its role and that role's permissions."""

    user_id: str
    role: str
    permissions: frozenset[str]

    @property
    def sees_all(self) -> bool:
        return SCOPE_ALL in self.permissions

    def can(self, permission: str) -> bool:
        return permission in self.permissions

    def require(self, permission: str) -> None:
        """Raise Forbidden unless the actor holds ``permission``."""
        if permission not in self.permissions:
            raise Forbidden(f"Missing permission {permission}", details={"permission": permission})


def denied(message: str, entity_type: str, entity_id: str) -> Forbidden:
    """A ``Forbidden`` that names the record refused (what the audit log keeps
    about the attempt: ``details["entity_type"]`` and ``details["entity_id"]``)."""
    return Forbidden(message, details={"entity_type": entity_type, "entity_id": entity_id})


def check_change_identity(actor: Actor, user_id: str) -> None:
    """A user's email, role and external id: the host (system scope, after it
    verified the address) or a user holding ``users:identity`` (admins), never
    the user on themself (their sign-in would otherwise take over another
    person's invitations and address)."""
    if actor.user_id == user_id:
        raise denied(
            "Your email, role and external id change through the host or an admin",
            "user",
            user_id,
        )
    actor.require("users:identity")


COACHING_HUB = "coaching_hub"
"""``coachcore.open(url, roles="coaching_hub")``: the coaching hub's roles."""


def coaching_hub_roles() -> dict[str, RoleSpec]:
    """The coaching hub's roles besides the built-in admin: a team leader is a
    coach who also reads their team's progress, an agent a member (coached),
    a manager reads what their reports' coaching produced and nothing else."""
    return {
        "manager": RoleSpec(permissions={"team:read", "notifications:read"}),
        "team_leader": RoleSpec(permissions={"team:read"}, inherits=(Role.COACH,)),
        "agent": RoleSpec(inherits=(Role.MEMBER,)),
    }


SYSTEM = Actor(user_id="system", role=Role.ADMIN, permissions=PERMISSIONS)


def _frozen(values: Iterable[str]) -> frozenset[str]:
    return frozenset(values)


def _tuple(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(values)


@attrs.frozen(kw_only=True)
class RoleSpec:
    """A host role: its own permissions plus every permission of the roles it
    ``inherits`` (transitively). A role ranks above the roles it inherits."""

    permissions: frozenset[str] = attrs.field(default=frozenset(), converter=_frozen)
    inherits: tuple[str, ...] = attrs.field(default=(), converter=_tuple)


RoleDefinition = Iterable[str] | RoleSpec | Mapping[str, Any]
"""What ``coachcore.open(roles={name: ...})`` accepts per role: a permission
list, a :class:`RoleSpec`, or ``{"permissions": [...], "inherits": [...]}``."""


def _spec(definition: RoleDefinition) -> RoleSpec:
    if isinstance(definition, RoleSpec):
        return definition
    if isinstance(definition, Mapping):
        unknown_keys = set(definition) - {"permissions", "inherits"}
        if unknown_keys:
            raise ValidationFailed(
                "role: unknown keys", details={"unknown": sorted(map(str, unknown_keys))}
            )
        inherits = definition.get("inherits", ())
        if isinstance(inherits, str):
            inherits = (inherits,)
        return RoleSpec(permissions=definition.get("permissions", ()), inherits=inherits)
    if isinstance(definition, str):
        raise ValidationFailed("role: permissions must be a list of names")
    return RoleSpec(permissions=frozenset(definition))


class RoleRegistry:
    """The role -> permissions table of one core: the built-ins plus the host's
    roles, which may inherit from each other (a configurable hierarchy)."""

    def __init__(self, extra: Mapping[str, RoleDefinition] | None = None) -> None:
        self._roles: dict[str, frozenset[str]] = dict(BUILT_IN_ROLES)
        self._parents: dict[str, tuple[str, ...]] = {}
        self._effective: dict[str, frozenset[str]] = {}
        waiting = {name: _spec(definition) for name, definition in (extra or {}).items()}
        while waiting:  # parents first, whatever order the host listed them in
            ready = [
                n
                for n, spec in waiting.items()
                if all(p in self._roles and p not in waiting for p in spec.inherits)
            ]
            if not ready:  # an unknown parent (define raises), or a cycle among them
                name, spec = next(iter(waiting.items()))
                self.define(name, spec.permissions, inherits=spec.inherits)
                raise ValidationFailed("role: inheritance cycle", details={"role": name})
            for name in ready:
                spec = waiting.pop(name)
                self.define(name, spec.permissions, inherits=spec.inherits)

    def define(
        self, name: str, permissions: Iterable[str], *, inherits: Iterable[str] = ()
    ) -> None:
        """Add or replace a role; unknown permission names, unknown parents and
        cycles (a role inheriting from itself, directly or not) are rejected."""
        perms = frozenset(permissions)
        parents = tuple(inherits)
        unknown = perms - PERMISSIONS
        if not isinstance(name, str) or not name.strip() or unknown:
            raise ValidationFailed(
                "role: unknown permissions or bad name", details={"unknown": sorted(unknown)}
            )
        missing = [p for p in parents if p not in self._roles]
        if missing:
            raise ValidationFailed("role: unknown parent roles", details={"unknown": missing})
        if any(p == name or name in self.ancestors(p) for p in parents):
            raise ValidationFailed("role: inheritance cycle", details={"role": name})
        self._roles[name] = perms
        self._parents[name] = parents
        self._effective.clear()

    def __contains__(self, name: object) -> bool:
        return name in self._roles

    def permissions(self, role: str) -> frozenset[str]:
        """The role's own permissions plus those of every role it inherits."""
        if role not in self._roles:
            return frozenset()
        cached = self._effective.get(role)
        if cached is None:
            inherited = [self.permissions(p) for p in self.parents(role)]
            cached = frozenset(self._roles[role].union(*inherited))
            self._effective[role] = cached
        return cached

    def names(self) -> list[str]:
        return sorted(self._roles)

    def parents(self, role: str) -> tuple[str, ...]:
        """The roles ``role`` inherits from directly."""
        return self._parents.get(role, ())

    def ancestors(self, role: str) -> frozenset[str]:
        """Every role ``role`` inherits from, directly or through others."""
        seen: set[str] = set()
        todo = list(self.parents(role))
        while todo:
            parent = todo.pop()
            if parent not in seen:
                seen.add(parent)
                todo.extend(self.parents(parent))
        return frozenset(seen)

    def is_a(self, role: str, base: str) -> bool:
        """True if ``role`` is ``base`` or inherits from it (a "team leader"
        inheriting ``coach`` is a coach: it gets a coach profile and coaches)."""
        return role == base or base in self.ancestors(role)

    def outranks(self, role: str, other: str) -> bool:
        """True if ``role`` inherits from ``other`` (it sits above it)."""
        return other in self.ancestors(role)

    def check_may_grant(self, actor: Actor, role: str) -> None:
        """No escalation through user management: an actor who does not see all
        may not give (or manage users of) a role that sees all or that ranks
        above the actor's own role in the hierarchy (Forbidden)."""
        if actor.sees_all:
            return
        if SCOPE_ALL in self.permissions(role) or self.outranks(role, actor.role):
            raise Forbidden(
                "You may not manage users whose role ranks above yours",
                details={"role": role},
            )
