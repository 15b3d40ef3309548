"""Headless Chromium (the system's, never a downloaded build) driven by Playwright."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.e2e.support import Account, ChatPage, new_chat
from tests.support.live_server import LiveServer

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One Chromium for the session; each test opens its own contexts."""
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def chat(browser: Any) -> Iterator[Callable[..., ChatPage]]:
    """Open signed-in browser contexts: ``chat(server, account, room_id)`` → a connected ChatPage.

    When the test ends every context is closed, then every WebSocket frame each page sent or
    received is validated against the schemas, and no page may have logged an error.
    """
    opened: list[ChatPage] = []

    def factory(
        server: LiveServer,
        account: Account | None,
        room_id: str | None = None,
        *,
        goto: bool = True,
        **options: Any,
    ) -> ChatPage:
        page = new_chat(browser, server, account, **options)
        opened.append(page)
        if goto:
            page.goto(room_id)
        return page

    yield factory
    for page in opened:
        page.close()
    problems = [
        f"{p.account.username if p.account else '-'}: {x}"
        for p in opened
        for x in p.frames.problems()
    ]
    assert not problems, "\n".join(problems)
    errors = [
        f"{p.account.username if p.account else '-'}: {e}"
        for p in opened
        for e in p.unexpected_errors()
    ]
    assert not errors, "\n".join(errors)
