"""Resume: every missed durable event replayed in order, edits/deletes included; resync on lost access."""

from __future__ import annotations

import asyncio
import random
import uuid
from typing import Any

import pytest

from tests.support.live_server import LiveServer

from .wsclient import WsClient, make_room, open_ws, register, rest

pytestmark = pytest.mark.anyio
DURABLE = {"message.created", "message.updated", "message.deleted", "member.joined", "member.left"}


class Replica:
    """What a protocol-following client keeps for one room (section 9.2 of the protocol)."""

    def __init__(self, room: str, last_seq: int) -> None:
        self.room = room
        self.last_seq = last_seq
        self.applied: list[int] = []
        self.messages: dict[str, dict[str, Any]] = {}

    def apply(self, frame: dict[str, Any]) -> None:
        if frame["type"] not in DURABLE or frame["room_id"] != self.room:
            return
        seq = frame["seq"]
        if seq <= self.last_seq or seq > self.last_seq + 1:
            return  # duplicate, or a gap the pending resume fills
        self.last_seq = seq
        self.applied.append(seq)
        if "message" in frame:
            self.messages[frame["message"]["id"]] = frame["message"]


async def drain_until(client: WsClient, replica: Replica, seq: int) -> None:
    while replica.last_seq < seq:
        replica.apply(await client.recv(10.0))


async def test_resume_replays_everything_missed_in_order(ws_server: LiveServer) -> None:
    alice, bob = register(ws_server), register(ws_server)
    room = make_room(ws_server, alice, bob)
    a = await open_ws(ws_server, alice)
    b = await open_ws(ws_server, bob)
    try:
        first = await a.say(room, "seen live")
        replica = Replica(room, first["seq"] - 1)
        await drain_until(b, replica, first["seq"])
        await b.close()
        sent = [await a.say(room, f"while away {i}") for i in range(30)]
        await a.ok({"type": "message.edit", "message_id": first["id"], "body": "edited while away"})
        await a.ok({"type": "message.delete", "message_id": sent[0]["id"]})
        b = await open_ws(ws_server, bob)
        hello_seq = next(r["last_seq"] for r in b.hello["rooms"] if r["id"] == room)
        assert hello_seq == sent[-1]["seq"] + 2
        ack = await b.ok({"type": "resume", "rooms": {room: replica.last_seq}})
        assert ack == {"rooms": {room: hello_seq}}
        for frame in b.received:
            replica.apply(frame)
        assert replica.applied == list(range(first["seq"], hello_seq + 1))
        assert replica.messages[first["id"]]["body"] == "edited while away"
        assert replica.messages[sent[0]["id"]]["body"] is None  # replayed as its current state
        # A resume at the current seq replays nothing but still returns markers/presence.
        again = await b.command({"type": "resume", "rooms": {room: hello_seq}})
        assert again["result"] == {"rooms": {room: hello_seq}}
    finally:
        await a.close()
        await b.close()


async def test_resume_during_concurrent_sends_has_no_gap_or_duplicate(
    ws_server: LiveServer,
) -> None:
    alice, bob = register(ws_server), register(ws_server)
    room = make_room(ws_server, alice, bob)
    a = await open_ws(ws_server, alice)
    b = await open_ws(ws_server, bob)
    total = 120
    rng = random.Random(4)

    async def keep_sending() -> list[dict[str, Any]]:
        out = []
        for i in range(total):
            out.append(await a.say(room, f"n{i}", uuid.uuid4().hex))
            if rng.random() < 0.2:
                await asyncio.sleep(0.01)
        return out

    try:
        start = next(r["last_seq"] for r in b.hello["rooms"] if r["id"] == room)
        replica = Replica(room, start)
        sender = asyncio.create_task(keep_sending())
        for _ in range(3):  # disconnect at random points, reconnect, resume
            await drain_until(b, replica, replica.last_seq + rng.randint(1, 15))
            await b.close()
            await asyncio.sleep(rng.random() * 0.05)
            b = await open_ws(ws_server, bob)
            cid = await b.send({"type": "resume", "rooms": {room: replica.last_seq}})
            while True:
                frame = await b.recv()
                replica.apply(frame)
                if frame.get("re") == cid:
                    assert frame["type"] == "ack"
                    break
        sent = await sender
        await drain_until(b, replica, sent[-1]["seq"])
        assert replica.applied == list(range(start + 1, sent[-1]["seq"] + 1))
        assert [replica.messages[m["id"]]["body"] for m in sent] == [f"n{i}" for i in range(total)]
    finally:
        await a.close()
        await b.close()


async def test_resume_of_a_room_left_is_resync(ws_server: LiveServer) -> None:
    alice, bob = register(ws_server), register(ws_server)
    room = make_room(ws_server, alice, bob)
    b = await open_ws(ws_server, bob)
    try:
        assert rest(ws_server, bob, "POST", f"/api/rooms/{room}/leave").status_code == 204
        await b.wait_type("resync")
        assert [f["type"] for f in b.backlog if f.get("room_id") == room] == ["member.left"]
        b.backlog.clear()
        cid = await b.send({"type": "resume", "rooms": {room: 0, "r_general": 0, "r_gone123": 0}})
        frames = []
        while True:
            frame = await b.recv()
            frames.append(frame)
            if frame.get("re") == cid:
                break
        assert {"type": "resync", "room_id": room, "reason": "access_lost"} in frames
        assert {"type": "resync", "room_id": "r_gone123", "reason": "room_deleted"} in frames
        assert frame["type"] == "ack" and set(frame["result"]["rooms"]) == {"r_general"}
        assert not [f for f in frames if f.get("room_id") == room and f["type"] in DURABLE]
    finally:
        await b.close()
