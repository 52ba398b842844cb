"""Checks of the options of ``coachcore.open``: a wrong type is a
ValidationFailed naming the option, never a TypeError from deep inside."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import Any

from coachcore.domain import checks
from coachcore.errors import ValidationFailed
from coachcore.policies.roles import COACHING_HUB, RoleSpec, coaching_hub_roles
from coachcore.ports.blobs import BlobStore
from coachcore.ports.cipher import Cipher
from coachcore.ports.clock import Clock
from coachcore.ports.delivery import CalendarPort, MessagingPort, NotifierPort

PORTS: dict[str, type] = {
    "clock": Clock,
    "calendar": CalendarPort,
    "messaging": MessagingPort,
    "notifier": NotifierPort,
    "cipher": Cipher,
}


def url(value: Any) -> str:
    """The store URL: a string of valid Unicode."""
    return checks.required_text("url", value, max_len=4096)


def adapter(option: str, value: Any) -> Any:
    """``value`` if it is None or has the methods of the option's port."""
    if value is not None and not isinstance(value, PORTS[option]):
        raise _fail(option, f"must provide the {PORTS[option].__name__} methods")
    return value


def blobs(value: Any) -> Any:
    """Blob storage: None, a directory's path, or an object with the BlobStore methods."""
    if value is None or isinstance(value, str | os.PathLike | BlobStore):
        return value
    raise _fail("blobs", "must be a directory's path or provide the BlobStore methods")


def plugins(value: Any) -> tuple[object, ...]:
    """The extra plugin objects, as a tuple (a string is not a list of plugins)."""
    if isinstance(value, str | bytes | Mapping) or not isinstance(value, Iterable):
        raise _fail("plugins", "must be a list of plugin objects")
    return tuple(value)


def config(value: Any) -> bool | str | os.PathLike[str]:
    """Whether to read the delivery configuration: False, True, or a file's path."""
    if isinstance(value, bool | str | os.PathLike):
        return value
    raise _fail("config", "must be true, false or the path of a coachcore.toml")


def keys(value: Any) -> str | list[str] | None:
    """Encryption keys: a comma-separated string or a list of key strings."""
    if value is None or isinstance(value, str):
        return value
    if not isinstance(value, list | tuple) or not all(isinstance(k, str) for k in value):
        raise _fail("keys", "must be a comma-separated string or a list of key strings")
    return list(value)


def roles(value: Any) -> dict[str, RoleSpec] | None:
    """Host roles ``{name: permissions | {"permissions", "inherits"} | RoleSpec}``,
    each checked to be made of names (strings) before the registry sees it;
    or the name of a shipped preset (``"coaching_hub"``)."""
    if value is None:
        return None
    if value == COACHING_HUB:
        return coaching_hub_roles()
    if not isinstance(value, Mapping):
        raise _fail("roles", "must map role names to their permissions")
    specs = {}
    for name, definition in value.items():
        role = checks.required_text("roles", name, max_len=64)
        specs[role] = _spec(definition)
    return specs


def _spec(definition: Any) -> RoleSpec:
    if isinstance(definition, RoleSpec):
        return RoleSpec(
            permissions=_names(definition.permissions), inherits=_names(definition.inherits)
        )
    if isinstance(definition, Mapping):
        unknown = set(definition) - {"permissions", "inherits"}
        if unknown:
            raise _fail("roles", "a role has only 'permissions' and 'inherits'")
        inherits = definition.get("inherits", ())
        return RoleSpec(
            permissions=_names(definition.get("permissions", ())),
            inherits=_names((inherits,) if isinstance(inherits, str) else inherits),
        )
    return RoleSpec(permissions=_names(definition))


def _names(values: Any) -> tuple[str, ...]:
    if isinstance(values, str | bytes | Mapping) or not isinstance(values, Iterable):
        raise _fail("roles", "permissions and parents must be lists of names")
    names = tuple(values)
    for name in names:
        checks.required_text("roles", name, max_len=200)
    return names


def _fail(option: str, message: str) -> ValidationFailed:
    return ValidationFailed(f"{option}: {message}", details={"field": option})
