"""Start a throwaway PostgreSQL server for tests, using the machine's PostgreSQL binaries.

The server runs from a temporary directory on 127.0.0.1 with durability switched off
(fsync, synchronous_commit, full_page_writes) and is stopped at interpreter exit at the latest.
"""

from __future__ import annotations

import atexit
import os
import pwd
import shlex
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path
from types import TracebackType

__all__ = ["ThrowawayPostgres", "find_pg_bin"]


def _version_key(path: Path) -> tuple[int, ...]:
    parts = path.parent.name.split(".")
    return tuple(int(p) for p in parts if p.isdigit())


def find_pg_bin() -> Path | None:
    """Return the directory holding ``initdb`` and ``pg_ctl`` (PATH first), or None."""
    initdb = shutil.which("initdb")
    if initdb and shutil.which("pg_ctl"):
        return Path(initdb).resolve().parent
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=_version_key, reverse=True)
    for bin_dir in candidates:
        if (bin_dir / "initdb").is_file() and (bin_dir / "pg_ctl").is_file():
            return bin_dir
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ThrowawayPostgres:
    """A temporary PostgreSQL cluster; use as a context manager or call start()/stop()."""

    def __init__(self, dbname: str = "coachcore_test", bin_dir: Path | None = None) -> None:
        self.dbname = dbname
        self.bin_dir = bin_dir or find_pg_bin()
        self.port = 0
        self.tmpdir: Path | None = None
        self._running = False

    @property
    def url(self) -> str:
        """SQLAlchemy URL of the test database."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{self.dbname}"

    def _prefix(self) -> list[str]:
        """Command prefix that runs server tools as the ``postgres`` OS user when we are root."""
        if os.geteuid() != 0:
            return []
        runuser = shutil.which("runuser")
        if runuser:
            return [runuser, "-u", "postgres", "--"]
        su = shutil.which("su")
        if su:
            return [su, "postgres", "-s", "/bin/sh", "-c"]
        raise RuntimeError("running as root, but neither runuser nor su is available")

    def _run(self, *args: str, as_server_user: bool = True) -> subprocess.CompletedProcess[str]:
        prefix = self._prefix() if as_server_user else []
        cmd = [*prefix, shlex.join(args)] if prefix[-1:] == ["-c"] else [*prefix, *args]
        return subprocess.run(
            cmd, cwd=self.tmpdir, capture_output=True, text=True, stdin=subprocess.DEVNULL
        )

    def _fail(self, what: str, proc: subprocess.CompletedProcess[str]) -> RuntimeError:
        log = self.tmpdir / "server.log" if self.tmpdir else None
        tail = log.read_text(errors="replace").splitlines()[-30:] if log and log.exists() else []
        self.stop()
        return RuntimeError(
            f"{what} failed (exit {proc.returncode}):\n{proc.stdout}{proc.stderr}"
            "--- server log tail ---\n" + "\n".join(tail)
        )

    def start(self) -> ThrowawayPostgres:
        """Create the cluster, start the server and create the database."""
        if self._running:
            return self
        if self.bin_dir is None:
            raise RuntimeError("PostgreSQL binaries (initdb, pg_ctl) not found")
        self.tmpdir = Path(tempfile.mkdtemp(prefix="coachcore-pg-"))
        atexit.register(self.stop)
        if os.geteuid() == 0:
            try:
                pw = pwd.getpwnam("postgres")
            except KeyError:
                self.stop()
                raise RuntimeError(
                    "running as root: initdb refuses root and no 'postgres' OS user exists"
                ) from None
            os.chown(self.tmpdir, pw.pw_uid, pw.pw_gid)
        data, log, b = self.tmpdir / "data", self.tmpdir / "server.log", self.bin_dir
        proc = self._run(
            str(b / "initdb"),
            "-D",
            str(data),
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        )
        if proc.returncode != 0:
            raise self._fail("initdb", proc)
        self.port = _free_port()
        opts = (
            f"-c listen_addresses=127.0.0.1 -p {self.port} -k {shlex.quote(str(self.tmpdir))}"
            " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
            " -c max_connections=200"
        )
        proc = self._run(
            str(b / "pg_ctl"), "-w", "-D", str(data), "-l", str(log), "-o", opts, "start"
        )
        self._running = True
        if proc.returncode != 0:
            raise self._fail("pg_ctl start", proc)
        proc = self._run(
            str(b / "createdb"),
            "-h",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-U",
            "postgres",
            self.dbname,
            as_server_user=False,
        )
        if proc.returncode != 0:
            raise self._fail("createdb", proc)
        return self

    def stop(self) -> None:
        """Stop the server (immediate mode) and delete its files; safe to call repeatedly."""
        atexit.unregister(self.stop)
        if self._running and self.tmpdir is not None and self.bin_dir is not None:
            self._running = False
            self._run(
                str(self.bin_dir / "pg_ctl"),
                "-D",
                str(self.tmpdir / "data"),
                "-m",
                "immediate",
                "-w",
                "stop",
            )
        if self.tmpdir is not None:
            shutil.rmtree(self.tmpdir, ignore_errors=True)
            self.tmpdir = None

    def __enter__(self) -> ThrowawayPostgres:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
