"""The memory store and the SQL stores agree: same operations, same outcomes, same views.

A hypothesis state machine drives two cores side by side, the reference memory
store and one SQL store (``TestStoreAgreement_sqlite``,
``TestStoreAgreement_postgresql``), each with its own FixedClock moved in
step. Each step draws one operation (by weight, see ``WEIGHTS``) and makes the
same call on both: member signup (an address already taken too), coaches,
assignment, coach capacity, membership status, deactivation, availability
windows (create, update, delete, with capacity and buffer), scheduling rules
and date overrides, slot listings, bookings (listed slots, full slots,
off-grid and past times; by the member, the coach, an admin, or with a coach
not theirs), direct sessions, cancellations, reschedules (``sessions.update``
and ``bookings.reschedule``), completion, notes, ratings, the waitlist, the
clock, and the cron jobs (expired waitlist holds, reminders, the outbox).

After every step it checks that

* the call had the same outcome on both stores: the same return value, or the
  same error class, HTTP status, message and details;
* everything observable through the public API is the same: users, member
  profiles, coach profiles with their live counters (members, free capacity,
  average rating), each coach's rules, windows, date overrides and bookable
  slots over the test horizon, all sessions, bookings and waitlist entries and
  the ones each user may see, each user's notifications, the audit log, the
  outbox, and what the calendar, notifier, messaging and broadcast adapters
  received.

Ids are random UUIDs minted per store, so every entity an operation creates
gets a *handle* (``member3``, ``booking#2``, ``session#2.event`` ...) paired
from the two return values; ids in views are replaced by their handle (an
unknown id by ``<?>``) before comparing. Rows that tie on a list's sort key
(the stores then order by id) are compared as a set, and each store's list
must itself be sorted by the documented key and then by id."""

from __future__ import annotations

import json
import pprint
import re
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from functools import partial
from itertools import groupby
from operator import attrgetter
from typing import Any

import attrs
import pytest
from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
)

import coachcore
from backends import T0, Backend, BackendPool, BackendUnavailable, backend_names
from coachcore import Role
from coachcore.adapters.clock import FixedClock
from coachcore.errors import CoachCoreError, SlotFull
from coachcore.plugins.hookspecs import hookimpl
from coachcore.serialization import to_dict
from coachcore.testing.strategies import (
    membership_statuses,
    names,
    notes,
    timezones,
    window_specs,
)

HORIZON = 10  # days of slots each view covers
LEADS = {"reminder_24h": timedelta(hours=24), "reminder_1h": timedelta(hours=1)}
MAX_COACHES = 3
MAX_MEMBERS = 4
AUDIT_PAGE = 500
#: Where the clocks start: the default Tuesday, and a few days before the 2030
#: clock changes in Europe (31 March, 27 October) and the USA (10 March, 3 November).
STARTS = [
    T0,
    datetime(2030, 3, 29, 6, 0, tzinfo=UTC),
    datetime(2030, 10, 25, 22, 30, tzinfo=UTC),
    datetime(2030, 3, 8, 13, 0, tzinfo=UTC),
    datetime(2030, 11, 1, 9, 45, tzinfo=UTC),
]
#: Values the scheduling rules take (None turns a rule off).
RULE_CHOICES: dict[str, list[int | None]] = {
    "slot_interval_minutes": [None, 15, 20, 30],
    "min_notice_minutes": [None, 60, 720],
    "booking_horizon_days": [None, 2, 5],
    "max_sessions_per_day": [None, 1, 2, 3],
    "max_future_bookings_per_member": [None, 1, 2, 3],
    "cancellation_cutoff_hours": [None, 2, 24],
    "waitlist_hold_minutes": [None, 30, 120],
}
#: How each coach's slots are viewed: (duration, interval, viewer time zone).
SLOT_VIEWS = [(60, None, None), (30, 15, "America/St_Johns"), (45, None, "Asia/Kathmandu")]
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")

# How each list is documented to be sorted (then by id, except slots).
by_creation = attrgetter("created_at")
by_joining = attrgetter("joined_at")
by_schedule = attrgetter("scheduled_at")
by_start = attrgetter("start")
by_weekday = attrgetter("day_of_week", "start_time")
by_queue = attrgetter("start", "created_at")  # waitlist entries


def by_date(override: Any) -> tuple[date, str]:
    """Overrides: by date, then start time (whole-day blocks first)."""
    return override.date, override.start_time or ""


_pool: BackendPool | None = None


@pytest.fixture(autouse=True)
def _session_backends(request: pytest.FixtureRequest, backend_pool: BackendPool) -> Iterator[None]:
    """Hand the session's backends to the machines (fixtures cannot reach them);
    skip, with the reason, where the case's SQL store cannot run."""
    global _pool
    name = getattr(request.cls, "sql_backend", None)
    if name is not None:
        try:
            backend_pool.get(name)
        except BackendUnavailable as why:
            pytest.skip(str(why))
    _pool = backend_pool
    yield
    _pool = None


class _Broadcasts:
    """A per-core plugin keeping the broadcast events it receives."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    @hookimpl
    def coachcore_broadcast(self, event: dict[str, Any]) -> None:
        self.events.append(event)


def _json(data: Any) -> str:
    return json.dumps(data, sort_keys=True, ensure_ascii=False)


class Side:
    """One store under test: its core, its clock, and its ids mapped to handles."""

    def __init__(self, backend: Backend, now: datetime) -> None:
        self.label = backend.name
        self.backend = backend
        self.clock = FixedClock(now)
        self.broadcasts = _Broadcasts()
        self.core: coachcore.Core = backend.open(self.clock, plugins=[self.broadcasts])
        self.handle_of: dict[str, str] = {}
        self.id_of: dict[str, str] = {}
        self.seen = 0  # notifications delivered before the last snapshot

    @property
    def sys(self) -> coachcore.SystemScope:
        return self.core.system

    def as_(self, handle: str | None) -> coachcore.Scope:
        """The handle's scope; None is the system."""
        return self.sys if handle is None else self.core.acting_as(self.id_of[handle])

    def id(self, handle: str) -> str:
        return self.id_of[handle]

    def learn(self, handle: str, entity_id: str) -> None:
        self.handle_of[entity_id] = handle
        self.id_of[handle] = entity_id

    def close(self) -> None:
        self.core.close()
        self.backend.release()

    # -- normal forms ----------------------------------------------------------------------

    def norm(self, data: Any) -> Any:
        """JSON-ready data with every id replaced by its handle (``<?>`` if unknown)."""
        if isinstance(data, str):
            if len(data) < 36:  # too short to hold an id
                return data
            return UUID.sub(lambda m: self.handle_of.get(m.group(), "<?>"), data)
        if isinstance(data, dict):
            return {k: self.norm(v) for k, v in data.items()}
        if isinstance(data, list | tuple):
            return [self.norm(v) for v in data]
        return data

    def view(self, value: Any) -> Any:
        """A return value in normal form (entities through the shared converter)."""
        if isinstance(value, list | tuple):
            return [self.view(v) for v in value]
        if attrs.has(type(value)):
            return self.norm(to_dict(value))
        if isinstance(value, datetime | date):
            return value.isoformat()
        return self.norm(value)

    def outcome(self, result: Any) -> Any:
        if isinstance(result, CoachCoreError):
            details = self.view(result.details)
            if isinstance(result.details, dict) and "booking_id" in result.details:
                # A refused window change names the first booking in its way by
                # (start, id): among bookings sharing a slot, the ids decide.
                try:
                    found = self.sys.bookings.get(result.details["booking_id"])
                    details["booking_id"] = f"a booking at {found.start.isoformat()}"
                except CoachCoreError:
                    pass  # an unknown id: its "<?>" stays
            return {
                "error": type(result).__name__,
                "status": result.status_code,
                "message": self.norm(result.message),
                "details": details,
            }
        return {"ok": self.view(result)}

    def listing(
        self, rows: Sequence[Any], key: Callable[[Any], Any], by_id: bool = True
    ) -> list[Any]:
        """A list as its runs of equal sort key, each run as a sorted set of rows.

        The stores break ties by id, which differ between stores; within one
        store the list must be sorted by ``key`` (then by id).
        """
        keys = [key(r) for r in rows]
        order = [(k, r.id) for k, r in zip(keys, rows, strict=True)] if by_id else keys
        assert order == sorted(order), f"{self.label}: rows out of order"
        runs = []
        for k, run in groupby(zip(keys, rows, strict=True), key=lambda pair: pair[0]):
            views = [self.view(r) for _, r in run]
            if len(views) > 1:
                views.sort(key=_json)
            runs.append([self.view(k), views])
        return runs

    def grab(
        self, read: Callable[[], Sequence[Any]], key: Callable[[Any], Any], by_id: bool = True
    ) -> Any:
        """A list read through ``listing``, or its error in normal form (a
        deactivated viewer, a deactivated coach's slots)."""
        try:
            rows = read()
        except CoachCoreError as error:
            return self.outcome(error)
        return self.listing(rows, key, by_id)

    # -- what the public API shows ---------------------------------------------------------

    def snapshot(self, coaches: list[str], members: list[str]) -> dict[str, Any]:
        sys = self.sys
        shot: dict[str, Any] = {}
        sessions = sys.sessions.list(limit=500)
        for s in sessions:  # the event and conversation of a known session are known too
            handle = self.handle_of.get(s.id)
            if handle is not None:
                self.learn(f"{handle}.event", s.calendar_event_id)
                if s.conversation_id is not None:
                    self.learn(f"{handle}.conversation", s.conversation_id)
        shot["sessions"] = self.listing(sessions, by_schedule)
        shot["bookings"] = self.listing(sys.bookings.list(), by_start)
        shot["waitlist"] = self.listing(sys.waitlist.list(), by_queue)
        shot["users"] = self.listing(sys.users.list(), by_creation)
        shot["members"] = self.listing(sys.members.list(limit=500), by_joining)
        accepting = sys.coaches.list_accepting()
        shot["accepting coaches"] = self.listing(accepting, by_creation)
        listed = {p.user_id for p in accepting}
        today = self.clock.now().astimezone(UTC).date()
        first, last = today - timedelta(days=1), today + timedelta(days=HORIZON)
        for n, coach in enumerate(coaches):
            cid = self.id(coach)
            if cid not in listed:
                shot[f"coach {coach}"] = self.view(sys.coaches.get(cid))
            shot[f"rules of {coach}"] = self.view(sys.scheduling.rules(cid))
            shot[f"windows of {coach}"] = self.listing(sys.availability.list(cid), by_weekday)
            shot[f"overrides of {coach}"] = self.listing(
                sys.scheduling.overrides(cid, start_date=first, end_date=last), by_date
            )
            duration, interval, viewer = SLOT_VIEWS[n % len(SLOT_VIEWS)]
            slots = partial(
                sys.availability.available_slots,
                cid,
                start_date=first,
                end_date=last,
                duration=duration,
                interval=interval,
                viewer_timezone=viewer,
            )
            shot[f"slots of {coach}"] = self.grab(slots, by_start, by_id=False)
        for person in [*coaches, *members]:
            scope = self.as_(person)
            shot[f"sessions seen by {person}"] = self.grab(
                partial(scope.sessions.list, limit=500), by_schedule
            )
            shot[f"bookings seen by {person}"] = self.grab(scope.bookings.list, by_start)
            shot[f"waitlist seen by {person}"] = self.grab(scope.waitlist.list, by_queue)
            shot[f"notifications of {person}"] = self.listing(
                sys.notifications.list(recipient_id=self.id(person)), by_creation
            )
        log = sys.audit.list(limit=AUDIT_PAGE)[::-1]  # newest first: oldest first
        if len(log) == AUDIT_PAGE:  # the page may cut a run of equal times anywhere
            log = [e for e in log if e.created_at > log[0].created_at]
        shot["audit log"] = self.listing(log, by_creation)
        shot["outbox pending"] = self.listing(sys.outbox.pending(), by_creation)
        shot["outbox failed"] = self.listing(sys.outbox.failed(), by_creation)
        core: Any = self.core
        sent = core.notifier.sent  # earlier deliveries were compared at earlier steps
        shot["notified in this step"] = sorted(_json(self.view(n)) for n in sent[self.seen :])
        self.seen = len(sent)
        shot["notifier repeats"] = core.notifier.repeats
        shot["calendar"] = sorted(_json(self.view(e)) for e in core.calendar.events.values())
        shot["conversations"] = sorted(
            _json(self.view(c)) for c in core.messaging.conversations.values()
        )
        shot["broadcast in this step"] = sorted(_json(self.norm(e)) for e in self.broadcasts.events)
        self.broadcasts.events.clear()
        return shot


def _explain(what: str, labels: Sequence[str], a: Any, b: Any) -> str:
    """Both values, or for two lists the first item where they part."""

    def show(value: Any) -> str:
        text = pprint.pformat(value, width=100)
        return text if len(text) < 3000 else text[:3000] + " ..."

    if isinstance(a, list) and isinstance(b, list) and a and b:
        pairs = enumerate(zip(a, b, strict=False))
        at = next((i for i, (x, y) in pairs if x != y), min(len(a), len(b)))
        a = {"items": len(a), f"item {at}": a[at] if at < len(a) else "(none)"}
        b = {"items": len(b), f"item {at}": b[at] if at < len(b) else "(none)"}
    return f"{what} differs:\n{labels[0]}:\n{show(a)}\n{labels[1]}:\n{show(b)}"


def _booked(result: Any) -> dict[str, str | None]:
    """The ids a booking call created: a confirmed booking and its session, or
    the rejected booking a full slot leaves behind."""
    if isinstance(result, SlotFull):
        return {"booking": result.details["booking_id"]}
    if isinstance(result, coachcore.Booking):
        return {"booking": result.id, "session": result.session_id}
    return {}


class StoreAgreement(RuleBasedStateMachine):
    """Drives the memory store and one SQL store with the same operations."""

    sql_backend = "sqlite"

    def __init__(self) -> None:
        super().__init__()
        self.sides: list[Side] = []
        self.coaches: list[str] = []
        self.members: list[str] = []
        self.windows: dict[str, list[str]] = {}
        self.overrides: dict[str, list[str]] = {}
        self.entries: list[str] = []
        self.bookings: list[str] = []
        self.sessions: list[str] = []
        self.deactivated: set[str] = set()
        self.counts: Counter[str] = Counter()
        self.fresh: dict[str, str] = {}

    # -- the machinery ---------------------------------------------------------------------

    @property
    def ref(self) -> Side:
        """The memory side, which the operations read to choose their inputs."""
        return self.sides[0]

    @property
    def labels(self) -> list[str]:
        return [side.label for side in self.sides]

    def apply(
        self,
        what: str,
        call: Callable[[Side], Any],
        fresh: Callable[[Any], dict[str, str | None]] | None = None,
    ) -> Any:
        """Make the same call on both stores; pair the ids it created; the outcomes
        must agree. Returns the memory store's result (or error)."""
        self.fresh = {}
        results: list[Any] = []
        for side in self.sides:
            try:
                results.append(call(side))
            except CoachCoreError as error:
                results.append(error)
        if fresh is not None:
            self.pair([fresh(r) for r in results])
        views = [side.outcome(r) for side, r in zip(self.sides, results, strict=True)]
        assert views[0] == views[1], _explain(f"the outcome of {what}", self.labels, *views)
        event(f"{what}: {type(results[0]).__name__}")
        return results[0]

    def look(
        self, what: str, read: Callable[[Side], Any], key: Callable[[Any], Any] | None = None
    ) -> Any:
        """A read the operations make to choose their inputs, made on both stores
        (a read may be audited) and compared like a view (``key``: as a listing).
        Returns the memory store's result."""
        results = [read(side) for side in self.sides]
        views = [
            side.view(r) if key is None else side.listing(r, key)
            for side, r in zip(self.sides, results, strict=True)
        ]
        assert views[0] == views[1], _explain(f"the read {what}", self.labels, *views)
        return results[0]

    def stable(self, sessions: Sequence[Any]) -> list[Any]:
        """Sessions in an order that does not depend on their random ids."""
        return sorted(sessions, key=lambda s: (s.scheduled_at, self.ref.handle_of.get(s.id, "")))

    def pair(self, created: list[dict[str, str | None]]) -> None:
        """Give the entities both calls created one handle per kind (``self.fresh``)."""
        self.fresh = {}
        mine, theirs = created
        if mine.keys() != theirs.keys():
            return  # the outcomes differ, which apply reports
        for kind, my_id in mine.items():
            their_id = theirs[kind]
            if my_id is None or their_id is None:
                continue
            if my_id in self.sides[0].handle_of or their_id in self.sides[1].handle_of:
                continue  # an old entity came back: its handle shows it
            people = kind in ("coach", "member")
            handle = f"{kind}{self.counts[kind]}" if people else f"{kind}#{self.counts[kind]}"
            self.counts[kind] += 1
            for side, entity_id in zip(self.sides, (my_id, their_id), strict=True):
                side.learn(handle, entity_id)
            self.fresh[kind] = handle
            registry = {
                "coach": self.coaches,
                "member": self.members,
                "booking": self.bookings,
                "session": self.sessions,
                "entry": self.entries,
            }.get(kind)
            if registry is not None:
                registry.append(handle)

    def both(self, change: Callable[[Side], object]) -> None:
        for side in self.sides:
            change(side)

    def now(self) -> datetime:
        return self.ref.clock.now().astimezone(UTC)

    def coach_of(self, member: str) -> str | None:
        profile = self.look("members.get", lambda side: side.sys.members.get(side.id(member)))
        return None if profile.coach_id is None else self.ref.handle_of[profile.coach_id]

    def pick(self, data: Any, kind: str, status: str) -> str:
        """A session or booking handle, most often one in ``status``."""
        rows: Sequence[Any]
        if kind == "session":
            handles = self.sessions
            rows = self.look(
                "sessions.list", lambda side: side.sys.sessions.list(limit=500), by_schedule
            )
        else:
            handles = self.bookings
            rows = self.look("bookings.list", lambda side: side.sys.bookings.list(), by_start)
        wanted = {r.id for r in rows if r.status == status}
        fitting = [h for h in handles if self.ref.id(h) in wanted]
        if fitting and data.draw(st.sampled_from([True, True, True, False]), label=status):
            handles = fitting
        return str(data.draw(st.sampled_from(handles), label=kind))

    def session_row(self, session: str) -> Any:
        return self.look("sessions.get", lambda side: side.sys.sessions.get(side.id(session)))

    # -- set-up ----------------------------------------------------------------------------

    @initialize(
        start=st.sampled_from(STARTS),
        zone=timezones(),
        first=window_specs(max_capacity=3, max_buffer=30),
        second=window_specs(max_capacity=3, max_buffer=30),
        hold=st.sampled_from([60, 60, None]),
    )
    def open_stores(
        self, start: datetime, zone: str, first: Any, second: Any, hold: int | None
    ) -> None:
        assert _pool is not None, "the backend_pool fixture did not run"
        self.sides = [Side(_pool.get("memory"), start), Side(_pool.get(self.sql_backend), start)]
        self.add_coach(zone, "Coach A")
        self.add_coach("UTC", "Coach B")
        self.signup(self.coaches[0], "Member A")
        self.signup(self.coaches[1], "Member B")
        for coach, spec in zip(self.coaches, (first, second), strict=True):
            self.add_window(coach, spec, by_admin=False)
        if hold is not None:  # both keep a waitlist
            for coach in self.coaches:
                self.set_rules(coach, None, {"waitlist_hold_minutes": hold})

    def teardown(self) -> None:
        for side in self.sides:
            side.close()

    # -- building blocks -------------------------------------------------------------------

    def add_coach(self, zone: str, name: str) -> None:
        email = f"coach{self.counts['coach']}@example.com"
        self.apply(
            "users.create(coach)",
            lambda side: side.sys.users.create(
                name=name, email=email, role=Role.COACH, timezone=zone
            ),
            lambda r: {"coach": getattr(r, "id", None)},
        )

    def signup(self, coach: str | None, name: str, email: str | None = None) -> None:
        address = email or f"member{self.counts['member']}@example.com"
        self.apply(
            "signup_member",
            lambda side: side.sys.signup_member(
                name=name,
                email=address,
                coach_id=None if coach is None else side.id(coach),
                timezone="Europe/Berlin",
            ),
            lambda r: {"member": getattr(r, "id", None)},
        )

    def add_window(self, coach: str, spec: Any, by_admin: bool) -> None:
        def call(side: Side) -> Any:
            if by_admin:
                return side.sys.availability.create(coach_id=side.id(coach), **spec.as_kwargs())
            return side.as_(coach).availability.create(**spec.as_kwargs())

        self.apply("availability.create", call, lambda r: {"window": getattr(r, "id", None)})
        if "window" in self.fresh:
            self.windows.setdefault(coach, []).append(self.fresh["window"])

    def set_rules(self, coach: str, who: str | None, changes: dict[str, Any]) -> None:
        self.apply(
            "scheduling.set_rules",
            lambda side: side.as_(who).scheduling.set_rules(side.id(coach), **changes),
        )

    def keeps_waitlist(self, coach: str) -> bool:
        rules = self.look(
            "scheduling.rules", lambda side: side.sys.scheduling.rules(side.id(coach))
        )
        return rules.waitlist_hold_minutes is not None

    def live_windows(self) -> list[str]:
        return [w for ws in self.windows.values() for w in ws]

    def moment(self, data: Any, coach: str, duration: int) -> tuple[datetime, int]:
        """A (start, duration) to book or move to: a listed slot, the time of an
        existing session (a shared or full slot), a quarter hour of the horizon
        (mostly off the grid) or the past."""
        how = data.draw(
            st.sampled_from(["listed", "listed", "listed", "taken", "taken", "any", "past"]),
            label="which time",
        )
        now = self.now()
        if how == "listed":
            listed = self.look(
                "availability.available_slots",
                lambda side: side.sys.availability.available_slots(
                    side.id(coach),
                    start_date=now.date(),
                    end_date=now.date() + timedelta(days=HORIZON - 2),
                    duration=duration,
                ),
            )
            if listed:
                return data.draw(st.sampled_from(listed), label="slot").start, duration
        if how == "taken":
            rows = self.stable(
                self.look(
                    "sessions.list(coach)",
                    lambda side: side.sys.sessions.list(coach_id=side.id(coach), limit=500),
                    by_schedule,
                )
            )
            if rows:
                row = data.draw(st.sampled_from(rows), label="session's time")
                return row.scheduled_at, row.duration
        if how == "past":
            return now - timedelta(minutes=30 * data.draw(st.integers(0, 48))), duration
        hour = now.replace(minute=0, second=0, microsecond=0)
        return hour + timedelta(minutes=15 * data.draw(st.integers(1, HORIZON * 96))), duration

    def party(self, data: Any, row: Any, roles: Sequence[str]) -> str | None:
        """Who acts on a session or booking: its member, its coach, an admin, another."""
        role = data.draw(st.sampled_from(roles), label="actor")
        if role == "member":
            return str(self.ref.handle_of[row.member_id])
        if role == "coach":
            return str(self.ref.handle_of[row.coach_id])
        if role == "other":
            return str(data.draw(st.sampled_from(self.members), label="other member"))
        return None

    # -- operations: bookings and sessions -------------------------------------------------

    def book_listed(self, data: Any) -> None:
        """What a member does in the UI: list their coach's slots, take one."""
        member = data.draw(st.sampled_from(self.members), label="member")
        coach = self.coach_of(member)
        if coach is None:
            return
        duration = data.draw(st.sampled_from([30, 60, 90]), label="duration")
        first = self.now().date()
        listed = self.apply(
            "availability.available_slots",
            lambda side: side.as_(member).availability.available_slots(
                side.id(coach),
                start_date=first,
                end_date=first + timedelta(days=HORIZON - 2),
                duration=duration,
            ),
        )
        if isinstance(listed, CoachCoreError) or not listed:
            return
        start = data.draw(st.sampled_from(listed), label="slot").start
        self.apply(
            "bookings.create(listed)",
            lambda side: side.as_(member).bookings.create(
                coach_id=side.id(coach), start=start, duration=duration
            ),
            _booked,
        )

    def book(self, data: Any) -> None:
        """Any booking: by the member, their coach, an admin, or with another coach."""
        actor = data.draw(
            st.sampled_from(["member", "member", "coach", "admin", "stranger"]), label="actor"
        )
        member = data.draw(st.sampled_from(self.members), label="member")
        coach = self.coach_of(member)
        if coach is None or actor == "stranger":
            coach = data.draw(st.sampled_from(self.coaches), label="coach")
        duration = data.draw(st.sampled_from([15, 30, 45, 60, 90]), label="duration")
        start, duration = self.moment(data, coach, duration)
        who = {"member": member, "coach": coach, "admin": None, "stranger": member}[actor]
        self.apply(
            "bookings.create",
            lambda side: side.as_(who).bookings.create(
                coach_id=side.id(coach),
                start=start,
                duration=duration,
                member_id=None if who == member else side.id(member),
            ),
            _booked,
        )

    def direct_session(self, data: Any) -> None:
        """The coach (or an admin) schedules a session, on the grid or off it."""
        member = data.draw(st.sampled_from(self.members), label="member")
        coach = self.coach_of(member) or data.draw(st.sampled_from(self.coaches), label="coach")
        duration = data.draw(st.sampled_from([30, 60, 75]), label="duration")
        start, duration = self.moment(data, coach, duration)
        by_admin = data.draw(st.booleans(), label="by an admin")
        self.apply(
            "sessions.create",
            lambda side: side.as_(None if by_admin else coach).sessions.create(
                member_id=side.id(member),
                coach_id=side.id(coach),
                scheduled_at=start,
                duration=duration,
            ),
            lambda r: {"session": getattr(r, "id", None)},
        )

    def cancel(self, data: Any) -> None:
        """Cancel a booking (bookings.cancel) or a session (sessions.cancel)."""
        if self.bookings and data.draw(st.booleans(), label="a booking"):
            booking = self.pick(data, "booking", "confirmed")
            row = self.look("bookings.get", lambda side: side.sys.bookings.get(side.id(booking)))
            who = self.party(data, row, ["member", "member", "coach", "admin", "other"])
            self.apply(
                "bookings.cancel",
                lambda side: side.as_(who).bookings.cancel(side.id(booking), reason="cannot come"),
            )
            return
        session = self.pick(data, "session", "scheduled")
        who = self.party(data, self.session_row(session), ["member", "coach", "admin", "other"])
        self.apply(
            "sessions.cancel",
            lambda side: side.as_(who).sessions.cancel(side.id(session), reason=None),
        )

    def reschedule(self, data: Any) -> None:
        """Move a session: sessions.update (its coach or an admin, not its member),
        or bookings.reschedule (its member too, within the coach's cut-off and by
        the same rules as a new booking)."""
        session = self.pick(data, "session", "scheduled")
        row = self.session_row(session)
        coach = self.ref.handle_of[row.coach_id]
        bookings = self.look("bookings.list", lambda side: side.sys.bookings.list(), by_start)
        booked = [
            self.ref.handle_of[b.id]
            for b in bookings
            if b.session_id == row.id and b.id in self.ref.handle_of
        ]
        if booked and data.draw(st.booleans(), label="through its booking"):
            who = self.party(data, row, ["member", "member", "coach", "admin", "other"])
            start, _ = self.moment(data, coach, row.duration)
            self.apply(
                "bookings.reschedule",
                lambda side: side.as_(who).bookings.reschedule(side.id(booked[0]), start=start),
            )
            return
        who = self.party(data, row, ["coach", "coach", "coach", "admin", "member"])
        duration = data.draw(st.sampled_from([None, None, 30, 60, 90]), label="new duration")
        start, length = self.moment(data, coach, duration or row.duration)
        changes: dict[str, Any] = {"scheduled_at": start}
        if duration is not None:
            changes["duration"] = length
        self.apply(
            "sessions.update",
            lambda side: side.as_(who).sessions.update(side.id(session), **changes),
        )

    def complete(self, data: Any) -> None:
        session = self.pick(data, "session", "scheduled")
        who = self.party(data, self.session_row(session), ["coach", "coach", "admin", "member"])
        text = data.draw(notes(max_size=30), label="coach notes")
        self.apply(
            "sessions.complete",
            lambda side: side.as_(who).sessions.complete(
                side.id(session), coach_notes=text, outcomes="went well"
            ),
        )

    def rate(self, data: Any) -> None:
        session = self.pick(data, "session", "completed")
        who = self.party(data, self.session_row(session), ["member", "member", "admin", "coach"])
        stars = data.draw(st.integers(1, 5), label="stars")
        text = data.draw(st.one_of(st.none(), notes(max_size=30)), label="feedback")
        self.apply(
            "sessions.rate",
            lambda side: side.as_(who).sessions.rate(side.id(session), rating=stars, feedback=text),
        )

    # -- operations: availability ----------------------------------------------------------

    def change_windows(self, data: Any) -> None:
        """Add, update (shape, capacity, buffer, active) or delete a window."""
        action = data.draw(st.sampled_from(["add", "update", "update", "delete"]), label="action")
        spec = data.draw(window_specs(max_capacity=3, max_buffer=30), label="shape")
        windows = self.live_windows()
        if action == "add" or not windows:
            coach = data.draw(st.sampled_from(self.coaches), label="coach")
            self.add_window(coach, spec, data.draw(st.booleans(), label="by an admin"))
            return
        window = data.draw(st.sampled_from(windows), label="window")
        owner = next(c for c, ws in self.windows.items() if window in ws)
        if action == "delete":
            result = self.apply(
                "availability.delete",
                lambda side: side.as_(owner).availability.delete(side.id(window)),
            )
            if not isinstance(result, CoachCoreError):
                self.windows[owner].remove(window)
            return
        fields = {k: v for k, v in spec.as_kwargs().items() if data.draw(st.booleans(), label=k)}
        if data.draw(st.integers(0, 3), label="toggle active") == 0:
            fields["is_active"] = data.draw(st.booleans(), label="is_active")
        self.apply(
            "availability.update",
            lambda side: side.as_(owner).availability.update(side.id(window), **fields),
        )

    def list_slots(self, data: Any) -> None:
        """Any viewer lists any coach's slots: ranges, durations, grid steps, zones."""
        viewer = data.draw(st.sampled_from([None, *self.members, *self.coaches]), label="viewer")
        coach = data.draw(st.sampled_from(self.coaches), label="coach")
        duration = data.draw(st.sampled_from([15, 30, 45, 60, 90]), label="duration")
        first = self.now().date() + timedelta(days=data.draw(st.integers(-2, HORIZON)))
        last = first + timedelta(days=data.draw(st.integers(0, 4), label="days"))
        interval = data.draw(st.sampled_from([None, 5, 15, 20]), label="interval")
        viewer_zone = data.draw(st.one_of(st.none(), timezones()), label="viewer zone")
        self.apply(
            "availability.available_slots",
            lambda side: side.as_(viewer).availability.available_slots(
                side.id(coach),
                start_date=first,
                end_date=last,
                duration=duration,
                interval=interval,
                viewer_timezone=viewer_zone,
            ),
        )

    def scheduling(self, data: Any) -> None:
        """A coach's booking rules, and date overrides: blocked dates or hours,
        extra hours with their own seats and buffer."""
        coach = data.draw(st.sampled_from(self.coaches), label="coach")
        action = data.draw(st.sampled_from(["rules", "block", "extra", "remove"]), label="action")
        who = data.draw(st.sampled_from([coach, coach, None, self.members[0]]), label="by")
        overrides = self.overrides.setdefault(coach, [])
        if action == "rules":
            changes = {
                name: data.draw(st.sampled_from(values), label=name)
                for name, values in RULE_CHOICES.items()
                if data.draw(st.booleans(), label=f"change {name}")
            }
            self.set_rules(coach, who, changes)
        elif action == "remove" and overrides:
            override = data.draw(st.sampled_from(overrides), label="override")
            result = self.apply(
                "scheduling.remove_override",
                lambda side: side.as_(who).scheduling.remove_override(side.id(override)),
            )
            if not isinstance(result, CoachCoreError):
                overrides.remove(override)
        else:
            ahead = data.draw(st.integers(-1, HORIZON - 2), label="days ahead")
            hours = data.draw(window_specs(max_capacity=3, max_buffer=30), label="hours")
            kind = "extra" if action == "extra" else "block"
            whole = kind == "block" and data.draw(st.booleans(), label="whole day")
            fields = {
                "date": self.now().date() + timedelta(days=ahead),
                "kind": kind,
                "start_time": None if whole else hours.start_time,
                "end_time": None if whole else hours.end_time,
                "max_sessions_per_slot": hours.max_sessions_per_slot,
                "buffer_minutes": hours.buffer_minutes,
                "reason": data.draw(st.one_of(st.none(), notes(max_size=20)), label="reason"),
            }
            self.apply(
                "scheduling.add_override",
                lambda side: side.as_(who).scheduling.add_override(
                    coach_id=side.id(coach), **fields
                ),
                lambda r: {"override": getattr(r, "id", None)},
            )
            if "override" in self.fresh:
                overrides.append(self.fresh["override"])

    def waitlist(self, data: Any) -> None:
        """Queue for a slot (mostly a taken one), or leave a queue.

        Joins come a second apart: the queue is first come first by joining
        time, and joins at the same instant are ordered by their random ids.
        """
        if self.entries and data.draw(st.sampled_from([False, False, True]), label="leave"):
            entry = data.draw(st.sampled_from(self.entries), label="entry")
            entries = self.look("waitlist.list", lambda side: side.sys.waitlist.list(), by_queue)
            row = next(e for e in entries if e.id == self.ref.id(entry))
            who = self.party(data, row, ["member", "member", "coach", "admin", "other"])
            self.apply(
                "waitlist.leave",
                lambda side: side.as_(who).waitlist.leave(side.id(entry)),
            )
            return
        now = self.now()
        keeping = {self.ref.id(c) for c in self.coaches if self.keeps_waitlist(c)}
        sessions = self.look(
            "sessions.list", lambda side: side.sys.sessions.list(limit=500), by_schedule
        )
        ahead = [
            s
            for s in self.stable(sessions)
            if s.status == "scheduled" and s.scheduled_at > now and s.coach_id in keeping
        ]
        if ahead and data.draw(st.sampled_from([True, True, False]), label="a booked slot"):
            # a session's slot at a coach who keeps a waitlist: most likely full
            row = data.draw(st.sampled_from(ahead), label="slot of session")
            coach = self.ref.handle_of[row.coach_id]
            start, duration = row.scheduled_at, row.duration
            others = [
                m for m in self.members if m != self.ref.handle_of[row.member_id]
            ]  # someone else waits for that seat
            member = data.draw(st.sampled_from(others or self.members), label="member")
        else:
            member = data.draw(st.sampled_from(self.members), label="member")
            coach = self.coach_of(member) or data.draw(st.sampled_from(self.coaches))
            duration = data.draw(st.sampled_from([30, 60, 90]), label="duration")
            start, duration = self.moment(data, coach, duration)
        who = data.draw(st.sampled_from([member, member, coach, None]), label="by")
        self.both(lambda side: side.clock.advance(timedelta(seconds=1)))
        self.apply(
            "waitlist.join",
            lambda side: side.as_(who).waitlist.join(
                coach_id=side.id(coach),
                start=start,
                duration=duration,
                member_id=None if who == member else side.id(member),
            ),
            lambda r: {"entry": getattr(r, "id", None)},
        )

    # -- operations: people ----------------------------------------------------------------

    def people(self, data: Any) -> None:
        """Users and profiles: sign up (a taken address too), add a coach, assign,
        change a coach's capacity, a membership status, deactivate a member."""
        actions = ["assign", "assign", "signup", "coach profile", "membership", "add coach"]
        action = data.draw(st.sampled_from([*actions, "deactivate"]), label="action")
        member = data.draw(st.sampled_from(self.members), label="member")
        coach = data.draw(st.sampled_from(self.coaches), label="coach")
        if action == "signup" and len(self.members) < MAX_MEMBERS:
            taken = data.draw(st.booleans(), label="a taken address")
            self.signup(
                data.draw(st.one_of(st.none(), st.just(coach)), label="with coach"),
                data.draw(names(max_size=20), label="name"),
                f"{member.upper()}@Example.COM" if taken else None,
            )
        elif action == "add coach" and len(self.coaches) < MAX_COACHES:
            self.add_coach(data.draw(timezones(), label="zone"), data.draw(names(max_size=20)))
        elif action == "coach profile":
            max_members = data.draw(st.integers(1, 4), label="max_members")
            accepting = data.draw(st.booleans(), label="is_accepting_members")
            who = data.draw(st.sampled_from([coach, None]), label="by")
            self.apply(
                "coaches.update",
                lambda side: side.as_(who).coaches.update(
                    side.id(coach), max_members=max_members, is_accepting_members=accepting
                ),
            )
        elif action == "membership":  # only active members count against max_members
            status = data.draw(membership_statuses(), label="status")
            who = data.draw(st.sampled_from([self.coach_of(member), None]), label="by")
            self.apply(
                "members.update(membership_status)",
                lambda side: side.as_(who).members.update(
                    side.id(member), membership_status=status
                ),
            )
        elif action == "deactivate" and not self.deactivated and len(self.sessions) >= 3:
            self.deactivated.add(member)
            self.apply("users.deactivate", lambda side: side.sys.users.deactivate(side.id(member)))
        else:
            self.apply(
                "members.assign_coach",
                lambda side: side.sys.members.assign_coach(side.id(member), side.id(coach)),
            )

    def write_notes(self, data: Any) -> None:
        """Free text round trips (hostile strings, any Unicode but NUL): a member's
        goals, a coach's notes on a member or on a session."""
        member = data.draw(st.sampled_from(self.members), label="member")
        coach = self.coach_of(member)
        text = data.draw(notes(max_size=40), label="text")
        what = data.draw(st.sampled_from(["session", "member", "goals"]), label="notes on")
        if what == "session" and self.sessions:
            session = data.draw(st.sampled_from(self.sessions), label="session")
            owner = self.ref.handle_of[self.session_row(session).coach_id]
            self.apply(
                "sessions.add_coach_notes",
                lambda side: side.as_(owner).sessions.add_coach_notes(side.id(session), text),
            )
        elif what == "member" and coach is not None:
            self.apply(
                "members.update(coach_notes)",
                lambda side: side.as_(coach).members.update(side.id(member), coach_notes=text),
            )
        else:
            self.apply(
                "members.update(goals)",
                lambda side: side.as_(member).members.update(side.id(member), goals=text),
            )

    # -- operations: time, reminders, outbox -----------------------------------------------

    def time_passes(self, data: Any) -> None:
        """Both clocks move on; most often the host's cron jobs then run: the
        waitlist's expired holds, reminders, then the outbox."""
        minutes = data.draw(st.one_of(st.integers(0, 120), st.integers(60, 36 * 60)), label="min")
        self.both(lambda side: side.clock.advance(timedelta(minutes=minutes)))
        if data.draw(st.sampled_from([True, True, False]), label="cron runs"):
            self.apply("waitlist.release_expired", lambda side: side.sys.waitlist.release_expired())
            self.apply("reminders.send_due", lambda side: side.sys.reminders.send_due())
            self.apply("outbox.dispatch", lambda side: side.sys.outbox.dispatch())

    def skip_to_a_reminder(self, data: Any) -> None:
        """Move both clocks to when a reminder falls due (exactly, a minute
        before or after, or later), then run the job."""
        session = self.pick(data, "session", "scheduled")
        lead = data.draw(st.sampled_from(sorted(LEADS.values())), label="lead")
        late = timedelta(minutes=data.draw(st.sampled_from([0, 0, -1, 1, 45]), label="late"))
        target = self.session_row(session).scheduled_at - lead + late
        if target > self.now():
            self.both(lambda side: side.clock.set(target))
        self.apply("reminders.send_due", lambda side: side.sys.reminders.send_due())

    # -- the one rule ----------------------------------------------------------------------

    @rule(data=st.data())
    def step(self, data: Any) -> None:
        """One operation, drawn by weight (those needing a session wait for one)."""
        table = ANY_TIME if self.sessions else BEFORE_THE_FIRST_SESSION
        operation = data.draw(st.sampled_from(table), label="operation")
        event(f"operation {operation}")
        getattr(self, operation)(data)

    # -- the check -------------------------------------------------------------------------

    @invariant()
    def stores_agree(self) -> None:
        if not self.sides:
            return
        assert len({side.clock.now() for side in self.sides}) == 1
        mine, theirs = (side.snapshot(self.coaches, self.members) for side in self.sides)
        differ = [k for k in mine.keys() | theirs.keys() if mine.get(k) != theirs.get(k)]
        assert not differ, "\n\n".join(
            _explain(key, self.labels, mine.get(key), theirs.get(key)) for key in sorted(differ)[:3]
        )


#: The operations and their weights. Hypothesis draws index 0 of a
#: ``sampled_from`` far more often than the others (a third of the steps here),
#: so the first entry, booking a listed slot, has weight 1 and still comes up most.
WEIGHTS = {
    "book_listed": 1,
    "book": 3,
    "direct_session": 2,
    "cancel": 2,
    "reschedule": 2,
    "complete": 3,
    "rate": 2,
    "skip_to_a_reminder": 2,
    "time_passes": 3,
    "change_windows": 2,
    "scheduling": 2,
    "waitlist": 2,
    "list_slots": 1,
    "people": 2,
    "write_notes": 1,
}
NEED_A_SESSION = {"cancel", "reschedule", "complete", "rate", "skip_to_a_reminder"}
ANY_TIME = [name for name, weight in WEIGHTS.items() for _ in range(weight)]
BEFORE_THE_FIRST_SESSION = [name for name in ANY_TIME if name not in NEED_A_SESSION]


def machine_for(sql: str) -> type[StoreAgreement]:
    """The machine comparing the memory store with the named SQL store."""
    return type(f"StoreAgreement_{sql}", (StoreAgreement,), {"sql_backend": sql})


#: (examples, steps) per SQL store. A step (one operation, then every view read
#: on both stores) costs ~45 ms with SQLite and ~85 ms with PostgreSQL, so the
#: file takes ~40 s under HYPOTHESIS_PROFILE=ci on two cores (~19 s + ~17 s).
BUDGET = {"sqlite": (16, 25), "postgresql": (8, 25)}

for _name in backend_names():
    if _name == "memory":
        continue
    _case = machine_for(_name).TestCase
    _examples, _steps = BUDGET[_name]
    _case.settings = settings(max_examples=_examples, stateful_step_count=_steps)
    _case.sql_backend = _name  # type: ignore[attr-defined]
    globals()[f"TestStoreAgreement_{_name}"] = _case
del _name, _case, _examples, _steps
