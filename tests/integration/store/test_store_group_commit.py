"""Group commit through the real store: many concurrent appends, few transactions, isolated failures."""

from __future__ import annotations

import asyncio
import gc
import sqlite3
from collections import defaultdict
from collections.abc import Callable, Coroutine
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from chatterbox.store import sql_append, sql_receipts
from chatterbox.store import tables as t
from chatterbox.store import writer as writer_module
from chatterbox.store.errors import RoomNotFound, StoreClosed
from chatterbox.store.records import MessageRecord
from chatterbox.store.sql import SqlStore, open_store
from chatterbox.store.sql_base import keys_in
from chatterbox.store.sqlite_direct import direct_sqlite

pytestmark = pytest.mark.anyio

MakeUsers = Callable[..., Coroutine[Any, Any, list[str]]]


async def test_2000_concurrent_appends_over_20_rooms(
    store: SqlStore, make_users: MakeUsers, statements: str
) -> None:
    users = await make_users(*(f"user{i}" for i in range(10)))
    rooms = [
        (await store.create_room("public", f"room{i}", None, users[0], users[0])).id
        for i in range(20)
    ]
    before = store.writer_stats.transactions
    results = await asyncio.gather(
        *(
            store.append_message(rooms[i % 20], users[i % 10], f"message {i}", f"client-{i:05d}")
            for i in range(2000)
        )
    )
    transactions = store.writer_stats.transactions - before
    assert all(created for _, created in results)
    assert transactions < 200, transactions  # far below one per message
    assert store.writer_stats.max_batch > 10
    assert store.writer_stats.grouped_jobs >= 1900  # the set-based path did the work
    if statements == "portable":  # the fixture really took the writer off the direct path
        assert store.writer_stats.direct_transactions == 0

    by_room: dict[str, list[int]] = defaultdict(list)
    for message, _ in results:
        by_room[message.room_id].append(message.seq)
    for room_id in rooms:
        assert sorted(by_room[room_id]) == list(range(2, 102))  # seq 1: the owner's member.joined
        events = await store.events_since(room_id, 0, limit=1000)
        assert [e.seq for e in events] == list(range(1, 102))
        room = await store.get_room(room_id)
        assert room is not None and room.last_seq == 101
    # Each caller got its own message back.
    for i, (message, _) in enumerate(results):
        assert message.body == f"message {i}" and message.client_msg_id == f"client-{i:05d}"


async def test_a_bad_request_does_not_fail_its_batch(
    store: SqlStore, make_users: MakeUsers
) -> None:
    [alice] = await make_users("alice")
    room = (await store.create_room("public", "room", None, alice, alice)).id
    calls = []
    for i in range(60):
        if i % 20 == 5:
            calls.append(store.append_message("r_missing", alice, "lost"))  # StoreError: fast path
        elif i % 20 == 15:
            calls.append(
                store.append_message(room, "u_ghost", "fk")
            )  # IntegrityError: isolated retry
        else:
            calls.append(store.append_message(room, alice, f"ok {i}"))
    retries_before = store.writer_stats.isolated_retries
    results = await asyncio.gather(*calls, return_exceptions=True)
    good = [r for r in results if isinstance(r, tuple)]
    assert len(good) == 54
    assert [type(r) for r in results if not isinstance(r, tuple)] == [
        RoomNotFound,
        IntegrityError,
        RoomNotFound,
        IntegrityError,
        RoomNotFound,
        IntegrityError,
    ]
    assert store.writer_stats.isolated_retries > retries_before
    seqs = sorted(m.seq for m, _ in good)
    assert seqs == list(range(2, 56))  # no gap left by the failed requests
    events = await store.events_since(room, 0)
    assert [e.seq for e in events] == list(range(1, 56))


async def test_close_drains_pending_appends(db_url: str) -> None:
    store = await open_store(db_url)
    alice = (await store.create_user("alice", "Alice", None)).id
    room = (await store.create_room("public", "room", None, alice, alice)).id
    tasks = [
        asyncio.create_task(store.append_message(room, alice, f"m{i}", f"client-{i:04d}"))
        for i in range(300)
    ]
    await asyncio.sleep(0)
    await store.close()
    acked: list[MessageRecord] = [t.result()[0] for t in tasks]
    with pytest.raises(StoreClosed):
        await store.append_message(room, alice, "late")

    reopened = await open_store(db_url)
    try:
        page, _ = await reopened.history_page(room, None, 1000)
        assert sorted(m.id for m in page) == sorted(m.id for m in acked)
    finally:
        await reopened.close()


@pytest.fixture(params=["direct", "portable"])
def statements(
    request: pytest.FixtureRequest, backend: str, monkeypatch: pytest.MonkeyPatch
) -> str:
    """SQLite runs append and receipt groups as plain sqlite3 calls on the driver's thread
    (``direct``); ``portable`` forces the SQLAlchemy statements that PostgreSQL uses."""
    if request.param == "portable":
        if backend != "sqlite":
            pytest.skip("PostgreSQL always runs the portable statements")

        async def unavailable(conn: AsyncConnection) -> None:
            return None

        monkeypatch.setattr(sql_append, "direct_sqlite", unavailable)
        monkeypatch.setattr(sql_receipts, "direct_sqlite", unavailable)
        monkeypatch.setattr(writer_module, "direct_post", unavailable)
    return str(request.param)


async def test_the_sqlite_driver_offers_the_direct_path(store: SqlStore, backend: str) -> None:
    async with store._engine.connect() as conn:
        runner = await direct_sqlite(conn)
        if backend != "sqlite":
            assert runner is None
            return
        assert runner is not None
        assert await runner(lambda db: db.execute("SELECT 41 + 1").fetchone()[0]) == 42


@pytest.fixture
async def sqlite_room(store: SqlStore, make_users: MakeUsers, backend: str) -> tuple[str, str]:
    """(alice, a public room she owns) in a SQLite store; the direct path is SQLite's."""
    if backend != "sqlite":
        pytest.skip("the direct path is SQLite's")
    [alice] = await make_users("alice")
    return alice, (await store.create_room("public", "room", None, alice, alice)).id


async def test_sqlite_append_groups_run_directly_inside_the_batch_transaction(
    store: SqlStore, sqlite_room: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    alice, room = sqlite_room
    in_transaction: list[bool] = []
    run = sql_append._run_batch_sqlite

    def spy(appends: Any, at: int, db: sqlite3.Connection) -> Any:
        in_transaction.append(db.in_transaction)
        return run(appends, at, db)

    monkeypatch.setattr(sql_append, "_run_batch_sqlite", spy)
    await asyncio.gather(*(store.append_message(room, alice, f"m{i}", f"k{i}") for i in range(5)))
    assert in_transaction == [True]  # one group, inside the writer's BEGIN IMMEDIATE


async def test_sqlite_batches_of_direct_jobs_are_one_call_from_begin_to_commit(
    store: SqlStore, sqlite_room: tuple[str, str], db_url: str
) -> None:
    alice, room = sqlite_room
    before = store.writer_stats.direct_transactions
    message, created = await store.append_message(room, alice, "alone", "k-alone")
    assert created and store.writer_stats.direct_transactions == before + 1
    marked = await store.upsert_receipt(room, alice, "seen", message.id, message.seq, 1)
    assert marked and store.writer_stats.direct_transactions == before + 2
    # Committed: another connection to the file sees both rows.
    with sqlite3.connect(str(db_url).split("///", 1)[1]) as db:
        assert db.execute("SELECT body FROM messages WHERE id = ?", (message.id,)).fetchone() == (
            "alone",
        )
        assert db.execute(
            "SELECT seq FROM receipts WHERE room_id = ? AND user_id = ?", (room, alice)
        ).fetchone() == (message.seq,)


async def test_the_writers_connection_keeps_a_full_page_cache(
    store: SqlStore, sqlite_room: tuple[str, str]
) -> None:
    """Reader connections have 256 KiB of cache; the writer's, which touches every written
    room's index tails, keeps SQLite's default 2 000 KiB."""
    alice, room = sqlite_room
    await store.append_message(room, alice, "hello", "k-cache")
    assert store._writer._direct_conn is not None
    run = await direct_sqlite(store._writer._direct_conn)
    assert run is not None
    assert await run(lambda db: db.execute("PRAGMA cache_size").fetchone()[0]) == -2000
    assert store._reads is not None
    with store._reads.engine.connect() as reader:
        assert reader.exec_driver_sql("PRAGMA cache_size").scalar_one() == -256


async def test_a_direct_batch_is_answered_by_the_commits_own_loop_callback(
    store: SqlStore, sqlite_room: tuple[str, str]
) -> None:
    """On SQLite a batch is posted to the driver's thread with a completion callback: a
    ``append_message_nowait`` caller is answered in the loop callback that receives the commit,
    outside the writer task (which would add loop iterations before every answer)."""
    alice, room = sqlite_room
    await store.append_message(room, alice, "first", "k-first")  # the writer's connection is open
    before = store.writer_stats.direct_transactions
    answered: asyncio.Future[tuple[Any, asyncio.Task[Any] | None]] = (
        asyncio.get_running_loop().create_future()
    )
    assert store.append_message_nowait(
        room,
        alice,
        "posted",
        "k-posted",
        lambda v: answered.set_result((v, asyncio.current_task())),
    )
    value, task = await answered
    message, created = value
    assert created and message.body == "posted" and message.seq == 3
    assert task is None  # a plain loop callback, not the writer task
    assert store.writer_stats.direct_transactions == before + 1


async def test_answered_nowait_appends_leave_no_cyclic_garbage(
    store: SqlStore, sqlite_room: tuple[str, str]
) -> None:
    """The hot path's callbacks must be freed by reference counting once a message is answered:
    cyclic garbage per message makes the collector run every few hundred messages, each time
    also walking every message still in flight (a retry closure that referred to itself left
    ~23 objects per message)."""
    alice, room = sqlite_room
    await store.append_message(room, alice, "warm", "k-warm")
    answered: list[Any] = []
    gc.collect()
    gc.disable()
    try:
        for i in range(50):
            assert store.append_message_nowait(room, alice, f"m{i}", f"k-gc{i}", answered.append)
        for _ in range(500):
            if len(answered) == 50:
                break
            await asyncio.sleep(0.01)
        assert len(answered) == 50 and all(created for _, created in answered)
        answered.clear()
        assert gc.collect() == 0
    finally:
        gc.enable()


async def test_a_failed_direct_transaction_is_rolled_back_and_run_the_portable_way(
    store: SqlStore, sqlite_room: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    alice, room = sqlite_room
    run = sql_append._run_batch_sqlite
    failures = [sqlite3.OperationalError("disk I/O error")]

    def flaky(appends: Any, at: int, db: sqlite3.Connection) -> Any:
        outcomes = run(appends, at, db)  # rows written, then the failure: must be rolled back
        if failures:
            raise failures.pop()
        return outcomes

    monkeypatch.setattr(sql_append, "_run_batch_sqlite", flaky)
    before = store.writer_stats.direct_transactions
    results = await asyncio.gather(
        *(store.append_message(room, alice, f"m{i}", f"k{i}") for i in range(5))
    )
    assert all(created for _, created in results) and not failures
    assert sorted(m.seq for m, _ in results) == list(range(2, 7))  # nothing written twice
    events = await store.events_since(room, 0)
    assert [e.seq for e in events] == list(range(1, 7))
    page, _ = await store.history_page(room, None, 100)
    assert sorted(m.body for m in page) == [f"m{i}" for i in range(5)]
    # The next batch takes the direct path again, on a fresh connection.
    await store.append_message(room, alice, "after", "k-after")
    assert store.writer_stats.direct_transactions > before


async def test_key_lookups_use_the_composite_indexes(store: SqlStore, backend: str) -> None:
    """Row-value IN is a full table scan on SQLite; :func:`keys_in` must probe the index."""
    m, r = t.messages, t.receipts
    keys = [(f"u_{i}", f"k_{i}") for i in range(5)]
    async with store._engine.connect() as conn:
        dialect = conn.dialect.name
        queries = [
            select(m.c.id).where(keys_in(dialect, [m.c.author_id, m.c.client_msg_id], keys)),
            select(r.c.seq).where(
                keys_in(
                    dialect, [r.c.room_id, r.c.user_id, r.c.state], [(*k, "seen") for k in keys]
                )
            ),
        ]
        for query in queries:
            compiled = query.compile(conn.sync_connection, compile_kwargs={"literal_binds": True})
            if dialect == "sqlite":
                plan = " | ".join(
                    str(row[-1])
                    for row in await conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}")
                )
                assert "SCAN" not in plan and "USING" in plan, plan
            else:
                await conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
                plan = " | ".join(
                    str(row[0]) for row in await conn.exec_driver_sql(f"EXPLAIN {compiled}")
                )
                assert "Seq Scan" not in plan and "Index" in plan, plan


async def test_grouped_appends_handle_resends_duplicates_and_bad_rooms(
    store: SqlStore, make_users: MakeUsers, statements: str
) -> None:
    alice, bob = await make_users("alice", "bob")
    room = (await store.create_room("public", "room", None, alice, alice)).id
    stored, _ = await store.append_message(room, alice, "stored", "stored-key")
    grouped_before = store.writer_stats.grouped_jobs
    results = await asyncio.gather(
        store.append_message(room, alice, "new 1", "key-00001"),
        store.append_message(room, alice, "resend of stored", "stored-key"),
        store.append_message(room, bob, "dup a", "dup-key-1"),
        store.append_message("r_missing", bob, "lost", "lost-key"),
        store.append_message(room, bob, "dup b", "dup-key-1"),
        store.append_message(room, alice, "no key"),
        store.append_message(room, bob, "lost again", "lost-key"),
        store.append_message(room, alice, "no key either"),
        return_exceptions=True,
    )
    assert store.writer_stats.grouped_jobs == grouped_before + 8  # one group
    new1, resend, dup_a, lost, dup_b, nokey1, lost2, nokey2 = results
    assert isinstance(lost, RoomNotFound) and isinstance(lost2, RoomNotFound)
    assert resend == (stored, False)
    assert isinstance(dup_a, tuple) and isinstance(dup_b, tuple)
    assert dup_a[1] is True and dup_b == (dup_a[0], False) and dup_a[0].body == "dup a"
    created = [r[0] for r in (new1, dup_a, nokey1, nokey2) if isinstance(r, tuple)]
    assert [m.seq for m in created] == [3, 4, 5, 6]  # in submission order, no gaps
    assert [m.body for m in created] == ["new 1", "dup a", "no key", "no key either"]
    events = await store.events_since(room, 0)
    assert [e.seq for e in events] == list(range(1, 7))
    assert [e.message for e in events[2:]] == created


async def test_sqlite_groups_of_new_keys_skip_the_lookups_and_resends_still_find_theirs(
    store: SqlStore, sqlite_room: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The direct path inserts keyed messages optimistically (``ON CONFLICT DO NOTHING`` in a
    savepoint): no per-key lookup for new keys; a group holding a resend is rolled back to the
    savepoint and run again with lookups, without burning seqs or writing a row twice."""
    alice, room = sqlite_room
    lookups: list[str] = []
    run = sql_append._run_batch_sqlite

    def traced(appends: Any, at: int, db: sqlite3.Connection) -> Any:
        db.set_trace_callback(lambda sql: lookups.append(sql) if "client_msg_id =" in sql else None)
        try:
            return run(appends, at, db)
        finally:
            db.set_trace_callback(None)

    monkeypatch.setattr(sql_append, "_run_batch_sqlite", traced)
    first = await asyncio.gather(
        *(store.append_message(room, alice, f"m{i}", f"key-{i}") for i in range(6))
    )
    assert all(created for _, created in first) and lookups == []
    assert [m.seq for m, _ in first] == list(range(2, 8))
    assert len({m.id for m, _ in first}) == 6

    again = await asyncio.gather(
        store.append_message(room, alice, "m-new", "key-new"),
        store.append_message(room, alice, "m2", "key-2"),  # a resend of a stored message
        store.append_message(room, alice, "m-newer", "key-newer"),
    )
    assert len(lookups) == 3  # the checked run: one lookup per key
    (new, c1), (resend, c2), (newer, c3) = again
    assert (c1, c2, c3) == (True, False, True)
    assert resend == first[2][0]
    assert (new.seq, newer.seq) == (8, 9)  # the optimistic run's reservations were rolled back
    events = await store.events_since(room, 0)
    assert [e.seq for e in events] == list(range(1, 10))
    page, _ = await store.history_page(room, None, 100)
    assert sorted(m.body for m in page if m.body and m.body.startswith("m")) == sorted(
        [f"m{i}" for i in range(6)] + ["m-new", "m-newer"]
    )


async def test_concurrent_mixed_writes_keep_seq_contiguous(
    store: SqlStore, make_users: MakeUsers
) -> None:
    users = await make_users(*(f"user{i}" for i in range(6)))
    owner = users[0]
    room = (await store.create_room("public", "room", None, owner, owner)).id
    seed = [(await store.append_message(room, owner, f"seed {i}"))[0] for i in range(10)]
    calls: list[Coroutine[Any, Any, object]] = []
    for i in range(200):
        calls.append(store.append_message(room, users[i % 6], f"m{i}", f"mixed-{i:04d}"))
        if i % 20 == 0:
            calls.append(store.edit_message(seed[i // 20].id, f"edited {i}"))
        if i % 50 == 0 and i // 50 + 1 < 6:
            calls.append(store.add_member(room, users[i // 50 + 1]))
        if i % 40 == 0:
            calls.append(store.upsert_receipt(room, users[1], "seen", seed[0].id, seed[0].seq, i))
    await asyncio.gather(*calls)
    events = await store.events_since(room, 0, limit=1000)
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    room_now = await store.get_room(room)
    assert room_now is not None and room_now.last_seq == len(events) == 1 + 10 + 200 + 10 + 4
    created = {e.message_id: e.seq for e in events if e.kind == "message.created"}
    page, _ = await store.history_page(room, None, 500)
    assert {m.id: m.seq for m in page} == created


async def test_grouped_receipts_move_each_marker_once(
    store: SqlStore, make_users: MakeUsers, statements: str
) -> None:
    alice, bob, carol = await make_users("alice", "bob", "carol")
    room = (await store.create_room("public", "room", None, alice, alice)).id
    for user in (bob, carol):
        await store.add_member(room, user)
    messages = [(await store.append_message(room, alice, f"m{i}"))[0] for i in range(5)]
    await store.upsert_receipt(room, bob, "seen", messages[1].id, messages[1].seq, 1)
    grouped_before = store.writer_stats.grouped_jobs
    moved = await asyncio.gather(
        store.upsert_receipt(room, bob, "seen", messages[0].id, messages[0].seq, 2),  # backwards
        store.upsert_receipt(room, bob, "seen", messages[3].id, messages[3].seq, 3),
        store.upsert_receipt(room, carol, "delivered", messages[4].id, messages[4].seq, 4),
        store.upsert_receipt(room, bob, "seen", messages[2].id, messages[2].seq, 5),  # behind 3
        store.upsert_receipt(room, carol, "delivered", messages[4].id, messages[4].seq, 6),
        store.upsert_receipt(room, bob, "seen", messages[4].id, messages[4].seq, 7),
    )
    assert store.writer_stats.grouped_jobs == grouped_before + 6  # one group
    assert moved == [False, True, True, False, False, True]
    markers = {(r.user_id, r.state): (r.seq, r.at) for r in await store.get_receipts(room)}
    assert markers == {
        (bob, "seen"): (messages[4].seq, 7),
        (carol, "delivered"): (messages[4].seq, 4),
    }
