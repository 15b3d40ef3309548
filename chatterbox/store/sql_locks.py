"""Room locks for several writers on one PostgreSQL database (several server processes).

Every durable room event takes the room's next seq with ``UPDATE rooms SET last_seq = last_seq + n … RETURNING``
(:func:`chatterbox.store.sql_base.next_seq`, the append group's reservation). On PostgreSQL that UPDATE takes the
room row's lock until the transaction ends, so the writers of one room, in any process, run one after the other:
no two transactions get the same seq, a rolled-back transaction gives its seqs back, and the transactions of a
room commit in seq order (a reader never sees seq n+1 without n).

A group-commit batch touches several rooms. If two processes locked the same rooms in different orders they
would deadlock, so before running a batch the writer calls :func:`lock_rooms`, which locks **every room the
batch will touch, sorted by id, in one statement** (``SELECT … ORDER BY id COLLATE "C" FOR NO KEY UPDATE``;
PostgreSQL sorts before it locks, so the rows are locked in that order). A transaction
waiting for a room lock then holds only room locks that sort before it, which rules out a cycle. ``FOR NO KEY
UPDATE`` is the lock the UPDATE itself takes: it does not block the foreign-key checks (``FOR KEY SHARE``) of
other transactions inserting messages, events or receipts that point at the room.

Jobs declare the rooms they touch: a job object with a ``room_ids`` attribute (:class:`RoomScoped`, the
append and receipt jobs), or with ``message_ids`` for jobs that know only a message (edits and deletes: the
message's room never changes, so it is looked up first). A job that declares nothing still works: it takes its
room lock when it runs, and a deadlock that may cause is retried by the writer.

Receipts declare their room too: the receipt writes of a room are then serialized with everything else in the
room, so the receipt job's read of the current markers is exact and its ``moved`` results are correct across
processes.

SQLite needs none of this (``BEGIN IMMEDIATE`` serializes all writers of the file): the hook is not installed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from chatterbox.store import tables as t

__all__ = ["RoomScoped", "lock_rooms", "rooms_of"]

T = TypeVar("T")

_CHUNK = 1000  # ids per IN list


@dataclass(frozen=True, slots=True)
class RoomScoped(Generic[T]):
    """A write job with the rooms (or messages, whose rooms) it touches, so the writer can lock them first."""

    fn: Callable[[AsyncConnection], Awaitable[T]]
    room_ids: tuple[str, ...] = ()
    message_ids: tuple[str, ...] = ()

    async def __call__(self, conn: AsyncConnection) -> T:
        """Run the job."""
        return await self.fn(conn)


def _declared(jobs: Iterable[object]) -> tuple[set[str], set[str]]:
    rooms: set[str] = set()
    messages: set[str] = set()
    for job in jobs:
        rooms.update(getattr(job, "room_ids", ()))
        messages.update(getattr(job, "message_ids", ()))
    return rooms, messages


async def rooms_of(conn: AsyncConnection, jobs: Sequence[object]) -> list[str]:
    """The sorted ids of the rooms the jobs declare (directly, or through their messages)."""
    rooms, messages = _declared(jobs)
    ordered = sorted(messages)
    for start in range(0, len(ordered), _CHUNK):
        chunk = ordered[start : start + _CHUNK]
        stmt = select(t.messages.c.room_id).where(t.messages.c.id.in_(chunk)).distinct()
        rooms.update(str(r) for r in (await conn.execute(stmt)).scalars())
    return sorted(rooms)


async def lock_rooms(conn: AsyncConnection, jobs: Sequence[Any]) -> None:
    """Lock the rows of every room the jobs touch, in id order (the writer's ``prepare`` hook on PostgreSQL)."""
    rooms = await rooms_of(conn, jobs)
    # One total order for every process: code-point order, which is Python's str order and PostgreSQL's
    # "C" collation (whatever the database's default collation). Chunks follow it too.
    order = t.rooms.c.id.collate("C") if conn.dialect.name == "postgresql" else t.rooms.c.id
    for start in range(0, len(rooms), _CHUNK):
        chunk = rooms[start : start + _CHUNK]
        await conn.execute(
            select(t.rooms.c.id)
            .where(t.rooms.c.id.in_(chunk))
            .order_by(order)
            .with_for_update(key_share=True)
        )
