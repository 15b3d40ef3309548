"""Persistence behind one interface (:class:`Store`): SQLite by default, or PostgreSQL.

Typical use::

    store = await open_store("sqlite+aiosqlite:///var/chatterbox.db", migrate=True)
    # or, shared by several server processes: open_store("postgresql+asyncpg://user:pw@host/chatterbox")
    try:
        message, created = await store.append_message(room_id, author_id, body, client_msg_id)
    finally:
        await store.close()
"""

from __future__ import annotations

from chatterbox.store.base import Store
from chatterbox.store.errors import (
    AlreadyMember,
    Conflict,
    MessageDeleted,
    MessageNotFound,
    NotFound,
    NotMember,
    RoomNotFound,
    StoreClosed,
    StoreError,
    UsernameTaken,
    UserNotFound,
)
from chatterbox.store.records import (
    EventKind,
    MemberRecord,
    MembershipRecord,
    MessageEditRecord,
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
    UserRoomRecord,
)
from chatterbox.store.sql import SqlStore, open_store

__all__ = [
    "AlreadyMember",
    "Conflict",
    "EventKind",
    "MemberRecord",
    "MembershipRecord",
    "MessageDeleted",
    "MessageEditRecord",
    "MessageNotFound",
    "MessageRecord",
    "NotFound",
    "NotMember",
    "ReceiptRecord",
    "ReceiptState",
    "RefreshTokenRecord",
    "Role",
    "RoomEventRecord",
    "RoomKind",
    "RoomNotFound",
    "RoomRecord",
    "SessionRecord",
    "SqlStore",
    "Store",
    "StoreClosed",
    "StoreError",
    "UserNotFound",
    "UserRecord",
    "UserRoomRecord",
    "UsernameTaken",
    "open_store",
]
