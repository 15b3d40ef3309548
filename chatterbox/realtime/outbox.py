"""A bounded FIFO of outgoing frames, counted in frames and bytes (pure: no I/O).

Frames wait here only while the socket is not writable; :meth:`Outbox.push` refuses a frame that
would exceed either bound, and the caller then drops the connection (close code 4008).
"""

from __future__ import annotations

from collections import deque
from typing import Any

__all__ = ["Outbox"]

Message = dict[str, Any]
"""An ASGI ``websocket.send`` message (shared, unchanged, between recipients)."""


class Outbox:
    """Frames waiting for a paused socket, at most ``max_frames`` and ``max_bytes``."""

    __slots__ = ("_items", "bytes", "max_bytes", "max_frames")

    def __init__(self, max_frames: int, max_bytes: int) -> None:
        if max_frames < 1 or max_bytes < 1:
            raise ValueError("bounds must be positive")
        self.max_frames = max_frames
        """Most frames held."""
        self.max_bytes = max_bytes
        """Most bytes held (sum of the frames' sizes)."""
        self.bytes = 0
        """Bytes held now."""
        self._items: deque[tuple[Message, int]] = deque()

    def push(self, message: Message, size: int) -> bool:
        """Append a frame of ``size`` bytes; False (nothing added) if a bound would be exceeded."""
        if len(self._items) >= self.max_frames or self.bytes + size > self.max_bytes:
            return False
        self._items.append((message, size))
        self.bytes += size
        return True

    def pop(self) -> Message:
        """Remove and return the oldest frame (IndexError when empty)."""
        message, size = self._items.popleft()
        self.bytes -= size
        return message

    def clear(self) -> None:
        """Drop everything."""
        self._items.clear()
        self.bytes = 0

    def __len__(self) -> int:
        """Frames held."""
        return len(self._items)
