"""Documents (seed 001): files shared around coaching, categorised, with their
text extracted for search. Pure: entities, validation and text extraction from
bytes with the standard library only (no I/O)."""

from __future__ import annotations

import contextlib
import io
import re
import zipfile
import zlib
from datetime import datetime
from enum import StrEnum
from typing import Any
from xml.etree import ElementTree

import attrs

from coachcore.domain import checks

MAX_DOCUMENT_BYTES = 10 * 1024 * 1024
MAX_EXTRACTED_CHARS = 1_000_000
MAX_UNPACKED_BYTES = 50 * 1024 * 1024

TEXT_TYPES = frozenset({"text/plain", "text/markdown", "text/csv"})
PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
CONTENT_TYPES = TEXT_TYPES | {PDF, DOCX}
BY_EXTENSION = {
    ".txt": "text/plain",
    ".md": "text/markdown",
    ".csv": "text/csv",
    ".pdf": PDF,
    ".docx": DOCX,
}


def _aware(_: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    checks.aware(attribute.name, value)


class DocumentCategory(StrEnum):
    ASSESSMENT = "assessment"
    AGREEMENT = "agreement"
    GOAL_PLAN = "goal_plan"
    SESSION_MATERIAL = "session_material"
    RESOURCE = "resource"
    OTHER = "other"


@attrs.frozen(kw_only=True)
class Document:
    """A document's metadata and extracted text (the bytes are kept apart)."""

    id: str
    owner_id: str
    member_id: str | None = None
    organization_id: str | None = None
    title: str
    description: str | None = None
    filename: str
    content_type: str
    category: DocumentCategory = DocumentCategory.OTHER
    size_bytes: int
    sha256: str
    extracted_text: str = ""
    created_at: datetime = attrs.field(validator=_aware)
    updated_at: datetime = attrs.field(validator=_aware)


@attrs.frozen(kw_only=True)
class DocumentContent:
    """A document's bytes, stored next to (not inside) its metadata."""

    document_id: str
    data: bytes


def filename(value: Any) -> str:
    """A plain file name: no directories, no control characters, at most 255 characters."""
    name = checks.required_text("filename", value, max_len=255).strip()
    if "/" in name or "\\" in name or name in (".", "..") or any(ord(c) < 32 for c in name):
        raise checks.fail("filename", "must be a plain file name")
    return name


def content_type(value: Any, name: str) -> str:
    """The given content type, or the one the file name's extension implies."""
    if value is None:
        dot = name.rfind(".")
        guessed = BY_EXTENSION.get(name[dot:].lower()) if dot >= 0 else None
        if guessed is None:
            raise checks.fail("content_type", "is required for this file name")
        return guessed
    kind = checks.required_text("content_type", value, max_len=200).split(";")[0].strip().lower()
    if kind not in CONTENT_TYPES:
        raise checks.fail("content_type", "must be text, PDF or DOCX")
    return kind


def extract_text(data: bytes, kind: str) -> str:
    """The document's text; raises ValidationFailed when the bytes are not what
    ``kind`` says (a PDF must start with ``%PDF-``, a DOCX must be a Word zip,
    text must be UTF-8). PDF extraction is best effort (text-showing operators
    in plain or Flate-compressed content streams)."""
    if kind in TEXT_TYPES:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise checks.fail("content", "must be UTF-8 text") from exc
    elif kind == DOCX:
        text = _docx_text(data)
    else:
        text = _pdf_text(data)
    return text.replace("\x00", "")[:MAX_EXTRACTED_CHARS]


_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def _docx_text(data: bytes) -> str:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            info = archive.getinfo("word/document.xml")
            if info.file_size > MAX_UNPACKED_BYTES:
                raise checks.fail("content", "is too large once unpacked")
            root = ElementTree.fromstring(archive.read(info))
    except (zipfile.BadZipFile, KeyError, ElementTree.ParseError) as exc:
        raise checks.fail("content", "must be a DOCX document") from exc
    paragraphs = []
    for paragraph in root.iter(f"{_W}p"):
        parts = []
        for node in paragraph.iter():
            if node.tag == f"{_W}t" and node.text:
                parts.append(node.text)
            elif node.tag == f"{_W}tab":
                parts.append("\t")
        paragraphs.append("".join(parts))
    return "\n".join(paragraphs).strip()


_STREAM = re.compile(rb"stream\r?\n(.*?)\r?\nendstream", re.S)
_SHOW = re.compile(rb"\((?P<one>(?:\\.|[^\\)])*)\)\s*(?:Tj|'|\")|\[(?P<many>.*?)\]\s*TJ", re.S)
_PART = re.compile(rb"\((?:\\.|[^\\)])*\)")
_ESCAPES = {b"n": "\n", b"r": "\r", b"t": "\t", b"b": "\b", b"f": "\f"}


def _pdf_text(data: bytes) -> str:
    if not data.startswith(b"%PDF-"):
        raise checks.fail("content", "must be a PDF document")
    lines = []
    for match in _STREAM.finditer(data):
        body = match.group(1)
        with contextlib.suppress(zlib.error):  # else an uncompressed stream
            body = zlib.decompressobj().decompress(body, MAX_UNPACKED_BYTES)
        for shown in _SHOW.finditer(body):
            if shown.group("one") is not None:
                lines.append(_pdf_string(shown.group("one")))
            else:
                parts = _PART.findall(shown.group("many"))
                lines.append("".join(_pdf_string(p[1:-1]) for p in parts))
    return "\n".join(line for line in lines if line).strip()


def _pdf_string(raw: bytes) -> str:
    out: list[str] = []
    i = 0
    while i < len(raw):
        char = raw[i : i + 1]
        if char == b"\\" and i + 1 < len(raw):
            nxt = raw[i + 1 : i + 2]
            octal = re.match(rb"[0-7]{1,3}", raw[i + 1 : i + 4])
            if octal:
                out.append(chr(int(octal.group(0), 8)))
                i += 1 + len(octal.group(0))
                continue
            out.append(_ESCAPES.get(nxt, nxt.decode("latin-1")))
            i += 2
            continue
        out.append(char.decode("latin-1"))
        i += 1
    return "".join(out)
