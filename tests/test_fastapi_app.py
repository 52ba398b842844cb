"""The FastAPI example host: REST flows, the error format, live slots over WebSocket."""

from __future__ import annotations

import queue
import sys
import threading
import warnings
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi", reason="the examples extra (fastapi) is not installed")
pytest.importorskip("httpx", reason="the examples extra (httpx) is not installed")

import coachcore
from coachcore import Role
from coachcore.adapters.clock import FixedClock
from coachcore.errors import SlotFull

with warnings.catch_warnings():  # starlette's TestClient nags about httpx's successor
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
if str(EXAMPLES) not in sys.path:
    sys.path.insert(0, str(EXAMPLES))

from fastapi_app import SlotHub, create_app  # noqa: E402

T0 = datetime(2030, 1, 1, 8, 0, tzinfo=UTC)  # a Tuesday
MONDAY_9_BERLIN = "2030-01-07T08:00:00+00:00"
MONDAY_10_BERLIN = "2030-01-07T09:00:00+00:00"
ERROR_KEYS = {"statusCode", "message", "error", "details"}


class Site:
    """A seeded core behind the app, and a TestClient with one helper per user."""

    def __init__(self, client: TestClient, core: coachcore.Core, clock: FixedClock) -> None:
        self.client, self.core, self.clock = client, core, clock
        system = core.system
        self.coach = system.users.create(
            name="Cleo", email="cleo@example.com", role=Role.COACH, timezone="Europe/Berlin"
        ).id
        as_coach = core.acting_as(self.coach).availability
        as_coach.create(
            day_of_week=1,
            start_time="09:00",
            end_time="12:00",
            max_sessions_per_slot=2,
            buffer_minutes=0,
        )  # Mondays: three 1-hour slots of 2 seats
        as_coach.create(
            day_of_week=3,
            start_time="09:00",
            end_time="12:00",
            max_sessions_per_slot=1,
            buffer_minutes=30,
        )  # Wednesdays: 1 seat, 30 min buffer: a booking blocks its neighbours
        self.members = [
            system.signup_member(name=n, email=f"{n}@example.com", coach_id=self.coach).id
            for n in ("ada", "ben", "cy")
        ]
        self.other_coach = system.users.create(
            name="Otto", email="otto@example.com", role=Role.COACH
        ).id

    def call(self, user: str | None, method: str, path: str, **kwargs: Any) -> Any:
        headers = dict(kwargs.pop("headers", {}))
        if user is not None:
            headers["X-User-Id"] = user
        return self.client.request(method, path, headers=headers, **kwargs)

    def ok(self, user: str, method: str, path: str, status: int = 200, **kwargs: Any) -> Any:
        response = self.call(user, method, path, **kwargs)
        assert response.status_code == status, response.text
        return response.json()

    def listing(self, user: str, day: str = "2030-01-07") -> list[dict[str, Any]]:
        found = self.ok(
            user,
            "GET",
            f"/api/coaches/{self.coach}/slots",
            params={"start_date": day, "end_date": day},
        )
        slots: list[dict[str, Any]] = found["slots"]
        return slots

    def slots(self, user: str, day: str = "2030-01-07") -> dict[str, int]:
        return {s["start"]: s["available_capacity"] for s in self.listing(user, day)}

    def seats(self, user: str, day: str = "2030-01-07") -> list[str]:
        """The listed starts where ``user`` already has a seat."""
        return [s["start"] for s in self.listing(user, day) if s["you_have_a_seat"]]

    def book(self, user: str, start: str, status: int = 201) -> Any:
        body = {"coach_id": self.coach, "start": start, "duration": 60}
        return self.ok(user, "POST", "/api/bookings", status=status, json=body)


@pytest.fixture
def site() -> Iterator[Site]:
    clock = FixedClock(T0)
    hub = SlotHub()
    core = coachcore.open("memory://", clock=clock, plugins=[hub])
    with TestClient(create_app(core, hub)) as client:
        yield Site(client, core, clock)
    core.close()


# -- REST ---------------------------------------------------------------------------


def test_member_books_sees_the_session_and_cancels_through_rest(site: Site) -> None:
    ada = site.members[0]
    assert site.slots(ada) == {
        MONDAY_9_BERLIN: 2,
        MONDAY_10_BERLIN: 2,
        "2030-01-07T10:00:00+00:00": 2,
    }
    assert site.seats(ada) == []
    booking = site.book(ada, MONDAY_9_BERLIN)
    assert booking["status"] == "confirmed" and booking["member_id"] == ada
    assert site.slots(ada)[MONDAY_9_BERLIN] == 1
    assert site.seats(ada) == [MONDAY_9_BERLIN]  # still listed: one seat left, not for Ada
    assert site.seats(site.members[1]) == []

    sessions = site.ok(ada, "GET", "/api/sessions")
    assert [(s["id"], s["status"]) for s in sessions] == [(booking["session_id"], "scheduled")]
    assert site.ok(ada, "GET", "/api/bookings")[0]["id"] == booking["id"]

    cancelled = site.ok(ada, "DELETE", f"/api/bookings/{booking['id']}")
    assert cancelled["status"] == "cancelled"
    assert site.slots(ada)[MONDAY_9_BERLIN] == 2
    assert site.seats(ada) == []
    session = site.ok(ada, "GET", f"/api/sessions/{booking['session_id']}")
    assert session["status"] == "cancelled"


def test_coach_completes_member_rates_and_dashboards_follow(site: Site) -> None:
    ada = site.members[0]
    booking = site.book(ada, MONDAY_9_BERLIN)
    sid = booking["session_id"]
    board = site.ok(ada, "GET", "/api/dashboards/member")
    assert board["next_session"]["id"] == sid and board["prompt_to_book"] is False
    assert board["coach"]["user_id"] == site.coach

    site.clock.set(datetime.fromisoformat(MONDAY_9_BERLIN) + timedelta(minutes=5))
    done = site.ok(
        site.coach,
        "POST",
        f"/api/sessions/{sid}/complete",
        json={"coach_notes": "private", "outcomes": "a plan"},
    )
    assert done["status"] == "completed" and done["coach_notes"] == "private"
    seen = site.ok(ada, "GET", f"/api/sessions/{sid}")
    assert seen["coach_notes"] is None and seen["outcomes"] == "a plan"  # redacted for members

    rated = site.ok(
        ada, "POST", f"/api/sessions/{sid}/rate", json={"rating": 5, "feedback": "Helpful"}
    )
    assert rated["rating"] == 5
    again = site.call(ada, "POST", f"/api/sessions/{sid}/rate", json={"rating": 4})
    assert again.status_code == 409 and again.json()["statusCode"] == 409

    coach_board = site.ok(site.coach, "GET", "/api/dashboards/coach")
    assert coach_board["coach"]["average_rating"] == 5.0
    assert coach_board["active_member_count"] == 3
    assert {a["kind"] for a in coach_board["recent_activity"]} >= {"booked", "completed", "rated"}


def test_session_cancel_endpoint_frees_the_seat(site: Site) -> None:
    ada = site.members[0]
    sid = site.book(ada, MONDAY_10_BERLIN)["session_id"]
    cancelled = site.ok(site.coach, "POST", f"/api/sessions/{sid}/cancel", json={"reason": "ill"})
    assert cancelled["status"] == "cancelled" and cancelled["cancellation_reason"] == "ill"
    assert site.slots(ada)[MONDAY_10_BERLIN] == 2
    assert (
        site.ok(ada, "GET", "/api/bookings", params={"status": "cancelled"})[0]["session_id"] == sid
    )


def test_the_last_seat_goes_to_one_member_and_the_loser_gets_the_409(site: Site) -> None:
    ada, ben, cy = site.members
    site.book(ada, MONDAY_9_BERLIN)
    site.book(ben, MONDAY_9_BERLIN)
    lost = site.call(
        cy, "POST", "/api/bookings", json={"coach_id": site.coach, "start": MONDAY_9_BERLIN}
    )
    assert lost.status_code == 409
    body = lost.json()
    assert body["message"] == "This slot is now full, please choose another"
    assert body["error"] == "Conflict" and body["statusCode"] == 409
    assert MONDAY_9_BERLIN not in site.slots(cy)


def _bad_requests(site: Site) -> list[tuple[str, str | None, str, str, dict[str, Any], int]]:
    ada = site.members[0]
    book = f"/api/coaches/{site.coach}/slots"
    good = {"coach_id": site.coach, "start": MONDAY_9_BERLIN}
    return [
        ("no user header", None, "GET", "/api/bookings", {}, 401),
        ("unknown user", "nobody", "GET", "/api/bookings", {}, 404),
        (
            "naive datetime",
            ada,
            "POST",
            "/api/bookings",
            {"json": {**good, "start": "2030-01-07T08:00:00"}},
            400,
        ),
        ("not a datetime", ada, "POST", "/api/bookings", {"json": {**good, "start": 7}}, 400),
        (
            "malformed JSON",
            ada,
            "POST",
            "/api/bookings",
            {"content": b"{oops", "headers": {"content-type": "application/json"}},
            400,
        ),
        ("bad query type", ada, "GET", book, {"params": {"duration": "long"}}, 400),
        (
            "end before start",
            ada,
            "GET",
            book,
            {"params": {"start_date": "2030-01-09", "end_date": "2030-01-07"}},
            400,
        ),
        (
            "another coach",
            ada,
            "POST",
            "/api/bookings",
            {"json": {**good, "coach_id": site.other_coach}},
            403,
        ),
        ("unknown booking", ada, "DELETE", "/api/bookings/nope", {}, 404),
        ("unknown session", ada, "GET", "/api/sessions/nope", {}, 404),
        (
            "member's view of the coach dashboard",
            ada,
            "GET",
            "/api/dashboards/coach",
            {"params": {"coach_id": site.coach}},
            403,
        ),
        (
            "outside availability",
            ada,
            "POST",
            "/api/bookings",
            {"json": {**good, "start": "2030-01-07T13:00:00+00:00"}},
            422,
        ),
        ("no such route", ada, "GET", "/api/nothing-here", {}, 404),
    ]


def test_every_error_comes_back_in_the_error_format_with_its_status(site: Site) -> None:
    for name, user, method, path, kwargs, status in _bad_requests(site):
        response = site.call(user, method, path, **kwargs)
        body = response.json()
        assert response.status_code == status, (name, response.text)
        assert set(body) == ERROR_KEYS, name
        assert body["statusCode"] == status and body["message"], name


def test_rating_out_of_range_and_completing_twice(site: Site) -> None:
    ada = site.members[0]
    sid = site.book(ada, MONDAY_9_BERLIN)["session_id"]
    site.clock.set(datetime.fromisoformat(MONDAY_9_BERLIN) + timedelta(hours=1))
    site.ok(site.coach, "POST", f"/api/sessions/{sid}/complete")
    twice = site.call(site.coach, "POST", f"/api/sessions/{sid}/complete")
    assert twice.status_code == 422 and twice.json()["error"] == "Unprocessable Entity"
    bad = site.call(ada, "POST", f"/api/sessions/{sid}/rate", json={"rating": 6})
    assert bad.status_code == 400 and "rating" in bad.json()["message"]


def test_the_booking_page_and_its_script_are_served(site: Site) -> None:
    page = site.client.get("/")
    assert page.status_code == 200 and 'id="slots"' in page.text
    script = site.client.get("/static/booking.js")
    assert script.status_code == 200 and "/ws/coaches/" in script.text


# -- WebSocket --------------------------------------------------------------------


class Watcher:
    """A WebSocket client whose messages a daemon thread collects (receive with timeout)."""

    def __init__(self, session: Any) -> None:
        self.session = session
        self.inbox: queue.Queue[Any] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        try:
            while True:
                self.inbox.put(self.session.receive_json())
        except Exception as closed:  # the socket or its portal went away
            self.inbox.put(closed)

    def next(self, match: Callable[[dict[str, Any]], bool], timeout: float = 5.0) -> Any:
        """The first message satisfying ``match``; fails after ``timeout`` seconds."""
        deadline = threading.Event()
        timer = threading.Timer(timeout, deadline.set)
        timer.start()
        try:
            while not deadline.is_set():
                try:
                    message = self.inbox.get(timeout=0.05)
                except queue.Empty:
                    continue
                if isinstance(message, Exception):
                    raise AssertionError(f"socket closed: {message!r}")
                if match(message):
                    return message
        finally:
            timer.cancel()
        raise AssertionError(f"no matching message within {timeout}s")


def _slot(start: str, available: int) -> Callable[[dict[str, Any]], bool]:
    def match(message: dict[str, Any]) -> bool:
        return (
            message.get("type") == "slot_changed"
            and datetime.fromisoformat(message["start"]) == datetime.fromisoformat(start)
            and message["available_capacity"] == available
        )

    return match


def _slot_at(start: str) -> Callable[[dict[str, Any]], bool]:
    def match(message: dict[str, Any]) -> bool:
        return message.get("type") == "slot_changed" and datetime.fromisoformat(
            message["start"]
        ) == datetime.fromisoformat(start)

    return match


def _watch(site: Site, user: str) -> Any:
    return site.client.websocket_connect(f"/ws/coaches/{site.coach}/slots?user={user}")


def test_two_watchers_see_a_slot_fill_and_free_again(site: Site) -> None:
    ada, ben, cy = site.members
    with _watch(site, ada) as first, _watch(site, cy) as second:
        watchers = [Watcher(first), Watcher(second)]
        for w in watchers:
            assert w.next(lambda m: m["type"] == "subscribed")["coach_id"] == site.coach

        site.book(ada, MONDAY_10_BERLIN)
        for w in watchers:
            seen = w.next(_slot(MONDAY_10_BERLIN, 1))
            assert seen["coach_id"] == site.coach and seen["max_capacity"] == 2

        booking = site.book(ben, MONDAY_10_BERLIN)
        for w in watchers:
            full = w.next(_slot(MONDAY_10_BERLIN, 0))
            assert full["change"] == "booked" and full["coach_id"] == site.coach
            # the listing of that day, as a fresh page load would see it
            assert MONDAY_10_BERLIN not in {s["start"] for s in full["day"]}

        site.ok(ben, "DELETE", f"/api/bookings/{booking['id']}")
        for w in watchers:
            freed = w.next(_slot(MONDAY_10_BERLIN, 1))
            assert freed["change"] == "cancelled"  # the event lacked the count: re-queried
            assert freed["coach_id"] == site.coach


def test_bookings_from_many_threads_reach_every_watcher_in_order(site: Site) -> None:
    eleven = "2030-01-07T10:00:00+00:00"
    start = datetime.fromisoformat(eleven)
    outcomes: list[str] = []

    def book(member: str) -> None:
        try:
            site.core.acting_as(member).bookings.create(coach_id=site.coach, start=start)
            outcomes.append("confirmed")
        except SlotFull:
            outcomes.append("full")

    with _watch(site, site.members[0]) as socket:
        watcher = Watcher(socket)
        watcher.next(lambda m: m["type"] == "subscribed")
        threads = [threading.Thread(target=book, args=(m,)) for m in site.members]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=10)
        assert sorted(outcomes) == ["confirmed", "confirmed", "full"]  # 2 seats, 3 members
        counts = [watcher.next(_slot_at(eleven))["available_capacity"] for _ in range(2)]
        assert counts[-1] == 0 and counts == sorted(counts, reverse=True)


def test_a_booking_blocks_buffered_neighbours_and_watchers_learn_it(site: Site) -> None:
    ada = site.members[0]
    wednesday = "2030-01-09"
    before = site.slots(ada, wednesday)
    assert len(before) == 3
    first, second, _ = sorted(before)
    with _watch(site, ada) as socket:
        watcher = Watcher(socket)
        watcher.next(lambda m: m["type"] == "subscribed")
        site.book(ada, first)
        message = watcher.next(_slot(first, 0))
        assert message["date"] == wednesday
        # 09:00 taken with a 30 min buffer: 10:00 is blocked too, 11:00 is not
        assert [s["start"] for s in message["day"]] == sorted(site.slots(ada, wednesday))
        assert second not in {s["start"] for s in message["day"]}


def test_availability_changes_are_pushed(site: Site) -> None:
    with _watch(site, site.members[0]) as socket:
        watcher = Watcher(socket)
        watcher.next(lambda m: m["type"] == "subscribed")
        site.core.acting_as(site.coach).availability.create(
            day_of_week=5, start_time="14:00", end_time="16:00"
        )
        message = watcher.next(lambda m: m["type"] == "availability_changed")
        event_id = message.pop("event_id")
        assert message == {"type": "availability_changed", "coach_id": site.coach}
        assert isinstance(event_id, str) and len(event_id) == 36


def test_watching_needs_a_user_who_may_see_the_coach(site: Site) -> None:
    with site.client.websocket_connect(f"/ws/coaches/{site.coach}/slots") as socket:
        refused = socket.receive_json()
    assert refused["type"] == "error" and refused["statusCode"] == 401
    with site.client.websocket_connect(
        f"/ws/coaches/nobody/slots?user={site.members[0]}"
    ) as socket:
        missing = socket.receive_json()
    assert missing["statusCode"] == 404 and set(missing) == ERROR_KEYS | {"type"}


def test_nobody_watching_means_no_hub_work(site: Site) -> None:
    hub: SlotHub = site.client.app.state.hub  # type: ignore[attr-defined]
    site.book(site.members[0], MONDAY_9_BERLIN)
    assert hub.published == 0 and hub.watchers(site.coach) == 0
