"""Host-defined role hierarchies drawn at random, against a reference model.

Each host role gets a random permission subset and random parents among the
roles defined before it (built-ins included), in any of the three accepted
forms (a list, a RoleSpec, a mapping whose ``inherits`` may be one string),
listed in random order. The registry must give every role its own
permissions plus its ancestors', and refuse escalation up the hierarchy.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from coachcore.errors import Forbidden, ValidationFailed
from coachcore.policies.roles import (
    BUILT_IN_ROLES,
    PERMISSIONS,
    SCOPE_ALL,
    Actor,
    RoleRegistry,
    RoleSpec,
    check_change_identity,
)

SOME = [*sorted(PERMISSIONS)[:12], SCOPE_ALL]


@st.composite
def hierarchies(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, tuple[set[str], list[str]]]]:
    """(the host's definitions, the model: role -> (own permissions, parents))."""
    model: dict[str, tuple[set[str], list[str]]] = {
        name: (set(perms), []) for name, perms in BUILT_IN_ROLES.items()
    }
    definitions: dict[str, Any] = {}
    for i in range(draw(st.integers(1, 5))):
        name = f"role{i}"
        own = draw(st.sets(st.sampled_from(SOME), max_size=4))
        parents = draw(st.lists(st.sampled_from(sorted(model)), max_size=2, unique=True))
        form = draw(st.sampled_from(["list", "spec", "mapping", "string"]))
        if form == "list" or (form == "string" and len(parents) != 1):
            parents = [] if form == "list" else parents
            definition: Any = sorted(own) if form == "list" else {
                "permissions": sorted(own), "inherits": parents}
        elif form == "spec":
            definition = RoleSpec(permissions=own, inherits=parents)
        elif form == "mapping":
            definition = {"permissions": sorted(own), "inherits": parents}
        else:
            definition = {"permissions": sorted(own), "inherits": parents[0]}
        definitions[name] = definition
        model[name] = (own, parents)
    order = draw(st.permutations(sorted(definitions)))
    return {name: definitions[name] for name in order}, model


def effective(model: dict[str, tuple[set[str], list[str]]], role: str) -> set[str]:
    own, parents = model[role]
    return own.union(*(effective(model, parent) for parent in parents))


def ancestors(model: dict[str, tuple[set[str], list[str]]], role: str) -> set[str]:
    _, parents = model[role]
    return set(parents).union(*(ancestors(model, parent) for parent in parents))


@given(hierarchies())
def test_roles_hold_their_own_and_their_ancestors_permissions(drawn: Any) -> None:
    definitions, model = drawn
    roles = RoleRegistry(definitions)
    assert roles.names() == sorted(model)
    for role in model:
        assert role in roles
        assert roles.permissions(role) == effective(model, role)
        assert roles.ancestors(role) == ancestors(model, role)
        assert set(roles.parents(role)) == set(model[role][1])
        for other in model:
            assert roles.outranks(role, other) is (other in ancestors(model, role))
    assert roles.permissions("nobody") == frozenset()
    assert "nobody" not in roles


@given(hierarchies(), st.data())
def test_nobody_grants_a_role_above_their_own(drawn: Any, data: st.DataObject) -> None:
    definitions, model = drawn
    roles = RoleRegistry(definitions)
    mine = data.draw(st.sampled_from(sorted(model)))
    target = data.draw(st.sampled_from(sorted(model)))
    actor = Actor("ann", mine, roles.permissions(mine))
    refused = SCOPE_ALL not in actor.permissions and (
        SCOPE_ALL in effective(model, target) or mine in ancestors(model, target)
    )
    if refused:
        with pytest.raises(Forbidden):
            roles.check_may_grant(actor, target)
    else:
        roles.check_may_grant(actor, target)


@given(st.frozensets(st.sampled_from(SOME)), st.sampled_from(SOME))
def test_an_actor_holds_exactly_its_permissions(perms: frozenset[str], wanted: str) -> None:
    actor = Actor("ann", "host_role", perms)
    assert actor.can(wanted) is (wanted in perms)
    assert actor.sees_all is (SCOPE_ALL in perms)
    if wanted in perms:
        actor.require(wanted)
    else:
        with pytest.raises(Forbidden) as refused:
            actor.require(wanted)
        assert refused.value.details == {"permission": wanted}


@given(st.frozensets(st.sampled_from(["users:identity", "users:write", SCOPE_ALL])),
       st.sampled_from(["ann", "bob"]))
def test_identity_changes_need_users_identity_and_never_on_oneself(
    perms: frozenset[str], user: str
) -> None:
    actor = Actor("ann", "host_role", perms)
    if user != "ann" and "users:identity" in perms:
        check_change_identity(actor, user)
    else:
        with pytest.raises(Forbidden):
            check_change_identity(actor, user)


@pytest.mark.parametrize("name", ["", "   ", "\t"])
def test_a_role_needs_a_name(name: str) -> None:
    with pytest.raises(ValidationFailed):
        RoleRegistry({name: ["users:read"]})


def test_a_string_inherits_names_one_parent() -> None:
    roles = RoleRegistry({"lead": {"inherits": "coach", "permissions": ["audit:read"]}})
    assert roles.parents("lead") == ("coach",)
    assert roles.permissions("lead") == BUILT_IN_ROLES["coach"] | {"audit:read"}


@pytest.mark.parametrize("text", ["", "users:read"])
def test_a_role_given_as_one_string_is_refused(text: str) -> None:
    """A permission list, not a string (whose characters would read as names)."""
    with pytest.raises(ValidationFailed, match="list of names"):
        RoleRegistry({"a": text})
