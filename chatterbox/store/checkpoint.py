"""SQLite WAL checkpoints off the write path.

With ``journal_mode=WAL`` SQLite copies committed pages back into the database file in a
*checkpoint*, by default inside the commit that makes the WAL reach ``wal_autocheckpoint`` pages.
That commit then also writes and fsyncs the database file: ~30 ms on this machine's disk, during
which the group-commit writer (hence every ``message.send`` waiting for its ack) is stalled —
the latency spikes in ``docs/benchmarks.md``.

:class:`Checkpointer` runs ``PRAGMA wal_checkpoint(PASSIVE)`` on a connection of its own, in a
worker thread, about once a second while there are new commits. A passive checkpoint takes no
lock that writers or readers wait for; once it has copied the whole WAL, the writer's next
transaction starts the WAL over from its beginning, so the WAL stays small and the writer's own
automatic checkpoint (still configured, :data:`~chatterbox.store.engine.WAL_AUTOCHECKPOINT_PAGES`)
is only a safety net for sustained write loads where the WAL never drains in between.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from pathlib import Path

__all__ = ["Checkpointer"]

_log = logging.getLogger(__name__)


class Checkpointer:
    """Background passive checkpoints of one SQLite database (module docstring)."""

    def __init__(self, path: Path, *, interval_s: float = 1.0, busy_timeout_ms: int = 5000):
        self.path = path
        self.interval_s = interval_s
        self.busy_timeout_ms = busy_timeout_ms
        self.checkpoints = 0
        """Checkpoints run (for tests and logs)."""
        self.last: tuple[int, int, int] | None = None
        """The last checkpoint's (busy, WAL frames, frames checkpointed)."""
        self._dirty = False
        self._task: asyncio.Task[None] | None = None
        self._db: sqlite3.Connection | None = None

    def committed(self) -> None:
        """A transaction committed: checkpoint within ``interval_s`` (starts the task)."""
        self._dirty = True
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(
                self._run(), name="chatterbox-checkpointer"
            )

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval_s)
            if not self._dirty:
                continue
            self._dirty = False
            try:
                await asyncio.to_thread(self.checkpoint)
            except Exception as exc:  # the writer's automatic checkpoint still bounds the WAL
                _log.warning("background WAL checkpoint failed: %r", exc)

    def checkpoint(self) -> tuple[int, int, int]:
        """Run one passive checkpoint now (blocking: call it from a worker thread)."""
        if self._db is None:
            db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            db.execute(f"PRAGMA busy_timeout={int(self.busy_timeout_ms)}")
            self._db = db
        row = self._db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        self.checkpoints += 1
        self.last = (int(row[0]), int(row[1]), int(row[2]))
        return self.last

    async def close(self) -> None:
        """Stop the task and close the connection."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        db, self._db = self._db, None
        if db is not None:
            await asyncio.to_thread(db.close)
