"""The direct-write sender against a fake ASGI ``send`` that can pause like uvicorn's."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from chatterbox.realtime.sender import Sender

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class FakeSocket:
    """Writes synchronously while ``writable`` is set, like uvicorn's ``send``."""

    def __init__(self) -> None:
        self.writable = asyncio.Event()
        self.writable.set()
        self.written: list[Any] = []
        self.fail = False

    async def send(self, message: dict[str, Any]) -> None:
        await self.writable.wait()
        if self.fail:
            raise OSError("gone")
        self.written.append(message.get("text", message.get("code")))


def make(sock: FakeSocket, frames: int = 3, size: int = 1000) -> tuple[Sender, list[str]]:
    events: list[str] = []
    sender = Sender(
        sock.send,
        max_frames=frames,
        max_bytes=size,
        on_overflow=lambda: events.append("overflow"),
        on_error=lambda exc: events.append(f"error {exc}"),
    )
    return sender, events


def msg(text: str) -> dict[str, Any]:
    return {"type": "websocket.send", "text": text}


async def test_writes_directly_without_a_task() -> None:
    sock = FakeSocket()
    sender, events = make(sock)
    tasks = len(asyncio.all_tasks())
    for i in range(5):
        sender.push(msg(f"m{i}"), 2)
    assert sock.written == [f"m{i}" for i in range(5)]  # synchronously, in order
    assert len(asyncio.all_tasks()) == tasks and not sender.paused and events == []


async def test_queues_behind_a_paused_socket_then_drains_in_order() -> None:
    sock = FakeSocket()
    sender, events = make(sock, frames=4)
    sock.writable.clear()
    for i in range(4):  # the first attempt is abandoned unwritten: all four queue
        sender.push(msg(f"m{i}"), 2)
    assert sender.paused and sock.written == [] and len(sender.outbox) == 4
    sock.writable.set()
    await sender.wait_drained()
    assert sock.written == ["m0", "m1", "m2", "m3"] and not sender.paused and events == []
    sender.push(msg("direct"), 2)
    assert sock.written[-1] == "direct"


async def test_overflow_stops_the_sender() -> None:
    sock = FakeSocket()
    sender, events = make(sock, frames=2)
    sock.writable.clear()
    for i in range(4):
        sender.push(msg(f"m{i}"), 2)
    assert events == ["overflow"] and sender.closed and len(sender.outbox) == 0
    sock.writable.set()
    await asyncio.sleep(0.01)
    assert sock.written == []  # the suspended write was abandoned


async def test_a_failing_socket_reports_once() -> None:
    sock = FakeSocket()
    sock.fail = True
    sender, events = make(sock)
    sender.push(msg("a"), 1)
    sender.push(msg("b"), 1)
    assert events == ["error gone"] and sender.closed


async def test_close_waits_for_a_paused_socket_only_so_long() -> None:
    sock = FakeSocket()
    sender, _ = make(sock)
    sock.writable.clear()
    assert await sender.close(4008, "slow consumer", 0.05) is False
    sock2 = FakeSocket()
    sender2, _ = make(sock2)
    assert await sender2.close(1001, "bye", 0.05) is True and sock2.written == [1001]
