"""The default text extractor: bounded parsing of uploaded documents.

Plain text is decoded by the domain; PDF goes through pypdf
(:mod:`.pdf`) and DOCX through python-docx (:mod:`.word`), both from the
``coachcore[documents]`` extra and imported only when such a file comes in.
Every parse runs under :class:`~coachcore.domain.documents.ExtractionLimits`.
"""

from __future__ import annotations

from coachcore.adapters.documents.deadline import Deadline
from coachcore.domain import checks
from coachcore.domain.documents import (
    DOCX,
    PDF,
    TEXT_TYPES,
    ExtractedText,
    ExtractionLimits,
    plain_text,
)


class BoundedExtractor:
    """A :class:`~coachcore.ports.documents.TextExtractor` that answers any
    file, crafted ones included, with text or ValidationFailed within
    ``limits`` (about a second and tens of MiB by default); the text says
    whether a limit cut it short (``truncated``)."""

    def __init__(self, limits: ExtractionLimits | None = None) -> None:
        self.limits = limits or ExtractionLimits()

    def extract(self, data: bytes, content_type: str) -> ExtractedText:
        if content_type in TEXT_TYPES:
            return plain_text(data, self.limits)
        deadline = Deadline(self.limits.seconds)
        try:
            if content_type == PDF:
                from coachcore.adapters.documents.pdf import pdf_text

                return pdf_text(data, self.limits, deadline)
            if content_type == DOCX:
                from coachcore.adapters.documents.word import docx_text

                return docx_text(data, self.limits, deadline)
        except ImportError as exc:
            raise checks.fail(
                "content_type", "PDF and DOCX need coachcore[documents] installed"
            ) from exc
        raise checks.fail("content_type", "must be text, PDF or DOCX")


__all__ = ["BoundedExtractor", "Deadline"]
