"""Users and credentials against a real SQLite file."""

from __future__ import annotations

import asyncio

import pytest

from chatterbox.store.errors import UsernameTaken, UserNotFound
from chatterbox.store.sql import SqlStore

pytestmark = pytest.mark.anyio


async def test_create_and_get_user(store: SqlStore) -> None:
    user = await store.create_user("Alice", "Alice Martin", "argon2-hash")
    assert user.id.startswith("u_")
    assert user.username == "Alice"
    assert await store.get_user(user.id) == user
    assert await store.get_user("u_missing") is None
    assert await store.get_password_hash(user.id) == "argon2-hash"


async def test_usernames_are_case_insensitive(store: SqlStore) -> None:
    alice = await store.create_user("Alice", "Alice", "h")
    for name in ("alice", "ALICE", "aLiCe"):
        with pytest.raises(UsernameTaken):
            await store.create_user(name, "Impostor", "h")
        assert await store.get_user_by_username(name) == alice
    assert await store.get_user_by_username("bob") is None


async def test_concurrent_duplicate_usernames_create_one(store: SqlStore) -> None:
    results = await asyncio.gather(
        *(store.create_user("carol" if i % 2 else "CAROL", "C", "h") for i in range(10)),
        return_exceptions=True,
    )
    created = [r for r in results if not isinstance(r, BaseException)]
    assert len(created) == 1
    assert all(isinstance(r, UsernameTaken) for r in results if r not in created)


async def test_get_users_batch(store: SqlStore) -> None:
    ids = [(await store.create_user(f"user{i}", f"User {i}", None)).id for i in range(5)]
    found = await store.get_users([*ids, "u_unknown", ids[0]])
    assert set(found) == set(ids)
    assert found[ids[3]].username == "user3"
    assert await store.get_users([]) == {}


async def test_search_users_by_prefix(store: SqlStore) -> None:
    for name in ("alice", "Alicia", "albert", "bob", "al_x", "alzz"):
        await store.create_user(name, name, None)
    names = [u.username for u in await store.search_users("ALI")]
    assert names == ["alice", "Alicia"]
    assert [u.username for u in await store.search_users("al", limit=2)] == ["al_x", "albert"]
    # '_' is matched literally, not as a LIKE wildcard.
    assert [u.username for u in await store.search_users("al_")] == ["al_x"]
    assert await store.search_users("zzz") == []
    assert await store.search_users("a", limit=0) == []


async def test_password_hash(store: SqlStore) -> None:
    user = await store.create_user("dave", "Dave", None)
    assert await store.get_password_hash(user.id) is None
    await store.set_password_hash(user.id, "first")
    assert await store.get_password_hash(user.id) == "first"
    await store.set_password_hash(user.id, "second")
    assert await store.get_password_hash(user.id) == "second"
    with pytest.raises(UserNotFound):
        await store.set_password_hash("u_nobody", "x")
