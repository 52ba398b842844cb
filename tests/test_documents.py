"""Documents (issue 8.9): validated uploads with text extraction (text, DOCX,
PDF), categories, search, and who may read or change them."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from coachcore.adapters.documents import BoundedExtractor
from coachcore.domain.documents import DOCX, PDF, ExtractionLimits
from coachcore.errors import Forbidden, NotFound, ValidationFailed
from document_files import docx, pdf, pdf_many_pages
from world import World

CORPUS = Path(__file__).parent / "data" / "documents"
extract = BoundedExtractor().extract


def test_text_extraction() -> None:
    assert extract(b"\xef\xbb\xbfHello", "text/plain") == "Hello"
    assert extract(docx("Goals", "Run 10k"), DOCX) == "Goals\nRun 10k"
    assert extract(pdf("Assessment (v2)", "Score: 70"), PDF) == "Assessment (v2)\nScore: 70"
    assert extract(pdf("Plain", compress=False), PDF) == "Plain"
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
    text = extract(data, DOCX if name.endswith(".docx") else PDF)
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


def test_limits_keep_the_text_found_so_far() -> None:
    few = BoundedExtractor(ExtractionLimits(pages=3, chars=10_000)).extract
    assert few(pdf_many_pages(20), PDF).split() == ["page"] * 3
    short = BoundedExtractor(ExtractionLimits(chars=5)).extract
    assert short(docx("Sleeps 5 hours"), DOCX) == "Sleep"
    assert BoundedExtractor(ExtractionLimits(seconds=0.0)).extract(pdf("late"), PDF) == ""


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
    assert extract(b"notes", "text/plain") == "notes"
