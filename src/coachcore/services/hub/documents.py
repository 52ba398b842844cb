"""Documents: upload (validated, text extracted), read, search, change, delete.

The bytes live in the store's blob storage (``store.blobs``), the row in
``document_contents`` names them. An upload puts the blob before its
transaction and the row commits with the document; a delete (or an erasure)
removes the rows and the blob goes after commit. What a crash leaves behind
(a blob whose upload never committed, or whose row was deleted just before
the crash) is an orphan that :meth:`Documents.sweep_orphans` removes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import attrs

from coachcore.domain import checks
from coachcore.domain.documents import (
    BLOB_PREFIX,
    MAX_DOCUMENT_BYTES,
    TEXT_TYPES,
    Document,
    DocumentCategory,
    DocumentContent,
    ExtractedText,
    ExtractionLimits,
    as_extracted,
    blob_key,
    plain_text,
    search_words,
)
from coachcore.domain.documents import content_type as valid_content_type
from coachcore.domain.documents import filename as valid_filename
from coachcore.errors import CoachCoreError, Forbidden, NotFound, StoreError
from coachcore.policies import documents as policy
from coachcore.services.coaching.session_settings import coaches
from coachcore.services.compliance import audit
from coachcore.services.runtime import logs, records
from coachcore.services.runtime.transaction import Tx, UseCases, new_id

_UNSET: Any = object()
DocumentList = list[Document]


def _facts(tx: Tx, member_id: str | None, organization_id: str | None) -> dict[str, bool]:
    actor = tx.actor.user_id
    coached = False
    if member_id is not None and member_id != actor:
        profile = tx.uow.members.get(member_id)
        coached = profile is not None and coaches(tx.uow, actor, profile)
    joined = organization_id is not None and (
        tx.uow.organization_memberships.find(organization_id=organization_id, user_id=actor)
        is not None
    )
    return {"coaches": coached, "in_organization": joined}


def _may_upload(tx: Tx, member: str | None, organization: str | None) -> None:
    """Refuse unless the member or organization exists and the actor may add
    documents about it (NotFound, Forbidden)."""
    if member is not None:
        records.member(tx.uow, member)
    if organization is not None and tx.uow.organizations.get(organization) is None:
        raise NotFound("Organization not found", details={"organization_id": organization})
    facts = _facts(tx, member, organization)
    policy.check_upload(tx.actor, member, organization, **facts)


def _bytes(content: Any) -> bytes:
    if not isinstance(content, bytes | bytearray):
        raise checks.fail("content", "must be bytes")
    data = bytes(content)
    if not data or len(data) > MAX_DOCUMENT_BYTES:
        raise checks.fail("content", f"must hold 1 to {MAX_DOCUMENT_BYTES} bytes")
    return data


def _find(tx: Tx, document_id: Any) -> Document:
    key = checks.identifier("document_id", document_id)
    found = tx.uow.documents.get(key)
    if found is None:
        raise NotFound("Document not found", details={"document_id": key})
    return found


def _readable(tx: Tx, document: Document, part: str = "extracted_text") -> Document:
    """The document, if the actor may read it; a read of a member's document by
    someone else is noted for the audit log (``part``: what they got)."""
    facts = _facts(tx, document.member_id, document.organization_id)
    policy.check_read(tx.actor, document, **facts)
    return _noted(tx, document, part)


def _noted(tx: Tx, document: Document, part: str = "extracted_text") -> Document:
    if document.member_id is not None:
        audit.note_sensitive_read(tx, document.member_id, [part], document_id=document.id)
    return document


class Documents(UseCases):
    """``scope.documents``: files about members or organizations, searchable by text."""

    def upload(
        self,
        *,
        title: Any,
        filename: Any,
        content: Any,
        content_type: Any = None,
        category: Any = DocumentCategory.OTHER,
        member_id: Any = None,
        organization_id: Any = None,
        description: Any = None,
    ) -> Document:
        """Store a text, PDF or DOCX file of at most 10 MiB whose bytes match its
        type, with its text extracted inline, within bounded time and memory,
        before the transaction starts (see ``docs/guides/documents.md``).
        ``content_type`` defaults from the file name's extension.

        Everything that can refuse the upload (the arguments, the member or
        organization and the actor's permission, the extraction) is checked
        before a byte is written to blob storage."""
        name = valid_filename(filename)
        kind = valid_content_type(content_type, name)
        data = _bytes(content)
        heading = checks.required_text("title", title, max_len=500).strip()
        about = checks.text("description", description)
        group = checks.choice("category", category, DocumentCategory)
        member = checks.optional_identifier("member_id", member_id)
        organization = checks.optional_identifier("organization_id", organization_id)
        may = partial(_may_upload, member=member, organization=organization)
        self._may(may)
        extracted = self._text(data, kind)
        document_id = new_id()
        key = blob_key(document_id)
        digest = hashlib.sha256(data).hexdigest()

        def run(tx: Tx) -> Document:
            may(tx)  # again: it may have changed meanwhile
            document = Document(
                id=document_id,
                owner_id=tx.actor.user_id,
                member_id=member,
                organization_id=organization,
                title=heading,
                description=about,
                filename=name,
                content_type=kind,
                category=group,
                size_bytes=len(data),
                sha256=digest,
                extracted_text=extracted.text,
                text_truncated=extracted.truncated,
                created_at=tx.now,
                updated_at=tx.now,
            )
            tx.uow.documents.add(document)
            content = DocumentContent(
                document_id=document.id, key=key, size_bytes=len(data), sha256=digest
            )
            tx.uow.document_contents.add(content)
            audit.record(
                tx, "document.uploaded", "document", document.id, member_id=member, size=len(data)
            )
            return document

        blobs = self._rt.store.blobs
        blobs.put(key, data)  # before the transaction: a rollback leaves an orphan, never a hole
        try:
            return self._rt.write(self._actor, run, action="documents.upload")
        except CoachCoreError:
            _forget(blobs, key)
            raise

    def _may(self, check: Callable[[Tx], None]) -> None:
        """Run the upload's ``check`` before any work; a refusal is logged as
        the upload's (a denial also noted in the audit log)."""
        try:
            self._rt.read(self._actor, check, action="documents.upload")
        except Forbidden:
            raise  # logged and noted by the read
        except CoachCoreError as error:
            logs.failed("documents.upload", self._actor, error)
            raise

    def _text(self, data: bytes, kind: str) -> ExtractedText:
        extractor = self._rt.extractor
        if extractor is not None:
            return as_extracted(extractor.extract(data, kind))
        if kind in TEXT_TYPES:
            return plain_text(data, ExtractionLimits())
        raise checks.fail("content_type", "no text extractor for PDF or DOCX is configured")

    def get(self, document_id: Any) -> Document:
        """One document's record (not its content), if the actor may see it."""
        return self._rt.read(self._actor, lambda tx: _readable(tx, _find(tx, document_id)))

    def content(self, document_id: Any) -> bytes:
        """The document's bytes (same access as ``get``)."""

        def run(tx: Tx) -> DocumentContent:
            document = _readable(tx, _find(tx, document_id), "content")
            stored = tx.uow.document_contents.get(document.id)
            if stored is None:  # pragma: no cover - written together
                raise NotFound("Document content not found")
            return stored

        stored = self._rt.read(self._actor, run)
        data = self._rt.store.blobs.get(stored.key)  # outside the transaction
        if len(data) != stored.size_bytes or hashlib.sha256(data).hexdigest() != stored.sha256:
            raise StoreError(
                "A document's stored bytes do not match their digest (changed or damaged "
                "in blob storage)",
                details={"document_id": stored.document_id, "key": stored.key},
            )
        return data

    def list(
        self,
        *,
        member_id: Any = None,
        organization_id: Any = None,
        category: Any = None,
        search: Any = None,
    ) -> DocumentList:
        """Documents the actor may read, oldest first; with ``search``, those in
        whose title, description or extracted text the words of ``search``
        follow one another, the last one as a word's beginning ("first go"
        finds "first goals"; case-insensitive; a search without letters or
        digits finds nothing). See ``docs/guides/documents.md`` for the cost."""
        member = checks.optional_identifier("member_id", member_id)
        organization = checks.optional_identifier("organization_id", organization_id)
        group = None if category is None else checks.choice("category", category, DocumentCategory)
        needle = checks.text("search", search, max_len=200)
        words = search_words(needle) if needle else None

        def find(tx: Tx, **filters: str | None) -> list[Document]:
            if words is None:
                return list(tx.uow.documents.list(**filters))
            return list(tx.uow.documents.search(words, **filters))

        def run(tx: Tx) -> DocumentList:
            tx.actor.require("documents:read")
            if member is not None or organization is not None or tx.actor.sees_all:
                rows = find(tx, member_id=member, organization_id=organization)
            else:
                me = tx.actor.user_id
                mine = {d.id: d for d in find(tx, owner_id=me)}
                mine.update({d.id: d for d in find(tx, member_id=me)})
                rows = sorted(mine.values(), key=lambda d: (d.created_at, d.id))
            kept = []
            for document in rows:
                if group is not None and document.category != group:
                    continue
                facts = _facts(tx, document.member_id, document.organization_id)
                if policy.can_read(tx.actor, document, **facts):
                    kept.append(_noted(tx, document))
            return kept

        return self._rt.read(self._actor, run)

    def update(
        self,
        document_id: Any,
        *,
        title: Any = _UNSET,
        description: Any = _UNSET,
        category: Any = _UNSET,
    ) -> Document:
        """The uploader (or an admin) changes title, description or category."""
        changes: dict[str, Any] = {}
        if title is not _UNSET:
            changes["title"] = checks.required_text("title", title, max_len=500).strip()
        if description is not _UNSET:
            changes["description"] = checks.text("description", description)
        if category is not _UNSET:
            changes["category"] = checks.choice("category", category, DocumentCategory)

        def run(tx: Tx) -> Document:
            document = _find(tx, document_id)
            policy.check_change(tx.actor, document)
            updated = attrs.evolve(document, updated_at=tx.now, **changes)
            tx.uow.documents.update(updated)
            audit.record(tx, "document.updated", "document", document.id, fields=sorted(changes))
            return updated

        return self._rt.write(self._actor, run, action="documents.update")

    def delete(self, document_id: Any) -> Document:
        """The uploader (or an admin) deletes the document and its bytes."""

        def run(tx: Tx) -> Document:
            document = _find(tx, document_id)
            policy.check_change(tx.actor, document)
            drop_bytes(tx, document.id)
            tx.uow.documents.delete(document.id)
            audit.record(tx, "document.deleted", "document", document.id)
            return document

        return self._rt.write(self._actor, run, action="documents.delete")

    def sweep_orphans(self, *, older_than: Any = timedelta(hours=1)) -> int:
        """Delete blobs that no document names and that were written more than
        ``older_than`` ago (uploads still in flight are younger); returns how
        many. What a crash between a commit and the blob's deletion, or an
        upload that never committed, leaves behind. Needs ``privacy:manage``
        (admins, the system scope); hosts run it from cron, e.g. daily."""
        if not isinstance(older_than, timedelta) or older_than < timedelta(0):
            raise checks.fail("older_than", "must be a non-negative timedelta")

        def run(tx: Tx) -> set[str]:
            tx.actor.require("privacy:manage")
            return {c.key for c in tx.uow.document_contents.list()}

        blobs = self._rt.store.blobs
        before = datetime.now(UTC) - older_than  # blob times are the storage's wall clock
        candidates = [k for k, at in blobs.listing(BLOB_PREFIX) if at <= before]
        if not candidates:
            return 0
        named = self._rt.read(self._actor, run)
        orphans = [k for k in candidates if k not in named]
        for key in orphans:
            blobs.delete(key)
        return len(orphans)


def drop_bytes(tx: Tx, document_id: str) -> None:
    """Delete a document's content row; its blob goes after commit."""
    stored = tx.uow.document_contents.get(document_id)
    if stored is not None:
        tx.uow.document_contents.delete(document_id)
        tx.dropped_blobs.append(stored.key)


def _forget(blobs: Any, key: str) -> None:
    try:
        blobs.delete(key)
    except CoachCoreError:  # the sweep removes it later
        return
