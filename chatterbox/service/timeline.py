"""Reading a room's timeline: history pages, the ``hello`` snapshot, and event replay for resume.

Everything here renders store records into protocol JSON (``schema/common``) with
:mod:`chatterbox.service.views`; authors come from the :class:`UserDirectory` cache, so a page
costs one indexed read plus, at most, one user lookup for authors not seen yet.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any
from zoneinfo import ZoneInfo

from chatterbox.service.directory import UserDirectory
from chatterbox.service.messaging import CommandError
from chatterbox.service.views import (
    UNREAD_CAP,
    InvalidCursor,
    decode_cursor,
    history_page_view,
    marker_view,
    membership_frame,
    message_view,
    room_view,
)
from chatterbox.store.base import Store
from chatterbox.store.records import RoomEventRecord, UserRecord, UserRoomRecord

__all__ = ["HELLO_HISTORY", "REPLAY_PAGE", "Timeline"]

JSON = dict[str, Any]

HELLO_HISTORY = 50
"""Messages of the active room in ``hello``."""
REPLAY_PAGE = 500
"""Events read per query while replaying."""


class Timeline:
    """History pages, room lists and event replay, rendered for the wire."""

    def __init__(self, *, store: Store, users: UserDirectory) -> None:
        self._store = store
        self._users = users

    async def page(
        self, room_id: str, before: str | None, limit: int, zone: ZoneInfo
    ) -> tuple[JSON, int]:
        """``HistoryPage`` of up to ``limit`` messages before the cursor; and its message count."""
        before_seq = None
        if before is not None:
            try:
                before_seq = decode_cursor(before)
            except InvalidCursor:
                raise CommandError(
                    "invalid_frame",
                    "Unknown cursor: pass a next_cursor back unchanged",
                    pointer="/before",
                ) from None
        messages, has_more = await self._store.history_page(room_id, before_seq, limit)
        authors = await self._users.get_many({m.author_id for m in messages})
        view = history_page_view(room_id, messages, authors, has_more=has_more, zone=zone)
        return view, len(messages)

    async def rooms(self, user: UserRecord, rooms: Sequence[UserRoomRecord]) -> list[JSON]:
        """``Room`` views for the user: unread counts after their ``seen`` marker, DM peers."""
        peers = await self._users.get_many(
            p for r in rooms if (p := r.room.dm_peer(user.id)) is not None
        )
        unread = await self._store.unread_counts(
            user.id, [r.room.id for r in rooms], cap=UNREAD_CAP
        )
        out: list[JSON] = []
        for r in rooms:
            peer_id = r.room.dm_peer(user.id)
            out.append(
                room_view(
                    r.room,
                    role=r.role,
                    unread_count=unread.get(r.room.id, 0),
                    dm_user=None if peer_id is None else peers.get(peer_id),
                )
            )
        return out

    async def markers(self, room_id: str) -> list[JSON]:
        """Current receipt markers of the room."""
        return [marker_view(r) for r in await self._store.get_receipts(room_id)]

    async def event_frames(self, events: Sequence[RoomEventRecord]) -> list[tuple[int, JSON]]:
        """The server frames of stored events (messages in their current state), with seqs."""
        wanted = {e.message.author_id for e in events if e.message is not None}
        wanted |= {e.user_id for e in events if e.message is None and e.user_id is not None}
        users = await self._users.get_many(wanted)
        out: list[tuple[int, JSON]] = []
        for e in events:
            if e.message is not None:
                author = users.get(e.message.author_id)
                if author is None:
                    continue
                frame = {
                    "type": e.kind,
                    "room_id": e.room_id,
                    "seq": e.seq,
                    "message": message_view(e.message, author),
                }
            else:
                member = users.get(e.user_id or "")
                if member is None or e.kind not in ("member.joined", "member.left"):
                    continue
                frame = membership_frame(e, member)
            out.append((e.seq, frame))
        return out

    async def replay(self, room_id: str, after_seq: int) -> AsyncIterator[list[tuple[int, JSON]]]:
        """Every event after ``after_seq``, in pages, in ``seq`` order (the window is the DB)."""
        while True:
            events = await self._store.events_since(room_id, after_seq, REPLAY_PAGE)
            if not events:
                return
            yield await self.event_frames(events)
            if len(events) < REPLAY_PAGE:
                return
            after_seq = events[-1].seq
