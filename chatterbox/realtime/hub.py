"""The connection hub (placeholder until the real-time core lands)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from chatterbox.config import Settings
from chatterbox.metrics import Metrics
from chatterbox.service.directory import UserDirectory
from chatterbox.store.base import Store

__all__ = ["Hub"]


class Hub:
    """Registry of live connections; implements :class:`chatterbox.service.notifier.Notifier`."""

    def __init__(
        self, *, store: Store, settings: Settings, metrics: Metrics, users: UserDirectory
    ) -> None:
        self.store = store
        self.settings = settings
        self.metrics = metrics
        self.users = users

    async def start(self) -> None:
        """Start background timers."""

    async def stop(self) -> None:
        """Close every connection and stop timers."""

    async def room_event(self, room_id: str, frame: dict[str, Any]) -> None:
        """Deliver a committed room event."""

    async def membership_changed(self, room_id: str, user_id: str, *, joined: bool) -> None:
        """(Un)subscribe a user's connections."""

    async def close_sessions(self, session_ids: Iterable[str], *, code: int, reason: str) -> None:
        """Close connections of these sessions."""
