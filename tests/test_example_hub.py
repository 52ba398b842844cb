"""The coaching hub example runs on memory and on a SQLite file."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "coaching_hub.py"


@pytest.mark.parametrize("where", ["memory", "sqlite"])
def test_the_hub_example_runs(where: str, tmp_path: Path) -> None:
    url = "memory://" if where == "memory" else f"sqlite:///{tmp_path / 'hub.db'}"
    summary = runpy.run_path(str(EXAMPLE))["main"](url)
    assert summary == {
        "reports": ["Leo", "Alex"],
        "completed": 1,
        "open_items": 1,
        "score": 78,
        "change": 8,
        "notes_seen_by_manager": (None, None),
    }
