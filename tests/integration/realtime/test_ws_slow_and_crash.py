"""A slow consumer is dropped (4008) without delaying others; kill -9 loses no acked message."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import uuid
from pathlib import Path

import pytest

from tests.support.live_server import LiveServer

from .conftest import FAST_ENV, MakeServer
from .wsclient import make_room, open_ws, register

pytestmark = pytest.mark.anyio


async def test_slow_consumer_is_closed_4008_and_others_keep_up(
    tmp_path: Path, make_server: MakeServer
) -> None:
    env = FAST_ENV | {
        "CHATTERBOX_SEND_BUFFER_MAX_BYTES": "262144",
        "CHATTERBOX_SEND_BUFFER_MAX_FRAMES": "256",
        # Long enough that the keepalive (a reader that stopped reading cannot answer pings)
        # does not drop the slow reader before its send buffer overflows.
        "CHATTERBOX_HEARTBEAT_INTERVAL_MS": "60000",
    }
    server = make_server(tmp_path, env).start()
    try:
        alice, bob, slow = register(server), register(server), register(server)
        room = make_room(server, alice, bob, slow)
        a, b = await open_ws(server, alice), await open_ws(server, bob)
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect((server.host, server.port))
        s = await open_ws(server, slow, sock=sock, max_queue=1)
        try:
            body = "x" * 4000
            loop = asyncio.get_running_loop()
            sent = 0

            def overflowed() -> bool:
                return "slow consumer" in server.log_path.read_text()

            async def bob_reads() -> float:
                got = 0
                while got < sent or not overflowed():
                    frame = await b.recv(timeout=20)
                    got += frame["type"] == "message.created" and frame["room_id"] == room
                return loop.time()

            reader = asyncio.create_task(bob_reads())
            t0 = loop.time()
            # Send 4 KB messages in paced chunks (so that bob's reader keeps up) until the slow
            # reader's buffers (kernel, transport, then the bounded outbox) overflow.
            while not overflowed():
                assert sent < 4000, "the slow consumer was never dropped"
                ids = [
                    await a.send(
                        {
                            "type": "message.send",
                            "room_id": room,
                            "body": body,
                            "client_msg_id": uuid.uuid4().hex,
                        }
                    )
                    for _ in range(100)
                ]
                for cid in ids:
                    assert (await a.answer(cid, timeout=20))["type"] == "ack"
                sent += 100
            acked = loop.time()
            # The slow reader now reads everything: the close frame behind the backlog arrives.
            closed = await s.wait_closed(timeout=30)
            done = await asyncio.wait_for(reader, 20)
            assert done - acked < 3.0  # bob was never held back by the slow reader
            assert done - t0 < 40
            assert closed == 4008
        finally:
            for client in (a, b, s):
                await client.close()
    finally:
        server.stop()


async def test_kill_9_mid_load_loses_no_acked_message(
    tmp_path: Path, make_server: MakeServer
) -> None:
    server = make_server(tmp_path, FAST_ENV).start()
    restarted: LiveServer | None = None
    try:
        alice, bob = register(server), register(server)
        room = make_room(server, alice, bob)
        a, b = await open_ws(server, alice), await open_ws(server, bob)
        start = next(r["last_seq"] for r in b.hello["rooms"] if r["id"] == room)
        acked: list[str] = []

        async def load() -> None:
            for i in range(600):
                cid = await a.send(
                    {
                        "type": "message.send",
                        "room_id": room,
                        "body": f"load {i}",
                        "client_msg_id": uuid.uuid4().hex,
                    }
                )
                if i % 10 == 9:
                    await asyncio.sleep(0)
                del cid

        async def collect_acks() -> None:
            while True:
                frame = await a.recv(timeout=10)
                if frame["type"] == "ack":
                    acked.append(frame["result"]["message"]["id"])
                    if len(acked) == 150:
                        server.kill()

        with contextlib.suppress(Exception):
            await asyncio.gather(load(), collect_acks())
        await a.close()
        await b.close()
        assert len(acked) >= 150
        restarted = make_server(tmp_path, FAST_ENV).start()
        b = await open_ws(restarted, bob)
        try:
            cid = await b.send({"type": "resume", "rooms": {room: start}})
            replayed: list[str] = []
            while True:
                frame = await b.recv(timeout=20)
                if frame.get("re") == cid:
                    assert frame["type"] == "ack"
                    break
                if frame["type"] == "message.created" and frame["room_id"] == room:
                    replayed.append(frame["message"]["id"])
            assert set(acked) <= set(replayed)
            assert len(replayed) == len(set(replayed))
        finally:
            await b.close()
    finally:
        server.stop()
        if restarted is not None:
            restarted.stop()
