"""One async engine and session factory per service.

On Postgres each service owns a schema named after it and connects as its own role
(itp_<service>), with search_path pinned to that schema: no service can read another's tables.
In embedded mode each service has its own SQLite file.
"""
from __future__ import annotations

import asyncio
import collections
import functools
import time
import re

import orjson
from sqlalchemy import JSON, any_, event, literal, text
from sqlalchemy.dialects import postgresql
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url
from sqlalchemy.pool import AsyncAdaptedQueuePool
from sqlalchemy.util import await_
from sqlalchemy.util.queue import AsyncAdaptedQueue, Empty
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from .observability import sqlstate
from .settings import Settings

_IDENT = re.compile(r"^[a-z_][a-z0-9_]*$")


def role_name(service: str) -> str:
    return f"itp_{service}"


CONNECT_TIMEOUT_SECONDS = 10.0
PING_TIMEOUT_SECONDS = 3.0


def _json_text(value) -> str:
    """A JSON column's text: orjson's, with json.dumps's tolerance of non-string keys (written as strings)."""
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


def make_engine(url, *, ping_idle_seconds: float = 0.0, **kwargs) -> AsyncEngine:
    """Every engine in the product is made here. `hide_parameters`: an exception never carries the bound
    parameters of its statement (a child's reference, date of birth, a social worker's e-mail), so no log
    line or problem body can print them.

    On Postgres, a pooled connection is pinged before use, so that one the server has closed (restarted,
    terminated, timed out) is replaced instead of failing a request. `ping_idle_seconds` > 0 pings only a
    connection that sat in the pool at least that long (`ping_when_idle`): a pool under load hands the same
    connections round within milliseconds, and a ping on each checkout was a round trip and ~15% of a
    simple read's CPU. A connection terminated while in use fails its statement either way (503); the
    disconnect then invalidates every connection the pool held, and for a while every checkout is pinged."""
    kwargs.setdefault("hide_parameters", True)
    # JSON columns are read and written with orjson, the C JSON library: a page of 20 referrals decodes 120 of
    # them, and a replayed batch of 500 referrals encodes 2,000 (json.dumps was 7% of a replay's CPU)
    kwargs.setdefault("json_deserializer", orjson.loads)
    kwargs.setdefault("json_serializer", _json_text)
    postgres = str(url).startswith("postgresql")
    if postgres:
        kwargs.setdefault("pool_pre_ping", ping_idle_seconds <= 0)
        kwargs.setdefault("poolclass", FairQueuePool)
        connect_args = kwargs.setdefault("connect_args", {})
        connect_args.setdefault("timeout", CONNECT_TIMEOUT_SECONDS)
    engine = create_async_engine(url, **kwargs)
    if postgres and ping_idle_seconds > 0:
        ping_when_idle(engine, ping_idle_seconds)
    return engine


class FairQueue(AsyncAdaptedQueue):
    """The pool's queue of idle connections, first come first served. SQLAlchemy's asyncio queue hands a returned
    connection to whoever asks next: a request arriving while others wait takes it, and a waiter woken for it
    finds the queue empty again and goes to the back of the line. With 32 requests sharing 6 connections, a
    read's p99 went from 82 to 261 ms (its p50 down from 49 to 39) once reads stopped holding their connection
    through BEGIN and ROLLBACK. Here a returned connection goes straight to the longest waiter, and a newcomer
    waits behind everyone already waiting."""

    def __init__(self, maxsize: int = 0, use_lifo: bool = False):
        super().__init__(maxsize, use_lifo)
        self._waiters: collections.deque[asyncio.Future] = collections.deque()

    def put_nowait(self, item) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(item)
                return
        super().put_nowait(item)

    def put(self, item, block: bool = True, timeout: float | None = None) -> None:
        self.put_nowait(item)  # the pool returns connections without blocking (put(record, False))

    def get(self, block: bool = True, timeout: float | None = None):
        if not self._waiters:
            try:
                return self._queue.get_nowait()
            except asyncio.QueueEmpty:
                pass
        if not block:
            raise Empty()
        return await_(self._wait(timeout))

    async def _wait(self, timeout: float | None):
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            if timeout is None:
                return await waiter
            async with asyncio.timeout(timeout):
                return await waiter
        except BaseException as exc:
            if waiter.done() and not waiter.cancelled():
                self.put_nowait(waiter.result())  # handed over just as this one gave up: to the next in line
            else:
                waiter.cancel()
                try:
                    self._waiters.remove(waiter)
                except ValueError:
                    pass
            if isinstance(exc, TimeoutError):
                raise Empty() from None
            raise


class FairQueuePool(AsyncAdaptedQueuePool):
    """AsyncAdaptedQueuePool with FairQueue: connections handed out in the order they were asked for."""
    _queue_class = FairQueue


class WriteInReader(RuntimeError):
    """A statement that writes, run in a Database.reader() session: a programming error."""


_WRITES = ("INSERT", "UPDATE", "DELETE", "MERGE", "CREATE", "ALTER", "DROP", "TRUNCATE", "GRANT", "REVOKE")


def refuse_writes(engine: AsyncEngine) -> None:
    """Refuse, before it reaches the database, any statement that writes on this engine (an option engine of the
    service's one: the listener is its own, the service's engine is untouched)."""
    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _reads_only(conn, cursor, statement, parameters, context, executemany):
        if (context is not None and (context.isinsert or context.isupdate or context.isdelete)) \
                or (statement.lstrip().split(None, 1) or [""])[0].upper() in _WRITES:
            raise WriteInReader("a write in a read-only session (Database.reader): use Database.session()")


def dialect_insert(dialect: str):
    """SQLAlchemy's INSERT with ON CONFLICT (on_conflict_do_nothing / do_update) for a dialect name: Postgres's,
    or SQLite's (embedded mode)."""
    from sqlalchemy.dialects import sqlite
    return postgresql.insert if dialect == "postgresql" else sqlite.insert


def insert_for(session: AsyncSession, table):
    """INSERT ... (ON CONFLICT ...) into `table` in the session's dialect."""
    return dialect_insert(session.bind.dialect.name)(table)


def member_of(session: AsyncSession, column, values):
    """`column IN values` for a large set (a batch's event ids, say). On Postgres it is `column = ANY($1)` with the
    values as one array parameter: an IN list of 500 is 500 bind parameters, each rendered into the statement on
    every run (the rendering was 10% of a replay's CPU), and a statement of another length for each batch size."""
    if session.bind.dialect.name == "postgresql":
        return column == any_(literal(list(values), postgresql.ARRAY(column.type)))
    return column.in_(values)


@functools.cache
def _recordset_insert(table, columns: tuple[str, ...]):
    """INSERT INTO table (columns) SELECT .. FROM json_to_recordset($1) AS x(column type, ..): the rows as one JSON
    array parameter. A JSON column's None is written as JSON null, as SQLAlchemy's JSON type writes it."""
    dialect = postgresql.dialect()
    quote = dialect.identifier_preparer
    names = [quote.quote(name) for name in columns]
    types = [table.c[name].type for name in columns]
    selected = [f"COALESCE(x.{name}, 'null'::{column_type.compile(dialect=dialect)})"
                if isinstance(column_type, JSON) else f"x.{name}" for name, column_type in zip(names, types)]
    defined = [f"{name} {column_type.compile(dialect=dialect)}" for name, column_type in zip(names, types)]
    return text(f"INSERT INTO {quote.format_table(table)} ({', '.join(names)}) SELECT {', '.join(selected)} "
                f"FROM json_to_recordset(CAST(:rows AS JSON)) AS x({', '.join(defined)})")


def _same_keys(rows: list[dict]) -> list[list[dict]]:
    """Consecutive rows with the same keys, grouped (executemany takes its columns from the first row and would
    drop a later row's other values)."""
    groups: list[list[dict]] = []
    for row in rows:
        if groups and groups[-1][0].keys() == row.keys():
            groups[-1].append(row)
        else:
            groups.append([row])
    return groups


async def insert_many(session: AsyncSession | AsyncConnection, table, rows: list[dict]) -> None:
    """Insert many rows (each with the same keys) in one statement. On Postgres the rows go as one JSON parameter
    (json_to_recordset), encoded by orjson: executemany's INSERT .. VALUES renders and binds each row's parameters
    (a third of a replay's CPU for 500 rows of 18 columns, and a statement with 9,000 parameters for Postgres to
    parse), and arrays per column (unnest) cost asyncpg two isinstance checks a value. Each value goes through its
    column's bind processor as in an INSERT (instants checked aware and put in UTC), a JSON column's value is
    nested as it is. Elsewhere, or for a value JSON cannot carry, it is SQLAlchemy's executemany. Rows of mixed
    keys go in runs of the same keys (a key left out takes the column's default). `session` may also be a
    connection (the gateway's access log writes on a held one in autocommit)."""
    if not rows:
        return
    dialect = session.dialect if isinstance(session, AsyncConnection) else session.bind.dialect
    if dialect.name != "postgresql":
        for group in _same_keys(rows):
            await session.execute(table.insert(), group)
        return
    if any(row.keys() != rows[0].keys() for row in rows):
        for group in _same_keys(rows):
            await insert_many(session, table, group)
        return
    columns = tuple(rows[0])
    processors = [(name, process) for name in columns if not isinstance(table.c[name].type, JSON)
                  and (process := table.c[name].type.dialect_impl(dialect).bind_processor(dialect)) is not None]
    values = rows
    if processors:
        values = [dict(row) for row in rows]
        for name, process in processors:
            for row in values:
                if row[name] is not None:
                    row[name] = process(row[name])
    try:
        payload = orjson.dumps(values, option=orjson.OPT_NON_STR_KEYS).decode()
    except TypeError:  # a value JSON cannot carry (a Decimal, say)
        await session.execute(table.insert(), rows)
        return
    await session.execute(_recordset_insert(table, columns), {"rows": payload})


SUSPECT_SECONDS = 10.0


def ping_when_idle(engine: AsyncEngine, idle_seconds: float) -> None:
    """Ping a pooled connection on checkout when it was checked in at least `idle_seconds` ago, or when the
    engine has seen a connection lost in the last SUSPECT_SECONDS (a server restarting, or an operator
    terminating backends, rarely takes just one: until things settle every checkout is checked), from
    SQLAlchemy's checkout event (its pessimistic disconnect handling). A failed ping raises DisconnectionError
    with the whole pool invalidated, and the pool connects afresh."""
    pool = engine.sync_engine.pool
    dialect = engine.sync_engine.dialect
    suspect = {"until": 0.0}

    @event.listens_for(engine.sync_engine, "handle_error")
    def _lost(context):  # pragma: no cover - exercised by the fault tests
        if context.is_disconnect:
            suspect["until"] = time.monotonic() + SUSPECT_SECONDS

    @event.listens_for(pool, "checkin")
    def _returned(dbapi_connection, record):  # pragma: no cover - trivial
        if record is not None:
            record.info["itp_returned_at"] = time.monotonic()

    @event.listens_for(pool, "checkout")
    def _maybe_ping(dbapi_connection, record, proxy):
        returned = record.info.get("itp_returned_at")
        now = time.monotonic()
        if returned is None or (now - returned < idle_seconds and now >= suspect["until"]):
            return  # fresh, or back in use straight away with nothing lately lost
        try:
            alive = dialect.do_ping(dbapi_connection)
        except Exception as exc:  # noqa: BLE001 - any failure of a ping means the connection is gone
            suspect["until"] = time.monotonic() + SUSPECT_SECONDS
            raise sa_exc.InvalidatePoolError(f"pooled connection failed its ping: {type(exc).__name__}") from None
        if alive is False:
            suspect["until"] = time.monotonic() + SUSPECT_SECONDS
            raise sa_exc.InvalidatePoolError("pooled connection failed its ping")


# SQLSTATE classes that mean "the database is not there for us right now", not "the request is wrong":
# 08 connection exception, 28 the role may not log in, 3D no such database, 53 insufficient resources (too
# many connections), 57 operator intervention (admin shutdown, cannot connect now), 58 system error.
_UNAVAILABLE_SQLSTATE_CLASSES = ("08", "28", "3D", "53", "57", "58")




def is_unavailable(exc: BaseException) -> bool:
    """True when an error means the database cannot be reached or used right now (the caller may retry):
    connection refused, terminated or closed, a pool timeout, too many connections, a database shutting down."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, sa_exc.DBAPIError):
            if exc.connection_invalidated or isinstance(exc, (sa_exc.OperationalError, sa_exc.InterfaceError)):
                return True
        if isinstance(exc, (sa_exc.TimeoutError, sa_exc.DisconnectionError, OSError, asyncio.TimeoutError)):
            return True
        if isinstance(exc, sa_exc.PendingRollbackError) and "invalid" in str(exc).lower():
            return True  # a connection invalidated under the session: the same disconnect, seen later
        code = sqlstate(exc)
        if code and code[:2] in _UNAVAILABLE_SQLSTATE_CLASSES:
            return True
        try:
            import asyncpg
            if isinstance(exc, (asyncpg.exceptions.PostgresConnectionError, asyncpg.exceptions.InterfaceError,
                                asyncpg.exceptions.CannotConnectNowError)):
                return True
        except ImportError:  # pragma: no cover - asyncpg is a dependency
            pass
        exc = getattr(exc, "orig", None) or exc.__cause__ or exc.__context__
    return False


class Database:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.url = settings.resolved_database_url
        self.is_postgres = settings.is_postgres
        self.schema = settings.schema if self.is_postgres else None
        kwargs: dict = {}
        if self.is_postgres:
            kwargs["connect_args"] = {"server_settings": {"search_path": self.schema}}
            kwargs["pool_size"] = settings.db_pool_size
            kwargs["max_overflow"] = settings.db_max_overflow
            kwargs["ping_idle_seconds"] = settings.db_ping_idle_seconds
        else:
            settings.data_dir.mkdir(parents=True, exist_ok=True)
            kwargs["connect_args"] = {"timeout": 30}
        self.engine: AsyncEngine = make_engine(self.url, **kwargs)
        if not self.is_postgres:
            @event.listens_for(self.engine.sync_engine, "connect")
            def _sqlite_pragmas(dbapi_conn, _record):  # pragma: no cover - trivial
                cur = dbapi_conn.cursor()
                cur.execute("PRAGMA journal_mode=WAL")
                cur.execute("PRAGMA busy_timeout=30000")
                cur.execute("PRAGMA foreign_keys=ON")
                cur.close()
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False)
        # reads (reader()): on Postgres without BEGIN and ROLLBACK, two round trips of a GET's three. Postgres runs
        # READ COMMITTED, where each statement takes its own snapshot inside a transaction or not, so a read that
        # writes nothing sees exactly what it saw in one. Same pool (the engine's isolation is set per checkout).
        # A write through it is refused on either backend (it would commit at once, with nothing to roll it back)
        read_engine = self.engine.execution_options(
            **({"isolation_level": "AUTOCOMMIT"} if self.is_postgres else {}), itp_reads_only=True)
        refuse_writes(read_engine)
        self.read_sessionmaker = async_sessionmaker(read_engine, expire_on_commit=False)
        # snapshot(): a read made of several statements that must agree (a home's beds and its children in
        # Phase 1, read apart, could show a child arrived while the bed is still reserved). On Postgres one
        # READ ONLY transaction at REPEATABLE READ: every statement sees the snapshot its first one took
        snapshot_engine = self.engine.execution_options(
            **({"isolation_level": "REPEATABLE READ", "postgresql_readonly": True} if self.is_postgres else {}),
            itp_reads_only=True)
        refuse_writes(snapshot_engine)
        self.snapshot_sessionmaker = async_sessionmaker(snapshot_engine, expire_on_commit=False)
        # set by a commit that wrote to the outbox; the relay waits on it
        self.outbox_signal = asyncio.Event()

    def session(self) -> AsyncSession:
        return self.sessionmaker()

    def reader(self) -> AsyncSession:
        """A session for a request that only reads (each statement commits on its own: never write with it)."""
        return self.read_sessionmaker()

    def snapshot(self) -> AsyncSession:
        """A session for a read whose statements must agree with each other: on Postgres they all see one
        snapshot (a READ ONLY transaction at REPEATABLE READ, rolled back when the session closes). SQLite
        (embedded mode) runs a read as reader() does. A write through it is refused, as in reader()."""
        return self.snapshot_sessionmaker()

    async def ping(self, timeout: float = PING_TIMEOUT_SECONDS) -> None:
        async def _ping() -> None:
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        await asyncio.wait_for(_ping(), timeout)

    async def dispose(self) -> None:
        await self.engine.dispose()


async def provision_postgres(admin_url: str, database_url: str, service: str) -> None:
    """Create the service's schema and role (idempotent). Needs a superuser URL.

    The role owns its schema and nothing else; PUBLIC gets nothing, so a service role
    cannot even look into another service's schema.
    """
    url = make_url(database_url)
    role = url.username or role_name(service)
    schema = service
    for ident in (role, schema):
        if not _IDENT.match(ident):
            raise ValueError(f"unsafe identifier {ident!r}")
    password = url.password
    engine = make_engine(make_url(admin_url).set(database=url.database), isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            exists = (await conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname=:r"), {"r": role})).first()
            if not exists:
                try:
                    await conn.execute(text(f'CREATE ROLE "{role}" LOGIN'))
                except Exception:  # another process created it at the same moment
                    pass
            if password:
                await conn.execute(text(f"ALTER ROLE \"{role}\" PASSWORD '{password.replace(chr(39), '')}'"))
            await conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}" AUTHORIZATION "{role}"'))
            await conn.execute(text(f'ALTER SCHEMA "{schema}" OWNER TO "{role}"'))
            await conn.execute(text(f'REVOKE ALL ON SCHEMA "{schema}" FROM PUBLIC'))
            await conn.execute(text(f'GRANT CONNECT ON DATABASE "{url.database}" TO "{role}"'))
            await conn.execute(text("REVOKE CREATE ON SCHEMA public FROM PUBLIC"))
    finally:
        await engine.dispose()


async def create_database(admin_url: str, name: str, template: str | None = None) -> None:
    """Create the database unless it exists; with `template`, as a copy of that (unused) database."""
    for ident in (name, template or name):
        if not _IDENT.match(ident):
            raise ValueError(f"unsafe database name {ident!r}")
    engine = make_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            exists = (await conn.execute(text("SELECT 1 FROM pg_database WHERE datname=:d"), {"d": name})).first()
            if not exists:
                copy = f' TEMPLATE "{template}"' if template else ""
                await conn.execute(text(f'CREATE DATABASE "{name}"{copy}'))
    finally:
        await engine.dispose()


async def drop_database(admin_url: str, name: str) -> None:
    if not _IDENT.match(name):
        raise ValueError(f"unsafe database name {name!r}")
    engine = make_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        await engine.dispose()
