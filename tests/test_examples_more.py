"""The examples beyond the quickstart run and show what they promise."""

from __future__ import annotations

import runpy
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def _example(name: str) -> dict[str, Any]:
    return runpy.run_path(str(EXAMPLES / name))


def test_sqlite_data_survives_closing_and_reopening(tmp_path: Path) -> None:
    db = tmp_path / "coaching.db"
    summary = _example("sqlite_persistence.py")["main"](str(db))
    assert db.exists() and db.stat().st_size > 0
    assert summary["users"] == ["Cleo", "Max"]
    assert summary["coach_timezone"] == "Europe/Berlin"
    assert summary["windows"] == 1 and summary["member_coach"] is True
    assert (summary["booking"], summary["session"]) == ("confirmed", "scheduled")
    assert summary["booked_local_time"] == "2030-01-07 09:00"
    assert summary["seats_left_in_booked_slot"] == 1  # the stored booking holds a seat
    assert summary["next_session_is_it"] is True


def test_sqlite_example_refuses_to_touch_an_existing_file(tmp_path: Path) -> None:
    db = tmp_path / "mine.db"
    db.write_bytes(b"not yours")
    with pytest.raises(SystemExit, match="exists already"):
        _example("sqlite_persistence.py")["main"](str(db))
    assert db.read_bytes() == b"not yours"


def test_sqlite_example_runs_as_a_script(tmp_path: Path) -> None:
    db = tmp_path / "script.db"
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / "sqlite_persistence.py"), str(db)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "seats_left_in_booked_slot  1" in done.stdout


@pytest.mark.parametrize("url", ["memory://", "sqlite"])
def test_reminder_loop_sends_each_reminder_once(url: str, tmp_path: Path) -> None:
    if url == "sqlite":
        url = f"sqlite:///{tmp_path / 'cron.db'}"
    lines: list[str] = []
    summary = _example("reminders_cron.py")["main"](url, ticks=60, out=lines.append)
    # 30 simulated hours from Sunday 06:00 UTC; the session is Monday 08:00 UTC
    assert summary["reminder_runs"] == ["2030-01-06T08:00:00+00:00", "2030-01-07T07:00:00+00:00"]
    assert summary["max_kinds"] == ["reminder_1h", "reminder_24h"]
    assert summary["coach_kinds"] == ["reminder_1h", "reminder_24h"]
    assert summary["mia_kinds"] == []  # her session was cancelled
    assert summary["most_deliveries_of_one_reminder"] == 1
    assert summary["repeated_notification_ids"] == 0
    assert summary["pending_after"] == 0
    assert sum("reminder_" in line for line in lines) == 4  # 2 kinds x (member + coach)


def test_reminder_loop_is_bounded_and_quiet_before_anything_is_due() -> None:
    summary = _example("reminders_cron.py")["main"](ticks=3, out=lambda _: None)
    assert summary["ticks"] == 3 and summary["reminder_runs"] == []  # Sunday 06:00-07:00


def test_fastapi_demo_seeds_once_and_serves(tmp_path: Path) -> None:
    pytest.importorskip("fastapi", reason="the examples extra is not installed")
    if str(EXAMPLES) not in sys.path:
        sys.path.insert(0, str(EXAMPLES))
    from fastapi_app.demo import build

    url = f"sqlite:///{tmp_path / 'web.db'}"
    app, ids = build(url)
    app.state.core.close()
    again, same = build(url)  # reopening reuses the seeded people
    try:
        assert same == ids and set(ids) == {"coach", "member_a", "member_b"}
        paths = {getattr(route, "path", "") for route in again.routes}
        assert {"/", "/api/bookings", "/ws/coaches/{coach_id}/slots"} <= paths
    finally:
        again.state.core.close()
