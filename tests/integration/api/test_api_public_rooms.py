"""``GET /api/rooms/public``: the directory's shape and member counts, and a cost that does not grow
with the number of rooms (no query per room)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event

from chatterbox.store.sql import SqlStore
from tests.integration.api.conftest import InProcess, bearer, register

pytestmark = pytest.mark.anyio


async def directory(app: InProcess, account: dict[str, Any]) -> dict[str, dict[str, Any]]:
    r = await app.client.get("/api/rooms/public", headers=bearer(account))
    assert r.status_code == 200, r.text
    return {room["id"]: room for room in r.json()}


async def new_room(app: InProcess, owner: dict[str, Any], kind: str, name: str) -> str:
    r = await app.client.post(
        "/api/rooms", json={"kind": kind, "name": name, "topic": "t"}, headers=bearer(owner)
    )
    assert r.status_code == 201, r.text
    room_id: str = r.json()["id"]
    return room_id


@contextmanager
def counting_statements(store: SqlStore) -> Iterator[list[str]]:
    """Every SQL statement sent to the database inside the block (white-box: the store's engines,
    the writer's and, on SQLite, the readers')."""
    statements: list[str] = []
    engines = [store._engine.sync_engine] + ([store._reads.engine] if store._reads else [])

    def record(_conn: object, _cursor: object, sql: str, *_: object) -> None:
        statements.append(sql)

    for engine in engines:
        event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", record)


async def test_directory_shape_and_member_counts(in_process: InProcess) -> None:
    app = in_process
    alice, bob, carol = [await register(app, name) for name in ("alice", "bob", "carol")]
    crowd = await new_room(app, alice, "public", "crowd")
    solo = await new_room(app, alice, "public", "solo")
    await new_room(app, alice, "private", "hidden")
    for who in (bob, carol):
        r = await app.client.post(f"/api/rooms/{crowd}/join", headers=bearer(who))
        assert r.status_code == 200, r.text

    listed = await directory(app, bob)
    assert list(listed) == [crowd, "r_general", solo]  # by name; private rooms left out
    assert listed[crowd] == {
        "id": crowd,
        "name": "crowd",
        "topic": "t",
        "member_count": 3,
        "is_member": True,
        "joinable": False,
    }
    assert listed[solo] == {
        "id": solo,
        "name": "solo",
        "topic": "t",
        "member_count": 1,
        "is_member": False,
        "joinable": True,
    }
    assert listed["r_general"]["member_count"] == 3  # every new account joins general

    for room_id, who in ((crowd, bob), (solo, alice)):
        r = await app.client.post(f"/api/rooms/{room_id}/leave", headers=bearer(who))
        assert r.status_code == 204, r.text
    listed = await directory(app, bob)
    assert {room_id: r["member_count"] for room_id, r in listed.items()} == {
        crowd: 2,
        "r_general": 3,
        solo: 0,
    }
    assert not listed[crowd]["is_member"] and listed[crowd]["joinable"]


async def test_directory_queries_do_not_grow_with_the_number_of_rooms(
    in_process: InProcess,
) -> None:
    app = in_process
    assert isinstance(app.store, SqlStore)
    alice, bob = await register(app, "alice"), await register(app, "bob")
    await new_room(app, alice, "public", "first")
    await directory(app, bob)  # warm-up: the session was just touched, caches filled

    with counting_statements(app.store) as few:
        assert len(await directory(app, bob)) == 2
    for i in range(10):
        room_id = await new_room(app, alice, "public", f"room {i}")
        await app.client.post(f"/api/rooms/{room_id}/join", headers=bearer(bob))
    with counting_statements(app.store) as many:
        assert len(await directory(app, bob)) == 12
    assert len(many) == len(few), many
