"""PDF text through pypdf, page by page, under the extraction limits."""

from __future__ import annotations

import io
from typing import Any

import pypdf
from pypdf.errors import PyPdfError

from coachcore.adapters.documents.deadline import Deadline
from coachcore.adapters.documents.quiet import quiet_pypdf
from coachcore.domain import checks
from coachcore.domain.documents import ExtractedText, ExtractionLimits, clean_text


class _OutOfTime(Exception):
    """Raised from pypdf's operator visitor when the deadline passed."""


def pdf_text(data: bytes, limits: ExtractionLimits, deadline: Deadline) -> ExtractedText:
    """The text of the PDF's first ``limits.pages`` pages, as far as the
    deadline and ``limits.chars`` allow (truncated when one of them stopped
    it before the last page); ValidationFailed when the file is not a PDF, is
    password-protected or reaches a parsing limit. pypdf's warnings about
    malformed files (the norm) are kept quiet meanwhile."""
    if not data.startswith(b"%PDF-"):
        raise checks.fail("content", "must be a PDF document")
    bounds = {
        "zlib_maximum_output_length": limits.stream_bytes,
        "zlib_maximum_recovery_input_length": 256 * 1024,
        "maximum_declared_stream_length": limits.stream_bytes,
        "array_based_stream_maximum_output_length": limits.stream_bytes,
        "lzw_maximum_output_length": limits.stream_bytes,
        "run_length_maximum_output_length": limits.stream_bytes,
        "brotli_maximum_output_length": limits.stream_bytes,
        "stream_parsing_work_maximum_count": limits.tokens,
        "page_tree_maximum_entries": limits.pages * 10,
        "xform_maximum_invocations_per_extraction": 500,
    }
    try:
        with (
            quiet_pypdf(),
            pypdf.apply_configuration(pypdf.get_configuration().with_overwrites(**bounds)),
        ):
            text, stopped = _pages(data, limits, deadline)
            return clean_text(text, limits, stopped=stopped)
    except RecursionError as exc:
        raise checks.fail("content", "nests its objects too deeply") from exc
    except PyPdfError as exc:
        raise checks.fail("content", "is not a readable PDF document") from exc
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, ArithmeticError) as exc:
        # pypdf reports some malformed structures with built-in exceptions
        raise checks.fail("content", "is not a readable PDF document") from exc


def _pages(data: bytes, limits: ExtractionLimits, deadline: Deadline) -> tuple[str, bool]:
    """The pages' text, and whether a limit stopped the reading before the end."""
    reader = pypdf.PdfReader(io.BytesIO(data), strict=False)
    if reader.is_encrypted and not reader.decrypt(""):
        raise checks.fail("content", "must not be password-protected")

    def watch(*_: Any) -> None:
        if deadline.passed():
            raise _OutOfTime

    texts: list[str] = []
    found = 0
    for number, page in enumerate(reader.pages):
        if number >= limits.pages or found >= limits.chars or deadline.passed():
            return "\n".join(texts), True
        try:
            text = page.extract_text(visitor_operand_before=watch)
        except _OutOfTime:
            return "\n".join(texts), True
        texts.append(text)
        found += len(text)
    return "\n".join(texts), False
