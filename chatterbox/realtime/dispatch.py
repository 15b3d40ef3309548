"""Inbound frames: rate limit, codec, duplicate ids, then one handler per command type.

:meth:`Dispatcher.handle` never awaits: cheap commands (``ping``, ``typing``, ``presence.set``)
are answered inline. ``message.send`` — the hot path — is queued for group commit at once, with a
callback that publishes the message and sends the ``ack`` right after the commit
(:meth:`.Messaging.send_nowait`): no task, future or coroutine per message. When that cannot serve
it (a refused post, whose error needs a read; a full write queue), and for every other command, the
command runs as a task, one per command, started in arrival order; a connection's later sends take
the task path too while one of its sends does, so its ``message.send`` commands reach the
group-commit queue in the order they were sent.
Every command gets exactly one answer: ``ack`` (or ``pong`` / ``history`` + ``ack``) or ``error``.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Callable, Coroutine
from typing import Any

import orjson
from pydantic import BaseModel

from chatterbox.domain import clock
from chatterbox.protocol.codec import Codec, FrameError
from chatterbox.protocol.models.client.history import HistoryCommand
from chatterbox.protocol.models.client.message_delete import MessageDelete
from chatterbox.protocol.models.client.message_edit import MessageEdit
from chatterbox.protocol.models.client.message_send import MessageSend
from chatterbox.protocol.models.client.presence_set import PresenceSet
from chatterbox.protocol.models.client.receipt import ReceiptCommand
from chatterbox.protocol.models.client.resume import ResumeCommand
from chatterbox.protocol.models.client.typing import TypingCommand
from chatterbox.realtime import frames
from chatterbox.realtime.connection import Connection
from chatterbox.realtime.hub import Hub
from chatterbox.realtime.session import replay_room
from chatterbox.realtime.state import ConnState
from chatterbox.service.messaging import CommandError

__all__ = ["Dispatcher"]

_log = logging.getLogger(__name__)
_ID = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
JSON = dict[str, Any]


def _peek_id(data: str | bytes) -> str | None:
    """The command id of a frame refused before decoding (rate limit), if cheaply readable."""
    if not isinstance(data, str) or len(data) > 65536:
        return None
    try:
        obj = orjson.loads(data)
    except orjson.JSONDecodeError:
        return None
    value = obj.get("id") if isinstance(obj, dict) else None
    return value if isinstance(value, str) and _ID.fullmatch(value) else None


class Dispatcher:
    """Turns inbound frames into use-case calls and answers."""

    def __init__(self, hub: Hub, codec: Codec | None = None) -> None:
        self.hub = hub
        self.codec = codec or Codec("client", max_frame_bytes=hub.settings.max_frame_bytes)
        self._async: dict[str, Callable[[Connection, Any], Coroutine[Any, Any, None]]] = {
            "message.send": self._send,
            "message.edit": self._edit,
            "message.delete": self._delete,
            "receipt": self._receipt,
            "history": self._history,
            "resume": self._resume,
        }

    def handle(self, conn: Connection, data: str | bytes) -> None:
        """Process one inbound WebSocket message (never awaits)."""
        if conn.state is not ConnState.OPEN:
            return
        allowed, retry_after_ms = conn.bucket.take(clock.now_ms())
        if not allowed:
            conn.refused_in_a_row += 1
            if conn.refused_in_a_row > self.hub.settings.rate_burst:
                conn.request_close(1008, "rate limit exceeded")
                return
            self._error(
                conn,
                "rate_limited",
                "Too many frames",
                re=_peek_id(data),
                retry_after_ms=max(1, retry_after_ms),
            )
            return
        conn.refused_in_a_row = 0
        frame = self.codec.decode(data)
        if isinstance(frame, FrameError):
            self.hub.metrics.errors.labels(frame.code).inc()
            conn.send_frame(frame.to_frame())
            if frame.code == "frame_too_large":
                conn.request_close(1009, "frame too large")
            return
        kind: str = getattr(frame, "type", "")
        cid: str = getattr(frame, "id", "")
        self.hub.metrics.loop.frames_in[kind] += 1
        if cid in conn.inflight:
            self._error(conn, "duplicate_id", "This id is already in flight", pointer="/id")
            return
        if kind == "ping":
            conn.send_frame(frames.pong(cid))
        elif isinstance(frame, TypingCommand):
            self._typing(conn, frame)
        elif isinstance(frame, PresenceSet):
            status = self.hub.set_presence(conn, frame.status)
            conn.send_frame(frames.ack(cid, {"status": status}))
        else:
            conn.inflight.add(cid)
            if isinstance(frame, MessageSend):
                if not conn.slow_sends and self._send_now(conn, frame):
                    return
                conn.slow_sends += 1  # taken back by _send
            handler = self._async[kind]
            task = asyncio.get_running_loop().create_task(
                self._run(conn, kind, cid, handler, frame)
            )
            conn.tasks.add(task)
            task.add_done_callback(conn.tasks.discard)

    def _error(
        self,
        conn: Connection,
        code: Any,
        message: str,
        *,
        re: str | None = None,
        pointer: str | None = None,
        retry_after_ms: int | None = None,
    ) -> None:
        self.hub.metrics.errors.labels(code).inc()
        conn.send_frame(
            frames.error(code, message, re=re, pointer=pointer, retry_after_ms=retry_after_ms)
        )

    async def _run(
        self,
        conn: Connection,
        kind: str,
        cid: str,
        handler: Callable[[Connection, Any], Coroutine[Any, Any, None]],
        frame: BaseModel,
    ) -> None:
        started = time.perf_counter()
        try:
            await handler(conn, frame)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self._failed(conn, kind, cid, exc)
        finally:
            self._done(conn, kind, cid, started)

    def _failed(self, conn: Connection, kind: str, cid: str, exc: BaseException) -> None:
        """Answer a command that raised: its ``CommandError``, or ``internal_error`` (logged)."""
        if isinstance(exc, CommandError):
            self._error(conn, exc.code, exc.message, re=cid, pointer=exc.pointer)
        else:
            _log.error("%s failed on %r", kind, conn, exc_info=exc)
            self._error(conn, "internal_error", "Internal error: retry the command", re=cid)

    def _done(self, conn: Connection, kind: str, cid: str, started: float) -> None:
        """The command is answered: its id is free again; record its latency."""
        conn.inflight.discard(cid)
        self.hub.metrics.loop.observe_latency(kind, time.perf_counter() - started)

    # -- commands ----------------------------------------------------------------------------------

    def _typing(self, conn: Connection, cmd: TypingCommand) -> None:
        room_id = str(cmd.room_id)
        if room_id not in conn.rooms:
            self._error(conn, "not_found", "No such room", re=cmd.id)
            return
        expires = self.hub.set_typing(conn, room_id, cmd.state)
        conn.send_frame(
            frames.ack(cmd.id, {"room_id": room_id, "state": cmd.state, "expires_in_ms": expires})
        )

    def _send_now(self, conn: Connection, cmd: MessageSend) -> bool:
        """``message.send`` without a task (module docstring); False: use the task path."""
        cid = cmd.id
        room_id = str(cmd.room_id)
        started = time.perf_counter()

        def reply(result: tuple[JSON, bool] | BaseException) -> None:
            conn.send_answered()
            if isinstance(result, BaseException):
                self._failed(conn, "message.send", cid, result)
            else:
                self._acked(conn, cid, room_id, *result)
            self._done(conn, "message.send", cid, started)

        conn.send_queued()
        body, key = cmd.body, str(cmd.client_msg_id)
        if self.hub.messaging.send_nowait(
            conn.user, conn.rooms.get(room_id), room_id, body, key, reply
        ):
            return True
        conn.send_answered()
        return False

    async def _send(self, conn: Connection, cmd: MessageSend) -> None:
        try:
            room_id = str(cmd.room_id)
            view, created = await self.hub.messaging.send(
                conn.user, conn.rooms.get(room_id), room_id, cmd.body, str(cmd.client_msg_id)
            )
            self._acked(conn, cmd.id, room_id, view, created)
        finally:
            conn.slow_sends -= 1

    def _acked(self, conn: Connection, cid: str, room_id: str, view: JSON, created: bool) -> None:
        if created:
            self.hub.metrics.loop.messages_stored += 1
        self.hub.clear_typing(room_id, conn.user.id)
        conn.send_frame(frames.ack(cid, {"message": view}))

    async def _edit(self, conn: Connection, cmd: MessageEdit) -> None:
        view = await self.hub.messaging.edit(
            conn.user, conn.rooms.get, str(cmd.message_id), cmd.body
        )
        conn.send_frame(frames.ack(cmd.id, {"message": view}))

    async def _delete(self, conn: Connection, cmd: MessageDelete) -> None:
        view = await self.hub.messaging.delete(conn.user, conn.rooms.get, str(cmd.message_id))
        conn.send_frame(frames.ack(cmd.id, {"message": view}))

    async def _receipt(self, conn: Connection, cmd: ReceiptCommand) -> None:
        room_id = str(cmd.room_id)
        marker, moved = await self.hub.receipts.apply(
            conn.user.id, conn.rooms.get(room_id), room_id, str(cmd.message_id), cmd.state
        )
        conn.send_frame(frames.ack(cmd.id, {"marker": marker}))
        if moved:
            self.hub.add_markers(moved, origin=conn)

    async def _history(self, conn: Connection, cmd: HistoryCommand) -> None:
        room_id = str(cmd.room_id)
        if room_id not in conn.rooms:
            raise CommandError("not_found", "No such room")
        page, count = await self.hub.timeline.page(room_id, cmd.before, cmd.limit, conn.zone)
        conn.send_frame({"type": "history", "re": cmd.id, **page})
        conn.send_frame(frames.ack(cmd.id, {"room_id": room_id, "count": count}))

    async def _resume(self, conn: Connection, cmd: ResumeCommand) -> None:
        result: dict[str, int] = {}
        async with conn.replay_lock:
            for raw_id, given in cmd.rooms.items():
                room_id = str(raw_id)
                if room_id not in conn.rooms:
                    room = await self.hub.store.get_room(room_id)
                    reason = "room_deleted" if room is None else "access_lost"
                    conn.send_frame(frames.resync(room_id, reason))
                    continue
                conn.hold(room_id)
                try:
                    room = await self.hub.store.get_room(room_id)
                    last = 0 if room is None else room.last_seq
                    now = await replay_room(self.hub, conn, room_id, min(int(given), last))
                    if room_id in conn.rooms:
                        await self._room_state(conn, room_id)
                        result[room_id] = now
                finally:
                    conn.release(room_id)
        conn.send_frame(frames.ack(cmd.id, {"rooms": result}))

    async def _room_state(self, conn: Connection, room_id: str) -> None:
        markers = await self.hub.timeline.markers(room_id)
        if markers:
            conn.send_frame({"type": "receipt", "room_id": room_id, "markers": markers})
        members = await self.hub.store.list_members(room_id)
        for state in self.hub.presence_states(m.user.id for m in members):
            conn.send_frame({"type": "presence", **state})
