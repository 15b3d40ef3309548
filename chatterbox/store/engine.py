"""Async engine creation, with the SQLite settings Chatterbox relies on.

SQLite durability trade-off (``synchronous``), with ``journal_mode=WAL``:

* ``NORMAL`` (default): the WAL is fsynced at checkpoints, not at every commit. A power loss or OS crash
  may lose the last few committed transactions, but never corrupts the database. An application crash
  loses nothing. Several times faster per commit.
* ``FULL``: the WAL is fsynced at every commit, so a committed (hence acknowledged) message survives even
  a power loss.

``wal_autocheckpoint`` is raised to :data:`WAL_AUTOCHECKPOINT_PAGES` (fewer, larger checkpoints); a store
also checkpoints in the background (:mod:`chatterbox.store.checkpoint`), so that the commit that
crosses that size, and stalls the writer while it copies and fsyncs, is rare.

Group commit (:mod:`chatterbox.store.writer`) makes ``FULL`` affordable: one fsync per batch, not per message.

Transactions: the stdlib ``sqlite3`` driver's legacy transaction handling breaks SAVEPOINTs, so the
engine disables it and emits ``BEGIN`` itself (the recipe from the SQLAlchemy SQLite docs). A connection
with the execution option ``begin_immediate=True`` starts with ``BEGIN IMMEDIATE`` (takes the write lock
up front; the writer does that).

PostgreSQL (``postgresql+asyncpg://user:password@host:port/db``): none of the above applies. The engine gets
a connection pool sized for one writer plus concurrent readers (``pool_size`` 10, ``max_overflow`` 10),
``pool_pre_ping`` (a connection dropped by a server restart or a proxy is replaced, not handed out),
``pool_recycle`` 30 min, and ``READ COMMITTED`` isolation whatever the server's default: the writer's
room locking (:mod:`chatterbox.store.sql_locks`) relies on each statement seeing every transaction that
committed before it. Durability is the server's ``synchronous_commit`` (on by default: a commit, hence an
acknowledgement, survives a crash); ``synchronous`` is ignored. Any keyword argument overrides these.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import create_engine as sa_create_engine
from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

__all__ = [
    "BEGIN_IMMEDIATE",
    "READER_CACHE_KIB",
    "READ_THREADS",
    "WAL_AUTOCHECKPOINT_PAGES",
    "WRITER_CACHE_KIB",
    "Synchronous",
    "create_engine",
    "create_read_engine",
    "is_postgresql",
    "is_sqlite",
    "sqlite_file",
]

Synchronous = Literal["NORMAL", "FULL"]
"""Allowed values of SQLite's ``PRAGMA synchronous``."""

READER_CACHE_KIB = 256
"""SQLite page cache of each reader connection (:func:`create_read_engine`), in KiB
(``PRAGMA cache_size=-256``; SQLite's default is 2 000). Readers serve joins, history pages and resumes: a few pages of one room's tail each, which
the operating system's file cache holds anyway. Each pooled connection used to fill 2 MiB with
copies of the same pages (1 000 idle WebSockets over 100 rooms: 43.7 -> 39.1 KiB each; join at
10⁶ messages and durable sends unchanged in interleaved runs)."""

WRITER_CACHE_KIB = 2_000
"""Page cache of the async engine's connections (:func:`create_engine`), in KiB: SQLite's default.
They serve the group-commit writer, whose every batch touches the tails of the indexes of every
room it writes to."""

WAL_AUTOCHECKPOINT_PAGES = 10_000
"""SQLite checkpoints the WAL into the database once it holds this many pages (default 1 000).

A batch of appends rewrites the same hot index pages (each room's tail of ``(room_id, seq)``, the
right edge of the id index…); a checkpoint copies each page once however often it was committed, and
``NORMAL`` fsyncs only at checkpoints. 10 000 pages (~40 MiB of WAL) cut the writer's CPU per append by
~10 % in the durable benchmark against the default."""

BEGIN_IMMEDIATE = "begin_immediate"
"""Execution option: on SQLite, start transactions with ``BEGIN IMMEDIATE``."""


def is_sqlite(url: str | URL) -> bool:
    """Whether ``url`` names a SQLite database."""
    return make_url(url).get_backend_name() == "sqlite"


def is_postgresql(url: str | URL) -> bool:
    """Whether ``url`` names a PostgreSQL database."""
    return make_url(url).get_backend_name() == "postgresql"


def _postgresql_defaults(url: URL, kwargs: dict[str, Any]) -> None:
    kwargs.setdefault("pool_pre_ping", True)
    kwargs.setdefault("isolation_level", "READ COMMITTED")
    if "poolclass" not in kwargs:  # a NullPool/StaticPool takes no sizes
        kwargs.setdefault("pool_size", 10)
        kwargs.setdefault("max_overflow", 10)
        kwargs.setdefault("pool_timeout", 30)
        kwargs.setdefault("pool_recycle", 1800)
    if url.get_driver_name() == "asyncpg":
        connect_args = dict(kwargs.get("connect_args", {}))
        server_settings = dict(connect_args.get("server_settings", {}))
        server_settings.setdefault("application_name", "chatterbox")
        connect_args["server_settings"] = server_settings
        kwargs["connect_args"] = connect_args


def sqlite_file(url: URL) -> Path | None:
    """The database file of a SQLite URL (None for another database)."""
    return _sqlite_path(url).expanduser() if url.get_backend_name() == "sqlite" else None


def _sqlite_path(url: URL) -> Path:
    database = url.database or ""
    if (
        database in ("", ":memory:")
        or "mode=memory" in str(url)
        or database.startswith("file::memory:")
    ):
        raise ValueError(
            "in-memory SQLite databases are not supported (each pooled connection would see its own "
            "database); use a file, e.g. sqlite+aiosqlite:///path/to/chatterbox.db"
        )
    if database.startswith("file:"):
        database = database[len("file:") :].split("?", 1)[0]
    return Path(database)


def _execute_pragma(cursor: Any, pragma: str, timeout_s: float) -> None:
    """Run one connect-time pragma; retry "database is locked" until ``timeout_s``.

    Switching a brand-new file to WAL needs an exclusive lock, and SQLite can answer SQLITE_BUSY at
    once, without its busy handler, while another connection (a concurrent migration) holds a
    lock: seen as a rare failure of processes migrating one fresh file together. Only that case is
    retried (a few ms at a time, at connection set-up only); any other error is raised.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            cursor.execute(pragma)
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
            time.sleep(0.005)


def create_engine(
    database_url: str | URL,
    *,
    synchronous: Synchronous = "NORMAL",
    busy_timeout_ms: int = 5000,
    echo: bool = False,
    **kwargs: Any,
) -> AsyncEngine:
    """Create the async engine for ``database_url`` (``sqlite+aiosqlite:///path`` or ``postgresql+asyncpg://…``).

    For SQLite the parent directory is created, and every new connection gets ``journal_mode=WAL``,
    ``synchronous`` (see the module docstring), ``foreign_keys=ON`` and ``busy_timeout``. For PostgreSQL,
    pool and isolation settings (module docstring); no SQLite pragma or ``BEGIN`` hook is installed.
    Dispose of the engine (``await engine.dispose()``) when done.
    """
    if synchronous not in ("NORMAL", "FULL"):
        raise ValueError(f"synchronous must be 'NORMAL' or 'FULL', not {synchronous!r}")
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        if url.get_backend_name() == "postgresql":
            _postgresql_defaults(url, kwargs)
        else:
            kwargs.setdefault("pool_pre_ping", True)
        return create_async_engine(url, echo=echo, **kwargs)

    path = sqlite_file(url)
    assert path is not None
    path.parent.mkdir(parents=True, exist_ok=True)
    # The async engine serves the group-commit writer (one connection, kept) and the few callers
    # that need an AsyncConnection (migrations, tests); the store's reads go through
    # :func:`create_read_engine` (:mod:`.sqlite_reads`).
    if "poolclass" not in kwargs:  # a NullPool/StaticPool takes no sizes
        kwargs.setdefault("pool_size", 2)
        kwargs.setdefault("max_overflow", 2)
    engine = create_async_engine(url, echo=echo, **kwargs)
    _install_sqlite_hooks(engine.sync_engine, synchronous, busy_timeout_ms, WRITER_CACHE_KIB)
    return engine


READ_THREADS = 3
"""Reader threads (and pooled synchronous connections) of a SQLite store. One process serves one
core, and SQLite reads are CPU-bound: a few are enough. A fixed pool, no overflow: SQLAlchemy closes
an overflow connection when it is returned, so bursts of joins opened (pragmas, cold cache) and
closed readers continuously (measured with the async pool: 1 000 joins at 500 at once 4.4-4.8 s
with 2 + 2 connections, 3.9-4.3 s with 4 fixed)."""


def create_read_engine(
    database_url: str | URL, *, busy_timeout_ms: int = 5000, connections: int = READ_THREADS
) -> Engine:
    """A synchronous engine (stdlib ``sqlite3``) on the same SQLite file, for :mod:`.sqlite_reads`.

    The pragmas and ``BEGIN`` hook of :func:`create_engine`'s (each read is one snapshot) but a
    :data:`READER_CACHE_KIB` page cache, and a fixed pool of ``connections`` that may be used from
    any thread (one at a time each). Readers never write, so ``synchronous`` is left at ``NORMAL``.
    """
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        raise ValueError("create_read_engine is for SQLite databases")
    sqlite_file(url)  # refuses in-memory databases
    engine = sa_create_engine(
        url.set(drivername="sqlite+pysqlite"),
        pool_size=connections,
        max_overflow=0,
        connect_args={"check_same_thread": False},
    )
    _install_sqlite_hooks(engine, "NORMAL", busy_timeout_ms, READER_CACHE_KIB)
    return engine


def _install_sqlite_hooks(
    engine: Engine, synchronous: str, busy_timeout_ms: int, cache_kib: int
) -> None:
    """Connect-time pragmas and the ``BEGIN`` hook (module docstring) on a SQLite engine."""
    pragmas = (
        # busy_timeout first: switching a fresh file to WAL needs the lock, and another process
        # migrating at the same moment must make this wait, not fail with "database is locked".
        f"PRAGMA busy_timeout={int(busy_timeout_ms)}",
        "PRAGMA journal_mode=WAL",
        f"PRAGMA synchronous={synchronous}",
        "PRAGMA foreign_keys=ON",
        f"PRAGMA wal_autocheckpoint={WAL_AUTOCHECKPOINT_PAGES}",
        f"PRAGMA cache_size=-{cache_kib}",
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take over transaction control from the driver (see the module docstring).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            for pragma in pragmas:
                _execute_pragma(cursor, pragma, busy_timeout_ms / 1000)
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get(BEGIN_IMMEDIATE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
