"""The store interface the domain and API layers program against.

One implementation today (:class:`chatterbox.store.sql.SqlStore`: SQLite, later PostgreSQL, via
SQLAlchemy Core). Every method is a coroutine (writes return only once committed) except
:meth:`Store.append_message_nowait`, the hot path's callback form of :meth:`Store.append_message`.
Times are integer milliseconds since the epoch. Errors are :mod:`chatterbox.store.errors`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Protocol

from chatterbox.store.records import (
    MemberRecord,
    MembershipRecord,
    MessageEditRecord,
    MessageRecord,
    PublicRoomRecord,
    ReceiptContext,
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

__all__ = ["AppendDone", "Store"]

AppendDone = Callable[[tuple[MessageRecord, bool] | BaseException], None]
"""The callback of :meth:`Store.append_message_nowait`: ``(message, created)`` or the error."""


class Store(Protocol):
    """Persistence for Chatterbox (see the module docstring)."""

    # -- lifecycle -----------------------------------------------------------------------------------

    async def close(self) -> None:
        """Finish every pending write, then release the database connections."""
        ...

    # -- users ---------------------------------------------------------------------------------------

    async def create_user(
        self, username: str, display_name: str, password_hash: str | None = None
    ) -> UserRecord:
        """Create a user; :class:`~chatterbox.store.errors.UsernameTaken` if the name exists in any case."""
        ...

    async def get_user(self, user_id: str) -> UserRecord | None:
        """The user with this id, or None."""
        ...

    async def get_users(self, user_ids: Iterable[str]) -> dict[str, UserRecord]:
        """The users with these ids, by id (unknown ids left out)."""
        ...

    async def get_user_by_username(self, username: str) -> UserRecord | None:
        """Case-insensitive lookup by username."""
        ...

    async def search_users(self, prefix: str, limit: int = 20) -> list[UserRecord]:
        """Users whose username starts with ``prefix`` (case-insensitive)."""
        ...

    async def get_password_hash(self, user_id: str) -> str | None:
        """The stored password hash, or None."""
        ...

    async def set_password_hash(self, user_id: str, password_hash: str) -> None:
        """Set or replace the password hash."""
        ...

    async def set_display_name(self, user_id: str, display_name: str) -> UserRecord:
        """Change the display name; returns the updated user (:class:`UserNotFound` if unknown)."""
        ...

    # -- sessions and refresh tokens -----------------------------------------------------------------

    async def create_session(
        self,
        user_id: str,
        token_hash: str,
        expires_at: int,
        user_agent: str | None = None,
        ip: str | None = None,
    ) -> SessionRecord:
        """Create a session; ``token_hash`` is the sha256 hex of the bearer secret."""
        ...

    async def get_session(self, session_id: str) -> SessionRecord | None:
        """A session by id (revoked/expired included)."""
        ...

    async def get_session_by_token_hash(self, token_hash: str) -> SessionRecord | None:
        """A session by token hash (revoked/expired included: check ``is_active``)."""
        ...

    async def touch_session(self, session_id: str, now: int) -> None:
        """Record a use of the session (for idle expiry)."""
        ...

    async def revoke_session(self, session_id: str) -> bool:
        """Revoke a session and its refresh tokens; False if already revoked or unknown."""
        ...

    async def revoke_user_sessions(
        self, user_id: str, except_session_id: str | None = None
    ) -> list[str]:
        """Revoke all the user's active sessions but one; returns the revoked ids."""
        ...

    async def list_sessions(
        self, user_id: str, *, include_revoked: bool = False
    ) -> list[SessionRecord]:
        """The user's sessions, most recently used first."""
        ...

    async def purge_expired_sessions(self, now: int) -> int:
        """Delete sessions/refresh tokens past their absolute expiry; returns sessions deleted."""
        ...

    async def create_refresh_token(
        self, session_id: str, family_id: str, token_hash: str, expires_at: int
    ) -> RefreshTokenRecord:
        """Store a refresh token of a rotation family."""
        ...

    async def get_refresh_token(self, token_hash: str) -> RefreshTokenRecord | None:
        """A refresh token by hash (used/revoked included)."""
        ...

    async def mark_refresh_used(self, token_id: str) -> bool:
        """Consume a refresh token: True exactly once (False: reuse, revoke the family)."""
        ...

    async def revoke_refresh_family(self, family_id: str) -> int:
        """Revoke every token of the family; returns how many were revoked."""
        ...

    async def revoke_refresh_family_sessions(self, family_id: str) -> list[str]:
        """Revoke the family's tokens and every active session holding one; returns those session ids."""
        ...

    # -- rooms and memberships -----------------------------------------------------------------------

    async def create_room(
        self,
        kind: RoomKind,
        name: str,
        topic: str | None,
        created_by: str | None,
        owner_id: str,
    ) -> RoomRecord:
        """Create a public/private room owned by ``owner_id`` (``member.joined`` at seq 1)."""
        ...

    async def get_room(self, room_id: str) -> RoomRecord | None:
        """A room by id."""
        ...

    async def list_public_rooms(self) -> list[PublicRoomRecord]:
        """Every public room with its member count, by name (one query, whatever the number of rooms)."""
        ...

    async def list_user_rooms(self, user_id: str) -> list[UserRoomRecord]:
        """The user's rooms with role and ``last_seq``."""
        ...

    async def get_or_create_dm(self, user_a: str, user_b: str) -> tuple[RoomRecord, bool]:
        """The DM of two users, created if needed (exactly one per pair); ``(room, created)``."""
        ...

    async def ensure_default_room(
        self, room_id: str = "r_general", name: str = "general"
    ) -> RoomRecord:
        """Create the default public room if missing; return it."""
        ...

    async def add_member(
        self, room_id: str, user_id: str, role: Role = "member", by: str | None = None
    ) -> RoomEventRecord:
        """Add a member; returns the ``member.joined`` event."""
        ...

    async def remove_member(
        self, room_id: str, user_id: str, reason: str | None = None, by: str | None = None
    ) -> RoomEventRecord:
        """Remove a member; returns the ``member.left`` event."""
        ...

    async def set_role(self, room_id: str, user_id: str, role: Role) -> MembershipRecord:
        """Change a member's role."""
        ...

    async def get_membership(self, room_id: str, user_id: str) -> MembershipRecord | None:
        """A user's membership of a room, or None."""
        ...

    async def list_members(self, room_id: str) -> list[MemberRecord]:
        """The room's members with their user records."""
        ...

    # -- messages and history ------------------------------------------------------------------------

    async def append_message(
        self, room_id: str, author_id: str, body: str, client_msg_id: str | None = None
    ) -> tuple[MessageRecord, bool]:
        """Store a message with the room's next seq (idempotent on the client id); ``(msg, created)``."""
        ...

    def append_message_nowait(
        self, room_id: str, author_id: str, body: str, client_msg_id: str | None, done: AppendDone
    ) -> bool:
        """:meth:`append_message` without awaiting: ``done`` gets its result (or error) on the
        event loop once committed. False, with nothing queued, when the store cannot take the
        write now (busy or closing): then await :meth:`append_message`."""
        ...

    async def edit_message(
        self, message_id: str, new_body: str, at: int | None = None
    ) -> tuple[MessageRecord, int]:
        """Edit a message (history kept); ``(msg, seq of message.updated)``."""
        ...

    async def delete_message(
        self, message_id: str, at: int | None = None, by: str | None = None
    ) -> tuple[MessageRecord, int]:
        """Delete a message's body (placeholder stays); ``(msg, seq of message.deleted)``."""
        ...

    async def get_message(self, message_id: str) -> MessageRecord | None:
        """A message in its current state."""
        ...

    async def get_message_edits(self, message_id: str) -> list[MessageEditRecord]:
        """Earlier versions of a message's body, oldest first."""
        ...

    async def history_page(
        self, room_id: str, before_seq: int | None, limit: int
    ) -> tuple[list[MessageRecord], bool]:
        """A page of messages before ``before_seq``, oldest first; and ``has_more``."""
        ...

    async def events_since(
        self, room_id: str, after_seq: int, limit: int = 500
    ) -> list[RoomEventRecord]:
        """Room events after ``after_seq`` in order, with messages' current state (resume)."""
        ...

    async def unread_count(
        self, room_id: str, user_id: str, after_seq: int, cap: int | None = None
    ) -> int:
        """Others' undeleted messages after ``after_seq``."""
        ...

    async def unread_counts(
        self, user_id: str, room_ids: Sequence[str], cap: int | None = None
    ) -> dict[str, int]:
        """For each room, others' undeleted messages after the user's ``seen`` marker (one read)."""
        ...

    # -- receipts ------------------------------------------------------------------------------------

    async def get_receipts(self, room_id: str) -> list[ReceiptRecord]:
        """Every receipt marker of the room."""
        ...

    async def get_receipt(
        self, room_id: str, user_id: str, state: ReceiptState
    ) -> ReceiptRecord | None:
        """One marker, or None."""
        ...

    async def receipt_context(self, room_id: str, user_id: str, message_id: str) -> ReceiptContext:
        """The message and the user's two markers in the room, in one read."""
        ...

    async def upsert_receipt(
        self,
        room_id: str,
        user_id: str,
        state: ReceiptState,
        message_id: str,
        seq: int,
        at: int,
    ) -> bool:
        """Move a marker forward only; returns whether it moved."""
        ...
