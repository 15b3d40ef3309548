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
"""

from __future__ import annotations

import struct
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.protocol import State

__all__ = ["SCOPE_KEY", "WIRE_KEY", "CaptureWire", "DirectWire", "text_frame"]

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


class DirectWire:
    """Writes pre-encoded frames to one uvicorn websockets-sansio connection (module docstring)."""

    __slots__ = ("_proto",)

    def __init__(self, proto: WebSocketsSansIOProtocol) -> None:
        self._proto = proto

    @classmethod
    def of(cls, send: Any) -> DirectWire | None:
        """The wire behind uvicorn's own ``send``, or None (another server, or wrapped)."""
        proto = getattr(send, "__self__", None)
        func = getattr(send, "__func__", None)
        if type(proto) is WebSocketsSansIOProtocol and func is WebSocketsSansIOProtocol.send:
            return cls(proto)
        return None

    def write(self, frame: bytes) -> bool:
        """Write ``frame`` now if ``send`` would write it now unchanged; else False (use ``send``)."""
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
        proto.transport.write(frame)
        return True


class CaptureWire:
    """Outermost ASGI middleware: expose the uvicorn connection to ``/ws`` (module docstring)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            wire = DirectWire.of(send)
            if wire is not None:
                scope[SCOPE_KEY] = wire
        await self.app(scope, receive, send)
