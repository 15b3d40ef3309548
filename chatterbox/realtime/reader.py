"""The inbound fast path: complete text frames parsed here, everything else by websockets.

uvicorn's websockets-sansio protocol feeds every received chunk to websockets' parser, a chain of
generators that yields per header field, builds a ``Frame`` and an event per frame; uvicorn then
wraps each message in an ASGI dict: ~3 µs of Python per frame, more than the frame's JSON
decoding and validation together. Yet nearly every frame a chat client sends is the same simple
case: one final, masked text frame, without extensions, shorter than 64 KiB.

:class:`FastReader` takes the websockets connection's ``receive_data`` (the one call uvicorn makes
per chunk) while the connection is open and websockets' parser stands at a frame boundary with
nothing buffered. It reads such frames itself — header, unmasking (websockets' own C
``apply_mask``), UTF-8 — and hands each text to the handler at once, in order. A trailing partial
frame waits in its own buffer (at most one frame, bounded by the 64 KiB of a two-byte length)
until the rest arrives. The first frame of any other kind — a control frame (ping, close), binary,
fragmented, masked wrongly, too large, invalid UTF-8 — and everything after it in the chunk go to
websockets unchanged, starting at that frame's first byte, so websockets parses them exactly as
before (its errors and close codes included) and uvicorn delivers what they produce through the
ASGI queue (:class:`~chatterbox.realtime.wire.Inlet`). From then on every chunk goes to websockets
until its parser stands at a frame boundary again. Nothing is ever parsed twice or skipped, and a
message handled here can never overtake one that websockets holds.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from websockets.protocol import State
from websockets.streams import StreamReader

try:
    from websockets.speedups import apply_mask
except ImportError:  # pragma: no cover - websockets built without its C extension
    from websockets.utils import apply_mask

__all__ = ["FastReader"]

_log = logging.getLogger(__name__)

_OPEN = State.OPEN
_AT_EOF = StreamReader.at_eof.__code__
_TEXT_FIN = 0x81  # FIN, no RSV bit, opcode 1 (text)
_MASKED = 0x80


class FastReader:
    """Replaces one uvicorn connection's websockets ``receive_data`` (module docstring)."""

    __slots__ = ("_buffer", "_conn", "_handle", "_max_size", "_proto", "_receive_data")

    def __init__(self, proto: Any, handle: Callable[[str], None]) -> None:
        self._proto = proto
        self._conn = proto.conn
        self._receive_data: Callable[[bytes], None] = proto.conn.receive_data
        self._handle = handle
        self._max_size: int | None = self._conn.max_message_size
        self._buffer = b""

    def install(self) -> bool:
        """Take over ``receive_data``; False (nothing changed) when the connection negotiated an
        extension or websockets' parser is not at a frame boundary."""
        conn = self._conn
        if conn.extensions or not self._ready():
            return False
        conn.receive_data = self.receive_data
        return True

    def _ready(self) -> bool:
        """Whether the next byte starts a frame that may be read here: the connection is open,
        no fragmented message is in progress, websockets holds no byte of a frame and the app
        has not sent its close frame."""
        conn = self._conn
        if (
            conn.state is not _OPEN
            or conn.current_size is not None
            or conn.parser_exc is not None
            or self._proto.close_sent
        ):
            return False
        # websockets holds no byte of a frame: its parser waits in at_eof (it only does while its
        # buffer is empty), not in the middle of Frame.parse
        waiting = conn.parser
        inner = getattr(waiting, "gi_yieldfrom", None)
        while inner is not None:
            waiting, inner = inner, getattr(inner, "gi_yieldfrom", None)
        return getattr(waiting, "gi_code", None) is _AT_EOF

    def receive_data(self, data: bytes) -> None:
        """One chunk from the socket (called by uvicorn's ``data_received``)."""
        if self._buffer:
            data = self._buffer + data
            self._buffer = b""
        if not self._ready():
            self._receive_data(data)
            return
        end = len(data)
        pos = 0
        max_size = self._max_size
        while end - pos >= 2:
            if data[pos] != _TEXT_FIN or data[pos + 1] < _MASKED:
                break
            size = data[pos + 1] & 0x7F
            if size < 126:
                start = pos + 6
            elif size == 126 and end - pos >= 4:
                size = (data[pos + 2] << 8) | data[pos + 3]
                start = pos + 8
            elif size == 126:  # the length is not complete yet
                self._buffer = data[pos:]
                return
            else:  # 64 KiB or more: beyond the frame limit, websockets refuses it
                break
            if max_size is not None and size > max_size:
                break
            stop = start + size
            if stop > end:  # the frame is not complete yet
                self._buffer = data[pos:]
                return
            try:
                text = apply_mask(data[start:stop], data[start - 4 : start]).decode()
            except UnicodeDecodeError:
                break  # websockets' path closes with 1007
            pos = stop
            try:
                self._handle(text)
            except Exception:  # never into uvicorn's data_received: the handler's own bug
                _log.exception("handling a received message failed")
            if self._proto.close_sent:  # the app closed: uvicorn discards what follows
                break
        if pos == end:
            return
        if end - pos == 1 and self._ready():  # one byte of the next frame's header
            self._buffer = data[pos:]
            return
        self._receive_data(data[pos:] if pos else data)
