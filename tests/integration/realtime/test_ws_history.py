"""History paging over thousands of messages across day boundaries, in two time zones."""

from __future__ import annotations

import asyncio
import itertools
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from chatterbox.domain.clock import parse_ts
from chatterbox.store.sql import open_store
from tests.support.live_server import LiveServer

from .wsclient import WsClient, make_room, open_ws, register

pytestmark = pytest.mark.anyio

COUNT = 2400
BATCH = 20  # appended concurrently: one group commit, one timestamp
STEP_MS = 2 * 3600 * 1000  # one batch every 2 hours: 120 batches, 10 days
T0 = int(datetime(2026, 3, 25, 18, 0, tzinfo=UTC).timestamp() * 1000)  # spans the EU DST change


async def seed(server: LiveServer, room: str, author_id: str) -> list[str]:
    ticks = itertools.count()
    store = await open_store(
        server.env["CHATTERBOX_DATABASE_URL"], clock=lambda: T0 + next(ticks) * STEP_MS
    )
    try:
        ids: list[str] = []
        for start in range(0, COUNT, BATCH):
            batch = [
                store.append_message(room, author_id, f"msg {i}")
                for i in range(start, start + BATCH)
            ]
            ids.extend(m.id for m, _ in await asyncio.gather(*batch))
        await store.delete_message(ids[1234])
    finally:
        await store.close()
    return ids


async def pages(client: WsClient, room: str, limit: int) -> list[dict[str, object]]:
    out = []
    before = None
    while True:
        frame = {"type": "history", "room_id": room, "limit": limit}
        if before is not None:
            frame["before"] = before
        cid = await client.send(frame)
        page = await client.wait_for(lambda f, cid=cid: f["type"] == "history" and f["re"] == cid)
        ack = await client.answer(cid)
        assert ack["result"]["room_id"] == room
        assert ack["result"]["count"] == sum(len(d["messages"]) for d in page["days"]) <= limit
        out.append(page)
        if not page["has_more"]:
            assert page["next_cursor"] is None
            return out
        before = page["next_cursor"]


@pytest.mark.parametrize("zone", ["Europe/Paris", "Pacific/Kiritimati"])
async def test_paging_is_stable_and_grouped_by_local_day(ws_server: LiveServer, zone: str) -> None:
    alice = register(ws_server)
    room = make_room(ws_server, alice)
    ids = await seed(ws_server, room, alice.user["id"])
    client = await open_ws(ws_server, alice, tz=zone, room=room)
    try:
        hello_history = client.hello["history"]
        hello_ids = [m["id"] for d in hello_history["days"] for m in d["messages"]]
        assert hello_ids == ids[-50:] and hello_history["has_more"]
        tz = ZoneInfo(zone)
        seen: list[str] = []
        for page in reversed(await pages(client, room, 100)):
            dates = [d["date"] for d in page["days"]]
            assert dates == sorted(set(dates))  # strictly increasing, never empty groups
            for day in page["days"]:
                assert day["messages"]
                for m in day["messages"]:
                    local = datetime.fromtimestamp(parse_ts(m["created_at"]) / 1000, tz).date()
                    assert local.isoformat() == day["date"]
                    seen.append(m["id"])
        assert seen == ids  # pages reversed: the whole room, each message once, in order
    finally:
        await client.close()


async def test_history_placeholder_and_limits(ws_server: LiveServer) -> None:
    alice = register(ws_server)
    room = make_room(ws_server, alice)
    ids = await seed(ws_server, room, alice.user["id"])
    client = await open_ws(ws_server, alice, room=room)
    try:
        got = [m for p in await pages(client, room, 37) for d in p["days"] for m in d["messages"]]
        by_id = {m["id"]: m for m in got}
        assert len(by_id) == COUNT
        assert by_id[ids[1234]]["body"] is None and by_id[ids[1234]]["deleted_at"] is not None
        err = await client.command({"type": "history", "room_id": room, "limit": 0})
        assert (err["code"], err["pointer"]) == ("invalid_frame", "/limit")
        # ``before: null`` is the newest page, as is no ``before`` at all.
        newest = []
        for frame in (
            {"type": "history", "room_id": room, "limit": 5},
            {"type": "history", "room_id": room, "limit": 5, "before": None},
        ):
            cid = await client.send(frame)
            page = await client.wait_for(
                lambda f, cid=cid: f["type"] == "history" and f["re"] == cid
            )
            await client.answer(cid)
            newest.append([m["id"] for d in page["days"] for m in d["messages"]])
        assert newest[0] == newest[1] == ids[-5:]
        err = await client.command({"type": "history", "room_id": room, "before": ""})
        assert (err["code"], err["pointer"]) == ("invalid_frame", "/before")
    finally:
        await client.close()
