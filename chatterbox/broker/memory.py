"""The in-process broker: one process, so publishing is calling the handlers, synchronously."""

from __future__ import annotations

import logging

from chatterbox.broker.base import Envelope, Handler, ReconnectHandler

__all__ = ["InProcessBroker"]

_log = logging.getLogger(__name__)


class InProcessBroker:
    """Delivers each envelope to the subscribed handlers before :meth:`publish` returns.

    ``publish`` never suspends, so the publishing coroutine keeps its place: envelopes are handled
    in exactly the order they were published. A handler that raises is logged and does not stop
    the others.
    """

    def __init__(self) -> None:
        self._handlers: list[Handler] = []
        self._closed = False

    def subscribe(self, handler: Handler) -> None:
        """Register a handler."""
        self._handlers.append(handler)

    async def publish(self, envelope: Envelope) -> None:
        """Call every handler with ``envelope`` (dropped once closed)."""
        self.deliver(envelope)

    def publish_nowait(self, envelope: Envelope) -> None:
        """Same as :meth:`publish` (it never suspends)."""
        self.deliver(envelope)

    def publish_remote(self, envelope: Envelope) -> None:
        """No other process: nothing to do."""

    def on_reconnect(self, handler: ReconnectHandler) -> None:
        """Never disconnected: the handler is never called."""

    def deliver(self, envelope: Envelope) -> None:
        """The synchronous form of :meth:`publish`."""
        if self._closed:
            return
        for handler in self._handlers:
            try:
                handler(envelope)
            except Exception:
                _log.exception("broker handler failed on %s %s", envelope.kind, envelope.room_id)

    async def start(self) -> None:
        """Nothing to connect."""

    async def close(self) -> None:
        """Stop delivering."""
        self._closed = True
