"""axe-core (npm, tools/node_modules) on the sign-in page and the chat page, light and dark: no serious
or critical violations. The contexts bypass the CSP only because axe is injected as a script the
page's ``script-src 'self'`` would refuse; the app itself is unchanged."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.support import ChatPage, make_room, register
from tests.support.live_server import LiveServer

AXE = Path(__file__).resolve().parents[2] / "tools/node_modules/axe-core/axe.min.js"


def _violations(page: Any, label: str) -> list[str]:
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        """async () => {
            const r = await axe.run(document, {resultTypes: ['violations']});
            return r.violations.map((v) => ({id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 5).map((n) => n.target.join(' ') + ' :: ' + n.failureSummary)}));
        }"""
    )
    return [
        f"[{label}] {v['impact']} {v['id']}: {v['help']}\n    " + "\n    ".join(v["nodes"])
        for v in result
        if v["impact"] in ("serious", "critical")
    ]


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_login_and_chat_pages(
    chat: Callable[..., ChatPage], shared_server: LiveServer, scheme: str
) -> None:
    if not AXE.exists():
        pytest.skip("axe-core is not installed: run `make setup` (npm ci in tools/)")
    problems: list[str] = []

    # The sign-in and registration screens (signed out).
    anon = chat(shared_server, None, goto=False, bypass_csp=True, color_scheme=scheme)
    anon.allowed_errors.append("401 (Unauthorized)")
    anon.page.goto(shared_server.url + "/")
    expect(anon.page.locator("#auth-screen")).to_be_visible()
    problems += _violations(anon.page, "sign in")
    anon.page.locator("#auth-submit").click()  # with field errors shown
    expect(anon.page.locator("#auth-username-error")).not_to_be_empty()
    problems += _violations(anon.page, "sign in, errors")
    anon.page.get_by_role("button", name="Create an account").click()
    expect(anon.page.locator("#auth-display-field")).to_be_visible()
    problems += _violations(anon.page, "register")

    # The chat, with a conversation in it: own and others' messages, an edit, a deletion, receipts.
    alice = register(shared_server, "alice", display_name="Alice Martin")
    bob = register(shared_server, "bob", display_name="Bob Stone")
    room = make_room(shared_server, alice, bob, name="design review", topic="Weekly design review")
    a = chat(shared_server, alice, room["id"], bypass_csp=True, color_scheme=scheme)
    b = chat(shared_server, bob, room["id"], color_scheme=scheme)
    a.send("Morning! Did you look at the mock-ups? https://example.com/mockups")
    b.send("Yes, they look great 🎉")
    b.send("One question about the colours")
    a.send("Sure, go ahead")
    b.composer.focus()
    b.composer.press("ArrowUp")
    b.composer.fill("One question about the colour contrast")
    b.composer.press("Enter")
    expect(a.message("colour contrast").locator(".msg__edited")).to_be_visible()
    a.message("Sure, go ahead").hover()
    a.message("Sure, go ahead").get_by_role("button", name="Delete message").click()
    a.page.locator("#confirm-ok").click()
    expect(a.page.locator("#message-log .msg--deleted")).to_have_count(1)
    b.composer.press_sequentially("typing")
    expect(a.page.locator("#typing-line")).not_to_be_empty()
    expect(a.page.locator("#members")).to_be_visible()
    problems += _violations(a.page, "chat")

    # The emoji picker and a dialog, open.
    a.page.locator("#emoji-button").click()
    expect(a.page.locator("#emoji-picker")).to_be_visible()
    problems += _violations(a.page, "emoji picker")
    a.page.keyboard.press("Escape")
    a.page.locator("#create-room").click()
    expect(a.page.locator("#create-dialog")).to_be_visible()
    problems += _violations(a.page, "create room dialog")
    a.page.keyboard.press("Escape")

    # Phone width: the sidebar as a drawer.
    a.page.set_viewport_size({"width": 360, "height": 740})
    a.page.locator("#nav-toggle").click()
    expect(a.page.locator("#sidebar")).to_be_in_viewport()
    problems += _violations(a.page, "phone, rooms drawer")

    assert not problems, "\n".join(problems)
