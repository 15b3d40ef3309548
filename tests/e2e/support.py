"""Helpers for the browser tests: accounts and rooms through REST, a chat page per browser context,
WebSocket frame capture validated against the schemas, and store seeding with a controlled clock.

Every :class:`ChatPage` records the frames its page sends and receives (Playwright's ``websocket``
events, i.e. what really went over the wire) and every console error and uncaught exception; the
``chat`` fixture (conftest.py) checks all of them when the test ends.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from chatterbox.protocol.codec import Codec
from tests.support.live_server import LiveServer
from tests.support.rest import register_account, rest

__all__ = [
    "PASSWORD",
    "Account",
    "ChatPage",
    "FrameLog",
    "make_room",
    "open_dm",
    "register",
    "rest",
    "run_async",
    "seed_messages",
    "unique",
]

JSON = dict[str, Any]
T = TypeVar("T")
PASSWORD = "correct horse battery staple 7"
COOKIE = "chatterbox_session"
TIMEOUT_MS = 10_000
"""Default wait for anything the UI should show (generous: the box has 2 cores)."""

_CLIENT = Codec("client")
_SERVER = Codec("server")
_counter = itertools.count(1)


def unique(prefix: str) -> str:
    """A username/room name no other test uses (usernames: at most 32 characters)."""
    return f"{prefix}{next(_counter)}{uuid.uuid4().hex[:5]}"[:32]


@dataclass
class Account:
    """A registered user: the REST answer's user object and session token."""

    user: JSON
    token: str
    username: str
    password: str = PASSWORD

    @property
    def id(self) -> str:
        return str(self.user["id"])

    @property
    def name(self) -> str:
        """What the client shows for this user (display name, else username)."""
        return str(self.user.get("display_name") or self.username)


def register(server: LiveServer, prefix: str = "user", display_name: str | None = None) -> Account:
    """Register a fresh account through REST (it joins #general)."""
    username = unique(prefix)
    data = register_account(server, username, PASSWORD, display_name)
    return Account(data["user"], data["token"], username)


def make_room(
    server: LiveServer,
    owner: Account,
    *members: Account,
    kind: str = "private",
    name: str | None = None,
    topic: str | None = None,
) -> JSON:
    """Create a room owned by ``owner``, invite ``members``; returns the Room."""
    body: JSON = {"kind": kind, "name": name or unique("room ")}
    if topic is not None:
        body["topic"] = topic
    r = rest(server, owner, "POST", "/api/rooms", body)
    assert r.status_code == 201, r.text
    room: JSON = r.json()
    for member in members:
        r = rest(
            server, owner, "POST", f"/api/rooms/{room['id']}/members", {"username": member.username}
        )
        assert r.status_code == 201, r.text
    return room


def open_dm(server: LiveServer, a: Account, b: Account) -> JSON:
    """The direct conversation between ``a`` and ``b``."""
    r = rest(server, a, "POST", f"/api/dm/{b.username}")
    assert r.status_code in (200, 201), r.text
    room: JSON = r.json()
    return room


def run_async(factory: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine to completion in a thread of its own.

    Playwright's sync API keeps an event loop on the main thread, where ``asyncio.run`` refuses to
    start; a fresh thread has none.
    """
    out: list[T] = []
    err: list[BaseException] = []

    def target() -> None:
        try:
            out.append(asyncio.run(_await(factory)))
        except BaseException as exc:
            err.append(exc)

    thread = threading.Thread(target=target, name="e2e-async")
    thread.start()
    thread.join(120)
    if err:
        raise err[0]
    assert out, "the coroutine did not finish in time"
    return out[0]


async def _await(factory: Callable[[], Awaitable[T]]) -> T:
    return await factory()


def seed_messages(
    server: LiveServer, room_id: str, items: Iterable[tuple[str, str, int]]
) -> list[str]:
    """Append ``(author_id, body, created_at_ms)`` messages straight into the server's database.

    The store stamps messages with its clock; a store opened with a clock that returns each item's
    time in turn gives every message the wanted ``created_at``. Seed rooms nobody is reading yet:
    the running server learns about the new ``seq`` values the next time it reads the room.
    """
    from chatterbox.store.sql import open_store

    batch = list(items)

    async def seed() -> list[str]:
        times = iter([t for _, _, t in batch])
        current = [0]

        def clock() -> int:
            return current[0]

        store = await open_store(server.env["CHATTERBOX_DATABASE_URL"], clock=clock)
        ids: list[str] = []
        try:
            for author, body, _ in batch:
                current[0] = next(times)
                message, _created = await store.append_message(room_id, author, body)
                ids.append(message.id)
        finally:
            await store.close()
        return ids

    return run_async(seed)


@dataclass
class FrameLog:
    """Every WebSocket frame a page sent and received, as seen on the wire."""

    sent: list[str | bytes] = field(default_factory=list)
    received: list[str | bytes] = field(default_factory=list)
    sockets: list[Any] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)

    def attach(self, page: Any) -> None:
        page.on("websocket", self._on_socket)

    def _on_socket(self, ws: Any) -> None:
        self.sockets.append(ws)
        self.urls.append(ws.url)
        ws.on("framesent", lambda payload: self.sent.append(payload))
        ws.on("framereceived", lambda payload: self.received.append(payload))

    def sent_frames(self) -> list[JSON]:
        return [json.loads(f) for f in self.sent if isinstance(f, str)]

    def received_frames(self) -> list[JSON]:
        return [json.loads(f) for f in self.received if isinstance(f, str)]

    def problems(self) -> list[str]:
        """Frames that are not text, not JSON, or fail their schema (client or server)."""
        out: list[str] = []
        for direction, frames, codec in (
            ("sent", self.sent, _CLIENT),
            ("received", self.received, _SERVER),
        ):
            for raw in frames:
                if not isinstance(raw, str):
                    out.append(f"{direction}: binary frame {raw[:60]!r}")
                    continue
                try:
                    obj = json.loads(raw)
                except ValueError:
                    out.append(f"{direction}: not JSON {raw[:200]!r}")
                    continue
                if not codec.is_valid(obj):
                    err = codec.explain(obj)
                    out.append(f"{direction}: {err.pointer!r} {err.message}: {raw[:300]}")
        return out


class ChatPage:
    """One browser context signed in as one account, on the chat screen."""

    def __init__(
        self, context: Any, page: Any, account: Account | None, server: LiveServer
    ) -> None:
        self.context = context
        self.page = page
        self.account = account
        self.server = server
        self.frames = FrameLog()
        self.frames.attach(page)
        self.errors: list[str] = []
        self.allowed_errors: list[str] = []
        page.on("console", self._on_console)
        page.on("pageerror", lambda exc: self.errors.append(f"pageerror: {exc}"))
        page.set_default_timeout(TIMEOUT_MS)
        self.closed = False

    def _on_console(self, message: Any) -> None:
        if message.type == "error":
            self.errors.append(f"console: {message.text}")

    def unexpected_errors(self) -> list[str]:
        return [e for e in self.errors if not any(a in e for a in self.allowed_errors)]

    # -- navigation ------------------------------------------------------------------------------

    def goto(self, room_id: str | None = None, *, dev: bool = True, wait: bool = True) -> ChatPage:
        url = self.server.url + ("/?dev=1" if dev else "/") + (f"#{room_id}" if room_id else "")
        self.page.goto(url)
        if wait:
            self.wait_connected()
            if room_id:
                self.page.wait_for_function(
                    "id => location.hash === '#' + id", arg=room_id, timeout=TIMEOUT_MS
                )
        return self

    def wait_connected(self) -> None:
        self.page.locator("#conn-pill[data-state='open']").wait_for(state="attached")
        self.page.locator("#room-title").filter(has_not_text="Loading").wait_for()

    def open_room(self, name: str) -> None:
        """Click a room in the sidebar by its name."""
        self.page.locator("#sidebar .room-link").filter(has_text=name).first.click()

    # -- messages --------------------------------------------------------------------------------

    @property
    def composer(self) -> Any:
        return self.page.locator("#composer-input")

    @property
    def log(self) -> Any:
        return self.page.locator("#message-log")

    @property
    def messages(self) -> Any:
        return self.page.locator("#message-log article.msg")

    def message(self, text: str) -> Any:
        """The message bubble(s) whose body contains ``text``."""
        return self.messages.filter(has=self.page.locator(".msg__body", has_text=text))

    def send(self, text: str) -> None:
        """Type ``text`` in the composer and press Enter (waits until the server acknowledged it)."""
        self.composer.fill(text)
        self.composer.press("Enter")
        self.message(text).last.locator(".msg__status .receipt").wait_for(state="attached")

    def bodies(self) -> list[str]:
        return [b.strip() for b in self.page.locator("#message-log .msg__body").all_inner_texts()]

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.context.close()


def new_chat(
    browser: Any,
    server: LiveServer,
    account: Account | None,
    *,
    origin: str | None = None,
    **context_options: Any,
) -> ChatPage:
    """A new browser context (signed in with ``account``'s session cookie when given)."""
    options: JSON = {"viewport": {"width": 1280, "height": 800}, "locale": "en-US"}
    options.update(context_options)
    context = browser.new_context(**options)
    if account is not None:
        context.add_cookies(
            [
                {
                    "name": COOKIE,
                    "value": account.token,
                    "url": origin or server.url,
                    "httpOnly": True,
                    "sameSite": "Lax",
                }
            ]
        )
    page = context.new_page()
    return ChatPage(context, page, account, server)
