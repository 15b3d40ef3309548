"""XSS payloads through every render path: message bodies, an edited message, display names (author,
avatar, member list, typing line, DM title), room title and topic, the document title.

The victim's context runs with ``bypass_csp=True``: the server's CSP would block inline handlers
anyway, so this proves the client itself never turns user data into markup (the CSP is the second
line of defence, checked on the response). Every payload would set ``window.__xss`` or open a
dialog if it ran; the text must be shown literally and the DOM must hold no injected element,
no ``on*`` attribute and no non-http(s) link.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
from playwright.sync_api import expect

from tests.e2e.support import ChatPage, make_room, open_dm, register
from tests.support.live_server import LiveServer

MARK = "window.__xss=1"
PAYLOADS = [
    f"<script>{MARK}</script>",
    f'<img src=x onerror="{MARK};alert(1)">',
    f"<svg onload={MARK}><circle r=5 /></svg>",
    '"><svg/onload=alert(document.domain)>',
    f'<a href="javascript:{MARK}">click me</a>',
    f"[click](javascript:{MARK})",
    f"javascript:{MARK}",
    f'<div onmouseover="{MARK}" style="position:fixed;inset:0">hover</div>',
    f'<iframe srcdoc="<script>parent.{MARK}</script>"></iframe>',
    f'![x](x" onerror="{MARK})',
    '{"__proto__": {"polluted": true}, "constructor": {"prototype": {"polluted": true}}}',
    "__proto__",
    "data:text/html,<script>alert(1)</script> and https://example.com/?q=<b>x</b>",
    "A" * 3000,
]
ATTACKER_NAME = f'<img src=x onerror="{MARK};alert(1)">'
ACCOMPLICE_NAME = '"><svg onload=alert(1)> __proto__'
ROOM_NAME = f"<script>{MARK}</script>"
ROOM_TOPIC = f"<svg/onload={MARK}> [t](javascript:alert(1)) __proto__"
EDITED = f"<img src=/favicon.svg onload={MARK}> edited"

INSPECT = """() => {
    const injected = document.querySelectorAll(
        '#chat-screen img:not([src="/favicon.svg"]), body script:not([src="/js/app.js"]), iframe, object, embed, ' +
        '#chat-screen svg:not([aria-hidden="true"]), #chat-screen b, #chat-screen [style*="inset"]'
    ).length;
    const handlers = [];
    for (const el of document.querySelectorAll('*')) {
        for (const attr of el.attributes) if (attr.name.startsWith('on')) handlers.push(el.tagName + ' ' + attr.name);
    }
    const badLinks = [...document.querySelectorAll('a[href]')]
        .map((a) => a.getAttribute('href'))
        .filter((h) => !/^(https?:\\/\\/|#)/.test(h));
    return {
        xss: window.__xss,
        injected,
        handlers,
        badLinks,
        polluted: ({}).polluted,
        protoKeys: Object.keys(Object.prototype),
    };
}"""


def _check_clean(c: ChatPage, dialogs: list[str]) -> None:
    state: dict[str, Any] = c.page.evaluate(INSPECT)
    assert state == {
        "xss": None,
        "injected": 0,
        "handlers": [],
        "badLinks": [],
        "polluted": None,
        "protoKeys": [],
    }, state
    assert dialogs == []


def test_payloads_render_as_text_and_never_run(
    chat: Callable[..., ChatPage], shared_server: LiveServer
) -> None:
    csp = httpx.get(shared_server.url + "/").headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp

    attacker = register(shared_server, "mallory", display_name=ATTACKER_NAME)
    accomplice = register(shared_server, "trudy", display_name=ACCOMPLICE_NAME)
    victim = register(shared_server, "victim")
    room = make_room(shared_server, attacker, victim, accomplice, name=ROOM_NAME, topic=ROOM_TOPIC)
    dm = open_dm(shared_server, attacker, victim)

    v = chat(shared_server, victim, room["id"], bypass_csp=True)
    m = chat(shared_server, attacker, room["id"], bypass_csp=True)
    t = chat(shared_server, accomplice, room["id"])
    dialogs: list[str] = []
    for c in (v, m, t):
        c.page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))

    # Room title, topic, the document title.
    expect(v.page.locator("#room-title")).to_have_text(ROOM_NAME)
    expect(v.page.locator("#room-topic")).to_have_text(ROOM_TOPIC)
    expect(v.page).to_have_title(f"{ROOM_NAME} · Chatterbox")
    expect(v.page.locator("#list-private .room-link__name")).to_have_text([ROOM_NAME])

    # Message bodies.
    for payload in PAYLOADS:
        m.composer.fill(payload)
        m.composer.press("Enter")
    bodies = v.page.locator("#message-log .msg__body")
    expect(bodies).to_have_count(len(PAYLOADS))
    assert [b for b in bodies.evaluate_all("els => els.map((e) => e.textContent)")] == PAYLOADS
    expect(v.page.locator("#message-log .msg__author").first).to_have_text(ATTACKER_NAME)
    links = v.page.locator("#message-log a")
    expect(links).to_have_count(1)
    expect(links).to_have_attribute("href", "https://example.com/?q=")  # a URL ends at "<"

    # The very long unbroken string wraps: no horizontal scrolling anywhere.
    long = v.message("A" * 100)
    expect(long).to_have_count(1)
    overflow = v.page.evaluate(
        """() => {
            const s = document.getElementById('timeline');
            const bubble = [...document.querySelectorAll('#message-log .msg__bubble')].pop();
            return {scroll: s.scrollWidth - s.clientWidth, page: document.documentElement.scrollWidth - innerWidth,
                    bubble: bubble.getBoundingClientRect().right <= s.getBoundingClientRect().right};
        }"""
    )
    assert overflow == {"scroll": 0, "page": 0, "bubble": True}, overflow

    # An edited message.
    m.composer.focus()
    m.composer.press("ArrowUp")
    expect(m.composer).to_have_value("A" * 3000)
    m.composer.fill(EDITED)
    m.composer.press("Enter")
    edited = v.message("edited").locator(".msg__body")
    expect(edited).to_have_text(EDITED)
    expect(v.message("edited").locator(".msg__edited")).to_be_visible()

    # Display names in the typing line (one and two typists).
    line = v.page.locator("#typing-line")
    m.composer.fill("")
    m.composer.press_sequentially("typing…")
    expect(line).to_have_text(f"{ATTACKER_NAME} is typing…")
    t.composer.press_sequentially("me too")
    expect(line).to_have_text(f"{ATTACKER_NAME} and {ACCOMPLICE_NAME} are typing…")

    # Member list (names, avatars' initials).
    v.page.set_viewport_size({"width": 1280, "height": 800})
    members = v.page.locator("#member-list .member__name")
    expect(members).to_contain_text([ACCOMPLICE_NAME])
    expect(members).to_contain_text([ATTACKER_NAME])

    # The DM: its title, topic and sidebar entry are the attacker's display name; the document title too.
    v.open_room(ATTACKER_NAME)
    expect(v.page.locator("#room-title")).to_have_text(ATTACKER_NAME)
    expect(v.page).to_have_title(f"{ATTACKER_NAME} · Chatterbox")
    assert dm["id"] in v.page.url
    m.composer.fill("")
    # A message arriving in the other room: the document title gets an unread count, still literal.
    m.composer.fill(f"<b onclick={MARK}>unread</b>")
    m.composer.press("Enter")
    expect(v.page).to_have_title(f"(1) {ATTACKER_NAME} · Chatterbox")
    v.page.locator("#list-private .room-link").hover()

    for c in (v, m, t):
        _check_clean(c, dialogs)
