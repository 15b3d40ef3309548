"""What REST changes tell the real-time layer: membership frames (valid against the published
schemas, with the event's seq), subscriptions, and closing the WebSockets of ended sessions."""

from __future__ import annotations

import pytest

from chatterbox.protocol.models.server.member_joined import MemberJoined
from chatterbox.protocol.models.server.member_left import MemberLeft
from tests.integration.api.apiclient import PASSWORD
from tests.integration.api.conftest import InProcess, bearer, register

pytestmark = pytest.mark.anyio


async def test_membership_changes_are_announced(in_process: InProcess) -> None:
    app, rec = in_process, in_process.notifier
    alice = await register(app, "alice")
    bob = await register(app, "bob")
    # Registration joined both to general: subscribe first, then the durable event.
    assert rec.membership == [
        ("r_general", alice["user"]["id"], True),
        ("r_general", bob["user"]["id"], True),
    ]
    frames = [frame for _, frame in rec.room_events]
    assert [f["seq"] for f in frames] == [1, 2]
    for frame in frames:
        MemberJoined.model_validate(frame)
    assert frames[1]["user"] == bob["user"] and frames[1]["by"] is None
    rec.room_events.clear()
    rec.membership.clear()

    room = (
        await app.client.post(
            "/api/rooms", json={"kind": "private", "name": "p"}, headers=bearer(alice)
        )
    ).json()["id"]
    await app.client.post(
        f"/api/rooms/{room}/members", json={"username": "bob"}, headers=bearer(alice)
    )
    await app.client.delete(f"/api/rooms/{room}/members/{bob['user']['id']}", headers=bearer(alice))
    kinds = [(f["type"], f["seq"], f["user"]["username"], f["by"]) for _, f in rec.room_events]
    alice_id = alice["user"]["id"]
    assert kinds == [
        ("member.joined", 1, "alice", alice_id),
        ("member.joined", 2, "bob", alice_id),
        ("member.left", 3, "bob", alice_id),
    ]
    MemberLeft.model_validate(rec.room_events[-1][1])
    assert rec.room_events[-1][1]["reason"] == "removed"
    assert rec.membership[-1] == (room, bob["user"]["id"], False)

    r = await app.client.post("/api/dm/bob", headers=bearer(alice))
    assert r.status_code == 201
    dm_frames = [f for rid, f in rec.room_events if rid == r.json()["id"]]
    assert sorted(f["seq"] for f in dm_frames) == [1, 2]
    for frame in dm_frames:
        MemberJoined.model_validate(frame)


async def test_ended_sessions_have_their_websockets_closed(in_process: InProcess) -> None:
    app, rec = in_process, in_process.notifier
    alice = await register(app, "alice")
    second = (
        await app.client.post("/api/auth/login", json={"username": "alice", "password": PASSWORD})
    ).json()
    third = (
        await app.client.post("/api/auth/login", json={"username": "alice", "password": PASSWORD})
    ).json()
    app.client.cookies.clear()
    await app.client.post("/api/auth/logout", headers=bearer(third))
    assert rec.closed == [([third["session_id"]], 4001, "session ended")]
    await app.client.post(
        "/api/auth/password",
        json={"current_password": PASSWORD, "new_password": "brand new passphrase 1"},
        headers=bearer(alice),
    )
    assert rec.closed[-1] == ([second["session_id"]], 4001, "session ended")
    rotated = await app.client.post(
        "/api/auth/refresh", json={"refresh_token": alice["refresh_token"]}
    )
    assert rotated.status_code == 200
    assert rec.closed[-1] == ([alice["session_id"]], 4001, "session ended")
    reused = await app.client.post(
        "/api/auth/refresh", json={"refresh_token": alice["refresh_token"]}
    )
    assert reused.status_code == 401
    assert rec.closed[-1] == ([rotated.json()["session_id"]], 4001, "session ended")
