"""Shared plumbing of the SQLAlchemy store: the base class, row → record conversion, portable helpers."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, TypeVar, cast

from sqlalchemy import ColumnElement, Insert, Table, and_, insert, or_, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from chatterbox.domain.clock import now_ms
from chatterbox.store import tables as t
from chatterbox.store.checkpoint import Checkpointer
from chatterbox.store.engine import create_read_engine, sqlite_file
from chatterbox.store.errors import RoomNotFound
from chatterbox.store.records import (
    EventKind,
    MembershipRecord,
    MessageRecord,
    ReceiptRecord,
    ReceiptState,
    RefreshTokenRecord,
    Role,
    RoomEventRecord,
    RoomKind,
    RoomRecord,
    SessionRecord,
    UserRecord,
)
from chatterbox.store.sql_locks import RoomScoped, lock_rooms
from chatterbox.store.sqlite_reads import SqliteReads
from chatterbox.store.writer import Writer

__all__ = [
    "SqlBase",
    "exists",
    "insert_ignore",
    "keys_in",
    "next_seq",
    "row_to_membership",
    "row_to_message",
    "row_to_receipt",
    "row_to_refresh_token",
    "row_to_room",
    "row_to_session",
    "row_to_user",
    "write_event",
]

T = TypeVar("T")


class SqlBase:
    """State shared by the store's mixins: the engine, the writer and the clock."""

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        clock: Callable[[], int] = now_ms,
        max_batch: int = 256,
        max_queue: int = 10_000,
    ) -> None:
        """Wrap ``engine`` (whose schema is already migrated); the store owns and disposes of it.

        On PostgreSQL (several processes may write the same rooms) every batch first locks the rooms
        it touches in a consistent order (:mod:`chatterbox.store.sql_locks`).
        """
        self._engine = engine
        self._clock = clock
        prepare = None if engine.dialect.name == "sqlite" else lock_rooms
        self._checkpointer: Checkpointer | None = None
        self._reads: SqliteReads | None = None
        path = sqlite_file(engine.url)
        if path is not None:
            self._checkpointer = Checkpointer(path)
            self._reads = SqliteReads(create_read_engine(engine.url))
        self._writer = Writer(
            engine,
            max_batch=max_batch,
            max_queue=max_queue,
            prepare=prepare,
            on_commit=self._checkpointer.committed if self._checkpointer else None,
        )

    async def _read(self, fn: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        """Run a read-only ``fn`` on a pooled connection.

        SQLite gives ``fn`` one consistent snapshot, and runs it whole on a reader thread
        (:mod:`.sqlite_reads`); PostgreSQL (READ COMMITTED) one snapshot per statement.
        """
        if self._reads is not None:
            return await self._reads.run(fn)
        async with self._engine.connect() as conn:
            return await fn(conn)

    async def _write(
        self,
        fn: Callable[[AsyncConnection], Awaitable[T]],
        *,
        rooms: Sequence[str] = (),
        messages: Sequence[str] = (),
    ) -> T:
        """Run ``fn`` in the writer (group commit); returns after the commit.

        ``rooms`` (and the rooms of ``messages``): the rooms whose seq or receipts ``fn`` writes, locked
        before the batch runs on PostgreSQL (see :mod:`chatterbox.store.sql_locks`).
        """
        if rooms or messages:
            return await self._writer.submit(RoomScoped(fn, tuple(rooms), tuple(messages)))
        return await self._writer.submit(fn)


# -- rows → records ---------------------------------------------------------------------------------


def row_to_user(row: RowMapping) -> UserRecord:
    """Build a :class:`UserRecord` from a ``users`` row."""
    return UserRecord(
        id=row["id"],
        username=row["username"],
        display_name=row["display_name"],
        created_at=row["created_at"],
    )


def row_to_session(row: RowMapping) -> SessionRecord:
    """Build a :class:`SessionRecord` from a ``sessions`` row."""
    return SessionRecord(
        id=row["id"],
        user_id=row["user_id"],
        token_hash=row["token_hash"],
        created_at=row["created_at"],
        last_used_at=row["last_used_at"],
        expires_at=row["expires_at"],
        revoked_at=row["revoked_at"],
        user_agent=row["user_agent"],
        ip=row["ip"],
    )


def row_to_refresh_token(row: RowMapping) -> RefreshTokenRecord:
    """Build a :class:`RefreshTokenRecord` from a ``refresh_tokens`` row."""
    return RefreshTokenRecord(
        id=row["id"],
        family_id=row["family_id"],
        session_id=row["session_id"],
        token_hash=row["token_hash"],
        created_at=row["created_at"],
        expires_at=row["expires_at"],
        used_at=row["used_at"],
        revoked_at=row["revoked_at"],
    )


def row_to_room(row: RowMapping) -> RoomRecord:
    """Build a :class:`RoomRecord` from a ``rooms`` row."""
    return RoomRecord(
        id=row["id"],
        kind=cast(RoomKind, row["kind"]),
        name=row["name"],
        topic=row["topic"],
        created_by=row["created_by"],
        created_at=row["created_at"],
        last_seq=row["last_seq"],
        dm_key=row["dm_key"],
    )


def row_to_membership(row: RowMapping) -> MembershipRecord:
    """Build a :class:`MembershipRecord` from a ``memberships`` row."""
    return MembershipRecord(
        room_id=row["room_id"],
        user_id=row["user_id"],
        role=cast(Role, row["role"]),
        joined_at=row["joined_at"],
    )


def row_to_message(row: RowMapping, prefix: str = "") -> MessageRecord:
    """Build a :class:`MessageRecord` from a ``messages`` row (columns optionally labelled ``prefix…``)."""
    return MessageRecord(
        id=row[prefix + "id"],
        room_id=row[prefix + "room_id"],
        seq=row[prefix + "seq"],
        author_id=row[prefix + "author_id"],
        body=row[prefix + "body"],
        client_msg_id=row[prefix + "client_msg_id"],
        created_at=row[prefix + "created_at"],
        edited_at=row[prefix + "edited_at"],
        deleted_at=row[prefix + "deleted_at"],
    )


def row_to_receipt(row: RowMapping) -> ReceiptRecord:
    """Build a :class:`ReceiptRecord` from a ``receipts`` row."""
    return ReceiptRecord(
        room_id=row["room_id"],
        user_id=row["user_id"],
        state=cast(ReceiptState, row["state"]),
        message_id=row["message_id"],
        seq=row["seq"],
        at=row["at"],
    )


# -- portable write helpers -------------------------------------------------------------------------


async def next_seq(conn: AsyncConnection, room_id: str) -> int:
    """Allocate the room's next event seq (``last_seq + 1``) in the current transaction.

    The UPDATE takes the row lock on PostgreSQL, so concurrent writers of one room serialize.
    Raises :class:`RoomNotFound` (having written nothing) if there is no such room.
    """
    result = await conn.execute(
        update(t.rooms)
        .where(t.rooms.c.id == room_id)
        .values(last_seq=t.rooms.c.last_seq + 1)
        .returning(t.rooms.c.last_seq)
    )
    seq = result.scalar_one_or_none()
    if seq is None:
        raise RoomNotFound(room_id)
    return int(seq)


async def write_event(
    conn: AsyncConnection,
    *,
    room_id: str,
    seq: int,
    kind: EventKind,
    at: int,
    message_id: str | None = None,
    user_id: str | None = None,
    payload: dict[str, Any] | None = None,
) -> RoomEventRecord:
    """Insert a ``room_events`` row and return it as a record."""
    await conn.execute(
        insert(t.room_events).values(
            room_id=room_id,
            seq=seq,
            kind=kind,
            message_id=message_id,
            user_id=user_id,
            payload=None if payload is None else json.dumps(payload, separators=(",", ":")),
            created_at=at,
        )
    )
    return RoomEventRecord(
        room_id=room_id,
        seq=seq,
        kind=kind,
        message_id=message_id,
        user_id=user_id,
        payload=payload,
        created_at=at,
    )


async def insert_ignore(
    conn: AsyncConnection, table: Table, values: Mapping[str, Any], conflict: Sequence[str]
) -> bool:
    """``INSERT … ON CONFLICT (conflict) DO NOTHING``; returns whether a row was inserted.

    Dispatches on the dialect (SQLite and PostgreSQL share the syntax); other dialects fall back to a
    savepoint and a caught ``IntegrityError``.
    """
    name = conn.dialect.name
    stmt: Insert
    if name == "sqlite":
        stmt = sqlite.insert(table).values(**values).on_conflict_do_nothing(index_elements=conflict)
    elif name == "postgresql":
        stmt = (
            postgresql.insert(table)
            .values(**values)
            .on_conflict_do_nothing(index_elements=conflict)
        )
    else:
        try:
            async with conn.begin_nested():
                await conn.execute(insert(table).values(**values))
        except IntegrityError:
            return False
        return True
    result = await conn.execute(stmt)
    return bool(result.rowcount == 1)


async def exists(conn: AsyncConnection, table: Table, **where: Any) -> bool:
    """Whether ``table`` has a row matching every ``column=value`` in ``where``."""
    stmt = select(1).select_from(table).where(*(table.c[k] == v for k, v in where.items())).limit(1)
    return (await conn.execute(stmt)).first() is not None


KEYS_PER_STATEMENT = 200
"""Composite keys per lookup statement (:func:`keys_in`); SQLite parses an OR chain as a deep tree."""


def keys_in(
    dialect: str, columns: Sequence[ColumnElement[Any]], keys: Sequence[Sequence[Any]]
) -> ColumnElement[bool]:
    """``(c1, c2, …) IN (keys)`` that uses the composite index on ``columns`` on every backend.

    PostgreSQL plans the row-value ``IN`` as index probes. SQLite (3.40 here) plans it as a **full
    scan** of the table (``SCAN messages`` + ``LIST SUBQUERY``), so there it is rendered as
    ``(c1 = ? AND c2 = ?) OR …``, which SQLite runs as one index search per key (``MULTI-INDEX OR``).
    Pass at most :data:`KEYS_PER_STATEMENT` keys.
    """
    if dialect == "sqlite":
        return or_(*(and_(*(c == v for c, v in zip(columns, key, strict=True))) for key in keys))
    return tuple_(*columns).in_([tuple(k) for k in keys])
