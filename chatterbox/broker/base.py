"""The broker interface: publish a serialized frame for a room (or a user), receive everyone's.

Every process subscribes one handler (its hub) and publishes what its own use cases produce. The
frame travels already serialized (``text``): each process fans it out to its own connections
without re-encoding. An implementation must deliver the envelopes of one publisher in the order
they were published; the hub restores per-room ``seq`` order across publishers itself.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Literal, NamedTuple, Protocol

__all__ = ["Broker", "Envelope", "EnvelopeKind", "Handler", "ReconnectHandler"]

EnvelopeKind = Literal["event", "room", "presence", "membership", "close"]
"""``event``: a durable room event (has ``seq``); ``room``: an ephemeral frame for a room's
readers (typing, receipts); ``presence``: a user's presence, for everyone sharing a room;
``membership``: a user joined (``detail`` ``joined``) or left (``left``) a room, so that their
connections on every process (un)subscribe; ``close``: close the connections of the sessions in
``rooms`` with code ``seq`` and reason ``text`` (logout, revocation)."""


class Envelope(NamedTuple):
    """One published frame and what the receiving hubs need to route it (immutable; a named
    tuple rather than a frozen dataclass, whose ``__init__`` costs ~1 µs more, once per message
    on the send path)."""

    kind: EnvelopeKind
    """What it is (see :data:`EnvelopeKind`)."""
    text: str
    """The frame, serialized once as JSON text."""
    room_id: str | None = None
    """The room (``event``, ``room``)."""
    seq: int = 0
    """The event's room ``seq`` (``event`` only)."""
    user_id: str | None = None
    """``event``: the member of a membership event, the author of a ``message.created``;
    ``room``: a user whose connections are skipped (the typer); ``presence``: whose presence."""
    detail: str | None = None
    """``event``: the frame type; ``event`` ``member.joined``: also the role after ``:``;
    ``room`` with ``users``: a connection (its hub-unique token) that already has the frame's
    content, skipped."""
    rooms: tuple[str, ...] = ()
    """``presence``: the rooms of the user (recipients are their readers); ``close``: the
    session ids."""
    users: tuple[str, ...] = ()
    """``room``: only these users' connections to the room get the frame (empty: every reader's;
    receipts, see :mod:`chatterbox.domain.receipt_audience`)."""


Handler = Callable[[Envelope], None]
"""What a subscriber provides: called once per envelope, must not block."""

ReconnectHandler = Callable[[], Awaitable[None]]
"""Called after the broker re-subscribed following a loss of its connection (envelopes may have
been missed meanwhile: the hub catches up its rooms from the store)."""


class Broker(Protocol):
    """Publish/subscribe of :class:`Envelope` between the processes of one deployment."""

    def subscribe(self, handler: Handler) -> None:
        """Register this process's handler (one per process)."""
        ...

    async def publish(self, envelope: Envelope) -> None:
        """Deliver ``envelope`` to every subscribed process, this one included."""
        ...

    def publish_nowait(self, envelope: Envelope) -> None:
        """:meth:`publish` without suspending: this process's handlers run before it returns;
        other processes get it in publication order, as soon as the connection allows."""
        ...

    def publish_remote(self, envelope: Envelope) -> None:
        """Deliver ``envelope`` to the *other* processes only (the caller already applied it)."""
        ...

    def on_reconnect(self, handler: ReconnectHandler) -> None:
        """Register a callback run after the subscription was lost and re-established."""
        ...

    async def start(self) -> None:
        """Connect (no-op in process)."""
        ...

    async def close(self) -> None:
        """Disconnect; publishing afterwards is an error."""
        ...
