"""One side of the store agreement: a core, its clock, and its views in normal form.

Ids are random UUIDs minted per store, so every entity an operation creates
gets a *handle* (``member3``, ``booking#2``, ``session#2.event`` ...) paired
from the two return values; ids in views are replaced by their handle (an
unknown id by ``<?>``) before comparing. Rows that tie on a list's sort key
(the stores then order by id) are compared as a set, and each store's list
must itself be sorted by the documented key and then by id.
"""

from __future__ import annotations

import json
import pprint
import re
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from functools import partial
from itertools import groupby
from operator import attrgetter
from typing import Any, Protocol

import attrs

import coachcore
from coachcore.adapters.clock import FixedClock
from coachcore.errors import CoachCoreError, SlotFull
from coachcore.plugins.hookspecs import hookimpl
from coachcore.ports.clock import Clock
from coachcore.serialization import to_dict

#: Where a fresh store's clock stands unless a check says otherwise (a Tuesday).
T0 = datetime(2030, 1, 1, 8, 0, tzinfo=UTC)


class OpenCore(Protocol):
    """What a host hands the conformance checks: a function opening a
    ``coachcore.Core`` over an *empty* store of its own, with this clock and
    these extra plugins (pass them on to ``coachcore.open``). It is called
    once per check and once per hypothesis example; the core it returns is
    closed by the caller."""

    def __call__(self, clock: Clock, *, plugins: Sequence[object] = ()) -> coachcore.Core: ...


def open_reference(clock: Clock, *, plugins: Sequence[object] = ()) -> coachcore.Core:
    """The reference: a core over the memory store."""
    return coachcore.open("memory://", clock=clock, plugins=plugins)


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
SLOT_VIEWS: list[tuple[int, int | None, str | None]] = [
    (60, None, None),
    (30, 15, "America/St_Johns"),
    (45, None, "Asia/Kathmandu"),
]
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

    def __init__(self, label: str, open_core: OpenCore, now: datetime) -> None:
        self.label = label
        self.clock = FixedClock(now)
        self.broadcasts = _Broadcasts()
        self.core: coachcore.Core = open_core(self.clock, plugins=[self.broadcasts])
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

    def slots(
        self,
        cid: str,
        first: date,
        last: date,
        how: tuple[int, int | None, str | None],
        scope: coachcore.Scope,
    ) -> Any:
        """The coach's slots listed through ``scope`` (``how``: one of ``SLOT_VIEWS``)."""
        duration, interval, viewer = how
        read = partial(
            scope.availability.available_slots,
            cid,
            start_date=first,
            end_date=last,
            duration=duration,
            interval=interval,
            viewer_timezone=viewer,
        )
        return self.grab(read, by_start, by_id=False)

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
        profiles = sys.members.list(limit=500)
        shot["members"] = self.listing(profiles, by_joining)
        accepting = sys.coaches.list_accepting()
        shot["accepting coaches"] = self.listing(accepting, by_creation)
        listed = {p.user_id for p in accepting}
        today = self.clock.now().astimezone(UTC).date()
        first, last = today - timedelta(days=1), today + timedelta(days=HORIZON)
        coach_of = {p.user_id: p.coach_id for p in profiles}
        for n, coach in enumerate(coaches):
            cid = self.id(coach)
            if cid not in listed:
                shot[f"coach {coach}"] = self.view(sys.coaches.get(cid))
            shot[f"rules of {coach}"] = self.view(sys.scheduling.rules(cid))
            shot[f"windows of {coach}"] = self.listing(sys.availability.list(cid), by_weekday)
            shot[f"overrides of {coach}"] = self.listing(
                sys.scheduling.overrides(cid, start_date=first, end_date=last), by_date
            )
            view = partial(self.slots, cid, first, last, SLOT_VIEWS[n % len(SLOT_VIEWS)])
            shot[f"slots of {coach}"] = view(sys)
            for member in members:  # with the seats each of the coach's members has
                if coach_of.get(self.id(member)) == cid:
                    shot[f"slots of {coach} seen by {member}"] = view(self.as_(member))
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
