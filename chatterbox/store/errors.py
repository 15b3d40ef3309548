"""Store-level exceptions. The layer above maps them to protocol error codes / HTTP statuses."""

from __future__ import annotations

__all__ = [
    "AlreadyMember",
    "Conflict",
    "MessageDeleted",
    "MessageNotFound",
    "NotFound",
    "NotMember",
    "RoomNotFound",
    "StoreClosed",
    "StoreError",
    "UserNotFound",
    "UsernameTaken",
]


class StoreError(Exception):
    """Base class of every error the store raises on purpose.

    A write raising a ``StoreError`` has written nothing (the writer relies on that: see
    :mod:`chatterbox.store.writer`).
    """


class StoreClosed(StoreError):
    """The store is closed (or closing) and accepts no more writes."""


class NotFound(StoreError):
    """Something the operation needs does not exist."""


class UserNotFound(NotFound):
    """No such user."""


class RoomNotFound(NotFound):
    """No such room."""


class MessageNotFound(NotFound):
    """No such message."""


class NotMember(NotFound):
    """The user is not a member of the room."""


class Conflict(StoreError):
    """The operation conflicts with the current state."""


class UsernameTaken(Conflict):
    """Another user already has this username (compared without regard to case)."""


class AlreadyMember(Conflict):
    """The user is already a member of the room."""


class MessageDeleted(Conflict):
    """The message is deleted; it can be neither edited nor deleted again."""
