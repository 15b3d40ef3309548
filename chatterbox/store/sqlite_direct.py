"""Run a synchronous function on the SQLite connection's own worker thread, in one hop.

aiosqlite runs every call of a connection on that connection's worker thread; through SQLAlchemy's
async adapter each statement costs three or four round trips to that thread (cursor, execute,
fetchall, close), ~50–250 µs each on a busy core. A group-commit batch that runs its statements as
one plain ``sqlite3`` function on the worker thread pays one round trip for all of them, and the
statements themselves run at SQLite's native speed (prepared-statement cache, ``executemany`` over
tuples).

The function runs inside the transaction the writer already opened on that connection (same
``sqlite3.Connection``, same thread), so its writes commit or roll back with the batch. It must not
commit, roll back or swallow a database error. This uses aiosqlite's worker queue
(``Connection._tx``) and its underlying ``sqlite3.Connection`` (``Connection._conn``), which
aiosqlite has had since its first releases; :func:`direct_post` and :func:`direct_sqlite` return
``None`` when they are missing (another driver, a future aiosqlite), and callers then fall back to
the portable SQLAlchemy statements. ``tests/integration/store/test_store_group_commit.py`` asserts that the fast path is
taken with the pinned driver.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager, suppress
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection

from chatterbox.store.records import MessageRecord
from chatterbox.store.sqlite_reads import ReadConnection

__all__ = ["MESSAGE_COLUMNS", "Post", "direct_post", "direct_sqlite", "read_transaction"]

T = TypeVar("T")

Post = Callable[
    [Callable[[sqlite3.Connection], Any], Callable[[Any], None]],
    bool,
]
"""``post(fn, complete)``: run ``fn(sqlite3_connection)`` on the worker thread, then
``complete(result or exception)`` on the event loop; False (nothing posted) if the worker is gone."""

MESSAGE_COLUMNS = ", ".join(MessageRecord._fields)
"""The ``messages`` columns in :class:`MessageRecord`'s field order: ``MessageRecord(*row)``."""


@contextmanager
def read_transaction(db: sqlite3.Connection) -> Iterator[None]:
    """One snapshot for the statements inside (a read function's plain ``sqlite3`` calls)."""
    db.execute("BEGIN")
    try:
        yield
    finally:
        db.execute("COMMIT")


async def direct_sqlite(
    conn: AsyncConnection,
) -> Callable[[Callable[[sqlite3.Connection], T]], Awaitable[T]] | None:
    """A runner of ``fn(sqlite3_connection)`` on ``conn``'s worker thread, or None if unavailable
    (awaits :func:`direct_post`'s completion)."""
    if conn.dialect.name != "sqlite":
        return None
    if isinstance(conn, ReadConnection):  # already on a reader thread: call it here
        db = conn.raw()

        async def here(fn: Callable[[sqlite3.Connection], T]) -> T:
            return fn(db)

        return here
    post = await direct_post(conn)
    if post is None:
        return None

    async def run(fn: Callable[[sqlite3.Connection], T]) -> T:
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()

        def complete(result: Any) -> None:
            if future.done():
                return
            if isinstance(result, BaseException):
                future.set_exception(result)
            else:
                future.set_result(result)

        if not post(fn, complete):
            raise ValueError("Connection closed")  # as aiosqlite's own calls say
        return await future

    return run


async def direct_post(conn: AsyncConnection) -> Post | None:
    """A :data:`Post` on ``conn``'s aiosqlite worker thread, or None if unavailable.

    ``complete`` is itself the callback the thread schedules (``call_soon_threadsafe``), so it
    runs in the first loop iteration after ``fn`` returned; awaiting a future set from the thread
    (:func:`direct_sqlite`) resumes the awaiting task one iteration later. The item goes on
    aiosqlite's own queue (``Connection._tx``) with no future, which its worker runs and otherwise
    ignores; ``fn``'s exceptions are caught here and handed to ``complete``.
    """
    if conn.dialect.name != "sqlite" or isinstance(conn, ReadConnection):
        return None
    raw = await conn.get_raw_connection()
    driver: Any = raw.driver_connection
    queue: Any = getattr(driver, "_tx", None)
    if not isinstance(getattr(driver, "_connection", None), sqlite3.Connection) or not callable(
        getattr(queue, "put_nowait", None)
    ):
        return None
    loop = asyncio.get_running_loop()

    def post(fn: Callable[[sqlite3.Connection], Any], complete: Callable[[Any], None]) -> bool:
        if not getattr(driver, "_running", False) or driver._connection is None:
            return False

        def call() -> None:
            result: Any
            try:
                result = fn(driver._conn)
            except BaseException as exc:  # handed to the loop, like the result
                result = exc
            with suppress(RuntimeError):  # the loop is closed: nobody waits any more
                loop.call_soon_threadsafe(complete, result)

        queue.put_nowait((None, call))
        return True

    return post
