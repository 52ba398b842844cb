"""Scopes: the public API seen by one actor (``core.acting_as(id)`` / ``core.system``)."""

from __future__ import annotations

from typing import Any

from coachcore.domain.entities import User
from coachcore.services.accounts.coaches import Coaches
from coachcore.services.accounts.dashboards import Dashboards
from coachcore.services.accounts.members import Members, signup
from coachcore.services.accounts.organizations import Organizations
from coachcore.services.accounts.users import Users
from coachcore.services.coaching.interest import Interest
from coachcore.services.coaching.invitations import Invitations
from coachcore.services.coaching.relationships import Relationships
from coachcore.services.coaching.session_settings import SessionSettings
from coachcore.services.compliance.audit import Audit
from coachcore.services.compliance.privacy import Privacy
from coachcore.services.delivery.conversations import Conversations
from coachcore.services.delivery.notifications import Notifications
from coachcore.services.delivery.outbox import Dispatcher, Outbox
from coachcore.services.hub.action_items import ActionItems, ActionPlans
from coachcore.services.hub.documents import Documents
from coachcore.services.hub.quick_notes import QuickNotes
from coachcore.services.hub.scores import Scores
from coachcore.services.hub.team import Team
from coachcore.services.runtime import records
from coachcore.services.runtime.transaction import Runtime, Tx
from coachcore.services.scheduling.availability import Availability
from coachcore.services.scheduling.bookings import Bookings
from coachcore.services.scheduling.reminders import Reminders
from coachcore.services.scheduling.rules import Scheduling
from coachcore.services.scheduling.sessions import Sessions
from coachcore.services.scheduling.waitlist import Waitlist, WaitlistJobs


class Scope:
    """Every call made through a scope is checked against the actor's policies.

    Scopes are cheap: make one per request with ``core.acting_as(user_id)``.
    """

    def __init__(self, rt: Runtime, actor_id: str) -> None:
        self._rt = rt
        self.actor_id = actor_id
        self.users = Users(rt, actor_id)
        self.members = Members(rt, actor_id)
        self.coaches = Coaches(rt, actor_id)
        self.availability = Availability(rt, actor_id)
        self.scheduling = Scheduling(rt, actor_id)
        self.bookings = Bookings(rt, actor_id)
        self.waitlist = Waitlist(rt, actor_id)
        self.sessions = Sessions(rt, actor_id)
        self.dashboards = Dashboards(rt, actor_id)
        self.conversations = Conversations(rt, actor_id)
        self.notifications = Notifications(rt, actor_id)
        self.relationships = Relationships(rt, actor_id)
        self.invitations = Invitations(rt, actor_id)
        self.interest = Interest(rt, actor_id)
        self.session_settings = SessionSettings(rt, actor_id)
        self.organizations = Organizations(rt, actor_id)
        self.action_plans = ActionPlans(rt, actor_id)
        self.action_items = ActionItems(rt, actor_id)
        self.quick_notes = QuickNotes(rt, actor_id)
        self.scores = Scores(rt, actor_id)
        self.team = Team(rt, actor_id)
        self.audit = Audit(rt, actor_id)
        self.documents = Documents(rt, actor_id)
        self.privacy = Privacy(rt, actor_id)

    def signup_member(
        self,
        *,
        name: Any,
        email: Any,
        coach_id: Any = None,
        goals: Any = None,
        timezone: Any = "UTC",
    ) -> User:
        """Sign up a member: a Member user, a pending profile, and the chosen coach
        if accepting and under capacity (with a conversation and a notification)."""

        def run(tx: Tx) -> User:
            tx.actor.require("users:write")
            profile = signup(
                tx,
                self._rt.roles,
                name=name,
                email=email,
                coach_id=coach_id,
                goals=goals,
                timezone=timezone,
            )
            return records.user(tx.uow, profile.user_id)

        return self._rt.write(self.actor_id, run, action="scope.signup_member")


class SystemScope(Scope):
    """Full rights, for host jobs and setup; adds ``reminders``, ``outbox`` and
    the waitlist job (``system.waitlist.release_expired()``)."""

    waitlist: WaitlistJobs

    def __init__(self, rt: Runtime, actor_id: str, dispatcher: Dispatcher) -> None:
        super().__init__(rt, actor_id)
        self.waitlist = WaitlistJobs(rt, actor_id)
        self.reminders = Reminders(rt, actor_id)
        self.outbox = Outbox(rt, actor_id, dispatcher)
