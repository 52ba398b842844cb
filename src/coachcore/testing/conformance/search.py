"""The documents repository's search: the same answers on every store
(full-text index or scan), word prefixes, filters, order, and no stale hits
after a change or a delete."""

from __future__ import annotations

from datetime import timedelta

import attrs

from coachcore.domain.documents import Document, search_words
from coachcore.domain.entities import User
from coachcore.testing.conformance.contract import opened
from coachcore.testing.conformance.side import T0, OpenCore

TEXTS = {
    "d1": ("Coaching agreement", None, "The member agrees to weekly sessions."),
    "d2": ("Goal plan", "Quarterly goals", "Run a marathon; improve sleep."),
    "d3": ("Notes", "Sleep diary", "Slept well after coaching."),
    "d4": ("Résumé", None, "Straße, naïve café 2030"),
}


def _document(key: str, owner: str, n: int) -> Document:
    title, description, text = TEXTS[key]
    return Document(
        id=key,
        owner_id=owner,
        member_id="m" if key != "d2" else None,
        title=title,
        description=description,
        filename=f"{key}.txt",
        content_type="text/plain",
        size_bytes=1,
        sha256="0" * 64,
        extracted_text=text,
        created_at=T0 + timedelta(seconds=10 - n),  # created in reverse order
        updated_at=T0,
    )


def check_document_search(open_core: OpenCore) -> None:
    """The words follow one another in one field, the last one a word's beginning."""
    with opened(open_core) as store:
        with store.unit_of_work(write=True) as uow:
            for uid in ("o", "m"):
                user = User(
                    id=uid,
                    name=uid,
                    email=f"{uid}@example.com",
                    role="member",
                    created_at=T0,
                    updated_at=T0,
                )
                uow.users.add(user)
            for n, key in enumerate(TEXTS):
                uow.documents.add(_document(key, "o", n))
            uow.commit()

        def ids(query: str, **filters: str) -> list[str]:
            with store.unit_of_work(write=False) as uow:
                return [d.id for d in uow.documents.search(search_words(query), **filters)]

        assert ids("coach") == ["d3", "d1"]  # oldest first
        assert ids("COACHING agree") == ["d1"]
        assert ids("sleep") == ["d3", "d2"]  # the description counts
        assert ids("sle", member_id="m") == ["d3"]
        assert ids("oaching") == []  # prefixes of words, not substrings
        assert ids("coaching marathon") == []
        assert ids("naïve café 20") == ["d4"] and ids("STRASSE") == []
        assert ids("sleep diary") == ["d3"] and ids("diary sleep") == []
        assert ids("agreement the") == []  # a phrase does not run from one field into the next
        assert ids("!!!") == [] and ids("") == []
        with store.unit_of_work(write=True) as uow:
            changed = uow.documents.get("d1")
            assert changed is not None
            uow.documents.update(attrs.evolve(changed, title="Contract", extracted_text="Signed."))
            uow.documents.delete("d3")
            uow.commit()
        assert ids("coach") == []
        assert ids("contract") == ["d1"]
        assert ids("member") == []  # the old text is gone from the index
