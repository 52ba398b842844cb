"""The audit log (issue 8.7): changes are recorded in the same transaction, and
only admins read them. (Setting up users records generic entries too; the
assertions here look at the relationship and invitation entries.)"""

from __future__ import annotations

from datetime import timedelta

import pytest

from coachcore.errors import Forbidden, ValidationFailed
from world import World


def test_changes_are_recorded_and_admins_read_them(world: World) -> None:
    coach, member, admin = world.coach(), world.member(), world.admin()
    rel = world.core.acting_as(coach.id).relationships.request(
        coach_id=coach.id, member_id=member.id
    )
    world.advance(minutes=1)
    world.core.acting_as(member.id).relationships.accept(rel.id)
    world.advance(minutes=1)
    issued = world.core.acting_as(coach.id).invitations.create(email="new@example.com")
    log = world.core.acting_as(admin.id).audit
    sister = {"relationship", "invitation"}
    entries = [e for e in log.list() if e.entity_type in sister]
    assert [e.action for e in entries] == [
        "invitation.created",
        "relationship.status_changed",
        "relationship.created",
    ]
    changed = entries[1]
    assert (changed.actor_id, changed.entity_type, changed.entity_id) == (
        member.id,
        "relationship",
        rel.id,
    )
    assert changed.details == {"old": "pending", "new": "active"}
    assert issued.token not in str(entries[0].details)  # never secrets
    assert [e.action for e in log.list(entity_id=rel.id)] == [
        "relationship.status_changed",
        "relationship.created",
    ]
    assert [e.action for e in log.list(actor_id=member.id)] == ["relationship.status_changed"]
    assert [e.action for e in log.list(entity_type="invitation")] == ["invitation.created"]
    start = entries[-1].created_at
    later = log.list(since=start + timedelta(minutes=1))
    assert [e.action for e in later] == ["invitation.created", "relationship.status_changed"]
    assert len(log.list(until=start + timedelta(minutes=1), entity_type="relationship")) == 1
    assert len(log.list(limit=1)) == 1
    with pytest.raises(ValidationFailed):
        log.list(limit=0)
    for who in (coach, member):
        with pytest.raises(Forbidden):
            world.core.acting_as(who.id).audit.list()


def test_a_failed_change_leaves_no_entry(world: World) -> None:
    coach, member = world.coach(), world.member()
    rel = world.sys.relationships.request(coach_id=coach.id, member_id=member.id)
    before = world.sys.audit.list()
    with pytest.raises(Exception):  # noqa: B017 - any failure rolls the entry back
        world.sys.relationships.set_status(rel.id, "completed")
    assert world.sys.audit.list() == before
    world.sys.users.deactivate(member.id)
    before = world.sys.audit.list()  # the deactivation has its own entry
    assert "users.deactivate" in [e.action for e in before]
    with pytest.raises(Exception):  # noqa: B017
        world.sys.relationships.accept(rel.id)
    assert world.sys.audit.list() == before


def test_every_sister_system_writes_the_log(world: World) -> None:
    coach = world.coach()
    member = world.member(coach)
    world.core.acting_as(member.id).session_settings.update(share_context_with_coach=False)
    org = world.core.acting_as(coach.id).organizations.create(name="P", kind="coach_practice")
    item = world.core.acting_as(coach.id).action_items.create(member_id=member.id, title="x")
    world.core.acting_as(member.id).action_items.complete(item.id)
    world.core.acting_as(coach.id).quick_notes.create(member_id=member.id, body="n")
    lonely = world.member()
    sent = world.core.acting_as(lonely.id).interest.submit(goals="g")
    world.sys.interest.mark_handled(sent.id)
    actions = {e.action for e in world.sys.audit.list(limit=500)}
    assert {
        "session_settings.changed",
        "organization.created",
        "organization.member_added",
        "action_item.created",
        "action_item.status_changed",
        "quick_note.created",
        "interest.submitted",
        "interest.handled",
    } <= actions
    assert [e.entity_id for e in world.sys.audit.list(entity_type="organization")] == [org.id] * 2


# The audit action of every command, as each declares it (``Runtime.write(...,
# action=...)``): what the log records, which renaming code must not change.
ACTIONS = {
    "actionitems.create", "actionitems.set_status", "actionitems.update", "actionplans.create",
    "audit.purge", "availability.create", "availability.delete", "availability.update",
    "bookings.cancel",
    "bookings.create", "bookings.reschedule", "coaches.update", "documents.delete",
    "documents.update", "documents.upload", "interest.mark_handled", "interest.submit",
    "invitations.accept", "invitations.create", "invitations.decline", "invitations.revoke",
    "members.assign_coach", "members.set_onboarding_status", "members.update",
    "organizations.accept_invitation", "organizations.add_member", "organizations.create",
    "organizations.decline_invitation", "organizations.invite",
    "organizations.remove_member", "organizations.revoke_invitation",
    "organizations.set_member_role", "organizations.update", "outbox.purge", "outbox.retry",
    "privacy.erase", "privacy.purge", "quicknotes.create", "quicknotes.delete", "quicknotes.update",
    "relationships.decline", "relationships.request", "relationships.set_status",
    "relationships.withdraw", "reminders.send_due",
    "scheduling.add_override", "scheduling.remove_override", "scheduling.set_rules",
    "scope.signup_member", "scores.record", "sessions.add_coach_notes",
    "sessions.add_member_notes", "sessions.cancel", "sessions.complete", "sessions.create",
    "sessions.prepare", "sessions.rate", "sessions.update", "sessionsettings.update",
    "users.create", "users.change_role", "users.deactivate", "users.set_manager", "users.update",
    "waitlist.join", "waitlist.leave",
    "waitlistjobs.release_expired",
}  # fmt: skip


def test_a_write_cannot_be_called_without_its_action() -> None:
    import inspect

    from coachcore.services.runtime.transaction import Runtime

    action = inspect.signature(Runtime.write).parameters["action"]
    assert action.kind is inspect.Parameter.KEYWORD_ONLY
    assert action.default is inspect.Parameter.empty  # required: mypy checks every call


def test_every_command_declares_its_action_as_a_literal() -> None:
    """Each ``….write(...)`` of the runtime in services/ names its action in the
    call, as a string literal; each action is used once, and the set is the
    audit log's vocabulary above."""
    import ast
    from pathlib import Path

    services = Path(__file__).resolve().parent.parent / "src" / "coachcore" / "services"
    declared, missing = [], []
    for path in sorted(services.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            if node.func.attr != "write" or not ast.unparse(node.func.value).endswith("rt"):
                continue
            action = next((k.value for k in node.keywords if k.arg == "action"), None)
            if isinstance(action, ast.Constant) and isinstance(action.value, str):
                declared.append(action.value)
            else:
                missing.append(f"{path.name}:{node.lineno}")
    assert missing == []
    assert sorted(declared) == sorted(set(declared))
    assert set(declared) == ACTIONS
