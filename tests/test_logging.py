"""coachcore's log records: silent by default, structured when the host listens."""

from __future__ import annotations

import logging
import subprocess
import sys
from datetime import date

import pytest

import coachcore
from coachcore.errors import Forbidden, NotFound
from world import World

MONDAY = date(2030, 1, 7)


def _records(caplog: pytest.LogCaptureFixture, use_case: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if getattr(r, "use_case", None) == use_case]


def test_the_library_logger_has_a_null_handler() -> None:
    handlers = logging.getLogger("coachcore").handlers
    assert any(isinstance(h, logging.NullHandler) for h in handlers)


def test_a_warning_never_reaches_stderr_when_the_host_set_up_no_logging() -> None:
    code = (
        "import logging, coachcore\n"
        "logging.getLogger('coachcore.store').warning('store trouble')\n"
        "logging.getLogger('coachcore.use_cases').warning('denied')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0 and done.stderr == ""


def test_a_booking_is_logged_with_use_case_actor_and_ids(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="coachcore")
    _coach, member, booking = world.first_booking(MONDAY)
    (record,) = _records(caplog, "bookings.create")
    assert record.levelno == logging.INFO and record.name == "coachcore.use_cases"
    assert record.actor_id == member.id  # type: ignore[attr-defined]
    assert record.outcome == "done"  # type: ignore[attr-defined]
    assert record.ids == {"booking_id": booking.id}  # type: ignore[attr-defined]
    assert booking.id in record.getMessage()


def test_a_denied_call_is_a_warning_and_a_failed_one_names_its_error(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="coachcore")
    _coach, member, booking = world.first_booking(MONDAY)
    other = world.member(world.coach())
    with pytest.raises(Forbidden):
        world.core.acting_as(other.id).bookings.cancel(booking.id)
    (denied,) = _records(caplog, "bookings.cancel")
    assert (denied.levelno, denied.outcome) == (logging.WARNING, "denied")  # type: ignore[attr-defined]
    assert denied.actor_id == other.id and denied.error == "Forbidden"  # type: ignore[attr-defined]
    caplog.clear()
    with pytest.raises(NotFound):
        world.core.acting_as(member.id).bookings.cancel("no-such-booking")
    (failed,) = _records(caplog, "bookings.cancel")
    assert (failed.levelno, failed.outcome) == (logging.INFO, "failed")  # type: ignore[attr-defined]
    assert failed.error == "NotFound"  # type: ignore[attr-defined]


def test_nothing_is_formatted_when_nobody_listens(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="coachcore")
    world.first_booking(MONDAY)
    assert _records(caplog, "bookings.create") == []
    assert coachcore.__version__  # the package's import set the handler up
