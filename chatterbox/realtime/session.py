"""Opening a connection (the ``hello`` snapshot) and replaying a room's events (``resume``).

Consistency of ``hello`` with the live stream: the connection is registered and holds every
room's live events *before* the snapshot is read; after ``hello`` is written, a room whose live
stream moved past the snapshot in the meantime is caught up from the store (events after the
snapshot's ``last_seq``), then its held events are released above the cursor. So every event after
``hello.rooms[].last_seq`` reaches the connection, in order, and none twice.
"""

from __future__ import annotations

from typing import Any

from chatterbox import __version__
from chatterbox.domain import permissions
from chatterbox.realtime.connection import Connection
from chatterbox.realtime.frames import resync
from chatterbox.realtime.hub import Hub
from chatterbox.realtime.state import ConnState
from chatterbox.service.messaging import Access
from chatterbox.service.timeline import HELLO_HISTORY
from chatterbox.service.views import user_view

__all__ = ["MAX_BODY_CHARS", "PROTOCOL", "open_connection", "replay_room"]

PROTOCOL = "chatterbox.v1"
"""The subprotocol (and ``hello.protocol``)."""
MAX_BODY_CHARS = 4000
"""``limits.max_body_chars`` (the schema's bound)."""
HISTORY_MAX_LIMIT = 100
"""``limits.history_max_limit`` (the schema's bound)."""

JSON = dict[str, Any]


async def open_connection(hub: Hub, conn: Connection) -> None:
    """Register, snapshot, write ``hello``, go ``open``, then catch up rooms that moved meanwhile
    (at most ``hello_concurrency`` connections at a time: :attr:`Hub.hello_slots`)."""
    async with hub.hello_slots:
        await _open(hub, conn)


async def _open(hub: Hub, conn: Connection) -> None:
    if conn.state is not ConnState.CONNECTING:  # gone while waiting for a slot
        return
    hub.register(conn)
    user = conn.user
    rooms = await hub.store.list_user_rooms(user.id)
    readable = [r for r in rooms if permissions.can_read(r.room.kind, r.role)]
    snapshot: dict[str, int] = {}
    for r in readable:
        if conn.state is not ConnState.CONNECTING:
            return
        hub.subscribe(conn, r.room.id, Access(r.role, r.room.kind), r.room.last_seq, snapshot=True)
        snapshot[r.room.id] = r.room.last_seq
        conn.cursor[r.room.id] = r.room.last_seq
    hub.presence_opened(conn)
    ids = [r.room.id for r in readable]
    active = conn.requested_room if conn.requested_room in snapshot else (ids[0] if ids else None)
    room_views = await hub.timeline.rooms(user, readable)
    history = None
    receipts: list[JSON] = []
    if active is not None:
        history, _ = await hub.timeline.page(active, None, HELLO_HISTORY, conn.zone)
        hub.note_history(active, history, snapshot[active])
        receipts = await hub.timeline.markers(active)
    settings = hub.settings
    hello: JSON = {
        "type": "hello",
        "protocol": PROTOCOL,
        "server_version": __version__,
        "session_id": conn.session_id,
        "user": user_view(user),
        "time_zone": conn.zone_name,
        "heartbeat_interval_ms": settings.heartbeat_interval_ms,
        "typing_timeout_ms": settings.typing_timeout_ms,
        "limits": {
            "max_frame_bytes": settings.max_frame_bytes,
            "max_body_chars": MAX_BODY_CHARS,
            "history_max_limit": HISTORY_MAX_LIMIT,
            "rate_per_second": settings.rate_per_second,
            "rate_burst": settings.rate_burst,
        },
        "rooms": room_views,
        "active_room_id": active,
        "history": history,
        "receipts": receipts,
        "presence": hub.presence_for(frozenset(conn.rooms)),
    }
    if conn.state is not ConnState.CONNECTING:
        return
    conn.send_frame(hello)
    conn.sm.to(ConnState.OPEN)
    conn.hold_all = False
    conn.flush_early()
    behind = []
    for room_id in set(conn.held) | set(conn.rooms):
        known = snapshot.get(room_id)
        if known is not None and hub.sequencer.released(room_id) > known:
            behind.append((room_id, known))
        else:
            conn.release(room_id)
    if behind:
        hub.spawn(_catch_up(hub, conn, behind))


async def _catch_up(hub: Hub, conn: Connection, rooms: list[tuple[str, int]]) -> None:
    async with conn.replay_lock:
        for room_id, after in rooms:
            await replay_room(hub, conn, room_id, after)
            conn.release(room_id)


async def replay_room(hub: Hub, conn: Connection, room_id: str, after_seq: int) -> int:
    """Write every durable event of the room after ``after_seq`` (the room must be held by the
    caller, who releases it); returns the seq the connection is now at."""
    conn.hold(room_id)
    conn.cursor[room_id] = after_seq
    async for page in hub.timeline.replay(room_id, after_seq):
        await conn.sender.wait_drained()
        if conn.state is not ConnState.OPEN:
            break
        for seq, frame in page:
            if seq > conn.cursor.get(room_id, 0):
                conn.send_frame(frame)
                conn.cursor[room_id] = seq
    now = conn.cursor.get(room_id, after_seq)
    if room_id not in conn.rooms:  # left (or removed) while replaying
        conn.cursor.pop(room_id, None)
        conn.held.pop(room_id, None)
        conn.send_frame(resync(room_id, "access_lost"))
    return now
