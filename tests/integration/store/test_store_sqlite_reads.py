"""SQLite reads run whole on a reader thread, over a synchronous connection: one hop per read.

(``chatterbox/store/sqlite_reads.py``.) Every other store test exercises the read functions
themselves on this path; these pin down the path: no round trip through aiosqlite's worker, one
snapshot per read, errors and misuse reported, nothing left running after ``close``.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Callable, Coroutine
from typing import Any

import aiosqlite.core
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from chatterbox.store import tables as t
from chatterbox.store.sql import SqlStore

pytestmark = pytest.mark.anyio

MakeUsers = Callable[..., Coroutine[Any, Any, list[str]]]


@pytest.fixture
def sqlite_store(store: SqlStore, backend: str) -> SqlStore:
    if backend != "sqlite":
        pytest.skip("the reader threads are SQLite's")
    return store


@pytest.fixture
def aiosqlite_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every call into an aiosqlite connection's worker thread, by function name."""
    calls: list[str] = []
    real = aiosqlite.core.Connection._execute

    async def counted(self: Any, fn: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(getattr(fn, "__name__", repr(fn)))
        return await real(self, fn, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.core.Connection, "_execute", counted)
    return calls


async def test_reads_take_no_aiosqlite_round_trip_and_run_off_the_loop(
    sqlite_store: SqlStore, make_users: MakeUsers, aiosqlite_calls: list[str]
) -> None:
    [alice] = await make_users("alice")
    room = await sqlite_store.create_room("public", "room", None, alice, alice)
    message, _ = await sqlite_store.append_message(room.id, alice, "hello", "k1")
    aiosqlite_calls.clear()
    user = await sqlite_store.get_user(alice)
    assert user is not None and user.id == alice
    assert [r.room.id for r in await sqlite_store.list_user_rooms(alice)] == [room.id]
    events = await sqlite_store.events_since(room.id, 0)  # the direct sqlite3 read inside
    assert [e.message.id for e in events if e.message is not None] == [message.id]
    assert aiosqlite_calls == []

    threads: list[str] = []

    async def where(conn: AsyncConnection) -> int:
        threads.append(threading.current_thread().name)
        return int((await conn.execute(text("SELECT 41 + 1"))).scalar_one())

    assert await sqlite_store._read(where) == 42
    assert threads[0].startswith("sqlite-read")
    assert threads[0] != threading.current_thread().name


async def test_a_read_is_one_snapshot(
    sqlite_store: SqlStore, make_users: MakeUsers, db_url: str
) -> None:
    await make_users("alice")
    path = db_url.split("///", 1)[1]

    def users_count_sql() -> Any:
        return select(func.count()).select_from(t.users)

    async def twice(conn: AsyncConnection) -> tuple[int, int]:
        before = int((await conn.execute(users_count_sql())).scalar_one())
        # Another connection commits a user between the two statements of this read.
        with sqlite3.connect(path) as other:
            other.execute(
                "INSERT INTO users (id, username, username_key, display_name, created_at) "
                "VALUES ('u_snapshot', 'snap', 'snap', 'Snap', 1)"
            )
        after = int((await conn.execute(users_count_sql())).scalar_one())
        return before, after

    before, after = await sqlite_store._read(twice)
    assert before == after  # the read saw one snapshot
    assert await sqlite_store.get_user("u_snapshot") is not None  # a later read sees the commit


async def test_errors_come_back_and_awaiting_anything_else_is_refused(
    sqlite_store: SqlStore,
) -> None:
    async def broken(conn: AsyncConnection) -> None:
        await conn.execute(text("SELECT * FROM no_such_table"))

    with pytest.raises(Exception, match="no_such_table"):
        await sqlite_store._read(broken)

    async def suspends(conn: AsyncConnection) -> None:
        await asyncio.sleep(0)

    with pytest.raises(RuntimeError, match="awaited something other than its connection"):
        await sqlite_store._read(suspends)
    # The pool is intact afterwards: every reader connection was returned.
    results = await asyncio.gather(*(sqlite_store.get_user("nobody") for _ in range(10)))
    assert results == [None] * 10


async def test_close_stops_the_reader_threads(sqlite_store: SqlStore) -> None:
    assert await sqlite_store.get_user("nobody") is None
    assert any(th.name.startswith("sqlite-read") for th in threading.enumerate())
    await sqlite_store.close()
    await sqlite_store.close()  # idempotent
    assert not any(th.name.startswith("sqlite-read") for th in threading.enumerate())


async def test_a_cancelled_read_leaves_the_readers_working(sqlite_store: SqlStore) -> None:
    started = threading.Event()
    release = threading.Event()

    async def slow(conn: AsyncConnection) -> int:
        started.set()
        release.wait(5)  # on the reader thread: holds it until released
        return int((await conn.execute(text("SELECT 1"))).scalar_one())

    task = asyncio.ensure_future(sqlite_store._read(slow))
    await asyncio.to_thread(started.wait, 5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    release.set()  # the read finishes on its thread; its result goes nowhere
    results = await asyncio.gather(*(sqlite_store.get_user("nobody") for _ in range(10)))
    assert results == [None] * 10
