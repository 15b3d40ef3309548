"""Typing (start, renewal, expiry, clear on send and on disconnect) and presence (tabs, grace, away)."""

from __future__ import annotations

import asyncio
import json

import pytest
import redis

from tests.support.live_server import LiveServer

from .conftest import Backend
from .wsclient import make_room, open_ws, register

pytestmark = pytest.mark.anyio


def typing_of(room: str, user_id: str, state: str):  # type: ignore[no-untyped-def]
    return lambda f: (
        f["type"] == "typing"
        and f["room_id"] == room
        and f["user"]["id"] == user_id
        and f["state"] == state
    )


async def test_typing_start_expires_without_renewal(ws_server: LiveServer) -> None:
    alice, bob = register(ws_server), register(ws_server)
    room = make_room(ws_server, alice, bob)
    a, b = await open_ws(ws_server, alice), await open_ws(ws_server, bob)
    try:
        ack = await a.ok({"type": "typing", "room_id": room, "state": "start"})
        assert ack == {"room_id": room, "state": "start", "expires_in_ms": 1000}
        start = await b.wait_for(typing_of(room, alice.user["id"], "start"))
        assert start["expires_in_ms"] == 1000
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        stop = await b.wait_for(typing_of(room, alice.user["id"], "stop"), timeout=3)
        assert stop["expires_in_ms"] == 0
        assert 0.6 < loop.time() - t0 < 2.0
        # The typer's own connections never get their own typing frames.
        assert not [f for f in await a.quiet(0.2) if f["type"] == "typing"]
    finally:
        await a.close()
        await b.close()


async def test_typing_cleared_by_stop_send_and_disconnect(ws_server: LiveServer) -> None:
    alice, bob = register(ws_server), register(ws_server)
    room = make_room(ws_server, alice, bob)
    a, b = await open_ws(ws_server, alice), await open_ws(ws_server, bob)
    try:
        uid = alice.user["id"]
        await a.ok({"type": "typing", "room_id": room, "state": "start"})
        await b.wait_for(typing_of(room, uid, "start"))
        assert (await a.ok({"type": "typing", "room_id": room, "state": "stop"}))[
            "expires_in_ms"
        ] == 0
        await b.wait_for(typing_of(room, uid, "stop"), timeout=0.5)

        await a.ok({"type": "typing", "room_id": room, "state": "start"})
        await b.wait_for(typing_of(room, uid, "start"))
        await a.say(room, "done typing")
        await b.wait_for(typing_of(room, uid, "stop"), timeout=0.5)

        await a.ok({"type": "typing", "room_id": room, "state": "start"})
        await b.wait_for(typing_of(room, uid, "start"))
        await a.close()
        await b.wait_for(typing_of(room, uid, "stop"), timeout=0.5)
        err = await b.command({"type": "typing", "room_id": "r_nosuchroom", "state": "start"})
        assert err["code"] == "not_found"
    finally:
        await a.close()
        await b.close()


def presence_of(user_id: str):  # type: ignore[no-untyped-def]
    return lambda f: f["type"] == "presence" and f["user_id"] == user_id


async def test_presence_two_tabs_and_grace(ws_server: LiveServer) -> None:
    alice, bob = register(ws_server), register(ws_server)
    make_room(ws_server, bob, alice)
    outsider = register(ws_server, "loner")
    b = await open_ws(ws_server, bob)
    tabs = []
    try:
        a1 = await open_ws(ws_server, alice)
        tabs.append(a1)
        online = await b.wait_for(presence_of(alice.user["id"]))
        assert online == {
            "type": "presence",
            "user_id": alice.user["id"],
            "status": "online",
            "last_seen": None,
        }
        a2 = await open_ws(ws_server, alice)
        tabs.append(a2)
        await a1.close()  # one tab closes: still online
        await a2.close()  # the last one closes...
        a3 = await open_ws(ws_server, alice)  # ...and a reload comes back within the grace period
        tabs.append(a3)
        assert not [f for f in await b.quiet(1.0) if presence_of(alice.user["id"])(f)]  # no flicker
        await a3.ok({"type": "presence.set", "status": "away"})
        assert (await b.wait_for(presence_of(alice.user["id"])))["status"] == "away"
        await a3.close()
        offline = await b.wait_for(presence_of(alice.user["id"]), timeout=3)
        assert offline["status"] == "offline" and offline["last_seen"] is not None
        # hello lists the presence of users sharing a room.
        b2 = await open_ws(ws_server, bob)
        states = {p["user_id"]: p for p in b2.hello["presence"]}
        assert states[alice.user["id"]]["status"] == "offline"
        assert states[bob.user["id"]]["status"] == "online"
        await b2.close()
        del outsider
    finally:
        for tab in tabs:
            await tab.close()
        await b.close()


async def test_presence_only_to_users_sharing_a_room(ws_server: LiveServer) -> None:
    alice, bob = register(ws_server), register(ws_server)
    room = make_room(ws_server, alice, bob)
    a, b = await open_ws(ws_server, alice), await open_ws(ws_server, bob)
    from .wsclient import rest

    try:
        # Everybody shares r_general after registering: bob leaves it to share only `room`.
        assert rest(ws_server, bob, "POST", "/api/rooms/r_general/leave").status_code == 204
        assert rest(ws_server, bob, "POST", f"/api/rooms/{room}/leave").status_code == 204
        await b.wait_for(lambda f: f["type"] == "resync" and f["room_id"] == room)
        await a.ok({"type": "presence.set", "status": "away"})
        assert not [f for f in await b.quiet(0.5) if presence_of(alice.user["id"])(f)]
    finally:
        await a.close()
        await b.close()


async def test_presence_missed_while_unsubscribed_arrives_after_the_catch_up(
    backend: Backend, ws_server: LiveServer
) -> None:
    """With Redis: a presence change announced while this process's subscription was down (another
    process connected the user meanwhile) reaches its clients when it subscribes again, from the
    cluster's presence map, without waiting for the user's next change."""
    if backend.redis is None:
        pytest.skip("the in-process broker has no subscription to lose")
    alice, carol = register(ws_server), register(ws_server)
    room = make_room(ws_server, alice, carol)
    a = await open_ws(ws_server, alice)
    try:
        carol_id = carol.user["id"]
        assert not [p for p in a.hello["presence"] if p["user_id"] == carol_id]
        # What another process's announcement leaves in Redis, without the PUBLISH this process
        # would have missed anyway.
        prefix = ws_server.env["CHATTERBOX_REDIS_PREFIX"]
        client = redis.Redis.from_url(backend.redis.url())
        try:
            client.hset(f"{prefix}:presence", carol_id, "online:")
            client.hset(f"{prefix}:prooms", carol_id, json.dumps([room]))
            assert not [f for f in await a.quiet(0.3) if presence_of(carol_id)(f)]
            # The subscription drops (a network blip, Redis dropping a slow subscriber).
            assert client.client_kill_filter(_type="pubsub") >= 1
        finally:
            client.close()
        online = await a.wait_for(presence_of(carol_id), timeout=10)
        assert online["status"] == "online"
        assert online["last_seen"] is None
    finally:
        await a.close()
