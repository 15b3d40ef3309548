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
(``Connection._execute``) and its underlying ``sqlite3.Connection`` (``Connection._conn``), which
aiosqlite has had since its first releases; :func:`direct_sqlite` returns ``None`` when they are
missing (another driver, a future aiosqlite), and callers then fall back to the portable SQLAlchemy
statements. ``tests/integration/store/test_store_group_commit.py`` asserts that the fast path is
taken with the pinned driver.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection

from chatterbox.store.records import MessageRecord
from chatterbox.store.sqlite_reads import ReadConnection

__all__ = ["MESSAGE_COLUMNS", "direct_sqlite", "read_transaction"]

T = TypeVar("T")

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
    """A runner of ``fn(sqlite3_connection)`` on ``conn``'s worker thread, or None if unavailable."""
    if conn.dialect.name != "sqlite":
        return None
    if isinstance(conn, ReadConnection):  # already on a reader thread: call it here
        db = conn.raw()

        async def here(fn: Callable[[sqlite3.Connection], T]) -> T:
            return fn(db)

        return here
    raw = await conn.get_raw_connection()
    driver: Any = raw.driver_connection
    execute = getattr(driver, "_execute", None)
    if execute is None or not isinstance(getattr(driver, "_connection", None), sqlite3.Connection):
        return None

    async def run(fn: Callable[[sqlite3.Connection], T]) -> T:
        def call() -> T:
            return fn(driver._conn)

        result: T = await execute(call)
        return result

    return run
