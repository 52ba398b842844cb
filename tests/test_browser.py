"""The booking page in headless Chromium against a live uvicorn server.

Uses Debian's ``chromium`` (/usr/bin/chromium, installed by .ci/run) driven by
Playwright; no browser is ever downloaded.
"""

from __future__ import annotations

import socket
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip(
        "Debian's chromium is not installed at /usr/bin/chromium (.ci/run installs it)",
        allow_module_level=True,
    )
pytest.importorskip("playwright", reason="playwright is not installed (the test extra has it)")
pytest.importorskip("uvicorn", reason="uvicorn is not installed (the test extra has it)")

import httpx  # noqa: E402
import uvicorn  # noqa: E402
from playwright.sync_api import Page, WebSocketRoute, expect, sync_playwright  # noqa: E402

import coachcore  # noqa: E402
from coachcore import Role  # noqa: E402
from coachcore.adapters.clock import FixedClock  # noqa: E402

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
if str(EXAMPLES) not in sys.path:
    sys.path.insert(0, str(EXAMPLES))

from fastapi_app import SlotHub, create_app  # noqa: E402

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
T0 = datetime(2030, 1, 1, 8, 0, tzinfo=UTC)
DAY = "2030-01-07"  # a Monday: 09:00, 10:00 and 11:00 Berlin, 2 seats each
NINE = "2030-01-07T08:00:00.000Z"  # data-start of the slots (UTC, as the page writes them)
TEN = "2030-01-07T09:00:00.000Z"
ELEVEN = "2030-01-07T10:00:00.000Z"
FULL_MESSAGE = "This slot is now full, please choose another"


class LiveServer:
    """uvicorn serving the example app on 127.0.0.1, on a free port, in a thread."""

    def __init__(self, app: Any) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        config = uvicorn.Config(app, log_level="warning", lifespan="on", ws="auto")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.sock.close()


@pytest.fixture
def site() -> Iterator[tuple[LiveServer, dict[str, str]]]:
    hub = SlotHub()
    core = coachcore.open("memory://", clock=FixedClock(T0), plugins=[hub])
    coach = core.system.users.create(
        name="Cleo", email="cleo@example.com", role=Role.COACH, timezone="Europe/Berlin"
    )
    core.acting_as(coach.id).availability.create(
        day_of_week=1,
        start_time="09:00",
        end_time="12:00",
        max_sessions_per_slot=2,
        buffer_minutes=0,
    )
    ids = {"coach": coach.id}
    for name in ("ada", "ben", "cy"):
        ids[name] = core.system.signup_member(
            name=name.title(), email=f"{name}@example.com", coach_id=coach.id
        ).id
    with LiveServer(create_app(core, hub)) as server:
        yield server, ids
    core.close()


def _book(server: LiveServer, user: str, coach: str, start: str) -> httpx.Response:
    return httpx.post(
        f"{server.url}/api/bookings",
        headers={"X-User-Id": user},
        json={"coach_id": coach, "start": start.replace(".000Z", "+00:00")},
        timeout=10,
    )


def _slot(page: Page, start: str) -> Any:
    return page.locator(f'#slots li[data-start="{start}"]')


def test_page_books_and_disables_a_slot_another_client_fills(
    site: tuple[LiveServer, dict[str, str]],
) -> None:
    server, ids = site
    # someone already holds one seat of 11:00 before the page opens
    assert _book(server, ids["cy"], ids["coach"], ELEVEN).status_code == 201

    dropping = threading.Event()  # set: the page stops hearing live messages

    def relay(ws: WebSocketRoute) -> None:
        upstream = ws.connect_to_server()
        upstream.on_message(lambda message: None if dropping.is_set() else ws.send(message))

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.route_web_socket("**/ws/coaches/**", relay)
            page.goto(f"{server.url}/?user={ids['ada']}&from={DAY}&to={DAY}")
            expect(page.locator("#live")).to_have_text("connected", timeout=10_000)
            expect(page.locator("#who")).to_have_text("Signed in as Ada")
            expect(page.locator("#slots li")).to_have_count(3)
            expect(_slot(page, ELEVEN)).to_contain_text("1 of 2 seats free")

            # member A books 09:00 on the page and sees it confirmed
            _slot(page, NINE).get_by_role("button", name="Book").click()
            expect(page.locator("#status")).to_have_text("Booked Mon 2030-01-07 09:00: confirmed")
            expect(page.locator("#bookings li")).to_have_count(1)
            expect(page.locator("#bookings li")).to_contain_text("2030-01-07 09:00 (60 min)")
            expect(_slot(page, NINE)).to_contain_text("1 of 2 seats free, you have a seat")
            expect(_slot(page, NINE).get_by_role("button")).to_be_disabled()  # no second seat

            # another client takes the last seat of 11:00: the page disables it, no reload
            assert _book(server, ids["ben"], ids["coach"], ELEVEN).status_code == 201
            expect(_slot(page, ELEVEN).get_by_role("button")).to_be_disabled()
            expect(_slot(page, ELEVEN)).to_contain_text("Full")
            expect(_slot(page, TEN).get_by_role("button")).to_be_enabled()
            expect(_slot(page, NINE)).to_contain_text("you have a seat")  # live lists keep it

            # a seat frees up: enabled again
            cy_booking = next(
                b
                for b in httpx.get(
                    f"{server.url}/api/bookings", headers={"X-User-Id": ids["cy"]}, timeout=10
                ).json()
                if b["status"] == "confirmed"
            )
            cancelled = httpx.delete(
                f"{server.url}/api/bookings/{cy_booking['id']}",
                headers={"X-User-Id": ids["cy"]},
                timeout=10,
            )
            assert cancelled.status_code == 200
            expect(_slot(page, ELEVEN).get_by_role("button")).to_be_enabled()
            expect(_slot(page, ELEVEN)).to_contain_text("1 of 2 seats free")

            # losing a race: the page has not heard that 10:00 filled, the API says 409
            dropping.set()
            for member in ("ben", "cy"):
                assert _book(server, ids[member], ids["coach"], TEN).status_code == 201
            expect(_slot(page, TEN).get_by_role("button")).to_be_enabled()
            _slot(page, TEN).get_by_role("button", name="Book").click()
            expect(page.locator("#status")).to_have_text(FULL_MESSAGE)
            expect(_slot(page, TEN).get_by_role("button")).to_be_disabled()
            expect(page.locator("#bookings li")).to_have_count(1)
        finally:
            browser.close()
