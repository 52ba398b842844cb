"""The command line: demo end to end, help lists the commands."""

from __future__ import annotations

from typer.testing import CliRunner

from coachcore.cli import app, run_demo


def test_demo_runs_and_is_repeatable_on_memory() -> None:
    result = run_demo("memory://")
    assert result == {"booking": "confirmed", "session": "completed", "rating": 5, "members": 1}


def test_help_lists_commands() -> None:
    out = CliRunner().invoke(app, ["--help"]).output
    for command in ("demo", "db", "reminders", "outbox", "slots"):
        assert command in out
