"""``benchmarks/booking.py --quick`` runs and prints every figure (timings are not checked).

The script is run as a subprocess, as a user would run it. The PostgreSQL part
runs in a test of its own, skipped with the reason where PostgreSQL is missing;
the main run passes ``--no-postgres`` and checks that the script says it skipped.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from backends import postgresql_unavailable

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "booking.py"
RATE = r"[\d,]+/s"
VERDICT = r"(PASS|FAIL)"


def run_quick(*options: str) -> str:
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick", *options],
        capture_output=True,
        text=True,
        timeout=900,
        cwd=SCRIPT.parent.parent,
    )
    assert proc.returncode == 0, f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    assert " error (" not in proc.stdout, proc.stdout  # every booking went through
    return proc.stdout


def lines_matching(output: str, pattern: str) -> list[str]:
    return [line for line in output.splitlines() if re.search(pattern, line)]


def assert_table(output: str, store: str, units: tuple[str, str], floor: bool) -> None:
    """One line per worker count and workload, with the floor's rate and the ratio."""
    for unit in units:
        for workload in ("distinct", "hot"):
            pattern = rf"^  {store} {unit} +{workload} +library +{RATE}"
            if floor:
                pattern += rf".*floor +{RATE} +library/floor +\d+\.\d\d$"
            assert len(lines_matching(output, pattern)) == 1, (pattern, output)


@pytest.mark.slow
def test_quick_run_prints_every_figure_and_target() -> None:
    out = run_quick("--no-postgres")
    assert re.search(r"^python 3\.\d+\.\d+, coachcore \S+, \d+ CPUs", out, re.M), out
    assert_table(out, "memory", ("1 thread", "4 threads"), floor=False)
    assert_table(out, "sqlite", ("1 process", "4 processes"), floor=True)
    assert lines_matching(out, rf"^  sqlite 1 process +hot +library +{RATE}.*without after-commit")
    assert lines_matching(out, rf"^== memory:// with 1,000 bookings stored, 100 more: +{RATE}")
    targets = out.split("== targets", 1)[1]
    assert re.search(rf"^sqlite file, 1 process: .*target >= 1,000: {VERDICT}$", targets, re.M)
    assert re.search(
        r"^postgresql, 1 process, one hot slot: SKIPPED \(--no-postgres\)$", targets, re.M
    )
    assert re.search(rf"^memory, 1,000 stored: .*target >= 2,000: {VERDICT}$", targets, re.M)


@pytest.mark.slow
def test_quick_run_on_postgresql() -> None:
    reason = postgresql_unavailable()
    if reason is not None:
        pytest.skip(reason)
    out = run_quick("--only", "postgresql")
    assert_table(out, "postgresql", ("1 process", "4 processes"), floor=True)
    targets = out.split("== targets", 1)[1]
    pattern = (
        r"^postgresql, 1 process, one hot slot: library/floor \d+\.\d\d  "
        rf"target >= 0\.50: {VERDICT}$"
    )
    assert re.search(pattern, targets, re.M), out
