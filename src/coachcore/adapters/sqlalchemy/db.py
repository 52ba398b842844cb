"""Statement execution for the repositories, with errors translated at the boundary.

No SQLAlchemy or DBAPI exception leaves this module: a unique or reference
violation becomes :class:`~coachcore.errors.Conflict`; a busy database,
serialization failure (SQLSTATE 40001) or deadlock (40P01) becomes a
:class:`~coachcore.errors.StoreError` with ``details["retryable"] = True``;
anything else a non-retryable ``StoreError``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Hashable, Iterator, Sequence
from contextlib import contextmanager, suppress
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

import attrs
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Dialect, RowMapping
from sqlalchemy.sql import Executable

from coachcore.errors import CoachCoreError, Conflict, NotFound, StoreError

if TYPE_CHECKING:
    from coachcore.adapters.sqlalchemy.sealing import Sealer

T = TypeVar("T")
RETRYABLE_SQLSTATES = frozenset({"40001", "40P01", "55P03"})
BUSY_SQLITE = frozenset({"SQLITE_BUSY", "SQLITE_LOCKED", "SQLITE_BUSY_SNAPSHOT"})
log = logging.getLogger("coachcore.store")
ENGINE_LOG = logging.getLogger("sqlalchemy.engine.Engine")


def is_retryable(exc: BaseException) -> bool:
    """A busy SQLite database, a serialization failure or a deadlock."""
    orig = getattr(exc, "orig", exc)
    if getattr(orig, "sqlstate", None) in RETRYABLE_SQLSTATES:
        return True
    if getattr(orig, "sqlite_errorname", None) in BUSY_SQLITE:
        return True
    text = str(orig).lower()
    return "database is locked" in text or "database table is locked" in text


def translate(exc: sa.exc.SQLAlchemyError) -> CoachCoreError:
    """Our error for a SQLAlchemy/DBAPI error (raise it ``from exc``).

    The database's own message is logged (logger ``coachcore.store``), not put
    in the error, which hosts may show to their users.
    """
    if isinstance(exc, sa.exc.IntegrityError):
        diag = getattr(exc.orig, "diag", None)
        constraint = getattr(diag, "constraint_name", None)
        return Conflict(
            "The change collides with stored data (a unique key or a reference)",
            details={"constraint": constraint},
        )
    reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0][:300]
    log.warning("store error %s: %s", type(exc).__name__, reason)
    if is_retryable(exc):
        return StoreError("The database is busy; try again", details={"retryable": True})
    if isinstance(exc, sa.exc.OperationalError):
        return StoreError(
            "The database is unavailable (connection or file problem)",
            details={"retryable": False},
        )
    return StoreError(f"The store failed ({type(exc).__name__})", details={"retryable": False})


def insert_ignoring_duplicates(table: sa.Table, dialect: str) -> Executable:
    """``INSERT ... ON CONFLICT DO NOTHING``: a duplicate inserts no row and,
    unlike an IntegrityError, leaves a PostgreSQL transaction usable."""
    if dialect == "postgresql":
        stmt: Any = postgresql.insert(table).on_conflict_do_nothing()
    elif dialect == "sqlite":
        stmt = sqlite.insert(table).on_conflict_do_nothing()
    else:
        stmt = sa.insert(table)
    return stmt.execution_options(preserve_rowcount=True)  # type: ignore[no-any-return]


Processor = Callable[[Any], Any] | None


class RawInsert:
    """An INSERT compiled once for one table and one set of columns, run on the
    DBAPI cursor: the values go through the bind processors SQLAlchemy would
    apply (UTC datetimes, JSON, booleans), and SQLAlchemy's per-statement
    execution work is skipped. ``ignoring`` (the default) makes it
    ``INSERT ... ON CONFLICT DO NOTHING``, a duplicate then shows in the row
    count; without it a duplicate is an IntegrityError."""

    def __init__(
        self, table: sa.Table, columns: Sequence[str], dialect: Dialect, ignoring: bool = True
    ) -> None:
        stmt: Any = (
            insert_ignoring_duplicates(table, dialect.name) if ignoring else sa.insert(table)
        )
        compiled = stmt.compile(dialect=dialect, column_keys=list(columns))
        names = list(compiled.positiontup or ()) if compiled.positional else list(compiled.binds)
        if set(names) != set(columns) or compiled.escaped_bind_names:
            raise ValueError(f"{table.name}: columns {columns} do not map onto plain binds")
        self.sql = str(compiled)
        self.names = tuple(names)
        self.positional = compiled.positional
        self.processors: tuple[Processor, ...] = tuple(
            compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect)
            for name in names
        )

    def params(self, row: dict[str, Any]) -> Any:
        """The DBAPI parameters of one row (a tuple, or a dict for named styles)."""
        values = [
            row[name] if process is None else process(row[name])
            for name, process in zip(self.names, self.processors, strict=True)
        ]
        return tuple(values) if self.positional else dict(zip(self.names, values, strict=True))

    def all_params(self, rows: Sequence[dict[str, Any]]) -> list[Any]:
        """The DBAPI parameters of each row."""
        return [self.params(row) for row in rows]


class RawStatement:
    """A statement compiled once, run on the DBAPI cursor with SQLAlchemy's
    bind processors (UTC datetimes, JSON, dates, booleans) and, for a
    ``SELECT`` (or ``UPDATE ... RETURNING``), its columns' result processors
    (rows come back as dicts by column key). Statements with expanding parameters are refused
    (``ValueError``): SQLAlchemy runs those."""

    def __init__(self, stmt: Any, dialect: Dialect) -> None:
        compiled = stmt.compile(dialect=dialect)
        if compiled.post_compile_params or compiled.literal_execute_params:
            raise ValueError("statements with expanding parameters run through SQLAlchemy")
        names = list(compiled.positiontup or ()) if compiled.positional else list(compiled.binds)
        binds = [compiled.binds[name] for name in names]
        self.sql = str(compiled)
        self.names = tuple(names)
        self.positional = compiled.positional
        self.fixed = tuple(None if b.required else b.effective_value for b in binds)
        self.processors: tuple[Processor, ...] = tuple(
            b.type.dialect_impl(dialect).bind_processor(dialect) for b in binds
        )
        self.writes = not isinstance(stmt, sa.Select)
        """An ``UPDATE ... RETURNING`` rather than a ``SELECT``."""
        columns = tuple(stmt.exported_columns) if isinstance(stmt, sa.Select | sa.Update) else ()
        self.columns = tuple(str(c.key) for c in columns)
        self._types = tuple(c.type.dialect_impl(dialect) for c in columns)
        self._dialect = dialect
        self.results: tuple[Processor, ...] | None = None
        """The result processors, set from the first result's column types
        (``cursor.description``), as SQLAlchemy picks them."""

    def params(self, given: dict[str, Any]) -> Any:
        """The DBAPI parameters: ``given`` by bind name, literals as compiled."""
        values = []
        for name, fixed, process in zip(self.names, self.fixed, self.processors, strict=True):
            value = given.get(name, fixed)
            values.append(value if process is None else process(value))
        return tuple(values) if self.positional else dict(zip(self.names, values, strict=True))

    def rows(self, fetched: Sequence[Sequence[Any]], description: Any) -> list[dict[str, Any]]:
        """Fetched rows as dicts, through the columns' result processors."""
        results = self.results
        if results is None:
            codes = [column[1] for column in description or ()]
            if len(codes) != len(self._types):
                raise StoreError("The store's query returned unexpected columns")
            results = self.results = tuple(
                kind.result_processor(self._dialect, code)
                for kind, code in zip(self._types, codes, strict=True)
            )
        names = self.columns
        return [
            {
                name: value if process is None else process(value)
                for name, value, process in zip(names, row, results, strict=True)
            }
            for row in fetched
        ]


@attrs.define
class _Pending:
    """Rows of one table (same columns) waiting to be inserted together."""

    table: sa.Table
    what: str
    rows: list[dict[str, Any]]


def _raw(stmt: Any, dialect: Dialect) -> RawStatement | None:
    """The statement for the DBAPI cursor, or None where SQLAlchemy must run it."""
    try:
        return RawStatement(stmt, dialect)
    except ValueError:
        return None


def bound(sql: str, convert: Callable[[], T]) -> T:
    """Parameters converted by the bind processors; a value they refuse fails
    as it does through SQLAlchemy (a StatementError, translated)."""
    try:
        return convert()
    except Exception as exc:
        raise translate(sa.exc.StatementError(str(exc), sql, None, exc)) from exc


class _NotAhead(Exception):
    """A read that cannot be sent ahead (it does not run on the DBAPI cursor)."""


def _memo_key(sql: str, values: Any) -> Hashable | None:
    """How a read sent ahead is found again: its SQL and bound values (None
    when a value is not hashable)."""
    key = (sql, tuple(values.items()) if isinstance(values, dict) else tuple(values))
    try:
        hash(key)
    except TypeError:
        return None
    return key


def watched(conn: Connection) -> bool:
    """Whether anyone follows the statements run on ``conn``: cursor or commit
    event listeners, ``echo``, or the ``sqlalchemy.engine`` logger at INFO."""
    dispatch = conn.dispatch
    if dispatch.before_cursor_execute or dispatch.after_cursor_execute or dispatch.commit:
        return True
    return bool(conn.engine.echo) or ENGINE_LOG.isEnabledFor(logging.INFO)


class Db:
    """The repositories' view of the unit of work's connection."""

    def __init__(
        self,
        conn: Connection,
        ensure_transaction: Callable[[], None],
        statements: dict[Hashable, Any],
        sealer: Sealer,
    ) -> None:
        self.conn = conn
        self.sealer = sealer
        self.dialect = conn.dialect.name
        self.postgresql = self.dialect == "postgresql"
        self._ensure = ensure_transaction
        self._statements = statements
        self.watched = watched(conn)
        """Someone follows the statements (cursor events, echo, the engine's
        logger): every statement then goes through SQLAlchemy's execution, so
        that they see each one; otherwise most run on the DBAPI cursor."""
        self.deferring = False
        """Whether inserts wait for the next statement or the commit (see
        :meth:`SqlUnitOfWork.defer_inserts`)."""
        self._pending: dict[tuple[str, tuple[str, ...]], _Pending] = {}
        self.remembered: dict[tuple[str, Any], Any] = {}
        """Rows read by key in this unit of work (users, profiles, rules), kept
        until the unit of work writes that row or takes a coach's lock: a lock
        makes the next look-up read what its holder may have committed."""
        self._lock: tuple[str, Any] | None = None
        """A coach lock (SQL and values) waiting to go first with the next statement."""
        self._ahead: dict[Hashable, tuple[list[Any], Any]] = {}
        """Rows (and description) of reads sent ahead, by :func:`_memo_key`,
        until read or until the unit of work writes."""
        self.recording: list[tuple[RawStatement, Any]] | None = None
        """While :meth:`read_ahead` learns the reads: their statements and values."""

    @property
    def waiting(self) -> bool:
        """Whether inserts or a lock wait for the next statement."""
        return bool(self._pending) or self._lock is not None

    def cached(self, key: Hashable, build: Callable[[], Any]) -> Any:
        """The statement built once per store under ``key``."""
        stmt = self._statements.get(key)
        if stmt is None:
            stmt = self._statements[key] = build()
        return stmt

    def execute(
        self, stmt: Executable, params: Any = None, *, flush: bool = True
    ) -> sa.CursorResult[Any]:
        """Run a statement (the waiting inserts first, unless ``flush`` is off)."""
        if self.recording is not None:
            raise _NotAhead
        self._ahead.clear()
        if flush and self.waiting:
            self.flush()
        self._ensure()
        try:
            return self.conn.execute(stmt, params)
        except sa.exc.SQLAlchemyError as exc:
            raise translate(exc) from exc

    def rows(
        self, stmt: Executable, params: Any = None, *, flush: bool = True
    ) -> Sequence[RowMapping]:
        result = self.execute(stmt, params, flush=flush)
        try:
            return result.mappings().all()
        except sa.exc.SQLAlchemyError as exc:
            raise translate(exc) from exc

    def select_rows(
        self, stmt: Any, params: dict[str, Any], *, flush: bool = True
    ) -> list[dict[str, Any]]:
        """The rows of ``stmt``, a ``SELECT`` built once per store (``cached``),
        as dicts by column key, run on the DBAPI cursor (see :class:`RawStatement`),
        or taken from the rows :meth:`read_ahead` fetched for the same values."""
        raw = None if self.watched else self._raw_select(stmt)
        if raw is None:
            if self.recording is not None:
                raise _NotAhead
            if flush and self.waiting:
                self.flush()
            return [dict(row) for row in self.rows(stmt, params, flush=False)]
        values = bound(raw.sql, lambda: raw.params(params))
        if self.recording is not None:
            self.recording.append((raw, values))
            return []
        if self._ahead:
            key = _memo_key(raw.sql, values)
            hit = self._ahead.pop(key, None) if key is not None else None
            if hit is not None:
                return raw.rows(*hit)
        if raw.writes:
            self._ahead.clear()
        if flush and self.waiting:
            self.flush()
        fetched, description = self._fetch_raw(raw.sql, values, describe=raw.results is None)
        return raw.rows(fetched, description)

    def _raw_select(self, stmt: Any) -> RawStatement | None:
        """``stmt`` (built once per store) for the DBAPI cursor, compiled once."""
        raw: RawStatement | None = self.cached(
            ("raw_select", id(stmt)), lambda: _raw(stmt, self.conn.dialect)
        )
        return raw

    def read_ahead(self, reads: Sequence[Callable[[], object]]) -> None:
        """PostgreSQL: send the statements ``reads`` will run (repository
        look-ups; their answers are thrown away) in one round trip, behind the
        waiting lock and inserts, and keep their rows: the same calls made
        next are answered from them. A read that runs through SQLAlchemy is
        left to run when it is made. Elsewhere: nothing to do."""
        recorded, _ = self._record(reads)
        if recorded:
            self._send_ahead(recorded)

    def commit_after(self, last: Callable[[], T], commit: Callable[[], None]) -> T:
        """``last()``, then ``commit`` (SQLAlchemy's, of a root transaction).
        PostgreSQL: ``last``'s statements (a claim: ``UPDATE ... RETURNING``)
        go with the waiting lock and inserts and the COMMIT in one round
        trip, and ``last()`` is answered from their rows after it."""
        recorded, complete = self._record([last])
        if not (recorded and complete):
            answer = last()
            self.flush_then_commit(commit, together=True)
            return answer
        self._ahead.clear()
        self._send_ahead(recorded, then=commit)
        return last()

    def _record(self, reads: Sequence[Callable[[], object]]) -> tuple[list[Any], bool]:
        """The statements (and values) ``reads`` run, learned without running
        them, on PostgreSQL only; and whether all of them could be learned."""
        if not self.postgresql or self.watched or self.recording is not None:
            return [], False
        recorded: list[tuple[RawStatement, Any]] = []
        complete = True
        self.recording = recorded
        try:
            for read in reads:
                try:
                    read()
                except _NotAhead:
                    complete = False
        finally:
            self.recording = None
        return recorded, complete

    def _send_ahead(
        self, recorded: list[tuple[RawStatement, Any]], then: Callable[[], None] | None = None
    ) -> None:
        groups = list(self._pending.values())
        self._pending.clear()
        sent = [(raw.sql, values, raw.results is None) for raw, values in recorded]
        results = self._pipelined(groups, sent, then)
        for (raw, values), result in zip(recorded, results, strict=True):
            key = _memo_key(raw.sql, values)
            if key is not None:
                self._ahead[key] = result

    def lock(self, stmt: Any, params: dict[str, Any]) -> None:
        """Take a lock with ``stmt``, a ``SELECT`` built once per store. While
        deferring on PostgreSQL with nothing else waiting, it waits for the
        next statement and goes first in that statement's round trip."""
        self._ahead.clear()
        if self.deferring and self.postgresql and not self.watched and not self.waiting:
            raw = self._raw_select(stmt)
            if raw is not None:
                self._ensure()
                self._lock = (raw.sql, bound(raw.sql, lambda: raw.params(params)))
                return
        self.select_rows(stmt, params)

    def first(self, stmt: Executable, params: Any = None) -> RowMapping | None:
        rows = self.rows(stmt, params)
        return rows[0] if rows else None

    def scalar(self, stmt: Executable, params: Any = None) -> Any:
        if self.recording is not None:
            raise _NotAhead
        if self.waiting:
            self.flush()
        self._ensure()
        try:
            return self.conn.scalar(stmt, params)
        except sa.exc.SQLAlchemyError as exc:
            raise translate(exc) from exc

    def insert(self, stmt: Executable, row: dict[str, Any], what: str) -> None:
        """Insert one row; a duplicate key raises Conflict."""
        if self.execute(stmt, row).rowcount != 1:
            raise Conflict(f"{what} {row.get('id', '')} already exists or collides".strip())

    def insert_rows(self, table: sa.Table, rows: Sequence[dict[str, Any]], what: str) -> None:
        """Insert rows of one table (the same columns each) in one DBAPI call;
        a duplicate key raises Conflict, as :meth:`insert` does. While
        ``deferring``, the rows wait for the next statement or the commit."""
        if not rows:
            return
        if self.recording is not None:
            raise _NotAhead
        self._ahead.clear()
        if not self.deferring:
            if self.waiting:
                self.flush()
            self._insert_now(table, rows, what)
            return
        self._ensure()
        key = (table.name, tuple(rows[0]))
        pending = self._pending.get(key)
        if pending is None:
            self._pending[key] = _Pending(table, what, list(rows))
        else:
            pending.rows.extend(rows)

    def pending_rows(self, table: sa.Table) -> list[dict[str, Any]]:
        """The rows of ``table`` still waiting to be inserted."""
        return [row for p in self._pending.values() if p.table is table for row in p.rows]

    def discard(self) -> None:
        """Forget the waiting inserts, lock and reads sent ahead (the transaction
        is being rolled back or has ended)."""
        self._pending.clear()
        self._lock = None
        self._ahead.clear()

    def flush(self) -> None:
        """Take the waiting lock and insert the waiting rows, one DBAPI call per
        table (PostgreSQL: all in one round trip); a duplicate key raises Conflict."""
        groups = list(self._pending.values())
        self._pending.clear()
        if self.postgresql and not self.watched:
            self._pipelined(groups)
            return
        for group in groups:
            self._insert_now(group.table, group.rows, group.what)

    def flush_then_commit(self, commit: Callable[[], None], *, together: bool) -> None:
        """Insert the waiting rows, then ``commit``. ``together`` (a root
        transaction on PostgreSQL): the inserts and the COMMIT go in one round
        trip, and a duplicate key fails the commit."""
        self._ahead.clear()
        if self.waiting and self.postgresql and together and not self.watched:
            groups = list(self._pending.values())
            self._pending.clear()
            self._pipelined(groups, then=commit)
            return
        if self.waiting:
            self.flush()
        commit()

    def _insert_now(self, table: sa.Table, rows: Sequence[dict[str, Any]], what: str) -> None:
        if self.watched:
            stmt = self.cached(
                (table.name, "insert"), lambda: insert_ignoring_duplicates(table, self.dialect)
            )
            done = self.execute(stmt, list(rows) if len(rows) > 1 else rows[0], flush=False)
            if done.rowcount != len(rows):
                raise Conflict(f"{what} {rows[0].get('id', '')} already exists or collides".strip())
            return
        columns = tuple(rows[0])
        raw: RawInsert = self.cached(
            ("raw_insert", table.name, columns),
            lambda: RawInsert(table, columns, self.conn.dialect),
        )
        params = bound(raw.sql, partial(raw.all_params, rows))
        if self._run_raw(raw.sql, params) != len(rows):
            raise Conflict(f"{what} {rows[0].get('id', '')} already exists or collides".strip())

    def _pipelined(
        self,
        groups: Sequence[_Pending],
        reads: Sequence[tuple[str, Any, bool]] = (),
        then: Callable[[], None] | None = None,
    ) -> list[tuple[list[Any], Any]]:
        """PostgreSQL, one psycopg pipeline, one round trip: the waiting lock,
        plain INSERTs (a duplicate is an error that fails the transaction),
        then ``reads`` (SQL, values, whether to describe the result: psycopg
        builds a description anew each time it is read); their rows and
        descriptions come back.
        With ``then`` (SQLAlchemy's commit) a COMMIT goes last; ``then`` runs
        after it, finding the connection's transaction ended."""
        self._ensure()
        dbapi_error = self.conn.dialect.loaded_dbapi.Error
        raw_conn: Any = self.conn.connection.dbapi_connection
        cursors: list[Any] = []
        lock, self._lock = self._lock, None
        sql = ""

        def send(statement: str, values: Any = None, many: bool = False) -> Any:
            nonlocal sql
            sql = statement
            cursor = raw_conn.cursor()
            cursors.append(cursor)
            if many:
                cursor.executemany(statement, values)
            else:
                cursor.execute(statement, values)
            return cursor

        try:
            with raw_conn.pipeline():
                if lock is not None:
                    send(*lock)
                for group in groups:
                    insert = self._plain_insert(group)
                    values = bound(insert.sql, partial(insert.all_params, group.rows))
                    send(insert.sql, values, many=True)
                fetching = [(send(sql_, values), describe) for sql_, values, describe in reads]
                if then is not None:
                    send("COMMIT")
            if then is not None:
                then()
            return [(list(c.fetchall()), c.description if d else None) for c, d in fetching]
        except dbapi_error as err:
            self._abandon(raw_conn, then)
            raise translate(sa.exc.DBAPIError.instance(sql, None, err, dbapi_error)) from err
        except BaseException:
            self._abandon(raw_conn, then)
            raise
        finally:
            for cursor in cursors:
                cursor.close()

    def _plain_insert(self, group: _Pending) -> RawInsert:
        """The plain INSERT (no ON CONFLICT) of ``group``'s table and columns."""
        columns = tuple(group.rows[0])
        insert: RawInsert = self.cached(
            ("plain_insert", group.table.name, columns),
            lambda: RawInsert(group.table, columns, self.conn.dialect, ignoring=False),
        )
        return insert

    def _abandon(self, raw_conn: Any, commit: Callable[[], None] | None) -> None:
        """After a failed commit the transaction is over for SQLAlchemy: roll
        the connection back so that it goes back to the pool usable."""
        if commit is not None:
            with suppress(self.conn.dialect.loaded_dbapi.Error):
                raw_conn.rollback()

    def run_alone(self, stmt: Any, params: dict[str, Any]) -> int:
        """Run one DML statement as a transaction of its own, outside any unit of
        work (the connection holds no transaction); its row count. SQLite runs
        it in autocommit mode; PostgreSQL sends BEGIN, the statement and COMMIT
        in one round trip (a psycopg pipeline)."""
        raw: RawStatement = self.cached(
            ("raw_alone", id(stmt)), lambda: RawStatement(stmt, self.conn.dialect)
        )
        values = bound(raw.sql, lambda: raw.params(params))
        dbapi_error = self.conn.dialect.loaded_dbapi.Error
        raw_conn: Any = self.conn.connection.dbapi_connection
        cursor = raw_conn.cursor()
        try:
            if self.postgresql:
                with raw_conn.pipeline(), raw_conn.cursor() as ending:
                    cursor.execute(raw.sql, values)
                    ending.execute("COMMIT")
            else:
                cursor.execute(raw.sql, values)
            return int(cursor.rowcount)
        except dbapi_error as err:
            with suppress(dbapi_error):
                raw_conn.rollback()
            wrapped = sa.exc.DBAPIError.instance(raw.sql, values, err, dbapi_error)
            raise translate(wrapped) from err
        finally:
            cursor.close()

    @contextmanager
    def _cursor(self, sql: str, params: Any) -> Iterator[Any]:
        """A DBAPI cursor on the unit of work's connection; the DBAPI errors of
        what runs on it are translated like SQLAlchemy's."""
        self._ensure()
        try:
            cursor = self.conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        except sa.exc.SQLAlchemyError as exc:
            raise translate(exc) from exc
        dbapi_error = self.conn.dialect.loaded_dbapi.Error
        try:
            yield cursor
        except dbapi_error as err:
            wrapped = sa.exc.DBAPIError.instance(sql, params, err, dbapi_error)
            raise translate(wrapped) from err
        finally:
            cursor.close()

    def _fetch_raw(self, sql: str, params: Any, *, describe: bool) -> tuple[list[Any], Any]:
        """The rows of one query run on the DBAPI cursor, and its description
        if asked for (psycopg builds it anew each time it is read)."""
        with self._cursor(sql, params) as cursor:
            cursor.execute(sql, params)
            return list(cursor.fetchall()), cursor.description if describe else None

    def _run_raw(self, sql: str, params: list[Any]) -> int:
        """Run one statement on the DBAPI cursor (many parameter sets: executemany);
        its row count. DBAPI errors are translated like SQLAlchemy's."""
        with self._cursor(sql, params) as cursor:
            if len(params) == 1:
                cursor.execute(sql, params[0])
            else:
                cursor.executemany(sql, params)
            return int(cursor.rowcount)

    def update(self, stmt: Executable, row: dict[str, Any], what: str) -> None:
        """Update one row by key; a missing row raises NotFound."""
        if self.execute(stmt, row).rowcount == 0:
            raise NotFound(f"{what} not found")
