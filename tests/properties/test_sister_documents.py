"""Properties of documents (issue 8.9), on every store."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from propkit import World

from coachcore.errors import Forbidden

TEXT = st.text(
    st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\ufeff"),
    min_size=1,
    max_size=200,
)


# Feature: sister-systems, Property S11: Documents round-trip; strangers read nothing
@given(text=TEXT, reader=st.sampled_from(["owner", "member", "coach", "stranger"]))
def test_documents_round_trip_and_stay_private(backend: Any, text: str, reader: str) -> None:
    with World(backend) as w:
        coach = w.coach()
        member = w.member(coach)
        data = text.encode("utf-8")
        doc = w.as_(member).documents.upload(
            title="t", filename="notes.txt", content=data, member_id=member.id
        )
        assert doc.extracted_text == text and doc.size_bytes == len(data)
        who = {"owner": member, "member": member, "coach": coach, "stranger": w.coach()}[reader]
        if reader == "stranger":
            try:
                w.as_(who).documents.content(doc.id)
            except Forbidden:
                return
            raise AssertionError("a stranger read the document")  # pragma: no cover
        assert w.as_(who).documents.content(doc.id) == data
        assert w.as_(who).documents.get(doc.id).extracted_text == text
