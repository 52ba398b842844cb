"""The sister systems' tables: relationships, invitations, interest, session
settings, organizations, the coaching hub, the audit log and documents.

Built by :func:`~coachcore.adapters.sqlalchemy.tables.build_tables` into the
same ``MetaData`` as the scheduling core's tables they refer to.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from coachcore.adapters.sqlalchemy.columns import ID, WORD, ref, when

TableFactory = Callable[..., sa.Table]


def sister_tables(
    table: TableFactory, uid: sa.Column[Any], sid: sa.Column[Any], address: Any, index: Any
) -> dict[str, sa.Table]:
    """The sister systems' tables, by attribute name of ``Tables``; ``uid`` and
    ``sid`` are the users' and sessions' id columns, ``address`` and ``index``
    the types of a sealed address and of its blind index."""
    coaching_relationships = table(
        "coaching_relationships",
        sa.Column("id", ID, primary_key=True),
        ref("coach_id", uid),
        ref("member_id", uid),
        sa.Column("status", WORD, nullable=False),
        sa.Column("requested_by", ID, nullable=False),
        when("started_at", nullable=True),
        when("ended_at", nullable=True),
        sa.Column("decline_reason", sa.Text()),
        when("created_at"),
        when("updated_at"),
        sa.Index(None, "coach_id"),
        sa.Index(None, "member_id"),
    )
    invitations = table(
        "invitations",
        sa.Column("id", ID, primary_key=True),
        ref("coach_id", uid),
        sa.Column("email", address, nullable=False),
        sa.Column("email_index", index, nullable=False),
        sa.Column("invitee_id", ID),
        sa.Column("name", sa.Text()),
        sa.Column("message", sa.Text()),
        sa.Column("token_hash", ID, nullable=False, unique=True),
        sa.Column("status", WORD, nullable=False),
        when("expires_at"),
        sa.Column("member_id", ID),
        sa.Column("relationship_id", ID),
        when("responded_at", nullable=True),
        when("created_at"),
        when("updated_at"),
        sa.Index(None, "coach_id"),
        sa.Index(None, "email"),
        sa.Index(None, "email_index"),
    )
    coaching_interests = table(
        "coaching_interests",
        sa.Column("id", ID, primary_key=True),
        ref("member_id", uid),
        sa.Column("goals", sa.Text(), nullable=False),
        sa.Column("preferred_times", sa.Text()),
        sa.Column("notes", sa.Text()),
        sa.Column("status", WORD, nullable=False),
        sa.Column("handled_by", ID),
        when("handled_at", nullable=True),
        sa.Column("handling_note", sa.Text()),
        when("created_at"),
        when("updated_at"),
        sa.Index(None, "member_id"),
        sa.Index(None, "status", "created_at"),
    )
    member_session_settings = table(
        "member_session_settings",
        ref("member_id", uid),
        sa.Column("share_context_with_coach", sa.Boolean(), nullable=False),
        sa.Column("shared_context", sa.Text()),
        when("created_at"),
        when("updated_at"),
        sa.PrimaryKeyConstraint("member_id"),
    )
    organizations = table(
        "organizations",
        sa.Column("id", ID, primary_key=True),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("kind", WORD, nullable=False),
        sa.Column("description", sa.Text()),
        sa.Column("specialties", sa.JSON(), nullable=False),
        sa.Column("experience", sa.Text()),
        sa.Column("philosophy", sa.Text()),
        sa.Column("industry", sa.Text()),
        sa.Column("size", WORD),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_by", ID, nullable=False),
        when("created_at"),
        when("updated_at"),
        sa.Index(None, "kind"),
    )
    organization_memberships = table(
        "organization_memberships",
        sa.Column("id", ID, primary_key=True),
        ref("organization_id", organizations.c.id),
        ref("user_id", uid),
        sa.Column("role", WORD, nullable=False),
        when("created_at"),
        when("updated_at"),
        sa.UniqueConstraint("organization_id", "user_id"),
        sa.Index(None, "user_id"),
    )
    organization_invitations = table(
        "organization_invitations",
        sa.Column("id", ID, primary_key=True),
        ref("organization_id", organizations.c.id),
        ref("user_id", uid),
        sa.Column("role", WORD, nullable=False),
        sa.Column("invited_by", ID, nullable=False),
        sa.Column("status", WORD, nullable=False),
        when("expires_at"),
        when("responded_at", nullable=True),
        when("created_at"),
        when("updated_at"),
        sa.Index(None, "organization_id"),
        sa.Index(None, "user_id"),
    )
    action_plans = table(
        "action_plans",
        sa.Column("id", ID, primary_key=True),
        ref("member_id", uid),
        ref("coach_id", uid),
        ref("session_id", sid, nullable=True),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("description", sa.Text()),
        when("created_at"),
        when("updated_at"),
        sa.Index(None, "member_id"),
        sa.Index(None, "coach_id"),
    )
    action_items = table(
        "action_items",
        sa.Column("id", ID, primary_key=True),
        ref("member_id", uid),
        ref("coach_id", uid),
        ref("owner_id", uid),
        ref("session_id", sid, nullable=True),
        ref("plan_id", action_plans.c.id, nullable=True),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("description", sa.Text()),
        sa.Column("due_date", sa.Date()),
        sa.Column("status", WORD, nullable=False),
        when("completed_at", nullable=True),
        when("created_at"),
        when("updated_at"),
        sa.Index(None, "member_id"),
        sa.Index(None, "coach_id"),
        sa.Index(None, "plan_id"),
        sa.Index(None, "status", "due_date"),
    )
    quick_notes = table(
        "quick_notes",
        sa.Column("id", ID, primary_key=True),
        ref("coach_id", uid),
        ref("member_id", uid),
        ref("session_id", sid, nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        when("created_at"),
        when("updated_at"),
        sa.Index(None, "coach_id", "member_id"),
    )
    session_scores = table(
        "session_scores",
        ref("session_id", sid),
        ref("member_id", uid),
        ref("coach_id", uid),
        sa.Column("previous_score", sa.Float()),
        sa.Column("current_score", sa.Float(), nullable=False),
        when("scored_at"),
        when("created_at"),
        when("updated_at"),
        sa.PrimaryKeyConstraint("session_id"),
        sa.Index(None, "member_id", "scored_at"),
    )
    audit_log = table(
        "audit_log",
        sa.Column("id", ID, primary_key=True),
        sa.Column("actor_id", ID, nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("entity_type", sa.String(64), nullable=False),
        sa.Column("entity_id", ID, nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        when("created_at"),
        sa.Index(None, "entity_id", "created_at"),
        sa.Index(None, "actor_id", "created_at"),
        sa.Index(None, "created_at"),
    )
    documents = table(
        "documents",
        sa.Column("id", ID, primary_key=True),
        ref("owner_id", uid),
        ref("member_id", uid, nullable=True),
        ref("organization_id", organizations.c.id, nullable=True),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("description", sa.Text()),
        sa.Column("filename", sa.String(255).with_variant(sa.Text(), "postgresql"), nullable=False),
        sa.Column("content_type", sa.String(200), nullable=False),
        sa.Column("category", WORD, nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("sha256", ID, nullable=False),
        sa.Column("extracted_text", sa.Text(), nullable=False),
        sa.Column("text_truncated", sa.Boolean(), nullable=False, server_default=sa.false()),
        when("created_at"),
        when("updated_at"),
        sa.Index(None, "member_id"),
        sa.Index(None, "owner_id"),
        sa.Index(None, "organization_id"),
    )
    document_contents = table(
        "document_contents",
        ref("document_id", documents.c.id),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("sha256", ID, nullable=False),
        sa.PrimaryKeyConstraint("document_id"),
    )
    return {
        "coaching_relationships": coaching_relationships,
        "invitations": invitations,
        "coaching_interests": coaching_interests,
        "member_session_settings": member_session_settings,
        "organizations": organizations,
        "organization_memberships": organization_memberships,
        "organization_invitations": organization_invitations,
        "action_plans": action_plans,
        "action_items": action_items,
        "quick_notes": quick_notes,
        "session_scores": session_scores,
        "audit_log": audit_log,
        "documents": documents,
        "document_contents": document_contents,
    }
