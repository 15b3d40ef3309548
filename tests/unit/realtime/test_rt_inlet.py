"""Received messages handed to the dispatcher inside uvicorn's ``data_received`` (``Inlet``).

Runs uvicorn's real websockets-sansio protocol over a fake transport, so that the uvicorn internals
:meth:`DirectWire.receive_directly` relies on (its receive queue, ``read_paused``) are checked
against the installed uvicorn.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from uvicorn.config import Config
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from uvicorn.server import ServerState
from websockets.frames import Close, Frame, Opcode

from chatterbox.realtime.wire import DirectWire, Inlet

pytestmark = pytest.mark.anyio

UPGRADE = (
    b"GET /ws HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class Transport(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.written: list[bytes] = []
        self.pauses = 0
        self.closed = False

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("127.0.0.1", 5000), "sockname": ("127.0.0.1", 8000)}.get(name, default)

    def write(self, data: Any) -> None:
        self.written.append(bytes(data))

    def pause_reading(self) -> None:
        self.pauses += 1

    def resume_reading(self) -> None:
        pass

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True


def client_frame(text: str) -> bytes:
    return Frame(Opcode.TEXT, text.encode()).serialize(mask=True, extensions=[])


async def test_messages_reach_the_handler_as_they_are_parsed_in_order() -> None:
    handled: list[str | bytes] = []
    events: list[dict[str, Any]] = []
    installed: list[bool] = []
    ready = asyncio.Event()
    go = asyncio.Event()
    done = asyncio.Event()

    async def app(scope: Any, receive: Any, send: Any) -> None:
        assert (await receive())["type"] == "websocket.connect"
        await send({"type": "websocket.accept"})
        wire = DirectWire.of(send)
        assert wire is not None
        ready.set()
        await go.wait()
        while True:
            if not installed or not installed[-1]:
                installed.append(wire.receive_directly(handled.append))
            message = await receive()
            events.append(message)
            if message["type"] == "websocket.disconnect":
                done.set()
                return

    config = Config(app=app, ws="websockets-sansio", log_level="warning")
    config.load()
    proto = WebSocketsSansIOProtocol(config, ServerState(), app_state={})
    transport = Transport()
    proto.connection_made(transport)
    proto.data_received(UPGRADE)
    await asyncio.wait_for(ready.wait(), 5)
    # Not installed while a message waits for receive(): it would be overtaken.
    proto.data_received(client_frame("queued"))
    go.set()
    for _ in range(10):
        await asyncio.sleep(0)
        if installed[-1]:
            break
    assert installed == [False, True] and type(proto.queue) is Inlet
    assert events == [{"type": "websocket.receive", "text": "queued"}]
    pauses = transport.pauses
    # From now on: handled inside data_received, in order, several per read; reading never paused.
    proto.data_received(client_frame("one") + client_frame("two"))
    assert handled == ["one", "two"]
    proto.data_received(Frame(Opcode.BINARY, b"\x01").serialize(mask=True, extensions=[]))
    assert handled == ["one", "two", b"\x01"]
    assert transport.pauses == pauses and len(events) == 1
    # Every other event still reaches receive().
    close = Frame(Opcode.CLOSE, Close(1000, "bye").serialize())
    proto.data_received(close.serialize(mask=True, extensions=[]))
    await asyncio.wait_for(done.wait(), 5)
    assert events[-1]["type"] == "websocket.disconnect" and events[-1]["code"] == 1000
    proto.connection_lost(None)


async def test_a_failing_handler_is_logged_and_the_next_message_still_handled(
    caplog: pytest.LogCaptureFixture,
) -> None:
    seen: list[str | bytes] = []

    def handle(data: str | bytes) -> None:
        seen.append(data)
        if data == "bad":
            raise RuntimeError("handler bug")

    inlet = Inlet(handle)
    inlet.put_nowait({"type": "websocket.receive", "text": "bad"})
    inlet.put_nowait({"type": "websocket.receive", "text": "good"})
    assert seen == ["bad", "good"] and inlet.empty()
    assert "handling a received message failed" in caplog.text
    inlet.put_nowait({"type": "websocket.disconnect", "code": 1006})
    assert (await inlet.get())["code"] == 1006
