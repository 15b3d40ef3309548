"""Receipts: delivered → seen, every forged-receipt case, coalescing under a burst."""

from __future__ import annotations

import asyncio

import pytest

from tests.support.live_server import LiveServer

from .wsclient import make_room, open_ws, register, rest

pytestmark = pytest.mark.anyio


def receipt(room: str, message_id: str, state: str) -> dict[str, str]:
    return {"type": "receipt", "room_id": room, "message_id": message_id, "state": state}


async def test_delivered_then_seen_and_forgeries(ws_server: LiveServer) -> None:
    alice, bob = register(ws_server), register(ws_server)
    room = make_room(ws_server, alice, bob)
    other = make_room(ws_server, alice, bob)
    a, b = await open_ws(ws_server, alice), await open_ws(ws_server, bob)
    try:
        m1, m2, m3 = [await a.say(room, f"m{i}") for i in range(3)]
        elsewhere = await a.say(other, "elsewhere")
        own = await b.say(room, "bob's own")
        doomed = await a.say(room, "doomed")
        await a.ok({"type": "message.delete", "message_id": doomed["id"]})

        marker = (await b.ok(receipt(room, m2["id"], "delivered")))["marker"]
        assert (marker["user_id"], marker["state"], marker["message_id"], marker["seq"]) == (
            bob.user["id"],
            "delivered",
            m2["id"],
            m2["seq"],
        )
        update = await a.wait_type("receipt")
        assert update["room_id"] == room and update["markers"] == [marker]

        seen = (await b.ok(receipt(room, m3["id"], "seen")))["marker"]
        assert seen["state"] == "seen" and seen["seq"] == m3["seq"]
        update = await a.wait_type("receipt")
        states = {(m["state"], m["message_id"]) for m in update["markers"]}
        assert states == {("delivered", m3["id"]), ("seen", m3["id"])}  # seen implies delivered

        # Repeating the current marker is accepted and changes nothing.
        again = (await b.ok(receipt(room, m3["id"], "seen")))["marker"]
        assert again["seq"] == seen["seq"]

        forged = {
            "other room": receipt(room, elsewhere["id"], "seen"),
            "unknown message": receipt(room, "m_doesnotexist01", "seen"),
            "own message": receipt(room, own["id"], "delivered"),
            "deleted": receipt(room, doomed["id"], "delivered"),
            "backwards": receipt(room, m1["id"], "seen"),
            "not a member": receipt("r_general", m1["id"], "seen"),
        }
        outsider = register(ws_server)
        x = await open_ws(ws_server, outsider)
        try:
            for case, frame in forged.items():
                client = x if case == "not a member" else b
                if case == "not a member":
                    frame = receipt(room, m3["id"], "seen")
                err = await client.command(frame)
                assert (err["type"], err["code"]) == ("error", "invalid_receipt"), case
        finally:
            await x.close()
        assert not [
            f for f in await a.quiet(0.5) if f["type"] == "receipt"
        ]  # nothing stored or sent
    finally:
        await a.close()
        await b.close()


async def test_receipts_are_coalesced(ws_server: LiveServer) -> None:
    alice = register(ws_server)
    readers = [register(ws_server) for _ in range(3)]
    room = make_room(ws_server, alice, *readers)
    a = await open_ws(ws_server, alice)
    rs = [await open_ws(ws_server, u) for u in readers]
    try:
        messages = [await a.say(room, f"burst {i}") for i in range(15)]
        await a.quiet(0.3)
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        ids = []
        for m in messages:  # a burst: 45 receipts as fast as the clients can send them
            for r in rs:
                ids.append((r, await r.send(receipt(room, m["id"], "delivered"))))
        for r, cid in ids:
            await r.answer(cid)
        frames = [f for f in await a.quiet(1.0) if f["type"] == "receipt"]
        elapsed = loop.time() - t0
        assert 1 <= len(frames) <= int(elapsed / 0.25) + 2, (len(frames), elapsed)
        final = {}
        for f in frames:
            for m in f["markers"]:
                final[(m["user_id"], m["state"])] = m["seq"]
        assert final == {(u.user["id"], "delivered"): messages[-1]["seq"] for u in readers}
    finally:
        await a.close()
        for r in rs:
            await r.close()


async def test_receipt_frames_reach_owners_and_authors_and_everyone_when_unknown(
    ws_server: LiveServer,
) -> None:
    alice, bob, carol = register(ws_server), register(ws_server), register(ws_server)
    room = make_room(ws_server, alice, bob, carol)
    # r_general is the active room of these connections: their hello pages do not show this room.
    a, b1, b2, c = [await open_ws(ws_server, u, room="r_general") for u in (alice, bob, bob, carol)]
    try:
        m1 = await a.say(room, "hello all")  # the server follows the room's authors from here
        # Bob's first marker covers seqs from before m1 (the members joining): whether anyone
        # wrote there is not known, so everyone is told.
        first = (await b1.ok(receipt(room, m1["id"], "delivered")))["marker"]
        for client in (a, b2, c):
            assert (await client.wait_type("receipt"))["markers"] == [first]

        await b1.quiet(0.3)
        m2 = await a.say(room, "and again")
        mine = (await b1.ok(receipt(room, m2["id"], "delivered")))["marker"]
        assert (await a.wait_type("receipt"))["markers"] == [mine]  # the author
        assert (await b2.wait_type("receipt"))["markers"] == [mine]  # the owner's other device
        # Carol wrote nothing it covers: she is not told; b1 has the marker from its ack.
        assert not [f for f in await c.quiet(0.6) if f["type"] == "receipt"]
        assert not [f for f in await b1.quiet(0.1) if f["type"] == "receipt"]

        own = await c.say(room, "carol here")
        seen = (await b1.ok(receipt(room, own["id"], "seen")))["marker"]
        update = await c.wait_type("receipt")  # now she is an author in the range
        assert seen in update["markers"]
        assert seen in (await a.wait_type("receipt"))["markers"]  # seen also covers m2 (delivered)
    finally:
        for client in (a, b1, b2, c):
            await client.close()

    # Nobody here reads the room any more, so what happens meanwhile is not followed: after
    # reconnecting, a move over the events in between goes to every member again.
    dave = register(ws_server)
    r = rest(ws_server, alice, "POST", f"/api/rooms/{room}/members", {"username": dave.username})
    assert r.status_code == 201, r.text
    a, b1, c = [await open_ws(ws_server, u, room="r_general") for u in (alice, bob, carol)]
    try:
        m3 = await a.say(room, "back")
        again = (await b1.ok(receipt(room, m3["id"], "delivered")))["marker"]
        assert again in (await a.wait_type("receipt"))["markers"]
        assert again in (await c.wait_type("receipt"))["markers"]
    finally:
        for client in (a, b1, c):
            await client.close()


async def test_the_hello_history_page_makes_a_first_receipt_targeted(ws_server: LiveServer) -> None:
    alice, bob, carol = register(ws_server), register(ws_server), register(ws_server)
    room = make_room(ws_server, alice, bob, carol)
    a = await open_ws(ws_server, alice, room=room)
    try:
        m1 = await a.say(room, "before anyone else came")
    finally:
        await a.close()
    # The room is the active one: each hello's history page holds all of it (has_more false).
    a, b, c = [await open_ws(ws_server, u, room=room) for u in (alice, bob, carol)]
    try:
        assert not a.hello["history"]["has_more"]
        first = (await b.ok(receipt(room, m1["id"], "delivered")))["marker"]
        assert (await a.wait_type("receipt"))["markers"] == [first]
        assert not [f for f in await c.quiet(0.6) if f["type"] == "receipt"]
        # Bob's one connection has his marker from the ack: no frame repeats it.
        assert not [f for f in await b.quiet(0.1) if f["type"] == "receipt"]
    finally:
        for client in (a, b, c):
            await client.close()
