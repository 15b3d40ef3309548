"""The append-message job: alone, or many at once with set-based statements (group commit's fast path).

A group of N appends costs a handful of statements instead of 4·N: one idempotency lookup, one
``UPDATE rooms … RETURNING`` that reserves a block of seqs for every room involved, and one
multi-row insert each into ``messages`` and ``room_events``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import case, insert, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncConnection

from chatterbox.domain.ids import new_message_id
from chatterbox.store import tables as t
from chatterbox.store.errors import RoomNotFound
from chatterbox.store.records import MessageRecord
from chatterbox.store.sql_base import next_seq, row_to_message
from chatterbox.store.writer import BatchJob, Outcome

__all__ = ["AppendJob"]

AppendResult = tuple[MessageRecord, bool]


def _message_row(m: MessageRecord) -> dict[str, Any]:
    return {
        "id": m.id,
        "room_id": m.room_id,
        "seq": m.seq,
        "author_id": m.author_id,
        "body": m.body,
        "client_msg_id": m.client_msg_id,
        "created_at": m.created_at,
    }


def _event_row(m: MessageRecord) -> dict[str, Any]:
    return {
        "room_id": m.room_id,
        "seq": m.seq,
        "kind": "message.created",
        "message_id": m.id,
        "user_id": m.author_id,
        "payload": None,
        "created_at": m.created_at,
    }


@dataclass(eq=False, slots=True)
class AppendJob(BatchJob[AppendResult]):
    """Append one message, idempotent on ``(author_id, client_msg_id)``."""

    room_id: str
    author_id: str
    body: str
    client_msg_id: str | None
    clock: Callable[[], int]

    @property
    def room_ids(self) -> tuple[str, ...]:
        """The room whose seq this job takes (locked first on PostgreSQL: :mod:`.sql_locks`)."""
        return (self.room_id,)

    def _new(self, seq: int, at: int) -> MessageRecord:
        return MessageRecord(
            id=new_message_id(),
            room_id=self.room_id,
            seq=seq,
            author_id=self.author_id,
            body=self.body,
            client_msg_id=self.client_msg_id,
            created_at=at,
            edited_at=None,
            deleted_at=None,
        )

    async def __call__(self, conn: AsyncConnection) -> AppendResult:
        """Append this message alone."""
        if self.client_msg_id is not None:
            found = await _originals(conn, [(self.author_id, self.client_msg_id)])
            if found:
                return next(iter(found.values())), False
        message = self._new(await next_seq(conn, self.room_id), self.clock())
        await conn.execute(insert(t.messages).values(_message_row(message)))
        await conn.execute(insert(t.room_events).values(_event_row(message)))
        return message, True

    @classmethod
    async def run_batch(cls, conn: AsyncConnection, jobs: Sequence[Any]) -> list[Outcome]:
        """Append several messages in order, sharing statements (see the module docstring)."""
        appends = cast(Sequence[AppendJob], jobs)
        keys = {(j.author_id, j.client_msg_id) for j in appends if j.client_msg_id is not None}
        originals = await _originals(conn, sorted(keys)) if keys else {}

        # Which jobs create a message: not a resend of a stored one, nor of an earlier job here.
        creators: list[int] = []
        first_of: dict[tuple[str, str], int] = {}
        resend_of: dict[int, int] = {}
        for i, job in enumerate(appends):
            if job.client_msg_id is None:
                creators.append(i)
                continue
            key = (job.author_id, job.client_msg_id)
            if key in originals:
                continue
            if key in first_of:
                resend_of[i] = first_of[key]
            else:
                first_of[key] = i
                creators.append(i)

        counts = Counter(appends[i].room_id for i in creators)
        last = await _reserve_seqs(conn, counts) if counts else {}
        next_seq_of = {room: last[room] - n for room, n in counts.items() if room in last}
        at = appends[0].clock() if appends else 0
        created: dict[int, MessageRecord] = {}
        for i in creators:
            room = appends[i].room_id
            if room in next_seq_of:
                next_seq_of[room] += 1
                created[i] = appends[i]._new(next_seq_of[room], at)
        if created:
            rows = list(created.values())
            await conn.execute(insert(t.messages), [_message_row(m) for m in rows])
            await conn.execute(insert(t.room_events), [_event_row(m) for m in rows])

        outcomes: list[Outcome] = []
        for i, job in enumerate(appends):
            creator = resend_of.get(i, i)
            if creator in created:
                outcomes.append(Outcome(True, (created[creator], creator == i)))
            elif job.client_msg_id is not None and (job.author_id, job.client_msg_id) in originals:
                outcomes.append(
                    Outcome(True, (originals[(job.author_id, job.client_msg_id)], False))
                )
            else:
                outcomes.append(Outcome(False, RoomNotFound(appends[creator].room_id)))
        return outcomes


async def _originals(
    conn: AsyncConnection, keys: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], MessageRecord]:
    """Stored messages by ``(author_id, client_msg_id)``, for the given keys."""
    m = t.messages
    stmt = select(m).where(tuple_(m.c.author_id, m.c.client_msg_id).in_(list(keys)))
    found: dict[tuple[str, str], MessageRecord] = {}
    for row in (await conn.execute(stmt)).mappings():
        message = row_to_message(row)
        assert message.client_msg_id is not None
        found[(message.author_id, message.client_msg_id)] = message
    return found


async def _reserve_seqs(conn: AsyncConnection, counts: Counter[str]) -> dict[str, int]:
    """Advance each room's ``last_seq`` by its count in one UPDATE; returns the new values.

    Rooms that do not exist are missing from the result (and nothing was written for them).
    """
    rooms = sorted(counts)
    increment = case({room: counts[room] for room in rooms}, value=t.rooms.c.id, else_=0)
    result = await conn.execute(
        update(t.rooms)
        .where(t.rooms.c.id.in_(rooms))
        .values(last_seq=t.rooms.c.last_seq + increment)
        .returning(t.rooms.c.id, t.rooms.c.last_seq)
    )
    return {str(room): int(seq) for room, seq in result.all()}
