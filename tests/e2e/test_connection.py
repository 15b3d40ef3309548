"""Presence when a tab closes, and a server restart while two people are connected (banner, resume,
nothing lost or doubled). The module has its own server: a short presence grace period, restarted
in place (same port, same database)."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e.support import ChatPage, make_room, open_dm, register
from tests.support.live_server import LiveServer

Chat = Callable[..., ChatPage]
GRACE_MS = 1500


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    data: Path = tmp_path_factory.mktemp("connection")
    live = LiveServer(data, env={"CHATTERBOX_PRESENCE_GRACE_MS": str(GRACE_MS)}).start()
    try:
        yield live
    finally:
        live.stop()


def test_presence_dot_goes_offline_after_the_grace_period(chat: Chat, server: LiveServer) -> None:
    alice = register(server, "alice")
    bob = register(server, "bob")
    dm = open_dm(server, alice, bob)
    a = chat(server, alice, dm["id"])
    b = chat(server, bob, dm["id"])
    expect(a.page.locator("#room-title")).to_have_text(bob.username)

    dot = a.page.locator("#list-dm .room-link", has_text=bob.username).locator(".presence-dot")
    member = a.page.locator("#member-list .member", has_text=bob.username)
    topic = a.page.locator("#room-topic")
    expect(dot).to_have_class("presence-dot presence-dot--online")
    expect(member.locator(".member__status")).to_have_text("Online")
    expect(topic).to_have_text(f"@{bob.username} · Online")

    b.close()
    closed = time.monotonic()
    expect(dot).to_have_class("presence-dot presence-dot--offline", timeout=GRACE_MS + 8000)
    waited = time.monotonic() - closed
    assert waited >= GRACE_MS / 1000 * 0.8, (
        f"offline after {waited:.2f} s: the grace period was not kept"
    )
    expect(member).to_have_class("member member--offline")
    expect(member.locator(".member__status")).to_have_text("Last seen just now")
    expect(topic).to_have_text(f"@{bob.username} · Last seen just now")

    # Bob comes back: online again, with no grace.
    chat(server, bob, dm["id"])
    expect(dot).to_have_class("presence-dot presence-dot--online")
    expect(topic).to_have_text(f"@{bob.username} · Online")
    offline = [
        f
        for f in a.frames.received_frames()
        if f["type"] == "presence" and f["user_id"] == bob.id and f["status"] == "offline"
    ]
    assert len(offline) == 1


def test_server_restart_banner_resume_nothing_lost_or_doubled(
    chat: Chat, server: LiveServer
) -> None:
    alice = register(server, "alice")
    bob = register(server, "bob")
    room = make_room(server, alice, bob)
    a = chat(server, alice, room["id"])
    b = chat(server, bob, room["id"])
    for c in (a, b):
        # Refused reconnection attempts while the server is down (or Bob's browser is offline).
        c.allowed_errors += [
            "WebSocket connection to",
            "ERR_CONNECTION_REFUSED",
            "ERR_INTERNET_DISCONNECTED",
        ]

    a.send("m1 before the restart")
    expect(b.message("m1 before the restart")).to_have_count(1)

    # The server goes down: both show the banner; then Bob's browser goes offline too.
    server.stop()
    for c in (a, b):
        expect(c.page.locator("#banner")).to_be_visible()
        expect(c.page.locator("#banner-text")).to_have_text("Connection lost. Reconnecting…")
        expect(c.page.locator("#conn-pill")).to_have_text("Offline")
    b.context.set_offline(True)

    # Written while the server is down: shown at once as "sending".
    a.composer.fill("m2 written while the server was down")
    a.composer.press("Enter")
    pending = a.message("m2 written while the server was down")
    expect(pending).to_have_class(re.compile(r"\bmsg--sending\b"))
    expect(pending.locator(".msg__status")).to_have_text("Sending…")

    server.start(migrate=False)
    # Alice reconnects by herself (backoff with jitter), resends m2 with the same client_msg_id.
    expect(a.page.locator("#banner")).to_be_hidden(timeout=20_000)
    expect(a.page.locator("#conn-pill")).to_have_text("Connected")
    expect(pending.locator(".receipt")).to_be_attached()
    a.send("m3 while Bob is still offline")
    expect(b.page.locator("#banner")).to_be_visible()  # Bob: still offline

    # Bob comes back online: the browser's "online" event reconnects at once; resume fills the gap.
    b.context.set_offline(False)
    expect(b.page.locator("#banner")).to_be_hidden(timeout=20_000)
    expect(b.message("m3 while Bob is still offline")).to_have_count(1)
    b.send("m4 after everything")
    expect(a.message("m4 after everything")).to_have_count(1)

    expected = [
        "m1 before the restart",
        "m2 written while the server was down",
        "m3 while Bob is still offline",
        "m4 after everything",
    ]
    for c in (a, b):
        expect(c.page.locator("#message-log .msg__body")).to_have_text(expected)
        expect(
            c.page.locator("#message-log .msg--sending, #message-log .msg--failed")
        ).to_have_count(0)

    # On the wire: each message sent once or resent with the same idempotency key, created once.
    sends = [f for f in a.frames.sent_frames() if f["type"] == "message.send"]
    assert len({f["client_msg_id"] for f in sends}) == 3
    created = [
        f["message"]["id"] for f in b.frames.received_frames() if f["type"] == "message.created"
    ]
    assert len(created) == len(set(created))
    hellos = [f for f in b.frames.received_frames() if f["type"] == "hello"]
    assert len(hellos) == 2
    assert any(f["type"] == "resume" for f in b.frames.sent_frames()) or hellos[1].get("history")
