"""The packaged Alembic migrations: no drift from the tables, version table, outdated schemas."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import coachcore
from backends import BackendPool, BackendUnavailable, _UseStore
from coachcore.adapters.clock import FixedClock
from coachcore.adapters.sqlalchemy import (
    SqlStore,
    build_tables,
    create_store_engine,
    current_revision,
    downgrade,
    head_revision,
    migrate,
    stamp,
)
from coachcore.adapters.sqlalchemy.search import SEARCH_COLUMN, SEARCH_INDEX, SEARCH_TABLE
from coachcore.errors import SchemaOutdated, StoreError


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_db(
    request: pytest.FixtureRequest, backend_pool: BackendPool, tmp_path: Path
) -> Iterator[dict[str, Any]]:
    """A URL plus schema/prefix under which no coachcore table exists yet."""
    if request.param == "sqlite":
        yield {"url": f"sqlite:///{tmp_path / 'empty.db'}", "schema": None, "prefix": "coachcore_"}
        return
    try:
        url = backend_pool.postgresql_url()
    except BackendUnavailable as why:
        pytest.skip(str(why))
    name = request.node.name.split("[")[0][-20:].lower()
    options = {"url": url, "schema": f"s_{name}", "prefix": "t_"}
    yield options
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{options["schema"]}" CASCADE')
    engine.dispose()


def schema_diff(url: str, schema: str | None, prefix: str, extra: Any = None) -> list[Any]:
    """Autogenerate's differences between the migrated database and ``build_tables``."""
    tables = build_tables(schema=schema, prefix=prefix)
    if extra is not None:
        extra(tables)

    def include_name(name: str | None, type_: str, parents: Any) -> bool:
        if type_ == "schema":
            return name == schema
        if type_ == "table":
            search = bool(name and name.startswith(f"{prefix}{SEARCH_TABLE}"))
            return (
                bool(name and name.startswith(prefix))
                and name != tables.version_table
                and not search
            )
        if type_ == "index":  # PostgreSQL's full-text index: checked by the search tests
            return name != f"ix_{prefix}{SEARCH_INDEX}"
        if type_ == "column":  # its PostgreSQL-only generated column, which nothing reads
            return name != SEARCH_COLUMN
        return True

    engine = create_store_engine(url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(
                conn,
                opts={
                    "compare_type": True,
                    "include_name": include_name,
                    "include_schemas": schema is not None,
                },
            )
            return list(compare_metadata(context, tables.metadata))
    finally:
        engine.dispose()


def test_upgraded_schema_matches_the_tables(empty_db: dict[str, Any]) -> None:
    url, schema, prefix = empty_db["url"], empty_db["schema"], empty_db["prefix"]
    assert current_revision(url, schema=schema, table_prefix=prefix) is None
    assert migrate(url, schema=schema, table_prefix=prefix) == head_revision()
    assert schema_diff(url, schema, prefix) == []

    # the comparison does see drift:
    def add_column(tables: Any) -> None:
        tables.users.append_column(sa.Column("nickname", sa.Text()))

    assert schema_diff(url, schema, prefix, add_column) != []
    # idempotent, and the revision lives in coachcore's own version table
    assert migrate(url, schema=schema, table_prefix=prefix) == head_revision()
    engine = create_store_engine(url)
    try:
        names = sa.inspect(engine).get_table_names(schema=schema)
        assert f"{prefix}alembic_version" in names and "alembic_version" not in names
        searched = f"{prefix}{SEARCH_TABLE}"
        kept = (n for n in names if n.startswith(prefix) and not n.startswith(searched))
        assert sorted(kept) == sorted(
            [t.name for t in build_tables(schema=schema, prefix=prefix).all()]
            + [f"{prefix}alembic_version"]
        )
    finally:
        engine.dispose()
    assert downgrade(url, revision="base", schema=schema, table_prefix=prefix) is None
    assert schema_diff(url, schema, prefix) != []


def test_the_default_version_table_is_coachcore_alembic_version(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'v.db'}"
    engine = create_store_engine(url)
    try:
        with engine.begin() as conn:  # the host's own Alembic history
            conn.exec_driver_sql("CREATE TABLE alembic_version (version_num VARCHAR(32))")
            conn.exec_driver_sql("INSERT INTO alembic_version VALUES ('hosts_rev')")
        SqlStore(engine)  # an empty database (for coachcore) is migrated on open
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT * FROM alembic_version").all() == [("hosts_rev",)]
            ours = conn.exec_driver_sql("SELECT * FROM coachcore_alembic_version").all()
            assert ours == [(head_revision(),)]
    finally:
        engine.dispose()


def test_opening_an_outdated_database_names_the_upgrade_command(
    empty_db: dict[str, Any],
) -> None:
    url, schema, prefix = empty_db["url"], empty_db["schema"], empty_db["prefix"]
    migrate(url, schema=schema, table_prefix=prefix)
    stamp(url, revision="base", schema=schema, table_prefix=prefix)
    with pytest.raises(SchemaOutdated) as outdated:
        SqlStore.from_url(url, schema=schema, table_prefix=prefix)
    message = outdated.value.message
    assert "coachcore db upgrade" in message
    assert f"--url {sa.make_url(url).render_as_string(hide_password=True)}" in message
    assert outdated.value.details["head"] == head_revision()
    if schema is None:
        with pytest.raises(SchemaOutdated):
            coachcore.open(url)
    stamp(url, revision="head", schema=schema, table_prefix=prefix)
    SqlStore.from_url(url, schema=schema, table_prefix=prefix).close()


def test_a_revision_from_a_newer_coachcore_is_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'newer.db'}"
    migrate(url)
    engine = create_store_engine(url)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("UPDATE coachcore_alembic_version SET version_num = '9999'")
        with pytest.raises(StoreError, match="does not know"):
            SqlStore(engine)
    finally:
        engine.dispose()


def test_no_auto_migrate_reports_the_missing_tables(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'none.db'}"
    with pytest.raises(SchemaOutdated, match="coachcore db upgrade"):
        SqlStore.from_url(url, auto_migrate=False)
    assert current_revision(url) is None


def test_migrations_ship_inside_the_package() -> None:
    from importlib.resources import files

    root = files("coachcore.adapters.sqlalchemy") / "migrations"
    assert (root / "env.py").is_file()
    assert (root / "script.py.mako").is_file()
    assert (root / "versions" / "0001_initial.py").is_file()
    assert (root / "versions" / "0002_scheduling_rules.py").is_file()
    assert (root / "versions" / "0003_sister_systems.py").is_file()
    assert (root / "versions" / "0004_privacy.py").is_file()
    assert (root / "versions" / "0008_sealed_identity.py").is_file()
    assert (root / "versions" / "0010_blobs_and_search.py").is_file()
    assert (root / "versions" / "0011_document_text_truncated.py").is_file()
    assert (root / "versions" / "0012_organization_invitation_expiry.py").is_file()
    assert head_revision() == "0012"


def test_a_database_downgraded_to_base_is_migrated_again_on_open(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'again.db'}"
    migrate(url)
    downgrade(url, revision="base")
    SqlStore.from_url(url).close()
    assert current_revision(url) == head_revision()


def test_0005_numbers_stored_waitlist_entries_in_their_order(empty_db: dict[str, Any]) -> None:
    """Entries stored before ``position`` existed keep the order they were offered in:
    per slot, by the time of joining, then id (the old tie-break)."""
    url, schema, prefix = empty_db["url"], empty_db["schema"], empty_db["prefix"]
    assert migrate(url, revision="0004", schema=schema, table_prefix=prefix) == "0004"
    at, later = datetime(2030, 1, 1, tzinfo=UTC), datetime(2030, 1, 2, tzinfo=UTC)
    slot_a, slot_b = datetime(2030, 2, 1, 9, tzinfo=UTC), datetime(2030, 2, 1, 10, tzinfo=UTC)
    rows = [  # id, start, created_at: "b" and "a" joined at the same instant
        ("b", slot_a, later),
        ("a", slot_a, later),
        ("c", slot_a, at),
        ("d", slot_b, later),
    ]
    engine = create_store_engine(url)
    try:
        with engine.begin() as conn:
            meta = sa.MetaData(schema=schema)
            users = sa.Table(f"{prefix}users", meta, autoload_with=conn)
            entries = sa.Table(f"{prefix}waitlist_entries", meta, autoload_with=conn)
            person = {"role": "member", "timezone": "UTC", "is_active": True}
            conn.execute(
                users.insert(),
                [
                    {"id": u, "name": u, "email": f"{u}@example.com", **person}
                    | {"created_at": at, "updated_at": at}
                    for u in ("coach", "member")
                ],
            )
            conn.execute(
                entries.insert(),
                [
                    {"id": i, "coach_id": "coach", "member_id": "member", "start": start}
                    | {"duration": 60, "status": "waiting", "created_at": made}
                    | {"updated_at": made}
                    for i, start, made in rows
                ],
            )
        assert migrate(url, schema=schema, table_prefix=prefix) == head_revision()
        with engine.connect() as conn:
            entries = sa.Table(
                f"{prefix}waitlist_entries", sa.MetaData(schema=schema), autoload_with=conn
            )
            got = dict(conn.execute(sa.select(entries.c.id, entries.c.position)).all())
    finally:
        engine.dispose()
    assert got == {"c": 1, "a": 2, "b": 3, "d": 1}


def test_0012_gives_stored_organization_invitations_seven_days(
    empty_db: dict[str, Any],
) -> None:
    """Invitations made before ``expires_at`` existed expire seven days after
    they were made (the column dropped and added again by 0012)."""
    url, schema, prefix = empty_db["url"], empty_db["schema"], empty_db["prefix"]
    made = datetime(2030, 1, 1, 8, 30, tzinfo=UTC)
    store = SqlStore.from_url(url, schema=schema, table_prefix=prefix)
    try:
        with coachcore.open(url, clock=FixedClock(made), plugins=[_UseStore(store)]) as core:
            owner = core.system.users.create(name="O", email="o@example.com", role="coach")
            user = core.system.users.create(name="U", email="u@example.com", role="member")
            org = core.acting_as(owner.id).organizations.create(name="Acme", kind="client_company")
            asked = core.acting_as(owner.id).organizations.invite(org.id, user.id)
    finally:
        store.close()
    assert downgrade(url, revision="0011", schema=schema, table_prefix=prefix) == "0011"
    assert migrate(url, schema=schema, table_prefix=prefix) == head_revision()
    engine = create_store_engine(url)
    try:
        with engine.connect() as conn:
            table = build_tables(schema=schema, prefix=prefix).organization_invitations
            got = conn.execute(sa.select(table.c.id, table.c.expires_at)).all()
    finally:
        engine.dispose()
    assert got == [(asked.id, made + timedelta(days=7))]
