"""Revision 0003 (the sister systems' tables) upgrades a 0001 database in place
and downgrades back to it, leaving the older tables and their rows alone."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from coachcore.adapters.sqlalchemy import (
    build_tables,
    create_store_engine,
    current_revision,
    downgrade,
    head_revision,
    migrate,
)

SISTER_TABLES = {
    "coachcore_coaching_relationships",
    "coachcore_invitations",
    "coachcore_coaching_interests",
    "coachcore_member_session_settings",
    "coachcore_organizations",
    "coachcore_organization_memberships",
    "coachcore_action_plans",
    "coachcore_action_items",
    "coachcore_quick_notes",
    "coachcore_session_scores",
    "coachcore_audit_log",
    "coachcore_documents",
    "coachcore_document_contents",
}


def _columns(url: str, table: str) -> set[str]:
    engine = create_store_engine(url)
    try:
        return {c["name"] for c in sa.inspect(engine).get_columns(table)}
    finally:
        engine.dispose()


def _names(url: str) -> set[str]:
    engine = create_store_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_0003_upgrades_a_0001_database_and_downgrades_back(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'steps.db'}"
    assert migrate(url, revision="0001") == "0001"
    assert not SISTER_TABLES & _names(url)
    assert "recipient_email" not in _columns(url, "coachcore_notifications")
    engine = create_store_engine(url)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql(
                "INSERT INTO coachcore_users (id, name, email, role, timezone, is_active, "
                "created_at, updated_at) VALUES ('u1', 'Ann', 'ann@example.com', 'member', "
                "'UTC', 1, '2030-01-01 00:00:00', '2030-01-01 00:00:00')"
            )
    finally:
        engine.dispose()
    assert migrate(url) == head_revision()  # through 0003 and every later revision
    assert _names(url) >= SISTER_TABLES
    assert "recipient_email" in _columns(url, "coachcore_notifications")
    expected = {t.name for t in build_tables().all()}
    assert expected <= _names(url)
    assert downgrade(url, revision="0001") == "0001"
    assert not SISTER_TABLES & _names(url)
    assert current_revision(url) == "0001"
    assert "recipient_email" not in _columns(url, "coachcore_notifications")
    engine = create_store_engine(url)
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT id FROM coachcore_users").all() == [("u1",)]
    finally:
        engine.dispose()
