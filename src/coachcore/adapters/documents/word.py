"""DOCX text through python-docx, after the archive's sizes are checked."""

from __future__ import annotations

import io
import zipfile
import zlib
from typing import Any

import docx
from docx.opc.exceptions import PackageNotFoundError

from coachcore.adapters.documents.deadline import Deadline
from coachcore.domain import checks
from coachcore.domain.documents import ExtractedText, ExtractionLimits, clean_text

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_TEXT, _TAB, _BREAKS = f"{_W}t", f"{_W}tab", (f"{_W}br", f"{_W}cr")
_PARAGRAPH, _CELL, _ROW = f"{_W}p", f"{_W}tc", f"{_W}tr"
_ORDER = ("/word/header", "/word/document", "/word/footnotes", "/word/endnotes", "/word/footer")
_CHUNK = 64 * 1024


class _OutOfTime(Exception):
    """The deadline passed while walking the document's elements."""


def docx_text(data: bytes, limits: ExtractionLimits, deadline: Deadline) -> ExtractedText:
    """The text of the headers, body, notes and footers, in that order (as
    far as the deadline and ``limits.chars`` allow: else truncated);
    ValidationFailed when the bytes are not a Word document or unpack past
    the limits."""
    package = _unpacked(data, limits)
    try:
        document = docx.Document(io.BytesIO(package))
    except (
        PackageNotFoundError,
        KeyError,
        ValueError,
        SyntaxError,
    ) as exc:  # lxml's are SyntaxErrors
        raise checks.fail("content", "must be a DOCX document") from exc
    parts = [
        part
        for part in document.part.package.iter_parts()
        if str(part.partname).startswith(_ORDER) and hasattr(part, "element")
    ]
    parts.sort(key=lambda part: (_rank(str(part.partname)), str(part.partname)))
    out: list[str] = []
    stopped = False
    try:
        for part in parts:
            _walk(part.element, out, deadline, [0])
    except _OutOfTime:
        stopped = True
    return clean_text("".join(out), limits, stopped=stopped)


def _rank(name: str) -> int:
    return next(i for i, prefix in enumerate(_ORDER) if name.startswith(prefix))


def _unpacked(data: bytes, limits: ExtractionLimits) -> bytes:
    """The archive rebuilt from its members read in bounded chunks, so no
    member inflates past its declared size and the total stays in limits."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
            if len(members) > limits.parts:
                raise checks.fail("content", "holds too many parts")
            declared = sum(m.file_size for m in members)
            xml = sum(m.file_size for m in members if m.filename.endswith((".xml", ".rels")))
            if declared > limits.unpacked_bytes or xml > limits.xml_bytes:
                raise checks.fail("content", "is too large once unpacked")
            out = io.BytesIO()
            with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as rebuilt:
                for member in members:
                    if not member.is_dir():
                        rebuilt.writestr(member.filename, _read(archive, member))
            return out.getvalue()
    except (zipfile.BadZipFile, zlib.error, RuntimeError, NotImplementedError, EOFError) as exc:
        raise checks.fail("content", "must be a DOCX document") from exc


def _read(archive: zipfile.ZipFile, member: zipfile.ZipInfo) -> bytes:
    chunks: list[bytes] = []
    with archive.open(member) as stream:
        while chunk := stream.read(_CHUNK):
            chunks.append(chunk)
    return b"".join(chunks)


def _walk(element: Any, out: list[str], deadline: Deadline, seen: list[int]) -> None:
    seen[0] += 1
    if seen[0] % 4096 == 0 and deadline.passed():
        raise _OutOfTime
    tag = element.tag
    if tag == _TEXT:
        out.append(element.text or "")
    elif tag == _TAB:
        out.append("\t")
    elif tag in _BREAKS:
        out.append("\n")
    else:
        for child in element:
            _walk(child, out, deadline, seen)
        if tag == _PARAGRAPH:
            out.append("\n")
        elif tag in (_CELL, _ROW) and out and out[-1] in "\t\n":
            out[-1] = "\t" if tag == _CELL else "\n"  # cells of a row on one line
