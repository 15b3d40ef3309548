"""What the use cases tell the real-time layer: the seam between ``service/`` and ``realtime/``.

The REST API changes membership too (join, leave, invite, remove, logout); the hub implements
this protocol so that every such change reaches live connections, whichever path made it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

__all__ = ["Notifier", "NullNotifier"]


class Notifier(Protocol):
    """Receives committed changes and fans them out to connections."""

    def room_event(self, room_id: str, frame: dict[str, Any]) -> None:
        """A durable room event (with ``seq``) was committed: deliver it to the room's readers.

        Never waits: local connections get it now, other processes soon (the broker queues)."""

    async def membership_changed(self, room_id: str, user_id: str, *, joined: bool) -> None:
        """``user_id`` joined or left ``room_id``: (un)subscribe their connections; on leave,
        their connections get ``resync`` for the room."""

    async def close_sessions(self, session_ids: Iterable[str], *, code: int, reason: str) -> None:
        """Close every connection authenticated by these sessions (logout, revocation)."""


class NullNotifier:
    """A notifier that drops everything (for use cases run without a real-time layer)."""

    def room_event(self, room_id: str, frame: dict[str, Any]) -> None:
        """Drop."""

    async def membership_changed(self, room_id: str, user_id: str, *, joined: bool) -> None:
        """Drop."""

    async def close_sessions(self, session_ids: Iterable[str], *, code: int, reason: str) -> None:
        """Drop."""
