"""Messages, edits, deletes, history and the per-room event log (SQLAlchemy implementation).

Every change takes the room's next seq (``rooms.last_seq + 1``) in the same transaction as its row, so a
room's events are numbered 1, 2, 3… without gaps. The event log is two tables: a new message is its
``messages`` row (its ``seq`` there is the event's), every other event (edit, delete, membership) a
``room_events`` row; :meth:`MessagesMixin.events_since` merges the two in seq order. Appends go through the
writer (group commit): thousands of concurrent sends share a handful of transactions.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from functools import partial
from typing import Any, cast

from sqlalchemy import String, delete, func, insert, literal, null, select, union_all, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from chatterbox.store import tables as t
from chatterbox.store.base import AppendDone
from chatterbox.store.errors import MessageDeleted, MessageNotFound, StoreClosed
from chatterbox.store.records import EventKind, MessageEditRecord, MessageRecord, RoomEventRecord
from chatterbox.store.sql_append import AppendJob
from chatterbox.store.sql_base import (
    KEYS_PER_STATEMENT,
    SqlBase,
    next_seq,
    row_to_message,
    write_event,
)
from chatterbox.store.sqlite_direct import MESSAGE_COLUMNS, direct_sqlite, read_transaction
from chatterbox.store.writer import Outcome, Writer

__all__ = ["MessagesMixin"]

_M = "m_"  # label prefix of message columns in the event-log join
_message_cols = [c.label(_M + c.name) for c in t.messages.c]


async def _get_message(conn: AsyncConnection, message_id: str) -> MessageRecord | None:
    stmt = select(t.messages).where(t.messages.c.id == message_id)
    row = (await conn.execute(stmt)).mappings().first()
    return None if row is None else row_to_message(row)


async def _find_by_client_id(
    conn: AsyncConnection, author_id: str, client_msg_id: str
) -> MessageRecord | None:
    stmt = select(t.messages).where(
        t.messages.c.author_id == author_id, t.messages.c.client_msg_id == client_msg_id
    )
    row = (await conn.execute(stmt)).mappings().first()
    return None if row is None else row_to_message(row)


async def _live_message(conn: AsyncConnection, message_id: str) -> MessageRecord:
    message = await _get_message(conn, message_id)
    if message is None:
        raise MessageNotFound(message_id)
    if message.deleted_at is not None:
        raise MessageDeleted(message_id)
    return message


class MessagesMixin(SqlBase):
    """Message writes (through the group-commit writer) and history reads."""

    async def append_message(
        self, room_id: str, author_id: str, body: str, client_msg_id: str | None = None
    ) -> tuple[MessageRecord, bool]:
        """Store a new message with the room's next seq; returns ``(message, created)``.

        Idempotent on ``(author_id, client_msg_id)``: a resend returns the original message with
        ``created=False`` and writes nothing (even if it names another room: the caller may check
        ``message.room_id``). Returns only after the commit. Raises :class:`RoomNotFound`.
        Membership is the caller's rule (the domain layer checks it).
        """

        job = AppendJob(room_id, author_id, body, client_msg_id, self._clock)
        try:
            return await self._write(job)
        except IntegrityError:
            if client_msg_id is None:
                raise
            # Another process committed the same (author, client_msg_id) first: this run returns it.
            return await self._write(job)

    def append_message_nowait(
        self, room_id: str, author_id: str, body: str, client_msg_id: str | None, done: AppendDone
    ) -> bool:
        """:meth:`append_message` with a callback (see :meth:`.Writer.submit_nowait`); False when
        the writer cannot take it now. The same single retry after an ``IntegrityError``."""
        job = AppendJob(room_id, author_id, body, client_msg_id, self._clock)
        return self._writer.submit_nowait(job, _AppendFinished(self._writer, job, done))

    async def edit_message(
        self, message_id: str, new_body: str, at: int | None = None
    ) -> tuple[MessageRecord, int]:
        """Replace the body (the previous one is kept in the edit history); returns ``(message, seq)``.

        ``seq`` is that of the new ``message.updated`` event. Raises :class:`MessageNotFound` or
        :class:`MessageDeleted`. Authorship is the caller's rule.
        """

        async def job(conn: AsyncConnection) -> tuple[MessageRecord, int]:
            message = await _live_message(conn, message_id)
            when = self._clock() if at is None else at
            seq = await next_seq(conn, message.room_id)
            await conn.execute(
                insert(t.message_edits).values(
                    message_id=message_id, body=message.body, edited_at=when
                )
            )
            await conn.execute(
                update(t.messages)
                .where(t.messages.c.id == message_id)
                .values(body=new_body, edited_at=when)
            )
            await write_event(
                conn,
                room_id=message.room_id,
                seq=seq,
                kind="message.updated",
                at=when,
                message_id=message_id,
                user_id=message.author_id,
            )
            return message._replace(body=new_body, edited_at=when), seq

        return await self._write(job, messages=(message_id,))

    async def delete_message(
        self, message_id: str, at: int | None = None, by: str | None = None
    ) -> tuple[MessageRecord, int]:
        """Delete the body (and the edit history); the message stays as a placeholder.

        Returns ``(message, seq)`` with the seq of the ``message.deleted`` event, whose ``user_id`` is
        ``by`` (default: the author). Raises :class:`MessageNotFound` or :class:`MessageDeleted`.
        """

        async def job(conn: AsyncConnection) -> tuple[MessageRecord, int]:
            message = await _live_message(conn, message_id)
            when = self._clock() if at is None else at
            seq = await next_seq(conn, message.room_id)
            await conn.execute(
                update(t.messages)
                .where(t.messages.c.id == message_id)
                .values(body=None, deleted_at=when)
            )
            await conn.execute(
                delete(t.message_edits).where(t.message_edits.c.message_id == message_id)
            )
            await write_event(
                conn,
                room_id=message.room_id,
                seq=seq,
                kind="message.deleted",
                at=when,
                message_id=message_id,
                user_id=message.author_id if by is None else by,
            )
            return message._replace(body=None, deleted_at=when), seq

        return await self._write(job, messages=(message_id,))

    async def get_message(self, message_id: str) -> MessageRecord | None:
        """The message in its current state, or None."""
        return await self._read(lambda conn: _get_message(conn, message_id))

    async def get_message_edits(self, message_id: str) -> list[MessageEditRecord]:
        """The earlier versions of the message's body, oldest first (empty once deleted)."""

        async def q(conn: AsyncConnection) -> list[MessageEditRecord]:
            e = t.message_edits
            stmt = select(e).where(e.c.message_id == message_id).order_by(e.c.id)
            return [
                MessageEditRecord(r["id"], r["message_id"], r["body"], r["edited_at"])
                for r in (await conn.execute(stmt)).mappings()
            ]

        return await self._read(q)

    async def history_page(
        self, room_id: str, before_seq: int | None, limit: int
    ) -> tuple[list[MessageRecord], bool]:
        """Up to ``limit`` messages with ``seq < before_seq`` (or the latest), oldest first; and ``has_more``.

        Deleted messages are included (as placeholders). Walks the ``(room_id, seq)`` index backwards.
        """
        if limit < 1:
            raise ValueError("limit must be at least 1")

        async def q(conn: AsyncConnection) -> tuple[list[MessageRecord], bool]:
            m = t.messages
            stmt = select(m).where(m.c.room_id == room_id)
            if before_seq is not None:
                stmt = stmt.where(m.c.seq < before_seq)
            stmt = stmt.order_by(m.c.seq.desc()).limit(limit + 1)
            rows = [row_to_message(r) for r in (await conn.execute(stmt)).mappings()]
            has_more = len(rows) > limit
            page = rows[:limit]
            page.reverse()
            return page, has_more

        return await self._read(q)

    async def events_since(
        self, room_id: str, after_seq: int, limit: int = 500
    ) -> list[RoomEventRecord]:
        """Room events with ``seq > after_seq`` in seq order (at most ``limit``), for ``resume``.

        Message events carry the message's *current* state in ``.message`` (a later edit or delete shows
        through: replaying applies the latest state).
        """
        if limit < 1:
            raise ValueError("limit must be at least 1")

        async def q(conn: AsyncConnection) -> list[RoomEventRecord]:
            direct = await direct_sqlite(conn)
            if direct is not None:
                return await direct(partial(_events_since_sqlite, room_id, after_seq, limit))
            # One statement, hence one snapshot under READ COMMITTED: both halves, each walking
            # its (room_id, seq) index to at most ``limit`` rows, merged in seq order.
            e, m = t.room_events, t.messages
            created = (
                select(
                    m.c.room_id,
                    m.c.seq,
                    literal("message.created", String).label("kind"),
                    m.c.id.label("message_id"),
                    m.c.author_id.label("user_id"),
                    null().label("payload"),
                    m.c.created_at,
                    *_message_cols,
                )
                .where(m.c.room_id == room_id, m.c.seq > after_seq)
                .order_by(m.c.seq)
                .limit(limit)
                .subquery()
            )
            others = (
                select(e, *_message_cols)
                .outerjoin(m, m.c.id == e.c.message_id)
                .where(e.c.room_id == room_id, e.c.seq > after_seq, e.c.kind != "message.created")
                .order_by(e.c.seq)
                .limit(limit)
                .subquery()
            )
            both = union_all(select(created), select(others)).subquery()
            stmt = select(both).order_by(both.c.seq).limit(limit)
            return [_event_record(tuple(row)) for row in await conn.execute(stmt)]

        return await self._read(q)

    async def unread_count(
        self, room_id: str, user_id: str, after_seq: int, cap: int | None = None
    ) -> int:
        """Messages by others with ``seq > after_seq`` that are not deleted (counting stops at ``cap``)."""

        async def q(conn: AsyncConnection) -> int:
            m = t.messages
            inner = select(m.c.seq).where(
                m.c.room_id == room_id,
                m.c.seq > after_seq,
                m.c.author_id != user_id,
                m.c.deleted_at.is_(None),
            )
            if cap is not None:
                inner = inner.limit(cap)
            stmt = select(func.count()).select_from(inner.subquery())
            return int((await conn.execute(stmt)).scalar_one())

        return await self._read(q)

    async def unread_counts(
        self, user_id: str, room_ids: Sequence[str], cap: int | None = None
    ) -> dict[str, int]:
        """For each room, others' undeleted messages after the user's ``seen`` marker.

        What ``hello`` needs for every room of the user, in one read: one receipt lookup for all
        rooms, then one bounded count per room (each walks the ``(room_id, seq)`` index from the
        marker and stops at ``cap``). On SQLite the whole read is one call on the driver's thread
        (:mod:`.sqlite_direct`) instead of two pooled reads per room.
        """
        rooms = list(dict.fromkeys(room_ids))
        if not rooms:
            return {}

        async def q(conn: AsyncConnection) -> dict[str, int]:
            direct = await direct_sqlite(conn)
            if direct is not None:
                return await direct(partial(_unread_counts_sqlite, user_id, rooms, cap))
            r, m = t.receipts, t.messages
            seen: dict[str, int] = {}
            for start in range(0, len(rooms), KEYS_PER_STATEMENT):
                chunk = rooms[start : start + KEYS_PER_STATEMENT]
                stmt = select(r.c.room_id, r.c.seq).where(
                    r.c.room_id.in_(chunk), r.c.user_id == user_id, r.c.state == "seen"
                )
                seen.update({str(row.room_id): int(row.seq) for row in await conn.execute(stmt)})
            counts: dict[str, int] = {}
            for room_id in rooms:
                inner = select(m.c.seq).where(
                    m.c.room_id == room_id,
                    m.c.seq > seen.get(room_id, 0),
                    m.c.author_id != user_id,
                    m.c.deleted_at.is_(None),
                )
                if cap is not None:
                    inner = inner.limit(cap)
                count = select(func.count()).select_from(inner.subquery())
                counts[room_id] = int((await conn.execute(count)).scalar_one())
            return counts

        return await self._read(q)


_SEEN_SQL = "SELECT seq FROM receipts WHERE room_id = ? AND user_id = ? AND state = 'seen'"
_UNREAD_SQL = (
    "SELECT count(*) FROM (SELECT 1 FROM messages WHERE room_id = ? AND seq > ? "
    "AND author_id != ? AND deleted_at IS NULL LIMIT ?)"
)


def _unread_counts_sqlite(
    user_id: str, rooms: Sequence[str], cap: int | None, db: sqlite3.Connection
) -> dict[str, int]:
    """:meth:`MessagesMixin.unread_counts` as plain ``sqlite3`` calls, in one read transaction."""
    limit = -1 if cap is None else cap  # LIMIT -1: no limit
    counts: dict[str, int] = {}
    with read_transaction(db):
        for room_id in rooms:
            row = db.execute(_SEEN_SQL, (room_id, user_id)).fetchone()
            after = 0 if row is None else int(row[0])
            counts[room_id] = int(
                db.execute(_UNREAD_SQL, (room_id, after, user_id, limit)).fetchone()[0]
            )
    return counts


_CREATED_SINCE_SQL = (  # a constant column list, no input
    f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE room_id = ? AND seq > ? ORDER BY seq LIMIT ?"  # noqa: S608
)
_OTHERS_SINCE_SQL = (
    "SELECT e.room_id, e.seq, e.kind, e.message_id, e.user_id, e.payload, e.created_at, "
    "m.id, m.room_id, m.seq, m.author_id, m.body, m.client_msg_id, m.created_at, m.edited_at, "
    "m.deleted_at FROM room_events e LEFT OUTER JOIN messages m ON m.id = e.message_id "
    "WHERE e.room_id = ? AND e.seq > ? AND e.kind != 'message.created' ORDER BY e.seq LIMIT ?"
)


def _events_since_sqlite(
    room_id: str, after_seq: int, limit: int, db: sqlite3.Connection
) -> list[RoomEventRecord]:
    """:meth:`MessagesMixin.events_since` as plain ``sqlite3`` statements (one thread round trip
    per page of a replay instead of one per driver call)."""
    args = (room_id, after_seq, limit)
    with read_transaction(db):  # one snapshot for both halves
        created = db.execute(_CREATED_SINCE_SQL, args).fetchall()
        others = db.execute(_OTHERS_SINCE_SQL, args).fetchall()
    return _merge_events(created, others, limit)


def _merge_events(
    created: Sequence[tuple[Any, ...]], others: Sequence[tuple[Any, ...]], limit: int
) -> list[RoomEventRecord]:
    """The first ``limit`` events of both halves of the log, in seq order.

    ``created``: ``messages`` rows (table order), each a ``message.created`` event at its own seq;
    ``others``: ``room_events`` rows followed by their outer-joined message (:func:`_event_record`).
    Each half is already in seq order and limited, so the first ``limit`` of the merge are exact.
    """
    events = [_created_record(row) for row in created]
    events += [_event_record(row) for row in others]
    events.sort(key=lambda ev: ev.seq)
    return events[:limit]


def _created_record(row: tuple[Any, ...]) -> RoomEventRecord:
    """The ``message.created`` event of a ``messages`` row (columns in table order)."""
    message = MessageRecord(*row[:9])
    return RoomEventRecord(
        room_id=message.room_id,
        seq=message.seq,
        kind="message.created",
        message_id=message.id,
        user_id=message.author_id,
        payload=None,
        created_at=message.created_at,
        message=message,
    )


def _event_record(row: tuple[Any, ...]) -> RoomEventRecord:
    """A :class:`RoomEventRecord` from a ``room_events`` row followed by its (outer-joined)
    ``messages`` columns, both in table order (the SQLAlchemy and the sqlite3 queries alike)."""
    payload = row[5]
    return RoomEventRecord(
        room_id=row[0],
        seq=row[1],
        kind=cast(EventKind, row[2]),
        message_id=row[3],
        user_id=row[4],
        payload=None if payload is None else json.loads(payload),
        created_at=row[6],
        message=None if row[7] is None else MessageRecord(*row[7:16]),
    )


class _AppendFinished:
    """:meth:`MessagesMixin.append_message_nowait`'s writer callback: ``done`` gets the outcome,
    after one more run if another process committed the same key first (``IntegrityError``).

    An object rather than a closure: a closure that passes itself to the retry refers to itself,
    and that cycle (with every closure and cell it holds: ~23 objects per message) would be left
    for the cyclic garbage collector instead of being freed when the message is answered."""

    __slots__ = ("_done", "_job", "_retried", "_writer")

    def __init__(self, writer: Writer, job: AppendJob, done: AppendDone) -> None:
        self._writer = writer
        self._job = job
        self._done = done
        self._retried = False

    def __call__(self, outcome: Outcome) -> None:
        value = outcome.value
        if outcome.ok:
            self._done(value)
        elif (
            isinstance(value, IntegrityError)
            and self._job.client_msg_id is not None
            and not self._retried
        ):
            # Another process committed the same (author, client_msg_id) first: run it again.
            self._retried = True
            if not self._writer.submit_nowait(self._job, self, bounded=False):
                self._done(StoreClosed("the store closed before this write ran"))
        else:
            self._done(value)
