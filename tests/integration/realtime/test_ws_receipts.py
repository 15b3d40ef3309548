"""Receipts: delivered → seen, every forged-receipt case, coalescing under a burst."""

from __future__ import annotations

import asyncio

import pytest

from tests.support.live_server import LiveServer

from .wsclient import make_room, open_ws, register

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
