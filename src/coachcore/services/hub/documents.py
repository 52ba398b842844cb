"""Documents: upload (validated, text extracted), read, search, change, delete."""

from __future__ import annotations

import hashlib
from typing import Any

import attrs

from coachcore.domain import checks
from coachcore.domain.documents import (
    MAX_DOCUMENT_BYTES,
    TEXT_TYPES,
    Document,
    DocumentCategory,
    DocumentContent,
    ExtractionLimits,
    plain_text,
)
from coachcore.domain.documents import content_type as valid_content_type
from coachcore.domain.documents import filename as valid_filename
from coachcore.errors import NotFound
from coachcore.policies import documents as policy
from coachcore.services.coaching.session_settings import coaches
from coachcore.services.compliance import audit
from coachcore.services.runtime import records
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
        ``content_type`` defaults from the file name's extension."""
        name = valid_filename(filename)
        kind = valid_content_type(content_type, name)
        if not isinstance(content, bytes | bytearray):
            raise checks.fail("content", "must be bytes")
        data = bytes(content)
        if not data or len(data) > MAX_DOCUMENT_BYTES:
            raise checks.fail("content", f"must hold 1 to {MAX_DOCUMENT_BYTES} bytes")
        text = self._text(data, kind)
        heading = checks.required_text("title", title, max_len=500).strip()
        about = checks.text("description", description)
        group = checks.choice("category", category, DocumentCategory)
        member = checks.optional_identifier("member_id", member_id)
        organization = checks.optional_identifier("organization_id", organization_id)

        def run(tx: Tx) -> Document:
            if member is not None:
                records.member(tx.uow, member)
            if organization is not None and tx.uow.organizations.get(organization) is None:
                raise NotFound("Organization not found", details={"organization_id": organization})
            facts = _facts(tx, member, organization)
            policy.check_upload(tx.actor, member, organization, **facts)
            document = Document(
                id=new_id(),
                owner_id=tx.actor.user_id,
                member_id=member,
                organization_id=organization,
                title=heading,
                description=about,
                filename=name,
                content_type=kind,
                category=group,
                size_bytes=len(data),
                sha256=hashlib.sha256(data).hexdigest(),
                extracted_text=text,
                created_at=tx.now,
                updated_at=tx.now,
            )
            tx.uow.documents.add(document)
            tx.uow.document_contents.add(DocumentContent(document_id=document.id, data=data))
            audit.record(
                tx, "document.uploaded", "document", document.id, member_id=member, size=len(data)
            )
            return document

        return self._rt.write(self._actor, run, action="documents.upload")

    def _text(self, data: bytes, kind: str) -> str:
        extractor = self._rt.extractor
        if extractor is not None:
            return extractor.extract(data, kind)
        if kind in TEXT_TYPES:
            return plain_text(data, ExtractionLimits())
        raise checks.fail("content_type", "no text extractor for PDF or DOCX is configured")

    def get(self, document_id: Any) -> Document:
        """One document's record (not its content), if the actor may see it."""
        return self._rt.read(self._actor, lambda tx: _readable(tx, _find(tx, document_id)))

    def content(self, document_id: Any) -> bytes:
        """The document's bytes (same access as ``get``)."""

        def run(tx: Tx) -> bytes:
            document = _readable(tx, _find(tx, document_id), "content")
            stored = tx.uow.document_contents.get(document.id)
            if stored is None:  # pragma: no cover - written together
                raise NotFound("Document content not found")
            return stored.data

        return self._rt.read(self._actor, run)

    def list(
        self,
        *,
        member_id: Any = None,
        organization_id: Any = None,
        category: Any = None,
        search: Any = None,
    ) -> DocumentList:
        """Documents the actor may read, oldest first; ``search`` is a
        case-insensitive substring of the title, description or extracted text."""
        member = checks.optional_identifier("member_id", member_id)
        organization = checks.optional_identifier("organization_id", organization_id)
        group = None if category is None else checks.choice("category", category, DocumentCategory)
        needle = checks.text("search", search, max_len=200)

        def run(tx: Tx) -> DocumentList:
            tx.actor.require("documents:read")
            if member is not None or organization is not None or tx.actor.sees_all:
                rows = list(tx.uow.documents.list(member_id=member, organization_id=organization))
            else:
                me = tx.actor.user_id
                mine = {d.id: d for d in tx.uow.documents.list(owner_id=me)}
                mine.update({d.id: d for d in tx.uow.documents.list(member_id=me)})
                rows = sorted(mine.values(), key=lambda d: (d.created_at, d.id))
            kept = []
            for document in rows:
                if group is not None and document.category != group:
                    continue
                if needle and not _matches(document, needle):
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
            tx.uow.document_contents.delete(document.id)
            tx.uow.documents.delete(document.id)
            audit.record(tx, "document.deleted", "document", document.id)
            return document

        return self._rt.write(self._actor, run, action="documents.delete")


def _matches(document: Document, needle: str) -> bool:
    text = " ".join(filter(None, (document.title, document.description, document.extracted_text)))
    return needle.casefold() in text.casefold()
