"""A separate OS process that appends messages through its own store, for the multi-process store test.

``python -m tests.support.store_worker URL INDEX N ROOMS USERS`` (ROOMS and USERS comma-separated): opens a
store on URL, prints ``ready``, waits for a line on stdin (so that every worker starts at once), then sends N
messages spread over the rooms (each with its own idempotency key) plus one message per shared key (the
same keys in every worker), and prints a JSON summary: ``{"own": [...], "shared": {key: [id, created]},
"retries": n}``.
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

from chatterbox.store.sql import open_store

__all__ = ["main"]


async def _run(url: str, index: int, n: int, rooms: list[str], users: list[str]) -> dict[str, Any]:
    store = await open_store(url)
    try:
        print("ready", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
        own: list[dict[str, Any]] = []
        shared: dict[str, list[Any]] = {}
        for start in range(0, n, 50):
            calls = [
                store.append_message(
                    rooms[(index + i) % len(rooms)],
                    users[i % len(users)],
                    f"p{index} {i}",
                    f"p{index}-{i}",
                )
                for i in range(start, min(n, start + 50))
            ]
            key = f"shared-{start}"
            calls.append(store.append_message(rooms[start % len(rooms)], users[0], key, key))
            for message, created in await asyncio.gather(*calls):
                if message.client_msg_id == key:
                    shared[key] = [message.id, created]
                else:
                    assert created
                    own.append({"id": message.id, "room_id": message.room_id, "seq": message.seq})
        return {"own": own, "shared": shared, "retries": store.writer_stats.retries}
    finally:
        await store.close()


def main(argv: list[str]) -> None:
    """Entry point (see the module docstring)."""
    url, index, n, rooms, users = argv
    result = asyncio.run(_run(url, int(index), int(n), rooms.split(","), users.split(",")))
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
