"""Documents: files shared around coaching, categorised, with their
text extracted for search. Pure: entities, validation, the limits of text
extraction and the decoding of plain text; PDF and DOCX parsing is an adapter
behind :class:`coachcore.ports.documents.TextExtractor`."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from enum import StrEnum
from typing import Any

import attrs

from coachcore.domain import checks

MAX_DOCUMENT_BYTES = 10 * 1024 * 1024

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
    text_truncated: bool = False
    """Extraction stopped at a limit (pages, characters, time): the text of
    the rest of the file is missing from ``extracted_text`` and from search."""
    created_at: datetime = attrs.field(validator=_aware)
    updated_at: datetime = attrs.field(validator=_aware)


@attrs.frozen(kw_only=True)
class DocumentContent:
    """Where a document's bytes are: the key of its blob in blob storage
    (:mod:`coachcore.ports.blobs`), and the size and SHA-256 digest of the
    plain bytes, checked when they are read back."""

    document_id: str
    key: str
    size_bytes: int
    sha256: str


BLOB_PREFIX = "documents/"


def blob_key(document_id: str) -> str:
    """The blob key of a document's bytes."""
    return f"{BLOB_PREFIX}{document_id}"


_WORD = re.compile(r"[^\W_]+")


def search_words(text: str) -> list[str]:
    """The words of a search or of a document's text: runs of letters and
    digits, lower-cased (as the databases' full-text tokenizers split and
    fold them: accents are kept, "ß" stays "ß")."""
    return _WORD.findall(text.lower())


def matches(document: Document, words: list[str]) -> bool:
    """Whether ``words`` appear one after another in the document's title,
    description or extracted text, the last one as the beginning of a word
    ("first go" finds "first goals"); no words: no match. The search of every
    store (a SQL store's full-text index only narrows the rows down first)."""
    if not words:
        return False
    return any(
        _phrase_in(search_words(text), words)
        for text in (document.title, document.description, document.extracted_text)
        if text
    )


def _phrase_in(found: list[str], words: list[str]) -> bool:
    *whole, last = words
    n = len(whole)
    for i in range(len(found) - n):
        if found[i + n].startswith(last) and found[i : i + n] == whole:
            return True
    return False


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


@attrs.frozen(kw_only=True)
class ExtractionLimits:
    """How much work extracting one document's text may take.

    Past ``pages``, ``chars`` or ``seconds`` (CPU time of the uploading
    thread) the text found so far is kept: the document is stored, searchable
    up to there, with ``text_truncated`` set. Past ``stream_bytes`` (one PDF
    stream inflated), ``tokens`` (objects in one PDF content stream),
    ``unpacked_bytes`` (all of a DOCX's parts inflated), ``xml_bytes`` (its
    XML parts inflated) or ``parts`` (files in it) the upload is refused with
    ValidationFailed: such files are made to exhaust a worker.
    """

    pages: int = 500
    chars: int = 1_000_000
    seconds: float = 1.0
    stream_bytes: int = 8 * 1024 * 1024
    tokens: int = 200_000
    unpacked_bytes: int = 24 * 1024 * 1024
    xml_bytes: int = 4 * 1024 * 1024
    parts: int = 1_000


@attrs.frozen
class ExtractedText:
    """The text found in a document, and whether a limit of
    :class:`ExtractionLimits` (pages, characters, time) stopped the
    extraction before the end of the file (``truncated``)."""

    text: str
    truncated: bool = False


def as_extracted(found: str | ExtractedText) -> ExtractedText:
    """What a :class:`~coachcore.ports.documents.TextExtractor` returned, as
    an :class:`ExtractedText` (a plain string: not known to be truncated)."""
    if isinstance(found, ExtractedText):
        return found
    return ExtractedText(found)


_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def clean_text(text: str, limits: ExtractionLimits, *, stopped: bool = False) -> ExtractedText:
    """Extracted text fit to store and search: NFKC-normalised (a ligature
    such as "\ufb01" becomes "fi"), control characters and lone surrogates
    dropped, at most ``limits.chars`` characters; truncated if ``stopped``
    (the parser stopped at a limit) or if characters were cut."""
    kept = _CONTROL.sub("", text[: limits.chars * 2])
    normal = unicodedata.normalize("NFKC", kept).strip()
    cut = len(text) > limits.chars * 2 or len(normal) > limits.chars
    return ExtractedText(normal[: limits.chars], stopped or cut)


def plain_text(data: bytes, limits: ExtractionLimits) -> ExtractedText:
    """The text of a text/* upload as written (NUL characters dropped, at most
    ``limits.chars``); raises ValidationFailed unless it is UTF-8."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise checks.fail("content", "must be UTF-8 text") from exc
    kept = text.replace("\x00", "")
    return ExtractedText(kept[: limits.chars], len(kept) > limits.chars)
