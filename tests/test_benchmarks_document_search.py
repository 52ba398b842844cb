"""``benchmarks/document_search.py --quick`` runs as a user would run it and
prints every figure; every store finds the same documents (timings are not
checked)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "document_search.py"


def test_the_quick_run_prints_every_store_and_agrees() -> None:
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick", "--no-postgres"],
        capture_output=True,
        text=True,
        timeout=900,
        cwd=SCRIPT.parent.parent,
    )
    assert proc.returncode == 0, f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    out = proc.stdout
    assert "1,000 documents" in out and "postgresql skipped: --no-postgres" in out
    for search in ("common word", "rare word", "two-word phrase", "prefix", "no match"):
        assert re.search(rf"^  {search} +[\d,]+( +[\d,]+\.\d){{3}}$", out, re.M), (search, out)
    assert "every store found the same documents: yes" in out
    pattern = r"^  sqlite: the index is x[\d,]+\.\d the speed of open-and-scan \(.*rare word x"
    assert re.search(pattern, out, re.M), out
