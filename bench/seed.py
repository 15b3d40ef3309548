"""Bench-only seeding: users, sessions, rooms and messages written straight through the store.

Registering through the REST API costs an argon2 hash (~50 ms) per user; the benchmarks need
thousands of users, so this module creates them with :meth:`Store.create_user` (no password),
gives each a session whose bearer token is known (:func:`hash_token` + :meth:`Store.create_session`,
exactly what the login does), puts them in rooms with :meth:`Store.create_room` /
:meth:`Store.add_member`, and stores messages with :meth:`Store.append_message` (the production
append path, group-committed by the store's writer).

Usage (the runner calls :func:`seed` directly)::

    python bench/seed.py --db /tmp/x/chatterbox.db --plan plan.json --out seeded.json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, TypeVar

from chatterbox.config import Settings
from chatterbox.domain.clock import now_ms
from chatterbox.service.sessions import hash_token
from chatterbox.store.sql import SqlStore, open_store
from chatterbox.store.sql_append import AppendJob

T = TypeVar("T")
_CHUNK = 2000  # concurrent store calls in flight (the writer batches them per transaction)
_APPEND_BATCH = 10_000  # messages per transaction when seeding history
timings: dict[str, float] = {}


@dataclass
class RoomPlan:
    """``rooms`` rooms, each with ``members`` new users and ``messages`` stored messages."""

    key: str
    members: int
    messages: int = 0
    rooms: int = 1


@dataclass
class SeededRoom:
    """A created room: its id, ``last_seq``, and the bearer tokens of its members, in order."""

    room_id: str
    last_seq: int
    tokens: list[str] = field(default_factory=list)


async def _chunked(items: Iterable[T], fn: Callable[[T], Awaitable[Any]]) -> list[Any]:
    out: list[Any] = []
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) >= _CHUNK:
            out.extend(await asyncio.gather(*(fn(i) for i in batch)))
            batch = []
    if batch:
        out.extend(await asyncio.gather(*(fn(i) for i in batch)))
    return out


async def _seed_plan(
    store: SqlStore, settings: Settings, plan: RoomPlan, tag: str
) -> list[SeededRoom]:
    expires = int(time.time() * 1000) + 30 * 24 * 3600 * 1000

    async def make_user(i: int) -> tuple[str, str]:
        user = await store.create_user(f"b{tag}{plan.key}x{i}", f"Bench {plan.key} {i}")
        token = secrets.token_urlsafe(32)
        await store.create_session(user.id, hash_token(settings, token), expires)
        return user.id, token

    t0 = time.perf_counter()
    users: list[tuple[str, str]] = await _chunked(range(plan.members * plan.rooms), make_user)
    timings[f"{plan.key}.users"] = time.perf_counter() - t0
    groups = [users[r * plan.members : (r + 1) * plan.members] for r in range(plan.rooms)]

    async def make_room(r: int) -> str:
        owner = groups[r][0][0]
        room = await store.create_room("public", f"bench-{tag}-{plan.key}-{r}", None, owner, owner)
        return room.id

    t0 = time.perf_counter()
    room_ids: list[str] = await _chunked(range(plan.rooms), make_room)

    async def join(pair: tuple[str, str]) -> None:
        await store.add_member(pair[0], pair[1])

    pairs = [(room_ids[r], u) for r in range(plan.rooms) for u, _ in groups[r][1:]]
    await _chunked(pairs, join)
    timings[f"{plan.key}.rooms"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    out: list[SeededRoom] = []
    for r, room_id in enumerate(room_ids):
        authors = [u for u, _ in groups[r]]
        for start in range(0, plan.messages, _APPEND_BATCH):
            jobs = [
                AppendJob(
                    room_id, authors[i % len(authors)], f"seeded {i} " + "x" * 60, None, now_ms
                )
                for i in range(start, min(plan.messages, start + _APPEND_BATCH))
            ]
            # The production append path (AppendJob.run_batch, what the group-commit writer
            # runs), in bigger transactions than the writer's 256 jobs: only the batch differs.
            async with store._engine.begin() as conn:
                await AppendJob.run_batch(conn, jobs)
        stored = await store.get_room(room_id)
        last_seq = stored.last_seq if stored is not None else 0
        out.append(SeededRoom(room_id, last_seq, [tok for _, tok in groups[r]]))
    timings[f"{plan.key}.messages"] = time.perf_counter() - t0
    return out


async def seed(
    database_url: str, plans: Sequence[RoomPlan], settings: Settings
) -> dict[str, list[SeededRoom]]:
    """Create every planned room with its members, sessions and messages; returns them by key."""
    store = await open_store(database_url, synchronous="NORMAL", max_batch=1024)
    tag = secrets.token_hex(3)
    try:
        await store.ensure_default_room("r_general", "general")
        out: dict[str, list[SeededRoom]] = {}
        for plan in plans:
            out[plan.key] = await _seed_plan(store, settings, plan, tag)
        return out
    finally:
        await store.close()


def main() -> None:
    """Seed from a JSON plan (``[{"key", "members", "messages"}]``); print the result as JSON."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", required=True, help="SQLite file (already migrated)")
    parser.add_argument("--plan", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--secret", default="bench-secret-0123456789")
    args = parser.parse_args()
    with open(args.plan) as f:
        plans = [RoomPlan(**p) for p in json.load(f)]
    settings = Settings(env="test", secret_key=args.secret)
    t0 = time.perf_counter()
    rooms = asyncio.run(seed(f"sqlite+aiosqlite:///{args.db}", plans, settings))
    with open(args.out, "w") as f:
        json.dump({k: [asdict(r) for r in v] for k, v in rooms.items()}, f)
    print(f"seeded {len(rooms)} rooms in {time.perf_counter() - t0:.1f} s: {timings}")


if __name__ == "__main__":
    main()
