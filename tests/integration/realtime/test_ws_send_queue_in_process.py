"""``message.send`` waiting in the writer's queue, in process (the writer can be held shut here).

A send takes no task on its hot path: it waits in the writer's queue with a callback
(:meth:`chatterbox.store.writer.Writer.submit_nowait`). So a drain cannot find it among the
connection's tasks and must still wait for its commit *and* its publication; and when the queue
is full, sends fall back to tasks without losing their order.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from fastapi import FastAPI

from chatterbox.app import create_app
from chatterbox.broker.base import Envelope
from chatterbox.config import Settings
from chatterbox.realtime.hub import Hub

pytestmark = pytest.mark.anyio

JSON = dict[str, Any]


class Session:
    """One WebSocket session driven through the app's ASGI interface, and a gate on the writer."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self.hub: Hub = app.state.hub
        self.inbound: asyncio.Queue[JSON] = asyncio.Queue()
        self.frames: list[JSON] = []
        self.published: list[Envelope] = []
        self.hub.broker.subscribe(self.published.append)
        self.gate = asyncio.Event()
        self.gate.set()
        writer = self.hub.store._writer  # type: ignore[attr-defined]
        real_execute = writer._execute

        async def gated(batch: list[Any]) -> None:
            await self.gate.wait()
            await real_execute(batch)

        writer._execute = gated
        self.writer = writer
        self._task: asyncio.Task[None] | None = None

    async def open(self, token: str) -> None:
        hello = asyncio.Event()

        async def receive() -> JSON:
            return await self.inbound.get()

        async def send(message: JSON) -> None:
            if message.get("type") == "websocket.send":
                frame = orjson.loads(message["text"])
                self.frames.append(frame)
                if frame["type"] == "hello":
                    hello.set()

        scope = {
            "type": "websocket",
            "asgi": {"version": "3.0"},
            "scheme": "ws",
            "path": "/ws",
            "raw_path": b"/ws",
            "root_path": "",
            "query_string": b"",
            "headers": [(b"host", b"testserver"), (b"authorization", f"Bearer {token}".encode())],
            "client": ("127.0.0.1", 40000),
            "server": ("testserver", 80),
            "subprotocols": ["chatterbox.v1"],
        }
        await self.inbound.put({"type": "websocket.connect"})
        self._task = asyncio.create_task(self.app(scope, receive, send))
        await asyncio.wait_for(hello.wait(), 10)

    async def say(self, keys: list[str], first_id: int = 0) -> None:
        for i, key in enumerate(keys, first_id):
            frame = {
                "type": "message.send",
                "id": f"c{i}",
                "room_id": "r_general",
                "body": key,
                "client_msg_id": key,
            }
            await self.inbound.put(
                {"type": "websocket.receive", "text": orjson.dumps(frame).decode()}
            )

    def created(self) -> list[str]:
        return [
            orjson.loads(e.text)["message"]["body"] for e in self.published if e.kind == "event"
        ]

    async def close(self) -> None:
        self.gate.set()
        await self.inbound.put({"type": "websocket.disconnect", "code": 1000})
        if self._task is not None:
            await asyncio.wait_for(self._task, 10)


@asynccontextmanager
async def session(tmp_path: Path) -> AsyncIterator[Session]:
    settings = Settings(
        env="development", database_url=f"sqlite+aiosqlite:///{tmp_path / 'chatterbox.db'}"
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            r = await http.post(
                "/api/auth/register",
                json={"username": "sender", "password": "correct horse battery staple 42"},
            )
            assert r.status_code == 201, r.text
        s = Session(app)
        await s.open(r.json()["token"])
        try:
            yield s
        finally:
            await s.close()  # the gate too: the store's close must never be stuck


async def _until(check: Any) -> None:
    for _ in range(400):
        if check():
            return
        await asyncio.sleep(0.005)


async def test_drain_waits_for_queued_sends_to_commit_and_publish(tmp_path: Path) -> None:
    async with session(tmp_path) as s:
        s.gate.clear()
        keys = [f"drain-key-{i}" for i in range(5)]
        await s.say(keys)
        (conn,) = s.hub.connections
        await _until(lambda: conn.queued_sends == len(keys))
        assert conn.queued_sends == len(keys), s.frames[-3:]  # the hot path: no task per send
        assert not conn.tasks

        drain = asyncio.create_task(s.hub.drain())
        await asyncio.sleep(0.1)
        assert not drain.done(), "the drain did not wait for the queued sends"
        assert s.created() == []
        s.gate.set()
        await asyncio.wait_for(drain, 10)
        assert s.created() == keys  # committed and published, in order
        assert conn.queued_sends == 0
        stored, _ = await s.hub.store.history_page("r_general", None, 10)
        assert [m.body for m in stored] == keys


async def test_sends_beyond_a_full_queue_take_tasks_and_keep_their_order(tmp_path: Path) -> None:
    async with session(tmp_path) as s:
        s.writer._max_queue = 2
        s.gate.clear()
        keys = [f"queue-key-{i:02d}" for i in range(12)]
        await s.say(keys)
        (conn,) = s.hub.connections
        # At most three are queued (the held batch, then a full queue of two); the rest run as
        # tasks, and while any does, later sends follow them.
        await _until(lambda: conn.queued_sends + conn.slow_sends == len(keys))
        assert conn.queued_sends + conn.slow_sends == len(keys)
        assert 2 <= conn.queued_sends <= 3 and len(conn.tasks) == conn.slow_sends
        s.gate.set()
        # More sends while those tasks wait for room: they must not overtake them.
        more = [f"queue-key-{i:02d}" for i in range(len(keys), len(keys) + 12)]
        await s.say(more, first_id=len(keys))
        keys += more
        await _until(lambda: len([f for f in s.frames if f["type"] == "ack"]) == len(keys))
        acks = [f for f in s.frames if f["type"] == "ack"]
        assert [a["result"]["message"]["body"] for a in acks] == keys
        seqs = [a["result"]["message"]["seq"] for a in acks]
        assert seqs == sorted(seqs) and len(set(seqs)) == len(keys)
        assert s.created() == keys
        assert (conn.queued_sends, conn.slow_sends, len(conn.tasks)) == (0, 0, 0)
        # With room again, sends take the hot path.
        await s.say(["after-the-queue-1"], first_id=len(keys))
        await _until(lambda: len(s.created()) == len(keys) + 1)
        assert s.created()[-1] == "after-the-queue-1"


async def test_a_send_never_overtakes_an_earlier_one_waiting_as_a_task(tmp_path: Path) -> None:
    """Deterministic: the queue has room again *before* the earlier send's task has even run."""
    async with session(tmp_path) as s:
        s.writer._max_queue = 1
        s.gate.clear()
        (conn,) = s.hub.connections
        await s.say(["held-batch-1"])
        await _until(lambda: conn.queued_sends == 1 and not s.writer._queue)
        await s.say(["fills-queue-1"], first_id=1)
        await _until(lambda: conn.queued_sends == 2 and len(s.writer._queue) == 1)
        assert conn.queued_sends == 2 and len(s.writer._queue) == 1
        handle = s.app.state.dispatcher.handle

        def frame(i: int, key: str) -> str:
            send = {"type": "message.send", "id": f"d{i}", "room_id": "r_general"}
            return orjson.dumps({**send, "body": key, "client_msg_id": key}).decode()

        handle(conn, frame(1, "waits-as-task"))  # no room: a task, not started yet
        assert conn.slow_sends == 1
        s.writer._max_queue = 10  # room again, synchronously
        handle(conn, frame(2, "comes-after-it"))  # must queue behind the task
        s.gate.set()
        await _until(lambda: len(s.created()) == 4)
        assert s.created() == ["held-batch-1", "fills-queue-1", "waits-as-task", "comes-after-it"]
