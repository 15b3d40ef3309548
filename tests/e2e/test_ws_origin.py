"""Cross-site WebSocket hijacking: a page whose Origin is not allowed (http://localhost:PORT, while
the server allows only http://127.0.0.1:PORT) cannot open the WebSocket with the session cookie.
The server refuses the upgrade (403), the socket never opens, and the client says so instead of
retrying silently."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import expect

from tests.e2e.support import ChatPage, register
from tests.support.live_server import LiveServer


def test_websocket_refused_for_a_foreign_origin(
    chat: Callable[..., ChatPage], shared_server: LiveServer
) -> None:
    alice = register(shared_server, "alice")
    foreign = f"http://localhost:{shared_server.port}"
    assert foreign not in shared_server.env["CHATTERBOX_ALLOWED_ORIGINS"]
    c = chat(shared_server, alice, goto=False, origin=foreign)
    c.allowed_errors.append("WebSocket connection to")
    page = c.page
    page.goto(foreign + "/")

    # The cookie is sent (REST reads are same-site GETs: the chat screen opens)...
    expect(page.locator("#chat-screen")).to_be_visible()
    # ...but the socket is refused: an explicit error, never "Connected".
    expect(page.locator("#banner")).to_be_visible()
    expect(page.locator("#banner-text")).to_have_text(
        "Cannot connect to the chat server. Retrying…"
    )
    expect(page.locator("#conn-pill")).to_have_text("Offline")
    page.wait_for_function(
        "() => document.getElementById('banner-count').textContent.startsWith('Next try')"
    )
    refusals = [e for e in c.errors if "WebSocket connection to" in e]
    assert refusals, c.errors
    assert all("403" in e for e in refusals), refusals
    assert c.frames.sockets, "the page never tried the WebSocket"
    assert all(url.startswith(f"ws://localhost:{shared_server.port}/ws") for url in c.frames.urls)
    assert c.frames.received == [] and c.frames.sent == []
    expect(page.locator("#conn-pill")).not_to_have_text("Connected")

    # The same account from the allowed origin connects (control).
    ok = chat(shared_server, alice)
    expect(ok.page.locator("#conn-pill")).to_have_text("Connected")
    assert any(f["type"] == "hello" for f in ok.frames.received_frames())
