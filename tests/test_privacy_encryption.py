"""Encryption at rest of the sensitive fields: memory, SQLite and PostgreSQL."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import coachcore
import coachcore.errors
from backends import Backend, SqlBackend
from coachcore import Role
from coachcore.adapters.clock import FixedClock
from coachcore.adapters.crypto import AesGcmCipher
from coachcore.adapters.sqlalchemy import SqlStore
from coachcore.adapters.sqlalchemy.sealing import PREFIX, is_sealed
from coachcore.cli import app
from coachcore.errors import KeyMismatch, KeyMissing, ValidationFailed
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

NINE = datetime(2030, 1, 7, 9, tzinfo=UTC)  # a Monday


def _story(core: coachcore.Core, secret: str) -> dict[str, Any]:
    """Every sensitive field written once through the public API."""
    sysadm = core.system
    coach = sysadm.users.create(name="Cleo", email="cleo@example.com", role=Role.COACH)
    core.acting_as(coach.id).availability.create(
        day_of_week=1, start_time="09:00", end_time="12:00", max_sessions_per_slot=2
    )
    member = sysadm.signup_member(
        name="Max", email="max@example.com", coach_id=coach.id, goals=f"goal {secret}"
    )
    as_member = core.acting_as(member.id)
    as_coach = core.acting_as(coach.id)
    as_member.members.update(member.id, health_info=f"health {secret}")
    as_coach.members.update(member.id, coach_notes=f"profile note {secret}")
    booking = as_member.bookings.create(
        coach_id=coach.id, start=NINE, duration=60, member_notes=f"booking note {secret}"
    )
    assert booking.session_id is not None
    as_member.sessions.add_member_notes(booking.session_id, f"member note {secret}")
    as_coach.sessions.complete(
        booking.session_id, coach_notes=f"coach note {secret}", outcomes=f"outcome {secret}"
    )
    as_member.sessions.rate(booking.session_id, rating=4, feedback=f"feedback {secret}")
    return {"coach": coach, "member": member, "session_id": booking.session_id}


def _check_plain_through_api(core: coachcore.Core, story: dict[str, Any], secret: str) -> None:
    coach, member = story["coach"], story["member"]
    profile = core.acting_as(coach.id).members.get(member.id)
    assert (profile.goals, profile.health_info, profile.coach_notes) == (
        f"goal {secret}",
        f"health {secret}",
        f"profile note {secret}",
    )
    session = core.acting_as(coach.id).sessions.get(story["session_id"])
    assert session.coach_notes == f"coach note {secret}"
    assert session.member_notes == f"member note {secret}"
    assert session.outcomes == f"outcome {secret}"
    assert session.rating_feedback == f"feedback {secret}"
    booking = core.acting_as(member.id).bookings.list()[0]
    assert booking.member_notes == f"booking note {secret}"
    mine = core.acting_as(member.id).sessions.get(story["session_id"])
    assert mine.coach_notes is None  # redaction still applies


def test_sensitive_fields_read_back_in_plain_text_and_are_stored_as_ciphertext(
    backend: Backend,
) -> None:
    secret = "S3cr3t-öß-💬"
    core = open_with_keys(backend, [KEY_A])
    story = _story(core, secret)
    _check_plain_through_api(core, story, secret)
    if isinstance(backend, SqlBackend):
        values = sensitive_values(backend)
        columns = {(table, column) for table, column, _ in values}
        private = {"goals", "health_info", "coach_notes", "member_notes", "outcomes", "feedback"}
        assert {c for _, c in columns} >= private | {"name", "email", "title", "body", "payload"}
        assert all(is_sealed(value) for _, _, value in values)
        assert "S3cr3t" not in raw_text(backend)


def test_a_store_with_ciphertext_refuses_to_open_without_a_key(backend: Backend) -> None:
    sql = sql_only(backend)
    core = open_with_keys(sql, [KEY_A])
    _story(core, "x")
    with pytest.raises(KeyMissing, match="encrypted fields"):
        SqlStore(sql.engine)
    with pytest.raises(KeyMissing) as missing:
        coachcore.open(sql.url())
    assert missing.value.to_dict()["statusCode"] == 500


def test_a_wrong_key_is_refused_when_the_store_opens(backend: Backend) -> None:
    sql = sql_only(backend)
    _story(open_with_keys(sql, [KEY_A]), "x")
    with pytest.raises(KeyMismatch, match="None of the given encryption keys"):
        SqlStore(sql.engine, cipher=AesGcmCipher([KEY_B]))
    # a right key anywhere in the list opens it
    reopen(sql, [KEY_B, KEY_A]).close()


def test_a_store_opened_without_keys_never_returns_ciphertext(backend: Backend) -> None:
    """The per-value guard: a keyless store that was opened before encryption
    was turned on raises instead of returning a token (or writing plain text
    next to it unnoticed)."""
    sql = sql_only(backend)
    plain = sql.open()  # the session's shared store: no cipher, opened long ago
    story = _story(plain, "early")
    sealed = reopen(sql, [KEY_A])
    sealed.acting_as(story["member"].id).members.update(
        story["member"].id, health_info="written with the key"
    )
    with pytest.raises(KeyMissing):
        plain.acting_as(story["coach"].id).members.get(story["member"].id)
    sealed.close()


def test_legacy_plain_values_stay_readable_and_rotation_encrypts_them(backend: Backend) -> None:
    sql = sql_only(backend)
    plain = sql.open()
    story = _story(plain, "legacy")
    values = sensitive_values(sql)
    assert not any(is_sealed(v) for _, _, v in values)
    sealed = reopen(sql, [KEY_A])
    _check_plain_through_api(sealed, story, "legacy")
    sealed.close()
    report = SqlStore(sql.engine, cipher=AesGcmCipher([KEY_A])).rotate_keys(batch=3)
    assert (report.rotated, report.upgraded, report.encrypted) == (0, 0, len(values))
    assert all_sealed(sql)
    assert "legacy" not in raw_text(sql)
    again = reopen(sql, [KEY_A])
    _check_plain_through_api(again, story, "legacy")
    again.close()


def test_rotation_moves_every_value_to_the_newest_key(backend: Backend) -> None:
    sql = sql_only(backend)
    story = _story(open_with_keys(sql, [KEY_A]), "rot")
    count = len(sensitive_values(sql))
    store = SqlStore(sql.engine, cipher=AesGcmCipher([KEY_B, KEY_A]))
    report = store.rotate_keys(batch=2)
    assert (report.rotated, report.encrypted) == (count, 0)
    assert report.reindexed == 2  # the coach's and the member's address
    only_b = AesGcmCipher([KEY_B])
    for _, _, value in sensitive_values(sql):
        only_b.decrypt(value[len(PREFIX) :])  # raises if any value still needs KEY_A
    core = reopen(sql, [KEY_B])  # the old key can go now
    _check_plain_through_api(core, story, "rot")
    core.close()
    with pytest.raises(KeyMismatch):
        SqlStore(sql.engine, cipher=AesGcmCipher([KEY_A]))
    again = store.rotate_keys()  # idempotent: what is current stays as it is
    assert (again.rotated, again.reindexed, again.rows) == (0, 0, 0)


def test_keys_are_given_by_the_host_and_checked(tmp_path: Path) -> None:
    with pytest.raises(ValidationFailed, match="32 random bytes"):
        coachcore.open("memory://", keys="not-a-key")
    with pytest.raises(ValidationFailed, match="at least one"):
        coachcore.open("memory://", keys=" , ")
    with pytest.raises(ValidationFailed, match="either keys or a cipher"):
        coachcore.open("memory://", keys=KEY_A, cipher=AesGcmCipher(KEY_A))
    assert repr(AesGcmCipher(f"{KEY_A},{KEY_B}")) == "<AesGcmCipher keys=2>"
    url = f"sqlite:///{tmp_path / 'plain.db'}"
    coachcore.open(url).close()  # no key: plain text, nothing generated
    with sa.create_engine(url).connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM coachcore_settings").scalar() == 0


def test_cli_rotates_keys_and_every_command_reads_coachcore_keys(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'keys.db'}"
    with coachcore.open(
        url, keys=[KEY_A], clock=FixedClock(datetime(2029, 12, 1, tzinfo=UTC))
    ) as c:
        _story(c, "cli")
    runner = CliRunner()
    generated = runner.invoke(app, ["keys", "generate"]).output.strip()
    AesGcmCipher(generated)  # a valid key
    result = runner.invoke(app, ["keys", "rotate", "--url", url, "--keys", f"{KEY_B},{KEY_A}"])
    assert result.exit_code == 0, result.output
    assert "re-sealed under the newest key: " in result.output
    assert "moved from earlier formats: 0" in result.output
    monkeypatch.setenv("COACHCORE_KEYS", KEY_B)
    result = runner.invoke(app, ["outbox", "pending", "--url", url])
    assert result.exit_code == 0, result.output
    monkeypatch.delenv("COACHCORE_KEYS")
    result = runner.invoke(app, ["outbox", "pending", "--url", url])
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.startswith(f"{KeyMissing.error}: ")


# -- the property: no code path writes a sensitive field in plain text ---------

SECRET = "PLAIN-7f3a"
TEXT = st.characters(exclude_characters="\x00", exclude_categories=("Cs",))
ACTIONS = st.lists(
    st.sampled_from(
        [
            "goals",
            "health",
            "profile_note",
            "book",
            "create_session",
            "member_note",
            "coach_note",
            "complete",
            "rate",
            "cancel",
            "reschedule",
            "erase",
            "document",
            "quick_note",
            "shared_context",
            "interest",
        ]
    ),
    min_size=1,
    max_size=12,
)


def _run(core: coachcore.Core, actions: list[str], texts: Any) -> None:
    sysadm = core.system
    coach = sysadm.users.create(name="C", email="c@example.com", role=Role.COACH)
    core.acting_as(coach.id).availability.create(
        day_of_week=1, start_time="09:00", end_time="17:00", max_sessions_per_slot=3
    )
    member = sysadm.signup_member(
        name="M", email="m@example.com", coach_id=coach.id, goals=texts.draw("goals")
    )
    as_member, as_coach = core.acting_as(member.id), core.acting_as(coach.id)
    sessions: list[str] = []
    hour = iter(range(9, 17))
    for action in actions:
        text = texts.draw(action)
        try:
            if action == "goals":
                as_member.members.update(member.id, goals=text)
            elif action == "health":
                as_member.members.update(member.id, health_info=text)
            elif action == "profile_note":
                as_coach.members.update(member.id, coach_notes=text)
            elif action == "book":
                start = NINE.replace(hour=next(hour))
                b = as_member.bookings.create(coach_id=coach.id, start=start, member_notes=text)
                sessions.append(str(b.session_id))
            elif action == "create_session":
                start = NINE.replace(hour=next(hour)) + timedelta(days=7)
                s = as_coach.sessions.create(
                    member_id=member.id,
                    coach_id=coach.id,
                    scheduled_at=start,
                    member_notes=text,
                    override=True,
                    override_reason="set up by the test",
                )
                sessions.append(s.id)
            elif sessions and action == "member_note":
                as_member.sessions.add_member_notes(sessions[-1], text)
            elif sessions and action == "coach_note":
                as_coach.sessions.add_coach_notes(sessions[-1], text)
            elif sessions and action == "complete":
                as_coach.sessions.complete(sessions[-1], coach_notes=text, outcomes=text)
            elif sessions and action == "rate":
                as_member.sessions.rate(sessions[-1], rating=3, feedback=text)
            elif sessions and action == "cancel":
                as_coach.sessions.cancel(sessions[-1], reason="busy")
            elif sessions and action == "reschedule":
                as_coach.sessions.update(
                    sessions[-1], duration=30, override=True, override_reason="set up by the test"
                )
            elif action == "erase":
                sysadm.privacy.erase(member.id)
            elif action == "document":
                as_member.documents.upload(
                    title="t", filename="t.txt", content=text.encode(), member_id=member.id
                )
            elif action == "quick_note":
                as_coach.quick_notes.create(member_id=member.id, body=text)
            elif action == "shared_context":
                as_member.session_settings.update(shared_context=text)
            elif action == "interest":
                loner = sysadm.signup_member(name="L", email=f"l{len(sessions)}@example.com")
                core.acting_as(loner.id).interest.submit(goals=text, notes=text)
        except (
            coachcore.errors.BusinessRuleViolation,
            coachcore.errors.Conflict,
            coachcore.errors.Forbidden,
            coachcore.errors.ValidationFailed,
            StopIteration,
        ):
            continue  # a refused action writes nothing; the next one may


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
@settings(max_examples=25)
@given(actions=ACTIONS, data=st.data())
def test_no_code_path_writes_a_sensitive_field_in_plain_text(
    backend_pool: Any, engine: str, actions: list[str], data: st.DataObject
) -> None:
    # Feature: privacy, Property P1: with a cipher configured, every sensitive
    # column of a SQL store holds only ciphertext, whatever the use cases did.
    from backends import BackendUnavailable

    try:
        sql = backend_pool.get(engine)
    except BackendUnavailable as why:
        pytest.skip(str(why))

    class Texts:
        def draw(self, label: str) -> str:
            tail = data.draw(st.text(TEXT, max_size=20), label=label)
            return f"{SECRET}{tail}"

    core = open_with_keys(sql, [KEY_A])
    try:
        _run(core, actions, Texts())
    finally:
        sql.release()
    assert all_sealed(sql)
    assert SECRET not in raw_text(sql)


def test_without_a_cipher_text_that_looks_like_ciphertext_is_escaped() -> None:
    from coachcore.adapters.sqlalchemy.sealing import ESCAPE, SealedColumns, Sealer

    goals = SealedColumns(("goals",), table="member_profiles")
    keyed = Sealer(AesGcmCipher(KEY_A))
    for text in (PREFIX + "x", ESCAPE + "y", "enc:", "plain"):
        stored = Sealer().seal({"id": "p1", "goals": text}, goals)
        assert stored["goals"] == (ESCAPE + text if text.startswith("enc:") else text)
        assert not is_sealed(stored["goals"])
        assert Sealer().open(stored, goals)["goals"] == text
        assert keyed.open(stored, goals)["goals"] == text  # keys turned on later
    sealed = keyed.seal({"id": "p1", "goals": PREFIX + "x"}, goals)
    assert keyed.open(sealed, goals) == {"id": "p1", "goals": PREFIX + "x"}
    with pytest.raises(KeyMissing):
        Sealer().open(sealed, goals)
    tampered = {"id": "p1", "goals": sealed["goals"][:-4] + "AAAA"}
    with pytest.raises(KeyMismatch):
        keyed.open(tampered, goals)


def _to_fernet_format(sql: SqlBackend) -> int:
    """Rewrite every sealed value (and the key check) as earlier versions stored
    it: ``enc:v1:`` + a Fernet token under the same key. Returns how many."""
    from coachcore.adapters.crypto import FernetCipher
    from coachcore.adapters.sqlalchemy.sealing import (
        LEGACY_PREFIX,
        open_value,
        sensitive_columns,
    )

    new, old = AesGcmCipher([KEY_A]), FernetCipher([KEY_A])
    moved = 0
    with sql.engine.begin() as conn:
        for table, sealed in [*sensitive_columns(sql.store.tables)]:
            pk = next(iter(table.primary_key.columns))
            for row in conn.execute(sa.select(pk, *(table.c[f] for f in sealed.fields))):
                values: dict[str, Any] = {}
                for name in sealed.fields:
                    value = row._mapping[name]
                    value = bytes(value) if isinstance(value, memoryview) else value
                    if not is_sealed(value):
                        continue
                    plain = open_value(new, value, sealed.place(name, row._mapping))
                    if isinstance(plain, bytes):
                        token = old.encrypt(base64.b64encode(plain).decode())
                        values[name] = (LEGACY_PREFIX + token).encode("ascii")
                    else:
                        values[name] = LEGACY_PREFIX + old.encrypt(plain)
                if values:
                    moved += len(values)
                    conn.execute(sa.update(table).where(pk == row[0]).values(values))
        settings_table = sql.store.tables.settings
        check = LEGACY_PREFIX + old.encrypt("coachcore encryption key check")  # not bound
        conn.execute(
            sa.update(settings_table)
            .where(settings_table.c.name == "encryption_key_check")
            .values(value=check)
        )
    return moved


def test_fernet_values_of_earlier_versions_open_and_rotation_upgrades_them(
    backend: Backend,
) -> None:
    sql = sql_only(backend)
    story = _story(open_with_keys(sql, [KEY_A]), "old")
    moved = _to_fernet_format(sql)
    assert moved > 10
    assert any(str(v).startswith("enc:v1:") for _, _, v in sensitive_values(sql))
    before = reopen(sql, [KEY_A])
    _check_plain_through_api(before, story, "old")
    before.close()
    report = SqlStore(sql.engine, cipher=AesGcmCipher([KEY_A])).rotate_keys(batch=4)
    assert (report.upgraded, report.rotated, report.encrypted) == (moved, 0, 0)
    assert not any(
        (v if isinstance(v, bytes) else str(v).encode()).startswith(b"enc:v1:")
        for _, _, v in sensitive_values(sql)
    )
    after = reopen(sql, [KEY_A])
    _check_plain_through_api(after, story, "old")
    after.close()


def test_blind_index_key_is_checked_and_kept_apart(backend: Backend) -> None:
    sql = sql_only(backend)
    index_key = AesGcmCipher.generate_key()
    sql.release()
    sql.reset()
    SqlStore(sql.engine, cipher=AesGcmCipher([KEY_A], index_key=index_key))
    with pytest.raises(KeyMismatch, match="blind-index key"):
        SqlStore(sql.engine, cipher=AesGcmCipher([KEY_A]))
    # with an index key of its own, rotating the sealing keys changes no index
    store = SqlStore(sql.engine, cipher=AesGcmCipher([KEY_B, KEY_A], index_key=index_key))
    assert store.rotate_keys().reindexed == 0


def test_the_cipher_names_its_key_and_detects_tampering() -> None:
    a, b = AesGcmCipher([KEY_A]), AesGcmCipher([KEY_B, KEY_A])
    token = a.encrypt("Zoë")
    key_id, body = token.split(":")
    assert key_id == a.key_id and len(key_id) == 8 and "Zoë" not in token
    assert b.decrypt(token) == "Zoë" and not b.is_current(token)
    assert b.is_current(b.rotate(token)) and a.encrypt("Zoë") != token  # fresh nonce
    for bad in (f"{key_id}:{body[:-2]}AA", f"00000000:{body}", "not a token"):
        with pytest.raises(KeyMismatch):
            a.decrypt(bad)
    assert a.blind_index("max@example.com") == AesGcmCipher([KEY_A]).blind_index("max@example.com")
    assert a.blind_index("max@example.com") != AesGcmCipher([KEY_B]).blind_index("max@example.com")
    assert b.blind_indexes("x") == (AesGcmCipher([KEY_B]).blind_index("x"), a.blind_index("x"))
    with pytest.raises(ValidationFailed):
        AesGcmCipher([None])  # type: ignore[list-item]
