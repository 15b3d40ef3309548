"""Upgrade refusals are HTTP statuses before accept; accepted upgrades start with a valid hello."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.support.live_server import LiveServer

from .conftest import FAST_ENV, MakeServer
from .wsclient import make_room, open_ws, refusal_status, register

pytestmark = pytest.mark.anyio


async def test_no_credentials_is_401(ws_server: LiveServer) -> None:
    assert await refusal_status(ws_server) == 401


async def test_bad_token_is_401(ws_server: LiveServer) -> None:
    status = await refusal_status(ws_server, headers={"Authorization": "Bearer nope-not-a-token"})
    assert status == 401


async def test_authorization_header_is_used_alone(ws_server: LiveServer) -> None:
    account = register(ws_server)
    cookie = f"chatterbox_session={account.token}"
    headers = {"Authorization": "Bearer wrong", "Cookie": cookie, "Origin": ws_server.url}
    assert await refusal_status(ws_server, headers=headers) == 401


async def test_cookie_from_foreign_origin_is_403(ws_server: LiveServer) -> None:
    account = register(ws_server)
    cookie = f"chatterbox_session={account.token}"
    for origin in ("http://evil.example", None):
        headers = {"Cookie": cookie} | ({"Origin": origin} if origin else {})
        assert await refusal_status(ws_server, headers=headers) == 403


async def test_cookie_from_allowed_origin_is_accepted(ws_server: LiveServer) -> None:
    account = register(ws_server)
    headers = {"Cookie": f"chatterbox_session={account.token}", "Origin": ws_server.url}
    client = await open_ws(ws_server, headers=headers)
    try:
        assert client.hello["user"]["id"] == account.user["id"]
    finally:
        await client.close()


async def test_missing_subprotocol_is_400(ws_server: LiveServer) -> None:
    account = register(ws_server)
    headers = {"Authorization": f"Bearer {account.token}"}
    assert await refusal_status(ws_server, headers=headers, subprotocols=[]) == 400
    assert await refusal_status(ws_server, headers=headers, subprotocols=["chatterbox.v2"]) == 400


@pytest.mark.parametrize("tz", ["Mars/Olympus", "..%2F..%2Fetc%2Fpasswd", "localtime", "x" * 80])
async def test_unknown_time_zone_is_400(ws_server: LiveServer, tz: str) -> None:
    account = register(ws_server)
    headers = {"Authorization": f"Bearer {account.token}"}
    assert await refusal_status(ws_server, headers=headers, tz=tz) == 400


async def test_connection_cap_is_429(ws_server: LiveServer) -> None:
    account = register(ws_server)
    clients = [await open_ws(ws_server, account) for _ in range(4)]  # FAST_ENV cap: 4
    try:
        headers = {"Authorization": f"Bearer {account.token}"}
        assert await refusal_status(ws_server, headers=headers) == 429
        await clients.pop().close()
        clients.append(await open_ws(ws_server, account))  # a slot is free again
    finally:
        for client in clients:
            await client.close()


async def test_hello(ws_server: LiveServer) -> None:
    account = register(ws_server)
    client = await open_ws(ws_server, account, tz="Europe/Paris", room="r_nosuchroom")
    try:
        hello = client.hello
        assert hello["protocol"] == "chatterbox.v1"
        assert hello["user"] == account.user
        assert hello["session_id"] == account.session_id
        assert hello["time_zone"] == "Europe/Paris"
        assert hello["typing_timeout_ms"] == 1000
        assert hello["heartbeat_interval_ms"] == 2000
        assert hello["limits"]["max_frame_bytes"] == 65536
        general = next(r for r in hello["rooms"] if r["id"] == "r_general")
        assert general["kind"] == "public" and general["role"] in ("member", "owner")
        assert hello["active_room_id"] == "r_general"  # unknown room ignored
        assert hello["history"]["room_id"] == "r_general"
        assert {"user_id": account.user["id"], "status": "online", "last_seen": None} in hello[
            "presence"
        ]
    finally:
        await client.close()


async def test_hellos_wait_their_turn_and_all_arrive(
    make_server: MakeServer, tmp_path: Path
) -> None:
    """``hello_concurrency=1``: connections opened at once are greeted one after the other, every
    one of them, and then all receive the room's messages (a slot that was never given back would
    leave the others waiting for ever)."""
    server = make_server(tmp_path, {**FAST_ENV, "CHATTERBOX_HELLO_CONCURRENCY": "1"})
    server.start()
    users = [register(server) for _ in range(6)]
    room = make_room(server, users[0], *users[1:])
    clients = await asyncio.gather(
        *(open_ws(server, u, room=room) for u in users for _ in range(2))
    )
    try:
        assert len(clients) == 12
        assert all(c.hello["active_room_id"] == room for c in clients)
        sent = await clients[0].say(room, "after the queue")
        for c in clients[1:]:
            got = await c.wait_for(lambda f: f["type"] == "message.created")
            assert got["message"]["id"] == sent["id"]
    finally:
        for c in clients:
            await c.close()
