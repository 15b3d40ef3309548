"""The fan-out fast path: a frame encoded once, written as the same bytes to every recipient.

uvicorn's ASGI ``send`` (websockets-sansio) costs a coroutine, ``str.encode`` and a websockets
``Frame.serialize`` per recipient, although a server-to-client text frame without extensions is
the same bytes for everyone (unmasked, RFC 6455 §5.2). :func:`outgoing` messages therefore carry
that frame once, under :data:`WIRE_KEY`, and :class:`DirectWire` writes it straight to the
connection's transport when doing so is exactly what ``send`` would do: handshake done, the
websockets state OPEN, no close sent, no extension negotiated, no fragmented message in progress,
nothing buffered in the protocol, and the transport not paused. Otherwise
:meth:`DirectWire.write` returns False and the caller uses the ordinary ASGI ``send`` (which
then pauses, raises or drops the frame just as before).

:class:`CaptureWire`, the outermost middleware, finds the uvicorn protocol behind the server's own
``send`` (a bound method of ``WebSocketsSansIOProtocol``) and puts a :class:`DirectWire` in the
scope under :data:`SCOPE_KEY`; under any other server (tests' ``TestClient``, another ``ws``
implementation) nothing is captured and every frame goes through ``send``.

**Write coalescing.** :meth:`DirectWire.write` does not call ``transport.write`` at once: it appends
the frame to the connection's pending bytes, and one callback per event-loop iteration
(:class:`WireBatch`, scheduled by the first write of the iteration) writes each connection's
pending frames with one ``transport.write``. A group commit resolves many ``message.send``
commands in the same iteration, so a recipient gets the batch's ``message.created`` frames, and a
sender its own frames and ``ack`` answers, in one system call instead of one each; the frames go
out one loop iteration later (microseconds). Order is kept: before anything else is written
through ``send`` (a paused socket's outbox, a close frame) the sender calls
:meth:`DirectWire.flush`; pending frames are dropped only when the connection is no longer open
(a data frame must not follow a close frame).

**Inbound, the same way** (:meth:`DirectWire.receive_directly`). uvicorn puts each received
message on an ``asyncio.Queue`` that the app's ``receive()`` awaits, and pauses reading the socket
after every message until the app has taken it: per read, a task wake-up, the queue's Python
methods and two ``epoll_ctl`` calls (pause, resume). The dispatcher never awaits, so once the
connection is open a received message is handed to it inside uvicorn's ``data_received``: the
queue is replaced by an :class:`Inlet`, a queue that passes ``websocket.receive`` messages to a
handler as they are parsed, in order, and queues every other event (the disconnect) for
``receive()`` as before. Nothing then waits for the app to take a message, so uvicorn is told that
reading is already paused (``read_paused``), which stops it pausing the socket after each one.
"""

from __future__ import annotations

import asyncio
import logging
import struct
from collections.abc import Callable
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.protocol import State

from chatterbox.realtime.reader import FastReader

__all__ = [
    "SCOPE_KEY",
    "WIRE_KEY",
    "CaptureWire",
    "DirectWire",
    "Inlet",
    "WireBatch",
    "text_frame",
]

_log = logging.getLogger(__name__)

WIRE_KEY = "chatterbox.wire"
"""Key of the pre-encoded WebSocket frame in an outgoing ASGI message (ignored by servers)."""
SCOPE_KEY = "chatterbox.wire"
"""Scope key of the connection's :class:`DirectWire` (set by :class:`CaptureWire`)."""

_OPEN = State.OPEN
_H16 = struct.Struct("!BBH")
_H64 = struct.Struct("!BBQ")


def text_frame(payload: bytes) -> bytes:
    """A final, unmasked text frame carrying ``payload`` (UTF-8), as a server sends it."""
    n = len(payload)
    if n < 126:
        return bytes((0x81, n)) + payload
    if n < 65536:
        return _H16.pack(0x81, 126, n) + payload
    return _H64.pack(0x81, 127, n) + payload


class WireBatch:
    """The connections with pending frames, written once per event-loop iteration."""

    __slots__ = ("_dirty",)

    def __init__(self) -> None:
        self._dirty: list[DirectWire] = []

    def add(self, wire: DirectWire) -> None:
        """``wire`` has pending frames: write them in the next loop iteration."""
        if not self._dirty:
            asyncio.get_running_loop().call_soon(self.flush)
        self._dirty.append(wire)

    def flush(self) -> None:
        """Write every pending frame (one ``transport.write`` per connection)."""
        dirty, self._dirty = self._dirty, []
        for wire in dirty:
            wire.flush()


class DirectWire:
    """Writes pre-encoded frames to one uvicorn websockets-sansio connection (module docstring)."""

    __slots__ = ("_batch", "_pending", "_proto")

    def __init__(self, proto: WebSocketsSansIOProtocol, batch: WireBatch | None = None) -> None:
        self._proto = proto
        self._batch = batch or WireBatch()
        self._pending: list[bytes] | None = None

    @classmethod
    def of(cls, send: Any, batch: WireBatch | None = None) -> DirectWire | None:
        """The wire behind uvicorn's own ``send``, or None (another server, or wrapped)."""
        proto = getattr(send, "__self__", None)
        func = getattr(send, "__func__", None)
        if type(proto) is WebSocketsSansIOProtocol and func is WebSocketsSansIOProtocol.send:
            return cls(proto, batch)
        return None

    @property
    def pending(self) -> bool:
        """Whether frames wait for this iteration's write."""
        return self._pending is not None

    def write(self, frame: bytes) -> bool:
        """Queue ``frame`` for this iteration's write if ``send`` would write it now unchanged;
        else False (flush, then use ``send``). Once a frame is pending, the next ones of the
        iteration join it without the checks: nothing else writes to the socket before
        :meth:`flush` (``Sender`` flushes before using ``send``), and :meth:`flush` drops them all if
        the connection stopped being open meanwhile."""
        pending = self._pending
        if pending is not None:
            pending.append(frame)
            return True
        proto = self._proto
        ws = proto.conn
        if (
            not proto.handshake_complete
            or proto.close_sent
            or proto.disconnected
            or proto.initial_response is not None
            or not proto.writable.is_set()
            or ws.state is not _OPEN
            or ws.extensions
            or ws.expect_continuation_frame
            or ws.writes
        ):
            return False
        self._pending = [frame]
        self._batch.add(self)
        return True

    def receive_directly(self, handle: Callable[[str | bytes], None]) -> bool:
        """From now on hand each received message to ``handle`` as it is parsed (module
        docstring). Only while nothing is queued for ``receive()`` and reading is not paused, so
        that no message can overtake an earlier one: False (nothing changed) otherwise, or when
        uvicorn's protocol lacks the expected queue."""
        proto = self._proto
        queue = getattr(proto, "queue", None)
        if (
            type(queue) is not asyncio.Queue
            or not queue.empty()
            or getattr(proto, "read_paused", True)
            or not proto.handshake_complete
            or proto.close_sent
            or proto.disconnected
        ):
            return False
        proto.queue = Inlet(handle)
        proto.read_paused = True  # nothing waits for the app: uvicorn must not pause reading
        FastReader(proto, handle).install()  # the common frames skip websockets' parser
        return True

    def flush(self) -> None:
        """Write the pending frames now (dropped if the connection stopped being open)."""
        pending = self._pending
        if pending is None:
            return
        self._pending = None
        proto = self._proto
        if proto.close_sent or proto.disconnected or proto.conn.state is not _OPEN:
            return
        try:
            proto.transport.write(pending[0] if len(pending) == 1 else b"".join(pending))
        except Exception as exc:  # the transport is closing: uvicorn reports the disconnect
            _log.debug("direct write failed: %r", exc)


class Inlet(asyncio.Queue[Any]):
    """uvicorn's receive queue, handing ``websocket.receive`` messages to a handler at once
    (module docstring); every other event is queued for ``receive()``."""

    def __init__(self, handle: Callable[[str | bytes], None]) -> None:
        super().__init__()
        self._handle = handle

    def put_nowait(self, item: Any) -> None:
        """Called by uvicorn for each event, in order (inside ``data_received`` for messages)."""
        if item["type"] != "websocket.receive":
            super().put_nowait(item)
            return
        text = item.get("text")
        try:
            self._handle(text if text is not None else item.get("bytes") or b"")
        except Exception:  # never into uvicorn's data_received: the handler's own bug
            _log.exception("handling a received message failed")


class CaptureWire:
    """Outermost ASGI middleware: expose the uvicorn connection to ``/ws`` (module docstring)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.batch = WireBatch()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            wire = DirectWire.of(send, self.batch)
            if wire is not None:
                scope[SCOPE_KEY] = wire
        await self.app(scope, receive, send)
