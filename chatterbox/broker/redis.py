"""The Redis broker: envelopes between processes over one Redis pub/sub channel (redis-py asyncio).

Design (``docs/architecture.md``, "Scale-out"):

* **Local first.** :meth:`RedisBroker.publish_nowait` calls this process's handlers synchronously
  (exactly like :class:`~chatterbox.broker.memory.InProcessBroker`), then queues the envelope for
  Redis. A process therefore serves its own clients with no Redis round trip, and keeps doing so
  while Redis is down. Each envelope carries its ``origin``; a subscriber skips its own.
* **One publisher task** sends the queue in order (pipelined ``PUBLISH`` batches), so the
  envelopes of one process reach the others in publication order. When Redis fails, ephemeral
  envelopes (typing, receipts, presence) are dropped and durable ones (``event``, ``membership``,
  ``close``) are kept (bounded) and re-published once Redis is back: receivers drop duplicates by
  ``seq``.
* **One subscriber task** reads the channel. When its connection is lost (Redis restarted, a
  network blip, Redis dropping a slow subscriber at its ``client-output-buffer-limit``) it
  reconnects with exponential backoff and jitter and, once subscribed again, runs the
  :meth:`~RedisBroker.on_reconnect` callbacks: the hub catches up every room it serves from the
  database. Redis is never the source of truth: a missed event is also detected by ``seq`` (the
  next event of the room opens a gap, which the hub fills from the database).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import uuid
from collections import deque
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from chatterbox.broker.base import Envelope, Handler, ReconnectHandler
from chatterbox.broker.wire import WireError, decode, encode

__all__ = ["BACKOFF_START_S", "RedisBroker", "connect_redis"]

BACKOFF_START_S = 0.05
"""First wait before reconnecting; doubled after each failure up to ``reconnect_max_s``."""
PUBLISH_BATCH = 256
"""Most envelopes sent in one pipelined round trip."""
OUTBOX_MAX = 100_000
"""Most envelopes waiting for Redis (the oldest ephemeral ones go first beyond that)."""
READY_TIMEOUT_S = 3.0
"""How long :meth:`RedisBroker.start` waits for the first subscription before serving anyway."""
DURABLE_KINDS = frozenset({"event", "membership", "close"})
"""Kinds kept and re-published when Redis fails (the others are momentary state)."""

_log = logging.getLogger(__name__)


def connect_redis(url: str, *, blocking: bool = False) -> Redis:
    """A client for ``url`` that fails fast (no built-in retries: the callers back off)."""
    return Redis.from_url(
        url,
        socket_connect_timeout=2.0,
        socket_timeout=None if blocking else 2.0,
        socket_keepalive=True,
        health_check_interval=5 if blocking else 0,
        retry=Retry(NoBackoff(), 0),
    )


@dataclass(slots=True)
class _Outgoing:
    data: bytes
    durable: bool


class RedisBroker:
    """:class:`~chatterbox.broker.base.Broker` over Redis pub/sub (see the module docstring)."""

    def __init__(self, url: str, *, prefix: str = "chatterbox", reconnect_max_s: float = 5.0):
        self.url = url
        self.origin = uuid.uuid4().hex[:16]
        """This process's id on the channel (and in the cluster's Redis keys)."""
        self.channel = f"{prefix}:events"
        """The pub/sub channel of the deployment."""
        self.reconnect_max_s = reconnect_max_s
        self.client = connect_redis(url)
        """Client for commands (publishing; also used by the cluster state)."""
        self._sub_client = connect_redis(url, blocking=True)
        self._handlers: list[Handler] = []
        self._reconnect_handlers: list[ReconnectHandler] = []
        self._outbox: deque[_Outgoing] = deque()
        self._wake = asyncio.Event()
        self._ready = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._spawned: set[asyncio.Task[Any]] = set()
        self._closed = False
        self.subscribed = False
        """Whether the subscription is currently up."""
        self.publishing = True
        """Whether the last publish succeeded."""
        self.losses = 0
        """How many times the subscription was lost (metrics, tests)."""

    # -- the Broker protocol ---------------------------------------------------------------------

    def subscribe(self, handler: Handler) -> None:
        """Register a handler."""
        self._handlers.append(handler)

    def on_reconnect(self, handler: ReconnectHandler) -> None:
        """Register a coroutine function run after each re-subscription."""
        self._reconnect_handlers.append(handler)

    async def publish(self, envelope: Envelope) -> None:
        """Deliver locally now, to the other processes soon (never waits for Redis)."""
        self.publish_nowait(envelope)

    def publish_nowait(self, envelope: Envelope) -> None:
        """Deliver locally (synchronously), then queue for the other processes."""
        if self._closed:
            return
        self._deliver(envelope)
        self.publish_remote(envelope)

    def publish_remote(self, envelope: Envelope) -> None:
        """Queue for the other processes only."""
        if self._closed:
            return
        outbox = self._outbox
        if len(outbox) >= OUTBOX_MAX:
            self._shed()
        outbox.append(_Outgoing(encode(self.origin, envelope), envelope.kind in DURABLE_KINDS))
        self._wake.set()

    async def start(self) -> None:
        """Start the publisher and subscriber; wait (briefly) for the first subscription."""
        loop = asyncio.get_running_loop()
        self._tasks = [
            loop.create_task(self._subscribe_loop(), name="redis-subscriber"),
            loop.create_task(self._publish_loop(), name="redis-publisher"),
        ]
        try:
            await asyncio.wait_for(self._ready.wait(), READY_TIMEOUT_S)
        except TimeoutError:
            _log.warning(
                "Redis at %s is not reachable: serving this process's clients only, "
                "retrying in the background",
                _safe(self.url),
            )

    async def close(self) -> None:
        """Flush what can be sent within a second, then stop and disconnect."""
        if self._closed:
            return
        if self._outbox and self.publishing:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._flushed(), 1.0)
        self._closed = True
        for task in [*self._tasks, *self._spawned]:
            task.cancel()
        for task in [*self._tasks, *self._spawned]:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        for client in (self.client, self._sub_client):
            with contextlib.suppress(Exception):
                await client.aclose()

    # -- internals --------------------------------------------------------------------------------

    def _deliver(self, envelope: Envelope) -> None:
        for handler in self._handlers:
            try:
                handler(envelope)
            except Exception:
                _log.exception("broker handler failed on %s %s", envelope.kind, envelope.room_id)

    def _shed(self) -> None:
        """The outbox is full: drop ephemeral envelopes, then the oldest durable ones."""
        kept = deque(o for o in self._outbox if o.durable)
        while len(kept) >= OUTBOX_MAX:
            kept.popleft()
        _log.warning("Redis outbox full: dropped %d envelopes", len(self._outbox) - len(kept))
        self._outbox = kept

    async def _flushed(self) -> None:
        while self._outbox and self.publishing:  # noqa: ASYNC110 - polls two conditions
            await asyncio.sleep(0.01)

    def _backoff(self, delay: float) -> tuple[float, float]:
        """(this wait with jitter, the next base delay)."""
        wait = delay * (0.5 + random.random())  # noqa: S311 - jitter, not cryptography
        return wait, min(delay * 2, self.reconnect_max_s)

    async def _publish_loop(self) -> None:
        delay = BACKOFF_START_S
        while True:
            if not self._outbox:
                self._wake.clear()
                await self._wake.wait()
                continue
            batch = [self._outbox[i] for i in range(min(PUBLISH_BATCH, len(self._outbox)))]
            try:
                pipe = self.client.pipeline(transaction=False)
                for item in batch:
                    pipe.publish(self.channel, item.data)
                await pipe.execute()
            except (RedisError, OSError) as exc:
                if self.publishing:
                    _log.warning("publishing to Redis failed (%r): retrying", exc)
                self.publishing = False
                self._outbox = deque(o for o in self._outbox if o.durable)
                wait, delay = self._backoff(delay)
                await asyncio.sleep(wait)
                continue
            for _ in batch:
                self._outbox.popleft()
            if not self.publishing:
                _log.warning("publishing to Redis again")
            self.publishing = True
            delay = BACKOFF_START_S

    async def _subscribe_loop(self) -> None:
        delay = BACKOFF_START_S
        missed = False
        while True:
            pubsub: Any = self._sub_client.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self.channel)
                self.subscribed = True
                self._ready.set()
                delay = BACKOFF_START_S
                if missed:
                    _log.warning("subscribed to Redis again: catching up from the database")
                    for handler in self._reconnect_handlers:
                        self._spawn(handler())
                missed = False
                while True:
                    message = await pubsub.get_message(timeout=5.0)
                    if message is not None and message.get("type") == "message":
                        self._on_message(message["data"])
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError) as exc:
                if self.subscribed or not missed:
                    _log.warning("Redis subscription lost (%r): reconnecting", exc)
                self.subscribed = False
                self.losses += 1
                missed = True
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()
            wait, delay = self._backoff(delay)
            await asyncio.sleep(wait)

    def _on_message(self, data: bytes) -> None:
        try:
            origin, envelope = decode(data)
        except WireError:
            _log.warning("ignoring a malformed message on %s", self.channel)
            return
        if origin != self.origin:
            self._deliver(envelope)

    def _spawn(self, coro: Any) -> None:
        task: asyncio.Task[Any] = asyncio.get_running_loop().create_task(coro)
        self._spawned.add(task)
        task.add_done_callback(self._spawned.discard)


def _safe(url: str) -> str:
    """``url`` without its password (for logs)."""
    scheme, sep, rest = url.partition("://")
    if "@" in rest:
        rest = "***@" + rest.rsplit("@", 1)[1]
    return scheme + sep + rest
