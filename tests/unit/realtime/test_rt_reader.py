"""The inbound fast path (``FastReader``): text frames read without websockets' parser.

Each test runs uvicorn's real websockets-sansio protocol over a fake transport. The differential
property feeds the same byte stream, cut into random chunks, to a connection with the fast reader
and to one without it: what reaches the application (messages, in order; the disconnect and its
code) and what goes back on the wire (pongs, close frames) must be identical. (Protocol errors are
left out of it: uvicorn drops the messages it parsed in the same read as one, which depends on
where reads end; their own test shows what happens.)
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from uvicorn.config import Config
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from uvicorn.server import ServerState
from websockets.frames import Close, Frame, Opcode

from chatterbox.realtime import reader as reader_module
from chatterbox.realtime.reader import FastReader
from chatterbox.realtime.wire import DirectWire

from .test_rt_inlet import UPGRADE, Transport

MAX_SIZE = 65536  # Chatterbox's ws_max_size (max_frame_bytes)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class Peer:
    """A uvicorn connection whose app hands messages to ``handled`` as soon as it can."""

    def __init__(self, *, fast: bool = True, max_size: int = MAX_SIZE) -> None:
        self.fast = fast
        self.handled: list[str | bytes] = []
        self.events: list[dict[str, Any]] = []
        self.failures: list[str] = []
        self.installed = False
        self.ready = asyncio.Event()
        self.transport = Transport()
        config = Config(
            app=self.app, ws="websockets-sansio", log_level="warning", interface="asgi3"
        )
        config.ws_max_size = max_size
        config.ws_per_message_deflate = False
        config.load()
        self.proto = WebSocketsSansIOProtocol(config, ServerState(), app_state={})

    async def app(self, scope: Any, receive: Any, send: Any) -> None:
        assert (await receive())["type"] == "websocket.connect"
        await send({"type": "websocket.accept"})
        wire = DirectWire.of(send)
        assert wire is not None
        await asyncio.sleep(0)
        assert wire.receive_directly(self.handled.append)
        self.installed = type(getattr(self.proto.conn, "receive_data", None).__self__) is FastReader
        if not self.fast and self.installed:
            del self.proto.conn.receive_data  # back to websockets' own method
        self.ready.set()
        while True:
            message = await receive()
            self.events.append(message)
            if message["type"] == "websocket.disconnect":
                return

    async def open(self) -> Peer:
        self.proto.connection_made(self.transport)
        self.proto.data_received(UPGRADE)
        await asyncio.wait_for(self.ready.wait(), 5)
        self.transport.written.clear()  # the 101 response
        return self

    async def feed(self, *chunks: bytes) -> None:
        for chunk in chunks:
            if self.transport.closed:
                break
            try:
                self.proto.data_received(chunk)
            except Exception as exc:  # uvicorn's own (two bad frames in one read): the loop
                self.failures.append(type(exc).__name__)  # would close the transport
                self.transport.close()
        for _ in range(5):
            await asyncio.sleep(0)

    def lose(self) -> None:
        self.proto.connection_lost(None)


def text(data: str, *, fin: bool = True) -> bytes:
    return Frame(Opcode.TEXT, data.encode(), fin=fin).serialize(mask=True, extensions=[])


def frame(opcode: Opcode, data: bytes, *, fin: bool = True, mask: bool = True) -> bytes:
    return Frame(opcode, data, fin=fin).serialize(mask=mask, extensions=[])


@pytest.fixture
def count_parsed(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many frames websockets' own parser read."""
    parsed = [0]
    original = Frame.parse.__func__  # type: ignore[attr-defined]

    def counting(cls: Any, *args: Any, **kwargs: Any) -> Any:
        parsed[0] += 1
        return (yield from original(cls, *args, **kwargs))

    monkeypatch.setattr(Frame, "parse", classmethod(counting))
    return parsed


@pytest.mark.anyio
async def test_text_frames_are_read_here_in_order_whatever_the_chunks(
    count_parsed: list[int],
) -> None:
    peer = await Peer().open()
    assert peer.installed
    texts = ["a", "é" * 40, "x" * 125, "y" * 126, "z" * 5000, '{"type":"ping","id":"p1"}']
    stream = b"".join(text(t) for t in texts)
    await peer.feed(stream)  # all at once
    await peer.feed(*(stream[i : i + 1] for i in range(len(stream))))  # byte by byte
    await peer.feed(stream[:3], stream[3:130], stream[130:])  # cut inside headers and payloads
    assert peer.handled == texts * 3
    assert count_parsed == [0]  # websockets' parser read none of them
    assert peer.events == [] and peer.transport.written == []
    peer.lose()


@pytest.mark.anyio
async def test_other_frames_go_to_websockets_and_the_fast_path_resumes_after_them(
    count_parsed: list[int],
) -> None:
    peer = await Peer().open()
    ping = frame(Opcode.PING, b"hb")
    binary = frame(Opcode.BINARY, b"\x00\x01")
    first = text("part one, ", fin=False)
    rest = frame(Opcode.CONT, b"part two")
    await peer.feed(text("1") + ping + text("2") + binary + text("3") + first + rest + text("4"))
    assert peer.handled == ["1", "2", b"\x00\x01", "3", "part one, part two", "4"]
    assert peer.transport.written == [frame(Opcode.PONG, b"hb", mask=False)]
    parsed = count_parsed[0]
    assert parsed >= 1
    await peer.feed(text("5") + text("6"))  # back at a frame boundary: read here again
    assert peer.handled[-2:] == ["5", "6"] and count_parsed[0] == parsed
    peer.lose()


@pytest.mark.parametrize(
    ("bad", "code", "parsed_in_same_read"),
    [
        (frame(Opcode.TEXT, b"\xff\xfe"), 1007, ["before"]),  # invalid UTF-8
        (frame(Opcode.TEXT, b"hi", mask=False), 1002, []),  # a client frame must be masked
        (frame(Opcode.TEXT, b"x" * (MAX_SIZE + 1)), 1009, []),  # too large
    ],
    ids=["invalid-utf8", "unmasked", "too-large"],
)
@pytest.mark.anyio
async def test_bad_frames_fail_exactly_as_websockets_fails_them(
    bad: bytes, code: int, parsed_in_same_read: list[str]
) -> None:
    fast, plain, apart = Peer(), Peer(fast=False), Peer(fast=False)
    for peer in (fast, plain, apart):
        await peer.open()
    await fast.feed(text("before") + bad + text("after"))
    await plain.feed(text("before") + bad + text("after"))
    await apart.feed(text("before"), bad + text("after"))
    assert fast.transport.written == plain.transport.written == apart.transport.written
    assert Close.parse(fast.transport.written[0][2:]).code == code
    # A message received before the bad frame is handled. uvicorn does the same when the two
    # arrive in different reads, but drops it on a protocol error found in the same read.
    assert fast.handled == apart.handled == ["before"]
    assert plain.handled == parsed_in_same_read
    for peer in (fast, plain, apart):
        peer.lose()


async def closed_alike(reads: list[bytes], *, max_size: int = MAX_SIZE) -> tuple[list[Any], int]:
    """Feed ``reads`` (one read each) with and without the fast path; both must handle the same
    messages and write the same close frame: returns those messages and the close code."""
    fast, plain = Peer(max_size=max_size), Peer(fast=False, max_size=max_size)
    for peer in (fast, plain):
        await peer.open()
        await peer.feed(*reads)
        peer.lose()
    assert fast.handled == plain.handled
    assert fast.transport.written == plain.transport.written
    return fast.handled, Close.parse(fast.transport.written[0][2:]).code


@pytest.mark.anyio
async def test_a_text_frame_inside_a_fragmented_message_is_a_protocol_error() -> None:
    reads = [text("first part", fin=False), text("not a continuation")]
    assert await closed_alike(reads) == ([], 1002)


@pytest.mark.anyio
async def test_a_lower_size_limit_is_kept_for_two_byte_lengths() -> None:
    reads = [text("x" * 1000), text("x" * 1001)]
    assert await closed_alike(reads, max_size=1000) == (["x" * 1000], 1009)


@pytest.mark.anyio
async def test_a_close_frame_ends_reading_and_later_frames_are_not_handled() -> None:
    peer = await Peer().open()
    close = frame(Opcode.CLOSE, Close(1000, "bye").serialize())
    await peer.feed(text("last") + close + text("too late"))
    assert peer.handled == ["last"]
    assert peer.events[-1]["type"] == "websocket.disconnect" and peer.events[-1]["code"] == 1000
    peer.lose()


@pytest.mark.anyio
async def test_nothing_is_handled_once_the_server_sent_its_close_frame() -> None:
    peer = await Peer().open()
    two = text("two")
    await peer.feed(text("one") + two[:-1])  # leaves a partial frame waiting here
    peer.proto.close_sent = True  # what uvicorn sets when the app's close frame went out
    await peer.feed(two[-1:])
    assert peer.handled == ["one"]
    peer.lose()


@pytest.mark.anyio
async def test_frames_after_one_whose_handling_closed_the_connection_are_not_handled() -> None:
    peer = await Peer().open()

    def handle(data: str | bytes) -> None:
        peer.handled.append(data)
        if data == "quit":  # what the app's websocket.close does in uvicorn
            peer.proto.conn.send_close(1000)
            peer.proto.close_sent = True

    FastReader(peer.proto, handle).install()
    await peer.feed(text("one") + text("quit") + text("ignored"))
    assert peer.handled == ["one", "quit"]
    peer.lose()


@pytest.mark.anyio
async def test_a_failing_handler_is_logged_and_the_next_frame_still_handled(
    caplog: pytest.LogCaptureFixture,
) -> None:
    peer = await Peer().open()

    def handle(data: str | bytes) -> None:
        peer.handled.append(data)
        if data == "bad":
            raise RuntimeError("handler bug")

    FastReader(peer.proto, handle).install()
    with caplog.at_level(logging.ERROR):
        await peer.feed(text("bad") + text("good"))
    assert peer.handled == ["bad", "good"]
    assert "handling a received message failed" in caplog.text
    peer.lose()


@pytest.mark.anyio
async def test_not_installed_with_an_extension_or_in_the_middle_of_a_frame() -> None:
    peer = await Peer(fast=False).open()
    conn = peer.proto.conn
    whole = text("abcdef")
    await peer.feed(whole[:4])  # websockets now holds part of a frame
    assert FastReader(peer.proto, peer.handled.append).install() is False
    await peer.feed(whole[4:])
    assert peer.handled == ["abcdef"]
    conn.extensions = [object()]
    assert FastReader(peer.proto, peer.handled.append).install() is False
    conn.extensions = []
    assert FastReader(peer.proto, peer.handled.append).install() is True
    peer.lose()


def test_the_parser_generator_it_checks_is_websockets_at_eof() -> None:
    from websockets.streams import StreamReader

    assert reader_module._AT_EOF is StreamReader.at_eof.__code__


_frames = st.one_of(
    st.text(max_size=300).map(lambda s: ("text", s)),
    st.integers(126, 3000).map(lambda n: ("text", "m" * n)),
    st.binary(max_size=50).map(lambda b: ("binary", b)),
    st.binary(max_size=20).map(lambda b: ("ping", b)),
    st.tuples(st.text(max_size=20), st.text(max_size=20)).map(lambda p: ("fragmented", p)),
    st.just(("bad-utf8", b"\xc3\x28")),
    st.just(("close", b"")),
)


def _encode(kind: str, value: Any) -> bytes:
    if kind == "text":
        return text(value)
    if kind == "binary":
        return frame(Opcode.BINARY, value)
    if kind == "ping":
        return frame(Opcode.PING, value)
    if kind == "fragmented":
        return text(value[0], fin=False) + frame(Opcode.CONT, value[1].encode())
    if kind == "bad-utf8":
        return frame(Opcode.TEXT, value)
    return frame(Opcode.CLOSE, Close(1000, "").serialize())


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frames=st.lists(_frames, max_size=12), cuts=st.lists(st.integers(0, 20000), max_size=8))
def test_the_application_sees_exactly_what_it_would_see_without_the_fast_path(
    frames: list[tuple[str, Any]], cuts: list[int]
) -> None:
    stream = b"".join(_encode(kind, value) for kind, value in frames)
    points = sorted({min(c, len(stream)) for c in cuts} | {0, len(stream)})
    chunks = [stream[a:b] for a, b in itertools.pairwise(points) if b > a]

    async def run(fast: bool) -> tuple[Any, ...]:
        peer = await Peer(fast=fast).open()
        await peer.feed(*chunks)
        peer.lose()
        await peer.feed()
        return (
            peer.handled,
            peer.events,
            peer.transport.written,
            peer.transport.closed,
            peer.failures,
        )

    assert asyncio.run(run(True)) == asyncio.run(run(False))
