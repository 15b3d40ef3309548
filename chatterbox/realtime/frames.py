"""Server frames: built as dicts, serialized **once** (orjson) into a shared ASGI message.

:func:`outgoing` returns the ``websocket.send`` message and its size in bytes; the hub hands the
same message object to every recipient of a broadcast.
"""

from __future__ import annotations

from typing import Any

import orjson

from chatterbox.domain import clock
from chatterbox.domain.presence import PresenceChange
from chatterbox.protocol.codec import FrameError
from chatterbox.realtime.outbox import Message
from chatterbox.realtime.wire import WIRE_KEY, text_frame
from chatterbox.service.messaging import ErrorCode

__all__ = [
    "ack",
    "error",
    "frame_error",
    "outgoing",
    "outgoing_text",
    "pong",
    "presence",
    "resync",
    "typing",
]

JSON = dict[str, Any]


def outgoing(frame: JSON) -> tuple[Message, int]:
    """Serialize ``frame`` once: ``({"type": "websocket.send", "text": ...}, size in bytes)``;
    the message also carries the encoded WebSocket frame (:data:`~.wire.WIRE_KEY`)."""
    data = orjson.dumps(frame)
    return {"type": "websocket.send", "text": data.decode(), WIRE_KEY: text_frame(data)}, len(data)


def outgoing_text(text: str) -> tuple[Message, int]:
    """The ASGI message for already serialized JSON ``text`` (e.g. from the broker)."""
    data = text.encode()
    return {"type": "websocket.send", "text": text, WIRE_KEY: text_frame(data)}, len(data)


def ack(re: str, result: JSON) -> JSON:
    """``ack``."""
    return {"type": "ack", "re": re, "result": result}


def error(
    code: ErrorCode,
    message: str,
    *,
    re: str | None = None,
    pointer: str | None = None,
    retry_after_ms: int | None = None,
) -> JSON:
    """``error``."""
    return {
        "type": "error",
        "re": re,
        "code": code,
        "message": message[:1000],
        "pointer": pointer,
        "retry_after_ms": retry_after_ms,
    }


def frame_error(err: FrameError) -> JSON:
    """The ``error`` frame for a codec failure."""
    code: Any = err.code
    return error(code, err.message, re=err.re, pointer=err.pointer)


def pong(re: str) -> JSON:
    """``pong``."""
    return {"type": "pong", "re": re, "server_time": clock.format_ms(clock.now_ms())}


def presence(change: PresenceChange) -> JSON:
    """``presence`` (also the ``PresenceState`` shape of ``hello.presence`` minus ``type``)."""
    last_seen = None if change.last_seen_ms is None else clock.format_ms(change.last_seen_ms)
    return {
        "type": "presence",
        "user_id": change.user_id,
        "status": change.status,
        "last_seen": last_seen,
    }


def typing(room_id: str, user: JSON, state: str, expires_in_ms: int) -> JSON:
    """``typing``."""
    return {
        "type": "typing",
        "room_id": room_id,
        "user": user,
        "state": state,
        "expires_in_ms": expires_in_ms,
    }


def resync(room_id: str, reason: str) -> JSON:
    """``resync``."""
    return {"type": "resync", "room_id": room_id, "reason": reason}
