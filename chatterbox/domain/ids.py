"""Opaque, prefixed identifiers, matching the patterns in ``schema/common/*_id.json``."""

from __future__ import annotations

import secrets

__all__ = ["new_id", "new_message_id", "new_room_id", "new_session_id", "new_user_id"]

_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"
_LENGTH = 20  # 20 chars of base36 = ~103 bits: unguessable and collision-free in practice.


_SPACE = len(_ALPHABET) ** _LENGTH


def new_id(prefix: str) -> str:
    """Return ``prefix`` + ``_`` + 20 random lowercase base36 characters (one urandom call)."""
    n = secrets.randbelow(_SPACE)
    chars = []
    for _ in range(_LENGTH):
        n, digit = divmod(n, 36)
        chars.append(_ALPHABET[digit])
    return prefix + "_" + "".join(chars)


def new_user_id() -> str:
    """A new user id (``u_…``)."""
    return new_id("u")


def new_room_id() -> str:
    """A new room id (``r_…``)."""
    return new_id("r")


def new_message_id() -> str:
    """A new message id (``m_…``)."""
    return new_id("m")


def new_session_id() -> str:
    """A new session id (``s_…``)."""
    return new_id("s")
