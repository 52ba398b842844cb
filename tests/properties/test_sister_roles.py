"""Properties of configurable role hierarchies (issue 8.8)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from coachcore.policies.roles import PERMISSIONS, SCOPE_ALL, RoleRegistry

NAMES = [f"r{n}" for n in range(6)]
PERMS = sorted(PERMISSIONS - {SCOPE_ALL})


@st.composite
def hierarchies(draw: st.DrawFn) -> dict[str, dict[str, list[str]]]:
    """Random DAGs: a role inherits only from roles earlier in NAMES (or built-ins)."""
    size = draw(st.integers(1, len(NAMES)))
    out: dict[str, dict[str, list[str]]] = {}
    for i, name in enumerate(NAMES[:size]):
        parents = draw(st.lists(st.sampled_from([*NAMES[:i], "coach", "member"]), max_size=3))
        perms = draw(st.lists(st.sampled_from(PERMS), max_size=4))
        out[name] = {"permissions": perms, "inherits": sorted(set(parents))}
    return dict(reversed(list(out.items())))  # children before parents


# Feature: sister-systems, Property S10: A role holds its own permissions and all its ancestors'
@given(spec=hierarchies())
def test_permissions_are_the_union_over_ancestors(spec: dict[str, dict[str, list[str]]]) -> None:
    roles = RoleRegistry(spec)
    builtin = RoleRegistry()
    for name, role in spec.items():
        expected = set(role["permissions"])
        for ancestor in roles.ancestors(name):
            own = (
                spec[ancestor]["permissions"] if ancestor in spec else builtin.permissions(ancestor)
            )
            expected |= set(own)
        assert roles.permissions(name) == expected
        for parent in role["inherits"]:
            assert roles.outranks(name, parent)
            assert not roles.outranks(parent, name)
            assert roles.permissions(parent) <= roles.permissions(name)
