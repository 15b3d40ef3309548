"""message.send / edit / delete over real sockets: order, acks, idempotency, permissions."""

from __future__ import annotations

import uuid

import pytest

from tests.support.live_server import LiveServer

from .wsclient import make_room, open_ws, register

pytestmark = pytest.mark.anyio


def created(room_id: str):  # type: ignore[no-untyped-def]
    return lambda f: f["type"] == "message.created" and f["room_id"] == room_id


async def test_send_reaches_every_member_connection_after_commit(ws_server: LiveServer) -> None:
    alice, bob, carol = register(ws_server), register(ws_server), register(ws_server)
    room = make_room(ws_server, alice, bob)
    a1, a2 = await open_ws(ws_server, alice), await open_ws(ws_server, alice)
    b, c = await open_ws(ws_server, bob), await open_ws(ws_server, carol)
    try:
        sent = [await a1.say(room, f"hello {i}") for i in range(5)]
        assert [m["seq"] for m in sent] == list(range(sent[0]["seq"], sent[0]["seq"] + 5))
        for client in (a1, a2, b):
            got = [await client.wait_for(created(room)) for _ in sent]
            assert [f["message"] for f in got] == sent  # in order, exactly the stored messages
            assert [f["seq"] for f in got] == [m["seq"] for m in sent]
        assert not [f for f in await c.quiet(0.3) if f.get("room_id") == room]  # not a member
    finally:
        for client in (a1, a2, b, c):
            await client.close()


async def test_pipelined_sends_keep_their_order(ws_server: LiveServer) -> None:
    alice = register(ws_server)
    room = make_room(ws_server, alice)
    a = await open_ws(ws_server, alice)
    try:
        ids = [
            await a.send(
                {
                    "type": "message.send",
                    "room_id": room,
                    "body": f"m{i}",
                    "client_msg_id": uuid.uuid4().hex,
                }
            )
            for i in range(40)
        ]
        acks = [await a.answer(cid) for cid in ids]
        bodies = [ack["result"]["message"]["body"] for ack in acks]
        seqs = [ack["result"]["message"]["seq"] for ack in acks]
        assert bodies == [f"m{i}" for i in range(40)]
        assert seqs == sorted(seqs) and len(set(seqs)) == 40
    finally:
        await a.close()


async def test_resend_with_same_client_msg_id_is_idempotent(ws_server: LiveServer) -> None:
    alice, bob = register(ws_server), register(ws_server)
    room = make_room(ws_server, alice, bob)
    a, b = await open_ws(ws_server, alice), await open_ws(ws_server, bob)
    try:
        key = uuid.uuid4().hex
        first = await a.say(room, "only once", key)
        await a.close()  # the "dropped ack" case: reconnect and resend
        a = await open_ws(ws_server, alice)
        again = await a.say(room, "only once", key)
        assert again == first
        frames = await b.quiet(0.5)
        assert [f["message"]["id"] for f in frames if f["type"] == "message.created"] == [
            first["id"]
        ]
        conflict = await a.command(
            {"type": "message.send", "room_id": room, "body": "other body", "client_msg_id": key}
        )
        assert conflict["type"] == "error" and conflict["code"] == "conflict"
    finally:
        await a.close()
        await b.close()


async def test_send_refusals(ws_server: LiveServer) -> None:
    alice, bob = register(ws_server), register(ws_server)
    private = make_room(ws_server, alice)
    public = make_room(ws_server, alice, kind="public")
    b = await open_ws(ws_server, bob)
    try:
        for room, code in (
            (private, "not_found"),
            ("r_doesnotexist", "not_found"),
            (public, "forbidden"),
        ):
            err = await b.command(
                {
                    "type": "message.send",
                    "room_id": room,
                    "body": "x",
                    "client_msg_id": uuid.uuid4().hex,
                }
            )
            assert (err["type"], err["code"]) == ("error", code), err
            assert err["re"] is not None
    finally:
        await b.close()


async def test_edit_and_delete_permissions_and_placeholders(ws_server: LiveServer) -> None:
    owner, alice, bob = register(ws_server), register(ws_server), register(ws_server)
    room = make_room(ws_server, owner, alice, bob)
    o, a, b = [await open_ws(ws_server, u) for u in (owner, alice, bob)]
    try:
        msg = await a.say(room, "original")
        # Only the author edits.
        for client in (b, o):
            err = await client.command(
                {"type": "message.edit", "message_id": msg["id"], "body": "hacked"}
            )
            assert err["code"] == "forbidden"
        edited = (await a.ok({"type": "message.edit", "message_id": msg["id"], "body": "fixed"}))[
            "message"
        ]
        assert (
            edited["body"] == "fixed"
            and edited["edited_at"] is not None
            and edited["seq"] == msg["seq"]
        )
        upd = await b.wait_type("message.updated")
        assert upd["message"] == edited and upd["seq"] > msg["seq"]
        # Same body again: a no-op, acked, no event.
        same = await a.ok({"type": "message.edit", "message_id": msg["id"], "body": "fixed"})
        assert same["message"] == edited
        # A plain member may not delete another's message; the room owner may.
        err = await b.command({"type": "message.delete", "message_id": msg["id"]})
        assert err["code"] == "forbidden"
        placeholder = (await o.ok({"type": "message.delete", "message_id": msg["id"]}))["message"]
        assert placeholder["body"] is None and placeholder["deleted_at"] is not None
        deleted = await b.wait_type("message.deleted")
        assert deleted["message"] == placeholder and deleted["seq"] == upd["seq"] + 1
        # Deleting again acks the placeholder; editing a deleted message is an error.
        again = await a.ok({"type": "message.delete", "message_id": msg["id"]})
        assert again["message"]["body"] is None
        err = await a.command({"type": "message.edit", "message_id": msg["id"], "body": "zombie"})
        assert err["code"] == "message_deleted"
        assert not [
            f for f in await b.quiet(0.3) if f["type"] in ("message.updated", "message.deleted")
        ]
        # History keeps the placeholder in place.
        cid = await b.send({"type": "history", "room_id": room})
        page = await b.wait_for(lambda f: f["type"] == "history" and f["re"] == cid)
        messages = [m for d in page["days"] for m in d["messages"]]
        assert [m["id"] for m in messages] == [msg["id"]] and messages[0]["body"] is None
        ack = await b.answer(cid)
        assert ack["result"] == {"room_id": room, "count": 1}
        # An outsider cannot even find the message.
        outsider = register(ws_server)
        x = await open_ws(ws_server, outsider)
        try:
            err = await x.command({"type": "message.edit", "message_id": msg["id"], "body": "x"})
            assert err["code"] == "not_found"
        finally:
            await x.close()
    finally:
        for client in (o, a, b):
            await client.close()


async def test_removed_member_gets_nothing_more(ws_server: LiveServer) -> None:
    from .wsclient import rest

    owner, bob = register(ws_server), register(ws_server)
    room = make_room(ws_server, owner, bob)
    o, b = await open_ws(ws_server, owner), await open_ws(ws_server, bob)
    try:
        msg = await o.say(room, "before")
        await b.wait_for(created(room))
        r = rest(ws_server, owner, "DELETE", f"/api/rooms/{room}/members/{bob.user['id']}")
        assert r.status_code == 204, r.text
        left = await b.wait_type("member.left")
        assert left["user"]["id"] == bob.user["id"] and left["reason"] == "removed"
        assert (await b.wait_type("resync")) == {
            "type": "resync",
            "room_id": room,
            "reason": "access_lost",
        }
        await o.ok({"type": "message.edit", "message_id": msg["id"], "body": "after"})
        await o.ok({"type": "message.delete", "message_id": msg["id"]})
        await o.say(room, "secret")
        assert not [f for f in await b.quiet(0.5) if f.get("room_id") == room]
        err = await b.command({"type": "history", "room_id": room})
        assert err["code"] == "not_found"
    finally:
        await o.close()
        await b.close()
