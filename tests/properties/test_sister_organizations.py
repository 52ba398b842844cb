"""Properties of organizations (issue 8.5), on every store."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from propkit import World

from coachcore.errors import Forbidden

ROLES = st.sampled_from(["admin", "member", "none", "platform"])


# Feature: sister-systems, Property S6: Org admins manage their own organization only
@given(
    roles=st.lists(ROLES, min_size=2, max_size=2),
    kinds=st.lists(st.sampled_from(["coach_practice", "client_company"]), min_size=2, max_size=2),
    target=st.integers(0, 1),
)
def test_only_admins_of_an_organization_manage_it(
    backend: Any, roles: list[str], kinds: list[str], target: int
) -> None:
    with World(backend) as w:
        actor = w.coach()
        orgs = [
            w.sys.organizations.create(name=f"Org {n}", kind=kind, admin_id=w.coach().id)
            for n, kind in enumerate(kinds)
        ]
        platform = False
        for org, role in zip(orgs, roles, strict=True):
            if role in ("admin", "member"):
                w.sys.organizations.add_member(org.id, actor.id, role=role)
            platform = platform or role == "platform"
        who = w.admin() if platform else actor
        org, role = orgs[target], roles[target]
        allowed = platform or role == "admin"
        try:
            updated = w.as_(who).organizations.update(org.id, description="changed")
        except Forbidden:
            assert not allowed
            assert w.sys.organizations.get(org.id).description is None
        else:
            assert allowed and updated.description == "changed"
        visible = {o.id for o in w.as_(who).organizations.list()}
        expected = (
            {o.id for o in orgs}
            if platform
            else {o.id for o, r in zip(orgs, roles, strict=True) if r in ("admin", "member")}
        )
        assert visible == expected
