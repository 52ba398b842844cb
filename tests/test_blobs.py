"""Document bytes in blob storage: the port's adapters (a local directory,
memory, S3-compatible storage on a real S3 server the tests start), sealing
before the bytes leave the process, deletion after commit (never before),
erasure, the sweep of orphans and a digest that catches changed bytes."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from moto.server import ThreadedMotoServer
from typer.testing import CliRunner

import coachcore
from backends import T0, Backend, SqlBackend, _UseStore
from coachcore.adapters.blobs import LocalBlobs, MemoryBlobs, S3Blobs
from coachcore.adapters.blobs.choice import chosen
from coachcore.adapters.clock import FixedClock
from coachcore.adapters.crypto import AesGcmCipher
from coachcore.adapters.sqlalchemy import SqlStore
from coachcore.cli import app
from coachcore.errors import Forbidden, NotFound, StoreError, ValidationFailed
from coachcore.ports.blobs import BlobStore
from coachcore.services.hub import documents as documents_service
from test_blob_migration import FILES, _stored_0008
from world import World

KEY = AesGcmCipher.generate_key()
SECRET = b"blood test: ferritin low, see GP"


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """A real S3-compatible server (moto's server mode) for the session."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def s3_client(endpoint: str, **config: Any) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(**config) if config else None,
    )


@pytest.fixture
def s3(s3_endpoint: str) -> S3Blobs:
    """Blobs in a fresh bucket of the S3 server, under a prefix."""
    client = s3_client(s3_endpoint)
    bucket = f"b-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=bucket)
    return S3Blobs(bucket, prefix="coaching/", client=client)


@pytest.fixture(params=["local", "memory", "s3"])
def blobs(request: pytest.FixtureRequest, tmp_path: Path) -> BlobStore:
    if request.param == "local":
        return LocalBlobs(tmp_path / "blobs")
    if request.param == "memory":
        return MemoryBlobs()
    return request.getfixturevalue("s3")  # type: ignore[no-any-return]


def test_every_adapter_keeps_replaces_lists_and_deletes(blobs: BlobStore) -> None:
    assert isinstance(blobs, BlobStore)
    assert list(blobs.listing("documents/")) == []
    with pytest.raises(NotFound):
        blobs.get("documents/a")
    blobs.put("documents/a", b"\x00\xff first")
    blobs.put("documents/a", b"\x00\xff second")  # replaced whole
    blobs.put("documents/b", b"")
    blobs.put("other/c", b"c")
    assert blobs.get("documents/a") == b"\x00\xff second" and blobs.get("documents/b") == b""
    listed = list(blobs.listing("documents/"))
    assert [k for k, _ in listed] == ["documents/a", "documents/b"]
    now = datetime.now(UTC)
    assert all(now - timedelta(minutes=5) < at <= now + timedelta(minutes=5) for _, at in listed)
    blobs.delete("documents/a")
    blobs.delete("documents/a")  # nothing there: nothing happens
    with pytest.raises(NotFound):
        blobs.get("documents/a")
    assert [k for k, _ in blobs.listing("")] == ["documents/b", "other/c"]
    for bad in ("../escape", "/etc/passwd", "a//b", "a/../../b", "", "a b"):
        with pytest.raises(ValidationFailed):
            blobs.put(bad, b"x")


def test_a_local_directory_never_shows_half_a_blob(tmp_path: Path) -> None:
    local = LocalBlobs(tmp_path / "blobs")
    local.put("documents/x", b"old")
    (tmp_path / "blobs" / "documents" / ".partial-crash").write_bytes(b"ne")  # a crash's leftover
    assert local.get("documents/x") == b"old"
    assert [k for k, _ in local.listing("documents/")] == [
        "documents/.partial-crash",
        "documents/x",
    ]


def test_unreachable_s3_is_a_store_error() -> None:
    client = s3_client("http://127.0.0.1:9", retries={"max_attempts": 1}, connect_timeout=1)
    with pytest.raises(StoreError):
        S3Blobs("nowhere", client=client).put("documents/x", b"x")


def test_a_missing_bucket_is_a_store_error(s3_endpoint: str) -> None:
    with pytest.raises(StoreError):
        S3Blobs("no-such-bucket", client=s3_client(s3_endpoint)).put("documents/x", b"x")


def core_over(backend: Backend, blobs: BlobStore, *, keys: bool = False) -> coachcore.Core:
    """A core over an empty store of ``backend`` that keeps document bytes in ``blobs``."""
    cipher = AesGcmCipher([KEY]) if keys else None
    if not isinstance(backend, SqlBackend):
        return backend.open(FixedClock(T0), blobs=blobs, cipher=cipher)
    backend.release()
    backend.reset()
    store = SqlStore(backend.engine, cipher=cipher, blobs=blobs)
    core = coachcore.open(
        backend.url(), clock=FixedClock(T0), plugins=[_UseStore(store)], cipher=cipher
    )
    backend._core = core
    return core


def _people(core: coachcore.Core) -> tuple[Any, Any]:
    world = World(core, FixedClock(T0))
    coach = world.coach()
    return coach, world.member(coach)


def _stored(core: coachcore.Core, document_id: str) -> Any:
    with core.store.unit_of_work(write=False) as uow:
        return uow.document_contents.get(document_id)


@pytest.mark.parametrize("keys", [False, True], ids=["plain", "sealed"])
def test_bytes_go_to_s3_sealed_when_the_store_has_keys(
    backend: Backend, s3: S3Blobs, keys: bool
) -> None:
    core = core_over(backend, s3, keys=keys)
    coach, member = _people(core)
    docs = core.acting_as(member.id).documents
    doc = docs.upload(title="Blood", filename="blood.txt", content=SECRET, member_id=member.id)
    stored = _stored(core, doc.id)
    assert (stored.key, stored.size_bytes, stored.sha256) == (
        f"documents/{doc.id}",
        len(SECRET),
        doc.sha256,
    )
    raw = s3.get(stored.key)  # what the S3 server holds
    if keys:
        assert raw.startswith(b"enc:v3:") and b"ferritin" not in raw
    else:
        assert raw == SECRET
    assert docs.content(doc.id) == SECRET
    assert core.acting_as(coach.id).documents.content(doc.id) == SECRET  # the member's coach
    docs.delete(doc.id)
    with pytest.raises(NotFound):
        s3.get(stored.key)  # deleted after commit
    assert _stored(core, doc.id) is None


def test_a_rolled_back_delete_keeps_the_bytes(
    backend: Backend, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    local = LocalBlobs(tmp_path / "blobs")
    core = core_over(backend, local)
    _, member = _people(core)
    docs = core.acting_as(member.id).documents
    doc = docs.upload(title="Plan", filename="plan.txt", content=b"run 5k")
    record = documents_service.audit.record

    def fail_after_the_rows_went(tx: Any, action: str, *args: Any, **kw: Any) -> None:
        if action == "document.deleted":
            raise ValidationFailed("the audit log refused")  # after the rows were deleted
        record(tx, action, *args, **kw)

    monkeypatch.setattr(documents_service.audit, "record", fail_after_the_rows_went)
    with pytest.raises(ValidationFailed):
        docs.delete(doc.id)
    monkeypatch.undo()
    assert docs.get(doc.id) == doc
    assert docs.content(doc.id) == b"run 5k"  # the rollback lost nothing


def test_a_refused_upload_never_writes_to_blob_storage(backend: Backend, tmp_path: Path) -> None:
    """Every refusal comes before the first write: the blob directory, made
    on the first write, never appears (a write then a delete would leave it)."""
    directory = tmp_path / "blobs"
    core = core_over(backend, LocalBlobs(directory))
    coach, member = _people(core)
    world = World(core, FixedClock(T0))
    stranger, other = world.coach(), world.member()
    company = core.acting_as(other.id).organizations.create(name="Acme", kind="client_company")
    ok = {"title": "t", "filename": "t.txt", "content": b"plan", "member_id": member.id}
    refused: list[tuple[str, dict[str, Any], type[Exception]]] = [
        (stranger.id, {}, Forbidden),  # not their coach
        (other.id, {}, Forbidden),  # another member
        (coach.id, {"member_id": "no-such-member"}, NotFound),
        (coach.id, {"member_id": None, "organization_id": "no-such-org"}, NotFound),
        (coach.id, {"member_id": None, "organization_id": company.id}, Forbidden),
        (coach.id, {"content": b"x" * (10 * 1024 * 1024 + 1)}, ValidationFailed),
        (coach.id, {"content_type": "image/png"}, ValidationFailed),
        (coach.id, {"filename": "t.pdf"}, ValidationFailed),  # the bytes are no PDF
        (coach.id, {"title": ""}, ValidationFailed),
    ]
    for actor, change, error in refused:
        with pytest.raises(error):
            core.acting_as(actor).documents.upload(**{**ok, **change})
        assert not directory.exists(), (actor, change)
    doc = core.acting_as(coach.id).documents.upload(**ok)
    assert [k for k, _ in LocalBlobs(directory).listing("")] == [f"documents/{doc.id}"]


def test_erasure_deletes_the_members_blobs(backend: Backend, s3: S3Blobs) -> None:
    core = core_over(backend, s3, keys=True)
    coach, member = _people(core)
    own = core.acting_as(member.id).documents.upload(
        title="Mine", filename="mine.txt", content=b"my own"
    )
    about = core.acting_as(coach.id).documents.upload(
        title="About", filename="about.txt", content=b"about them", member_id=member.id
    )
    other = core.acting_as(coach.id).documents.upload(
        title="Coach's", filename="c.txt", content=b"coach only"
    )
    core.system.privacy.erase(member.id)
    keys = [k for k, _ in s3.listing("documents/")]
    assert keys == [f"documents/{other.id}"]
    assert f"documents/{own.id}" not in keys and f"documents/{about.id}" not in keys


def test_a_crash_before_the_blob_is_deleted_leaves_an_orphan_the_sweep_removes(
    backend: Backend, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    local = LocalBlobs(tmp_path / "blobs")
    core = core_over(backend, local)
    _, member = _people(core)
    docs = core.acting_as(member.id).documents
    kept = docs.upload(title="Kept", filename="k.txt", content=b"keep me")
    gone = docs.upload(title="Gone", filename="g.txt", content=b"delete me")

    def crash(key: str) -> None:
        raise StoreError("the process died here")

    monkeypatch.setattr(core.store.blobs, "delete", crash)
    docs.delete(gone.id)  # committed; the blob stays behind
    monkeypatch.undo()
    assert local.get(f"documents/{gone.id}") == b"delete me"
    assert core.system.documents.sweep_orphans() == 0  # younger than an hour: maybe in flight
    assert core.system.documents.sweep_orphans(older_than=timedelta(0)) == 1
    assert [k for k, _ in local.listing("")] == [f"documents/{kept.id}"]
    assert docs.content(kept.id) == b"keep me"
    with pytest.raises(ValidationFailed):
        core.system.documents.sweep_orphans(older_than=-1)


def test_bytes_changed_in_storage_are_refused(backend: Backend, tmp_path: Path) -> None:
    local = LocalBlobs(tmp_path / "blobs")
    core = core_over(backend, local)
    _, member = _people(core)
    docs = core.acting_as(member.id).documents
    a = docs.upload(title="A", filename="a.txt", content=b"first document")
    b = docs.upload(title="B", filename="b.txt", content=b"second document")
    local.put(f"documents/{a.id}", local.get(f"documents/{b.id}"))  # swapped in storage
    with pytest.raises(StoreError):
        docs.content(a.id)
    local.delete(f"documents/{b.id}")
    with pytest.raises(NotFound):
        docs.content(b.id)


def test_sqlite_files_keep_blobs_beside_the_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'coaching.db'}"
    with coachcore.open(url, clock=FixedClock(T0)) as core:
        _, member = _people(core)
        doc = core.acting_as(member.id).documents.upload(
            title="t", filename="t.txt", content=b"beside"
        )
    assert (tmp_path / "coaching.db.blobs" / "documents" / doc.id).read_bytes() == b"beside"
    elsewhere = tmp_path / "files"
    with coachcore.open(url, clock=FixedClock(T0), blobs=elsewhere) as core:
        _, member = _people(core)
        moved = core.acting_as(member.id).documents.upload(
            title="t", filename="t.txt", content=b"configured"
        )
    assert (elsewhere / "documents" / moved.id).read_bytes() == b"configured"
    with pytest.raises(ValidationFailed):
        coachcore.open(url, blobs=42)


def test_postgresql_without_blob_storage_says_how_to_configure_it(backend: Backend) -> None:
    if backend.name != "postgresql":
        pytest.skip("only PostgreSQL has no default blob storage")
    assert isinstance(backend, SqlBackend)
    backend.release()
    backend.reset()
    store = SqlStore(backend.engine)
    core = coachcore.open(backend.url(), clock=FixedClock(T0), plugins=[_UseStore(store)])
    backend._core = core
    _, member = _people(core)
    with pytest.raises(ValidationFailed, match="blobs="):
        core.acting_as(member.id).documents.upload(title="t", filename="t.txt", content=b"x")


def test_inside_a_host_transaction_a_delete_leaves_the_blob_for_the_sweep(tmp_path: Path) -> None:
    """The host may still roll back: the blob stays until the host committed
    and the sweep finds it unnamed."""
    from coachcore.adapters.sqlalchemy import create_store_engine

    url = f"sqlite:///{tmp_path / 'host.db'}"
    local = LocalBlobs(tmp_path / "blobs")
    engine = create_store_engine(url)
    try:
        with engine.connect() as conn:
            host = conn.begin()
            core = coachcore.open(
                url, clock=FixedClock(T0), plugins=[_UseStore(SqlStore(conn, blobs=local))]
            )
            _, member = _people(core)
            docs = core.acting_as(member.id).documents
            kept = docs.upload(title="k", filename="k.txt", content=b"kept")
            host.commit()
            host = conn.begin()
            docs.delete(kept.id)
            assert local.get(f"documents/{kept.id}") == b"kept"  # not deleted inside the host's tx
            host.rollback()
            host = conn.begin()
            assert docs.content(kept.id) == b"kept"  # the host's rollback lost nothing
            docs.delete(kept.id)
            host.commit()
            assert core.system.documents.sweep_orphans(older_than=timedelta(0)) == 1
            core.close()
    finally:
        engine.dispose()
    assert list(local.listing("")) == []


def test_an_s3_url_names_a_bucket_and_a_prefix(
    s3_endpoint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``s3://bucket/prefix``, wherever blobs are chosen (``open``, ``migrate``,
    ``coachcore db upgrade --blobs``), with boto3 configured from the environment."""
    client = s3_client(s3_endpoint)
    bucket = f"b-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=bucket)
    aws = {
        "AWS_ENDPOINT_URL": s3_endpoint,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    for name, value in aws.items():
        monkeypatch.setenv(name, value)
    for bad in ("s3://", "s3:///prefix", "s3://b/p?region=x", "s3://key@b/p"):
        with pytest.raises(ValidationFailed, match="s3://bucket"):
            chosen(bad, None)
    url = f"sqlite:///{tmp_path / 'old.db'}"
    _stored_0008(url)
    done = CliRunner().invoke(app, ["db", "upgrade", "--url", url, "--blobs", f"s3://{bucket}/up"])
    assert done.exit_code == 0, done.output
    listed = client.list_objects_v2(Bucket=bucket)["Contents"]
    assert sorted(o["Key"] for o in listed) == [f"up/documents/{k}" for k in FILES]
    assert not (tmp_path / "old.db.blobs").exists()
    assert chosen(f"s3://{bucket}/up/", None).get("documents/d2") == FILES["d2"]
