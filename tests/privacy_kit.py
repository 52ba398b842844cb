"""Helpers for the privacy tests: cores over stores with encryption keys, raw rows."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

import coachcore
from backends import T0, Backend, SqlBackend, _UseStore
from coachcore.adapters.clock import FixedClock
from coachcore.adapters.crypto import AesGcmCipher
from coachcore.adapters.sqlalchemy import SqlStore
from coachcore.adapters.sqlalchemy.sealing import is_sealed, sensitive_columns

KEY_A = AesGcmCipher.generate_key()
KEY_B = AesGcmCipher.generate_key()


def sql_only(backend: Backend) -> SqlBackend:
    """The backend if it is a SQL one; the test is skipped on the memory store."""
    if not isinstance(backend, SqlBackend):
        pytest.skip("the memory store keeps nothing at rest")
    return backend


def open_with_keys(
    backend: Backend, keys: Any, clock: Any = None, **options: Any
) -> coachcore.Core:
    """A core over an empty store of ``backend`` whose SQL store encrypts with ``keys``."""
    clock = clock or FixedClock(T0)
    if not isinstance(backend, SqlBackend):
        return backend.open(clock, keys=keys, **options)
    backend.release()
    backend.reset()
    store = SqlStore(backend.engine, cipher=AesGcmCipher(keys), blobs=backend.blobs)
    core = coachcore.open(
        backend.url(), clock=clock, plugins=[_UseStore(store)], cipher=store.cipher, **options
    )
    backend._core = core
    return core


def reopen(backend: SqlBackend, keys: Any = None, clock: Any = None) -> coachcore.Core:
    """A second core over the same (not emptied) tables, with these keys or none."""
    cipher = None if keys is None else AesGcmCipher(keys)
    store = SqlStore(backend.engine, cipher=cipher, blobs=backend.blobs)
    return coachcore.open(
        backend.url(),
        clock=clock or FixedClock(T0),
        plugins=[_UseStore(store)],
        cipher=store.cipher,
    )


def sensitive_values(backend: SqlBackend) -> list[tuple[str, str, Any]]:
    """(table, column, raw value) of every non-null sensitive value, read directly."""
    store: SqlStore = backend.store
    found = []
    with backend.engine.connect() as conn:
        for table, sealed in sensitive_columns(store.tables):
            fields = sealed.fields
            for row in conn.execute(sa.select(*(table.c[f] for f in fields))).mappings():
                found += [(table.name, f, row[f]) for f in fields if row[f] is not None]
    return found


def raw_text(backend: SqlBackend) -> str:
    """Every value of every coachcore table, as one string (to search for plain text)."""
    parts = []
    with backend.engine.connect() as conn:
        for table in backend.store.tables.all():
            for row in conn.execute(sa.select(table)):
                parts += [str(v) for v in row]
    return "\n".join(parts)


def all_sealed(backend: SqlBackend) -> bool:
    return all(is_sealed(value) for _, _, value in sensitive_values(backend))
