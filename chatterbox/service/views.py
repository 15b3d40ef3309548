"""Store records → the protocol's JSON shapes (``schema/common/*.json``), shared by REST and WS."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Mapping
from typing import Any
from zoneinfo import ZoneInfo

from chatterbox.domain.clock import format_ms
from chatterbox.domain.days import group_by_day
from chatterbox.store.records import (
    MemberRecord,
    MessageRecord,
    ReceiptRecord,
    RoomEventRecord,
    RoomRecord,
    UserRecord,
)

__all__ = [
    "UNREAD_CAP",
    "InvalidCursor",
    "decode_cursor",
    "encode_cursor",
    "history_page_view",
    "marker_view",
    "member_view",
    "membership_frame",
    "message_view",
    "room_view",
    "user_view",
]

JSON = dict[str, Any]

UNREAD_CAP = 1000
"""Unread counts stop at this value (clients show "999+"), so joining never scans a whole room."""


class InvalidCursor(ValueError):
    """A ``before`` cursor that this server did not issue."""


def user_view(user: UserRecord) -> JSON:
    """``User``."""
    return {"id": user.id, "username": user.username, "display_name": user.display_name}


def message_view(message: MessageRecord, author: UserRecord) -> JSON:
    """``Message``: a deleted message keeps its place with ``body`` null."""
    edited_at, deleted_at = message.edited_at, message.deleted_at  # one view per message sent
    return {
        "id": message.id,
        "room_id": message.room_id,
        "seq": message.seq,
        "author": user_view(author),
        "body": None if deleted_at is not None else message.body,
        "client_msg_id": message.client_msg_id,
        "created_at": format_ms(message.created_at),
        "edited_at": None if edited_at is None else format_ms(edited_at),
        "deleted_at": None if deleted_at is None else format_ms(deleted_at),
    }


def room_view(
    room: RoomRecord,
    *,
    role: str,
    unread_count: int,
    dm_user: UserRecord | None,
) -> JSON:
    """``Room`` as seen by one member (a DM is named after the other participant)."""
    name = dm_user.display_name if (room.kind == "dm" and dm_user is not None) else room.name
    return {
        "id": room.id,
        "kind": room.kind,
        "name": name,
        "topic": room.topic,
        "role": role,
        "last_seq": room.last_seq,
        "unread_count": unread_count,
        "dm_user": user_view(dm_user) if (room.kind == "dm" and dm_user is not None) else None,
    }


def marker_view(receipt: ReceiptRecord) -> JSON:
    """``ReceiptMarker``."""
    return {
        "user_id": receipt.user_id,
        "room_id": receipt.room_id,
        "state": receipt.state,
        "message_id": receipt.message_id,
        "seq": receipt.seq,
        "at": format_ms(receipt.at),
    }


def encode_cursor(seq: int) -> str:
    """An opaque cursor meaning "messages before ``seq``"."""
    return base64.urlsafe_b64encode(f"s{seq}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    """Inverse of :func:`encode_cursor`; raises :class:`InvalidCursor`."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise InvalidCursor(cursor) from exc
    if not raw.startswith("s") or not raw[1:].isdigit() or len(raw) > 20:
        raise InvalidCursor(cursor)
    return int(raw[1:])


def history_page_view(
    room_id: str,
    messages: Iterable[MessageRecord],
    authors: Mapping[str, UserRecord],
    *,
    has_more: bool,
    zone: ZoneInfo,
) -> JSON:
    """``HistoryPage``: oldest first, grouped by local day; ``next_cursor`` pages further back."""
    ordered = list(messages)
    groups = group_by_day(
        [(m.created_at, message_view(m, authors[m.author_id])) for m in ordered], zone
    )
    return {
        "room_id": room_id,
        "days": [{"date": g.date, "messages": list(g.items)} for g in groups],
        "has_more": has_more,
        "next_cursor": encode_cursor(ordered[0].seq) if (has_more and ordered) else None,
    }


def member_view(member: MemberRecord) -> JSON:
    """A room member as the REST API lists them: ``{"user": User, "role", "joined_at"}``."""
    return {
        "user": user_view(member.user),
        "role": member.membership.role,
        "joined_at": format_ms(member.membership.joined_at),
    }


def membership_frame(event: RoomEventRecord, user: UserRecord) -> JSON:
    """The ``member.joined`` / ``member.left`` server frame of a membership event about ``user``."""
    payload = event.payload or {}
    frame: JSON = {
        "type": event.kind,
        "room_id": event.room_id,
        "seq": event.seq,
        "user": user_view(user),
    }
    if event.kind == "member.joined":
        frame["role"] = payload.get("role", "member")
    elif event.kind == "member.left":
        frame["reason"] = "removed" if payload.get("reason") == "removed" else "left"
    else:
        raise ValueError(f"not a membership event: {event.kind}")
    frame["by"] = payload.get("by")
    frame["at"] = format_ms(event.created_at)
    return frame
