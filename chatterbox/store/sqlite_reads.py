"""SQLite reads in one thread hop each, with the store's usual read functions.

Through SQLAlchemy's async adapter every statement on aiosqlite is three or four round trips to the
connection's worker thread (cursor, execute, fetchall, close), and a read transaction adds its
``BEGIN`` and ``ROLLBACK``: 45 round trips for one WebSocket join (6 read transactions), each a
thread wake-up and a ``call_soon_threadsafe`` back, ~4 ms of CPU per join on a busy core.

:class:`SqliteReads` runs a whole read function on a worker thread instead, over a *synchronous*
SQLAlchemy connection (the stdlib ``sqlite3`` driver, the same pragmas and the same ``BEGIN`` hook
as the async engine, see :mod:`.engine`): one hop per read. The store's read functions are written
against :class:`~sqlalchemy.ext.asyncio.AsyncConnection` (``await conn.execute(stmt)``), and stay
so, because PostgreSQL runs them on asyncpg. :class:`ReadConnection` offers the part of that
interface they use; its methods complete without suspending, so the read function's coroutine runs
to its end in a single ``send`` on the worker thread. A read function that awaits anything else
(it would suspend) is a programming error and raises :class:`RuntimeError`.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Awaitable, Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar, cast

from sqlalchemy.engine import Connection, Engine, Result
from sqlalchemy.ext.asyncio import AsyncConnection

__all__ = ["ReadConnection", "SqliteReads"]

T = TypeVar("T")


class ReadConnection:
    """The read side of an ``AsyncConnection`` over a synchronous SQLite connection.

    ``execute`` returns the ``CursorResult`` of the synchronous connection. Unlike the async
    engine's, its rows are fetched as they are read, so it must be consumed before the read
    function returns (the store's read functions return records, never results: mypy checks).
    """

    def __init__(self, sync: Connection) -> None:
        self.sync_connection = sync
        self.dialect = sync.dialect

    async def execute(
        self,
        statement: Any,
        parameters: Any = None,
        *,
        execution_options: Any = None,
    ) -> Result[Any]:
        """Run ``statement`` now, on this thread."""
        return self.sync_connection.execute(
            statement, parameters, execution_options=execution_options
        )

    def raw(self) -> sqlite3.Connection:
        """The ``sqlite3`` connection underneath (for :func:`.sqlite_direct.direct_sqlite`)."""
        driver = self.sync_connection.connection.driver_connection
        assert isinstance(driver, sqlite3.Connection)
        return driver


def _run_to_end(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine that never suspends; its result."""
    try:
        coro.send(None)
    except StopIteration as done:
        return cast(T, done.value)
    coro.close()
    raise RuntimeError("a SQLite read function awaited something other than its connection")


class SqliteReads:
    """Runs read functions on a small pool of threads, each over a pooled synchronous connection."""

    def __init__(self, engine: Engine) -> None:
        """``engine``: from :func:`.engine.create_read_engine`; one thread per pooled connection."""
        self.engine = engine
        threads = engine.pool.size()  # type: ignore[attr-defined]
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="sqlite-read")

    def _run(self, fn: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        with self.engine.connect() as sync:  # BEGIN on first statement; ROLLBACK on exit
            coro = fn(cast(AsyncConnection, ReadConnection(sync)))
            return _run_to_end(cast(Coroutine[Any, Any, T], coro))

    async def run(self, fn: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        """Run the read ``fn`` in one snapshot on a reader thread; its result (or its exception)."""
        return await asyncio.get_running_loop().run_in_executor(self._pool, self._run, fn)

    def close(self) -> None:
        """Wait for running reads, stop the threads, close the connections."""
        self._pool.shutdown(wait=True)
        self.engine.dispose()
