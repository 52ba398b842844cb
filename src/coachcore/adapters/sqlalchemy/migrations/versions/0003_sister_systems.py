"""The sister systems' tables: coaching relationships and what hangs off them.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23

A frozen copy of the schema of this revision (see 0001). Names honour the
store's schema and table prefix.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import context, op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

ID = sa.String(64)
WORD = sa.String(32)
TABLES = (
    "coaching_relationships",
    "invitations",
    "coaching_interests",
    "member_session_settings",
    "organizations",
    "organization_memberships",
    "action_plans",
    "action_items",
    "quick_notes",
    "session_scores",
    "audit_log",
    "documents",
    "document_contents",
)


def _names() -> tuple[str | None, str]:
    """The store's schema and table prefix, as given to coachcore's migrate()."""
    attributes = context.config.attributes
    return attributes.get("schema"), attributes.get("table_prefix") or "coachcore_"


def _when(name: str, nullable: bool = False) -> sa.Column[Any]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    schema, p = _names()
    users_id = f"{schema}.{p}users.id" if schema else f"{p}users.id"

    def ref(table: str, column: str, target: str = users_id) -> sa.ForeignKeyConstraint:
        return sa.ForeignKeyConstraint(
            [column],
            [target],
            name=f"fk_{p}{table}_{column}",
            deferrable=True,
            initially="DEFERRED",
        )

    def create(table: str, *items: Any, key: str = "id") -> None:
        op.create_table(
            f"{p}{table}",
            *items,
            sa.PrimaryKeyConstraint(key, name=f"pk_{p}{table}"),
            schema=schema,
        )

    def index(table: str, *columns: str) -> None:
        name = f"ix_{p}{table}_{'_'.join(columns)}"
        op.create_index(name, f"{p}{table}", list(columns), schema=schema)

    create(
        "coaching_relationships",
        sa.Column("id", ID, nullable=False),
        sa.Column("coach_id", ID, nullable=False),
        sa.Column("member_id", ID, nullable=False),
        sa.Column("status", WORD, nullable=False),
        sa.Column("requested_by", ID, nullable=False),
        _when("started_at", nullable=True),
        _when("ended_at", nullable=True),
        _when("created_at"),
        _when("updated_at"),
        ref("coaching_relationships", "coach_id"),
        ref("coaching_relationships", "member_id"),
    )
    index("coaching_relationships", "coach_id")
    index("coaching_relationships", "member_id")
    create(
        "invitations",
        sa.Column("id", ID, nullable=False),
        sa.Column("coach_id", ID, nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("name", sa.Text()),
        sa.Column("message", sa.Text()),
        sa.Column("token_hash", ID, nullable=False),
        sa.Column("status", WORD, nullable=False),
        _when("expires_at"),
        sa.Column("member_id", ID),
        sa.Column("relationship_id", ID),
        _when("responded_at", nullable=True),
        _when("created_at"),
        _when("updated_at"),
        ref("invitations", "coach_id"),
        sa.UniqueConstraint("token_hash", name=f"uq_{p}invitations_token_hash"),
    )
    index("invitations", "coach_id")
    index("invitations", "email")
    create(
        "coaching_interests",
        sa.Column("id", ID, nullable=False),
        sa.Column("member_id", ID, nullable=False),
        sa.Column("goals", sa.Text(), nullable=False),
        sa.Column("preferred_times", sa.Text()),
        sa.Column("notes", sa.Text()),
        sa.Column("status", WORD, nullable=False),
        sa.Column("handled_by", ID),
        _when("handled_at", nullable=True),
        sa.Column("handling_note", sa.Text()),
        _when("created_at"),
        _when("updated_at"),
        ref("coaching_interests", "member_id"),
    )
    index("coaching_interests", "member_id")
    index("coaching_interests", "status", "created_at")
    create(
        "member_session_settings",
        sa.Column("member_id", ID, nullable=False),
        sa.Column("share_context_with_coach", sa.Boolean(), nullable=False),
        sa.Column("shared_context", sa.Text()),
        _when("created_at"),
        _when("updated_at"),
        ref("member_session_settings", "member_id"),
        key="member_id",
    )
    create(
        "organizations",
        sa.Column("id", ID, nullable=False),
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
        _when("created_at"),
        _when("updated_at"),
    )
    index("organizations", "kind")
    organizations_id = f"{schema}.{p}organizations.id" if schema else f"{p}organizations.id"
    create(
        "organization_memberships",
        sa.Column("id", ID, nullable=False),
        sa.Column("organization_id", ID, nullable=False),
        sa.Column("user_id", ID, nullable=False),
        sa.Column("role", WORD, nullable=False),
        _when("created_at"),
        _when("updated_at"),
        ref("organization_memberships", "organization_id", organizations_id),
        ref("organization_memberships", "user_id"),
        sa.UniqueConstraint(
            "organization_id",
            "user_id",
            name=f"uq_{p}organization_memberships_organization_id_user_id",
        ),
    )
    index("organization_memberships", "user_id")
    sessions_id = f"{schema}.{p}sessions.id" if schema else f"{p}sessions.id"
    plans_id = f"{schema}.{p}action_plans.id" if schema else f"{p}action_plans.id"
    create(
        "action_plans",
        sa.Column("id", ID, nullable=False),
        sa.Column("member_id", ID, nullable=False),
        sa.Column("coach_id", ID, nullable=False),
        sa.Column("session_id", ID),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("description", sa.Text()),
        _when("created_at"),
        _when("updated_at"),
        ref("action_plans", "member_id"),
        ref("action_plans", "coach_id"),
        ref("action_plans", "session_id", sessions_id),
    )
    index("action_plans", "member_id")
    index("action_plans", "coach_id")
    create(
        "action_items",
        sa.Column("id", ID, nullable=False),
        sa.Column("member_id", ID, nullable=False),
        sa.Column("coach_id", ID, nullable=False),
        sa.Column("owner_id", ID, nullable=False),
        sa.Column("session_id", ID),
        sa.Column("plan_id", ID),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("description", sa.Text()),
        sa.Column("due_date", sa.Date()),
        sa.Column("status", WORD, nullable=False),
        _when("completed_at", nullable=True),
        _when("created_at"),
        _when("updated_at"),
        ref("action_items", "member_id"),
        ref("action_items", "coach_id"),
        ref("action_items", "owner_id"),
        ref("action_items", "session_id", sessions_id),
        ref("action_items", "plan_id", plans_id),
    )
    index("action_items", "member_id")
    index("action_items", "coach_id")
    index("action_items", "plan_id")
    index("action_items", "status", "due_date")
    create(
        "quick_notes",
        sa.Column("id", ID, nullable=False),
        sa.Column("coach_id", ID, nullable=False),
        sa.Column("member_id", ID, nullable=False),
        sa.Column("session_id", ID),
        sa.Column("body", sa.Text(), nullable=False),
        _when("created_at"),
        _when("updated_at"),
        ref("quick_notes", "coach_id"),
        ref("quick_notes", "member_id"),
        ref("quick_notes", "session_id", sessions_id),
    )
    index("quick_notes", "coach_id", "member_id")
    create(
        "session_scores",
        sa.Column("session_id", ID, nullable=False),
        sa.Column("member_id", ID, nullable=False),
        sa.Column("coach_id", ID, nullable=False),
        sa.Column("previous_score", sa.Float()),
        sa.Column("current_score", sa.Float(), nullable=False),
        _when("scored_at"),
        _when("created_at"),
        _when("updated_at"),
        ref("session_scores", "session_id", sessions_id),
        ref("session_scores", "member_id"),
        ref("session_scores", "coach_id"),
        key="session_id",
    )
    index("session_scores", "member_id", "scored_at")
    create(
        "audit_log",
        sa.Column("id", ID, nullable=False),
        sa.Column("actor_id", ID, nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("entity_type", sa.String(64), nullable=False),
        sa.Column("entity_id", ID, nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        _when("created_at"),
    )
    index("audit_log", "entity_id", "created_at")
    index("audit_log", "actor_id", "created_at")
    index("audit_log", "created_at")
    create(
        "documents",
        sa.Column("id", ID, nullable=False),
        sa.Column("owner_id", ID, nullable=False),
        sa.Column("member_id", ID),
        sa.Column("organization_id", ID),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("description", sa.Text()),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("content_type", sa.String(200), nullable=False),
        sa.Column("category", WORD, nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("sha256", ID, nullable=False),
        sa.Column("extracted_text", sa.Text(), nullable=False),
        _when("created_at"),
        _when("updated_at"),
        ref("documents", "owner_id"),
        ref("documents", "member_id"),
        ref("documents", "organization_id", organizations_id),
    )
    index("documents", "member_id")
    index("documents", "owner_id")
    index("documents", "organization_id")
    documents_id = f"{schema}.{p}documents.id" if schema else f"{p}documents.id"
    create(
        "document_contents",
        sa.Column("document_id", ID, nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        ref("document_contents", "document_id", documents_id),
        key="document_id",
    )
    # notifications to people who are not users yet carry their address
    op.add_column(f"{p}notifications", sa.Column("recipient_email", sa.String(320)), schema=schema)


def downgrade() -> None:
    schema, p = _names()
    with op.batch_alter_table(f"{p}notifications", schema=schema) as batch:
        batch.drop_column("recipient_email")
    for table in reversed(TABLES):
        op.drop_table(f"{p}{table}", schema=schema)
