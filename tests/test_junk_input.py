"""Junk fed to every public method, and to every option of ``coachcore.open``,
yields only CoachCoreError subclasses, on every store."""

from __future__ import annotations

import inspect
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import coachcore
from backends import Backend
from coachcore.adapters.clock import FixedClock
from coachcore.adapters.sqlalchemy.store import SqlStore
from coachcore.errors import CoachCoreError, ValidationFailed
from world import World

EDGES = [
    "",
    " ",
    "x" * 20_000,
    "'; DROP TABLE users;--",
    "\x00",
    "x\ud800",  # a lone surrogate: not encodable as UTF-8
    "\udfff@example.com",
    "Europe/\ud800",
    "<script>",
    "24:00",
    "25:61",
    "Not/AZone",
    "unknown-id",
    datetime(1, 1, 1, tzinfo=UTC),
    datetime(9999, 12, 31, 23, 59, tzinfo=UTC),
    datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=14))),
    datetime(9999, 12, 31, 23, 59, tzinfo=timezone(timedelta(hours=-14))),
    datetime(2030, 1, 7, 10),  # naive
    date(1, 1, 1),
    date(9999, 12, 31),
]

JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True),
    st.text(st.characters(exclude_categories=()), max_size=30),  # surrogates included
    st.sampled_from(EDGES),
    st.binary(max_size=8),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    st.just(object()),
    st.datetimes(),  # naive, years 1 to 9999
    st.datetimes(timezones=st.sampled_from([UTC, timezone(timedelta(hours=-14))])),
    st.dates(),
)

# (scope, method, positional args, keyword args) with valid-looking defaults;
# "$x" placeholders are replaced by ids from the world.
CALLS: list[tuple[str, str, str, tuple[Any, ...], dict[str, Any]]] = [
    ("system", "users", "create", (), {"name": "N", "email": "n@example.com", "role": "coach"}),
    ("system", "users", "get", ("$member",), {}),
    ("system", "users", "update", ("$member",), {"name": "New"}),
    ("system", "users", "deactivate", ("$other",), {}),
    (
        "system",
        "",
        "signup_member",
        (),
        {"name": "S", "email": "s@example.com", "coach_id": "$coach"},
    ),
    ("coach", "members", "list", (), {"search": "a", "offset": 0, "limit": 10}),
    ("coach", "members", "get", ("$member",), {}),
    ("coach", "members", "update", ("$member",), {"goals": "g", "membership_status": "active"}),
    ("system", "members", "assign_coach", ("$member", "$coach"), {}),
    ("coach", "members", "set_onboarding_status", ("$member", "completed"), {}),
    ("member", "coaches", "list_accepting", (), {}),
    ("member", "coaches", "get", ("$coach",), {}),
    ("coach", "coaches", "update", ("$coach",), {"max_members": 5, "specialization": "x"}),
    (
        "coach",
        "availability",
        "create",
        (),
        {
            "day_of_week": 3,
            "start_time": "13:00",
            "end_time": "14:00",
            "max_sessions_per_slot": 1,
            "buffer_minutes": 0,
        },
    ),
    ("coach", "availability", "update", ("$window",), {"end_time": "12:00"}),
    ("coach", "availability", "delete", ("$window",), {}),
    ("coach", "availability", "list", ("$coach",), {}),
    (
        "member",
        "availability",
        "available_slots",
        ("$coach",),
        {"start_date": date(2030, 1, 7), "end_date": date(2030, 1, 8), "duration": 60},
    ),
    (
        "member",
        "bookings",
        "create",
        (),
        {"coach_id": "$coach", "start": datetime(2030, 1, 7, 10, tzinfo=UTC), "duration": 60},
    ),
    ("member", "bookings", "get", ("$booking",), {}),
    ("member", "bookings", "list", (), {"status": "confirmed"}),
    ("member", "bookings", "cancel", ("$booking",), {"reason": "r"}),
    (
        "coach",
        "sessions",
        "create",
        (),
        {
            "member_id": "$member",
            "coach_id": "$coach",
            "scheduled_at": datetime(2030, 2, 1, 10, tzinfo=UTC),
            "duration": 60,
            "type": "initial",
        },
    ),
    ("member", "sessions", "get", ("$session",), {}),
    ("coach", "sessions", "list", (), {"status": "scheduled", "member_id": "$member"}),
    ("member", "sessions", "upcoming", (), {"limit": 3}),
    (
        "coach",
        "sessions",
        "update",
        ("$session",),
        {"scheduled_at": datetime(2030, 1, 9, 10, tzinfo=UTC), "duration": 30},
    ),
    ("coach", "sessions", "complete", ("$session",), {"coach_notes": "n", "outcomes": "o"}),
    ("member", "sessions", "cancel", ("$session",), {"reason": "r"}),
    ("coach", "sessions", "add_coach_notes", ("$session", "n"), {}),
    ("member", "sessions", "add_member_notes", ("$session", "n"), {}),
    ("member", "sessions", "rate", ("$session",), {"rating": 5, "feedback": "f"}),
    ("member", "dashboards", "member", ("$member",), {}),
    ("coach", "dashboards", "coach", ("$coach",), {}),
    ("member", "conversations", "list", (), {}),
    ("member", "notifications", "list", (), {}),
    ("system", "outbox", "retry", ("unknown",), {}),
    (
        "member",
        "documents",
        "upload",
        (),
        {"title": "t", "filename": "n.txt", "content": b"x", "description": "d"},
    ),
    ("member", "documents", "list", (), {"search": "s", "member_id": "$member"}),
    ("member", "conversations", "list", (), {}),
]


def _world(backend: Backend) -> tuple[World, dict[str, str]]:
    clock = FixedClock(datetime(2030, 1, 1, 8, tzinfo=UTC))
    world = World(backend.open(clock), clock)
    coach = world.coach()
    member = world.member(coach)
    other = world.member(coach)
    window = world.window(coach, 1, "09:00", "12:00", max_sessions_per_slot=2)
    booking = world.book(member, coach, datetime(2030, 1, 7, 9, tzinfo=UTC))
    ids = {
        "$coach": coach.id,
        "$member": member.id,
        "$other": other.id,
        "$window": window.id,
        "$booking": booking.id,
        "$session": booking.session_id or "",
    }
    return world, ids


def _scope(world: World, ids: dict[str, str], who: str) -> Any:
    if who == "system":
        return world.sys
    return world.core.acting_as(ids["$" + who])


@settings(max_examples=300)
@given(
    call=st.sampled_from(CALLS),
    position=st.integers(min_value=0, max_value=10),
    junk=JUNK,
)
def test_junk_raises_only_coachcore_errors(
    backend: Backend,
    call: tuple[str, str, str, tuple[Any, ...], dict[str, Any]],
    position: int,
    junk: Any,
) -> None:
    world, ids = _world(backend)
    who, area, method, args, kwargs = call
    real_args = [ids.get(a, a) if isinstance(a, str) else a for a in args]
    real_kwargs = {k: ids.get(v, v) if isinstance(v, str) else v for k, v in kwargs.items()}
    slots = len(real_args) + len(real_kwargs)
    if slots:
        at = position % slots
        if at < len(real_args):
            real_args[at] = junk
        else:
            real_kwargs[list(real_kwargs)[at - len(real_args)]] = junk
    target = _scope(world, ids, who)
    if area:
        target = getattr(target, area)
    try:
        getattr(target, method)(*real_args, **real_kwargs)
    except CoachCoreError as error:
        assert 400 <= error.status_code < 600
        assert set(error.to_dict()) == {"statusCode", "message", "error", "details"}


@given(junk=JUNK)
def test_junk_actor_ids_and_urls(backend: Backend, junk: Any) -> None:
    world, _ = _world(backend)
    for attempt in (
        lambda: world.core.acting_as(junk).sessions.upcoming(),
        lambda: coachcore.open(junk),
    ):
        try:
            attempt()
        except CoachCoreError as error:
            assert error.status_code in (400, 403, 404)


OPTIONS = [name for name in inspect.signature(coachcore.open).parameters if name != "url"]
OPTION_JUNK = st.one_of(
    JUNK,
    st.sampled_from(
        [
            "admin",
            {"x": 5},
            {"x": None},
            {"x": ["nope"]},
            {5: ["users:read"]},
            {"x": {"permissions": 5}},
            {"x": {"permissions": [5], "inherits": [None]}},
            [None],
            ["", "x"],
            [b"k"],
            [object()],
            (object(), object()),
            ["x\ud800"],
            -1,
            0,
            10**9,
        ]
    ),
)


@settings(max_examples=200)
@given(option=st.sampled_from(OPTIONS), junk=OPTION_JUNK)
def test_junk_options_of_open(backend: Backend, option: str, junk: Any) -> None:
    """Every option of ``coachcore.open`` (found from its signature) given junk
    is refused with ValidationFailed or accepted; the core then works."""
    try:
        core = coachcore.open(backend.url(), **{option: junk})
    except ValidationFailed:
        return
    try:
        coach = core.system.users.create(name="C", email="c@example.com", role="coach")
        core.system.outbox.dispatch()
        assert core.system.users.get(coach.id) == coach
    except CoachCoreError:
        pass  # e.g. a store left by another example: still a coachcore error
    finally:
        core.close()


@pytest.mark.parametrize("option", ["schema", "table_prefix", "retries"])
@given(junk=OPTION_JUNK)
def test_junk_options_of_the_sql_store(option: str, junk: Any) -> None:
    try:
        store = SqlStore.from_url("sqlite://", **{option: junk})
    except CoachCoreError:  # ValidationFailed, or StoreError for an unknown schema
        return
    store.close()


SURROGATE = "x\ud800"


def _calls(scope: Any, ids: dict[str, str], value: Any) -> list[tuple[str, Any, dict[str, Any]]]:
    """For every public method of every area of ``scope`` and every parameter:
    that parameter ``value``, the ids the world has for the others (the
    remaining required ones ``value`` too)."""
    calls = []
    for area_name, area in sorted(vars(scope).items()):
        if area_name.startswith("_") or isinstance(area, str):
            continue
        for name, method in inspect.getmembers(area, inspect.ismethod):
            if name.startswith("_"):
                continue
            params = inspect.signature(method).parameters.values()
            known = {p.name: ids[p.name] for p in params if p.name in ids}
            required = [p.name for p in params if p.default is inspect.Parameter.empty]
            for target in sorted(
                p.name for p in params if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)
            ):
                kwargs = {**known, **{r: value for r in required if r not in known}}
                kwargs[target] = value
                calls.append((f"{area_name}.{name}({target}=...)", method, kwargs))
    return calls


@pytest.mark.parametrize(
    "value",
    [
        SURROGATE,
        datetime(1, 1, 1, tzinfo=UTC),
        datetime(9999, 12, 31, 23, 59, tzinfo=UTC),
        date(1, 1, 1),
        date(9999, 12, 31),
    ],
    ids=["surrogate", "datetime_min", "datetime_max", "date_min", "date_max"],
)
def test_extreme_values_in_any_parameter_of_any_method(backend: Backend, value: Any) -> None:
    """Every parameter of every public method (found by introspection, not a
    hand-kept list) given a lone surrogate or an extreme date raises only
    CoachCoreErrors, on every store; a lone surrogate is never accepted."""
    world, made = _world(backend)
    ids = {
        "member_id": made["$member"],
        "coach_id": made["$coach"],
        "user_id": made["$other"],
        "window_id": made["$window"],
        "booking_id": made["$booking"],
        "session_id": made["$session"],
    }
    scopes = {"system": world.sys, "member": world.core.acting_as(made["$member"])}
    escaped: list[str] = []
    tried = 0
    for who, scope in scopes.items():
        for label, method, kwargs in _calls(scope, ids, value):
            try:
                method(**kwargs)
            except CoachCoreError:
                tried += 1
                continue
            except Exception as error:
                escaped.append(f"{who} {label}: {type(error).__name__}: {error}"[:200])
                continue
            if value == SURROGATE:
                escaped.append(f"{who} {label}: accepted a lone surrogate")
            tried += 1
    assert escaped == []
    assert tried > 200  # the introspection found the API
