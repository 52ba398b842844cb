"""Dispatcher processes killed with SIGKILL mid-batch re-send at most what was in flight.

Three dispatcher processes share one SQLite file or PostgreSQL database and a
slow notifier (about 40 ms per message) that appends each key it sends to an
attempts file and, like a receiver that de-duplicates by key, appends it to
an accepted file only the first time. The first process claims the whole batch
(every pending message); the parent kills it with SIGKILL once it has sent
``k`` notifications, at several ``k``, or it kills itself right after an
append (the worst moment: sent, not yet recorded). The other two poll all
along and take the rest over once the dead one's lease has ended.

Each run: no notification lost, at most one sent twice (the one in flight),
none accepted twice.
"""

from __future__ import annotations

import fcntl
import multiprocessing
import os
import signal
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import coachcore
from backends import T0, BackendPool, SqlBackend, emptied_sql_backend
from coachcore.adapters.clock import FixedClock
from coachcore.domain.entities import Notification
from test_outbox_faults import deferred_delivery, populate, stored_notifications

pytestmark = pytest.mark.slow

LEASE = timedelta(seconds=8)  # longer than the owner needs for the batch, even on a busy machine
SEND_TIME = 0.04  # seconds per notification
MEMBERS = 10  # 40 notifications, 40 messages on other channels


class RunningClock:
    """T0 plus the wall-clock time elapsed since ``epoch`` (shared by the processes)."""

    def __init__(self, epoch: float) -> None:
        self.epoch = epoch

    def now(self) -> datetime:
        return T0 + timedelta(seconds=time.time() - self.epoch)


class SlowFileNotifier:
    """Sends slowly; appends every attempt to ``attempts`` and, de-duplicating by
    key under a file lock, the first of each key to ``accepted``. Kills its own
    process right after the ``die_after``-th attempt, if given."""

    def __init__(self, directory: Path, die_after: int | None = None) -> None:
        self.attempts = directory / "attempts.log"
        self.accepted = directory / "accepted.log"
        self.die_after = die_after
        self.sent = 0

    def send(self, notification: Notification) -> None:
        time.sleep(SEND_TIME / 2)
        line = f"{notification.id}\n".encode()
        with open(self.accepted, "a+b") as accepted:
            fcntl.flock(accepted, fcntl.LOCK_EX)
            accepted.seek(0)
            if line not in accepted.read().splitlines(keepends=True):
                accepted.write(line)
                accepted.flush()
                os.fsync(accepted.fileno())
        _append(self.attempts, line)
        self.sent += 1
        if self.sent == self.die_after:
            os.kill(os.getpid(), signal.SIGKILL)
        time.sleep(SEND_TIME / 2)


def _append(path: Path, line: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line)
        os.fsync(fd)
    finally:
        os.close(fd)


def _owner(url: str, epoch: float, directory: str, die_after: int | None) -> None:
    """Claim every due message in one batch and deliver it (until killed)."""
    notifier = SlowFileNotifier(Path(directory), die_after)
    core = coachcore.open(url, clock=RunningClock(epoch), notifier=notifier)
    core.dispatcher.lease = LEASE
    core.system.outbox.dispatch()
    core.close()


def _helper(url: str, epoch: float, directory: str, deadline: float) -> None:
    """Dispatch every 100 ms until nothing is pending (or the deadline)."""
    core = coachcore.open(
        url, clock=RunningClock(epoch), notifier=SlowFileNotifier(Path(directory))
    )
    core.dispatcher.lease = LEASE
    while time.time() < deadline:
        core.system.outbox.dispatch()
        if not core.system.outbox.pending():
            break
        time.sleep(0.1)
    core.close()


def _lines(path: Path) -> list[str]:
    return path.read_text().split() if path.exists() else []


@pytest.fixture(params=["sqlite", "postgresql"])
def sql_backend(request: pytest.FixtureRequest, backend_pool: BackendPool) -> Iterator[SqlBackend]:
    yield from emptied_sql_backend(backend_pool, request.param)


#: (notifications sent before the kill, whether the process kills itself right
#: after that append instead of the parent killing it while it works on)
KILL_POINTS = [(1, False), (7, True), (16, False), (33, False), (40, True)]


@pytest.mark.parametrize(("kill_after", "itself"), KILL_POINTS)
def test_a_killed_dispatcher_resends_at_most_the_message_in_flight(
    sql_backend: SqlBackend, tmp_path: Path, kill_after: int, itself: bool
) -> None:
    clock = FixedClock(T0)
    core = sql_backend.open(clock)
    with deferred_delivery(core):
        users = populate(core, clock, members=MEMBERS, reminders=False)
    keys = stored_notifications(core, users)
    assert len(keys) == 4 * MEMBERS
    # the writes leased their messages to the writing process until T0 + 5 min
    epoch = time.time() - 6 * 60
    ctx = multiprocessing.get_context("fork" if sys.platform.startswith("linux") else "spawn")
    attempts = tmp_path / "attempts.log"

    owner = ctx.Process(
        target=_owner,
        args=(sql_backend.url(), epoch, str(tmp_path), kill_after if itself else None),
    )
    owner.start()
    _wait_for(lambda: len(_lines(attempts)) >= 1, owner)  # it holds the batch now
    deadline = time.time() + 60
    helpers = [
        ctx.Process(target=_helper, args=(sql_backend.url(), epoch, str(tmp_path), deadline))
        for _ in range(2)
    ]
    for helper in helpers:
        helper.start()
    if not itself:
        _wait_for(lambda: len(_lines(attempts)) >= kill_after, owner)
        os.kill(owner.pid or 0, signal.SIGKILL)
    owner.join(timeout=60)
    assert owner.exitcode == -signal.SIGKILL
    for helper in helpers:
        helper.join(timeout=90)
        assert helper.exitcode == 0

    sent = Counter(_lines(attempts))
    accepted = Counter(_lines(tmp_path / "accepted.log"))
    assert set(sent) == keys, "lost notifications"
    twice = [key for key, n in sent.items() if n > 1]
    assert len(twice) <= 1 and max(sent.values()) <= 2, f"sent again: {twice}"
    if itself:  # killed after sending, before recording: exactly that one comes again
        assert len(twice) == 1
    assert set(accepted) == keys and max(accepted.values()) == 1
    assert core.system.outbox.pending() == [] and core.system.outbox.failed() == []


def _wait_for(condition: Any, process: Any, timeout: float = 30) -> None:
    end = time.time() + timeout
    while not condition():
        assert process.is_alive() or condition(), "the dispatcher ended early"
        assert time.time() < end, "timed out"
        time.sleep(0.005)
