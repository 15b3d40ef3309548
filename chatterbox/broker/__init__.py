"""Fan-out between server processes: the :class:`~chatterbox.broker.base.Broker` interface, its
in-process implementation (one process, the default) and, in :mod:`chatterbox.broker.redis`, Redis
pub/sub (several processes, when ``redis_url`` is set), with the deployment-wide state
of :mod:`chatterbox.broker.cluster`."""

from __future__ import annotations

from chatterbox.broker.base import Broker, Envelope, EnvelopeKind, Handler, ReconnectHandler
from chatterbox.broker.memory import InProcessBroker

__all__ = ["Broker", "Envelope", "EnvelopeKind", "Handler", "InProcessBroker", "ReconnectHandler"]
