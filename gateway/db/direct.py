"""SQL on the database driver's own connections, for the requests a portal and VNPay send most.

The gateway's schema, its migrations and every other path are SQLAlchemy's. The hot paths (the VNPay
IPN, creating a payment, reading one, authenticating a key) run a handful of fixed statements, and for
those SQLAlchemy's execution layer was most of the work: the database part of an IPN (a SELECT, an
UPDATE, three INSERTs and the COMMIT) cost 1,478 µs of CPU through the ORM session, 1,043 through Core
on an AsyncConnection and 269 on sqlite3 itself; on PostgreSQL 4,010, 2,716 and 917 with asyncpg
(bench/README.md, "Fourth round").

- SQL is written once, with asyncpg's `$1, $2` placeholders; SQLite reads the same numbers as `?1, ?2`.
- Values are converted by Python type, as the models' column types do: an aware datetime is stored in
  UTC (SQLite: the text SQLAlchemy's DateTime writes, so both read each other's rows and compare them
  in SQL), a dict or list as JSON text. Rows come back as dicts, converted by the columns of the table
  a statement names (`Sql(..., table=...)`).
- `Database.transaction()` is one transaction, begun before its first write (plain SELECTs before that
  run outside it: Transaction._before), committed when the block ends (on SQLite, its writes queued at
  the end of the block may share one commit with other transactions': gateway/db/group_commit.py),
  rolled back if it raises. `Transaction.append` queues insert-only rows for that commit, as
  gateway/db/appends.py does for a session; `Transaction.update_one` queues the write of a row read
  earlier, under the version it was read with, that the rest of the commit depends on.
- SQLite: connections of this module run on the event loop's thread, as gateway/db/sqlite_inline.py's
  do, with the same lock handling (BEGIN IMMEDIATE, retried after an asyncio.sleep while another writer
  holds the lock). The writes of transactions that end in the same turn of the loop are committed
  together (gateway/db/group_commit.py). PostgreSQL: asyncpg connections in a pool of their own (gateway/db/pg_pool.py),
  beside SQLAlchemy's, sized by `database_direct_pool_size`.
"""

from __future__ import annotations

import re
import sqlite3
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any, NamedTuple, TypeVar

import asyncpg
import msgspec
from sqlalchemy import CHAR, JSON, Boolean, String, Table, make_url
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.orm.exc import StaleDataError

from gateway.db import sqlite_inline
from gateway.db.engine import configure_sqlite
from gateway.db.group_commit import GroupCommit
from gateway.db.pg_pool import ConnectionPool, PoolClosed
from gateway.db.types import UTCDateTime

Row = dict[str, Any]
_T = TypeVar("_T")
_PLACEHOLDER = re.compile(r"\$(\d+)")
_LOCKING = re.compile(r"\bFOR\s+(NO\s+KEY\s+)?(UPDATE|SHARE|KEY\s+SHARE)\b")


class DuplicateRow(Exception):
    """A unique constraint refused the row (sqlite3.IntegrityError, asyncpg.UniqueViolationError)."""


class StaleRow(StaleDataError):
    """The UPDATE given to Transaction.update_one changed no row: another writer changed it first. A
    StaleDataError, as the ORM raises for the same race, so one handler serves both paths."""

    def __init__(self) -> None:
        super().__init__("the row to update was changed by another writer since it was read")


class Sql:
    """One statement, in both placeholder styles; `table` names the columns its rows are read as."""

    __slots__ = ("pg", "reads", "sqlite", "table")

    def __init__(self, text: str, table: Table | None = None) -> None:
        self.pg = text
        self.sqlite = _PLACEHOLDER.sub(r"?\1", text)
        self.table = table
        upper = text.lstrip().upper()
        # A plain SELECT (no row lock): no transaction need have begun before it (Transaction._before).
        self.reads = upper.startswith("SELECT") and _LOCKING.search(upper) is None


def _json(value: Any) -> Any:
    return _JSON_DECODE(value) if isinstance(value, str) else value


def _json_text(value: Any) -> str:
    # msgspec rather than json: the same values, compact and in UTF-8; it encodes a VNPay notification in an
    # eighth of json.dumps' time and decodes in a third of json.loads'.
    return _JSON_ENCODE(value).decode()


_JSON_ENCODE = msgspec.json.Encoder().encode
_JSON_DECODE = msgspec.json.Decoder().decode


def _sqlite_datetime(value: Any) -> Any:
    return datetime.fromisoformat(value).replace(tzinfo=UTC) if isinstance(value, str) else value


def _pg_datetime(value: Any) -> Any:
    return value.astimezone(UTC) if value is not None else None


def _bool(value: Any) -> Any:
    return bool(value) if value is not None else None


def _readers(table: Table, datetime_reader: Callable[[Any], Any]) -> dict[str, Callable[[Any], Any]]:
    readers: dict[str, Callable[[Any], Any]] = {}
    for column in table.columns:
        if isinstance(column.type, UTCDateTime):
            readers[column.name] = datetime_reader
        elif isinstance(column.type, JSON):
            readers[column.name] = _json
        elif isinstance(column.type, Boolean):
            readers[column.name] = _bool
    return readers


_INSERTS: dict[tuple[Table, tuple[str, ...]], Sql] = {}
_WRITERS: dict[tuple[type, Table, tuple[str, ...]], list[tuple[int, Callable[[Any], Any]]]] = {}
_DEFAULTS: dict[Table, list[tuple[str, Any]]] = {}


def _names(columns: tuple[str, ...]) -> str:
    # Quoted: a column may be named by a keyword (idempotency_keys."key").
    return ", ".join(f'"{name}"' for name in columns)


def _insert_sql(table: Table, columns: tuple[str, ...]) -> Sql:
    sql = _INSERTS.get((table, columns))
    if sql is None:
        marks = ", ".join(f"${i}" for i in range(1, len(columns) + 1))
        text = f"INSERT INTO {table.name} ({_names(columns)}) VALUES ({marks})"  # noqa: S608 - model names
        sql = _INSERTS[(table, columns)] = Sql(text)
    return sql


def _with_defaults(table: Table, row: Row) -> Row:
    """`row` with the column defaults of the model filled in, as SQLAlchemy's insert would."""
    defaults = _DEFAULTS.get(table)
    if defaults is None:
        defaults = []
        for column in table.columns:
            default = column.default
            if default is None or column.autoincrement is True:
                continue
            if not (default.is_scalar or default.is_callable):  # a SQL expression or a sequence
                raise TypeError(f"{table.name}.{column.name}: only Python defaults are filled in here")
            defaults.append((column.name, default.arg))  # type: ignore[attr-defined]
        _DEFAULTS[table] = defaults
    missing = {name: arg(None) if callable(arg) else arg for name, arg in defaults if name not in row}
    return row | missing if missing else row


class Transaction(ABC):
    """One transaction on one connection (Database.transaction)."""

    def __init__(self) -> None:
        self._appends: list[tuple[Table, Row]] = []
        self._later: list[tuple[Sql, tuple[Any, ...]]] = []
        self._updates: list[tuple[Sql, tuple[Any, ...]]] = []
        self.begun = False

    @abstractmethod
    async def _begin(self) -> None: ...

    async def _before(self, sql: Sql) -> None:
        """BEGIN before the first statement that is not a plain SELECT, not at the start of the block.

        A plain SELECT sees the latest committed rows whether a transaction has begun or not (SQLite in
        WAL mode; PostgreSQL at READ COMMITTED), so the write lock (SQLite) or the BEGIN round trip
        (PostgreSQL) waits until something is written: a transaction that reads and computes holds
        SQLite's one write lock only while it writes, and one that only appends is a single statement
        on PostgreSQL. Whatever reads first and writes later guards its write (a payment's version,
        gateway/payments/rows.py), as it must at READ COMMITTED anyway.
        """
        if not (self.begun or sql.reads):
            await self._begin()
            self.begun = True

    def append(self, model: type[DeclarativeBase], row: Row) -> None:
        """Insert `row` into `model`'s table when the transaction commits, after the update_one writes.
        Append a row before the rows that refer to it: SQLite checks a foreign key at each statement."""
        self._appends.append((model.__table__, row))  # type: ignore[arg-type]

    def later(self, sql: Sql, *args: Any) -> None:
        """Run `sql` when the transaction commits, after the appended rows: a write whose outcome nobody
        waits for, and that neither they nor another such write depend on (on PostgreSQL they all go in
        one statement, whose parts run in no set order)."""
        self._later.append((sql, args))

    def update_one(self, sql: Sql, *args: Any) -> None:
        """Run UPDATE `sql` when the transaction commits, before the appended rows, and require it to
        change exactly one row: a row read earlier, written only where its version is still the one read
        (gateway/payments/rows.py). If it changes none, another writer was first: nothing of the
        transaction is written and StaleRow is raised. On PostgreSQL, in a transaction that has begun
        nothing else, with no `later` statement and this its only update_one, that is one statement: its
        appended rows are inserted only if the UPDATE changed its row."""
        self._updates.append((sql, args))

    async def _update_one_now(self, sql: Sql, args: tuple[Any, ...]) -> None:
        if await self.execute(sql, *args) != 1:
            raise StaleRow()

    @abstractmethod
    async def fetchrow(self, sql: Sql, *args: Any) -> Row | None: ...

    @abstractmethod
    async def execute(self, sql: Sql, *args: Any) -> int:
        """Run `sql`; the number of rows it changed."""

    # How a value goes into a column of each type, on this database (None always goes as NULL).
    _write_datetime: Callable[[datetime], Any]
    _write_json = staticmethod(_json_text)

    def _take_appends(self) -> list[tuple[Table, tuple[str, ...], list[list[Any]]]]:
        """The appended rows, the models' defaults filled in and their values as the database takes
        them, by table: the tables in the order each was first appended to, each table's rows in their
        order (one INSERT per table; ids follow that order). The rows of one table must name the same
        columns: a column left out would be NULL in a multi-row VALUES but get its server default on its
        own."""
        appends, self._appends = self._appends, []
        tables: dict[Table, tuple[tuple[str, ...], list[list[Any]]]] = {}
        for table, given in appends:
            row = _with_defaults(table, given)
            group = tables.get(table)
            if group is None:
                group = tables[table] = (tuple(row), [])
            elif row.keys() != set(group[0]):
                raise ValueError(f"rows appended to {table.name} name different columns: {sorted(row)}")
            group[1].append([row[name] for name in group[0]])
        for table, (columns, rows) in tables.items():
            writers = self._writers(table, columns)
            for values in rows:
                for i, write in writers:
                    if values[i] is not None:
                        values[i] = write(values[i])
        return [(table, columns, rows) for table, (columns, rows) in tables.items()]

    def _writers(self, table: Table, columns: tuple[str, ...]) -> list[tuple[int, Callable[[Any], Any]]]:
        # By column type, as the models' types convert (not by each value's Python type, as the `args` of a
        # statement are): only the few columns that need it cost a call.
        key = (type(self), table, columns)
        writers = _WRITERS.get(key)
        if writers is None:
            writers = []
            for i, name in enumerate(columns):
                column_type = table.columns[name].type
                if isinstance(column_type, UTCDateTime):
                    writers.append((i, type(self)._write_datetime))
                elif isinstance(column_type, JSON):
                    writers.append((i, type(self)._write_json))
            _WRITERS[key] = writers
        return writers

    @abstractmethod
    async def _flush(self) -> None:
        """Run the update_one writes, insert the appended rows, run the `later` statements (SQLite: and
        COMMIT if the transaction has begun, or else queue them for the group commit; PostgreSQL commits
        in PostgresTransaction.end)."""


class Database(ABC):
    """The hot paths' way to the database (see the module's text)."""

    @abstractmethod
    def transaction(self) -> Any:
        """`async with db.transaction() as tx`: committed at the end of the block, rolled back on error."""

    @abstractmethod
    async def fetchrow(self, sql: Sql, *args: Any) -> Row | None:
        """The first row `sql` returns, run as a transaction of its own (autocommit): a read, or one write
        that needs nothing else (INSERT ... RETURNING)."""

    @abstractmethod
    async def open(self) -> None:
        """Make the connections ready before the first request needs one (the app's start-up)."""

    @abstractmethod
    def in_use(self) -> int:
        """Connections taken and not given back yet."""

    @abstractmethod
    async def close(self) -> None: ...


def open_database(url: str, pool_size: int = 10) -> Database:
    """The Database for SQLAlchemy URL `url` (sqlite+aiosqlite:///file or postgresql+asyncpg://...)."""
    parsed = make_url(url)
    if parsed.drivername.startswith("sqlite"):
        if parsed.database in (None, "", ":memory:"):
            raise ValueError("the gateway needs a SQLite file: every connection to ':memory:' is a new database")
        return SQLiteDatabase(parsed.database, pool_size)
    return PostgresDatabase(parsed.set(drivername="postgresql").render_as_string(hide_password=False), pool_size)


# -- SQLite -----------------------------------------------------------------------------------------


_AS_IS = frozenset({str, int, float, bool, bytes, type(None)})


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("naive datetime given to a UTCDateTime column")
    return value


def _sqlite_datetime_text(value: datetime) -> str:
    # The text SQLAlchemy's DateTime stores ("%Y-%m-%d %H:%M:%S.%f"), by the faster isoformat.
    return _aware(value).astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def _sqlite_value(value: Any) -> Any:
    if type(value) in _AS_IS:
        return value
    if isinstance(value, datetime):
        return _sqlite_datetime_text(value)
    if isinstance(value, dict | list):
        return _json_text(value)
    return value


def _sqlite_args(args: Iterable[Any]) -> tuple[Any, ...]:
    return tuple(_sqlite_value(v) for v in args)


class _SQLiteReader:
    """Rows of one table's columns, converted as the models' column types would."""

    # By statement: its column names (cursor.description builds a tuple per column at each call) and the
    # readers of those that need converting.
    _cache: dict[tuple[str, Table | None], tuple[list[str], list[tuple[str, Callable[[Any], Any]]]]] = {}

    @classmethod
    def row(cls, sql: Sql, cursor: sqlite3.Cursor, values: tuple[Any, ...] | None) -> Row | None:
        if values is None:
            return None
        key = (sql.sqlite, sql.table)
        shape = cls._cache.get(key)
        if shape is None:
            names = [d[0] for d in cursor.description]
            by_name = _readers(sql.table, _sqlite_datetime) if sql.table is not None else {}
            shape = cls._cache[key] = (names, [(name, by_name[name]) for name in names if name in by_name])
        names, readers = shape
        row = dict(zip(names, values, strict=True))
        for name, read in readers:
            row[name] = read(row[name])
        return row


_SQLITE_DUPLICATE = {sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY}


def _is_duplicate(exc: sqlite3.IntegrityError) -> bool:
    return getattr(exc, "sqlite_errorcode", None) in _SQLITE_DUPLICATE


async def _sqlite_run(call: Callable[[], Any], patience: float) -> Any:
    try:
        return await sqlite_inline.when_unlocked(call, patience)
    except sqlite3.IntegrityError as exc:
        if _is_duplicate(exc):
            raise DuplicateRow(str(exc)) from exc
        raise


class SQLiteTransaction(Transaction):
    _write_datetime = staticmethod(_sqlite_datetime_text)

    def __init__(self, connection: sqlite3.Connection, patience: float) -> None:
        super().__init__()
        self._connection = connection
        self._patience = patience
        self.queued: _SQLiteWrites | None = None

    async def _run(self, call: Callable[[], Any]) -> Any:
        return await _sqlite_run(call, self._patience)

    async def _begin(self) -> None:
        # IMMEDIATE: the write lock is taken here, so a busy answer means nothing has started yet.
        await self._run(lambda: self._connection.execute("BEGIN IMMEDIATE"))

    async def fetchrow(self, sql: Sql, *args: Any) -> Row | None:
        await self._before(sql)
        cursor = self._connection.cursor()
        try:
            await self._run(lambda: cursor.execute(sql.sqlite, _sqlite_args(args)))
            return _SQLiteReader.row(sql, cursor, cursor.fetchone())
        finally:
            cursor.close()

    async def execute(self, sql: Sql, *args: Any) -> int:
        await self._before(sql)
        cursor = self._connection.cursor()
        try:
            await self._run(lambda: cursor.execute(sql.sqlite, _sqlite_args(args)))
            return cursor.rowcount
        finally:
            cursor.close()

    async def _flush(self) -> None:
        writes = _SQLiteWrites(self._updates, self._take_appends(), self._later)
        self._updates, self._later = [], []
        if self.begun:  # begun by a write in the block: it commits on its own connection
            _sqlite_write(self._connection, writes)
            await self._run(lambda: self._connection.execute("COMMIT"))
        elif writes.updates or writes.appends or writes.later:
            self.queued = writes  # for the group commit, once the connection is given back


class _SQLiteWrites(NamedTuple):
    """What a transaction writes when it commits, in that order (Transaction._flush)."""

    updates: list[tuple[Sql, tuple[Any, ...]]]
    appends: list[tuple[Table, tuple[str, ...], list[list[Any]]]]
    later: list[tuple[Sql, tuple[Any, ...]]]


def _sqlite_write(connection: sqlite3.Connection, writes: _SQLiteWrites) -> None:
    """Run `writes` on `connection`, in a transaction that holds the write lock (so no statement here is
    refused for it)."""
    try:
        for sql, args in writes.updates:
            if connection.execute(sql.sqlite, _sqlite_args(args)).rowcount != 1:
                raise StaleRow()
        for table, columns, rows in writes.appends:
            insert = _insert_sql(table, columns).sqlite
            if len(rows) == 1:
                connection.execute(insert, rows[0])
            else:
                connection.executemany(insert, rows)
        for sql, args in writes.later:
            connection.execute(sql.sqlite, _sqlite_args(args))
    except sqlite3.IntegrityError as exc:
        if _is_duplicate(exc):
            raise DuplicateRow(str(exc)) from exc
        raise


class SQLiteDatabase(Database):
    """Connections opened as the engine's are (same pragmas), kept for reuse; autocommit, BEGIN by hand."""

    def __init__(self, path: str, pool_size: int, patience: float = sqlite_inline.DEFAULT_PATIENCE) -> None:
        self._path = path
        self._keep = pool_size
        self._patience = patience
        self._idle: list[sqlite3.Connection] = []
        self._taken = 0
        self._closed = False
        self.group = GroupCommit(self._take, self._give_back, _sqlite_write, patience)

    def in_use(self) -> int:
        return self._taken

    async def open(self) -> None:
        self._closed = False
        self._give_back(self._take())  # a file that cannot be opened fails the start-up, not a request

    def _take(self) -> sqlite3.Connection:
        if self._idle:
            connection = self._idle.pop()
        else:
            connection = sqlite3.connect(self._path, timeout=0, isolation_level=None, check_same_thread=False)
            try:
                configure_sqlite(connection)
            except BaseException:
                connection.close()
                raise
        self._taken += 1
        return connection

    def _give_back(self, connection: sqlite3.Connection) -> None:
        self._taken -= 1
        try:
            if connection.in_transaction:
                connection.rollback()
        except sqlite3.Error:
            connection.close()  # not kept: its state is unknown
            raise
        if len(self._idle) < self._keep and not self._closed:
            self._idle.append(connection)
        else:  # closed: a request still running gives back its connection, or writes queued after close
            connection.close()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[SQLiteTransaction]:
        connection = self._take()
        try:
            tx = SQLiteTransaction(connection, self._patience)
            yield tx
            await tx._flush()  # a block that raised writes nothing
        finally:
            self._give_back(connection)
        if tx.queued is not None:
            # Without the connection: held while waiting, each transaction queued would need one.
            await self.group.commit(tx.queued)

    async def fetchrow(self, sql: Sql, *args: Any) -> Row | None:
        connection = self._take()
        try:
            cursor = connection.cursor()
            try:
                await _sqlite_run(lambda: cursor.execute(sql.sqlite, _sqlite_args(args)), self._patience)
                return _SQLiteReader.row(sql, cursor, cursor.fetchone())
            finally:
                # Resets the statement: until then a SELECT keeps its snapshot (and the WAL from being
                # checkpointed past it), and an INSERT ... RETURNING its write lock.
                cursor.close()
        finally:
            self._give_back(connection)

    async def close(self) -> None:
        self._closed = True
        await self.group.close()
        idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()


# -- PostgreSQL -------------------------------------------------------------------------------------


def _pg_value(value: Any) -> Any:
    # asyncpg's json type takes text; an aware datetime goes to timestamptz as it is.
    if isinstance(value, dict | list):
        return _json_text(value)
    if isinstance(value, datetime):
        return _aware(value)
    return value


def _pg_args(args: Iterable[Any]) -> list[Any]:
    return [_pg_value(v) for v in args]


_PG_READERS: dict[Table, dict[str, Callable[[Any], Any]]] = {}


def _pg_row(sql: Sql, record: asyncpg.Record | None) -> Row | None:
    if record is None:
        return None
    row = dict(record.items())
    if sql.table is not None:
        readers = _PG_READERS.get(sql.table)
        if readers is None:
            readers = _PG_READERS[sql.table] = _readers(sql.table, _pg_datetime)
        for name, read in readers.items():
            if name in row:
                row[name] = read(row[name])
    return row


def _rowcount(status: str) -> int:
    # asyncpg answers the command tag: "UPDATE 1", "INSERT 0 1", "DELETE 3".
    count = status.rpartition(" ")[2]
    return int(count) if count.isdigit() else 0


_PG_STATEMENTS: dict[Any, str] = {}
# The name _pg_chain gives its first part: where a guarded chain's UPDATE is (PostgresTransaction._flush).
_FIRST_PART = "p0"


def _pg_type(table: Table, name: str) -> str:
    # Strings without their length: an explicit cast to varchar(40) or char(3) cuts a longer value, where
    # assigning it to the column refuses it.
    column_type = table.columns[name].type
    if isinstance(column_type, String) and column_type.length is not None:
        return "BPCHAR" if isinstance(column_type, CHAR) else "VARCHAR"
    return column_type.compile(dialect=postgresql.dialect())


def _pg_insert(table: Table, columns: tuple[str, ...], rows: int, guarded: bool = False) -> str:
    """INSERT of `rows` rows in one VALUES list, numbered from $1; `guarded`: only if the chain's first
    part (an UPDATE ... RETURNING) changed a row."""
    key = (table, columns, rows, guarded)
    text = _PG_STATEMENTS.get(key)
    if text is None:
        width = len(columns)
        marks = [[f"${r * width + i}" for i in range(1, width + 1)] for r in range(rows)]
        if guarded:
            # VALUES under a SELECT does not take its types from the columns inserted into, as a plain
            # INSERT ... VALUES does: the first row says them.
            marks[0] = [f"{mark}::{_pg_type(table, name)}" for mark, name in zip(marks[0], columns, strict=True)]
        values = ", ".join("(" + ", ".join(row) + ")" for row in marks)
        into = f"INSERT INTO {table.name} ({_names(columns)})"
        text = _PG_STATEMENTS[key] = (
            f"{into} SELECT * FROM (VALUES {values}) AS v WHERE EXISTS (SELECT FROM {_FIRST_PART})"  # noqa: S608
            if guarded
            else f"{into} VALUES {values}"
        )
    return text


def _pg_chain(parts: tuple[tuple[str, int], ...]) -> str:
    """Statements (each numbered from $1, with its count of parameters) as one: data-modifying CTEs and a
    last statement, the parameters renumbered to follow each other. PostgreSQL runs the parts in no set
    order (each table is inserted into by one part) and checks foreign keys between them at the end of
    the statement, after all of them."""
    text = _PG_STATEMENTS.get(parts)
    if text is None:
        renumbered, offset = [], 0
        for sql, count in parts:
            shift = offset
            renumbered.append(_PLACEHOLDER.sub(lambda m: f"${int(m.group(1)) + shift}", sql))  # noqa: B023
            offset += count
        *first, last = renumbered
        text = "".join(("WITH " if i == 0 else ", ") + f"p{i} AS ({sql})" for i, sql in enumerate(first))
        text = _PG_STATEMENTS[parts] = f"{text} {last}".strip()
    return text


async def _unique(call: Awaitable[_T]) -> _T:
    try:
        return await call
    except asyncpg.UniqueViolationError as exc:
        raise DuplicateRow(str(exc)) from exc


class PostgresTransaction(Transaction):
    """A transaction that only reads and then appends (a duplicate IPN), only appends (a creation), or
    reads, updates one row and appends (an IPN that changes its payment: update_one) writes in one
    statement in autocommit: two or three round trips fewer."""

    _write_datetime = staticmethod(_aware)

    def __init__(self, connection: asyncpg.Connection) -> None:
        super().__init__()
        self._connection = connection

    async def _begin(self) -> None:
        await self._connection.execute("BEGIN")

    async def fetchrow(self, sql: Sql, *args: Any) -> Row | None:
        await self._before(sql)
        return _pg_row(sql, await _unique(self._connection.fetchrow(sql.pg, *_pg_args(args))))

    async def execute(self, sql: Sql, *args: Any) -> int:
        await self._before(sql)
        return _rowcount(await _unique(self._connection.execute(sql.pg, *_pg_args(args))))

    async def _flush(self) -> None:
        # One statement for all of them: each round trip costs more than the insert it carries. Each
        # table's rows are one multi-row VALUES (Transaction._take_appends); the parts of the statement
        # run in no set order among themselves. An update_one goes first, in autocommit, with the inserts
        # depending on it; one in a transaction already begun, or beside `later` statements (which could
        # not be made to depend on it), or beside another, runs on its own.
        updates, self._updates = self._updates, []
        later, self._later = self._later, []
        if updates and (self.begun or later or len(updates) > 1):
            for sql, values in updates:
                await self._update_one_now(sql, values)
            updates = []
        parts: list[tuple[str, int]] = []
        args: list[Any] = []
        for sql, values in updates:
            parts.append((sql.pg + " RETURNING 1", len(values)))
            args.extend(_pg_value(v) for v in values)
        for table, columns, rows in self._take_appends():
            parts.append((_pg_insert(table, columns, len(rows), guarded=bool(updates)), len(columns) * len(rows)))
            for row in rows:
                args.extend(row)
        for sql, values in later:
            parts.append((sql.pg, len(values)))
            args.extend(_pg_value(v) for v in values)
        if updates:
            parts.append((f"SELECT count(*) FROM {_FIRST_PART}", 0))  # noqa: S608
            if await _unique(self._connection.fetchval(_pg_chain(tuple(parts)), *args)) != 1:
                raise StaleRow()
        elif parts:
            await _unique(self._connection.execute(_pg_chain(tuple(parts)), *args))

    async def end(self, committed: bool) -> None:
        if self.begun:
            await self._connection.execute("COMMIT" if committed else "ROLLBACK")


class PostgresDatabase(Database):
    """A pool of asyncpg connections (gateway/db/pg_pool.py), opened on first use (in the event loop that
    uses it)."""

    def __init__(self, dsn: str, pool_size: int) -> None:
        self._dsn = dsn
        self._size = pool_size
        self._pool: ConnectionPool | None = None
        self._closes = 0  # close() calls: one during an open means that open's pool is not wanted

    def in_use(self) -> int:
        return self._pool.in_use() if self._pool is not None else 0

    async def open(self) -> None:
        await self._open()

    async def _open(self) -> ConnectionPool:
        if self._pool is None:
            closes = self._closes
            pool = ConnectionPool(lambda: asyncpg.connect(self._dsn), self._size)
            await pool.open()
            if self._pool is None and self._closes == closes:
                self._pool = pool
            else:  # another task opened one meanwhile, or the database was closed (the app is stopping)
                await pool.close()
                if self._pool is None:
                    raise PoolClosed("the database was closed while its connections were being opened")
        return self._pool

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[PostgresTransaction]:
        pool = self._pool or await self._open()
        connection = await pool.acquire()
        try:
            tx = PostgresTransaction(connection)
            try:
                yield tx
                await tx._flush()
            except Exception:
                await tx.end(committed=False)
                raise
            await tx.end(committed=True)
        except BaseException as failure:
            pool.release(connection, failure)  # rolled back, or cut short by a cancel (pg_pool decides)
            raise
        pool.release(connection)

    async def fetchrow(self, sql: Sql, *args: Any) -> Row | None:
        pool = self._pool or await self._open()
        connection = await pool.acquire()
        try:
            record = await _unique(connection.fetchrow(sql.pg, *_pg_args(args)))
        except BaseException as failure:
            pool.release(connection, failure)
            raise
        pool.release(connection)
        return _pg_row(sql, record)

    async def close(self) -> None:
        """Close the connections; a later open() (the app started again) opens new ones."""
        self._closes += 1
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close()
