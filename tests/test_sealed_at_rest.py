"""Nothing personal is readable at rest, and erasure leaves none of a member's words.

A marker goes through every text parameter of every public method (see
``marker_sweep``); then the raw database is read as an attacker with the
files would: the SQLite file and its WAL as bytes, on PostgreSQL every text,
varchar, json and bytea column. With keys, no marker and no invitation
token may be there. After ``privacy.erase(member)`` no marker the member
wrote may be there, with or without keys (with keys the sealed values are
opened and searched too).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

import coachcore
from backends import Backend, SqlBackend
from coachcore.adapters.crypto import AesGcmCipher
from coachcore.adapters.sealed_values import place
from coachcore.adapters.sqlalchemy import SqlStore, engines
from coachcore.adapters.sqlalchemy.sealing import is_sealed, open_value
from coachcore.adapters.sqlalchemy.tables import build_tables
from marker_sweep import (
    Fixtures,
    Sweep,
    about_member,
    clock,
    markers_in,
    scan_postgresql,
    scan_sqlite,
    sweep,
)
from privacy_kit import KEY_A, open_with_keys, reopen

Scan = Callable[[], bytes]

MUST_REACH = {
    "users.create(name)",
    "users.create(email)",
    "users.update(name)",
    "sessions.cancel(reason)",
    "sessions.complete(coach_notes)",
    "sessions.rate(feedback)",
    "bookings.create(member_notes)",
    "invitations.create(message)",
    "invitations.create(name)",
    "interest.submit(preferred_times)",
    "documents.upload(title)",
    "documents.upload(description)",
    "documents.update(description)",
    "action_plans.create(description)",
    "action_items.create(description)",
    "action_items.update(title)",
    "organizations.create(name)",
    "members.update(health_info)",
    "quick_notes.create(body)",
    "session_settings.update(shared_context)",
}
"""The writes the first attacks found in plain text: the sweep must reach them."""


@pytest.fixture
def at_rest(
    backend: Backend, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[Callable[[bool], tuple[coachcore.Core, Fixtures, Scan]]]:
    """Opens a core with or without keys over a SQL store; the scan closes it
    and returns every stored byte (file and WAL, or every text column)."""
    if not isinstance(backend, SqlBackend):
        pytest.skip("the memory store keeps nothing at rest")
    opened: list[coachcore.Core] = []

    def start(keys: bool) -> tuple[coachcore.Core, Fixtures, Scan]:
        moment = clock()
        if backend.name == "sqlite":
            path = tmp_path / "at-rest.db"
            core = coachcore.open(f"sqlite:///{path}", clock=moment, keys=[KEY_A] if keys else None)

            def scan() -> bytes:
                core.close()
                return scan_sqlite(path)

        else:
            core = open_with_keys(backend, [KEY_A], moment) if keys else backend.open(moment)

            def scan() -> bytes:
                core.close()
                return scan_postgresql(backend.engine)

        opened.append(core)
        return core, Fixtures(core, moment), scan

    yield start
    for core in opened:
        core.close()


def _everyone(core: coachcore.Core, fixtures: Fixtures) -> Sweep:
    done = Sweep()

    def seeker() -> str:  # a fresh member without a coach, for each call
        return str(fixtures.candidates("user_id")[0])

    actors: dict[str, Any] = {
        "member": fixtures.member.id,
        "coach": fixtures.coach.id,
        "admin": fixtures.admin.id,
        "seeker": seeker,
    }
    for label, actor in actors.items():
        sweep(core, fixtures, actor, label, done)
    return done


def test_with_keys_no_marker_and_no_token_is_stored_in_plain_text(at_rest: Any) -> None:
    core, fixtures, scan = at_rest(True)
    done = _everyone(core, fixtures)
    missed = MUST_REACH - done.accepted()
    assert not missed, f"the sweep did not reach {sorted(missed)}"
    core.system.outbox.dispatch()
    stored = scan()
    assert markers_in(stored) == set(), [done.written[m] for m in markers_in(stored)]
    assert fixtures.tokens and not [t for t in fixtures.tokens if t.encode() in stored]


def test_without_keys_the_scan_does_see_the_markers(at_rest: Any) -> None:
    """The attack works on a store without keys: the scan is not blind."""
    core, fixtures, scan = at_rest(False)
    done = Sweep()
    sweep(core, fixtures, fixtures.member.id, "member", done)
    found = markers_in(scan())
    seen = {where for marker, where in done.written.items() if marker in found}
    assert len(seen) >= 10
    assert seen >= {
        "member: members.update(health_info)",
        "member: sessions.cancel(reason)",
        "member: bookings.create(member_notes)",
    }


@pytest.mark.parametrize("keys", [False, True], ids=["plain", "sealed"])
def test_erasure_leaves_none_of_the_members_words(at_rest: Any, keys: bool) -> None:
    core, fixtures, scan = at_rest(keys)
    done = Sweep()
    sweep(core, fixtures, fixtures.member.id, "member", done)
    assert len(done.written) >= 15
    swept = set(done.written)
    about_member(core, fixtures, done)  # decline and override reasons
    core.system.outbox.dispatch()
    reasons = set(done.written) - swept
    assert len(reasons) == 4 and reasons <= markers_in(_opened_text(core))  # stored, found
    core.system.privacy.erase(fixtures.member.id)
    core.system.outbox.dispatch()
    opened = _opened_text(core) if keys else b""
    stored = scan()
    left = markers_in(stored) | markers_in(opened)
    assert left == set(), sorted(done.written.get(m, m) for m in left)


def _opened_text(core: coachcore.Core) -> bytes:
    """Every stored value, sealed ones opened with the key (what the key holder sees)."""
    cipher = AesGcmCipher([KEY_A])
    store = core.store
    bind = store.bind
    prefix = store.tables.prefix
    tables = build_tables(prefix=prefix)
    parts: list[bytes] = []
    with bind.connect() as conn:
        for table in tables.all():
            name = table.name.removeprefix(prefix)
            key = next(iter(table.primary_key.columns)).name
            for row in conn.execute(sa.select(table)).mappings():
                for column, value in row.items():
                    if is_sealed(value):
                        value = open_value(
                            cipher,
                            value if isinstance(value, str) else bytes(value),
                            place(name, column, row[key]),
                        )
                    parts.append(value if isinstance(value, bytes) else str(value).encode())
    return b"\n".join(parts)


def test_a_reopened_sealed_store_reads_everything_back(backend: Backend) -> None:
    """Sealed names and addresses read back, and lookups by address still work."""
    if not isinstance(backend, SqlBackend):
        pytest.skip("the memory store keeps nothing at rest")
    core = open_with_keys(backend, [KEY_A], clock())
    fixtures = Fixtures(core, clock())
    again = reopen(backend, [KEY_A])
    try:
        found = again.system.users.list(email="MAX@example.com".lower())
        assert [u.id for u in found] == [fixtures.member.id]
        assert again.system.users.get(fixtures.coach.id).name == "Cleo"
    finally:
        again.close()


def test_without_the_wipe_sqlite_keeps_erased_words_in_free_pages_and_the_wal(
    at_rest: Any, backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The attack the wipe stops: with secure_delete off and no checkpoint, the
    rows erasure rewrote are still in the file's free pages and in the WAL."""
    if backend.name != "sqlite":
        pytest.skip("free pages and a WAL file are SQLite's")
    monkeypatch.setattr(SqlStore, "wipe_traces", lambda self: None)
    connect = engines._SqliteConnect.__call__

    def without_secure_delete(self: Any, dbapi_connection: Any, record: Any) -> None:
        connect(self, dbapi_connection, record)
        dbapi_connection.execute("PRAGMA secure_delete = OFF")

    monkeypatch.setattr(engines._SqliteConnect, "__call__", without_secure_delete)
    core, fixtures, scan = at_rest(False)
    done = Sweep()
    sweep(core, fixtures, fixtures.member.id, "member", done)
    core.system.privacy.erase(fixtures.member.id)
    assert markers_in(scan()) & set(done.written)
