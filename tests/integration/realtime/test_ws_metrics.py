"""/metrics counts what the real-time core does: connections, frames in/out, messages stored,
command latency, errors by code."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.support.live_server import LiveServer

from .wsclient import make_room, open_ws, register

pytestmark = pytest.mark.anyio


async def _metrics(server: LiveServer) -> str:
    async with httpx.AsyncClient() as http:
        return (await http.get(server.url + "/metrics")).text


def _value(text: str, name: str, labels: str = "") -> float:
    pattern = re.escape(name + (("{" + labels + "}") if labels else "")) + r" ([0-9.e+]+)"
    match = re.search(pattern, text)
    return float(match.group(1)) if match else 0.0


async def test_metrics_follow_a_conversation(ws_server: LiveServer) -> None:
    before = await _metrics(ws_server)
    alice, bob = register(ws_server), register(ws_server)
    room = make_room(ws_server, alice, bob)
    a, b = await open_ws(ws_server, alice), await open_ws(ws_server, bob)
    try:
        during = await _metrics(ws_server)
        assert _value(during, "chatterbox_ws_connections") >= 2
        for i in range(3):
            await a.say(room, f"metric {i}")
        for _ in range(3):
            await b.wait_for(lambda f: f["type"] == "message.created" and f["room_id"] == room)
        await a.send_raw("not json")
        await a.wait_for(lambda f: f["type"] == "error" and f["code"] == "invalid_json")
        after = await _metrics(ws_server)
    finally:
        await a.close()
        await b.close()

    def grew(name: str, labels: str = "") -> float:
        return _value(after, name, labels) - _value(before, name, labels)

    assert grew("chatterbox_messages_stored_total") >= 3
    assert grew("chatterbox_ws_frames_in_total", 'type="message.send"') >= 3
    # Each message reaches both members' connections.
    assert grew("chatterbox_ws_frames_out_total", 'type="message.created"') >= 6
    assert grew("chatterbox_command_seconds_count", 'type="message.send"') >= 3
    assert grew("chatterbox_errors_total", 'code="invalid_json"') >= 1
