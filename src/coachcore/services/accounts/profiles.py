"""New users and the profiles their role implies; which roles coach and are coached.

A role that is ``coach`` or inherits it makes a coach (a coach profile, and
others may be coached by them); a role that is ``member`` or inherits it makes
a member (a member profile, and they may be coached).
"""

from __future__ import annotations

from typing import Any

from coachcore.domain import checks
from coachcore.domain.entities import CoachProfile, MemberProfile, User
from coachcore.domain.enums import Role
from coachcore.errors import BusinessRuleViolation, Conflict, ValidationFailed
from coachcore.services.runtime.transaction import Tx, new_id


def new_user(
    tx: Tx,
    roles: Any,
    *,
    name: Any,
    email: Any,
    role: Any,
    timezone: Any = "UTC",
    external_id: Any = None,
) -> User:
    """Validate and store a user, plus the profile its role implies."""
    if not isinstance(role, str) or role not in roles:
        raise ValidationFailed("role: unknown role", details={"field": "role"})
    address = checks.email("email", email)
    if tx.uow.users.find(email=address) is not None:
        raise Conflict("A user with this email already exists", details={"field": "email"})
    user = User(
        id=new_id(),
        name=checks.required_text("name", name, max_len=checks.MAX_NAME).strip(),
        email=address,
        role=str(role),
        timezone=checks.timezone_name("timezone", timezone),
        external_id=checks.text("external_id", external_id, max_len=200),
        created_at=tx.now,
        updated_at=tx.now,
    )
    tx.uow.users.add(user)
    add_implied_profiles(tx, user, fresh=True)
    return user


def is_coach(tx: Tx, user: User) -> bool:
    """True if the user's role coaches (``coach`` or a role inheriting it)."""
    return tx.roles.is_a(user.role, Role.COACH)


def is_member(tx: Tx, user: User) -> bool:
    """True if the user's role is coached (``member`` or a role inheriting it)."""
    return tx.roles.is_a(user.role, Role.MEMBER)


def require_coach_role(tx: Tx, user: User, field: str = "coach_id") -> None:
    """A 422 unless the user's role coaches (a former coach keeps a profile)."""
    if not is_coach(tx, user):
        raise BusinessRuleViolation(
            f"{field}: this user's role does not coach", details={field: user.id}
        )


def require_member_role(tx: Tx, user: User, field: str = "member_id") -> None:
    """A 422 unless the user's role is coached (a former member keeps a profile)."""
    if not is_member(tx, user):
        raise BusinessRuleViolation(
            f"{field}: this user's role is not coached", details={field: user.id}
        )


def add_implied_profiles(tx: Tx, user: User, *, fresh: bool = False) -> None:
    """The profiles the user's role implies (coach, member, or both for a role
    inheriting both), unless they exist (a ``fresh`` user has none)."""
    if is_coach(tx, user) and (fresh or tx.uow.coaches.get(user.id) is None):
        tx.uow.coaches.add(
            CoachProfile(id=new_id(), user_id=user.id, created_at=tx.now, updated_at=tx.now)
        )
    if is_member(tx, user) and (fresh or tx.uow.members.get(user.id) is None):
        tx.uow.members.add(
            MemberProfile(
                id=new_id(), user_id=user.id, joined_at=tx.now, created_at=tx.now, updated_at=tx.now
            )
        )
