"""The layouts with a realistic conversation on the real server: desktop 1280×800 and phone 360×740, light
and dark. Always checks the layout (nothing overflows, the phone's drawer); writes docs/screenshot-*.png
only when CHATTERBOX_SCREENSHOTS=1 (so a normal test run never rewrites them)."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from tests.e2e.support import ChatPage, make_room, open_dm, register, seed_messages
from tests.support.live_server import LiveServer

DOCS = Path(__file__).resolve().parents[2] / "docs"
WRITE = os.environ.get("CHATTERBOX_SCREENSHOTS") == "1"


def _shot(page: Any, name: str) -> None:
    if WRITE:
        page.screenshot(path=str(DOCS / f"screenshot-{name}.png"))


def _no_overflow(page: Any) -> None:
    widths = page.evaluate(
        """() => ({page: document.documentElement.scrollWidth - innerWidth,
                  timeline: (e => e.scrollWidth - e.clientWidth)(document.getElementById('timeline'))})"""
    )
    assert widths == {"page": 0, "timeline": 0}, widths


def test_layouts_light_and_dark_desktop_and_phone(
    chat: Callable[..., ChatPage], shared_server: LiveServer
) -> None:
    server = shared_server
    alice = register(server, "alice", display_name="Alice Martin")
    bob = register(server, "bob", display_name="Bob Stone")
    carol = register(server, "carol", display_name="Carol Diaz")
    room = make_room(
        server,
        alice,
        bob,
        carol,
        name="Design review",
        topic="Onboarding redesign · ships Thursday",
    )
    make_room(server, bob, alice, name="Release crew")
    dm = open_dm(server, alice, bob)
    yesterday = datetime.now(UTC) - timedelta(days=1)
    seed_messages(
        server,
        room["id"],
        [
            (
                carol.id,
                "Mock-ups for the new onboarding are coming tomorrow morning",
                int(yesterday.timestamp() * 1000),
            ),
            (
                alice.id,
                "Great, I'll block an hour for the review",
                int(yesterday.timestamp() * 1000) + 120_000,
            ),
        ],
    )

    b = chat(server, bob, room["id"])
    c = chat(server, carol, room["id"])
    a = chat(server, alice, room["id"])
    c.send("Morning! I pushed the new onboarding mock-ups 🎨 https://example.com/mockups")
    b.send("Nice, the colours are much better in dark mode")
    b.send("Oops, wrong room")
    a.send("Agreed. Two small things:\n1. the button contrast\n2. the empty state copy")
    c.send("Good catch, fixing the contrast now")
    c.composer.focus()
    c.composer.press("ArrowUp")
    c.composer.fill("Good catch — fixing the contrast now 👍")
    c.composer.press("Enter")
    b.message("Oops, wrong room").hover()
    b.message("Oops, wrong room").get_by_role("button", name="Delete message").click()
    b.page.locator("#confirm-ok").click()
    b.send("I'll review the copy after lunch ☕")
    a.send("Thanks both! Let's ship it on Thursday 🚀")
    expect(a.message("Thursday").locator(".receipt")).to_have_class("receipt receipt--seen")
    expect(a.page.locator("#message-log .msg--deleted")).to_have_count(1)
    expect(a.message("fixing the contrast").locator(".msg__edited")).to_be_visible()
    expect(a.page.locator("#message-log .day-sep")).to_have_text(["Yesterday", "Today"])

    # Unread elsewhere: a DM and #general.
    b.open_room("Alice Martin")
    expect(b.page.locator("#room-title")).to_have_text("Alice Martin")
    b.send("Are we still on for the 1:1 at 3?")
    b.open_room("general")
    b.send("Welcome Carol 👋")
    expect(a.page.locator("#list-dm .badge")).to_contain_text("1")
    expect(a.page.locator("#list-public .badge")).to_contain_text("1")
    assert dm["id"]

    def typing(page: ChatPage) -> None:
        # Stop and start again: a page that connected after the last "start" has not seen it.
        c.composer.fill("")
        c.composer.press_sequentially("So")
        expect(page.page.locator("#typing-line")).to_have_text("Carol Diaz is typing…")

    typing(a)
    _no_overflow(a.page)
    _shot(a.page, "desktop")
    a.page.emulate_media(color_scheme="dark")
    typing(a)
    _shot(a.page, "desktop-dark")

    # Phone: its own context (touch, 2× pixels); the sidebar is a drawer, the member list closed.
    p = chat(
        server,
        alice,
        room["id"],
        viewport={"width": 360, "height": 740},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
    )
    expect(p.message("Thursday")).to_be_in_viewport()
    expect(p.page.locator("#sidebar")).not_to_be_in_viewport()
    expect(p.page.locator("#members")).to_be_hidden()
    expect(p.page.locator("#nav-toggle")).to_be_visible()
    _no_overflow(p.page)
    typing(p)
    _shot(p.page, "phone")
    p.page.emulate_media(color_scheme="dark")
    typing(p)
    _shot(p.page, "phone-dark")
    p.page.locator("#nav-toggle").click()
    expect(p.page.locator("#sidebar")).to_be_in_viewport()
    expect(p.page.locator("#sidebar .room-link--active")).to_be_focused()
    p.page.keyboard.press("Escape")
    expect(p.page.locator("#sidebar")).not_to_be_in_viewport()

    # The sign-in screen.
    anon = chat(server, None, goto=False)
    anon.allowed_errors.append("401 (Unauthorized)")
    anon.page.goto(server.url + "/")
    expect(anon.page.locator("#auth-screen")).to_be_visible()
    anon.page.locator("#auth-username").fill("alice")
    _no_overflow_auth = anon.page.evaluate("document.documentElement.scrollWidth - innerWidth")
    assert _no_overflow_auth == 0
    _shot(anon.page, "login")
