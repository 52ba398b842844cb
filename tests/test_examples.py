"""Every example script runs."""

from __future__ import annotations

import runpy
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def test_quickstart_runs_end_to_end() -> None:
    module = runpy.run_path(str(EXAMPLES / "quickstart.py"))
    summary = module["main"]("memory://")
    assert summary["booking"] == "confirmed"
    assert summary["session"] == "completed"
    assert summary["rating"] == 5
    assert summary["coach_notes_seen_by_member"] is None
    assert summary["coach_average"] == 5.0
    assert summary["slots"] == 6
