"""``SqlStore``: the storage port over SQLAlchemy Core (SQLite, PostgreSQL).

Give it a URL (:meth:`SqlStore.from_url`, it creates and later disposes its
own Engine), an Engine (shared with the host, never disposed by the store) or
a Connection (the host's transaction: units of work become SAVEPOINTs and the
host decides whether everything commits).
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Hashable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any

import attrs
import sqlalchemy as sa
from sqlalchemy.engine import URL, Connection, Engine

from coachcore.adapters.blobs.choice import chosen
from coachcore.adapters.blobs.sealed import SealedBlobs
from coachcore.adapters.sqlalchemy.db import is_retryable, translate
from coachcore.adapters.sqlalchemy.engines import (
    BEGIN_OPTION,
    create_store_engine,
    is_memory_sqlite,
    is_postgresql,
    is_sqlite,
    prepare_sqlite,
)
from coachcore.adapters.sqlalchemy.sealing import (
    RotationReport,
    Sealer,
    rotate_batch,
    rotate_key_check,
    sensitive_columns,
    verify_keys,
)
from coachcore.adapters.sqlalchemy.search import merge_search_index
from coachcore.adapters.sqlalchemy.tables import DEFAULT_PREFIX, Tables, build_tables
from coachcore.adapters.sqlalchemy.uow import SqlUnitOfWork
from coachcore.adapters.sqlalchemy.versioning import ensure_current
from coachcore.domain import checks
from coachcore.errors import KeyMissing, StoreError
from coachcore.ports.cipher import Cipher


class SqlStore:
    """A :class:`coachcore.ports.storage.Store` over SQLAlchemy Core.

    :param bind: an Engine or a Connection (see the module docstring).
    :param schema: database schema of the tables (PostgreSQL), default none.
    :param table_prefix: prefix of every table name, default ``coachcore_``.
    :param dispatch_on_commit: deliver the outbox right after each commit;
        default True over an Engine (like the memory store, on SQLite and
        PostgreSQL alike) and False over a host Connection (the host's commit
        comes later: call ``core.system.outbox.dispatch()`` after it).
    :param auto_migrate: create the tables when the database has none.
    :param retries: how often a busy/locked BEGIN is retried before
        :class:`~coachcore.errors.StoreError`.
    :param cipher: a :class:`~coachcore.ports.cipher.Cipher` (e.g.
        :class:`~coachcore.adapters.crypto.FernetCipher`): the sensitive fields
        are then stored encrypted (see :mod:`.sealing` and ``docs/guides/privacy.md``).
    :param blobs: where document bytes are kept: a
        :class:`~coachcore.ports.blobs.BlobStore`, a directory's path or an
        ``s3://bucket/prefix`` URL; default ``<file>.blobs`` beside a SQLite
        file (see ``docs/guides/documents.md``).
    :raises coachcore.errors.SchemaOutdated: the tables are behind this version.
    :raises coachcore.errors.KeyMissing: the store holds encrypted fields and
        no cipher was given.
    :raises coachcore.errors.KeyMismatch: the cipher's keys do not open them.
    """

    def __init__(
        self,
        bind: Engine | Connection,
        *,
        schema: str | None = None,
        table_prefix: str = DEFAULT_PREFIX,
        dispatch_on_commit: bool | None = None,
        auto_migrate: bool = True,
        retries: int = 3,
        cipher: Cipher | None = None,
        blobs: Any = None,
    ) -> None:
        schema, table_prefix = _names(schema, table_prefix)
        retries = checks.integer("retries", retries, low=0, high=100)
        checks.boolean("auto_migrate", auto_migrate)
        if dispatch_on_commit is not None:
            checks.boolean("dispatch_on_commit", dispatch_on_commit)
        self._bind = bind
        self._owns_engine = False
        self._nested = isinstance(bind, Connection)
        self.dispatch_on_commit = (
            not self._nested if dispatch_on_commit is None else dispatch_on_commit
        )
        self.tables: Tables = build_tables(schema=schema, prefix=table_prefix)
        self.retries = retries
        self._postgresql = is_postgresql(bind)
        self._sqlite = is_sqlite(bind)
        self._lock = self._serializer(bind)
        self._closed = False
        self._statements: dict[Hashable, Any] = {}
        if isinstance(bind, Engine) and self._sqlite:
            prepare_sqlite(bind)
        self._check_schema_and_keys(auto_migrate, cipher)
        self.cipher = cipher
        self._sealer = Sealer(cipher)
        self.blobs = SealedBlobs(chosen(blobs, bind.engine.url), cipher)
        """Where document bytes go, sealed with ``cipher`` before they leave."""

    @classmethod
    def from_url(
        cls,
        url: str | URL,
        *,
        schema: str | None = None,
        table_prefix: str = DEFAULT_PREFIX,
        dispatch_on_commit: bool | None = None,
        auto_migrate: bool = True,
        retries: int = 3,
        cipher: Cipher | None = None,
        blobs: Any = None,
        **engine_options: Any,
    ) -> SqlStore:
        """A store over its own Engine for ``url`` (disposed by :meth:`close`).

        ``engine_options`` go to :func:`~.engines.create_store_engine`
        (``busy_timeout``, ``synchronous``) and on to ``sqlalchemy.create_engine``.
        """
        _names(schema, table_prefix)  # before an engine is made
        engine = create_store_engine(url, **engine_options)
        try:
            store = cls(
                engine,
                schema=schema,
                table_prefix=table_prefix,
                dispatch_on_commit=dispatch_on_commit,
                auto_migrate=auto_migrate,
                retries=retries,
                cipher=cipher,
                blobs=blobs,
            )
        except BaseException:
            engine.dispose()
            raise
        store._owns_engine = True
        return store

    def _check_schema_and_keys(self, auto_migrate: bool, cipher: Cipher | None) -> None:
        """Migrate an empty database and check the keys, waiting out a database
        that is busy (other processes opening the same new file migrate it at
        the same moment) as often as ``retries`` allows."""
        for attempt in range(self.retries + 1):
            try:
                ensure_current(self._bind, self.tables, auto_migrate=auto_migrate)
                verify_keys(self._bind, self.tables, cipher)
                return
            except StoreError as error:
                busy = isinstance(error.details, dict) and error.details.get("retryable")
                if not busy or attempt == self.retries:
                    raise
                time.sleep(0.05 * 2**attempt)

    @property
    def bind(self) -> Engine | Connection:
        """The Engine or Connection the store runs its units of work on."""
        return self._bind

    @staticmethod
    def _serializer(bind: Engine | Connection) -> AbstractContextManager[Any]:
        """One unit of work at a time where the store has a single connection."""
        if isinstance(bind, Connection) or is_memory_sqlite(bind.url):
            return threading.RLock()
        return nullcontext()

    @contextmanager
    def unit_of_work(self, *, write: bool) -> Iterator[SqlUnitOfWork]:
        """A unit of work; write ones take SQLite's write lock at BEGIN."""
        if self._closed:
            raise StoreError("This store is closed")
        with self._lock:
            if isinstance(self._bind, Connection):
                uow = SqlUnitOfWork(
                    self._bind,
                    self.tables,
                    nested=True,
                    statements=self._statements,
                    sealer=self._sealer,
                )
                uow.begin()
                try:
                    yield uow
                finally:
                    uow.end()
                return
            conn, uow = self._begin(self._bind, write)
            try:
                yield uow
            finally:
                uow.end()
                conn.close()

    def _begin(self, engine: Engine, write: bool) -> tuple[Connection, SqlUnitOfWork]:
        """Connect and BEGIN, retrying a busy database a bounded number of times."""
        attempt = 0
        while True:
            conn: Connection | None = None
            try:
                conn = engine.connect()
                conn.execution_options(**self._options(write))
                uow = SqlUnitOfWork(
                    conn,
                    self.tables,
                    nested=False,
                    statements=self._statements,
                    sealer=self._sealer,
                )
                uow.begin()
                return conn, uow
            except (sa.exc.SQLAlchemyError, StoreError) as exc:
                if conn is not None:
                    conn.close()
                cause = exc.__cause__ if isinstance(exc, StoreError) else exc
                if attempt >= self.retries or cause is None or not is_retryable(cause):
                    if isinstance(exc, StoreError):
                        raise
                    raise translate(exc) from exc
                attempt += 1
                time.sleep(0.05 * attempt)

    def _options(self, write: bool) -> dict[str, Any]:
        if self._sqlite:
            return {BEGIN_OPTION: "IMMEDIATE" if write else "DEFERRED"}
        if self._postgresql:
            # Reads see one snapshot; writes see each statement's latest data,
            # which is what the per-coach advisory lock relies on.
            return {"isolation_level": "READ COMMITTED" if write else "REPEATABLE READ"}
        return {}

    def rotate_keys(
        self, *, batch: int = 500, progress: Callable[[int], None] | None = None
    ) -> RotationReport:
        """Re-seal every sensitive value in the newest format under the cipher's
        newest key, and recompute the blind indexes under the newest index key;
        document blobs are re-sealed in place too (``RotationReport.blobs``).

        Fernet values of earlier versions move to AES-256-GCM; plain values
        left from before encryption was turned on are sealed too. Works in
        batches of ``batch`` rows, each in its own short write transaction
        (rows locked on PostgreSQL), so the application keeps running;
        processes must already know every key involved (see
        ``docs/guides/privacy.md``). Idempotent; safe to interrupt and re-run.
        ``progress``, if given, is called with the rows rewritten by each batch.

        :raises coachcore.errors.KeyMissing: the store has no cipher.
        """
        cipher = self.cipher
        if cipher is None:
            raise KeyMissing("Key rotation needs the encryption keys (newest first)")
        total = RotationReport()
        for table, sealed in sensitive_columns(self.tables):
            after: str | None = ""
            while after is not None:
                with self.unit_of_work(write=True) as uow:
                    done, after = rotate_batch(uow.db, table, sealed, cipher, after, batch)
                    uow.commit()
                total += done
                if progress is not None:
                    progress(done.rows)
        with self.unit_of_work(write=False) as uow:
            keys = [content.key for content in uow.document_contents.list()]
        resealed = sum(1 for key in keys if self.blobs.reseal(key))
        with self.unit_of_work(write=True) as uow:
            rotate_key_check(uow.db, self.tables, cipher)
            uow.commit()
        return attrs.evolve(total, blobs=resealed)

    def wipe_traces(self) -> None:
        """On SQLite, merge the documents' full-text index (the words of deleted
        documents leave it), then checkpoint the WAL into the database file and
        truncate it (deleted pages are zeroed there: secure_delete is on for
        every connection). PostgreSQL needs a VACUUM by the operator (see
        ``docs/guides/privacy.md``); over a host's Connection nothing is done
        (the host's transaction has not committed yet)."""
        if not self._sqlite or not isinstance(self._bind, Engine) or self._closed:
            return
        with self.unit_of_work(write=True) as uow:
            merge_search_index(uow.db.conn, self.tables.prefix)
            uow.commit()
        raw = self._bind.raw_connection()  # autocommit: no BEGIN around the PRAGMA
        try:
            for attempt in range(self.retries + 1):
                cursor = raw.cursor()
                cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                busy = cursor.fetchone()
                cursor.close()
                if not busy or not busy[0]:
                    return
                time.sleep(0.05 * (attempt + 1))
            raise StoreError("The SQLite WAL could not be checkpointed: a reader holds it")
        finally:
            raw.close()

    def close(self) -> None:
        """Dispose the Engine if the store created it (the store is then unusable);
        a store over a host's Engine or Connection releases nothing. Idempotent."""
        if self._owns_engine and isinstance(self._bind, Engine):
            self._closed = True
            self._bind.dispose()

    def __repr__(self) -> str:
        bind = self._bind.engine.url.render_as_string(hide_password=True)
        return f"<SqlStore {bind} prefix={self.tables.prefix!r}>"


_SCHEMA = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
_PREFIX = re.compile(r"^([A-Za-z_][A-Za-z0-9_]{0,29})?$")


def _names(schema: Any, prefix: Any) -> tuple[str | None, str]:
    """The schema (None or an SQL identifier) and the table prefix (letters,
    digits and underscores, at most 30), else ValidationFailed."""
    if schema is not None and not (isinstance(schema, str) and _SCHEMA.match(schema)):
        raise checks.fail("schema", "must be None or a name of letters, digits and underscores")
    if not (isinstance(prefix, str) and _PREFIX.match(prefix)):
        raise checks.fail("table_prefix", "must be letters, digits and underscores (at most 30)")
    return schema, prefix
