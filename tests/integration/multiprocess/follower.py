"""A client that follows one room across reconnects and checks what it sees, for the multi-process tests.

:class:`Follower` records every durable event of its room (``seq``, type, message id) and asserts, frame by
frame, that ``seq`` never goes backwards, never repeats and never skips: what ``resume`` and the live stream
promise together. After a lost connection, :meth:`Follower.connect` to any process resumes from the last
``seq`` seen.
"""

# ruff: noqa: ASYNC109 - per-call deadlines are the point of this test helper
from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from typing import Any

from websockets.exceptions import ConnectionClosed

from tests.integration.realtime.wsclient import Account, WsClient, open_ws
from tests.support.live_server import LiveServer

__all__ = ["Follower"]

JSON = dict[str, Any]


@dataclass
class Follower:
    """One user's connection to one room, resumable on any process."""

    account: Account
    room: str
    last_seq: int = -1
    events: list[tuple[int, str, str | None]] = field(default_factory=list)
    """``(seq, type, message id)`` of every durable event of the room, in order of arrival."""
    client: WsClient | None = None
    closed_with: list[int | None] = field(default_factory=list)

    @property
    def message_ids(self) -> list[str]:
        """Ids of the ``message.created`` events seen, in order."""
        return [mid for _, kind, mid in self.events if kind == "message.created" and mid]

    async def connect(self, server: LiveServer) -> None:
        """Connect (the first time: from ``hello``'s ``last_seq``; later: ``resume``)."""
        self.client = await open_ws(server, self.account)
        if self.last_seq < 0:
            self.last_seq = next(
                r["last_seq"] for r in self.client.hello["rooms"] if r["id"] == self.room
            )
            return
        cid = await self.client.send({"type": "resume", "rooms": {self.room: self.last_seq}})
        # Live events above hello's snapshot may arrive before the replay of older ones, and the
        # replay repeats them: like a real client, order by seq and drop what was already seen.
        early: dict[int, JSON] = {}
        while True:
            frame = await self.client.recv(timeout=20)
            if frame.get("re") == cid:
                assert frame["type"] == "ack", frame
                break
            if frame.get("room_id") == self.room and "seq" in frame:
                early.setdefault(int(frame["seq"]), frame)
        for seq in sorted(early):
            if seq > self.last_seq:
                self.absorb(early[seq])

    def absorb(self, frame: JSON) -> None:
        """Record a durable event of the room, checking the seq order."""
        if frame.get("room_id") != self.room or "seq" not in frame:
            return
        seq = int(frame["seq"])
        assert seq == self.last_seq + 1, f"{self.account.username}: seq {seq} after {self.last_seq}"
        self.last_seq = seq
        message = frame.get("message") or {}
        self.events.append((seq, str(frame["type"]), message.get("id")))

    async def read_until(self, count: int, timeout: float = 20.0) -> None:
        """Read until ``count`` messages were seen (raises ``ConnectionClosed`` if the server goes)."""
        assert self.client is not None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while len(self.message_ids) < count:
            left = deadline - loop.time()
            assert left > 0, f"{self.account.username}: {len(self.message_ids)}/{count} messages"
            self.absorb(await self.client.recv(timeout=left))

    async def follow(self, count: int, servers: list[LiveServer], timeout: float = 30.0) -> None:
        """Like :meth:`read_until`, reconnecting (to the next server that answers) when the connection
        drops."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            try:
                await self.read_until(count, deadline - loop.time())
                return
            except ConnectionClosed as exc:
                self.closed_with.append(exc.rcvd.code if exc.rcvd is not None else None)
                await self.reconnect(servers)

    async def reconnect(self, servers: list[LiveServer]) -> None:
        """Connect to the first server that accepts, and resume."""
        for server in servers:
            if server.process is None or server.process.poll() is not None:
                continue
            try:
                await self.connect(server)
                return
            except (OSError, ConnectionClosed, TimeoutError):
                continue
        raise AssertionError("no server accepted the reconnect")

    async def close(self) -> None:
        """Close quietly (the connection may already be gone)."""
        if self.client is not None:
            with contextlib.suppress(ConnectionClosed):
                await self.client.close()
