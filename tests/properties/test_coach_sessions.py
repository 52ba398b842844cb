"""Coach-made sessions respect the slot rules a booking meets, unless overridden on purpose."""

from __future__ import annotations

import contextlib
from datetime import date, timedelta
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from propkit import World, raises

from coachcore.errors import BusinessRuleViolation, SlotFull, ValidationFailed

FIRST, LAST = date(2030, 1, 2), date(2030, 1, 12)  # "now" is Tuesday 2030-01-01 08:00 UTC
WAYS = st.lists(st.sampled_from(["booking", "coach", "admin"]), min_size=1, max_size=6)


def _place(w: World, way: str, coach: Any, member: Any, start: Any, admin: Any) -> Any:
    if way == "booking":
        return w.book(member, coach, start)
    by = coach if way == "coach" else admin
    return w.as_(by).sessions.create(member_id=member.id, coach_id=coach.id, scheduled_at=start)


def _scheduled_at(w: World, coach: Any, start: Any) -> int:
    return sum(
        1
        for s in w.sys.sessions.list(coach_id=coach.id, limit=500)
        if s.status == "scheduled" and s.scheduled_at == start
    )


def _world(w: World, capacity: int) -> tuple[Any, Any]:
    return w.coach_with_mornings(capacity), w.admin()


@given(data=st.data(), capacity=st.integers(1, 3), ways=WAYS)
def test_no_slot_holds_more_scheduled_sessions_than_its_capacity(
    backend: Any, data: Any, capacity: int, ways: list[str]
) -> None:
    with World(backend) as w:
        coach, admin = _world(w, capacity)
        slot = data.draw(st.sampled_from(w.slots(coach, FIRST, LAST)), label="slot")
        for way in ways:
            member = w.member(coach)
            with contextlib.suppress(SlotFull):
                _place(w, way, coach, member, slot.start, admin)
            assert _scheduled_at(w, coach, slot.start) <= capacity
        assert _scheduled_at(w, coach, slot.start) == min(capacity, len(ways))


@given(data=st.data())
def test_a_coach_cannot_move_a_session_into_a_full_slot(backend: Any, data: Any) -> None:
    with World(backend) as w:
        coach, _ = _world(w, 1)
        full, free = w.distinct_slots(data, coach, FIRST, LAST)
        w.book(w.member(coach), coach, full.start)
        member = w.member(coach)
        session = w.as_(coach).sessions.create(
            member_id=member.id, coach_id=coach.id, scheduled_at=free.start
        )
        raises(SlotFull, w.as_(coach).sessions.update, session.id, scheduled_at=full.start)
        assert _scheduled_at(w, coach, full.start) == 1
        assert w.sys.sessions.get(session.id).scheduled_at == free.start
        # Changing only the type keeps the session where it is, with no check to meet.
        w.as_(coach).sessions.update(session.id, type="followup")


@given(data=st.data(), by_admin=st.booleans())
def test_an_override_places_a_session_on_purpose_and_is_audited(
    backend: Any, data: Any, by_admin: bool
) -> None:
    with World(backend) as w:
        coach, admin = _world(w, 1)
        slot = data.draw(st.sampled_from(w.slots(coach, FIRST, LAST)), label="slot")
        w.book(w.member(coach), coach, slot.start)
        member, by = w.member(coach), admin if by_admin else coach
        create = w.as_(by).sessions.create
        args = {"member_id": member.id, "coach_id": coach.id, "scheduled_at": slot.start}
        raises(SlotFull, create, **args)
        raises(ValidationFailed, create, **args, override=True)  # no reason given
        raises(ValidationFailed, create, **args, override=True, override_reason="  ")
        session = create(**args, override=True, override_reason="member travels from afar")
        assert _scheduled_at(w, coach, slot.start) == 2
        entries = [
            e for e in w.sys.audit.list(entity_id=session.id) if e.action == "sessions.create"
        ]
        assert [e.details.get("override_reason") for e in entries] == ["member travels from afar"]
        assert entries[0].actor_id == by.id
        off_grid = slot.start + timedelta(hours=12)  # outside every window
        raises(BusinessRuleViolation, create, **{**args, "scheduled_at": off_grid})
        raises(BusinessRuleViolation, create, **{**args, "scheduled_at": w.now - timedelta(days=1)})
