"""A sealed value opens only where it was sealed for, and plain text that
looks like ciphertext is stored escaped.

The attack: someone who can write the database (not holding the keys) copies
user A's sealed name into user B's row, or into another column of B's row,
so that B's reads show A's data. Values sealed by this version (``enc:v3:``)
carry their place (table, column, row key) inside the ciphertext, so the copy
raises ``KeyMismatch`` instead; the rows left alone still read.
"""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

import coachcore
from backends import Backend, SqlBackend
from coachcore import Role
from coachcore.adapters.blobs import MemoryBlobs, SealedBlobs
from coachcore.adapters.crypto import AesGcmCipher
from coachcore.adapters.sqlalchemy import SqlStore
from coachcore.adapters.sqlalchemy.sealing import (
    ESCAPE,
    PREFIX,
    UNBOUND_PREFIX,
    SealedColumns,
    Sealer,
    is_sealed,
    open_value,
    sensitive_columns,
)
from coachcore.errors import KeyMismatch
from privacy_kit import KEY_A, KEY_B, open_with_keys, reopen, sensitive_values, sql_only

LOOKALIKES = ("enc:v2:x", "enc:plain:y", "enc:v3:z", "enc:")
"""Plain names a member may choose that start like a stored non-plain value."""


def _two_members(core: coachcore.Core) -> tuple[Any, Any]:
    a = core.system.signup_member(name="Ada Private", email="ada@example.com")
    b = core.system.signup_member(name="Bob", email="bob@example.com")
    return a, b


def _copy(sql: SqlBackend, target: str, column: str, source: str, from_column: str) -> None:
    """UPDATE users SET <column> = (the <from_column> of row <source>) WHERE id = <target>."""
    users = sql.store.tables.users
    value = sa.select(users.c[from_column]).where(users.c.id == source).scalar_subquery()
    with sql.engine.begin() as conn:
        conn.execute(sa.update(users).where(users.c.id == target).values({column: value}))


def test_a_sealed_value_copied_into_another_row_does_not_open(backend: Backend) -> None:
    sql = sql_only(backend)
    core = open_with_keys(sql, [KEY_A])
    a, b = _two_members(core)
    _copy(sql, b.id, "name", a.id, "name")
    with pytest.raises(KeyMismatch, match="does not belong to this row and column"):
        core.system.users.get(b.id)
    assert core.system.users.get(a.id).name == "Ada Private"  # the legitimate row


def test_a_sealed_value_copied_into_another_column_does_not_open(backend: Backend) -> None:
    sql = sql_only(backend)
    core = open_with_keys(sql, [KEY_A])
    a, b = _two_members(core)
    _copy(sql, b.id, "external_id", b.id, "name")
    with pytest.raises(KeyMismatch, match="does not belong to this row and column"):
        core.system.users.get(b.id)
    assert core.system.users.get(a.id).name == "Ada Private"
    _copy(sql, b.id, "external_id", a.id, "external_id")  # put a NULL back: B reads again
    assert core.system.users.get(b.id).name == "Bob"


def test_a_sealed_value_opens_only_in_its_table_column_and_row() -> None:
    cipher = AesGcmCipher([KEY_A])
    goals = SealedColumns(("goals",), table="member_profiles")
    sealed = Sealer(cipher).seal({"id": "p1", "goals": "run"}, goals)
    assert str(sealed["goals"]).startswith(PREFIX)
    assert Sealer(cipher).open(sealed, goals)["goals"] == "run"
    for elsewhere in (
        SealedColumns(("goals",), table="coach_profiles"),
        SealedColumns(("goals",), table="member_profiles", key="user_id"),
    ):
        with pytest.raises(KeyMismatch):
            Sealer(cipher).open({**sealed, "user_id": "u1"}, elsewhere)
    with pytest.raises(KeyMismatch):
        Sealer(cipher).open({**sealed, "id": "p2"}, goals)


def _opened(cipher: AesGcmCipher, row: Any, name: str, sealed: SealedColumns) -> str:
    return str(open_value(cipher, row[name], sealed.place(name, row)))


def _to_unbound(sql: SqlBackend) -> int:
    """Rewrite every sealed value (and the key check) as earlier versions stored
    it: ``enc:v2:`` + a token of the value alone. Returns how many."""
    cipher = AesGcmCipher([KEY_A])
    moved = 0
    with sql.engine.begin() as conn:
        for table, sealed in sensitive_columns(sql.store.tables):
            pk = table.c[sealed.key]
            for row in conn.execute(sa.select(pk, *(table.c[f] for f in sealed.fields))):
                found = row._mapping
                values = {
                    name: UNBOUND_PREFIX + cipher.encrypt(_opened(cipher, found, name, sealed))
                    for name in sealed.fields
                    if is_sealed(found[name])
                }
                if values:
                    moved += len(values)
                    conn.execute(sa.update(table).where(pk == found[sealed.key]).values(values))
        settings = sql.store.tables.settings
        check = UNBOUND_PREFIX + cipher.encrypt("coachcore encryption key check")
        conn.execute(
            sa.update(settings).where(settings.c.name == "encryption_key_check").values(value=check)
        )
    return moved


def test_rotation_binds_the_values_of_earlier_versions_to_their_place(backend: Backend) -> None:
    sql = sql_only(backend)
    a, b = _two_members(open_with_keys(sql, [KEY_A]))
    moved = _to_unbound(sql)
    assert moved >= 4
    assert all(str(v).startswith(UNBOUND_PREFIX) for _, _, v in sensitive_values(sql))
    before = reopen(sql, [KEY_A])  # unbound values still open
    assert before.system.users.get(b.id).name == "Bob"
    before.close()
    report = SqlStore(sql.engine, cipher=AesGcmCipher([KEY_A])).rotate_keys(batch=3)
    assert (report.upgraded, report.rotated, report.encrypted) == (moved, 0, 0)
    assert all(str(v).startswith(PREFIX) for _, _, v in sensitive_values(sql))
    settings = sql.store.tables.settings
    with sql.engine.connect() as conn:
        check = conn.scalar(
            sa.select(settings.c.value).where(settings.c.name == "encryption_key_check")
        )
    assert str(check).startswith(PREFIX)
    after = reopen(sql, [KEY_A])
    assert [u.id for u in after.system.users.list(email="ada@example.com")] == [a.id]
    _copy(sql, b.id, "name", a.id, "name")  # now bound: the copy no longer opens
    with pytest.raises(KeyMismatch):
        after.system.users.get(b.id)
    after.close()
    again = SqlStore(sql.engine, cipher=AesGcmCipher([KEY_B, KEY_A]))
    with pytest.raises(KeyMismatch):  # rotation does not carry a misplaced value over
        again.rotate_keys()


def test_blob_bytes_moved_to_another_key_do_not_open() -> None:
    inner = MemoryBlobs()
    blobs = SealedBlobs(inner, AesGcmCipher([KEY_A]))
    blobs.put("documents/a", b"blood test: ferritin")
    blobs.put("documents/b", b"nothing much")
    inner.put("documents/b", inner.get("documents/a"))  # the swap, in blob storage
    with pytest.raises(KeyMismatch, match="does not belong"):
        blobs.get("documents/b")
    with pytest.raises(KeyMismatch):  # rotation does not carry it over either
        SealedBlobs(inner, AesGcmCipher([KEY_B, KEY_A])).reseal("documents/b")
    assert blobs.get("documents/a") == b"blood test: ferritin"
    assert inner.get("documents/a").startswith(PREFIX.encode())


# -- plain text that looks like ciphertext -------------------------------------


@pytest.mark.parametrize("keys", [False, True], ids=["plain", "sealed"])
def test_a_member_may_be_called_like_ciphertext(backend: Backend, keys: bool) -> None:
    core = open_with_keys(backend, [KEY_A]) if keys else backend.open()
    made = {}
    for i, name in enumerate(LOOKALIKES):
        email = f"{name}{i}@example.com" if i % 2 else f"m{i}@example.com"
        made[name] = (core.system.signup_member(name=name, email=email), email)
    for name, (user, email) in made.items():
        assert core.system.users.get(user.id).name == name
        assert [u.id for u in core.system.users.list(email=email)] == [user.id]
    if isinstance(backend, SqlBackend):
        again = reopen(backend, [KEY_A] if keys else None)
        for name, (user, email) in made.items():
            assert again.system.users.get(user.id).name == name
            assert [u.id for u in again.system.users.list(email=email)] == [user.id]
        again.close()
        stored = {str(v) for _, c, v in sensitive_values(backend) if c == "name"}
        if keys:
            assert all(is_sealed(v) for v in stored)
        else:
            assert {ESCAPE + n for n in LOOKALIKES} <= stored
            assert not any(is_sealed(v) for v in stored)


def test_rotation_seals_the_escaped_text_as_it_was_written(backend: Backend) -> None:
    sql = sql_only(backend)
    plain = sql.open()
    coach = plain.system.users.create(name="enc:v2:coach", email="c@example.com", role=Role.COACH)
    member = plain.system.signup_member(name="enc:plain:m", email="enc:v1:m@example.com")
    report = SqlStore(sql.engine, cipher=AesGcmCipher([KEY_A])).rotate_keys()
    assert report.encrypted >= 4 and report.reindexed == 2
    sealed = reopen(sql, [KEY_A])
    assert sealed.system.users.get(coach.id).name == "enc:v2:coach"
    assert sealed.system.users.get(member.id).name == "enc:plain:m"
    assert [u.id for u in sealed.system.users.list(email="enc:v1:m@example.com")] == [member.id]
    sealed.close()
    assert all(is_sealed(v) for _, _, v in sensitive_values(sql))


def test_without_keys_blob_bytes_that_look_sealed_are_escaped() -> None:
    inner = MemoryBlobs()
    blobs = SealedBlobs(inner, None)
    for i, data in enumerate((b"enc:v2:abc", b"enc:plain:x", b"plain")):
        blobs.put(f"documents/{i}", data)
        assert blobs.get(f"documents/{i}") == data
        assert not is_sealed(inner.get(f"documents/{i}"))
    keyed = SealedBlobs(inner, AesGcmCipher([KEY_A]))
    assert keyed.reseal("documents/0") and keyed.get("documents/0") == b"enc:v2:abc"
