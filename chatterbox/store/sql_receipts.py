"""Read receipts: per-user 'delivered up to' / 'seen up to' markers that only move forward.

Receipts are the most frequent write (every client acknowledges every message), so a receipt is a
:class:`~chatterbox.store.writer.BatchJob`: a group of them costs one SELECT and one multi-row upsert.

``moved`` (the result of each job) is exact, also with several processes on one PostgreSQL database: a
group reads the current markers, decides in submission order which jobs move them, and writes each key's
maximum with an upsert that never moves a marker backwards (``WHERE receipts.seq < excluded.seq``). The read
is exact because receipt jobs declare their room, whose row the writer locks before the batch runs
(:mod:`.sql_locks`): no other transaction can change a marker of that room between the read and the commit.
A job run alone relies on the upsert's own row lock instead (its rowcount says whether the row moved).
On SQLite, ``BEGIN IMMEDIATE`` serializes every writer of the file.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, cast

from sqlalchemy import Insert, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from chatterbox.store import tables as t
from chatterbox.store.records import MessageRecord, ReceiptContext, ReceiptRecord, ReceiptState
from chatterbox.store.sql_base import (
    KEYS_PER_STATEMENT,
    SqlBase,
    insert_ignore,
    keys_in,
    row_to_message,
    row_to_receipt,
)
from chatterbox.store.sqlite_direct import MESSAGE_COLUMNS, direct_sqlite, read_transaction
from chatterbox.store.writer import BatchJob, Outcome

__all__ = ["ReceiptJob", "ReceiptsMixin"]

_Key = tuple[str, str, str]  # (room_id, user_id, state)


def _forward_upsert(dialect: str) -> Insert | None:
    """``INSERT … ON CONFLICT DO UPDATE … WHERE receipts.seq < excluded.seq`` (None: unsupported)."""
    r = t.receipts
    stmt: Any
    if dialect == "sqlite":
        stmt = sqlite.insert(r)
    elif dialect == "postgresql":
        stmt = postgresql.insert(r)
    else:
        return None
    return cast(
        Insert,
        stmt.on_conflict_do_update(
            index_elements=[r.c.room_id, r.c.user_id, r.c.state],
            set_={
                "message_id": stmt.excluded.message_id,
                "seq": stmt.excluded.seq,
                "at": stmt.excluded.at,
            },
            where=r.c.seq < stmt.excluded.seq,
        ),
    )


@dataclass(eq=False, slots=True)
class ReceiptJob(BatchJob[bool]):
    """Move one marker forward; the result tells whether it moved."""

    room_id: str
    user_id: str
    state: ReceiptState
    message_id: str
    seq: int
    at: int

    @property
    def room_ids(self) -> tuple[str, ...]:
        """The room, locked first on PostgreSQL: receipt writes of a room are serialized (:mod:`.sql_locks`)."""
        return (self.room_id,)

    @property
    def key(self) -> _Key:
        """The marker's primary key."""
        return (self.room_id, self.user_id, self.state)

    def row(self) -> dict[str, Any]:
        """The ``receipts`` row this job writes."""
        return {
            "room_id": self.room_id,
            "user_id": self.user_id,
            "state": self.state,
            "message_id": self.message_id,
            "seq": self.seq,
            "at": self.at,
        }

    async def __call__(self, conn: AsyncConnection) -> bool:
        """Upsert this marker alone."""
        stmt = _forward_upsert(conn.dialect.name)
        if stmt is not None:
            result = await conn.execute(stmt.values(self.row()))
            return bool(result.rowcount == 1)
        r = t.receipts
        moved = await conn.execute(
            update(r)
            .where(tuple_(r.c.room_id, r.c.user_id, r.c.state) == self.key, r.c.seq < self.seq)
            .values(message_id=self.message_id, seq=self.seq, at=self.at)
        )
        if moved.rowcount == 1:
            return True
        return await insert_ignore(conn, r, self.row(), ["room_id", "user_id", "state"])

    sqlite_direct = True

    @classmethod
    def run_batch_sqlite(cls, db: sqlite3.Connection, jobs: Sequence[Any]) -> list[Outcome]:
        """:meth:`run_batch` as plain ``sqlite3`` calls (the writer's one-call transaction)."""
        return _run_batch_sqlite(cast(Sequence[ReceiptJob], jobs), db)

    @classmethod
    async def run_batch(cls, conn: AsyncConnection, jobs: Sequence[Any]) -> list[Outcome]:
        """Apply several markers: one read of the current seqs, one upsert of each key's maximum."""
        receipts = cast(Sequence[ReceiptJob], jobs)
        direct = await direct_sqlite(conn)
        if direct is not None:
            return await direct(partial(_run_batch_sqlite, receipts))
        stmt = _forward_upsert(conn.dialect.name)
        if stmt is None:
            return [Outcome(True, await job(conn)) for job in receipts]
        r = t.receipts
        keys = sorted({job.key for job in receipts})
        columns = [r.c.room_id, r.c.user_id, r.c.state]
        current: dict[_Key, int] = {}
        for start in range(0, len(keys), KEYS_PER_STATEMENT):
            chunk = keys[start : start + KEYS_PER_STATEMENT]
            for row in await conn.execute(
                select(r.c.room_id, r.c.user_id, r.c.state, r.c.seq).where(
                    keys_in(conn.dialect.name, columns, chunk)
                )
            ):
                current[(row.room_id, row.user_id, row.state)] = row.seq
        outcomes, best = _decide(receipts, current)
        if best:
            # Sorted by key: concurrent batches lock the same receipt rows in the same order.
            await conn.execute(stmt, [best[key].row() for key in sorted(best)])
        return outcomes


def _decide(
    receipts: Sequence[ReceiptJob], current: dict[_Key, int]
) -> tuple[list[Outcome], dict[_Key, ReceiptJob]]:
    """In submission order, which jobs move their marker; and the furthest job of each key."""
    outcomes: list[Outcome] = []
    best: dict[_Key, ReceiptJob] = {}
    for job in receipts:
        moved = job.seq > current.get(job.key, -1)
        if moved:
            current[job.key] = job.seq
            best[job.key] = job
        outcomes.append(Outcome(True, moved))
    return outcomes, best


_CURRENT_SQL = "SELECT seq FROM receipts WHERE room_id = ? AND user_id = ? AND state = ?"
_UPSERT_SQL = (
    "INSERT INTO receipts (room_id, user_id, state, message_id, seq, at) VALUES (?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (room_id, user_id, state) DO UPDATE SET message_id = excluded.message_id, "
    "seq = excluded.seq, at = excluded.at WHERE receipts.seq < excluded.seq"
)


def _run_batch_sqlite(receipts: Sequence[ReceiptJob], db: sqlite3.Connection) -> list[Outcome]:
    """:meth:`ReceiptJob.run_batch` as plain ``sqlite3`` calls on the worker thread (.sqlite_direct)."""
    current: dict[_Key, int] = {}
    for key in {job.key for job in receipts}:
        row = db.execute(_CURRENT_SQL, key).fetchone()
        if row is not None:
            current[key] = int(row[0])
    outcomes, best = _decide(receipts, current)
    if best:
        db.executemany(
            _UPSERT_SQL,
            [(j.room_id, j.user_id, j.state, j.message_id, j.seq, j.at) for j in best.values()],
        )
    return outcomes


class ReceiptsMixin(SqlBase):
    """Receipt markers (state, not a log: no seq of their own)."""

    async def get_receipts(self, room_id: str) -> list[ReceiptRecord]:
        """Every marker in the room, by user then state."""

        async def q(conn: AsyncConnection) -> list[ReceiptRecord]:
            r = t.receipts
            stmt = select(r).where(r.c.room_id == room_id).order_by(r.c.user_id, r.c.state)
            return [row_to_receipt(row) for row in (await conn.execute(stmt)).mappings()]

        return await self._read(q)

    async def get_receipt(
        self, room_id: str, user_id: str, state: ReceiptState
    ) -> ReceiptRecord | None:
        """One user's marker of one state in the room, or None."""

        async def q(conn: AsyncConnection) -> ReceiptRecord | None:
            r = t.receipts
            stmt = select(r).where(
                r.c.room_id == room_id, r.c.user_id == user_id, r.c.state == state
            )
            row = (await conn.execute(stmt)).mappings().first()
            return None if row is None else row_to_receipt(row)

        return await self._read(q)

    async def receipt_context(self, room_id: str, user_id: str, message_id: str) -> ReceiptContext:
        """The message and the user's two markers in the room: one read transaction, two lookups.

        A ``receipt`` command needs all three; as separate reads they cost three trips to a reader
        and three transactions, the largest part of a receipt's cost.
        """

        async def q(conn: AsyncConnection) -> ReceiptContext:
            direct = await direct_sqlite(conn)
            if direct is not None:
                return await direct(partial(_receipt_context_sqlite, room_id, user_id, message_id))
            m, r = t.messages, t.receipts
            row = (await conn.execute(select(m).where(m.c.id == message_id))).mappings().first()
            mine = select(r).where(r.c.room_id == room_id, r.c.user_id == user_id)
            records = map(row_to_receipt, (await conn.execute(mine)).mappings())
            markers = {rec.state: rec for rec in records}
            return ReceiptContext(
                message=None if row is None else row_to_message(row),
                delivered=markers.get("delivered"),
                seen=markers.get("seen"),
            )

        return await self._read(q)

    async def upsert_receipt(
        self,
        room_id: str,
        user_id: str,
        state: ReceiptState,
        message_id: str,
        seq: int,
        at: int,
    ) -> bool:
        """Move the marker forward to ``seq``; returns whether it moved (False: already there or past).

        Validation (member, not own message, message exists) is the domain's job.
        """
        if state not in ("delivered", "seen"):
            raise ValueError(f"state must be 'delivered' or 'seen', not {state!r}")
        return await self._write(ReceiptJob(room_id, user_id, state, message_id, seq, at))


_MESSAGE_SQL = f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE id = ?"  # noqa: S608 (constant)
_MARKERS_SQL = "SELECT state, message_id, seq, at FROM receipts WHERE room_id = ? AND user_id = ?"


def _receipt_context_sqlite(
    room_id: str, user_id: str, message_id: str, db: sqlite3.Connection
) -> ReceiptContext:
    """:meth:`ReceiptsMixin.receipt_context` as plain ``sqlite3`` calls, in one read transaction.

    A receipt is the most frequent command; through SQLAlchemy Core its two lookups cost several
    times what SQLite itself spends on them.
    """
    with read_transaction(db):
        row = db.execute(_MESSAGE_SQL, (message_id,)).fetchone()
        markers = {
            state: ReceiptRecord(room_id, user_id, cast(ReceiptState, state), mid, seq, at)
            for state, mid, seq, at in db.execute(_MARKERS_SQL, (room_id, user_id))
        }
    return ReceiptContext(
        message=None if row is None else MessageRecord(*row),
        delivered=markers.get("delivered"),
        seen=markers.get("seen"),
    )
