"""Reporting lines: who a user reports to (``User.manager_id``) and who reports
to a manager, directly or through others (a manager's team leaders and, under
them, their agents)."""

from __future__ import annotations

import attrs

from coachcore.domain.entities import User
from coachcore.errors import BusinessRuleViolation
from coachcore.ports.storage import UnitOfWork
from coachcore.services.compliance import audit
from coachcore.services.runtime import records
from coachcore.services.runtime.transaction import Tx


def reports_of(uow: UnitOfWork, manager_id: str) -> list[User]:
    """Everyone under the manager, each once: direct reports first, then
    theirs, and so on; each level by creation time, then id."""
    found: list[User] = []
    seen = {manager_id}
    level = [manager_id]
    while level:
        below: list[User] = []
        for boss in level:
            below.extend(u for u in uow.users.list(manager_id=boss) if u.id not in seen)
        below.sort(key=lambda u: (u.created_at, u.id))
        seen.update(u.id for u in below)
        found.extend(below)
        level = [u.id for u in below]
    return found


def line_above(uow: UnitOfWork, user_id: str) -> list[User]:
    """The user's manager, that manager's manager, and so on up (stops at a
    loop, which :func:`set_manager` never lets happen)."""
    line: list[User] = []
    seen = {user_id}
    current = uow.users.get(user_id)
    while current is not None and current.manager_id is not None:
        if current.manager_id in seen:  # pragma: no cover - set_manager refuses cycles
            break
        seen.add(current.manager_id)
        current = uow.users.get(current.manager_id)
        if current is not None:
            line.append(current)
    return line


def manages(uow: UnitOfWork, manager_id: str, user_id: str) -> bool:
    """True if ``user_id`` reports to ``manager_id``, directly or through others."""
    return any(boss.id == manager_id for boss in line_above(uow, user_id))


def _organizations(uow: UnitOfWork, user_id: str) -> set[str]:
    return {m.organization_id for m in uow.organization_memberships.list(user_id=user_id)}


def set_manager(tx: Tx, user: User, manager_id: str | None) -> User:
    """The user reporting to ``manager_id`` (None: to nobody). Refused (422):
    oneself, an inactive manager, a cycle (the manager reports to the user,
    directly or not), and, where the user belongs to organizations, a manager
    in none of them. Policies are the caller's."""
    if manager_id is not None:
        manager = records.active_user(tx.uow, manager_id, "manager_id")
        line = [manager, *line_above(tx.uow, manager.id)]
        if any(boss.id == user.id for boss in line):
            raise BusinessRuleViolation(
                "manager_id: a reporting line may not loop back to the user",
                details={"user_id": user.id, "manager_id": manager.id},
            )
        theirs = _organizations(tx.uow, user.id)
        if theirs and not theirs & _organizations(tx.uow, manager.id):
            raise BusinessRuleViolation(
                "manager_id: the manager belongs to none of the user's organizations",
                details={"user_id": user.id, "manager_id": manager.id},
            )
        for boss in line:  # compare-and-set the line read: two changes closing
            tx.uow.users.update(boss)  # a loop at once cannot both commit
    if manager_id == user.manager_id:
        return user
    updated = attrs.evolve(user, manager_id=manager_id, updated_at=tx.now)
    tx.uow.users.update(updated)
    audit.record(tx, "user.manager_changed", "user", user.id, old=user.manager_id, new=manager_id)
    return updated
