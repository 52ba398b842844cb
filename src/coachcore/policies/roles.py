"""Roles map to permissions as data; hosts may define more roles.

``scope:all`` lifts ownership checks (an admin sees every member and session);
every other permission names a resource and an action.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import attrs

from coachcore.domain.enums import Role
from coachcore.errors import Forbidden, ValidationFailed

SCOPE_ALL = "scope:all"

PERMISSIONS: frozenset[str] = frozenset(
    {
        SCOPE_ALL,
        "users:read",
        "users:write",
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
        "privacy:manage",
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


SYSTEM = Actor(user_id="system", role=Role.ADMIN, permissions=PERMISSIONS)


class RoleRegistry:
    """The role -> permissions table of one core (built-ins plus the host's roles)."""

    def __init__(self, extra: Mapping[str, Iterable[str]] | None = None) -> None:
        self._roles: dict[str, frozenset[str]] = dict(BUILT_IN_ROLES)
        for name, permissions in (extra or {}).items():
            self.define(name, permissions)

    def define(self, name: str, permissions: Iterable[str]) -> None:
        """Add or replace a host role; unknown permission names are rejected."""
        perms = frozenset(permissions)
        unknown = perms - PERMISSIONS
        if not isinstance(name, str) or not name.strip() or unknown:
            raise ValidationFailed(
                "role: unknown permissions or bad name", details={"unknown": sorted(unknown)}
            )
        self._roles[name] = perms

    def __contains__(self, name: object) -> bool:
        return name in self._roles

    def permissions(self, role: str) -> frozenset[str]:
        return self._roles.get(role, frozenset())

    def names(self) -> list[str]:
        return sorted(self._roles)
