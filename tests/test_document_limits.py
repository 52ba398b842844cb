"""Crafted uploads: each gets text or ValidationFailed within 2 s of CPU and
under 100 MiB of extra memory, measured in a fresh interpreter per file
(peak resident size, /proc/self/status VmHWM, reset just before the upload,
so memory the C parsers allocate counts too)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

import document_files as files
from coachcore.domain.documents import DOCX, PDF

SECONDS = 2.0
MIB = 100

MEASURE = """
import json, sys, time
sys.path.insert(0, {tests!r})
from coachcore.adapters.documents import BoundedExtractor
from coachcore.errors import ValidationFailed
import document_files
extract = BoundedExtractor().extract
extract(document_files.pdf("warm up"), {pdf!r})
extract(document_files.docx("warm up"), {docx!r})
data = open({path!r}, "rb").read()

def status(field):
    with open("/proc/self/status") as lines:
        return next(int(l.split()[1]) for l in lines if l.startswith(field + ":"))

with open("/proc/self/clear_refs", "w") as clear:
    clear.write("5")  # the peak (VmHWM) starts again from the current size
base = status("VmRSS")
wall, cpu = time.monotonic(), time.thread_time()
try:
    outcome = "text:%d" % len(extract(data, {kind!r}).text)
except ValidationFailed as error:
    outcome = "ValidationFailed: " + str(error)
print(json.dumps({{
    "outcome": outcome,
    "cpu": time.thread_time() - cpu,
    "wall": time.monotonic() - wall,
    "mib": (status("VmHWM") - base) / 1024,
}}))
"""

ATTACKS: dict[str, tuple[str, Callable[[], bytes]]] = {
    "pdf_40kb_of_parentheses": (PDF, files.pdf_of_parentheses),
    "pdf_20kb_of_parentheses": (PDF, lambda: files.pdf_of_parentheses(20_000)),
    "raw_parentheses": (PDF, files.raw_parentheses),
    "pdf_stream_inflating_to_9mib_of_operators": (PDF, files.pdf_inflating),
    "pdf_stream_inflating_to_1mib_of_operators": (
        PDF,
        lambda: files.pdf_inflating(1024 * 1024),
    ),
    "pdf_stream_inflating_to_64mib_of_spaces": (PDF, files.pdf_inflating_zeros),
    "pdf_stream_inflating_just_under_the_limit": (
        PDF,
        lambda: files.pdf_inflating_zeros(8 * 1024 * 1024 - 100),
    ),
    "pdf_nested_50000_deep": (PDF, files.pdf_nested),
    "pdf_5000_pages": (PDF, files.pdf_many_pages),
    "docx_75kb_unpacking_to_14mb": (DOCX, files.docx_expanding),
    "docx_just_under_the_xml_limit": (DOCX, lambda: files.docx_expanding(95_000)),
    "docx_zip_bomb": (DOCX, files.docx_zip_bomb),
    "docx_lying_about_its_sizes": (DOCX, files.docx_lying_sizes),
}


def measure(kind: str, data: bytes, tmp_path: Path) -> dict[str, object]:
    path = tmp_path / "upload"
    path.write_bytes(data)
    script = MEASURE.format(
        tests=str(Path(__file__).parent), pdf=PDF, docx=DOCX, path=str(path), kind=kind
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_crafted_upload_is_answered_quickly_and_in_little_memory(
    attack: str, tmp_path: Path
) -> None:
    kind, build = ATTACKS[attack]
    result = measure(kind, build(), tmp_path)
    print(attack, result)
    outcome = str(result["outcome"])
    assert outcome.startswith(("text:", "ValidationFailed: content")), outcome
    assert float(str(result["cpu"])) < SECONDS, result
    assert float(str(result["mib"])) < MIB, result
