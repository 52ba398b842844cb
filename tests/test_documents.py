"""Documents (issue 8.9): validated uploads with text extraction (text, DOCX,
PDF), categories, search, and who may read or change them."""

from __future__ import annotations

import io
import json
import logging
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from backends import T0, Backend
from coachcore import hookimpl
from coachcore.adapters.clock import FixedClock
from coachcore.adapters.documents import BoundedExtractor
from coachcore.domain.documents import DOCX, PDF, ExtractedText, ExtractionLimits
from coachcore.errors import Forbidden, NotFound, ValidationFailed
from document_files import docx, docx_expanding, pdf, pdf_many_pages
from world import World

CORPUS = Path(__file__).parent / "data" / "documents"
extract = BoundedExtractor().extract


def test_text_extraction() -> None:
    whole = ExtractedText
    assert extract(b"\xef\xbb\xbfHello", "text/plain") == whole("Hello")
    assert extract(docx("Goals", "Run 10k"), DOCX) == whole("Goals\nRun 10k")
    assert extract(pdf("Assessment (v2)", "Score: 70"), PDF) == whole("Assessment (v2)\nScore: 70")
    assert extract(pdf("Plain", compress=False), PDF) == whole("Plain")
    for data, kind in (
        (b"\xff\xfe", "text/plain"),
        (b"not a zip", DOCX),
        (b"PK\x03\x04 broken", DOCX),
        (b"<html>", PDF),
        (b"%PDF-1.4\n garbage", PDF),
    ):
        with pytest.raises(ValidationFailed):
            extract(data, kind)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        # pdfTeX, Type 1 fonts: words keep their spaces, "ff" is not a control character
        ("pdftex-ligatures.pdf", ["Hello, here is some text without a meaning.", "difference"]),
        # LibreOffice, TrueType fonts in several scripts
        ("truetype-libreoffice.pdf", ["Hello World", "Привет, мир", "你好世界"]),
        # Chromium's print to PDF: subset fonts with the fi ligature
        (
            "chromium-print.pdf",
            ["the first session is an intake", "Confidentiality: notes", "Sleep seven hours"],
        ),
        (
            "headers-tables.docx",
            [
                "Confidential coaching record",
                "The member’s first goal",
                "Effort level: moderate",
                "Sleep seven hours\tSleep diary",
                "Page footer: coachcore sample",
            ],
        ),
    ],
)
def test_real_documents_give_searchable_text(name: str, expected: list[str]) -> None:
    data = (CORPUS / name).read_bytes()
    found = extract(data, DOCX if name.endswith(".docx") else PDF)
    text = found.text
    assert not found.truncated
    for phrase in expected:
        assert phrase in text
    assert not any(ord(c) < 32 and c not in "\t\n\r" for c in text)
    assert "\ufb01" not in text and "\ufb00" not in text  # ligatures are letters again


def test_real_document_uploads_are_found_by_search(world: World) -> None:
    member = world.member()
    docs = world.core.acting_as(member.id).documents
    for name in ("pdftex-ligatures.pdf", "chromium-print.pdf", "headers-tables.docx"):
        docs.upload(title=name, filename=name, content=(CORPUS / name).read_bytes())
    assert [d.title for d in docs.list(search="difference between")] == ["pdftex-ligatures.pdf"]
    assert [d.title for d in docs.list(search="first session")] == ["chromium-print.pdf"]
    assert [d.title for d in docs.list(search="first goal")] == ["headers-tables.docx"]


def test_limits_keep_the_text_found_so_far_and_say_it_was_cut() -> None:
    few = BoundedExtractor(ExtractionLimits(pages=3, chars=10_000)).extract
    over, under = few(pdf_many_pages(4), PDF), few(pdf_many_pages(3), PDF)
    assert over.text.split() == under.text.split() == ["page"] * 3
    assert over.truncated and not under.truncated  # under: every page was read
    short = BoundedExtractor(ExtractionLimits(chars=5)).extract
    assert short(docx("Sleeps 5 hours"), DOCX) == ExtractedText("Sleep", truncated=True)
    assert short(docx("Sleep"), DOCX) == ExtractedText("Sleep")
    assert short(pdf("Sleeps 5 hours"), PDF) == ExtractedText("Sleep", truncated=True)
    assert short(b"Sleeps", "text/plain") == ExtractedText("Sleep", truncated=True)
    assert short(b"Sleep", "text/plain") == ExtractedText("Sleep")
    late = BoundedExtractor(ExtractionLimits(seconds=0.0)).extract
    assert late(pdf("late"), PDF) == ExtractedText("", truncated=True)
    assert late(docx_expanding(20_000), DOCX).truncated  # stopped walking its paragraphs
    assert late(b"plain text needs no time", "text/plain") == ExtractedText(
        "plain text needs no time"
    )


class _Extractor:
    """A plugin giving the core an extractor with small limits."""

    def __init__(self, limits: ExtractionLimits) -> None:
        self.limits = limits

    @hookimpl
    def coachcore_text_extractor(self) -> Any:
        return BoundedExtractor(self.limits)


def test_an_upload_cut_short_says_so_and_keeps_saying_it(backend: Backend) -> None:
    clock = FixedClock(T0)
    limits = ExtractionLimits(pages=3, chars=40)
    with backend.open(clock, plugins=[_Extractor(limits)]) as core:
        member = World(core, clock).member()
        docs = core.acting_as(member.id).documents
        over = {
            "4 pages": docs.upload(title="a", filename="a.pdf", content=pdf_many_pages(4)),
            "41 chars": docs.upload(title="b", filename="b.txt", content=b"w" * 41),
        }
        under = {
            "3 pages": docs.upload(title="c", filename="c.pdf", content=pdf_many_pages(3)),
            "40 chars": docs.upload(title="d", filename="d.txt", content=b"w" * 40),
        }
        assert [d.text_truncated for d in over.values()] == [True, True]
        assert [d.text_truncated for d in under.values()] == [False, False]
        assert over["4 pages"].extracted_text == under["3 pages"].extracted_text
        assert over["41 chars"].extracted_text == under["40 chars"].extracted_text
        stored = {d.id: d.text_truncated for d in docs.list()}  # read back from the store
        assert stored == {d.id: d.text_truncated for d in [*over.values(), *under.values()]}
        assert docs.get(over["4 pages"].id).text_truncated


def test_upload_read_search_and_delete(world: World) -> None:
    coach = world.coach()
    member = world.member(coach)
    as_coach = world.core.acting_as(coach.id).documents
    data = docx("Intake assessment", "Sleeps 5 hours")
    doc = as_coach.upload(
        title="Intake",
        filename="intake.docx",
        content=data,
        category="assessment",
        member_id=member.id,
    )
    assert (doc.content_type, doc.size_bytes, doc.category, doc.owner_id) == (
        DOCX,
        len(data),
        "assessment",
        coach.id,
    )
    assert "Sleeps 5 hours" in doc.extracted_text and len(doc.sha256) == 64
    as_member = world.core.acting_as(member.id).documents
    assert as_member.get(doc.id) == doc
    assert as_member.content(doc.id) == data
    note = as_member.upload(title="My notes", filename="notes.md", content=b"# Week 1\nslept well")
    assert note.content_type == "text/markdown" and note.member_id is None
    assert [d.id for d in as_member.list(search="SLEPT")] == [note.id]
    assert [d.id for d in as_member.list(category="assessment")] == [doc.id]
    assert {d.id for d in as_member.list()} == {doc.id, note.id}
    assert [d.id for d in as_coach.list(member_id=member.id)] == [doc.id]
    with pytest.raises(Forbidden):  # the member's private notes are theirs
        world.core.acting_as(coach.id).documents.get(note.id)
    with pytest.raises(Forbidden):  # only the uploader changes it
        as_member.update(doc.id, title="Mine")
    renamed = as_coach.update(doc.id, title="Intake 2030", category="goal_plan")
    assert (renamed.title, renamed.category) == ("Intake 2030", "goal_plan")
    as_coach.delete(doc.id)
    with pytest.raises(NotFound):
        as_member.get(doc.id)
    with pytest.raises(NotFound):
        as_member.content(doc.id)


def test_upload_validation(world: World) -> None:
    member = world.member()
    docs = world.core.acting_as(member.id).documents
    ok = {"title": "t", "filename": "a.txt", "content": b"hi"}
    for bad in (
        {"filename": "../etc/passwd"},
        {"filename": "a.exe"},
        {"content": b""},
        {"content": "text, not bytes"},
        {"content": b"x" * (10 * 1024 * 1024 + 1)},
        {"filename": "a.pdf", "content": b"not a pdf"},
        {"content_type": "image/png"},
        {"category": "secret"},
        {"title": ""},
    ):
        with pytest.raises(ValidationFailed):
            docs.upload(**{**ok, **bad})
    assert docs.upload(**ok, content_type="text/plain; charset=utf-8").content_type == "text/plain"


def test_document_permissions(world: World) -> None:
    coach, stranger = world.coach(), world.coach()
    member, other = world.member(coach), world.member()
    with pytest.raises(Forbidden):
        world.core.acting_as(stranger.id).documents.upload(
            title="x", filename="x.txt", content=b"x", member_id=member.id
        )
    with pytest.raises(Forbidden):
        world.core.acting_as(other.id).documents.upload(
            title="x", filename="x.txt", content=b"x", member_id=member.id
        )
    doc = world.core.acting_as(coach.id).documents.upload(
        title="x", filename="x.txt", content=b"plan", member_id=member.id
    )
    for who in (stranger, other):
        with pytest.raises(Forbidden):
            world.core.acting_as(who.id).documents.get(doc.id)
        with pytest.raises(Forbidden):
            world.core.acting_as(who.id).documents.content(doc.id)
        assert world.core.acting_as(who.id).documents.list(member_id=member.id) == []
    company = world.core.acting_as(other.id).organizations.create(
        name="Acme", kind="client_company"
    )
    shared = world.core.acting_as(other.id).documents.upload(
        title="Policy", filename="p.txt", content=b"policy", organization_id=company.id
    )
    with pytest.raises(Forbidden):
        world.core.acting_as(stranger.id).documents.get(shared.id)
    asked = world.core.acting_as(other.id).organizations.invite(company.id, stranger.id)
    world.core.acting_as(stranger.id).organizations.accept_invitation(asked.id)
    assert world.core.acting_as(stranger.id).documents.get(shared.id) == shared
    assert [
        d.id for d in world.core.acting_as(stranger.id).documents.list(organization_id=company.id)
    ] == [shared.id]
    assert {d.id for d in world.sys.documents.list()} == {doc.id, shared.id}


def test_without_the_documents_extra_pdf_and_docx_are_refused_text_is_not(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    a_pdf, a_docx = pdf("x"), docx("x")
    for module in ("pypdf", "docx", "coachcore.adapters.documents.pdf"):
        monkeypatch.setitem(sys.modules, module, None)  # as if not installed
    monkeypatch.delitem(sys.modules, "coachcore.adapters.documents.word", raising=False)
    with pytest.raises(ValidationFailed, match=r"coachcore\[documents\]"):
        extract(a_pdf, PDF)
    with pytest.raises(ValidationFailed, match=r"coachcore\[documents\]"):
        extract(a_docx, DOCX)
    assert extract(b"notes", "text/plain").text == "notes"


class _Heard(logging.Handler):
    """Keeps the records that reach it."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def _misplaced_xref() -> bytes:
    """A PDF whose startxref points to the wrong place (pypdf warns, then reads it)."""
    return re.sub(rb"startxref\n\d+", b"startxref\n9", pdf("x"))


@pytest.mark.parametrize("level", [logging.NOTSET, logging.INFO, logging.CRITICAL])
def test_pypdf_is_quiet_while_text_is_extracted_and_only_then(level: int) -> None:
    import pypdf

    pypdf_log, heard = logging.getLogger("pypdf"), _Heard()
    before = pypdf_log.level
    pypdf_log.setLevel(level)
    pypdf_log.addHandler(heard)
    try:
        with ThreadPoolExecutor(4) as pool:  # extractions overlapping in threads
            texts = list(pool.map(lambda _: extract(_misplaced_xref(), PDF).text, range(8)))
        assert texts == ["x"] * 8 and heard.records == []
        assert pypdf_log.level == level  # put back as it was
        pypdf.PdfReader(io.BytesIO(_misplaced_xref()), strict=False).pages[0].extract_text()
        loud = [r for r in heard.records if r.name.startswith("pypdf")]
        assert bool(loud) == (level < logging.ERROR)  # outside extraction pypdf speaks as set
    finally:
        pypdf_log.removeHandler(heard)
        pypdf_log.setLevel(before)


def test_importing_the_pdf_adapter_leaves_pypdf_logging_alone() -> None:
    script = (
        "import json, logging, pypdf\n"
        "log = logging.getLogger('pypdf')\n"
        "before = (log.level, list(log.filters), log.disabled)\n"
        "import coachcore, coachcore.adapters.documents, coachcore.adapters.documents.pdf\n"
        "after = (log.level, list(log.filters), log.disabled)\n"
        "print(json.dumps([repr(before), repr(after)]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    before, after = json.loads(done.stdout)
    assert before == after == "(0, [], False)"
