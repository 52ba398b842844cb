"""The member's data export: one JSON document, redacted for the requester."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

import coachcore
from backends import Backend
from coachcore.adapters.clock import FixedClock
from coachcore.errors import Forbidden, NotFound
from privacy_kit import KEY_A, open_with_keys
from world import World

NINE = datetime(2030, 1, 7, 9, tzinfo=UTC)  # a Monday
TOP_KEYS = {
    "schema",
    "version",
    "exported_at",
    "requested_by",
    "user",
    "profile",
    "coach",
    "sessions",
    "bookings",
    "ratings",
    "waitlist",
    "notifications",
    "conversations",
    "relationships",
    "invitations",
    "interest",
    "session_settings",
    "organizations",
    "organization_invitations",
    "action_plans",
    "action_items",
    "scores",
    "quick_notes",
    "documents",
    "audit",
}


def _member_with_history(w: World) -> tuple[coachcore.User, coachcore.User, str]:
    coach = w.coach()
    w.window(coach, 1, "09:00", "12:00")
    member = w.member(coach)
    as_member, as_coach = w.core.acting_as(member.id), w.core.acting_as(coach.id)
    as_member.members.update(member.id, goals="run 10k", health_info="asthma")
    as_coach.members.update(member.id, coach_notes="motivated")
    done = as_member.bookings.create(coach_id=coach.id, start=NINE, member_notes="knee")
    as_member.bookings.create(coach_id=coach.id, start=NINE + timedelta(days=7))
    w.clock.set(NINE + timedelta(hours=1))
    as_coach.sessions.complete(str(done.session_id), coach_notes="private", outcomes="plan")
    as_member.sessions.rate(str(done.session_id), rating=5, feedback="great")
    return coach, member, str(done.session_id)


def _check_document(doc: dict[str, object], member: coachcore.User) -> None:
    assert set(doc) == TOP_KEYS
    assert (doc["schema"], doc["version"]) == ("coachcore.member-export", 2)
    json.dumps(doc)  # JSON-ready as it is
    assert doc["user"]["id"] == member.id  # type: ignore[index]
    assert len(doc["sessions"]) == 2  # type: ignore[arg-type]
    assert len(doc["bookings"]) == 2  # type: ignore[arg-type]
    assert [r["feedback"] for r in doc["ratings"]] == ["great"]  # type: ignore[attr-defined]
    assert doc["notifications"] and doc["conversations"]


def test_a_member_exports_their_own_data_without_the_coach_notes(world: World) -> None:
    coach, member, done = _member_with_history(world)
    doc = world.core.acting_as(member.id).privacy.export()
    _check_document(doc, member)
    assert doc["requested_by"] == member.id
    assert doc["coach"] == {"id": coach.id, "name": coach.name}
    profile = doc["profile"]
    assert (profile["goals"], profile["health_info"], profile["coach_notes"]) == (
        "run 10k",
        "asthma",
        None,
    )
    session = next(s for s in doc["sessions"] if s["id"] == done)
    assert session["coach_notes"] is None  # redacted like sessions.get
    assert (session["member_notes"], session["outcomes"]) == ("knee", "plan")
    assert doc["exported_at"] == (NINE + timedelta(hours=1)).isoformat()


def test_an_admin_exports_any_member_with_everything(world: World) -> None:
    _, member, done = _member_with_history(world)
    admin = world.admin()
    doc = world.core.acting_as(admin.id).privacy.export(member.id)
    _check_document(doc, member)
    assert doc["profile"]["coach_notes"] == "motivated"
    session = next(s for s in doc["sessions"] if s["id"] == done)
    assert session["coach_notes"] == "private"
    assert world.sys.privacy.export(member.id)["requested_by"] == "system"


def test_nobody_else_may_export_a_member(world: World) -> None:
    coach, member, _ = _member_with_history(world)
    other = world.member(coach)
    with pytest.raises(Forbidden):
        world.core.acting_as(other.id).privacy.export(member.id)
    with pytest.raises(Forbidden):  # not even their coach
        world.core.acting_as(coach.id).privacy.export(member.id)
    with pytest.raises(NotFound):
        world.sys.privacy.export("no-such-member")
    with pytest.raises(NotFound):  # a coach is not a member
        world.sys.privacy.export(coach.id)


def test_export_reads_encrypted_fields_as_plain_text(backend: Backend) -> None:
    clock = FixedClock(NINE - timedelta(days=1))
    w = World(open_with_keys(backend, [KEY_A], clock), clock)
    _, member, _ = _member_with_history(w)
    doc = w.core.acting_as(member.id).privacy.export()
    assert doc["profile"]["health_info"] == "asthma"
    assert "enc:v" not in json.dumps(doc)


def _sister_records(w: World, coach: coachcore.User, member: coachcore.User, done: str) -> None:
    """One record of each sister system about the member."""
    as_member, as_coach = w.core.acting_as(member.id), w.core.acting_as(coach.id)
    as_member.session_settings.update(shared_context="night shifts")
    as_member.documents.upload(
        title="Plan", filename="plan.txt", content=b"stretch daily", member_id=member.id
    )
    plan = as_coach.action_plans.create(member_id=member.id, title="Spring")
    as_coach.action_items.create(member_id=member.id, plan_id=plan.id, title="Stretch")
    as_coach.quick_notes.create(member_id=member.id, body="seems tired")
    as_coach.scores.record(done, current_score=60)
    org = w.sys.organizations.create(name="Acme", kind="client_company")
    w.sys.organizations.add_member(org.id, member.id)
    other = w.sys.organizations.create(name="Beta", kind="client_company")
    w.sys.organizations.invite(other.id, member.id)


def test_the_export_holds_the_sister_systems_records_and_the_audit_trail(world: World) -> None:
    coach, member, done = _member_with_history(world)
    _sister_records(world, coach, member, done)
    admin = world.admin()
    world.core.acting_as(admin.id).members.get(member.id)  # a sensitive read, audited
    mine = world.core.acting_as(member.id).privacy.export()
    _check_document(mine, member)
    assert mine["session_settings"]["shared_context"] == "night shifts"
    assert [d["extracted_text"] for d in mine["documents"]] == ["stretch daily"]
    assert [p["title"] for p in mine["action_plans"]] == ["Spring"]
    assert [i["title"] for i in mine["action_items"]] == ["Stretch"]
    assert [s["current_score"] for s in mine["scores"]] == [60]
    assert len(mine["organizations"]) == 1
    assert [i["status"] for i in mine["organization_invitations"]] == ["pending"]
    assert mine["quick_notes"] == []  # the coach's private notes stay private
    actions = [(e["actor_id"], e["action"]) for e in mine["audit"]]
    assert (member.id, "bookings.create") in actions  # by the member
    assert (admin.id, "member.sensitive_read") in actions  # about the member
    assert (coach.id, "sessions.complete") in actions  # about their session, by the coach
    stamps = [(e["created_at"], e["id"]) for e in mine["audit"]]
    assert stamps == sorted(stamps)
    full = world.core.acting_as(admin.id).privacy.export(member.id)
    assert [n["body"] for n in full["quick_notes"]] == ["seems tired"]
