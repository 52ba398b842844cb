"""Configurable roles (issue 8.8): host roles inherit permissions from other roles,
form a hierarchy, and user management cannot climb it."""

from __future__ import annotations

from typing import Any

import pytest

from backends import Backend
from coachcore.errors import Forbidden, ValidationFailed
from coachcore.policies.roles import SYSTEM, RoleRegistry, RoleSpec

HIERARCHY: dict[str, Any] = {
    # listed child first: the registry orders definitions by inheritance
    "manager": {"permissions": ["users:write", "users:read"], "inherits": ["team_leader"]},
    "team_leader": RoleSpec(permissions={"audit:read"}, inherits=("agent",)),
    "agent": ["coaches:read", "sessions:read"],
}


def test_inheritance_is_transitive_and_ordered() -> None:
    roles = RoleRegistry(HIERARCHY)
    assert roles.permissions("agent") == {"coaches:read", "sessions:read"}
    assert roles.permissions("team_leader") == {"audit:read", "coaches:read", "sessions:read"}
    assert roles.permissions("manager") >= roles.permissions("team_leader") | {"users:write"}
    assert roles.ancestors("manager") == {"team_leader", "agent"}
    assert roles.outranks("manager", "agent") and not roles.outranks("agent", "manager")
    roles.define("agent", ["coaches:read", "availability:read"])  # parents see the change
    assert "availability:read" in roles.permissions("manager")
    assert "sessions:read" not in roles.permissions("manager")


@pytest.mark.parametrize(
    "bad",
    [
        {"a": {"inherits": ["nobody"]}},
        {"a": {"inherits": ["b"]}, "b": {"inherits": ["a"]}},
        {"a": {"permissions": ["no:such"]}},
        {"a": {"perms": []}},
        {"a": "users:read"},
    ],
)
def test_bad_hierarchies_are_rejected(bad: dict[str, Any]) -> None:
    with pytest.raises(ValidationFailed):
        RoleRegistry(bad)


def test_self_inheritance_is_a_cycle() -> None:
    roles = RoleRegistry({"a": ["users:read"]})
    with pytest.raises(ValidationFailed):
        roles.define("a", [], inherits=["a"])
    roles.define("b", [], inherits=["a"])
    with pytest.raises(ValidationFailed):
        roles.define("a", [], inherits=["b"])


@pytest.mark.parametrize(
    "cyclic",
    [
        {"lead": {"inherits": ["coach"]}, "coach": {"inherits": ["lead"]}},  # via a built-in
        {"a": {"inherits": ["b"]}, "b": {"inherits": ["a"]}},
        {"a": {"inherits": ["b"]}, "b": {"inherits": ["c"]}, "c": {"inherits": ["a"]}},
    ],
)
def test_a_cycle_among_host_roles_is_refused_not_looped_on(cyclic: dict[str, Any]) -> None:
    with pytest.raises(ValidationFailed, match=r"cycle|unknown parent"):
        RoleRegistry(cyclic)


def test_acting_users_get_inherited_permissions_and_cannot_climb(backend: Backend) -> None:
    core = backend.open(roles=HIERARCHY)
    with core:
        sys = core.system
        manager = sys.users.create(name="M", email="m@example.com", role="manager")
        leader = sys.users.create(name="L", email="l@example.com", role="team_leader")
        as_manager = core.acting_as(manager.id)
        as_leader = core.acting_as(leader.id)
        assert {e.entity_id for e in as_leader.audit.list()} >= {manager.id, leader.id}  # own
        as_manager.audit.list()  # inherited from team_leader
        with pytest.raises(Forbidden):
            as_leader.users.list()
        agent = as_manager.users.create(name="A", email="a@example.com", role="agent")
        as_manager.users.create(name="L2", email="l2@example.com", role="team_leader")
        member = as_manager.users.create(name="Mem", email="mem@example.com", role="member")
        as_manager.users.update(agent.id, name="Agent A")
        as_manager.users.deactivate(member.id)
        with pytest.raises(Forbidden):  # nobody without scope:all makes admins
            as_manager.users.create(name="X", email="x@example.com", role="admin")
        with pytest.raises(ValidationFailed):  # roles are defined before use
            sys.users.create(name="B", email="b@example.com", role="director")
        core.roles.define("director", ["users:write"], inherits=["manager"])
        director = sys.users.create(name="D", email="d@example.com", role="director")
        with pytest.raises(Forbidden):  # a role above the manager's
            as_manager.users.deactivate(director.id)
        with pytest.raises(Forbidden):
            as_manager.users.update(director.id, name="Demoted")
        assert SYSTEM.sees_all
        assert core.roles.outranks("director", "agent")
