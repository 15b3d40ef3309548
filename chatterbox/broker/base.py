"""The broker interface: publish a serialized frame for a room (or a user), receive everyone's.

Every process subscribes one handler (its hub) and publishes what its own use cases produce. The
frame travels already serialized (``text``): each process fans it out to its own connections
without re-encoding. An implementation must deliver the envelopes of one publisher in the order
they were published; the hub restores per-room ``seq`` order across publishers itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, Protocol

__all__ = ["Broker", "Envelope", "EnvelopeKind", "Handler"]

EnvelopeKind = Literal["event", "room", "presence"]
"""``event``: a durable room event (has ``seq``); ``room``: an ephemeral frame for a room's
readers (typing, receipts); ``presence``: a user's presence, for everyone sharing a room."""


@dataclass(frozen=True, slots=True)
class Envelope:
    """One published frame and what the receiving hubs need to route it."""

    kind: EnvelopeKind
    """What it is (see :data:`EnvelopeKind`)."""
    text: str
    """The frame, serialized once as JSON text."""
    room_id: str | None = None
    """The room (``event``, ``room``)."""
    seq: int = 0
    """The event's room ``seq`` (``event`` only)."""
    user_id: str | None = None
    """``event``: the member of a membership event; ``room``: a user whose connections are
    skipped (the typer); ``presence``: whose presence."""
    detail: str | None = None
    """``event``: the frame type; ``event`` ``member.joined``: also the role after ``:``."""
    rooms: tuple[str, ...] = ()
    """``presence``: the rooms of the user (recipients are their readers)."""


Handler = Callable[[Envelope], None]
"""What a subscriber provides: called once per envelope, must not block."""


class Broker(Protocol):
    """Publish/subscribe of :class:`Envelope` between the processes of one deployment."""

    def subscribe(self, handler: Handler) -> None:
        """Register this process's handler (one per process)."""
        ...

    async def publish(self, envelope: Envelope) -> None:
        """Deliver ``envelope`` to every subscribed process, this one included."""
        ...

    async def start(self) -> None:
        """Connect (no-op in process)."""
        ...

    async def close(self) -> None:
        """Disconnect; publishing afterwards is an error."""
        ...
