"""Fan-out between server processes: the :class:`~chatterbox.broker.base.Broker` interface and its
in-process implementation (Redis pub/sub comes later, behind the same interface)."""

from __future__ import annotations

from chatterbox.broker.base import Broker, Envelope, EnvelopeKind, Handler
from chatterbox.broker.memory import InProcessBroker

__all__ = ["Broker", "Envelope", "EnvelopeKind", "Handler", "InProcessBroker"]
