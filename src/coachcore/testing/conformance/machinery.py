"""The store agreement's machinery: the two sides driven in step, the calls
made on both and their outcomes compared, the set-up and building blocks the
operations (:mod:`.booking_steps`, :mod:`.availability_steps`,
:mod:`.people_steps`, and the clock's in :mod:`.agreement`) share."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from hypothesis import event
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize

from coachcore import Role
from coachcore.errors import CoachCoreError
from coachcore.testing.conformance.side import (
    HORIZON,
    STARTS,
    OpenCore,
    Side,
    _explain,
    by_schedule,
    by_start,
    open_reference,
)
from coachcore.testing.strategies import timezones, window_specs


class Machinery(RuleBasedStateMachine):
    """Drives the memory store and a candidate store with the same operations."""

    #: The candidate store's factory and name (set by :func:`.agreement.machine_for`).
    open_candidate: ClassVar[OpenCore]
    candidate: ClassVar[str] = "candidate"

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
        self.sides = [
            Side("memory", open_reference, start),
            Side(self.candidate, self.open_candidate, start),
        ]
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
