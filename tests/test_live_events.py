"""Live slot events across app servers on PostgreSQL (``coachcore.adapters.pglive``).

Every listener (one per app server) gets every committed broadcast event once:
announced by ``NOTIFY``, read back from the outbox, and caught up from the
outbox after a lost connection. The last test runs two uvicorn processes of the
FastAPI example with a WebSocket client each.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from backends import T0, BackendPool, BackendUnavailable, SqlBackend
from coachcore.adapters.clock import FixedClock
from coachcore.errors import ValidationFailed
from world import World

psycopg = pytest.importorskip("psycopg", reason="psycopg (3) is not installed")

from coachcore.adapters.pglive import LiveListener, LiveRelay, channel_name  # noqa: E402

MONDAY = date(2030, 1, 7)
EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@pytest.fixture
def pg(backend_pool: BackendPool) -> Iterator[SqlBackend]:
    try:
        backend = backend_pool.get("postgresql")
    except BackendUnavailable as why:
        pytest.skip(str(why))
    assert isinstance(backend, SqlBackend)
    yield backend
    backend.release()


class Inbox:
    """What one listener handed on, in order (thread-safe)."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self._changed = threading.Condition()

    def put(self, event: dict[str, Any]) -> None:
        with self._changed:
            self.events.append(event)
            self._changed.notify_all()

    def wait_for(self, found: Callable[[list[dict[str, Any]]], bool], timeout: float = 10) -> None:
        with self._changed:
            if not self._changed.wait_for(lambda: found(self.events), timeout):
                raise AssertionError(f"not received in {timeout} s; got {self.events}")

    def ids(self) -> list[str]:
        with self._changed:
            return [e["event_id"] for e in self.events]


def booked(start: str) -> Callable[[list[dict[str, Any]]], bool]:
    return lambda events: any(
        e.get("change") == "booked" and e.get("start") == start for e in events
    )


@pytest.fixture
def listeners(pg: SqlBackend) -> Iterator[Callable[..., tuple[LiveListener, Inbox]]]:
    made: list[LiveListener] = []

    def make(**options: Any) -> tuple[LiveListener, Inbox]:
        inbox = Inbox()
        listener = LiveListener(pg.url(), inbox.put, **options)
        made.append(listener)
        listener.start(wait=10)
        assert listener.listening.is_set()
        return listener, inbox

    yield make
    for listener in made:
        listener.stop()


@pytest.fixture
def relay(pg: SqlBackend) -> Iterator[LiveRelay]:
    relay = LiveRelay(pg.engine)
    yield relay
    relay.close()


@pytest.mark.parametrize("url", ["sqlite:///coaching.db", "memory://"])
def test_other_stores_keep_the_in_process_hub(url: str) -> None:
    with pytest.raises(ValidationFailed, match="PostgreSQL"):
        LiveRelay(url)
    with pytest.raises(ValidationFailed, match="PostgreSQL"):
        LiveListener(url, lambda event: None)


def test_each_listener_gets_each_committed_event_once(
    pg: SqlBackend, relay: LiveRelay, listeners: Callable[..., tuple[LiveListener, Inbox]]
) -> None:
    world = World(pg.open(FixedClock(T0), plugins=[relay]), FixedClock(T0))
    (_, a), (_, b) = listeners(poll=4.0), listeners(poll=4.0)
    coach, member, booking = world.first_booking(MONDAY)
    start = booking.start.isoformat()
    a.wait_for(booked(start))
    b.wait_for(booked(start))
    began = time.monotonic()
    world.core.acting_as(member.id).bookings.cancel(booking.id)
    for inbox in (a, b):
        inbox.wait_for(lambda events: any(e.get("change") == "cancelled" for e in events))
    # handed on as it arrives, not when the listener's 4-second wait ends
    assert time.monotonic() - began < 2
    time.sleep(0.3)  # room for a duplicate to show up
    assert a.ids() == b.ids()
    assert len(set(a.ids())) == len(a.ids()) == 3  # window, booking, cancellation
    kinds = [(e["type"], e.get("change")) for e in a.events]
    assert kinds == [
        ("availability_changed", None),
        ("slot_changed", "booked"),
        ("slot_changed", "cancelled"),
    ]
    assert all(e["coach_id"] == coach.id for e in a.events)
    outbox = {m.idempotency_key: m.payload for m in world.core.system.outbox.pending()}
    delivered = pg.engine.connect()
    try:
        rows = delivered.exec_driver_sql(
            "SELECT idempotency_key, payload FROM coachcore_outbox WHERE channel = 'broadcast'"
        ).all()
    finally:
        delivered.close()
    assert {key: payload for key, payload in rows} == {e["event_id"]: e for e in a.events}
    assert not any(key in outbox for key in a.ids())  # the dispatcher delivered them too


def test_the_announcement_carries_only_the_id_and_kind(pg: SqlBackend, relay: LiveRelay) -> None:
    world = World(pg.open(FixedClock(T0), plugins=[relay]), FixedClock(T0))
    with psycopg.connect(
        str(pg.engine.url.set(drivername="postgresql").render_as_string(False)), autocommit=True
    ) as conn:
        conn.execute(f'LISTEN "{channel_name()}"')
        world.first_booking(MONDAY)
        got = [json.loads(n.payload) for n in conn.notifies(timeout=3, stop_after=2)]
    assert [sorted(p) for p in got] == [["id", "kind"], ["id", "kind"]]
    assert [p["kind"] for p in got] == ["availability_changed", "slot_changed"]


def test_a_repeated_announcement_is_handed_on_once(
    pg: SqlBackend, relay: LiveRelay, listeners: Callable[..., tuple[LiveListener, Inbox]]
) -> None:
    """A dispatcher that crashed after NOTIFY re-delivers: listeners drop the repeat."""
    world = World(pg.open(FixedClock(T0), plugins=[relay]), FixedClock(T0))
    _, inbox = listeners()
    _, _, booking = world.first_booking(MONDAY)
    inbox.wait_for(booked(booking.start.isoformat()))
    again = dict(inbox.events[-1])
    for _ in range(3):
        relay.coachcore_broadcast(again)
    sent_before = relay.sent
    marker = world.coach()  # a later event proves the repeats were processed first
    world.window(marker, 1, "09:00", "10:00")
    inbox.wait_for(lambda events: any(e["coach_id"] == marker.id for e in events))
    assert relay.sent == sent_before + 1
    assert len(inbox.ids()) == len(set(inbox.ids())) == 3


def test_junk_on_the_channel_and_a_failing_consumer_do_not_stop_the_listener(
    pg: SqlBackend, relay: LiveRelay, listeners: Callable[..., tuple[LiveListener, Inbox]]
) -> None:
    world = World(pg.open(FixedClock(T0), plugins=[relay]), FixedClock(T0))
    listener, inbox = listeners()
    failing = LiveListener(pg.url(), lambda event: 1 / 0).start(wait=10)
    try:
        with pg.engine.connect() as conn:
            for junk in ("", "not json", "[1]", '{"id": 7}', '{"id": "no-such-event"}'):
                conn.exec_driver_sql(f"NOTIFY \"{relay.channel}\", '{junk}'")
            conn.commit()
        _, _, booking = world.first_booking(MONDAY)
        inbox.wait_for(booked(booking.start.isoformat()))
        deadline = time.monotonic() + 10
        while failing.delivered < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert failing.delivered == 2  # both events reached its consumer, which raised
        assert failing.listening.is_set() and listener.listening.is_set()
        assert listener.connections == failing.connections == 1
        assert len(inbox.ids()) == 2
    finally:
        failing.stop()


def test_a_listener_that_lost_its_connection_catches_up_from_the_outbox(
    pg: SqlBackend, relay: LiveRelay, listeners: Callable[..., tuple[LiveListener, Inbox]]
) -> None:
    world = World(pg.open(FixedClock(T0), plugins=[relay]), FixedClock(T0))
    listener, inbox = listeners(retry_every=4.0)
    _, steady = listeners()
    pid = listener.backend_pid
    with pg.engine.connect() as conn:
        conn.exec_driver_sql(f"SELECT pg_terminate_backend({pid})")
    deadline = time.monotonic() + 5
    while listener.listening.is_set() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not listener.listening.is_set()
    _, _, booking = world.first_booking(MONDAY)  # announced while it is away
    steady.wait_for(booked(booking.start.isoformat()))
    assert inbox.events == []
    inbox.wait_for(booked(booking.start.isoformat()))
    assert listener.connections == 2
    assert listener.caught_up == 2  # the window and the booking
    # a catch-up goes by creation time (one instant here, then by id), not commit order
    assert sorted(inbox.ids()) == sorted(steady.ids())
    assert len(set(inbox.ids())) == 2


def test_a_stopped_listener_resumes_where_it_stopped(
    pg: SqlBackend, relay: LiveRelay, listeners: Callable[..., tuple[LiveListener, Inbox]]
) -> None:
    world = World(pg.open(FixedClock(T0), plugins=[relay]), FixedClock(T0))
    listener, inbox = listeners()
    coach, member, first = world.first_booking(MONDAY)
    inbox.wait_for(booked(first.start.isoformat()))
    listener.stop()
    world.advance(minutes=5)
    later = world.slots(member, coach, MONDAY)[0].start
    world.book(member, coach, later)
    time.sleep(0.2)
    assert not booked(later.isoformat())(inbox.events)
    listener.start(wait=10)
    inbox.wait_for(booked(later.isoformat()))
    assert len(inbox.ids()) == len(set(inbox.ids())) == 3


def test_a_new_listener_does_not_replay_history(
    pg: SqlBackend, relay: LiveRelay, listeners: Callable[..., tuple[LiveListener, Inbox]]
) -> None:
    world = World(pg.open(FixedClock(T0), plugins=[relay]), FixedClock(T0))
    world.first_booking(MONDAY)
    _, inbox = listeners(resync_every=0.2)
    time.sleep(0.6)  # several catch-ups
    assert inbox.events == []


def test_an_event_never_announced_arrives_with_the_next_catch_up(
    pg: SqlBackend, listeners: Callable[..., tuple[LiveListener, Inbox]]
) -> None:
    """No relay at all (a failed NOTIFY): the periodic catch-up still finds the event."""
    world = World(pg.open(FixedClock(T0)), FixedClock(T0))
    listener, inbox = listeners(resync_every=0.3)
    _, _, booking = world.first_booking(MONDAY)
    inbox.wait_for(booked(booking.start.isoformat()), timeout=5)
    assert listener.caught_up == 2
    time.sleep(0.7)
    assert len(inbox.ids()) == len(set(inbox.ids())) == 2


# -- two app servers ---------------------------------------------------------------

SERVER = """
import json, sys, uvicorn
from fastapi_app.demo import build
app, ids = build(sys.argv[1])
print(json.dumps(ids), flush=True)
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), log_level="warning")
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """One app server process (the FastAPI example on PostgreSQL with its live listener)."""

    def __init__(self, url: str) -> None:
        self.port = _free_port()
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(EXAMPLES), *sys.path])}
        self.process = subprocess.Popen(
            [sys.executable, "-c", SERVER, url, str(self.port)],
            cwd=EXAMPLES,
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        self.ids: dict[str, str] = json.loads(self.process.stdout.readline() or "{}")
        self.base = f"http://127.0.0.1:{self.port}"

    def ready(self, httpx: Any) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                httpx.get(f"{self.base}/api/me", headers={"X-User-Id": self.ids["member_a"]})
                return
            except httpx.TransportError:
                time.sleep(0.1)
        raise AssertionError("the app server did not start")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def test_a_booking_on_one_app_server_reaches_the_sockets_of_both(pg: SqlBackend) -> None:
    httpx = pytest.importorskip("httpx")
    pytest.importorskip("uvicorn")
    pytest.importorskip("fastapi")
    ws = pytest.importorskip("websockets.sync.client")
    pg.release()
    pg.reset()
    servers = [Server(pg.url())]
    try:
        assert servers[0].ids, "the first server did not start"
        servers.append(Server(pg.url()))  # seeded by the first: reuses its people
        for server in servers:
            server.ready(httpx)
        ids = servers[0].ids
        assert servers[1].ids == ids
        member = {"X-User-Id": ids["member_a"]}
        path = f"/ws/coaches/{ids['coach']}/slots?user={ids['member_b']}"
        with contextlib.ExitStack() as stack:
            sockets = [
                stack.enter_context(ws.connect(f"ws://127.0.0.1:{s.port}{path}")) for s in servers
            ]
            for sock in sockets:
                assert json.loads(sock.recv(timeout=10))["type"] == "subscribed"
            slots = httpx.get(f"{servers[0].base}/api/coaches/{ids['coach']}/slots", headers=member)
            start = slots.json()["slots"][0]["start"]
            made = httpx.post(
                f"{servers[0].base}/api/bookings",
                json={"coach_id": ids["coach"], "start": start, "duration": 60},
                headers=member,
            )
            assert made.status_code == 201, made.text
            seen = [_messages(sock, quiet=2.0) for sock in sockets]
    finally:
        for server in servers:
            server.stop()
    for messages in seen:
        mine = [m for m in messages if m.get("type") == "slot_changed" and m["start"] == start]
        assert len(mine) == 1, messages
        assert mine[0]["change"] == "booked"
        assert mine[0]["available_capacity"] == 1  # 2 seats, one taken (re-queried)
    assert seen[0][0]["event_id"] == seen[1][0]["event_id"]


def _messages(sock: Any, quiet: float) -> list[dict[str, Any]]:
    """Every message until none came for ``quiet`` seconds."""
    got: list[dict[str, Any]] = []
    while True:
        try:
            got.append(json.loads(sock.recv(timeout=quiet)))
        except TimeoutError:
            return got
