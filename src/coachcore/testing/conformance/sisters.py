"""The sister systems' repositories through the port: ordering of same-time
rows by id (compared byte-wise), unique keys as ``Conflict``, deletes, the
hand-written queries, and values that come back exactly as written."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from coachcore.domain.audit import AuditEntry
from coachcore.domain.documents import Document, DocumentContent
from coachcore.domain.entities import CoachProfile, MemberProfile, User
from coachcore.domain.hub import ActionItem
from coachcore.domain.organizations import (
    CompanySize,
    Organization,
    OrganizationKind,
    OrganizationMembership,
)
from coachcore.domain.relations import (
    CoachingRelationship,
    Invitation,
    MemberSessionSettings,
)
from coachcore.testing.conformance.contract import IDS, conflict, opened
from coachcore.testing.conformance.search import check_document_search
from coachcore.testing.conformance.side import T0, OpenCore


def _people(uow: object) -> None:
    users = uow.users  # type: ignore[attr-defined]
    for uid, role in (("coach", "coach"), ("member", "member")):
        users.add(
            User(
                id=uid,
                name=uid,
                email=f"{uid}@example.com",
                role=role,
                created_at=T0,
                updated_at=T0,
            )
        )
    uow.coaches.add(CoachProfile(id="cp", user_id="coach", created_at=T0, updated_at=T0))  # type: ignore[attr-defined]
    uow.members.add(  # type: ignore[attr-defined]
        MemberProfile(id="mp", user_id="member", joined_at=T0, created_at=T0, updated_at=T0)
    )


def check_relationships_invitations_and_settings(open_core: OpenCore) -> None:
    with opened(open_core) as store:
        with store.unit_of_work(write=True) as uow:
            _people(uow)
            for rid in IDS:
                uow.relationships.add(
                    CoachingRelationship(
                        id=rid,
                        coach_id="coach",
                        member_id="member",
                        requested_by="coach",
                        created_at=T0,
                        updated_at=T0,
                    )
                )
            for n, iid in enumerate(IDS[:3]):
                uow.invitations.add(
                    Invitation(
                        id=iid,
                        coach_id="coach",
                        email="x@example.com",
                        token_hash=f"h{n}",
                        expires_at=T0 + timedelta(days=7),
                        created_at=T0,
                        updated_at=T0,
                    )
                )
            with conflict("invitations.add of a taken token_hash"):  # unique
                uow.invitations.add(
                    Invitation(
                        id="dup",
                        coach_id="coach",
                        email="y@example.com",
                        token_hash="h0",
                        expires_at=T0,
                        created_at=T0,
                        updated_at=T0,
                    )
                )
                uow.flush()
            uow.session_settings.add(
                MemberSessionSettings(
                    member_id="member",
                    share_context_with_coach=False,
                    shared_context="ctx",
                    created_at=T0,
                    updated_at=T0,
                )
            )
            uow.commit()
        with store.unit_of_work(write=False) as uow:
            assert [r.id for r in uow.relationships.list(member_id="member")] == sorted(IDS)
            assert [r.id for r in uow.relationships.list(coach_id="coach")] == sorted(IDS)
            assert uow.relationships.list(coach_id="member") == []
            assert [i.id for i in uow.invitations.list(email="x@example.com")] == sorted(IDS[:3])
            assert uow.invitations.find(token_hash="h1").id == IDS[1]  # type: ignore[union-attr]
            assert uow.invitations.find(token_hash="nope") is None
            settings = uow.session_settings.get("member")
            assert settings is not None and settings.shared_context == "ctx"
            assert settings.share_context_with_coach is False
            assert uow.session_settings.get("coach") is None


def check_organizations_hub_audit_and_documents(open_core: OpenCore) -> None:
    with opened(open_core) as store:
        with store.unit_of_work(write=True) as uow:
            _people(uow)
            org = Organization(
                id="org",
                name="Acme",
                kind=OrganizationKind.CLIENT_COMPANY,
                specialties=("a", "b"),
                size=CompanySize.M,
                created_by="coach",
                created_at=T0,
                updated_at=T0,
            )
            uow.organizations.add(org)
            for mid, user in (("m1", "coach"), ("m2", "member")):
                uow.organization_memberships.add(
                    OrganizationMembership(
                        id=mid, organization_id="org", user_id=user, created_at=T0, updated_at=T0
                    )
                )
            with conflict("a second membership of one user in one organization"):
                uow.organization_memberships.add(
                    OrganizationMembership(
                        id="m3",
                        organization_id="org",
                        user_id="coach",
                        created_at=T0,
                        updated_at=T0,
                    )
                )
                uow.flush()
            for n, iid in enumerate(IDS):
                uow.action_items.add(
                    ActionItem(
                        id=iid,
                        member_id="member",
                        coach_id="coach",
                        owner_id="member",
                        title=iid,
                        due_date=date(2030, 1, 1) - timedelta(days=n % 3),
                        created_at=T0,
                        updated_at=T0,
                    )
                )
                uow.audit.add(
                    AuditEntry(
                        id=iid,
                        actor_id="coach",
                        action="x.y",
                        entity_type="thing",
                        entity_id="e",
                        details={"n": n, "tags": ["a"], "nested": {"k": None}},
                        created_at=T0 + timedelta(seconds=n % 2),
                    )
                )
            uow.documents.add(
                Document(
                    id="d1",
                    owner_id="member",
                    organization_id="org",
                    title="t",
                    filename="f.txt",
                    content_type="text/plain",
                    size_bytes=3,
                    sha256="0" * 64,
                    extracted_text="é\n",
                    text_truncated=True,
                    created_at=T0,
                    updated_at=T0,
                )
            )
            uow.document_contents.add(CONTENT)
            uow.commit()
        with store.unit_of_work(write=True) as uow:
            stored = uow.organizations.get("org")
            assert stored == org
            member = uow.organization_memberships.find(organization_id="org", user_id="member")
            assert member is not None and member.id == "m2"
            uow.organization_memberships.delete("m2")
            assert (
                uow.organization_memberships.find(organization_id="org", user_id="member") is None
            )
            assert [m.id for m in uow.organization_memberships.list(user_id="coach")] == ["m1"]
            items = uow.action_items.list(member_id="member")
            assert [i.id for i in items] == sorted(IDS)
            overdue = uow.action_items.overdue(date(2030, 1, 1))
            expected = sorted(
                (i for i in items if i.due_date is not None and i.due_date < date(2030, 1, 1)),
                key=lambda i: (i.due_date or date.min, i.id),
            )
            assert [i.id for i in overdue] == [i.id for i in expected]
            entries = uow.audit.newest(entity_id="e")
            later = sorted((i for n, i in enumerate(IDS) if n % 2), reverse=True)
            earlier = sorted((i for n, i in enumerate(IDS) if not n % 2), reverse=True)
            assert [e.id for e in entries] == later + earlier
            first = next(e for e in entries if e.id == IDS[0])
            assert first.details == {"n": 0, "tags": ["a"], "nested": {"k": None}}
            assert [
                e.id for e in uow.audit.newest(since=T0 + timedelta(seconds=1), limit=2)
            ] == later[:2]
            assert uow.document_contents.get("d1") == CONTENT
            kept = uow.documents.get("d1")
            assert kept is not None and (kept.extracted_text, kept.text_truncated) == ("é\n", True)
            assert [d.id for d in uow.documents.list(organization_id="org")] == ["d1"]
            uow.document_contents.delete("d1")
            uow.documents.delete("d1")
            assert uow.documents.get("d1") is None and uow.document_contents.get("d1") is None
            uow.commit()


def check_audit_about_many_entities_reads_every_batch_oldest_first(open_core: OpenCore) -> None:
    """``audit.about`` (the export's trail) finds the entries about any of the
    ids, across more ids than one ``IN`` list holds, oldest first, once each."""
    with opened(open_core) as store:
        about = [f"e{n:04d}" for n in range(1_200)]  # more than two IN batches
        with store.unit_of_work(write=True) as uow:
            _people(uow)
            for n, entity in enumerate([*about, "elsewhere"]):
                for k in range(2):
                    uow.audit.add(
                        AuditEntry(
                            id=f"{entity}-{k}",
                            actor_id="coach",
                            action="x.y",
                            entity_type="thing",
                            entity_id=entity,
                            details={},
                            created_at=T0 + timedelta(seconds=(n * 7) % 100),
                        )
                    )
            uow.commit()
        kept = [x for n, x in enumerate(about) if n % 5]  # 960 ids: two IN lists
        wanted = [*kept, "unknown"]
        with store.unit_of_work(write=False) as uow:
            found = list(uow.audit.about(wanted + wanted[:5]))  # duplicates are harmless
        assert sorted(e.id for e in found) == sorted(f"{x}-{k}" for x in kept for k in range(2))
        assert [(e.created_at, e.id) for e in found] == sorted((e.created_at, e.id) for e in found)


CONTENT = DocumentContent(document_id="d1", key="documents/d1", size_bytes=3, sha256="0" * 64)


#: The sister systems' checks, by name.
SISTERS: dict[str, Callable[[OpenCore], Any]] = {
    "relationships_invitations_and_settings": check_relationships_invitations_and_settings,
    "organizations_hub_audit_and_documents": check_organizations_hub_audit_and_documents,
    "audit_about_batches": check_audit_about_many_entities_reads_every_batch_oldest_first,
    "document_search": check_document_search,
}
