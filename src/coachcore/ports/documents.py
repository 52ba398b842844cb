"""The text-extraction port: how an uploaded document's searchable text is found.

The default adapter is :class:`coachcore.adapters.documents.BoundedExtractor`
(pypdf for PDF, python-docx for DOCX, from the ``coachcore[documents]`` extra).
A plugin may supply another through the ``coachcore_text_extractor`` hook.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from coachcore.domain.documents import ExtractedText


@runtime_checkable
class TextExtractor(Protocol):
    """Turns an uploaded file's bytes into searchable text, within bounds."""

    def extract(self, data: bytes, content_type: str) -> str | ExtractedText:
        """The text of ``data``, a file of ``content_type`` (text/*, PDF or DOCX).

        Must return (possibly truncated text) or raise within about two
        seconds and a bounded amount of memory whatever the bytes hold. An
        :class:`~coachcore.domain.documents.ExtractedText` also says whether
        the text was cut short (the document's ``text_truncated``); a plain
        string counts as the whole text.

        :raises coachcore.errors.ValidationFailed: the bytes are not what
            ``content_type`` says, or are made to exhaust the extractor.
        """
        ...
