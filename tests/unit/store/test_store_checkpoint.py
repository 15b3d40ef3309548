"""Background WAL checkpoints: run after commits, off the writer, and never while idle."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from pathlib import Path

import pytest

from chatterbox.store.checkpoint import Checkpointer
from chatterbox.store.sql import open_store

pytestmark = pytest.mark.anyio


def wal_frames(path: Path) -> int:
    wal = path.with_name(path.name + "-wal")
    return (wal.stat().st_size - 32) // (4096 + 24) if wal.exists() and wal.stat().st_size else 0


async def test_commits_are_checkpointed_in_the_background_and_the_wal_starts_over(
    tmp_path: Path,
) -> None:
    path = tmp_path / "chatterbox.db"
    store = await open_store(f"sqlite+aiosqlite:///{path}", migrate=True)
    try:
        checkpointer = store._checkpointer
        assert checkpointer is not None
        checkpointer.interval_s = 0.05
        alice = (await store.create_user("alice", "Alice")).id
        room = (await store.create_room("public", "room", None, alice, alice)).id
        await asyncio.gather(*(store.append_message(room, alice, f"m{i}") for i in range(200)))
        # Only a checkpoint that starts now covers every append: one that ran or began during the
        # appends (every 50 ms) may have left later ones in the WAL, and its result must not count.
        after: list[tuple[int, int, int]] = []
        real = checkpointer.checkpoint

        def recorded() -> tuple[int, int, int]:
            result = real()
            after.append(result)
            return result

        checkpointer.checkpoint = recorded  # type: ignore[method-assign]
        checkpointer.committed()  # and make sure one more runs
        deadline = asyncio.get_running_loop().time() + 5
        while not after or after[-1][1] != after[-1][2]:
            assert asyncio.get_running_loop().time() < deadline, after
            await asyncio.sleep(0.05)
        assert after[-1][0] == 0  # not blocked
        # Everything is in the database file: a reader that ignores the WAL sees the messages.
        grown = wal_frames(path)
        assert grown > 0
        with sqlite3.connect(f"file:{path}?immutable=1", uri=True) as db:
            assert db.execute("SELECT count(*) FROM messages").fetchone() == (200,)
        # The next commit starts the WAL over instead of appending to it.
        for i in range(3):
            await store.append_message(room, alice, f"after {i}")
        with sqlite3.connect(path) as db:
            busy, log, _done = db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        assert busy == 0 and log < grown  # the WAL restarted from its first frame
        # Idle: no commit, no checkpoint.
        await asyncio.sleep(0.2)
        count = checkpointer.checkpoints
        await asyncio.sleep(0.3)
        assert checkpointer.checkpoints == count
    finally:
        await store.close()


async def test_a_failing_checkpoint_is_logged_and_the_next_one_runs(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    checkpointer = Checkpointer(tmp_path / "missing" / "chatterbox.db", interval_s=0.02)
    with caplog.at_level(logging.WARNING, logger="chatterbox.store.checkpoint"):
        checkpointer.committed()
        await asyncio.sleep(0.1)
        checkpointer.committed()
        await asyncio.sleep(0.1)
    await checkpointer.close()
    failures = [r for r in caplog.records if "checkpoint failed" in r.getMessage()]
    assert len(failures) == 2
    await checkpointer.close()  # idempotent
