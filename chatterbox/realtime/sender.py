"""Writing frames to one socket: directly while it is writable, through a bounded outbox when not.

uvicorn's ASGI ``send`` writes a WebSocket frame to the transport *synchronously* unless the
transport is paused (its write buffer above the high-water mark), in which case it suspends until
the peer reads. :meth:`Sender.push` first tries the connection's :class:`~chatterbox.realtime.wire.DirectWire` (the
frame encoded once per broadcast, written as is while ``send`` would write it unchanged); failing
that, it runs the ``send`` coroutine by hand, one step:

* it finishes in that step (the normal case): the frame is in the transport, nothing was awaited,
  no task was woken — the broadcaster moves on to the next recipient;
* it suspends (the socket is paused): uvicorn suspends *before* writing anything (it waits for
  its ``writable`` event), so the suspended coroutine is closed unfinished and the frame goes to
  the head of the :class:`~chatterbox.realtime.outbox.Outbox`; a drain task then sends the queued
  frames with ordinary awaits; when the outbox is empty, writes are direct again;
* the outbox would overflow: the connection's ``on_overflow`` callback runs (close 4008).

A socket that raises (client gone) calls ``on_error`` once; the exception never reaches the
broadcaster, so one bad socket cannot affect the other recipients.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, cast

from chatterbox.realtime.outbox import Message, Outbox
from chatterbox.realtime.wire import WIRE_KEY, DirectWire

__all__ = ["AsgiSend", "Sender"]

AsgiSend = Callable[[Message], Awaitable[None]]
"""The ASGI ``send`` callable."""

_log = logging.getLogger(__name__)


class Sender:
    """Direct writes with a bounded outbox behind a paused socket (see the module docstring)."""

    __slots__ = (
        "_drained",
        "_draining",
        "_on_error",
        "_on_overflow",
        "_send",
        "_wire",
        "closed",
        "outbox",
    )

    def __init__(
        self,
        send: AsgiSend,
        *,
        max_frames: int,
        max_bytes: int,
        on_overflow: Callable[[], None],
        on_error: Callable[[BaseException], None],
        wire: DirectWire | None = None,
    ) -> None:
        self._send = send
        self._wire = wire
        self.outbox = Outbox(max_frames, max_bytes)
        """Frames waiting behind a paused socket."""
        self._on_overflow = on_overflow
        self._on_error = on_error
        self._draining: asyncio.Task[None] | None = None
        self._drained: asyncio.Event | None = None
        self.closed = False
        """No more frames are accepted (overflow, error or close)."""

    @property
    def paused(self) -> bool:
        """Whether frames are currently queued behind a paused socket."""
        return self._draining is not None

    def push(self, message: Message, size: int) -> None:
        """Send ``message`` (``size`` bytes) now if possible, else queue it; never awaits."""
        if self.closed:
            return
        if self._draining is not None:
            if not self.outbox.push(message, size):
                self._fail_overflow()
            return
        wire = self._wire
        if wire is not None:
            frame = message.get(WIRE_KEY)
            if frame is not None and wire.write(frame):
                return
            wire.flush()  # what the wire holds goes first
        coro = cast(Coroutine[Any, Any, None], self._send(message))
        try:
            coro.send(None)
        except StopIteration:
            return
        except Exception as exc:  # the client is gone, or the socket is closing
            self._fail(exc)
            return
        coro.close()  # paused before writing anything: abandon this attempt, queue the frame
        self.outbox.push(message, size)
        self._draining = asyncio.get_running_loop().create_task(self._drain())

    async def _drain(self) -> None:
        try:
            while self.outbox and not self.closed:
                await self._send(self.outbox.pop())
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self._fail(exc)
        finally:
            self._draining = None
            if self._drained is not None:
                self._drained.set()
                self._drained = None

    async def wait_drained(self) -> None:
        """Return once nothing is queued (at once when the socket is writable)."""
        while self._draining is not None and not self.closed:
            if self._drained is None:
                self._drained = asyncio.Event()
            await self._drained.wait()

    def _fail_overflow(self) -> None:
        self.stop()
        self._on_overflow()

    def _fail(self, exc: BaseException) -> None:
        if not self.closed:
            self.stop()
            self._on_error(exc)

    def stop(self) -> None:
        """Accept nothing more; drop what is queued behind a paused socket and abandon a
        suspended write (frames the wire accepted are written first, if still open)."""
        if self._wire is not None:
            self._wire.flush()
        self.closed = True
        self.outbox.clear()
        if self._draining is not None and self._draining is not asyncio.current_task():
            self._draining.cancel()
        if self._drained is not None:
            self._drained.set()
            self._drained = None

    async def close(self, code: int, reason: str, wait_s: float) -> bool:
        """Stop, then send the close frame (waiting up to ``wait_s`` seconds for a paused socket).

        Returns whether the close frame was handed to the socket.
        """
        self.stop()
        try:
            await asyncio.wait_for(
                self._send({"type": "websocket.close", "code": code, "reason": reason}), wait_s
            )
        except TimeoutError:
            _log.debug("close(%d) not sent: the peer does not read", code)
            return False
        except Exception as exc:  # already gone
            _log.debug("close(%d) not sent: %r", code, exc)
            return False
        return True
