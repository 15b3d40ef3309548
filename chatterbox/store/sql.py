"""The SQLAlchemy Core implementation of :class:`~chatterbox.store.base.Store`.

Split by concern: :mod:`.sql_users`, :mod:`.sql_sessions`, :mod:`.sql_rooms`, :mod:`.sql_messages`,
:mod:`.sql_receipts`; writes go through the group-commit :mod:`.writer`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING

from chatterbox.domain.clock import now_ms
from chatterbox.store.base import Store
from chatterbox.store.engine import Synchronous, create_engine
from chatterbox.store.sql_messages import MessagesMixin
from chatterbox.store.sql_receipts import ReceiptsMixin
from chatterbox.store.sql_rooms import RoomsMixin
from chatterbox.store.sql_sessions import SessionsMixin
from chatterbox.store.sql_users import UsersMixin
from chatterbox.store.writer import WriterStats

__all__ = ["SqlStore", "open_store"]


class SqlStore(UsersMixin, SessionsMixin, RoomsMixin, MessagesMixin, ReceiptsMixin):
    """The store on SQLAlchemy Core (SQLite via aiosqlite; PostgreSQL via asyncpg)."""

    @property
    def writer_stats(self) -> WriterStats:
        """Group-commit counters (transactions committed, jobs, largest batch...)."""
        return self._writer.stats

    async def close(self) -> None:
        """Run every queued write, stop the writer, dispose of the engine. Idempotent."""
        try:
            await self._writer.close()
        finally:
            if self._checkpointer is not None:
                await self._checkpointer.close()
            if self._reads is not None:
                await asyncio.to_thread(self._reads.close)
            await self._engine.dispose()


async def open_store(
    database_url: str,
    *,
    migrate: bool = False,
    synchronous: Synchronous = "NORMAL",
    clock: Callable[[], int] = now_ms,
    max_batch: int = 256,
) -> SqlStore:
    """Create the engine and the store for ``database_url``; with ``migrate``, upgrade the schema first.

    Close it with ``await store.close()``.
    """
    if migrate:
        from chatterbox.store.migrate import upgrade_async

        await upgrade_async(database_url)
    engine = create_engine(database_url, synchronous=synchronous)
    store = SqlStore(engine, clock=clock, max_batch=max_batch)
    return store


if TYPE_CHECKING:
    _conforms: type[Store] = SqlStore  # mypy checks that SqlStore implements the Store protocol
