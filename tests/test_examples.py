"""Every example script runs, and so does every Python block of the README and
the getting-started page (twice, in a fresh folder)."""

from __future__ import annotations

import json
import re
import runpy
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

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


ROOT = EXAMPLES.parent
PAGES_RUN_TWICE = ["README.md", "docs/getting-started.md"]
LOGGING_GUIDE = ROOT / "docs" / "guides" / "operations.md"


def python_blocks(text: str) -> list[str]:
    """The ```python blocks of a Markdown page, in order."""
    return re.findall(r"^```python\n(.*?)^```", text, re.S | re.M)


def _run_block(code: str, folder: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _blocks_of(pages: list[str]) -> list[Any]:
    found = []
    for page in pages:
        for n, code in enumerate(python_blocks((ROOT / page).read_text()), 1):
            found.append(pytest.param(code, id=f"{page}#{n}"))
    return found


def test_the_pages_have_python_blocks_to_run() -> None:
    assert len(_blocks_of(PAGES_RUN_TWICE)) >= 2  # the extraction itself can fail


@pytest.mark.parametrize("code", _blocks_of(PAGES_RUN_TWICE))
def test_each_python_block_runs_twice_in_a_fresh_folder_and_says_what_it_did(
    code: str, tmp_path: Path
) -> None:
    first = _run_block(code, tmp_path)
    assert first.returncode == 0, first.stderr
    second = _run_block(code, tmp_path)
    assert second.returncode == 0, second.stderr
    assert first.stdout.strip() and second.stdout.strip()  # each run prints what it did
    assert "Traceback" not in first.stderr + second.stderr
    if "coaching.db" in code:  # the tour: the second run finds what the first stored
        assert "booked" in first.stdout and "created coach" in first.stdout
        assert "already holds a seat" in second.stdout
        assert "created coach" not in second.stdout and "booked" not in second.stdout


def test_the_logging_guide_routes_records_with_their_fields(tmp_path: Path) -> None:
    section = LOGGING_GUIDE.read_text().split("## Logging", 1)[1]
    plain, structured = python_blocks(section)
    out = _run_block(plain, tmp_path)
    assert out.returncode == 0, out.stderr
    assert "use_case=users.create actor_id=system outcome=done" in out.stderr
    out = _run_block(structured, tmp_path)
    assert out.returncode == 0, out.stderr
    (line,) = [ln for ln in out.stderr.splitlines() if ln.startswith("{")]
    event = json.loads(line)
    assert (event["use_case"], event["outcome"], event["level"]) == ("users.create", "done", "info")
    assert set(event["ids"]) == {"user_id"}
