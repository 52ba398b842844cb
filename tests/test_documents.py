"""Documents (issue 8.9): validated uploads with text extraction (text, DOCX,
PDF), categories, search, and who may read or change them."""

from __future__ import annotations

import io
import zipfile
import zlib

import pytest

from coachcore.domain.documents import DOCX, PDF, extract_text
from coachcore.errors import Forbidden, NotFound, ValidationFailed
from world import World

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def docx(*paragraphs: str) -> bytes:
    body = "".join(f"<w:p><w:r><w:t>{p}</w:t></w:r></w:p>" for p in paragraphs)
    xml = f'<?xml version="1.0"?><w:document xmlns:w="{W}"><w:body>{body}</w:body></w:document>'
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", xml)
    return out.getvalue()


def pdf(*lines: str, compress: bool = True) -> bytes:
    ops = (
        b"BT /F1 12 Tf "
        + b" ".join(
            b"(" + line.replace("(", "\\(").replace(")", "\\)").encode("latin-1") + b") Tj"
            for line in lines
        )
        + b" ET"
    )
    stream = zlib.compress(ops) if compress else ops
    flate = b"/Filter /FlateDecode " if compress else b""
    return (
        b"%PDF-1.4\n1 0 obj << "
        + flate
        + b"/Length "
        + str(len(stream)).encode()
        + b" >>\nstream\n"
        + stream
        + b"\nendstream\nendobj\n%%EOF\n"
    )


def test_text_extraction() -> None:
    assert extract_text(b"\xef\xbb\xbfHello", "text/plain") == "Hello"
    assert extract_text(docx("Goals", "Run 10k"), DOCX) == "Goals\nRun 10k"
    assert extract_text(pdf("Assessment (v2)", "Score: 70"), PDF) == "Assessment (v2)\nScore: 70"
    assert extract_text(pdf("Plain", compress=False), PDF) == "Plain"
    tj = b"%PDF-1.4\nstream\nBT [(Hel) -20 (lo\\051)] TJ ET\nendstream\n"
    assert extract_text(tj, PDF) == "Hello)"
    for data, kind in ((b"\xff\xfe", "text/plain"), (b"not a zip", DOCX), (b"<html>", PDF)):
        with pytest.raises(ValidationFailed):
            extract_text(data, kind)


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
