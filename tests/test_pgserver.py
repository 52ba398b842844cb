"""Tests for coachcore.testing.pgserver (needs local PostgreSQL binaries)."""

from __future__ import annotations

import socket

import pytest

from coachcore.testing.pgserver import ThrowawayPostgres, find_pg_bin

pytestmark = pytest.mark.skipif(
    find_pg_bin() is None, reason="PostgreSQL binaries (initdb/pg_ctl) not found on this machine"
)


def test_throwaway_postgres_starts_serves_and_stops() -> None:
    psycopg = pytest.importorskip("psycopg")
    server = ThrowawayPostgres()
    with server:
        assert server.url.startswith("postgresql+psycopg://postgres@127.0.0.1:")
        assert server.url.endswith("/coachcore_test")
        tmpdir = server.tmpdir
        assert tmpdir is not None and tmpdir.exists()
        with psycopg.connect(server.url.replace("+psycopg", "", 1)) as conn:
            assert conn.execute("select 1").fetchone() == (1,)
            assert conn.execute("show fsync").fetchone() == ("off",)
            assert conn.execute("select current_database()").fetchone() == ("coachcore_test",)
    port = server.port
    server.stop()  # second stop is a no-op
    assert not tmpdir.exists()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
