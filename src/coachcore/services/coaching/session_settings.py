"""Member session settings: stored per member, changed by the member, and
honoured by the member policies ("share context with my coach")."""

from __future__ import annotations

from typing import Any

import attrs

from coachcore.domain import checks
from coachcore.domain.entities import MemberProfile
from coachcore.domain.relations import MemberSessionSettings
from coachcore.errors import Forbidden
from coachcore.policies import access
from coachcore.ports.storage import UnitOfWork
from coachcore.services.coaching.relationships import active_between
from coachcore.services.compliance import audit
from coachcore.services.runtime import records
from coachcore.services.runtime.transaction import Tx, UseCases

_UNSET: Any = object()


def settings_of(uow: UnitOfWork, member_id: str) -> MemberSessionSettings:
    """The member's stored settings, or the defaults."""
    return uow.session_settings.get(member_id) or MemberSessionSettings(member_id=member_id)


def shares_context(uow: UnitOfWork, member_id: str) -> bool:
    return settings_of(uow, member_id).share_context_with_coach


def coaches(uow: UnitOfWork, coach_id: str, profile: MemberProfile) -> bool:
    """The coach is the member's primary coach or in an active relationship with them."""
    return profile.coach_id == coach_id or active_between(uow, coach_id, profile.user_id)


def related(tx: Tx, profile: MemberProfile) -> bool:
    """True if the actor coaches the member through an active relationship."""
    actor = tx.actor
    if actor.sees_all or actor.user_id in (profile.user_id, profile.coach_id):
        return False
    return active_between(tx.uow, actor.user_id, profile.user_id)


def redacted(tx: Tx, profile: MemberProfile) -> MemberProfile:
    """The profile as the actor may see it, honouring the member's sharing setting."""
    actor = tx.actor
    if actor.sees_all or actor.user_id == profile.user_id:
        return access.redact_member(actor, profile)
    return access.redact_member(actor, profile, shares_context(tx.uow, profile.user_id))


def visible_settings(tx: Tx, settings: MemberSessionSettings) -> MemberSessionSettings:
    """Coaches see the shared context only while sharing is on."""
    if tx.actor.sees_all or tx.actor.user_id == settings.member_id:
        return settings
    if settings.share_context_with_coach:
        return settings
    return attrs.evolve(settings, shared_context=None)


class SessionSettings(UseCases):
    """``scope.session_settings``: a member's session preferences."""

    def get(self, member_id: Any = None) -> MemberSessionSettings:
        """The member's settings (``member_id`` defaults to the actor): the member
        and admins see everything; the member's coaches (primary or in an active
        relationship) see ``shared_context`` only while sharing is on."""
        who = checks.optional_identifier("member_id", member_id)

        def run(tx: Tx) -> MemberSessionSettings:
            profile = records.member(tx.uow, who or tx.actor.user_id)
            actor = tx.actor
            own = actor.sees_all or actor.user_id == profile.user_id
            coach = actor.can("members:read") and coaches(tx.uow, actor.user_id, profile)
            if not (own or coach):
                raise Forbidden("You may not access this member's settings")
            return visible_settings(tx, settings_of(tx.uow, profile.user_id))

        return self._rt.read(self._actor, run)

    def update(
        self,
        member_id: Any = None,
        *,
        share_context_with_coach: Any = _UNSET,
        shared_context: Any = _UNSET,
    ) -> MemberSessionSettings:
        """Changed by the member themself (admins and the system scope may too)."""
        who = checks.optional_identifier("member_id", member_id)
        changes: dict[str, Any] = {}
        if share_context_with_coach is not _UNSET:
            changes["share_context_with_coach"] = checks.boolean(
                "share_context_with_coach", share_context_with_coach
            )
        if shared_context is not _UNSET:
            changes["shared_context"] = checks.text("shared_context", shared_context)

        def run(tx: Tx) -> MemberSessionSettings:
            profile = records.member(tx.uow, who or tx.actor.user_id)
            if not (tx.actor.sees_all or tx.actor.user_id == profile.user_id):
                raise Forbidden("Only the member changes their session settings")
            stored = tx.uow.session_settings.get(profile.user_id)
            if stored is None:
                settings = MemberSessionSettings(
                    member_id=profile.user_id, created_at=tx.now, updated_at=tx.now, **changes
                )
                tx.uow.session_settings.add(settings)
            else:
                settings = attrs.evolve(stored, updated_at=tx.now, **changes)
                tx.uow.session_settings.update(settings)
            # the shared context is sensitive: the log names the field, not its text
            flags = {k: v for k, v in changes.items() if k == "share_context_with_coach"}
            audit.record(
                tx,
                "session_settings.changed",
                "member",
                settings.member_id,
                fields=sorted(changes),
                **flags,
            )
            return settings

        return self._rt.write(self._actor, run, action="sessionsettings.update")
