"""Organizations: coach practices and client companies, and their members."""

from __future__ import annotations

from typing import Any

import attrs

from coachcore.domain import checks
from coachcore.domain.entities import User
from coachcore.domain.enums import NotificationKind
from coachcore.domain.organizations import (
    Organization,
    OrganizationInvitation,
    OrganizationInvitationStatus,
    OrganizationKind,
    OrganizationMembership,
    OrganizationRole,
    metadata,
)
from coachcore.errors import BusinessRuleViolation, Conflict, Forbidden, NotFound
from coachcore.policies import organizations as policy
from coachcore.ports.storage import UnitOfWork
from coachcore.services.coaching.invitations import invitation_ttl
from coachcore.services.compliance import audit
from coachcore.services.delivery import outgoing
from coachcore.services.runtime import records
from coachcore.services.runtime.transaction import SYSTEM_ID, Tx, UseCases, new_id

_UNSET: Any = object()
META = ("specialties", "experience", "philosophy", "industry", "size")


def _viewed(tx: Tx, organization_id: Any) -> Organization:
    """The organization, which the actor may see (its members, platform admins)."""
    found = _organization(tx.uow, organization_id)
    policy.check_view(tx.actor, _membership(tx, found.id))
    return found


def _managed(tx: Tx, organization_id: Any) -> Organization:
    """The organization, which the actor may manage (its admins, platform admins)."""
    found = _organization(tx.uow, organization_id)
    policy.check_manage(tx.actor, _membership(tx, found.id))
    return found


def _organization(uow: UnitOfWork, organization_id: Any) -> Organization:
    key = checks.identifier("organization_id", organization_id)
    found = uow.organizations.get(key)
    if found is None:
        raise NotFound("Organization not found", details={"organization_id": key})
    return found


def _membership(tx: Tx, organization_id: str) -> OrganizationMembership | None:
    return tx.uow.organization_memberships.find(
        organization_id=organization_id, user_id=tx.actor.user_id
    )


def _admins(uow: UnitOfWork, organization_id: str) -> list[OrganizationMembership]:
    rows = uow.organization_memberships.list(organization_id=organization_id)
    return [m for m in rows if m.role == OrganizationRole.ADMIN]


def _given(**fields: Any) -> dict[str, Any]:
    return {name: value for name, value in fields.items() if value is not _UNSET}


def _tell_invitee(
    tx: Tx, organization: Organization, invitation: OrganizationInvitation, invitee: User
) -> None:
    """The invitee's notification (stored, and delivered through the outbox)."""
    inviter = tx.uow.users.get(tx.actor.user_id)
    who = "An administrator" if inviter is None else inviter.name
    outgoing.notify(
        tx,
        invitee.id,
        NotificationKind.ORGANIZATION_INVITATION,
        f"{who} invites you to join {organization.name}",
        f"{who} invites you to join {organization.name} as {invitation.role}.\n"
        f"It is valid until {invitation.expires_at.isoformat()}.",
    )


MembershipList = list[OrganizationMembership]
InvitationList = list[OrganizationInvitation]


class Organizations(UseCases):
    """``scope.organizations``: practices and companies; users belong to several."""

    def create(
        self,
        *,
        name: Any,
        kind: Any,
        description: Any = None,
        admin_id: Any = None,
        specialties: Any = _UNSET,
        experience: Any = _UNSET,
        philosophy: Any = _UNSET,
        industry: Any = _UNSET,
        size: Any = _UNSET,
    ) -> Organization:
        """A coach practice (``specialties``, ``experience``, ``philosophy``) or a
        client company (``industry``, ``size``: "1-10" .. "1001+"). The creator
        becomes its admin; a platform admin may name the first admin
        (``admin_id``) instead."""
        title = checks.required_text("name", name, max_len=checks.MAX_NAME).strip()
        what = checks.choice("kind", kind, OrganizationKind)
        about = checks.text("description", description)
        first_admin = checks.optional_identifier("admin_id", admin_id)
        meta = metadata(
            what,
            _given(
                specialties=specialties,
                experience=experience,
                philosophy=philosophy,
                industry=industry,
                size=size,
            ),
        )

        def run(tx: Tx) -> Organization:
            policy.check_create(tx.actor)
            if first_admin is not None and not policy.is_platform_admin(tx.actor):
                raise Forbidden("Only platform admins name another user as admin")
            created = Organization(
                id=new_id(),
                name=title,
                kind=what,
                description=about,
                created_by=tx.actor.user_id,
                created_at=tx.now,
                updated_at=tx.now,
                **meta,
            )
            tx.uow.organizations.add(created)
            audit.record(tx, "organization.created", "organization", created.id, kind=what)
            owner = first_admin or tx.actor.user_id
            if owner != SYSTEM_ID:
                self._join(tx, created.id, owner, OrganizationRole.ADMIN)
            return created

        return self._rt.write(self._actor, run, action="organizations.create")

    def get(self, organization_id: Any) -> Organization:
        """Platform admins and the organization's members."""

        def run(tx: Tx) -> Organization:
            found = _viewed(tx, organization_id)
            return found

        return self._rt.read(self._actor, run)

    def list(self, *, kind: Any = None, user_id: Any = None) -> list[Organization]:
        """Platform admins: every organization (or ``user_id``'s); others: their own."""
        what = None if kind is None else checks.choice("kind", kind, OrganizationKind)
        who = checks.optional_identifier("user_id", user_id)

        def run(tx: Tx) -> list[Organization]:
            member = who
            if not policy.is_platform_admin(tx.actor):
                policy.check_view_user(tx.actor, who or tx.actor.user_id)
                member = tx.actor.user_id
            if member is None:
                rows = list(tx.uow.organizations.list())
            else:
                ids = [
                    m.organization_id for m in tx.uow.organization_memberships.list(user_id=member)
                ]
                found = [tx.uow.organizations.get(i) for i in ids]
                rows = sorted(
                    (o for o in found if o is not None), key=lambda o: (o.created_at, o.id)
                )
            return [o for o in rows if what is None or o.kind == what]

        return self._rt.read(self._actor, run)

    def update(
        self,
        organization_id: Any,
        *,
        name: Any = _UNSET,
        description: Any = _UNSET,
        is_active: Any = _UNSET,
        specialties: Any = _UNSET,
        experience: Any = _UNSET,
        philosophy: Any = _UNSET,
        industry: Any = _UNSET,
        size: Any = _UNSET,
    ) -> Organization:
        """The organization's admins or platform admins change name and metadata."""
        changes: dict[str, Any] = {}
        if name is not _UNSET:
            changes["name"] = checks.required_text("name", name, max_len=checks.MAX_NAME).strip()
        if description is not _UNSET:
            changes["description"] = checks.text("description", description)
        if is_active is not _UNSET:
            changes["is_active"] = checks.boolean("is_active", is_active)
        meta = _given(
            specialties=specialties,
            experience=experience,
            philosophy=philosophy,
            industry=industry,
            size=size,
        )

        def run(tx: Tx) -> Organization:
            found = _managed(tx, organization_id)
            updated = attrs.evolve(
                found, updated_at=tx.now, **changes, **metadata(found.kind, meta)
            )
            tx.uow.organizations.update(updated)
            audit.record(
                tx,
                "organization.updated",
                "organization",
                updated.id,
                fields=sorted({**changes, **meta}),
            )
            return updated

        return self._rt.write(self._actor, run, action="organizations.update")

    def members(self, organization_id: Any) -> MembershipList:
        """The organization's memberships, oldest first (its members and platform admins)."""

        def run(tx: Tx) -> MembershipList:
            found = _viewed(tx, organization_id)
            return list(tx.uow.organization_memberships.list(organization_id=found.id))

        return self._rt.read(self._actor, run)

    def add_member(
        self, organization_id: Any, user_id: Any, *, role: Any = OrganizationRole.MEMBER
    ) -> OrganizationMembership:
        """Add an active user without asking them (409 if already a member):
        platform admins and the system scope only. An organization's own
        admins :meth:`invite` instead, and the user accepts."""
        which = checks.choice("role", role, OrganizationRole)
        checks.identifier("user_id", user_id)

        def run(tx: Tx) -> OrganizationMembership:
            found = _organization(tx.uow, organization_id)
            policy.check_add_directly(tx.actor, found.id)
            return self._join(tx, found.id, user_id, which)

        return self._rt.write(self._actor, run, action="organizations.add_member")

    def invite(
        self,
        organization_id: Any,
        user_id: Any,
        *,
        role: Any = OrganizationRole.MEMBER,
        expires_in: Any = None,
    ) -> OrganizationInvitation:
        """Ask an active user to join as ``role`` (the organization's admins or
        platform admins); 409 if they belong already or have a pending invitation.
        The invitation expires after ``expires_in`` (a timedelta, default 7 days),
        and the user is notified."""
        which = checks.choice("role", role, OrganizationRole)
        key = checks.identifier("user_id", user_id)
        ttl = invitation_ttl(expires_in)

        def run(tx: Tx) -> OrganizationInvitation:
            found = _managed(tx, organization_id)
            tx.uow.lock_coach(found.id)  # one pending invitation per user, even racing
            user = records.active_user(tx.uow, key, "user_id")
            self._check_not_member(tx, found.id, user.id)
            for other in tx.uow.organization_invitations.list(
                organization_id=found.id, user_id=user.id
            ):
                if other.status_at(tx.now) == OrganizationInvitationStatus.PENDING:
                    raise Conflict(
                        "This user already has a pending invitation to the organization",
                        details={"invitation_id": other.id},
                    )
            invitation = OrganizationInvitation(
                id=new_id(),
                organization_id=found.id,
                user_id=user.id,
                role=which,
                invited_by=tx.actor.user_id,
                expires_at=tx.now + ttl,
                created_at=tx.now,
                updated_at=tx.now,
            )
            tx.uow.organization_invitations.add(invitation)
            audit.record(
                tx,
                "organization.member_invited",
                "organization",
                found.id,
                user_id=user.id,
                role=which,
                invitation_id=invitation.id,
                expires_at=invitation.expires_at,
            )
            _tell_invitee(tx, found, invitation, user)
            return invitation

        return self._rt.write(self._actor, run, action="organizations.invite")

    def invitations(self, *, organization_id: Any = None, status: Any = None) -> InvitationList:
        """Invitations, oldest first: the actor's own, or (``organization_id``)
        that organization's, for its admins and platform admins; ``status``
        may be ``"expired"`` (pending past their expiry)."""
        org = checks.optional_identifier("organization_id", organization_id)
        wanted = None
        if status is not None:
            wanted = checks.choice("status", status, OrganizationInvitationStatus)

        def run(tx: Tx) -> InvitationList:
            if org is None:
                rows = tx.uow.organization_invitations.list(user_id=tx.actor.user_id)
            else:
                found = _managed(tx, org)
                rows = tx.uow.organization_invitations.list(organization_id=found.id)
            return [i for i in rows if wanted is None or i.status_at(tx.now) == wanted]

        return self._rt.read(self._actor, run)

    def accept_invitation(self, invitation_id: Any) -> OrganizationMembership:
        """The invited user joins with the invited role (platform admins and
        the host may accept for them); 422 unless the invitation is pending
        (``details["reason"]`` is ``"expired"`` past its expiry)."""

        def run(tx: Tx) -> OrganizationMembership:
            invitation = self._invitation(tx, invitation_id)
            policy.check_answer(tx.actor, invitation)
            accepted = invitation.answer(OrganizationInvitationStatus.ACCEPTED, tx.now)
            tx.uow.organization_invitations.update(accepted)
            return self._join(tx, invitation.organization_id, invitation.user_id, invitation.role)

        return self._rt.write(self._actor, run, action="organizations.accept_invitation")

    def decline_invitation(self, invitation_id: Any) -> OrganizationInvitation:
        """The invited user says no; 422 unless the invitation is pending and not expired."""

        def run(tx: Tx) -> OrganizationInvitation:
            invitation = self._invitation(tx, invitation_id)
            policy.check_answer(tx.actor, invitation)
            declined = invitation.answer(OrganizationInvitationStatus.DECLINED, tx.now)
            tx.uow.organization_invitations.update(declined)
            return declined

        return self._rt.write(self._actor, run, action="organizations.decline_invitation")

    def revoke_invitation(self, invitation_id: Any) -> OrganizationInvitation:
        """The organization's admins (or platform admins) withdraw a pending invitation."""

        def run(tx: Tx) -> OrganizationInvitation:
            invitation = self._invitation(tx, invitation_id)
            policy.check_manage(tx.actor, _membership(tx, invitation.organization_id))
            revoked = invitation.answer(OrganizationInvitationStatus.REVOKED, tx.now)
            tx.uow.organization_invitations.update(revoked)
            return revoked

        return self._rt.write(self._actor, run, action="organizations.revoke_invitation")

    def set_member_role(
        self, organization_id: Any, user_id: Any, role: Any
    ) -> OrganizationMembership:
        """Make a member an admin or back; the last admin stays (422)."""
        which = checks.choice("role", role, OrganizationRole)

        def run(tx: Tx) -> OrganizationMembership:
            found = _managed(tx, organization_id)
            current = self._member(tx, found.id, user_id)
            if which == OrganizationRole.MEMBER:
                self._keep_an_admin(tx, found, current)
            updated = attrs.evolve(current, role=which, updated_at=tx.now)
            tx.uow.organization_memberships.update(updated)
            audit.record(
                tx,
                "organization.member_role_changed",
                "organization",
                found.id,
                user_id=current.user_id,
                old=current.role,
                new=which,
            )
            return updated

        return self._rt.write(self._actor, run, action="organizations.set_member_role")

    def remove_member(self, organization_id: Any, user_id: Any) -> OrganizationMembership:
        """Remove a member (org admins, platform admins, or the member leaving);
        the last admin cannot leave (422)."""

        def run(tx: Tx) -> OrganizationMembership:
            found = _organization(tx.uow, organization_id)
            current = self._member(tx, found.id, user_id)
            if current.user_id != tx.actor.user_id:
                policy.check_manage(tx.actor, _membership(tx, found.id))
            self._keep_an_admin(tx, found, current)
            tx.uow.organization_memberships.delete(current.id)
            audit.record(
                tx, "organization.member_removed", "organization", found.id, user_id=current.user_id
            )
            return current

        return self._rt.write(self._actor, run, action="organizations.remove_member")

    @staticmethod
    def _member(tx: Tx, organization_id: str, user_id: Any) -> OrganizationMembership:
        key = checks.identifier("user_id", user_id)
        found = tx.uow.organization_memberships.find(organization_id=organization_id, user_id=key)
        if found is None:
            raise NotFound(
                "This user is not a member of the organization", details={"user_id": key}
            )
        return found

    @staticmethod
    def _invitation(tx: Tx, invitation_id: Any) -> OrganizationInvitation:
        key = checks.identifier("invitation_id", invitation_id)
        found = tx.uow.organization_invitations.get(key)
        if found is None:
            raise NotFound("Invitation not found", details={"invitation_id": key})
        return found

    @staticmethod
    def _check_not_member(tx: Tx, organization_id: str, user_id: str) -> None:
        if (
            tx.uow.organization_memberships.find(organization_id=organization_id, user_id=user_id)
            is not None
        ):
            raise Conflict(
                "This user already belongs to the organization", details={"user_id": user_id}
            )

    @staticmethod
    def _keep_an_admin(tx: Tx, org: Organization, membership: OrganizationMembership) -> None:
        """422 if ``membership`` is the last admin's. An admin stepping down also
        writes the organization (compare-and-set, unchanged): two admins stepping
        down at once cannot both commit, whichever admins each one counted."""
        if membership.role != OrganizationRole.ADMIN:
            return
        if len(_admins(tx.uow, membership.organization_id)) <= 1:
            raise BusinessRuleViolation("An organization keeps at least one admin")
        tx.uow.organizations.update(org)

    @staticmethod
    def _join(
        tx: Tx, organization_id: str, user_id: Any, role: OrganizationRole
    ) -> OrganizationMembership:
        user = records.active_user(tx.uow, user_id, "user_id")
        Organizations._check_not_member(tx, organization_id, user.id)
        membership = OrganizationMembership(
            id=new_id(),
            organization_id=organization_id,
            user_id=user.id,
            role=role,
            created_at=tx.now,
            updated_at=tx.now,
        )
        tx.uow.organization_memberships.add(membership)
        audit.record(
            tx,
            "organization.member_added",
            "organization",
            organization_id,
            user_id=user.id,
            role=role,
        )
        return membership
