"""The append-message job: alone, or many at once with set-based statements (group commit's fast path).

A group of N appends costs a handful of statements instead of 3·N: one idempotency lookup, one
``UPDATE rooms … RETURNING`` that reserves a block of seqs for every room involved, and one
multi-row insert into ``messages``. A new message has no ``room_events`` row: its seq in the
``(room_id, seq)`` index of ``messages`` is its place in the room's event log
(:meth:`.MessagesMixin.events_since` merges the two), which saves a table and an index write per
message (``docs/benchmarks.md``). On SQLite the whole group runs as one
plain ``sqlite3`` function on the connection's worker thread (:mod:`.sqlite_direct`: one thread
round trip instead of three or four per statement), with one ``SELECT`` per room and one
``executemany`` of plain ``UPDATE`` statements: the writer's ``BEGIN IMMEDIATE`` already excludes
every other writer, so reading ``last_seq`` and then writing it is as safe as ``UPDATE …
RETURNING``, which SQLite 3.40 runs through an ephemeral table at ~10 µs per statement, half of the
group's whole cost per message (``bench/NOTES.md``, session 6). There the idempotency check is
optimistic: the unique index finds a resend at insert time, and only then is the group undone and
run again after one indexed lookup per key (see :func:`_run_batch_sqlite`). Lookups must probe
``UNIQUE (author_id, client_msg_id)``: SQLite runs a row-value ``IN`` as a full scan of
``messages`` (see :func:`.sql_base.keys_in`).
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, cast

from sqlalchemy import case, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from chatterbox.store import tables as t
from chatterbox.store.errors import RoomNotFound
from chatterbox.store.ids import new_message_id, new_message_ids
from chatterbox.store.records import MessageRecord
from chatterbox.store.sql_base import KEYS_PER_STATEMENT, keys_in, next_seq, row_to_message
from chatterbox.store.sqlite_direct import MESSAGE_COLUMNS, direct_sqlite
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

    def _new(self, seq: int, at: int, message_id: str) -> MessageRecord:
        # positional (id, room_id, seq, author_id, body, client_msg_id, created_at, edited_at,
        # deleted_at): keywords cost 0.43 instead of 0.19 µs, once per message stored
        return MessageRecord(
            message_id,
            self.room_id,
            seq,
            self.author_id,
            self.body,
            self.client_msg_id,
            at,
            None,
            None,
        )

    async def __call__(self, conn: AsyncConnection) -> AppendResult:
        """Append this message alone."""
        if self.client_msg_id is not None:
            found = await _originals(conn, [(self.author_id, self.client_msg_id)])
            if found:
                return next(iter(found.values())), False
        at = self.clock()
        message = self._new(await next_seq(conn, self.room_id), at, new_message_id(at))
        await conn.execute(insert(t.messages).values(_message_row(message)))
        return message, True

    sqlite_direct = True

    @classmethod
    def run_batch_sqlite(cls, db: sqlite3.Connection, jobs: Sequence[Any]) -> list[Outcome]:
        """:meth:`run_batch` as plain ``sqlite3`` calls (the writer's one-call transaction)."""
        appends = cast(Sequence[AppendJob], jobs)
        return _run_batch_sqlite(appends, appends[0].clock() if appends else 0, db)

    @classmethod
    async def run_batch(cls, conn: AsyncConnection, jobs: Sequence[Any]) -> list[Outcome]:
        """Append several messages in order, sharing statements (see the module docstring)."""
        appends = cast(Sequence[AppendJob], jobs)
        at = appends[0].clock() if appends else 0
        direct = await direct_sqlite(conn)
        if direct is not None:
            return await direct(partial(_run_batch_sqlite, appends, at))
        keys = {(j.author_id, j.client_msg_id) for j in appends if j.client_msg_id is not None}
        originals = await _originals(conn, sorted(keys)) if keys else {}
        plan = _Plan(appends, originals)
        last = await _reserve_seqs(conn, plan.counts) if plan.counts else {}
        rows = plan.create({room: seq - plan.counts[room] for room, seq in last.items()}, at)
        if rows:
            await conn.execute(insert(t.messages), [_message_row(m) for m in rows])
        return plan.outcomes()


class _Plan:
    """Which jobs of a group create a message, their seqs, and every job's outcome."""

    __slots__ = ("appends", "counts", "created", "creators", "originals", "resend_of")

    def __init__(
        self, appends: Sequence[AppendJob], originals: dict[tuple[str, str], MessageRecord]
    ) -> None:
        self.appends = appends
        self.originals = originals
        # Which jobs create a message: not a resend of a stored one, nor of an earlier job here.
        self.creators: list[int] = []
        self.resend_of: dict[int, int] = {}
        first_of: dict[tuple[str, str], int] = {}
        for i, job in enumerate(appends):
            if job.client_msg_id is None:
                self.creators.append(i)
                continue
            key = (job.author_id, job.client_msg_id)
            if key in originals:
                continue
            if key in first_of:
                self.resend_of[i] = first_of[key]
            else:
                first_of[key] = i
                self.creators.append(i)
        self.counts = Counter(appends[i].room_id for i in self.creators)
        """Messages to create per room (the seqs to reserve)."""
        self.created: dict[int, MessageRecord] = {}

    def create(self, previous: dict[str, int], at: int) -> list[MessageRecord]:
        """The new messages, numbered from each room's reserved block (``previous``: each room's
        ``last_seq`` before it; a room missing there does not exist, and gets none)."""
        next_seq_of = dict(previous)
        ids = iter(new_message_ids(at, len(self.creators)))
        for i in self.creators:
            room = self.appends[i].room_id
            if room in next_seq_of:
                next_seq_of[room] += 1
                self.created[i] = self.appends[i]._new(next_seq_of[room], at, next(ids))
        return list(self.created.values())

    def outcomes(self) -> list[Outcome]:
        """One outcome per job, in order."""
        outcomes: list[Outcome] = []
        created, originals = self.created, self.originals
        for i, job in enumerate(self.appends):
            creator = self.resend_of.get(i, i)
            if creator in created:
                outcomes.append(Outcome(True, (created[creator], creator == i)))
            elif job.client_msg_id is not None and (job.author_id, job.client_msg_id) in originals:
                outcomes.append(
                    Outcome(True, (originals[(job.author_id, job.client_msg_id)], False))
                )
            else:
                outcomes.append(Outcome(False, RoomNotFound(self.appends[creator].room_id)))
        return outcomes


# -- SQLite: the whole group in one call on the connection's worker thread (.sqlite_direct) -------

_FIND_SQL = (  # a constant column list, no input
    f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE author_id = ? AND client_msg_id = ?"  # noqa: S608
)
_LAST_SEQ_SQL = "SELECT last_seq FROM rooms WHERE id = ?"
_SET_LAST_SEQ_SQL = "UPDATE rooms SET last_seq = ? WHERE id = ?"
_MESSAGES_SQL = (
    "INSERT INTO messages (id, room_id, seq, author_id, body, client_msg_id, created_at) "
    "VALUES (?, ?, ?, ?, ?, ?, ?)"
)
_UNDO_MESSAGES_SQL = "DELETE FROM messages WHERE room_id = ? AND seq > ?"


def _run_batch_sqlite(
    appends: Sequence[AppendJob], at: int, db: sqlite3.Connection
) -> list[Outcome]:
    """:meth:`AppendJob.run_batch` as plain ``sqlite3`` calls: the same statements, no thread hops.

    Keyed jobs are first taken to be new: ``UNIQUE (author_id, client_msg_id)`` finds a stored
    original at insert time, without a lookup per key. If the insert hits it (a resend of a stored
    message, rare), what the group wrote is undone — its rows are exactly those above each room's
    previous ``last_seq``, since nothing else writes inside the writer's ``BEGIN IMMEDIATE`` — and
    the group runs again after one indexed lookup per key. (A savepoint would undo it for us, but
    costs SQLite a sub-journal copy of every page the group touches: +10 µs per message.)
    """
    if any(j.client_msg_id is not None for j in appends):
        plan = _Plan(appends, {})
        previous = _reserve_seqs_sqlite(plan, db)
        try:
            return _insert_sqlite(plan, previous, at, db)
        except sqlite3.IntegrityError:
            db.executemany(_UNDO_MESSAGES_SQL, list(previous.items()))
            db.executemany(_SET_LAST_SEQ_SQL, [(seq, room) for room, seq in previous.items()])
    originals: dict[tuple[str, str], MessageRecord] = {}
    for key in {(j.author_id, j.client_msg_id) for j in appends if j.client_msg_id is not None}:
        row = db.execute(_FIND_SQL, key).fetchone()
        if row is not None:
            originals[key] = MessageRecord(*row)
    plan = _Plan(appends, originals)
    return _insert_sqlite(plan, _reserve_seqs_sqlite(plan, db), at, db)


def _reserve_seqs_sqlite(plan: _Plan, db: sqlite3.Connection) -> dict[str, int]:
    """Advance each room's ``last_seq`` by its count; returns the previous values (rooms that
    exist). One ``SELECT`` per room and one ``executemany`` of plain ``UPDATE`` statements."""
    previous: dict[str, int] = {}
    for room in sorted(plan.counts):
        found = db.execute(_LAST_SEQ_SQL, (room,)).fetchone()
        if found is not None:
            previous[room] = int(found[0])
    if previous:
        db.executemany(
            _SET_LAST_SEQ_SQL, [(seq + plan.counts[room], room) for room, seq in previous.items()]
        )
    return previous


def _insert_sqlite(
    plan: _Plan, previous: dict[str, int], at: int, db: sqlite3.Connection
) -> list[Outcome]:
    """Insert the plan's new messages, numbered after ``previous``; every job's outcome."""
    rows = plan.create(previous, at)
    if rows:
        db.executemany(
            _MESSAGES_SQL,
            [(m.id, m.room_id, m.seq, m.author_id, m.body, m.client_msg_id, at) for m in rows],
        )
    return plan.outcomes()


async def _originals(
    conn: AsyncConnection, keys: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], MessageRecord]:
    """Stored messages by ``(author_id, client_msg_id)``, for the given keys (index lookups)."""
    m = t.messages
    columns = [m.c.author_id, m.c.client_msg_id]
    found: dict[tuple[str, str], MessageRecord] = {}
    for start in range(0, len(keys), KEYS_PER_STATEMENT):
        chunk = keys[start : start + KEYS_PER_STATEMENT]
        stmt = select(m).where(keys_in(conn.dialect.name, columns, chunk))
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
