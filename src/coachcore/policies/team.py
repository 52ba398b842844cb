"""What a manager may read about the people who report to them, as pure functions.

``manages`` tells whether the actor is above the user in the reporting lines
(the services look it up). A manager reads what their reports' coaching
produced (sessions without private notes, action items, scores) and nothing
else: no profiles, notes, documents or conversations.
"""

from __future__ import annotations

from coachcore.policies.roles import Actor, denied


def check_read_team(actor: Actor, manager_id: str) -> None:
    """A team's overview: its manager (with ``team:read``), or an admin."""
    actor.require("team:read")
    if not (actor.sees_all or actor.user_id == manager_id):
        raise denied("You may only read your own team", "user", manager_id)


def check_read_report(actor: Actor, user_id: str, manages: bool) -> None:
    """One report's coaching results: someone they report to, or an admin."""
    actor.require("team:read")
    if not (actor.sees_all or manages):
        raise denied("This user does not report to you", "user", user_id)
