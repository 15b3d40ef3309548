"""Who is typing where: ephemeral state that can never get stuck.

Each ``start`` sets a deadline ``interval_ms`` ahead (the interval the server declares in
``hello``); :meth:`TypingTracker.expire` turns every passed deadline into a ``stop`` to broadcast,
so an indicator disappears even if the client vanishes without a word. ``stop``, sending a message
(call :meth:`~TypingTracker.stop` for that room) and disconnecting
(:meth:`~TypingTracker.clear_user`) end it early.

Decisions:

- A renewal (``start`` while already typing) always pushes the deadline, but is re-broadcast only
  when at least half an interval has passed since the last broadcast: other clients, which expire
  an indicator ``interval_ms`` after the last ``start`` they saw, keep it alive, while a client
  sending ``start`` on every keystroke costs at most two broadcasts per interval.
- A deadline is exclusive: at exactly ``started + interval_ms`` the indicator has expired.
- State is per (room, user), not per connection: one tab disconnecting clears the user's
  indicators; their other tabs re-announce on the next keystroke.
- :meth:`~TypingTracker.expire` scans all entries (O(n)); concurrent typers are few.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

__all__ = ["TypingTracker"]


@dataclass(slots=True)
class _Entry:
    expires_ms: int
    last_broadcast_ms: int


class TypingTracker:
    """Typing indicators per (room, user); every method takes the current time in ms."""

    def __init__(self, interval_ms: int) -> None:
        if interval_ms < 2:
            raise ValueError("interval_ms must be at least 2")
        self.interval_ms: Final = interval_ms
        """How long a ``start`` lasts without renewal."""
        self._entries: dict[tuple[str, str], _Entry] = {}

    def start(self, room_id: str, user_id: str, now_ms: int) -> bool:
        """Record that ``user_id`` is typing in ``room_id``; returns whether to broadcast ``start``."""
        key = (room_id, user_id)
        entry = self._entries.get(key)
        if entry is None or entry.expires_ms <= now_ms:
            self._entries[key] = _Entry(now_ms + self.interval_ms, now_ms)
            return True
        entry.expires_ms = max(entry.expires_ms, now_ms + self.interval_ms)
        if now_ms - entry.last_broadcast_ms >= self.interval_ms // 2:
            entry.last_broadcast_ms = now_ms
            return True
        return False

    def stop(self, room_id: str, user_id: str) -> bool:
        """End the indicator; returns whether one was showing (so ``stop`` must be broadcast).

        An entry whose deadline has passed but that :meth:`expire` has not collected yet still
        counts as showing: its ``stop`` has not been broadcast.
        """
        return self._entries.pop((room_id, user_id), None) is not None

    def clear_user(self, user_id: str) -> list[tuple[str, str]]:
        """End all of ``user_id``'s indicators; returns the ``(room_id, user_id)`` stops to send."""
        keys = [k for k in self._entries if k[1] == user_id]
        for key in keys:
            del self._entries[key]
        return sorted(keys)

    def expire(self, now_ms: int) -> list[tuple[str, str]]:
        """Remove indicators whose deadline has passed; returns the stops to broadcast."""
        keys = [k for k, e in self._entries.items() if e.expires_ms <= now_ms]
        for key in keys:
            del self._entries[key]
        return sorted(keys)

    def typing_in(self, room_id: str, now_ms: int) -> list[str]:
        """Users currently typing in ``room_id`` (for a snapshot), sorted."""
        return sorted(
            u for (r, u), e in self._entries.items() if r == room_id and e.expires_ms > now_ms
        )

    def next_expiry_ms(self) -> int | None:
        """The earliest deadline (for the caller's timer); ``None`` if nobody is typing."""
        return min((e.expires_ms for e in self._entries.values()), default=None)

    def __len__(self) -> int:
        """Number of (room, user) indicators held."""
        return len(self._entries)
