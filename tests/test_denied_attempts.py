"""Denied attempts are audited: every ``Forbidden`` in a use case leaves one
entry (actor, action, target, time) written in its own short transaction; the
attempt itself changes nothing; the entries cannot flood the log nor carry the
caller's text."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from coachcore import to_dict
from coachcore.domain.entities import User
from coachcore.errors import Forbidden
from coachcore.services.runtime import denials
from coachcore.services.runtime.transaction import Tx, new_id
from world import World

DAY = date(2030, 1, 7)  # a Monday


def _denied(world: World) -> list[Any]:
    return world.sys.audit.denied(limit=500)


def test_a_denied_read_and_write_are_logged_for_admins(world: World) -> None:
    coach, _member, booking = world.first_booking(DAY)
    stranger, admin = world.member(), world.admin()
    before = world.sys.audit.list(limit=500)
    with pytest.raises(Forbidden):
        world.core.acting_as(stranger.id).sessions.get(booking.session_id)
    with pytest.raises(Forbidden):
        world.core.acting_as(stranger.id).sessions.complete(booking.session_id)
    write, read = sorted(_denied(world), key=lambda e: e.action)
    assert (read.actor_id, read.action, read.entity_id, read.created_at) == (
        stranger.id,
        "sessions.get",
        booking.session_id,
        world.clock.now(),
    )
    assert read.details == {"error": "Forbidden", "target_type": "session"}
    assert (write.actor_id, write.action) == (stranger.id, "sessions.complete")
    assert write.details["permission"] == "sessions:write"  # members lack it
    # nothing else was written: the log grew by these two entries only
    after = world.sys.audit.list(limit=500)
    assert {e.id for e in after} - {e.id for e in before} == {read.id, write.id}
    assert world.sys.sessions.get(booking.session_id).status == "scheduled"
    # admins list them; others may not (and that attempt is logged too)
    assert {e.id for e in world.core.acting_as(admin.id).audit.denied()} >= {read.id, write.id}
    with pytest.raises(Forbidden):
        world.core.acting_as(coach.id).audit.denied()
    assert [e.action for e in _denied(world) if e.actor_id == coach.id] == ["audit.denied"]


def test_the_denied_use_case_is_rolled_back(world: World) -> None:
    member = world.member()
    runtime = world.core._runtime

    def writes_then_is_refused(tx: Tx) -> None:
        tx.uow.users.add(
            User(
                id="smuggled",
                name="Smuggled",
                email="smuggled@example.com",
                role="admin",
                created_at=tx.now,
                updated_at=tx.now,
            )
        )
        raise Forbidden("no", details={"entity_type": "user", "entity_id": "smuggled"})

    with pytest.raises(Forbidden):
        runtime.write(member.id, writes_then_is_refused, action="users.create")
    assert [u.id for u in world.sys.users.list() if u.id == "smuggled"] == []
    (entry,) = _denied(world)
    assert (entry.actor_id, entry.action, entry.entity_id) == (
        member.id,
        "users.create",
        "smuggled",
    )


def test_a_deactivated_user_acting_is_logged(world: World) -> None:
    member = world.member()
    world.sys.users.deactivate(member.id)
    with pytest.raises(Forbidden):
        world.core.acting_as(member.id).sessions.list()
    (entry,) = _denied(world)
    assert (entry.actor_id, entry.action, entry.entity_id) == (
        member.id,
        "sessions.list",
        "sessions.list",
    )


def test_denied_attempts_cannot_flood_the_log(world: World) -> None:
    coach, member = world.coach(), world.member()
    others = [world.member() for _ in range(denials.PER_ACTOR + 10)]
    spy = world.core.acting_as(member.id)
    for _ in range(30):  # the same attempt again and again: logged once a window
        with pytest.raises(Forbidden):
            spy.members.get(others[0].id)
    assert len(_denied(world)) == 1
    for other in others:  # many targets: at most PER_ACTOR a window
        with pytest.raises(Forbidden):
            spy.members.get(other.id)
    assert len(_denied(world)) == denials.PER_ACTOR
    # another actor is not silenced by the first one
    with pytest.raises(Forbidden):
        world.core.acting_as(coach.id).members.get(others[0].id)
    assert len(_denied(world)) == denials.PER_ACTOR + 1
    # a window later the actor is logged again, still bounded
    world.advance(minutes=2)
    with pytest.raises(Forbidden):
        spy.members.get(others[0].id)
    assert len(_denied(world)) == denials.PER_ACTOR + 2


def test_no_caller_text_reaches_the_log(world: World) -> None:
    member, victim = world.member(), world.member()
    marker = "<script>MARKER</script>" * 80
    with pytest.raises(Forbidden):
        world.core.acting_as(member.id).users.update(victim.id, name=marker)
    with pytest.raises(Forbidden):
        world.core.acting_as(member.id).invitations.create(email="x@example.com", message=marker)
    entries = _denied(world)
    assert len(entries) == 2
    assert "MARKER" not in repr([to_dict(e) for e in entries])


def test_only_id_like_targets_and_known_words_are_kept() -> None:
    moment = datetime(2030, 1, 1, tzinfo=UTC)
    hostile = Forbidden(
        "x",
        details={
            "entity_type": "session\n<b>",
            "entity_id": "id\u202e<script>" + "x" * 100,
            "permission": "free text",
        },
    )
    entry = denials.entry("u1", "sessions.get", hostile, moment, new_id())
    assert (entry.entity_id, entry.details) == ("sessions.get", {"error": "Forbidden"})
    named = Forbidden("x", details={"entity_type": "session", "entity_id": "s-1"})
    kept = denials.entry("u1", "sessions.get", named, moment + timedelta(seconds=1), new_id())
    assert (kept.entity_id, kept.details["target_type"]) == ("s-1", "session")
