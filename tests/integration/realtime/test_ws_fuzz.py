"""Hostile input against one connection: errors or a close; the server and others unaffected."""

from __future__ import annotations

import asyncio
import json
import os
import random
from collections.abc import Iterator

import pytest

from tests.support.live_server import LiveServer

from .conftest import Backend
from .wsclient import WsClient, open_ws, register

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def strict_server(
    backend: Backend, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """Default rate limits (10/s, burst 30)."""
    server = backend.server(tmp_path_factory.mktemp("fuzz")).start()
    try:
        yield server
    finally:
        server.stop()


async def still_works(client: WsClient) -> None:
    pong = await client.command({"type": "ping"})
    assert pong["type"] == "pong"


NEGATIVE = [
    ("[]", "invalid_frame", ""),
    ("42", "invalid_frame", ""),
    ('{"id": "c1"}', "invalid_frame", "/type"),
    ('{"type": 7, "id": "c1"}', "invalid_frame", "/type"),
    ('{"type": "hello", "id": "c1"}', "unknown_type", "/type"),
    (
        '{"type": "message.send", "id": "c1", "room_id": "r_general", "body": "x"}',
        "invalid_frame",
        "/client_msg_id",
    ),
    (
        '{"type": "message.send", "id": "c1", "room_id": "r_general", "body": "   ", "client_msg_id": "abcdefgh"}',
        "invalid_frame",
        "/body",
    ),
    (
        '{"type": "history", "id": "c1", "room_id": "r_general", "limit": 101}',
        "invalid_frame",
        "/limit",
    ),
    (
        '{"type": "history", "id": "c1", "room_id": "r_general", "limit": "5"}',
        "invalid_frame",
        "/limit",
    ),
    ('{"type": "ping", "id": "c1", "extra": true}', "invalid_frame", "/extra"),
    ('{"type": "resume", "id": "c1", "rooms": {}}', "invalid_frame", "/rooms"),
    ('{"type": "ping", "id": "bad id with spaces"}', "invalid_frame", "/id"),
]


async def test_schema_negative_frames_get_one_error_each(strict_server: LiveServer) -> None:
    client = await open_ws(strict_server, register(strict_server))
    try:
        for text, code, pointer in NEGATIVE:
            await client.send_raw(text)
            err = await client.wait_type("error")
            assert (err["code"], err["pointer"]) == (code, pointer), text
        await client.send_raw("{not json")
        assert (await client.wait_type("error"))["code"] == "invalid_json"
        await client.send_raw(b"\x00\x01binary")
        err = await client.wait_type("error")
        assert (err["code"], err["re"]) == ("binary_frame", None)
        err = await client.command({"type": "history", "room_id": "r_general", "before": "%%%"})
        assert err["code"] == "invalid_frame"
        await still_works(client)
    finally:
        await client.close()


async def test_random_garbage_never_breaks_the_connection(strict_server: LiveServer) -> None:
    rng = random.Random(7)
    client = await open_ws(strict_server, register(strict_server))
    try:
        for i in range(25):
            if i % 2:
                await client.send_raw(os.urandom(rng.randint(1, 200)))
            else:
                junk = {
                    "type": rng.choice(["message.send", "receipt", "typing", "x"]),
                    "id": f"f{i}",
                }
                junk[rng.choice(["room_id", "body", "state", "zz"])] = rng.choice(
                    [None, 1, "", [], {}]
                )
                await client.send_raw(json.dumps(junk))
            assert (await client.wait_type("error"))["type"] == "error"
        await asyncio.sleep(1)  # let the bucket refill a little
        await still_works(client)
    finally:
        await client.close()


async def test_oversize_frame_closes_1009(strict_server: LiveServer) -> None:
    victim = await open_ws(strict_server, register(strict_server))
    other = await open_ws(strict_server, register(strict_server))
    try:
        await victim.send_raw(json.dumps({"type": "ping", "id": "c1", "pad": "x" * 70_000}))
        assert await victim.wait_closed() == 1009
        await still_works(other)
    finally:
        await victim.close()
        await other.close()


async def test_flood_is_rate_limited_then_closed_1008(strict_server: LiveServer) -> None:
    flooder = await open_ws(strict_server, register(strict_server))
    other = await open_ws(strict_server, register(strict_server))
    try:
        for i in range(120):
            await flooder.send_raw(json.dumps({"type": "ping", "id": f"p{i}"}))
        limited = await flooder.wait_for(lambda f: f.get("code") == "rate_limited")
        assert limited["retry_after_ms"] > 0 and limited["re"] is not None
        assert await flooder.wait_closed() == 1008
        await still_works(other)
        pongs = [f for f in flooder.received if f["type"] == "pong"]
        assert 25 <= len(pongs) <= 40  # the burst, plus a little refill
    finally:
        await flooder.close()
        await other.close()
