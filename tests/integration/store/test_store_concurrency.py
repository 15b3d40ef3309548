"""Several stores on one database, as several server processes would be: seq, idempotency, receipts.

Each :class:`SqlStore` has its own engine, pool and writer task, so on PostgreSQL their transactions really
overlap (on SQLite ``BEGIN IMMEDIATE`` + ``busy_timeout`` serialize them). The last test runs real separate
processes.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import sys
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import pytest
from sqlalchemy import text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from chatterbox.store import tables as t
from chatterbox.store.records import MessageRecord
from chatterbox.store.sql import SqlStore, open_store
from tests.support.live_server import ROOT

pytestmark = pytest.mark.anyio


@asynccontextmanager
async def open_stores(url: str, n: int) -> AsyncIterator[list[SqlStore]]:
    """``n`` independent stores (engines, pools, writers) on one database, closed after."""
    async with AsyncExitStack() as stack:
        stores = []
        for _ in range(n):
            store = await open_store(url)
            stack.push_async_callback(store.close)
            stores.append(store)
        yield stores


async def _setup(store: SqlStore, n_rooms: int, n_users: int) -> tuple[list[str], list[str]]:
    users = [(await store.create_user(f"user{i}", f"User {i}")).id for i in range(n_users)]
    rooms = [
        (await store.create_room("public", f"room{i}", None, users[0], users[0])).id
        for i in range(n_rooms)
    ]
    for room in rooms:
        for user in users[1:]:
            await store.add_member(room, user)
    return users, rooms


async def _assert_rooms_consistent(store: SqlStore, rooms: Sequence[str]) -> dict[str, int]:
    """Every room's events are numbered 1..last_seq exactly once; messages match their events."""
    created_per_room: dict[str, int] = {}
    for room in rooms:
        events = await store.events_since(room, 0, limit=100_000)
        seqs = [e.seq for e in events]
        assert seqs == list(range(1, len(seqs) + 1)), f"gap or duplicate in {room}"
        record = await store.get_room(room)
        assert record is not None and record.last_seq == len(events)
        created = {e.message_id: e.seq for e in events if e.kind == "message.created"}
        page, has_more = await store.history_page(room, None, 100)
        messages: dict[str | None, int] = {}
        while True:
            messages.update({m.id: m.seq for m in page})
            if not has_more:
                break
            page, has_more = await store.history_page(room, page[0].seq, 100)
        assert messages == created
        created_per_room[room] = len(created)
    return created_per_room


async def test_three_stores_write_the_same_rooms_concurrently(db_url: str) -> None:
    """3 stores x 500 appends over 5 rooms, interleaved with edits, membership changes, receipts and
    resends: every room's seq is exactly 1..n, and every idempotency key made one message."""
    n_stores, per_store, n_rooms = 3, 500, 5
    async with open_stores(db_url, n_stores) as stores:
        users, rooms = await _setup(stores[0], n_rooms, 6)
        guests = [(await stores[0].create_user(f"guest{i}", f"Guest {i}")).id for i in range(3)]
        shared: dict[str, list[tuple[MessageRecord, bool]]] = defaultdict(list)

        async def work(index: int, store: SqlStore) -> list[MessageRecord]:
            rng = random.Random(index)
            mine: list[MessageRecord] = []
            in_room: set[str] = set()
            for chunk in range(10):
                calls: list[Any] = []
                for i in range(per_store // 10):
                    n = chunk * (per_store // 10) + i
                    author = users[(index + n) % len(users)]
                    calls.append(
                        store.append_message(
                            rooms[rng.randrange(n_rooms)], author, f"s{index} m{n}", f"s{index}-{n}"
                        )
                    )
                # The same (author, key) from every store, at about the same time: one message.
                key = f"shared-{chunk}"
                calls.append(store.append_message(rooms[chunk % n_rooms], users[1], key, key))
                for message in rng.sample(mine, min(5, len(mine))):
                    calls.append(store.edit_message(message.id, f"edited by s{index} c{chunk}"))
                room = rooms[(chunk + index) % n_rooms]
                if room in in_room:
                    calls.append(store.remove_member(room, guests[index], "left"))
                    in_room.discard(room)
                else:
                    calls.append(store.add_member(room, guests[index]))
                    in_room.add(room)
                if mine:
                    seen = mine[-1]
                    calls.append(
                        store.upsert_receipt(seen.room_id, users[5], "seen", seen.id, seen.seq, 1)
                    )
                rng.shuffle(calls)
                for result in await asyncio.gather(*calls):
                    # Appends return (message, created: bool); edits (message, seq: int).
                    if isinstance(result, tuple) and isinstance(result[1], bool):
                        message, created = result
                        if message.body is not None and message.body.startswith("shared-"):
                            shared[message.body].append(result)
                        elif created:
                            mine.append(message)
            return mine

        results = await asyncio.gather(*(work(i, s) for i, s in enumerate(stores)))

        created_per_room = await _assert_rooms_consistent(stores[1], rooms)
        own = [m for batch in results for m in batch]
        assert len(own) == n_stores * per_store
        assert sum(created_per_room.values()) == len(own) + len(shared)
        assert len({m.id for m in own}) == len(own)
        for key, outcomes in shared.items():
            assert len(outcomes) == n_stores
            assert len({m.id for m, _ in outcomes}) == 1, key  # one message, returned to all
            assert sorted(created for _, created in outcomes) == [False, False, True]
        # Every acknowledged message is stored with the seq its caller was given.
        for message in own[::25]:
            stored = await stores[2].get_message(message.id)
            assert stored is not None and stored.seq == message.seq
        if stores[0]._engine.dialect.name == "postgresql":
            # Rooms are locked in one order by every store: nothing to retry.
            assert sum(s.writer_stats.retries for s in stores) == 0
            assert max(s.writer_stats.max_batch for s in stores) > 10  # still group commit


async def test_resends_naming_other_rooms_across_stores(db_url: str) -> None:
    """The same key sent to two different rooms from two stores still makes one message."""
    async with open_stores(db_url, 2) as (a, b):
        users, rooms = await _setup(a, 4, 2)
        author = users[1]
        calls = []
        for k in range(60):
            key = f"k{k}"
            calls.append(a.append_message(rooms[k % 4], author, "from a", key))
            calls.append(b.append_message(rooms[(k + 1) % 4], author, "from b", key))
            calls.append(a.append_message(rooms[k % 4], users[0], f"filler {k}"))
        results = await asyncio.gather(*calls)
        by_key: dict[str | None, set[str]] = defaultdict(set)
        created = Counter[str | None]()
        for message, was_created in results:
            if message.author_id == author:
                by_key[message.client_msg_id].add(message.id)
                created[message.client_msg_id] += was_created
        assert len(by_key) == 60
        assert all(len(ids) == 1 for ids in by_key.values())
        assert set(created.values()) == {1}
        per_room = await _assert_rooms_consistent(b, rooms)
        assert sum(per_room.values()) == 60 + 60


_SLOW_RECEIPTS = (
    "CREATE FUNCTION slow_receipts() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "BEGIN PERFORM pg_sleep(0.01); RETURN NULL; END $$",
    "CREATE TRIGGER slow_receipts BEFORE INSERT OR UPDATE ON receipts "
    "FOR EACH STATEMENT EXECUTE FUNCTION slow_receipts()",
)


async def test_receipt_moved_is_exact_across_stores(db_url: str) -> None:
    """Three stores move one marker with the same seqs: each seq moves it at most once, the highest seq
    moves it exactly once, and the marker ends there."""
    async with open_stores(db_url, 3) as stores:
        users, [room] = await _setup(stores[0], 1, 2)
        messages = [
            (await stores[0].append_message(room, users[0], f"m{i}"))[0] for i in range(150)
        ]
        if stores[0]._engine.dialect.name == "postgresql":
            # Slow every receipt write down (as a loaded server would be), so that the stores'
            # transactions overlap between a batch's read of the markers and its upsert.
            async with stores[0]._engine.begin() as conn:
                for statement in _SLOW_RECEIPTS:
                    await conn.execute(text(statement))

        async def mark(index: int, store: SqlStore) -> list[tuple[int, bool]]:
            order = list(messages)
            # Stores 0 and 2 send the same seqs in the same order, at the same time: their batches race
            # for the same marker values (without the room lock, both would report moving it).
            random.Random(index % 2).shuffle(order)
            out: list[tuple[int, bool]] = []
            for start in range(0, len(order), 30):  # grouped receipts, several batches
                chunk = order[start : start + 30]
                moved = await asyncio.gather(
                    *(
                        store.upsert_receipt(room, users[1], "seen", m.id, m.seq, index)
                        for m in chunk
                    )
                )
                out.extend((m.seq, was_moved) for m, was_moved in zip(chunk, moved, strict=True))
                # A single receipt now and then takes the one-job path.
                single = order[(start * 7) % len(order)]
                out.append(
                    (
                        single.seq,
                        await store.upsert_receipt(
                            room, users[1], "seen", single.id, single.seq, 9
                        ),
                    )
                )
            return out

        results = [
            r
            for batch in await asyncio.gather(*(mark(i, s) for i, s in enumerate(stores)))
            for r in batch
        ]
        moves = Counter(seq for seq, moved in results if moved)
        assert all(count == 1 for count in moves.values()), moves.most_common(3)
        top = messages[-1].seq
        assert moves[top] == 1
        receipt = await stores[0].get_receipt(room, users[1], "seen")
        assert receipt is not None and receipt.seq == top and receipt.message_id == messages[-1].id


async def test_deadlocked_batches_are_retried(db_url: str) -> None:
    """Jobs that lock two rooms in opposite orders (undeclared, so not pre-locked): PostgreSQL aborts one
    transaction as a deadlock and its writer runs the batch again; both callers succeed."""
    async with open_stores(db_url, 2) as (a, b):
        _, (r1, r2) = await _setup(a, 2, 1)
        if a._engine.dialect.name != "postgresql":
            pytest.skip("SQLite writers cannot deadlock: BEGIN IMMEDIATE locks the whole file")
        locked = {r1: asyncio.Event(), r2: asyncio.Event()}

        def job(first: str, second: str) -> Any:
            async def run(conn: AsyncConnection) -> str:
                bump = update(t.rooms).values(last_seq=t.rooms.c.last_seq)
                await conn.execute(bump.where(t.rooms.c.id == first))
                locked[first].set()
                await locked[second].wait()
                await conn.execute(bump.where(t.rooms.c.id == second))
                return first

            return run

        done = await asyncio.wait_for(
            asyncio.gather(a._write(job(r1, r2)), b._write(job(r2, r1))), timeout=30
        )
        assert done == [r1, r2]
        assert a.writer_stats.retries + b.writer_stats.retries >= 1
        assert a.writer_stats.failed_transactions == b.writer_stats.failed_transactions == 0


async def test_separate_processes_share_rooms(db_url: str) -> None:
    """3 OS processes append to the same 4 rooms (with shared idempotency keys) at the same time."""
    async with open_stores(db_url, 1) as (store,):
        users, rooms = await _setup(store, 4, 3)
    n, n_procs = 300, 3
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    argv = [sys.executable, "-m", "tests.support.store_worker", db_url]
    procs = [
        await asyncio.create_subprocess_exec(
            *argv,
            str(i),
            str(n),
            ",".join(rooms),
            ",".join(users),
            cwd=ROOT,
            env=env,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        for i in range(n_procs)
    ]
    try:
        for proc in procs:  # wait until every worker is ready, then start them together
            assert proc.stdout is not None
            line = await asyncio.wait_for(proc.stdout.readline(), timeout=30)
            assert line.strip() == b"ready", line
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.write(b"go\n")
            await proc.stdin.drain()
        outputs = []
        for proc in procs:
            out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
            assert proc.returncode == 0, err.decode()
            outputs.append(json.loads(out))
    finally:
        for proc in procs:
            if proc.returncode is None:
                proc.kill()
                await proc.communicate()

    async with open_stores(db_url, 1) as (store,):
        per_room = await _assert_rooms_consistent(store, rooms)
    own = [m for out in outputs for m in out["own"]]
    assert len(own) == n_procs * n and len({m["id"] for m in own}) == len(own)
    shared: dict[str, set[str]] = defaultdict(set)
    created = Counter[str]()
    for out in outputs:
        for key, (message_id, was_created) in out["shared"].items():
            shared[key].add(message_id)
            created[key] += was_created
    assert all(len(ids) == 1 for ids in shared.values())
    assert set(created.values()) == {1}
    assert sum(per_room.values()) == len(own) + len(shared)
    if db_url.startswith("postgresql"):
        assert sum(out["retries"] for out in outputs) == 0
