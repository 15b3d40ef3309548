"""Presence: online while at least one connection is open, away on request, offline after grace.

Every method takes the current time in ms and returns the :class:`PresenceChange` to broadcast, if
any; nothing here does I/O or keeps timers. The caller calls :meth:`PresenceTracker.due` on a
timer (see :meth:`~PresenceTracker.next_due_ms`).

Decisions:

- **Multiple tabs**: a user is online until their *last* connection closes.
- **Grace**: when the last connection closes the user is not announced offline at once; only if no
  connection reopens within ``grace_ms`` does :meth:`~PresenceTracker.due` announce ``offline``.
  A reload or a brief network drop therefore produces no presence noise at all. During the grace
  period :meth:`~PresenceTracker.status` still reports the last announced status.
- **last_seen** is the time the last connection *closed* (not the end of the grace period), set
  when offline is announced; it is ``None`` while online/away and for users never seen.
- **Away** is set by the user and kept across reconnects within the grace period; once the user
  has gone offline, the next connection starts ``online``. ``set_away``/``set_online`` without an
  open connection are ignored (a user with no connection is offline).
- Per process: with several server processes the broker merges presence; this tracks one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final, Literal

__all__ = ["PresenceChange", "PresenceStatus", "PresenceTracker"]

PresenceStatus = Literal["online", "away", "offline"]
"""The ``PresenceStatus`` schema enum."""


@dataclass(frozen=True, slots=True)
class PresenceChange:
    """A presence update to broadcast (the ``PresenceState`` schema, time in ms)."""

    user_id: str
    """Whose presence changed."""
    status: PresenceStatus
    """The new status."""
    last_seen_ms: int | None
    """When the last connection closed (``offline`` only), else ``None``."""


@dataclass(slots=True)
class _User:
    conns: set[str] = field(default_factory=set)
    away: bool = False
    status: PresenceStatus = "offline"
    last_seen_ms: int | None = None
    closed_ms: int | None = None  # when the last connection closed, while in grace


class PresenceTracker:
    """Presence of every user with a connection to this process."""

    def __init__(self, grace_ms: int) -> None:
        if grace_ms < 0:
            raise ValueError("grace_ms must be >= 0")
        self.grace_ms: Final = grace_ms
        """How long after the last connection closes before offline is announced."""
        self._users: dict[str, _User] = {}
        self._grace: dict[str, int] = {}
        """Users in their grace period, with when it ends (timers look at these, not at everyone)."""

    def _announce(self, user_id: str, u: _User, status: PresenceStatus) -> PresenceChange | None:
        if u.status == status:
            return None
        u.status = status
        if status != "offline":
            u.last_seen_ms = None
        return PresenceChange(user_id, status, u.last_seen_ms)

    def connection_opened(self, user_id: str, conn_id: str, now_ms: int) -> PresenceChange | None:
        """Register a connection; returns the change to broadcast (``None`` within grace)."""
        del now_ms  # opening never needs the time; kept for a uniform interface
        u = self._users.setdefault(user_id, _User())
        u.conns.add(conn_id)
        u.closed_ms = None
        self._grace.pop(user_id, None)
        if u.status == "offline":
            u.away = False
        return self._announce(user_id, u, "away" if u.away else "online")

    def connection_closed(self, user_id: str, conn_id: str, now_ms: int) -> None:
        """Unregister a connection; the last one starts the grace period. Unknown ids are ignored."""
        u = self._users.get(user_id)
        if u is None or conn_id not in u.conns:
            return
        u.conns.discard(conn_id)
        if not u.conns:
            u.closed_ms = now_ms
            self._grace[user_id] = now_ms + self.grace_ms

    def due(self, now_ms: int) -> list[PresenceChange]:
        """Announce ``offline`` for every user whose grace period has ended (sorted by user)."""
        out: list[PresenceChange] = []
        for user_id in sorted(u for u, due in self._grace.items() if due <= now_ms):
            del self._grace[user_id]
            u = self._users[user_id]
            u.last_seen_ms = u.closed_ms
            u.closed_ms = None
            u.away = False
            change = self._announce(user_id, u, "offline")
            if change is not None:
                out.append(change)
        return out

    def next_due_ms(self) -> int | None:
        """When the earliest grace period ends; ``None`` if none is running."""
        return min(self._grace.values(), default=None)

    def set_away(self, user_id: str) -> PresenceChange | None:
        """The user says they are away; ignored unless connected."""
        u = self._users.get(user_id)
        if u is None or not u.conns:
            return None
        u.away = True
        return self._announce(user_id, u, "away")

    def set_online(self, user_id: str) -> PresenceChange | None:
        """The user says they are back; ignored unless connected."""
        u = self._users.get(user_id)
        if u is None or not u.conns:
            return None
        u.away = False
        return self._announce(user_id, u, "online")

    def status(self, user_id: str) -> PresenceStatus:
        """The user's announced status (``offline`` for unknown users)."""
        u = self._users.get(user_id)
        return "offline" if u is None else u.status

    def last_seen_ms(self, user_id: str) -> int | None:
        """When the user's last connection closed, while offline; ``None`` otherwise."""
        u = self._users.get(user_id)
        return None if u is None else u.last_seen_ms

    def snapshot(self, user_id: str) -> PresenceChange:
        """The user's current presence, in the shape of a change (for ``hello``/``resume``)."""
        return PresenceChange(user_id, self.status(user_id), self.last_seen_ms(user_id))

    def forget(self, user_id: str) -> None:
        """Drop an offline user's record (bounded memory; last_seen lives in the store)."""
        u = self._users.get(user_id)
        if u is not None and u.status == "offline" and not u.conns:
            del self._users[user_id]

    def connection_count(self, user_id: str) -> int:
        """Open connections of the user."""
        u = self._users.get(user_id)
        return 0 if u is None else len(u.conns)
