"""Messages, edits, deletes, history and the event log against a real SQLite file."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

import pytest

from chatterbox.store.errors import MessageDeleted, MessageNotFound, RoomNotFound
from chatterbox.store.sql import SqlStore

pytestmark = pytest.mark.anyio

MakeUsers = Callable[..., Coroutine[Any, Any, list[str]]]


async def _room(store: SqlStore, owner: str) -> str:
    return (await store.create_room("public", "room", None, owner, owner)).id


async def test_append_message(store: SqlStore, make_users: MakeUsers) -> None:
    [alice] = await make_users("alice")
    room = await _room(store, alice)
    message, created = await store.append_message(room, alice, "hello", "client-id-0001")
    assert created
    assert message.id.startswith("m_") and message.seq == 2 and message.body == "hello"
    assert message.edited_at is None and message.deleted_at is None
    assert await store.get_message(message.id) == message
    assert await store.get_message("m_missing") is None
    [_, event] = await store.events_since(room, 0)
    assert (event.kind, event.seq, event.message_id, event.user_id) == (
        "message.created",
        2,
        message.id,
        alice,
    )
    assert event.message == message
    with pytest.raises(RoomNotFound):
        await store.append_message("r_nowhere", alice, "x")


async def test_resend_returns_the_original(store: SqlStore, make_users: MakeUsers) -> None:
    [alice] = await make_users("alice")
    room = await _room(store, alice)
    first, created = await store.append_message(room, alice, "hello", "abcdefgh")
    again, created_again = await store.append_message(room, alice, "hello (resent)", "abcdefgh")
    assert created and not created_again and again == first
    other, created_other = await store.append_message(room, alice, "new", "ijklmnop")
    assert created_other and other.seq == first.seq + 1


async def test_concurrent_duplicate_sends_store_one_message(
    store: SqlStore, make_users: MakeUsers
) -> None:
    [alice] = await make_users("alice")
    room = await _room(store, alice)
    results = await asyncio.gather(
        *(store.append_message(room, alice, "once", "same-client-id") for _ in range(20))
    )
    assert len({m.id for m, _ in results}) == 1
    assert sum(created for _, created in results) == 1
    events = await store.events_since(room, 0)
    assert [e.kind for e in events] == ["member.joined", "message.created"]
    page, _ = await store.history_page(room, None, 50)
    assert len(page) == 1


async def test_client_msg_id_is_per_author(store: SqlStore, make_users: MakeUsers) -> None:
    alice, bob = await make_users("alice", "bob")
    room = await _room(store, alice)
    a, _ = await store.append_message(room, alice, "a", "shared-key")
    b, created = await store.append_message(room, bob, "b", "shared-key")
    assert created and a.id != b.id


async def test_edit_keeps_history(store: SqlStore, make_users: MakeUsers) -> None:
    [alice] = await make_users("alice")
    room = await _room(store, alice)
    message, _ = await store.append_message(room, alice, "v1")
    edited, seq = await store.edit_message(message.id, "v2", at=1_000)
    assert seq == message.seq + 1
    assert (edited.body, edited.edited_at, edited.seq) == ("v2", 1_000, message.seq)
    edited2, seq2 = await store.edit_message(message.id, "v3")
    assert seq2 == seq + 1 and edited2.body == "v3"
    assert [e.body for e in await store.get_message_edits(message.id)] == ["v1", "v2"]
    assert await store.get_message(message.id) == edited2
    events = await store.events_since(room, message.seq)
    assert [(e.kind, e.seq) for e in events] == [
        ("message.updated", seq),
        ("message.updated", seq2),
    ]
    assert all(e.message == edited2 for e in events)  # current state
    with pytest.raises(MessageNotFound):
        await store.edit_message("m_missing", "x")


async def test_delete_purges_body_and_edits(store: SqlStore, make_users: MakeUsers) -> None:
    alice, bob = await make_users("alice", "bob")
    room = await _room(store, alice)
    message, _ = await store.append_message(room, bob, "secret v1")
    await store.edit_message(message.id, "secret v2")
    deleted, seq = await store.delete_message(message.id, at=5_000, by=alice)
    assert deleted.body is None and deleted.deleted_at == 5_000
    assert await store.get_message(message.id) == deleted
    assert await store.get_message_edits(message.id) == []
    [event] = await store.events_since(room, seq - 1)
    assert (event.kind, event.user_id, event.message) == ("message.deleted", alice, deleted)
    with pytest.raises(MessageDeleted):
        await store.edit_message(message.id, "back")
    with pytest.raises(MessageDeleted):
        await store.delete_message(message.id)
    page, _ = await store.history_page(room, None, 10)
    assert page == [deleted]  # stays as a placeholder


async def test_seq_is_contiguous_across_every_kind_of_event(
    store: SqlStore, make_users: MakeUsers
) -> None:
    alice, bob, carol = await make_users("alice", "bob", "carol")
    room = await _room(store, alice)
    m1, _ = await store.append_message(room, alice, "one")
    await store.add_member(room, bob)
    m2, _ = await store.append_message(room, bob, "two")
    await store.edit_message(m1.id, "one!")
    await store.add_member(room, carol)
    await store.delete_message(m2.id)
    await store.remove_member(room, bob, "left", bob)
    await asyncio.gather(*(store.append_message(room, carol, f"c{i}") for i in range(10)))
    events = await store.events_since(room, 0)
    assert [e.seq for e in events] == list(range(1, 19))
    assert [e.kind for e in events[:8]] == [
        "member.joined",
        "message.created",
        "member.joined",
        "message.created",
        "message.updated",
        "member.joined",
        "message.deleted",
        "member.left",
    ]
    room_now = await store.get_room(room)
    assert room_now is not None and room_now.last_seq == 18
    assert [e.seq for e in await store.events_since(room, 5, limit=3)] == [6, 7, 8]


async def test_history_paging_over_1000_messages(store: SqlStore, make_users: MakeUsers) -> None:
    alice, bob = await make_users("alice", "bob")
    room = await _room(store, alice)
    other = await _room(store, bob)
    await asyncio.gather(
        *(store.append_message(room, alice, f"msg {i}") for i in range(1000)),
        *(store.append_message(other, bob, f"noise {i}") for i in range(50)),
    )
    seen: list[int] = []
    before: int | None = None
    pages = 0
    while True:
        page, has_more = await store.history_page(room, before, 33)
        pages += 1
        assert page == sorted(page, key=lambda m: m.seq)  # oldest first
        assert all(m.room_id == room for m in page)
        seen = [m.seq for m in page] + seen
        if not has_more:
            break
        before = page[0].seq
    assert seen == list(range(2, 1002))  # seq 1 is the owner's member.joined
    assert pages == 31  # ceil(1000 / 33)
    latest, has_more = await store.history_page(room, None, 5)
    assert [m.seq for m in latest] == [997, 998, 999, 1000, 1001] and has_more
    exact, has_more = await store.history_page(room, 7, 5)
    assert [m.seq for m in exact] == [2, 3, 4, 5, 6] and not has_more
    with pytest.raises(ValueError, match="limit"):
        await store.history_page(room, None, 0)


async def test_history_uses_the_room_seq_index(store: SqlStore) -> None:
    from sqlalchemy import text

    query = "SELECT * FROM messages WHERE room_id = 'r_x' AND seq < 10 ORDER BY seq DESC LIMIT 51"
    async with store._engine.connect() as conn:  # white-box: the query plan
        if conn.dialect.name == "postgresql":
            # The table is empty: make the planner show the plan it would use for a large table.
            await conn.execute(text("SET LOCAL enable_seqscan = off"))
            plan = await conn.execute(text("EXPLAIN " + query))
            detail = " ".join(str(row[0]) for row in plan)
            assert "Index Scan Backward using uq_messages_room_id_seq" in detail, detail
            assert "Sort" not in detail  # the index order is used
            return
        plan = await conn.execute(text("EXPLAIN QUERY PLAN " + query))
        detail = " ".join(str(row[-1]) for row in plan)
    # SQLite names the UNIQUE(room_id, seq) index sqlite_autoindex_messages_N.
    assert detail.startswith("SEARCH messages USING INDEX"), detail
    assert "(room_id=? AND seq<?)" in detail
    assert "TEMP B-TREE" not in detail  # no sort: the index order is used


async def test_unread_count(store: SqlStore, make_users: MakeUsers) -> None:
    alice, bob = await make_users("alice", "bob")
    room = await _room(store, alice)
    await store.add_member(room, bob)  # seq 2
    for i in range(5):
        await store.append_message(room, alice, f"a{i}")  # seq 3..7
    own, _ = await store.append_message(room, bob, "mine")  # seq 8
    gone, _ = await store.append_message(room, alice, "oops")  # seq 9
    await store.delete_message(gone.id)
    assert await store.unread_count(room, bob, 0) == 5
    assert await store.unread_count(room, bob, 5) == 2
    assert await store.unread_count(room, bob, 0, cap=3) == 3
    assert await store.unread_count(room, alice, 0) == 1
    assert await store.unread_count(room, bob, own.seq) == 0


async def test_unread_counts_after_each_rooms_seen_marker(
    store: SqlStore, make_users: MakeUsers
) -> None:
    alice, bob = await make_users("alice", "bob")
    busy, quiet, empty = [await _room(store, alice) for _ in range(3)]
    for room in (busy, quiet, empty):
        await store.add_member(room, bob)
    sent = [(await store.append_message(busy, alice, f"b{i}"))[0] for i in range(6)]
    await store.append_message(busy, bob, "mine")
    gone, _ = await store.append_message(busy, alice, "oops")
    await store.delete_message(gone.id)
    await store.append_message(quiet, alice, "hello")
    await store.upsert_receipt(busy, bob, "seen", sent[1].id, sent[1].seq, 1)
    await store.upsert_receipt(busy, bob, "delivered", sent[5].id, sent[5].seq, 1)  # not seen

    assert await store.unread_counts(bob, [busy, quiet, empty, busy]) == {
        busy: 4,
        quiet: 1,
        empty: 0,
    }
    assert await store.unread_counts(bob, [busy, quiet], cap=2) == {busy: 2, quiet: 1}
    assert await store.unread_counts(alice, [busy, quiet]) == {busy: 1, quiet: 0}
    assert await store.unread_counts(bob, []) == {}
    # The same numbers as one unread_count per room after its seen marker.
    assert await store.unread_count(busy, bob, sent[1].seq) == 4


async def test_events_since_merges_messages_with_the_other_events(
    store: SqlStore, make_users: MakeUsers
) -> None:
    """A new message is its ``messages`` row only (no ``room_events`` row); every page of the log,
    whatever its start and size, is the same slice of one seq-ordered, gap-free sequence."""
    alice, bob = await make_users("alice", "bob")
    room = await _room(store, alice)  # seq 1: alice joins
    m1, _ = await store.append_message(room, alice, "one")  # 2
    m2, _ = await store.append_message(room, alice, "two")  # 3
    await store.add_member(room, bob)  # 4
    await store.edit_message(m1.id, "one!")  # 5
    m3, _ = await store.append_message(room, bob, "three")  # 6
    await store.delete_message(m2.id)  # 7
    await store.append_message(room, bob, "four")  # 8
    await store.remove_member(room, bob, "left", bob)  # 9
    full = await store.events_since(room, 0)
    assert [(e.seq, e.kind) for e in full] == [
        (1, "member.joined"),
        (2, "message.created"),
        (3, "message.created"),
        (4, "member.joined"),
        (5, "message.updated"),
        (6, "message.created"),
        (7, "message.deleted"),
        (8, "message.created"),
        (9, "member.left"),
    ]
    created = full[1]
    assert (created.message_id, created.user_id, created.payload) == (m1.id, alice, None)
    assert created.message is not None and created.message.body == "one!"  # current state
    assert full[2].message is not None and full[2].message.deleted_at is not None
    assert full[5].created_at == m3.created_at
    for after in range(10):
        for limit in (1, 2, 3, 5, 50):
            assert await store.events_since(room, after, limit) == full[after : after + limit]
    async with store._engine.connect() as conn:
        stored = (
            await conn.exec_driver_sql(
                "SELECT COUNT(*) FROM room_events WHERE kind = 'message.created'"
            )
        ).scalar_one()
    assert stored == 0
