"""Receipt markers only move forward."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Coroutine
from typing import Any

import pytest

from chatterbox.store.sql import SqlStore

pytestmark = pytest.mark.anyio

MakeUsers = Callable[..., Coroutine[Any, Any, list[str]]]


async def test_receipts_move_forward_only(store: SqlStore, make_users: MakeUsers) -> None:
    alice, bob = await make_users("alice", "bob")
    room = (await store.create_room("public", "room", None, alice, alice)).id
    msgs = [(await store.append_message(room, alice, f"m{i}"))[0] for i in range(5)]

    assert await store.get_receipt(room, bob, "seen") is None
    assert await store.upsert_receipt(room, bob, "seen", msgs[2].id, msgs[2].seq, 100) is True
    assert await store.upsert_receipt(room, bob, "seen", msgs[1].id, msgs[1].seq, 200) is False
    assert await store.upsert_receipt(room, bob, "seen", msgs[2].id, msgs[2].seq, 300) is False
    marker = await store.get_receipt(room, bob, "seen")
    assert marker is not None and (marker.message_id, marker.seq, marker.at) == (
        msgs[2].id,
        msgs[2].seq,
        100,
    )
    assert await store.upsert_receipt(room, bob, "seen", msgs[4].id, msgs[4].seq, 400) is True
    assert await store.upsert_receipt(room, bob, "delivered", msgs[4].id, msgs[4].seq, 400) is True
    assert await store.upsert_receipt(room, alice, "seen", msgs[0].id, msgs[0].seq, 50) is True

    receipts = await store.get_receipts(room)
    assert [(r.user_id, r.state, r.seq) for r in receipts] == sorted(
        [(bob, "seen", msgs[4].seq), (bob, "delivered", msgs[4].seq), (alice, "seen", msgs[0].seq)]
    )
    with pytest.raises(ValueError, match="state"):
        await store.upsert_receipt(room, bob, "read", msgs[0].id, 1, 1)  # type: ignore[arg-type]


async def test_concurrent_receipts_end_at_the_maximum(
    store: SqlStore, make_users: MakeUsers
) -> None:
    alice, bob = await make_users("alice", "bob")
    room = (await store.create_room("public", "room", None, alice, alice)).id
    msgs = [(await store.append_message(room, alice, f"m{i}"))[0] for i in range(30)]
    order = list(range(30))
    random.Random(7).shuffle(order)
    moved = await asyncio.gather(
        *(store.upsert_receipt(room, bob, "seen", msgs[i].id, msgs[i].seq, i) for i in order)
    )
    marker = await store.get_receipt(room, bob, "seen")
    assert marker is not None and marker.seq == msgs[-1].seq
    # It moved exactly at each new running maximum of the submission order.
    running, expected = -1, []
    for i in order:
        expected.append(i > running)
        running = max(running, i)
    assert moved == expected


async def test_receipt_context_reads_message_and_both_markers_at_once(
    store: SqlStore, make_users: MakeUsers, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice, bob, carol = await make_users("alice", "bob", "carol")
    room = (await store.create_room("public", "room", None, alice, alice)).id
    other = (await store.create_room("public", "other", None, alice, alice)).id
    msgs = [(await store.append_message(room, alice, f"m{i}"))[0] for i in range(3)]
    elsewhere = (await store.append_message(other, alice, "x"))[0]
    await store.upsert_receipt(room, bob, "delivered", msgs[2].id, msgs[2].seq, 10)
    await store.upsert_receipt(room, bob, "seen", msgs[1].id, msgs[1].seq, 20)
    # Markers of another user and of another room must not leak in.
    await store.upsert_receipt(room, carol, "seen", msgs[0].id, msgs[0].seq, 30)
    await store.upsert_receipt(other, bob, "seen", elsewhere.id, elsewhere.seq, 40)

    reads = 0
    real_read = store._read

    async def counting_read(fn: Any) -> Any:
        nonlocal reads
        reads += 1
        return await real_read(fn)

    monkeypatch.setattr(store, "_read", counting_read)
    ctx = await store.receipt_context(room, bob, msgs[1].id)
    assert reads == 1
    assert ctx.message is not None and (ctx.message.id, ctx.message.seq) == (
        msgs[1].id,
        msgs[1].seq,
    )
    assert ctx.delivered is not None and (ctx.delivered.seq, ctx.delivered.at) == (msgs[2].seq, 10)
    assert ctx.seen is not None and (ctx.seen.message_id, ctx.seen.at) == (msgs[1].id, 20)

    # A message of another room is still returned (the caller reports other_room).
    ctx = await store.receipt_context(room, bob, elsewhere.id)
    assert ctx.message is not None and ctx.message.room_id == other
    assert ctx.seen is not None and ctx.seen.seq == msgs[1].seq

    # No message, no markers.
    ctx = await store.receipt_context(room, carol, "m_unknown")
    assert ctx.message is None and ctx.delivered is None
    assert ctx.seen is not None and ctx.seen.seq == msgs[0].seq
    ctx = await store.receipt_context(other, carol, msgs[0].id)
    assert (ctx.delivered, ctx.seen) == (None, None)
