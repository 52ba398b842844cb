"""Encryption at rest of the sister systems' free text and of documents:
quick notes, interest submissions, shared session context, a document's
extracted text and its bytes (SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

import coachcore
from backends import Backend, SqlBackend
from coachcore import Role
from coachcore.adapters.crypto import AesGcmCipher
from coachcore.adapters.sqlalchemy import SqlStore
from coachcore.adapters.sqlalchemy.sealing import BINARY_PREFIX, PREFIX
from privacy_kit import (
    KEY_A,
    KEY_B,
    all_sealed,
    open_with_keys,
    raw_text,
    reopen,
    sensitive_values,
    sql_only,
)

SEALED_HERE = {
    ("quick_notes", "body"),
    ("coaching_interests", "goals"),
    ("coaching_interests", "notes"),
    ("member_session_settings", "shared_context"),
    ("documents", "extracted_text"),
}


def _values(backend: SqlBackend) -> list[tuple[str, str, Any]]:
    """``sensitive_values`` with the table names without their prefix."""
    prefix = backend.store.tables.prefix
    return [(t.removeprefix(prefix), c, v) for t, c, v in sensitive_values(backend)]


def _story(core: coachcore.Core, secret: str) -> dict[str, Any]:
    """Each of the fields written once through the public API."""
    sysadm = core.system
    coach = sysadm.users.create(name="Cleo", email="cleo@example.com", role=Role.COACH)
    member = sysadm.signup_member(name="Max", email="max@example.com", coach_id=coach.id)
    loner = sysadm.signup_member(name="Lou", email="lou@example.com")
    as_member = core.acting_as(member.id)
    document = as_member.documents.upload(
        title="Lab results",
        filename="lab.txt",
        content=f"blood test {secret}".encode(),
        member_id=member.id,
    )
    note = core.acting_as(coach.id).quick_notes.create(member_id=member.id, body=f"note {secret}")
    as_member.session_settings.update(shared_context=f"context {secret}")
    interest = core.acting_as(loner.id).interest.submit(
        goals=f"goals {secret}", notes=f"notes {secret}"
    )
    return {
        "coach": coach.id,
        "member": member.id,
        "loner": loner.id,
        "document": document.id,
        "note": note.id,
        "interest": interest.id,
    }


def _check_plain(core: coachcore.Core, story: dict[str, Any], secret: str) -> None:
    as_member = core.acting_as(story["member"])
    assert as_member.documents.get(story["document"]).extracted_text == f"blood test {secret}"
    assert as_member.documents.content(story["document"]) == f"blood test {secret}".encode()
    found = as_member.documents.list(search=secret[:6])
    assert [d.id for d in found] == [story["document"]]  # search reads the plain text
    assert core.acting_as(story["coach"]).quick_notes.get(story["note"]).body == f"note {secret}"
    assert as_member.session_settings.get().shared_context == f"context {secret}"
    interest = core.system.interest.get(story["interest"])
    assert (interest.goals, interest.notes) == (f"goals {secret}", f"notes {secret}")


def test_the_new_fields_read_back_plain_and_are_stored_as_ciphertext(backend: Backend) -> None:
    secret = "Qx9-geheim-ü"
    core = open_with_keys(backend, [KEY_A])
    story = _story(core, secret)
    _check_plain(core, story, secret)
    if isinstance(backend, SqlBackend):
        stored = {(table, column) for table, column, _ in _values(backend)}
        assert stored >= SEALED_HERE
        assert all_sealed(backend)
        assert "geheim" not in raw_text(backend)
        assert b"geheim" not in b"".join(v for _, _, v in _values(backend) if isinstance(v, bytes))


def test_document_bytes_are_sealed_as_bytes_and_rotate(backend: Backend) -> None:
    sql = sql_only(backend)
    story = _story(open_with_keys(sql, [KEY_A]), "rot")
    blob = f"documents/{story['document']}"
    raw = sql.store.blobs.inner.get(blob)  # as blob storage holds it
    assert raw.startswith(BINARY_PREFIX) and b"rot" not in raw
    count = len(sensitive_values(sql))
    report = SqlStore(sql.engine, cipher=AesGcmCipher([KEY_B, KEY_A]), blobs=sql.blobs).rotate_keys(
        batch=1
    )
    assert (report.rotated, report.blobs) == (count, 1)
    only_b = AesGcmCipher([KEY_B])
    for table, column, value in _values(sql):
        if (table, column) in SEALED_HERE:
            only_b.decrypt(value[len(PREFIX) :])
    rotated = sql.store.blobs.inner.get(blob)
    assert rotated != raw
    only_b.decrypt(rotated[len(BINARY_PREFIX) :].decode("ascii"))  # the new key opens it alone
    core = reopen(sql, [KEY_B])
    _check_plain(core, story, "rot")
    core.close()


def test_legacy_plain_rows_are_encrypted_by_rotation(backend: Backend) -> None:
    sql = sql_only(backend)
    plain = sql.open()
    story = _story(plain, "legacy")
    assert "legacy" in raw_text(sql)
    count = len(sensitive_values(sql))
    assert sql.store.blobs.inner.get(f"documents/{story['document']}") == b"blood test legacy"
    report = SqlStore(sql.engine, cipher=AesGcmCipher([KEY_A]), blobs=sql.blobs).rotate_keys(
        batch=2
    )
    assert (report.encrypted, report.blobs) == (count, 1)
    sealed = sql.store.blobs.inner.get(f"documents/{story['document']}")
    assert sealed.startswith(BINARY_PREFIX) and b"legacy" not in sealed
    assert all_sealed(sql) and "legacy" not in raw_text(sql)
    core = reopen(sql, [KEY_A])
    _check_plain(core, story, "legacy")
    core.close()
