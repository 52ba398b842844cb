"""A unique marker through every text parameter of every public method.

The methods and their parameters come from the scopes themselves: every
attribute of a scope that is a use-case object, every public method of it,
every parameter of its signature. Each parameter in turn receives a marker
(``zq0001qz``; as an address, ``zq0001qz@example.com``; as a list,
``["zq0001qz"]``) while the others get valid values from :class:`Fixtures`,
which knows ids, times, numbers and choices, never free text; a required
parameter it does not know is text and gets neutral words. A call that the
core refuses with every form of the marker wrote nothing; the sweep records
which parameters were accepted, so a test can check what it reached.

Afterwards :func:`markers_in` finds markers in raw bytes, and
:func:`scan_sqlite` / :func:`scan_postgresql` read the stored data as an
attacker with the files (or a database login) would.
"""

from __future__ import annotations

import inspect
import itertools
import re
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import attrs
import sqlalchemy as sa

import coachcore
from coachcore import Role
from coachcore.adapters.clock import FixedClock
from coachcore.errors import CoachCoreError, ValidationFailed
from coachcore.services.runtime.transaction import UseCases

MARKER = re.compile(rb"zq\d{4}qz")
NEUTRAL = "plain words"
UNAVAILABLE = object()
"""A fixture that cannot be made in this state."""
_neutral = itertools.count()


def neutral() -> str:
    """Unmarked text that is also a fresh, valid address."""
    return f"plain{next(_neutral)}@example.com"


NOT_SWEPT = {"privacy.erase": "the erasure under test runs after the sweep"}


def public_methods(scope: Any) -> Iterator[tuple[str, Callable[..., Any]]]:
    """("users.create", bound method), ... of every use-case object of a scope,
    and the scope's own public methods."""
    for name, use_cases in sorted(vars(scope).items()):
        if isinstance(use_cases, UseCases):
            for method_name, method in inspect.getmembers(use_cases, inspect.ismethod):
                if not method_name.startswith("_"):
                    yield f"{name}.{method_name}", method
    for method_name, method in inspect.getmembers(scope, inspect.ismethod):
        if not method_name.startswith("_"):
            yield method_name, method


class Fixtures:
    """Valid values of the non-text parameters, by parameter name: each a list
    of candidates (later ones in later states: a session that has started, one
    that is completed). Fresh items are made through the system scope."""

    def __init__(self, core: coachcore.Core, clock: FixedClock) -> None:
        self.core, self.clock = core, clock
        sys = core.system
        self.coach = sys.users.create(name="Cleo", email="cleo@example.com", role=Role.COACH)
        sys.coaches.update(self.coach.id, max_members=1000)
        self.member = sys.signup_member(name="Max", email="max@example.com", coach_id=self.coach.id)
        self.admin = sys.users.create(name="Ada", email="ada@example.com", role=Role.ADMIN)
        for day in range(7):
            sys.availability.create(
                day_of_week=day,
                start_time="00:00",
                end_time="24:00",
                max_sessions_per_slot=1000,
                buffer_minutes=0,
                coach_id=self.coach.id,
            )
        self.tokens: list[str] = []
        self._n = itertools.count()
        self._hour = clock.now()

    def knows(self, name: str) -> bool:
        """Whether the parameter is one of the non-text kinds (else it is text)."""
        return hasattr(self, f"_{name}") or hasattr(self, f"_{name}_at")

    def candidate(self, name: str, index: int) -> Any:
        """The ``index``-th candidate (the last one past the end), or UNAVAILABLE."""
        at = getattr(self, f"_{name}_at", None)
        if at is not None:
            try:
                return at(index)
            except CoachCoreError:
                return UNAVAILABLE
        options = self.candidates(name) or []
        return options[min(index, len(options) - 1)] if options else UNAVAILABLE

    def candidates(self, name: str) -> list[Any] | None:
        """The candidates of a parameter, or None: the parameter is text."""
        make = getattr(self, f"_{name}", None)
        if make is None:
            return None
        try:
            return list(make())
        except CoachCoreError:  # the item cannot be made in this state: no candidate
            return []

    # -- times ------------------------------------------------------------------

    def _next_hour(self) -> datetime:
        """A free hour ahead of the clock (each call a later one)."""
        now = self.clock.now().replace(minute=0, second=0, microsecond=0)
        self._hour = max(now + timedelta(hours=2), self._hour + timedelta(hours=1))
        return self._hour

    def _start(self) -> list[Any]:
        return [self._next_hour()]

    _scheduled_at = _start

    def _start_date(self) -> list[Any]:
        return [self.clock.now().date()]

    _date = _start_date
    _as_of = _start_date

    def _end_date(self) -> list[Any]:
        return [self.clock.now().date() + timedelta(days=6)]

    def _since(self) -> list[Any]:
        return [self.clock.now() - timedelta(days=1)]

    _submitted_after = _since

    def _until(self) -> list[Any]:
        return [self.clock.now() + timedelta(days=1)]

    _submitted_before = _until

    def _due_date(self) -> list[Any]:
        return [self.clock.now().date() + timedelta(days=3)]

    # -- people -----------------------------------------------------------------

    def _member_id(self) -> list[Any]:
        return [self.member.id]

    def _coach_id(self) -> list[Any]:
        return [self.coach.id]

    def _admin_id(self) -> list[Any]:
        return [self.admin.id]

    _owner_id = _member_id
    _recipient_id = _member_id

    def _user_id(self) -> list[Any]:
        n = next(self._n)
        fresh = self.core.system.signup_member(name="Someone", email=f"someone{n}@example.com")
        return [fresh.id]

    # -- items ------------------------------------------------------------------

    def _booking(self) -> Any:
        as_member = self.core.acting_as(self.member.id)
        return as_member.bookings.create(coach_id=self.coach.id, start=self._next_hour())

    def _booking_id(self) -> list[Any]:
        return [self._booking().id]

    def _session_id_at(self, index: int) -> Any:
        """A scheduled session; then one that has started (the clock moves past
        its start); then a completed one."""
        session_id = self._booking().session_id
        if index > 0:
            self.clock.set(self._hour + timedelta(minutes=30))
        if index > 1:
            self.core.system.sessions.complete(session_id)
        return session_id

    def _window_id(self) -> list[Any]:
        return [self.core.system.availability.list(coach_id=self.coach.id)[0].id]

    def _override_id(self) -> list[Any]:
        day = self.clock.now().date() + timedelta(days=30 + next(self._n))
        found = self.core.system.scheduling.add_override(
            date=day, kind="block", coach_id=self.coach.id
        )
        return [found.id]

    def _relationship_id(self) -> list[Any]:
        return [r.id for r in self.core.system.relationships.list(member_id=self.member.id)]

    def _issued(self, email: str) -> Any:
        issued = self.core.acting_as(self.coach.id).invitations.create(email=email)
        self.tokens.append(issued.token)
        return issued

    def _invitation_id(self) -> list[Any]:
        return [self._issued(f"invitee{next(self._n)}@example.com").invitation.id]

    def _token(self) -> list[Any]:
        return [
            self._issued(self.member.email).token,
            self._issued(f"invitee{next(self._n)}@example.com").token,
        ]

    def _interest_id(self) -> list[Any]:
        seeker = self._user_id()[0]  # a member without a coach
        return [self.core.acting_as(seeker).interest.submit(goals=NEUTRAL).id]

    def _organization_id(self) -> list[Any]:
        org = self.core.system.organizations.create(
            name=NEUTRAL, kind="client_company", admin_id=self.admin.id
        )
        self.core.system.organizations.add_member(org.id, self.member.id)
        self.core.system.organizations.add_member(org.id, self.coach.id)
        return [org.id]

    def _plan_id(self) -> list[Any]:
        plans = self.core.acting_as(self.coach.id).action_plans
        return [plans.create(title=NEUTRAL, member_id=self.member.id).id]

    def _item_id(self) -> list[Any]:
        items = self.core.acting_as(self.coach.id).action_items
        return [items.create(title=NEUTRAL, member_id=self.member.id).id]

    def _note_id(self) -> list[Any]:
        notes = self.core.acting_as(self.coach.id).quick_notes
        return [notes.create(member_id=self.member.id, body=NEUTRAL).id]

    def _document_id(self) -> list[Any]:
        documents = self.core.acting_as(self.member.id).documents
        uploaded = documents.upload(
            title=NEUTRAL, filename="notes.txt", content=b"plain", content_type="text/plain"
        )
        return [uploaded.id]

    def _conversation_id(self) -> list[Any]:
        return [c.id for c in self.core.system.conversations.list(user_id=self.member.id)][:1]

    def _entry_id(self) -> list[Any]:
        return []

    def _idempotency_key(self) -> list[Any]:
        """The host's request id: an identifier compared for equality, not text."""
        return [str(uuid.uuid4())]

    # -- numbers, choices, bytes ------------------------------------------------

    def _duration(self) -> list[Any]:
        return [60]

    def _rating(self) -> list[Any]:
        return [5]

    def _current_score(self) -> list[Any]:
        return [7.0]

    def _content(self) -> list[Any]:
        return [b"zq-bytes"]

    def _content_type(self) -> list[Any]:
        return ["text/plain"]

    def _day_of_week(self) -> list[Any]:
        return [3]

    def _start_time(self) -> list[Any]:
        return ["09:00"]

    def _end_time(self) -> list[Any]:
        return ["10:00"]

    def _kind(self) -> list[Any]:
        return ["client_company", "block"]

    def _role(self) -> list[Any]:
        return [Role.MEMBER.value, "member"]

    def _status(self) -> list[Any]:
        return ["active", "completed"]

    def _changes(self) -> list[Any]:
        return [{}]


@attrs.define
class Sweep:
    """What one sweep wrote: marker -> "actor: method(parameter)"."""

    written: dict[str, str] = attrs.Factory(dict)
    refused: dict[str, str] = attrs.Factory(dict)
    counter: Iterator[int] = attrs.Factory(itertools.count)

    def marker(self) -> str:
        return f"zq{next(self.counter):04d}qz"

    def mark(self, where: str) -> str:
        """A fresh marker, recorded as written at ``where``."""
        marker = self.marker()
        self.written[marker] = where
        return marker

    def accepted(self) -> set[str]:
        """The "method(parameter)" names that took a marker."""
        return {where.split(": ", 1)[1] for where in self.written.values()}


def sweep(
    core: coachcore.Core,
    fixtures: Fixtures,
    actor: str | Callable[[], str],
    label: str,
    into: Sweep,
) -> None:
    """Call every public method of the actor's scope once per parameter, that
    parameter carrying a marker (``actor``: a user id, or a function making a
    fresh user for each call)."""
    template = core.acting_as(actor if isinstance(actor, str) else actor())
    for name, _ in public_methods(template):
        if name in NOT_SWEPT:
            continue
        for parameter in inspect.signature(_method(template, name)).parameters.values():
            if fixtures.knows(parameter.name):
                continue  # ids, times, numbers, choices: not text
            scope = template if isinstance(actor, str) else core.acting_as(actor())
            method = _method(scope, name)
            marker = into.marker()
            where = f"{label}: {name}({parameter.name})"
            parameters = list(inspect.signature(method).parameters.values())
            why = _call(method, parameters, parameter.name, marker, fixtures)
            if why is None:
                into.written[marker] = where
            else:
                into.refused[marker] = f"{where}: {why}"


def about_member(core: coachcore.Core, fixtures: Fixtures, into: Sweep) -> None:
    """Markers through what others write about the member, called directly:
    the reasons of declined coaching requests (a coach declining the member's,
    the member declining a coach's) and a coach's override reasons placing and
    moving a session of the member outside the slot rules."""
    other = core.system.users.create(name="Otto", email="otto@example.com", role=Role.COACH)
    as_other, as_member = core.acting_as(other.id), core.acting_as(fixtures.member.id)
    asked = as_member.relationships.request(coach_id=other.id)
    declined = into.mark("coach: relationships.decline(reason)")
    as_other.relationships.decline(asked.id, reason=declined)
    offered = as_other.relationships.request(coach_id=other.id, member_id=fixtures.member.id)
    declined = into.mark("member: relationships.decline(reason)")
    as_member.relationships.decline(offered.id, reason=declined)
    as_coach = core.acting_as(fixtures.coach.id)
    placed = as_coach.sessions.create(
        member_id=fixtures.member.id,
        coach_id=fixtures.coach.id,
        scheduled_at=fixtures._next_hour(),
        override=True,
        override_reason=into.mark("coach: sessions.create(override_reason)"),
    )
    as_coach.sessions.update(
        placed.id,
        scheduled_at=fixtures._next_hour(),
        override=True,
        override_reason=into.mark("coach: sessions.update(override_reason)"),
    )


def _method(scope: Any, name: str) -> Callable[..., Any]:
    owner, _, method = name.rpartition(".")
    found: Callable[..., Any] = getattr(getattr(scope, owner) if owner else scope, method)
    return found


def _call(
    method: Callable[..., Any],
    parameters: list[inspect.Parameter],
    marked: str,
    marker: str,
    fixtures: Fixtures,
) -> str | None:
    """None if the method accepted the marker in one of its forms, else why not.

    State 0 passes the required parameters only, later states the optional
    ones the fixtures know too, with later candidates (a started session, a
    completed one). The next form of the marker is tried only when the core
    refused the marked parameter itself.
    """
    why: str | None = None
    for state in range(4):
        kwargs = _arguments(parameters, marked, fixtures, state)
        if kwargs is None:
            continue
        for form in (marker, f"{marker}@example.com", [marker]):
            try:
                method(**{**kwargs, marked: form})
            except ValidationFailed as error:
                why = why or f"ValidationFailed: {error}"
                if (error.details or {}).get("field") == marked:
                    continue  # another form of the marker may do
                break
            except Exception as error:  # the junk-input tests judge the error types
                why = why or f"{type(error).__name__}: {error}"
                break
            return None
    return why or "no candidate for a required parameter"


def _arguments(
    parameters: list[inspect.Parameter], marked: str, fixtures: Fixtures, state: int
) -> dict[str, Any] | None:
    """Values of the other parameters in ``state`` (None: one cannot be made)."""
    kwargs: dict[str, Any] = {}
    for p in parameters:
        if p.name == marked:
            continue
        optional = p.default is not inspect.Parameter.empty
        if optional and (state == 0 or not fixtures.knows(p.name)):
            continue
        if not fixtures.knows(p.name):
            kwargs[p.name] = neutral()
            continue
        value = fixtures.candidate(p.name, max(state - 1, 0))
        if value is UNAVAILABLE:
            return None
        kwargs[p.name] = value
    return kwargs


def markers_in(data: bytes) -> set[str]:
    return {m.decode("ascii") for m in MARKER.findall(data)}


def scan_sqlite(path: Path) -> bytes:
    """The database file and its WAL, as bytes."""
    parts = (path, path.with_name(path.name + "-wal"))
    return b"\n".join(part.read_bytes() for part in parts if part.exists())


def scan_postgresql(engine: sa.Engine, prefix: str = "coachcore_") -> bytes:
    """Every text, varchar, json and bytea column of the tables (found in
    information_schema), as bytes."""
    kinds = ("text", "character varying", "json", "jsonb", "bytea")
    found: list[bytes] = []
    with engine.connect() as conn:
        columns = conn.execute(
            sa.text(
                "SELECT table_name, column_name, data_type FROM information_schema.columns "
                "WHERE table_schema = current_schema() AND data_type = ANY(:kinds) "
                "AND table_name LIKE :prefix"
            ),
            {"kinds": list(kinds), "prefix": prefix + "%"},
        ).all()
        for table, column, kind in columns:
            text = f"encode(\"{column}\", 'escape')" if kind == "bytea" else f'"{column}"::text'
            rows = conn.execute(sa.text(f'SELECT {text} FROM "{table}"')).scalars()
            found.append("\n".join(v for v in rows if v is not None).encode())
    return b"\n".join(found)


def clock() -> FixedClock:
    return FixedClock(datetime(2030, 1, 1, 8, tzinfo=UTC))


def today() -> date:
    return date(2030, 1, 1)
