"""The pre-encoded fan-out path: frame bytes, when a direct write is allowed, the sender's fallback."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import orjson
import pytest
from websockets.frames import Frame, Opcode
from websockets.protocol import State

from chatterbox.realtime import frames
from chatterbox.realtime.sender import Sender
from chatterbox.realtime.wire import WIRE_KEY, DirectWire, WireBatch, text_frame

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.mark.parametrize("n", [0, 1, 125, 126, 127, 65535, 65536, 70000])
def test_text_frame_is_what_websockets_would_send(n: int) -> None:
    payload = ("é" * n).encode()[:n]
    expected = Frame(Opcode.TEXT, payload).serialize(mask=False, extensions=[])
    assert text_frame(payload) == expected


def test_outgoing_messages_carry_the_encoded_frame() -> None:
    message, size = frames.outgoing({"type": "pong", "re": "a"})
    data = orjson.dumps({"type": "pong", "re": "a"})
    assert message[WIRE_KEY] == text_frame(data) and size == len(data)
    message, size = frames.outgoing_text('{"x":"é"}')
    assert message[WIRE_KEY] == text_frame('{"x":"é"}'.encode()) and size == 10


def test_only_uvicorn_sansio_send_is_captured() -> None:
    async def send(message: Any) -> None:
        del message

    assert DirectWire.of(send) is None
    assert DirectWire.of(SimpleNamespace(send=send).send) is None


class FakeTransport:
    def __init__(self) -> None:
        self.data: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.data.append(data)


def fake_proto() -> Any:
    writable = asyncio.Event()
    writable.set()
    conn = SimpleNamespace(
        state=State.OPEN, extensions=[], expect_continuation_frame=False, writes=[]
    )
    return SimpleNamespace(
        handshake_complete=True,
        close_sent=False,
        disconnected=False,
        initial_response=None,
        writable=writable,
        conn=conn,
        transport=FakeTransport(),
    )


def wired_sender(send: Any, proto: Any) -> Sender:
    """A sender with a small outbox writing through a wire on ``proto``."""
    return Sender(
        send,
        max_frames=8,
        max_bytes=1000,
        on_overflow=lambda: None,
        on_error=lambda exc: None,
        wire=DirectWire(proto),
    )


async def next_iteration() -> None:
    await asyncio.sleep(0)


async def test_writes_only_when_send_would_write_unchanged() -> None:
    proto = fake_proto()
    wire = DirectWire(proto)
    assert wire.write(b"a") and proto.transport.data == []
    await next_iteration()
    assert proto.transport.data == [b"a"]
    refusals: list[tuple[Any, str, Any]] = [
        (proto, "handshake_complete", False),
        (proto, "close_sent", True),
        (proto, "disconnected", True),
        (proto, "initial_response", (403, [], b"")),
        (proto.conn, "state", State.CLOSING),
        (proto.conn, "extensions", ["permessage-deflate"]),
        (proto.conn, "expect_continuation_frame", True),
        (proto.conn, "writes", [b"pending"]),
    ]
    for target, name, value in refusals:
        old = getattr(target, name)
        setattr(target, name, value)
        assert not wire.write(b"b"), name
        setattr(target, name, old)
    proto.writable.clear()  # paused: send would suspend, so the sender must queue
    assert not wire.write(b"b")
    assert proto.transport.data == [b"a"]


async def test_sender_uses_the_wire_then_falls_back_to_send_and_the_outbox() -> None:
    proto = fake_proto()
    sent: list[str] = []
    gate = asyncio.Event()
    gate.set()

    async def send(message: dict[str, Any]) -> None:
        await gate.wait()
        sent.append(message["text"])

    sender = wired_sender(send, proto)
    first, size = frames.outgoing_text("1")
    sender.push(first, size)
    await next_iteration()
    assert proto.transport.data == [first[WIRE_KEY]] and sent == []
    sender.push({"type": "websocket.send", "text": "plain"}, 5)  # no encoded frame: send
    assert sent == ["plain"]
    proto.writable.clear()
    gate.clear()  # paused: the wire refuses, send suspends, the frame queues
    second, size = frames.outgoing_text("2")
    sender.push(second, size)
    third, size = frames.outgoing_text("3")
    sender.push(third, size)  # behind the queued one, never around it
    assert sender.paused and len(sender.outbox) == 2
    proto.writable.set()
    gate.set()
    await sender.wait_drained()
    assert sent == ["plain", "2", "3"] and not sender.paused
    fourth, size = frames.outgoing_text("4")
    sender.push(fourth, size)
    await next_iteration()
    assert proto.transport.data == [first[WIRE_KEY], fourth[WIRE_KEY]]


async def test_one_write_per_connection_per_loop_iteration() -> None:
    batch = WireBatch()
    protos = [fake_proto(), fake_proto()]
    wires = [DirectWire(p, batch) for p in protos]
    for i in range(3):
        for wire in wires:
            assert wire.write(b"f%d" % i)
    assert all(p.transport.data == [] for p in protos) and all(w.pending for w in wires)
    await next_iteration()
    assert [p.transport.data for p in protos] == [[b"f0f1f2"], [b"f0f1f2"]]
    assert not any(w.pending for w in wires)
    assert wires[0].write(b"g")  # a later iteration: a new write
    await next_iteration()
    assert protos[0].transport.data == [b"f0f1f2", b"g"] and protos[1].transport.data == [b"f0f1f2"]


async def test_pending_frames_go_before_anything_sent_through_send() -> None:
    proto = fake_proto()
    order: list[bytes] = []
    proto.transport.write = order.append

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "websocket.close":
            order.append(b"<close>")
        else:
            order.append(b"<send " + message["text"].encode() + b">")

    sender = wired_sender(send, proto)
    first, size = frames.outgoing_text("1")
    sender.push(first, size)
    sender.push({"type": "websocket.send", "text": "plain"}, 5)  # not pre-encoded: send
    assert order == [first[WIRE_KEY], b"<send plain>"]
    second, size = frames.outgoing_text("2")
    sender.push(second, size)
    assert await sender.close(1000, "bye", 1.0)  # the close frame follows what was accepted
    assert order == [first[WIRE_KEY], b"<send plain>", second[WIRE_KEY], b"<close>"]
    await next_iteration()
    assert len(order) == 4


async def test_pending_frames_are_dropped_once_the_connection_is_not_open() -> None:
    proto = fake_proto()
    wire = DirectWire(proto)
    assert wire.write(b"late")
    proto.close_sent = True  # e.g. the peer's close was answered meanwhile
    await next_iteration()
    assert proto.transport.data == [] and not wire.pending

    def broken(data: bytes) -> None:
        raise RuntimeError("transport closed")

    proto = fake_proto()
    proto.transport.write = broken
    wire = DirectWire(proto)
    reported: list[dict[str, Any]] = []
    loop = asyncio.get_running_loop()
    loop.set_exception_handler(lambda _loop, context: reported.append(context))
    try:
        assert wire.write(b"x")
        await next_iteration()  # logged, not raised into the loop
    finally:
        loop.set_exception_handler(None)
    assert not wire.pending and reported == []


async def test_later_frames_of_an_iteration_join_the_pending_ones_and_share_their_fate() -> None:
    """Only the first frame of an iteration is checked: the next ones go out with it, or are
    dropped with it when the connection stopped being open before the write."""
    proto = fake_proto()
    wire = DirectWire(proto)
    assert wire.write(b"a")
    proto.writable.clear()  # paused meanwhile (e.g. by a pong): still one write, as queued
    assert wire.write(b"b")
    await next_iteration()
    assert proto.transport.data == [b"ab"]
    assert not wire.write(b"c")  # a new iteration: checked again, and paused
    proto.writable.set()
    assert wire.write(b"d")
    proto.conn.state = State.CLOSING  # the peer's close arrived before the write
    assert wire.write(b"e")
    await next_iteration()
    assert proto.transport.data == [b"ab"] and not wire.pending
