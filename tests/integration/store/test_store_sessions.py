"""Sessions and refresh tokens against a real SQLite file."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable, Coroutine
from typing import Any

import pytest

from chatterbox.store.errors import NotFound, UserNotFound
from chatterbox.store.sql import SqlStore

pytestmark = pytest.mark.anyio

MakeUsers = Callable[..., Coroutine[Any, Any, list[str]]]
FAR = 10**13  # an expiry far in the future (ms)


def h(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


async def test_create_and_find_session(store: SqlStore, make_users: MakeUsers) -> None:
    [alice] = await make_users("alice")
    session = await store.create_session(alice, h("tok"), FAR, "Firefox", "127.0.0.1")
    assert session.id.startswith("s_")
    assert session.revoked_at is None and session.last_used_at == session.created_at
    assert await store.get_session_by_token_hash(h("tok")) == session
    assert await store.get_session(session.id) == session
    assert await store.get_session_by_token_hash(h("other")) is None
    with pytest.raises(UserNotFound):
        await store.create_session("u_nobody", h("x"), FAR)


async def test_touch_never_moves_backwards(store: SqlStore, make_users: MakeUsers) -> None:
    [alice] = await make_users("alice")
    session = await store.create_session(alice, h("tok"), FAR)
    later = session.last_used_at + 60_000
    await store.touch_session(session.id, later)
    await store.touch_session(session.id, later - 1)
    touched = await store.get_session(session.id)
    assert touched is not None and touched.last_used_at == later


async def test_revoke_session(store: SqlStore, make_users: MakeUsers) -> None:
    [alice] = await make_users("alice")
    session = await store.create_session(alice, h("tok"), FAR)
    token = await store.create_refresh_token(session.id, "fam1", h("r1"), FAR)
    assert await store.revoke_session(session.id) is True
    assert await store.revoke_session(session.id) is False
    assert await store.revoke_session("s_unknown") is False
    revoked = await store.get_session(session.id)
    assert revoked is not None and revoked.revoked_at is not None
    assert not revoked.is_active(revoked.created_at)
    # Its refresh tokens die with it.
    assert await store.mark_refresh_used(token.id) is False


async def test_revoke_user_sessions_except_current(store: SqlStore, make_users: MakeUsers) -> None:
    alice, bob = await make_users("alice", "bob")
    keep = await store.create_session(alice, h("a1"), FAR)
    others = [await store.create_session(alice, h(f"a{i}"), FAR) for i in range(2, 5)]
    bobs = await store.create_session(bob, h("b1"), FAR)
    revoked = await store.revoke_user_sessions(alice, except_session_id=keep.id)
    assert sorted(revoked) == sorted(s.id for s in others)
    assert [s.id for s in await store.list_sessions(alice)] == [keep.id]
    assert len(await store.list_sessions(alice, include_revoked=True)) == 4
    assert [s.id for s in await store.list_sessions(bob)] == [bobs.id]
    assert await store.revoke_user_sessions(alice) == [keep.id]
    assert await store.revoke_user_sessions(alice) == []


async def test_list_sessions_most_recent_first(store: SqlStore, make_users: MakeUsers) -> None:
    [alice] = await make_users("alice")
    first = await store.create_session(alice, h("1"), FAR)
    second = await store.create_session(alice, h("2"), FAR)
    await store.touch_session(first.id, first.last_used_at + 10_000)
    assert [s.id for s in await store.list_sessions(alice)] == [first.id, second.id]


async def test_refresh_token_is_single_use(store: SqlStore, make_users: MakeUsers) -> None:
    [alice] = await make_users("alice")
    session = await store.create_session(alice, h("tok"), FAR)
    token = await store.create_refresh_token(session.id, "fam1", h("r1"), FAR)
    assert token.id.startswith("rt_")
    assert await store.get_refresh_token(h("r1")) == token
    assert await store.mark_refresh_used(token.id) is True
    assert await store.mark_refresh_used(token.id) is False
    used = await store.get_refresh_token(h("r1"))
    assert used is not None and used.used_at is not None
    assert await store.mark_refresh_used("rt_unknown") is False
    with pytest.raises(NotFound):
        await store.create_refresh_token("s_unknown", "fam", h("r9"), FAR)


async def test_refresh_token_concurrent_use_succeeds_once(
    store: SqlStore, make_users: MakeUsers
) -> None:
    [alice] = await make_users("alice")
    session = await store.create_session(alice, h("tok"), FAR)
    token = await store.create_refresh_token(session.id, "fam1", h("r1"), FAR)
    results = await asyncio.gather(*(store.mark_refresh_used(token.id) for _ in range(20)))
    assert results.count(True) == 1


async def test_revoke_refresh_family(store: SqlStore, make_users: MakeUsers) -> None:
    [alice] = await make_users("alice")
    session = await store.create_session(alice, h("tok"), FAR)
    t1 = await store.create_refresh_token(session.id, "fam1", h("r1"), FAR)
    t2 = await store.create_refresh_token(session.id, "fam1", h("r2"), FAR)
    other = await store.create_refresh_token(session.id, "fam2", h("r3"), FAR)
    assert await store.mark_refresh_used(t1.id) is True
    assert await store.revoke_refresh_family("fam1") == 2
    assert await store.revoke_refresh_family("fam1") == 0
    assert await store.mark_refresh_used(t2.id) is False
    assert await store.mark_refresh_used(other.id) is True


async def test_purge_expired_sessions(store: SqlStore, make_users: MakeUsers) -> None:
    [alice] = await make_users("alice")
    old = await store.create_session(alice, h("old"), 1_000)
    await store.create_refresh_token(old.id, "fam-old", h("r-old"), 1_000)
    live = await store.create_session(alice, h("live"), FAR)
    live_token = await store.create_refresh_token(live.id, "fam", h("r-live"), FAR)
    assert await store.purge_expired_sessions(now=2_000) == 1
    assert await store.get_session(old.id) is None
    assert await store.get_refresh_token(h("r-old")) is None
    assert await store.get_refresh_token(h("r-live")) == live_token
