"""Records and small helpers of the store."""

from __future__ import annotations

import dataclasses

import pytest

from chatterbox.store.records import RoomRecord, SessionRecord, UserRecord, dm_key
from chatterbox.store.sql_users import username_key


def test_dm_key_is_order_independent() -> None:
    assert dm_key("u_b", "u_a") == dm_key("u_a", "u_b") == "u_a:u_b"


def test_dm_peer() -> None:
    room = RoomRecord("r_x", "dm", "dm", None, "u_a", 0, 2, "u_a:u_b")
    assert room.dm_peer("u_a") == "u_b"
    assert room.dm_peer("u_b") == "u_a"
    public = dataclasses.replace(room, kind="public", dm_key=None)
    assert public.dm_peer("u_a") is None


def test_session_is_active() -> None:
    s = SessionRecord("s_x", "u_a", "h", 0, 0, 100, None, None, None)
    assert s.is_active(99)
    assert not s.is_active(100)
    assert not dataclasses.replace(s, revoked_at=5).is_active(50)


def test_records_are_frozen() -> None:
    user = UserRecord("u_a", "alice", "Alice", 0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        user.username = "bob"  # type: ignore[misc]


def test_username_key_casefolds() -> None:
    assert username_key("Alice") == username_key("ALICE") == "alice"
