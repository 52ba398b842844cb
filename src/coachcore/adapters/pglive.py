"""Live events across app servers on PostgreSQL: ``LISTEN``/``NOTIFY``.

coachcore hands each committed domain event (``coachcore_broadcast``) to one
dispatcher, in one process; with several app servers, each server's in-process
hub (e.g. the FastAPI example's ``SlotHub``) must see every event. Two parts:

- :class:`LiveRelay`, a coachcore plugin: for each broadcast event it sends
  ``NOTIFY <channel>, '{"id": <event_id>, "kind": <type>}'``. The event itself
  stays in the outbox, where it was committed with the change.
- :class:`LiveListener`, one per app server: a thread on its own psycopg 3
  connection that ``LISTEN``\\s, reads each announced event back from the outbox
  (by its ``event_id``, the message's idempotency key) and calls ``on_event``
  once per event id. After a lost connection it reconnects, and it catches up
  from the outbox: every broadcast event created since the last one it saw
  (less ``slack``, for transactions that committed late), skipping those it
  delivered already. The same catch-up runs every ``resync_every`` seconds, so
  an event whose ``NOTIFY`` never came (a relay failure) arrives late, not never.
  Catch-ups read delivered events back, so the outbox's retention purge
  (``core.system.outbox.purge(days=N)``) refuses a period shorter than the
  default ``slack`` (:data:`~coachcore.domain.entities.CATCH_UP_SLACK`); a
  listener away for longer than the period misses the events purged meanwhile.

``on_event`` gets the event as the hook does; feed the hub with it and do not
also register the hub as a plugin of the core (that would show the dispatching
server's events twice). Delivery is at least once per listener and event id,
exactly once while the listener's memory of seen ids (``slack`` wide) lasts.
On SQLite and the memory store there is one process: keep the in-process hub.
Needs ``pip install "coachcore[postgresql]"`` (psycopg 3).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, cast

import psycopg
import sqlalchemy as sa
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from sqlalchemy.engine import URL, Engine, make_url

from coachcore.adapters.sqlalchemy.tables import DEFAULT_PREFIX
from coachcore.domain.entities import CATCH_UP_SLACK
from coachcore.domain.enums import OutboxChannel, OutboxStatus
from coachcore.errors import ValidationFailed
from coachcore.plugins.hookspecs import hookimpl

log = logging.getLogger("coachcore.live")

STATUSES = [status.value for status in OutboxStatus]
KEEP_AT_LEAST = 1000
"""Seen event ids are pruned only beyond this many."""

OnEvent = Callable[[dict[str, Any]], None]


def channel_name(schema: str | None = None, table_prefix: str = DEFAULT_PREFIX) -> str:
    """The ``NOTIFY`` channel of the store with these tables (``coachcore_live``)."""
    name = f"{table_prefix}live"
    return f"{schema}.{name}" if schema else name


def libpq_url(url: str | URL) -> str:
    """A SQLAlchemy URL (``postgresql+psycopg://...``) as a libpq connection URI."""
    parsed = make_url(url).set(drivername="postgresql")
    return parsed.render_as_string(hide_password=False)


LISTENER_DEFAULTS = {
    "connect_timeout": "10",
    "keepalives": "1",
    "keepalives_idle": "30",
    "keepalives_interval": "10",
    "keepalives_count": "3",
}
"""libpq settings of a listener's connection unless its URL sets them: a
dead server or network is noticed within about a minute, not TCP's 15."""


class LiveRelay:
    """A coachcore plugin announcing each broadcast event with ``NOTIFY``.

    ``coachcore.open(url, plugins=[LiveRelay(url)])``; ``url`` (or an Engine)
    names the same database. A failed ``NOTIFY`` raises, so the outbox retries
    the event; listeners also find it in their next catch-up.

    :raises coachcore.errors.ValidationFailed: the database is not PostgreSQL.
    """

    def __init__(
        self,
        bind: str | URL | Engine,
        *,
        schema: str | None = None,
        table_prefix: str = DEFAULT_PREFIX,
    ) -> None:
        _require_postgresql(bind if isinstance(bind, Engine) else make_url(bind))
        self._owns_engine = not isinstance(bind, Engine)
        self._engine = bind if isinstance(bind, Engine) else sa.create_engine(bind, pool_size=2)
        self.channel = channel_name(schema, table_prefix)
        self.sent = 0

    @hookimpl
    def coachcore_broadcast(self, event: dict[str, Any]) -> None:
        event_id = event.get("event_id")
        if not isinstance(event_id, str):
            return  # not an event of this coachcore version: nothing to read back
        payload = json.dumps({"id": event_id, "kind": event.get("type")})
        with self._engine.connect() as conn:  # autocommit: one round trip
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(
                sa.select(sa.func.pg_notify(self.channel, payload))
            )
        self.sent += 1

    def close(self) -> None:
        if self._owns_engine:
            self._engine.dispose()


class LiveListener:
    """Relays every committed broadcast event of the store to ``on_event``.

    :param url: the store's database (SQLAlchemy URL or libpq URI).
    :param on_event: called in the listener's thread, once per event id, in
        the order the events were announced (catch-ups: creation order).
    :param resync_every: seconds between catch-ups while connected.
    :param slack: how far before the newest event seen a catch-up looks
        (a transaction's events are stamped when it starts, not when it commits).
        The outbox's retention purge (``core.system.outbox.purge``) keeps at
        least the default's worth of delivered events; keep its period longer
        than any larger ``slack`` you give.
    :param retry_every: seconds between reconnection attempts.
    :param poll: longest wait for a notification, in seconds (how soon
        :meth:`stop` is noticed; events are handed on as they arrive).
    :raises coachcore.errors.ValidationFailed: the database is not PostgreSQL.
    """

    def __init__(
        self,
        url: str | URL,
        on_event: OnEvent,
        *,
        schema: str | None = None,
        table_prefix: str = DEFAULT_PREFIX,
        resync_every: float = 30.0,
        slack: timedelta = CATCH_UP_SLACK,
        retry_every: float = 1.0,
        poll: float = 1.0,
    ) -> None:
        _require_postgresql(make_url(url))
        given = conninfo_to_dict(libpq_url(url))
        self._conninfo = make_conninfo("", **{**LISTENER_DEFAULTS, **given})
        self._on_event = on_event
        self.channel = channel_name(schema, table_prefix)
        self._outbox = sql.Identifier(*(n for n in (schema, f"{table_prefix}outbox") if n))
        self.resync_every = resync_every
        self.slack = slack
        self.retry_every = retry_every
        self.poll = poll
        self._seen: dict[str, datetime] = {}
        self._newest: datetime | None = None
        self._started = False  # whether the start of the outbox is known
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._conn: psycopg.Connection[Any] | None = None
        self.listening = threading.Event()
        """Set while the listener is connected and listening."""
        self.delivered = 0
        self.caught_up = 0
        """Events delivered by a catch-up (their ``NOTIFY`` was missed or late)."""
        self.connections = 0

    # -- life cycle ---------------------------------------------------------------

    def start(self, wait: float | None = None) -> LiveListener:
        """Start the listener thread. With ``wait``, return once it listens (or
        after ``wait`` seconds, logging a warning: it keeps trying to connect)."""
        thread = self._thread
        if thread is not None and thread.is_alive() and self._stop.is_set():
            thread.join()  # a stopping thread ends within ``poll`` seconds
        if thread is None or not thread.is_alive():
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="coachcore-live", daemon=True)
            self._thread.start()
        if wait is not None and not self.listening.wait(wait):
            log.warning("live listener not connected after %.1f s; still trying", wait)
        return self

    def stop(self, timeout: float | None = None) -> None:
        """Stop listening and close the connection, waiting at most ``timeout``
        seconds (default: until the current wait of up to ``poll`` seconds ends).
        Seen ids are kept: a later :meth:`start` catches up from where it stopped."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def backend_pid(self) -> int | None:
        """The server process of the listening connection (for operators and tests)."""
        conn = self._conn
        return None if conn is None or conn.closed else conn.info.backend_pid

    # -- the thread -----------------------------------------------------------------

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                with psycopg.connect(self._conninfo, autocommit=True) as conn:
                    self._conn = conn
                    self._listen(conn)
            except psycopg.Error as error:
                log.warning("live listener lost its connection: %s", error)
            except Exception:  # never let the thread die: log, reconnect, catch up
                log.exception("live listener failed; reconnecting")
            finally:
                self._conn = None
                self.listening.clear()
            self._stop.wait(self.retry_every)

    def _listen(self, conn: psycopg.Connection[Any]) -> None:
        conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self.channel)))
        self.connections += 1
        self._catch_up(conn)  # after LISTEN: nothing falls between the two
        self.listening.set()
        poll = min(self.poll, self.resync_every)
        last_sync = time.monotonic()
        while not self._stop.is_set():
            # returns with the first notification(s) to arrive: each is read back
            # at once (the connection cannot query while it waits)
            for notify in list(conn.notifies(timeout=poll, stop_after=1)):
                self._announced(conn, notify.payload)
            if time.monotonic() - last_sync >= self.resync_every:
                self._catch_up(conn)
                last_sync = time.monotonic()

    def _announced(self, conn: psycopg.Connection[Any], payload: str) -> None:
        try:
            event_id = json.loads(payload)["id"]
        except (ValueError, KeyError, TypeError):
            log.warning("live listener ignores a malformed announcement %r", payload)
            return
        if not isinstance(event_id, str) or event_id in self._seen:
            return
        row = conn.execute(
            sql.SQL(
                "SELECT payload, created_at FROM {} WHERE idempotency_key = %s AND channel = %s"
            ).format(self._outbox),
            (event_id, OutboxChannel.BROADCAST.value),
        ).fetchone()
        if row is None:
            log.warning("live listener: announced event %s is not in the outbox", event_id)
            return
        self._deliver(event_id, row[0], row[1])

    def _catch_up(self, conn: psycopg.Connection[Any]) -> None:
        """Deliver the broadcast events created since the newest one seen (less
        ``slack``) that were not delivered yet. The first time, only note what
        is there (a new listener does not replay history).

        The queries name every status, so they walk the outbox's
        ``(status, created_at)`` index instead of scanning the whole outbox.
        """
        if not self._started:
            self._newest = self._outbox_end(conn)
        where: sql.Composable = sql.SQL("status = ANY(%s) AND channel = %s")
        params: list[Any] = [STATUSES, OutboxChannel.BROADCAST.value]
        if self._newest is not None:
            where = sql.SQL("{} AND created_at >= %s").format(where)
            params.append(self._newest - self.slack)
        rows = conn.execute(
            sql.SQL(
                "SELECT idempotency_key, payload, created_at FROM {} WHERE {}"
                " ORDER BY created_at, id"
            ).format(self._outbox, where),
            params,
        ).fetchall()
        for event_id, payload, created_at in rows:
            if not self._started:
                self._seen[event_id] = created_at  # history: known, not handed on
            elif event_id not in self._seen:
                self.caught_up += 1
                self._deliver(event_id, payload, created_at)
        self._started = True

    def _outbox_end(self, conn: psycopg.Connection[Any]) -> datetime | None:
        """The creation time of the newest outbox message (None if there is none)."""
        row = conn.execute(
            sql.SQL(
                "SELECT max(newest) FROM unnest(%s::text[]) AS s(status), LATERAL"
                " (SELECT created_at AS newest FROM {} AS o WHERE o.status = s.status"
                " ORDER BY o.created_at DESC LIMIT 1) AS n"
            ).format(self._outbox),
            [STATUSES],
        ).fetchone()
        return None if row is None else cast(datetime | None, row[0])

    def _deliver(self, event_id: str, payload: Any, created_at: datetime) -> None:
        event = json.loads(payload) if isinstance(payload, str) else dict(payload)
        event.setdefault("event_id", event_id)
        self._seen[event_id] = created_at
        if self._newest is None or created_at > self._newest:
            self._newest = created_at
            if len(self._seen) > KEEP_AT_LEAST:
                self._forget_before(created_at - 2 * self.slack)
        self.delivered += 1
        try:
            self._on_event(event)
        except Exception:  # a broken consumer must not stop the listener
            log.exception("live listener: on_event failed for %s", event_id)

    def _forget_before(self, horizon: datetime) -> None:
        """Forget ids no catch-up can meet again (created before ``horizon``)."""
        self._seen = {key: at for key, at in self._seen.items() if at >= horizon}


def _require_postgresql(target: Engine | URL) -> None:
    url = target.url if isinstance(target, Engine) else target
    if url.get_backend_name() != "postgresql":
        raise ValidationFailed(
            "Live events across app servers need PostgreSQL (LISTEN/NOTIFY); "
            "with one process, register the hub as a plugin of the core",
            details={"url": url.render_as_string(hide_password=True)},
        )
