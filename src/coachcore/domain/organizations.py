"""Organizations: coach practices and client companies with their
metadata, and who belongs to them. Pure attrs entities; no I/O."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum
from typing import Any

import attrs

from coachcore.domain import checks
from coachcore.errors import BusinessRuleViolation


def _aware(_: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    checks.aware(attribute.name, value)


def _strings(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(values)


class OrganizationKind(StrEnum):
    COACH_PRACTICE = "coach_practice"
    CLIENT_COMPANY = "client_company"


class CompanySize(StrEnum):
    """Head-count bands of a client company."""

    XS = "1-10"
    S = "11-50"
    M = "51-200"
    L = "201-1000"
    XL = "1001+"


class OrganizationRole(StrEnum):
    """A user's role inside one organization (not the platform role)."""

    ADMIN = "admin"
    MEMBER = "member"


PRACTICE_FIELDS = frozenset({"specialties", "experience", "philosophy"})
COMPANY_FIELDS = frozenset({"industry", "size"})
MAX_SPECIALTIES = 50


@attrs.frozen(kw_only=True)
class Organization:
    """A coach practice (specialties, experience, philosophy) or a client
    company (industry, size); the other kind's metadata stays empty."""

    id: str
    name: str
    kind: OrganizationKind
    description: str | None = None
    specialties: tuple[str, ...] = attrs.field(default=(), converter=_strings)
    experience: str | None = None
    philosophy: str | None = None
    industry: str | None = None
    size: CompanySize | None = None
    is_active: bool = True
    created_by: str
    created_at: datetime = attrs.field(validator=_aware)
    updated_at: datetime = attrs.field(validator=_aware)


@attrs.frozen(kw_only=True)
class OrganizationMembership:
    """A user belongs to an organization, as its admin or a plain member."""

    id: str
    organization_id: str
    user_id: str
    role: OrganizationRole = OrganizationRole.MEMBER
    created_at: datetime = attrs.field(validator=_aware)
    updated_at: datetime = attrs.field(validator=_aware)


class OrganizationInvitationStatus(StrEnum):
    """Stored statuses, plus ``expired``: a pending invitation past ``expires_at``
    (derived, never stored)."""

    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    REVOKED = "revoked"
    EXPIRED = "expired"


@attrs.frozen(kw_only=True)
class OrganizationInvitation:
    """An organization's admin asks a user to join with ``role``; the user
    joins only by accepting it (consent), or the host adds them directly.
    It can be answered until ``expires_at``."""

    id: str
    organization_id: str
    user_id: str
    role: OrganizationRole = OrganizationRole.MEMBER
    invited_by: str
    status: OrganizationInvitationStatus = OrganizationInvitationStatus.PENDING
    expires_at: datetime = attrs.field(validator=_aware)
    responded_at: datetime | None = None
    created_at: datetime = attrs.field(validator=_aware)
    updated_at: datetime = attrs.field(validator=_aware)

    def status_at(self, now: datetime) -> OrganizationInvitationStatus:
        """The status, with a pending invitation past its expiry as ``expired``."""
        if self.status == OrganizationInvitationStatus.PENDING and now >= self.expires_at:
            return OrganizationInvitationStatus.EXPIRED
        return self.status

    def check_usable(self, now: datetime) -> None:
        """Raise BusinessRuleViolation (422, ``details["reason"]``) unless the
        invitation is pending and not expired."""
        status = self.status_at(now)
        if status == OrganizationInvitationStatus.EXPIRED:
            raise BusinessRuleViolation(
                "This invitation has expired",
                details={"reason": str(status), "invitation_id": self.id},
            )
        if status != OrganizationInvitationStatus.PENDING:
            raise BusinessRuleViolation(
                f"This invitation is already {status}",
                details={"reason": str(status), "invitation_id": self.id},
            )

    def answer(self, status: OrganizationInvitationStatus, now: datetime) -> OrganizationInvitation:
        """Accepted, declined or revoked, once, while pending and not expired (else a 422)."""
        self.check_usable(now)
        return attrs.evolve(self, status=status, responded_at=now, updated_at=now)


def metadata(kind: OrganizationKind, given: dict[str, Any]) -> dict[str, Any]:
    """Validated metadata fields for an organization of ``kind``; fields of the
    other kind are a ValidationFailed."""
    allowed = PRACTICE_FIELDS if kind == OrganizationKind.COACH_PRACTICE else COMPANY_FIELDS
    out: dict[str, Any] = {}
    for name, value in given.items():
        if name not in allowed:
            raise checks.fail(name, f"does not apply to a {kind} organization")
        if name == "specialties":
            out[name] = specialties(value)
        elif name == "size":
            out[name] = None if value is None else checks.choice("size", value, CompanySize)
        else:
            out[name] = checks.text(name, value, max_len=2000)
    return out


def specialties(value: Any) -> tuple[str, ...]:
    """A list of distinct, non-empty specialty names (order kept)."""
    if value is None:
        return ()
    if isinstance(value, str) or not isinstance(value, list | tuple):
        raise checks.fail("specialties", "must be a list of strings")
    if len(value) > MAX_SPECIALTIES:
        raise checks.fail("specialties", f"must have at most {MAX_SPECIALTIES} entries")
    out: list[str] = []
    for item in value:
        name = checks.required_text("specialties", item, max_len=checks.MAX_NAME).strip()
        if name not in out:
            out.append(name)
    return tuple(out)
