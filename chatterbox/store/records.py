"""Plain, immutable records returned by the store.

The layer above builds the wire shapes (``schema/common/*.json``) from these. Times are integer milliseconds
since the Unix epoch; render them with :func:`chatterbox.domain.clock.format_ms`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, NamedTuple

__all__ = [
    "EventKind",
    "MemberRecord",
    "MembershipRecord",
    "MessageEditRecord",
    "MessageRecord",
    "PublicRoomRecord",
    "ReceiptContext",
    "ReceiptRecord",
    "ReceiptState",
    "RefreshTokenRecord",
    "Role",
    "RoomEventRecord",
    "RoomKind",
    "RoomRecord",
    "SessionRecord",
    "UserRecord",
    "UserRoomRecord",
    "dm_key",
]

RoomKind = Literal["public", "private", "dm"]
"""``schema/common/room_kind.json``."""
Role = Literal["owner", "admin", "member"]
"""``schema/common/role.json``."""
ReceiptState = Literal["delivered", "seen"]
"""``schema/common/receipt_state.json``."""
EventKind = Literal[
    "message.created", "message.updated", "message.deleted", "member.joined", "member.left"
]
"""Kinds of durable room events (each one has a per-room ``seq``)."""


def dm_key(user_a: str, user_b: str) -> str:
    """The unique key of the DM between two users: both ids sorted, joined by ``:``."""
    first, second = sorted((user_a, user_b))
    return f"{first}:{second}"


@dataclass(frozen=True, slots=True)
class UserRecord:
    """A user (``schema/common/user.json`` plus ``created_at``)."""

    id: str
    username: str
    display_name: str
    created_at: int


@dataclass(frozen=True, slots=True)
class SessionRecord:
    """A login session. ``token_hash`` is the sha256 hex of the bearer secret."""

    id: str
    user_id: str
    token_hash: str
    created_at: int
    last_used_at: int
    expires_at: int
    revoked_at: int | None
    user_agent: str | None
    ip: str | None

    def is_active(self, now: int) -> bool:
        """Not revoked and not past its absolute expiry (idle expiry is the auth layer's rule)."""
        return self.revoked_at is None and now < self.expires_at


@dataclass(frozen=True, slots=True)
class RefreshTokenRecord:
    """A single-use refresh token; rotation keeps every token of a chain in one ``family_id``."""

    id: str
    family_id: str
    session_id: str
    token_hash: str
    created_at: int
    expires_at: int
    used_at: int | None
    revoked_at: int | None


@dataclass(frozen=True, slots=True)
class RoomRecord:
    """A room. ``last_seq`` is the seq of its latest durable event (0: none yet)."""

    id: str
    kind: RoomKind
    name: str
    topic: str | None
    created_by: str | None
    created_at: int
    last_seq: int
    dm_key: str | None

    def dm_peer(self, user_id: str) -> str | None:
        """For a DM, the other participant's id (``user_id`` itself for a self-DM); else None."""
        if self.dm_key is None:
            return None
        first, _, second = self.dm_key.partition(":")
        return second if first == user_id else first


@dataclass(frozen=True, slots=True)
class UserRoomRecord:
    """A room as one of its members sees it: the room plus that member's role."""

    room: RoomRecord
    role: Role
    joined_at: int


@dataclass(frozen=True, slots=True)
class PublicRoomRecord:
    """A public room as the directory lists it: the room plus how many members it has now."""

    room: RoomRecord
    member_count: int


@dataclass(frozen=True, slots=True)
class MembershipRecord:
    """One user's membership of one room."""

    room_id: str
    user_id: str
    role: Role
    joined_at: int


@dataclass(frozen=True, slots=True)
class MemberRecord:
    """A membership together with the member's user record (for member lists)."""

    membership: MembershipRecord
    user: UserRecord


class MessageRecord(NamedTuple):
    """A message (``schema/common/message.json`` with ``author_id`` instead of ``author``).

    A named tuple rather than a frozen dataclass like the other records: one is built per message
    stored and per message read, and a frozen dataclass's ``__init__`` (a guarded ``__setattr__``
    per field) costs ~1.6 µs against ~0.2 µs here. Change fields with ``_replace``.
    """

    id: str
    room_id: str
    seq: int
    author_id: str
    body: str | None
    client_msg_id: str | None
    created_at: int
    edited_at: int | None
    deleted_at: int | None


@dataclass(frozen=True, slots=True)
class MessageEditRecord:
    """An earlier version of a message's body, replaced at ``edited_at``."""

    id: int
    message_id: str
    body: str
    edited_at: int


@dataclass(frozen=True, slots=True)
class RoomEventRecord:
    """A durable room event, with the message's *current* state for message events.

    ``user_id``: for message events the actor (author, or who deleted); for membership events the member.
    ``payload``: for membership events ``{"role": ..., "by": ...}`` (joined) or
    ``{"reason": ..., "by": ...}`` (left).
    """

    room_id: str
    seq: int
    kind: EventKind
    message_id: str | None
    user_id: str | None
    payload: dict[str, Any] | None
    created_at: int
    message: MessageRecord | None = None


@dataclass(frozen=True, slots=True)
class ReceiptRecord:
    """A user's 'delivered up to' / 'seen up to' marker in a room (``schema/common/receipt_marker.json``)."""

    room_id: str
    user_id: str
    state: ReceiptState
    message_id: str
    seq: int
    at: int


@dataclass(frozen=True, slots=True)
class ReceiptContext:
    """What a ``receipt`` command is checked against, read in one snapshot."""

    message: MessageRecord | None
    """The message the receipt names, or None when there is no such message."""
    delivered: ReceiptRecord | None
    """The sender's ``delivered`` marker in the room, or None."""
    seen: ReceiptRecord | None
    """The sender's ``seen`` marker in the room, or None."""
