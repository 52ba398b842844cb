"""Builders of real and crafted PDF and DOCX files for the document tests."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from collections.abc import Sequence


def pdf_file(
    content: bytes, *, compress: bool = True, pages: int = 1, extra: Sequence[bytes] = ()
) -> bytes:
    """A well-formed PDF whose pages all show ``content`` (a content stream)
    in Helvetica; ``extra`` objects are appended after the fixed ones."""
    stream = zlib.compress(content, 9) if compress else content
    flate = b"/Filter /FlateDecode " if compress else b""
    kids = b" ".join(b"%d 0 R" % (5 + i) for i in range(pages))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [" + kids + b"] /Count %d >>" % pages,
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< " + flate + b"/Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
    ]
    for _ in range(pages):
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            b"/Resources << /Font << /F1 3 0 R >> >> /Contents 4 0 R >>"
        )
    objects.extend(extra)
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(
        b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    )
    return out.getvalue()


def shown(*lines: str) -> bytes:
    """A content stream showing each line of text on its own line."""
    body = b"BT /F1 12 Tf 72 720 Td 14 TL "
    for line in lines:
        escaped = line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        body += b"(" + escaped.encode("cp1252") + b") Tj T* "
    return body + b"ET"


def pdf(*lines: str, compress: bool = True) -> bytes:
    """A one-page PDF showing ``lines``."""
    return pdf_file(shown(*lines), compress=compress)


def docx(*paragraphs: str) -> bytes:
    """A DOCX (made with python-docx) holding ``paragraphs``."""
    import docx as python_docx

    document = python_docx.Document()
    for paragraph in paragraphs:
        document.add_paragraph(paragraph)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


# --- crafted files: each should be answered quickly with text or ValidationFailed


def pdf_of_parentheses(size: int = 40_000) -> bytes:
    """A PDF whose only page's content is ``size`` opening parentheses."""
    return pdf_file(b"BT /F1 12 Tf " + b"(" * size, compress=False)


def raw_parentheses(size: int = 40_000) -> bytes:
    """``%PDF-`` followed by ``size`` opening parentheses, and nothing else."""
    return b"%PDF-1.4\nstream\n" + b"(" * size + b"\nendstream\n"


def pdf_inflating(unpacked: int = 9 * 1024 * 1024) -> bytes:
    """A small PDF whose content stream inflates to ``unpacked`` bytes of text operators."""
    unit = b"(x) Tj "
    return pdf_file(b"BT /F1 12 Tf " + unit * (unpacked // len(unit)) + b"ET")


def pdf_inflating_zeros(unpacked: int = 64 * 1024 * 1024) -> bytes:
    """A PDF whose content stream inflates to ``unpacked`` spaces (a flate bomb)."""
    return pdf_file(b" " * unpacked)


def pdf_nested(depth: int = 50_000) -> bytes:
    """A PDF whose content stream and an extra object nest arrays ``depth`` deep."""
    nested = b"[" * depth + b"]" * depth
    return pdf_file(b"BT /F1 12 Tf " + nested + b" TJ ET", compress=True, extra=(nested,))


def pdf_many_pages(pages: int = 5_000) -> bytes:
    """A PDF with ``pages`` pages, each showing a line."""
    return pdf_file(shown("page"), pages=pages)


def docx_expanding(paragraphs: int = 400_000) -> bytes:
    """A DOCX whose document.xml holds ``paragraphs`` tiny paragraphs (it packs
    to tens of KB and unpacks to tens of MB)."""
    w = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    body = "<w:p><w:r><w:t>a</w:t></w:r></w:p>" * paragraphs
    xml = f'<?xml version="1.0"?><w:document xmlns:w="{w}"><w:body>{body}</w:body></w:document>'
    return _replace_part(docx("x"), "word/document.xml", xml.encode())


def docx_zip_bomb(unpacked: int = 512 * 1024 * 1024) -> bytes:
    """A DOCX with an extra part of ``unpacked`` zero bytes (about 1 MB packed per GiB)."""
    base = docx("x")
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(base)) as source, zipfile.ZipFile(out, "w") as target:
        for item in source.infolist():
            target.writestr(item, source.read(item))
        item = zipfile.ZipInfo("word/media/bomb.bin")
        item.compress_type = zipfile.ZIP_DEFLATED
        with target.open(item, "w", force_zip64=True) as bomb:
            chunk = b"\0" * (1024 * 1024)
            for _ in range(unpacked // len(chunk)):
                bomb.write(chunk)
    return out.getvalue()


def docx_lying_sizes(unpacked: int = 128 * 1024 * 1024, declared: int = 4096) -> bytes:
    """A DOCX whose document.xml says it unpacks to ``declared`` bytes (with a
    matching CRC) while its data inflates to ``unpacked`` bytes."""
    head = b'<?xml version="1.0"?><w:document xmlns:w="x"><w:body>'
    padding = b" " * (unpacked - len(head))
    data = bytearray(_replace_part(docx("x"), "word/document.xml", head + padding))
    crc = zlib.crc32((head + padding)[:declared])
    name = b"word/document.xml"
    for signature, crc_at in ((b"PK\x03\x04", 14), (b"PK\x01\x02", 16)):
        at = 0
        while (at := data.find(signature, at)) >= 0:
            name_at = at + (30 if signature == b"PK\x03\x04" else 46)
            if data[name_at : name_at + len(name)] == name:
                struct.pack_into("<I", data, at + crc_at, crc)
                struct.pack_into("<I", data, at + crc_at + 8, declared)
            at += 4
    return bytes(data)


def _replace_part(data: bytes, name: str, content: bytes) -> bytes:
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for item in source.infolist():
            if item.filename == name:
                target.writestr(name, content, zipfile.ZIP_DEFLATED, compresslevel=9)
            else:
                target.writestr(item, source.read(item))
    return out.getvalue()
