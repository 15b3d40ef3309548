"""Rooms, DMs and memberships against a real SQLite file."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

import pytest
from sqlalchemy import event

from chatterbox.store.errors import AlreadyMember, NotMember, RoomNotFound, UserNotFound
from chatterbox.store.sql import SqlStore

pytestmark = pytest.mark.anyio

MakeUsers = Callable[..., Coroutine[Any, Any, list[str]]]


async def test_create_room_makes_owner_and_first_event(
    store: SqlStore, make_users: MakeUsers
) -> None:
    [alice] = await make_users("alice")
    room = await store.create_room("public", "lobby", "Say hi", alice, alice)
    assert room.id.startswith("r_") and room.last_seq == 1 and room.kind == "public"
    assert await store.get_room(room.id) == room
    membership = await store.get_membership(room.id, alice)
    assert membership is not None and membership.role == "owner"
    [event] = await store.events_since(room.id, 0)
    assert (event.seq, event.kind, event.user_id) == (1, "member.joined", alice)
    assert event.payload == {"role": "owner", "by": alice}
    assert event.message is None


async def test_create_room_validation(store: SqlStore, make_users: MakeUsers) -> None:
    [alice] = await make_users("alice")
    with pytest.raises(ValueError, match="dm"):
        await store.create_room("dm", "x", None, alice, alice)
    with pytest.raises(UserNotFound):
        await store.create_room("public", "x", None, None, "u_nobody")


async def test_list_rooms(store: SqlStore, make_users: MakeUsers) -> None:
    alice, bob = await make_users("alice", "bob")
    zeta = await store.create_room("public", "zeta", None, alice, alice)
    alpha = await store.create_room("public", "alpha", None, bob, bob)
    secret = await store.create_room("private", "secret", None, alice, alice)
    dm, _ = await store.get_or_create_dm(alice, bob)
    assert [r.room.id for r in await store.list_public_rooms()] == [alpha.id, zeta.id]
    mine = await store.list_user_rooms(alice)
    assert [(r.room.id, r.role) for r in mine] == [
        (zeta.id, "owner"),
        (secret.id, "owner"),
        (dm.id, "member"),
    ]
    await store.append_message(zeta.id, alice, "hi")
    [z, *_] = await store.list_user_rooms(alice)
    assert z.room.last_seq == 2


async def test_dm_is_unique_per_pair(store: SqlStore, make_users: MakeUsers) -> None:
    alice, bob, carol = await make_users("alice", "bob", "carol")
    room, created = await store.get_or_create_dm(alice, bob)
    assert created and room.kind == "dm" and room.last_seq == 2
    again, created_again = await store.get_or_create_dm(bob, alice)
    assert again == room and not created_again
    assert room.dm_peer(alice) == bob and room.dm_peer(bob) == alice
    members = await store.list_members(room.id)
    assert sorted(m.user.id for m in members) == sorted([alice, bob])
    assert all(m.membership.role == "member" for m in members)
    other, _ = await store.get_or_create_dm(alice, carol)
    assert other.id != room.id


async def test_concurrent_get_or_create_dm(store: SqlStore, make_users: MakeUsers) -> None:
    alice, bob = await make_users("alice", "bob")
    results = await asyncio.gather(
        *(store.get_or_create_dm(*((alice, bob) if i % 2 else (bob, alice))) for i in range(20))
    )
    assert len({room.id for room, _ in results}) == 1
    assert sum(created for _, created in results) == 1
    assert len(await store.list_members(results[0][0].id)) == 2
    assert len([r for r in await store.list_user_rooms(alice) if r.room.kind == "dm"]) == 1


async def test_dm_validation(store: SqlStore, make_users: MakeUsers) -> None:
    [alice] = await make_users("alice")
    with pytest.raises(ValueError, match="two different users"):
        await store.get_or_create_dm(alice, alice)
    with pytest.raises(UserNotFound):
        await store.get_or_create_dm(alice, "u_nobody")


async def test_ensure_default_room_is_idempotent(store: SqlStore) -> None:
    first = await store.ensure_default_room()
    assert (first.id, first.name, first.kind, first.last_seq) == (
        "r_general",
        "general",
        "public",
        0,
    )
    results = await asyncio.gather(*(store.ensure_default_room() for _ in range(5)))
    assert all(r == first for r in results)
    [general] = await store.list_public_rooms()
    assert (general.room, general.member_count) == (first, 0)


async def test_add_and_remove_members(store: SqlStore, make_users: MakeUsers) -> None:
    alice, bob = await make_users("alice", "bob")
    room = await store.create_room("private", "team", None, alice, alice)
    joined = await store.add_member(room.id, bob, "member", by=alice)
    assert (joined.seq, joined.kind, joined.user_id) == (2, "member.joined", bob)
    assert joined.payload == {"role": "member", "by": alice}
    with pytest.raises(AlreadyMember):
        await store.add_member(room.id, bob)
    assert [m.user.username for m in await store.list_members(room.id)] == ["alice", "bob"]

    left = await store.remove_member(room.id, bob, reason="kicked", by=alice)
    assert (left.seq, left.kind, left.payload) == (
        3,
        "member.left",
        {"reason": "kicked", "by": alice},
    )
    assert await store.get_membership(room.id, bob) is None
    with pytest.raises(NotMember):
        await store.remove_member(room.id, bob)
    room_now = await store.get_room(room.id)
    assert room_now is not None and room_now.last_seq == 3
    assert [e.seq for e in await store.events_since(room.id, 0)] == [1, 2, 3]


async def test_membership_errors(store: SqlStore, make_users: MakeUsers) -> None:
    [alice] = await make_users("alice")
    with pytest.raises(RoomNotFound):
        await store.add_member("r_nowhere", alice)
    room = await store.create_room("public", "x", None, alice, alice)
    with pytest.raises(UserNotFound):
        await store.add_member(room.id, "u_nobody")
    with pytest.raises(RoomNotFound):
        await store.list_members("r_nowhere")
    with pytest.raises(ValueError, match="role"):
        await store.add_member(room.id, alice, "king")  # type: ignore[arg-type]


async def test_set_role(store: SqlStore, make_users: MakeUsers) -> None:
    alice, bob = await make_users("alice", "bob")
    room = await store.create_room("public", "x", None, alice, alice)
    await store.add_member(room.id, bob)
    updated = await store.set_role(room.id, bob, "admin")
    assert updated.role == "admin"
    assert await store.get_membership(room.id, bob) == updated
    with pytest.raises(NotMember):
        await store.set_role(room.id, "u_nobody", "admin")
    room_now = await store.get_room(room.id)
    assert room_now is not None and room_now.last_seq == 2  # a role change is not a room event


async def _public_counts(store: SqlStore) -> dict[str, int]:
    return {r.room.id: r.member_count for r in await store.list_public_rooms()}


async def test_public_rooms_carry_their_member_counts(
    store: SqlStore, make_users: MakeUsers
) -> None:
    alice, bob, carol, dave = await make_users("alice", "bob", "carol", "dave")
    empty = await store.ensure_default_room()  # no owner: 0 members
    solo = await store.create_room("public", "solo", None, alice, alice)
    crowd = await store.create_room("public", "crowd", None, alice, alice)
    for user in (bob, carol, dave):
        await store.add_member(crowd.id, user)
    # Members of private rooms and DMs count nowhere, and those rooms are not listed.
    secret = await store.create_room("private", "secret", None, bob, bob)
    await store.add_member(secret.id, carol)
    await store.get_or_create_dm(alice, dave)
    listed = await store.list_public_rooms()
    assert [r.room.name for r in listed] == ["crowd", "general", "solo"]
    assert [r.room for r in listed] == [await store.get_room(r.room.id) for r in listed]
    assert await _public_counts(store) == {empty.id: 0, solo.id: 1, crowd.id: 4}

    await store.remove_member(crowd.id, carol, reason="left")
    await store.remove_member(solo.id, alice, reason="left")
    await store.add_member(empty.id, dave)
    assert await _public_counts(store) == {empty.id: 1, solo.id: 0, crowd.id: 3}
    for room_id, count in (await _public_counts(store)).items():
        assert count == len(await store.list_members(room_id))


async def test_public_rooms_are_listed_in_one_statement(
    store: SqlStore, make_users: MakeUsers
) -> None:
    [alice, bob] = await make_users("alice", "bob")
    statements: list[str] = []
    # White-box: count what reaches the database, through the writer's engine or the readers'.
    engines = [store._engine.sync_engine] + ([store._reads.engine] if store._reads else [])

    def record(_conn: object, _cursor: object, sql: str, *_: object) -> None:
        if sql.lstrip().upper().startswith("SELECT"):
            statements.append(sql)

    async def selects_to_list() -> int:
        statements.clear()
        for engine in engines:
            event.listen(engine, "before_cursor_execute", record)
        try:
            await store.list_public_rooms()
        finally:
            for engine in engines:
                event.remove(engine, "before_cursor_execute", record)
        return len(statements)

    await store.create_room("public", "first", None, alice, alice)
    assert await selects_to_list() == 1
    for i in range(10):
        room = await store.create_room("public", f"room{i}", None, alice, alice)
        await store.add_member(room.id, bob)
    assert await selects_to_list() == 1
    assert len(await store.list_public_rooms()) == 11
