"""History over REST: paging through > 200 messages with no gap or duplicate, day grouping in
two time zones (one crossing a DST change), placeholders, unread counts and input errors."""

from __future__ import annotations

import asyncio
import itertools
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from chatterbox.store.sql import open_store
from tests.integration.api.apiclient import Account, error_code, register
from tests.support.live_server import LiveServer

COUNT = 230
START = int(datetime(2026, 3, 27, 18, 0, tzinfo=UTC).timestamp() * 1000)  # Paris DST: 29 March
STEP_MS = 47 * 60 * 1000  # 230 messages over ~7.5 days


def seed(db_url: str, room_id: str, authors: list[str]) -> list[str]:
    """Append COUNT messages straight into the server's database, with a controlled clock."""
    ticks = itertools.count()

    def clock() -> int:
        return START + next(ticks) * STEP_MS

    async def run() -> list[str]:
        store = await open_store(db_url, clock=clock)
        try:
            ids = []
            for n in range(COUNT):
                message, _ = await store.append_message(room_id, authors[n % 2], f"message {n}")
                ids.append(message.id)
            await store.delete_message(ids[5], by=authors[1])
            return ids
        finally:
            await store.close()

    return asyncio.run(run())


@pytest.fixture(scope="module")
def seeded(api_server: LiveServer) -> tuple[Account, Account, str, list[str]]:
    """A private room of alice and bob with COUNT messages."""
    alice = register(api_server.url)
    bob = register(api_server.url)
    room = alice.post("/api/rooms", json={"kind": "private", "name": "history"}).json()["id"]
    assert (
        alice.post(f"/api/rooms/{room}/members", json={"username": bob.username}).status_code == 201
    )
    ids = seed(api_server.env["CHATTERBOX_DATABASE_URL"], room, [alice.id, bob.id])
    return alice, bob, room, ids


def walk(account: Account, room: str, limit: int, tz: str) -> list[dict[str, Any]]:
    pages = []
    params: dict[str, Any] = {"limit": limit, "tz": tz}
    while True:
        r = account.get(f"/api/rooms/{room}/messages", params=params)
        assert r.status_code == 200, r.text
        page = r.json()
        pages.append(page)
        if not page["has_more"]:
            assert page["next_cursor"] is None
            return pages
        params["before"] = page["next_cursor"]


@pytest.mark.parametrize("tz", ["Europe/Paris", "Pacific/Kiritimati"])
@pytest.mark.parametrize("limit", [100, 37])
def test_paging_has_no_gaps_or_duplicates_and_groups_days(
    seeded: tuple[Account, Account, str, list[str]], tz: str, limit: int
) -> None:
    _alice, bob, room, ids = seeded
    pages = walk(bob, room, limit, tz)
    assert len(pages) == -(-COUNT // limit)
    zone = ZoneInfo(tz)
    seen: list[str] = []
    for page in reversed(pages):  # oldest page first
        assert page["room_id"] == room
        dates = [day["date"] for day in page["days"]]
        assert dates == sorted(set(dates))  # strictly increasing within a page
        for day in page["days"]:
            assert day["messages"]
            for message in day["messages"]:
                created = datetime.strptime(message["created_at"], "%Y-%m-%dT%H:%M:%S.%fZ")
                local = created.replace(tzinfo=UTC).astimezone(zone).date().isoformat()
                assert local == day["date"], (message["created_at"], tz)
                seen.append(message["id"])
    assert seen == ids  # every message once, in order
    flat = [m for page in reversed(pages) for day in page["days"] for m in day["messages"]]
    seqs = [m["seq"] for m in flat]
    assert seqs == sorted(seqs) and len(set(seqs)) == COUNT
    assert flat[5]["body"] is None and flat[5]["deleted_at"] is not None
    assert flat[6]["body"] == "message 6" and flat[6]["author"]["id"] != bob.id
    # Full days in the zone: 24 h / 47 min ≈ 30 messages, so ~8 local dates overall.
    all_dates = {day["date"] for page in pages for day in page["days"]}
    expected = {
        datetime.fromtimestamp((START + n * STEP_MS) / 1000, tz=zone).date().isoformat()
        for n in range(COUNT)
    }
    assert all_dates == expected


def test_history_defaults_and_errors(seeded: tuple[Account, Account, str, list[str]]) -> None:
    alice, bob, room, ids = seeded
    page = alice.get(f"/api/rooms/{room}/messages").json()  # newest 50, UTC
    flat = [m for day in page["days"] for m in day["messages"]]
    assert [m["id"] for m in flat] == ids[-50:] and page["has_more"]
    for params, field in [
        ({"tz": "Mars/Olympus"}, "tz"),
        ({"tz": "../../etc/passwd"}, "tz"),
        ({"before": "bm90LWEtY3Vyc29y"}, "before"),
        ({"limit": 101}, "limit"),
        ({"limit": 0}, "limit"),
    ]:
        r = alice.get(f"/api/rooms/{room}/messages", params=params)
        assert r.status_code == 422, params
        error_code(r)
        assert r.json()["error"]["field"] == field
    # unread_count: the other's undeleted messages (no `seen` receipt yet).
    rooms = {r["id"]: r for r in bob.get("/api/rooms").json()}
    alice_messages = len(range(0, COUNT, 2))
    assert rooms[room]["unread_count"] == alice_messages
    assert rooms[room]["last_seq"] >= COUNT
