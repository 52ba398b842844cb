"""Builds tests/data/documents/headers-tables.docx with python-docx.

Run from the repository root: ``python tests/data/make_documents.py``. The
PDFs beside it are not built here: see tests/data/documents/README.md.
"""

from __future__ import annotations

from pathlib import Path

import docx

OUT = Path(__file__).parent / "documents" / "headers-tables.docx"


def build() -> bytes:
    """The DOCX's bytes: a header, a footer, a heading, paragraphs and a table."""
    import io

    document = docx.Document()
    section = document.sections[0]
    section.header.paragraphs[0].text = "Confidential coaching record"
    section.footer.paragraphs[0].text = "Page footer: coachcore sample"
    document.add_heading("Intake assessment", level=1)
    document.add_paragraph("The member’s first goal is to find a sustainable routine.")
    run = document.add_paragraph("Effort level: ").add_run("moderate")
    run.bold = True
    table = document.add_table(rows=3, cols=2)
    for row, (goal, measure) in zip(
        table.rows,
        [("Goal", "Measure"), ("Sleep seven hours", "Sleep diary"), ("Walk daily", "Step count")],
        strict=True,
    ):
        row.cells[0].text = goal
        row.cells[1].text = measure
    document.add_paragraph("Reviewed\tafter six weeks.")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


if __name__ == "__main__":
    OUT.write_bytes(build())
    print(f"wrote {OUT}")
