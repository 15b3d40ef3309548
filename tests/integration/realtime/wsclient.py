"""A test client for ``/ws`` that validates **every** frame it receives against schema/server.json.

The wrapped ``websockets`` connection is private: the only way to read a frame is
:meth:`WsClient.recv` (and helpers built on it), which validates before returning, and
:meth:`WsClient.close` reads and validates whatever is still queued. A test therefore cannot
receive a server frame without it being checked (the Zulip ``verify_frames`` idea).
"""

# ruff: noqa: ASYNC109 - per-call receive deadlines are the point of this test helper
from __future__ import annotations

import asyncio
import itertools
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from chatterbox.protocol.codec import Codec
from tests.support.live_server import LiveServer
from tests.support.rest import register_account, rest

__all__ = ["Account", "WsClient", "make_room", "open_ws", "refusal_status", "register", "rest"]

JSON = dict[str, Any]
PASSWORD = "a long enough passphrase 42!"
_SERVER = Codec("server")
_names = itertools.count(1)

VALIDATED: list[int] = [0]
"""How many server frames this test session validated (reported by the suite)."""


def check_frame(obj: Any) -> JSON:
    """Assert that ``obj`` is a valid server frame; return it."""
    if not _SERVER.is_valid(obj):
        err = _SERVER.explain(obj)
        raise AssertionError(
            f"server frame fails its schema at {err.pointer!r}: {err.message}\n{obj}"
        )
    VALIDATED[0] += 1
    assert isinstance(obj, dict)
    return obj


@dataclass
class Account:
    """A registered user and a bearer token."""

    user: JSON
    token: str
    session_id: str
    username: str


def register(server: LiveServer, prefix: str = "user") -> Account:
    """Register a fresh user through the REST API (joins r_general)."""
    username = f"{prefix}{next(_names)}{uuid.uuid4().hex[:6]}"[:32]
    body = register_account(server, username, PASSWORD)
    return Account(body["user"], body["token"], body["session_id"], username)


def make_room(server: LiveServer, owner: Account, *members: Account, kind: str = "private") -> str:
    """Create a room owned by ``owner`` with ``members`` invited; returns its id."""
    r = rest(
        server, owner, "POST", "/api/rooms", {"kind": kind, "name": f"room {uuid.uuid4().hex[:6]}"}
    )
    assert r.status_code == 201, r.text
    room_id = str(r.json()["id"])
    for member in members:
        r = rest(
            server, owner, "POST", f"/api/rooms/{room_id}/members", {"username": member.username}
        )
        assert r.status_code == 201, r.text
    return room_id


def ws_url(server: LiveServer, *, tz: str | None = None, room: str | None = None) -> str:
    """``/ws`` with the query parameters."""
    params = []
    if tz is not None:
        params.append(f"tz={tz}")
    if room is not None:
        params.append(f"room={room}")
    return server.ws_url + ("?" + "&".join(params) if params else "")


class WsClient:
    """One validated connection (see the module docstring)."""

    def __init__(self, ws: ClientConnection, name: str) -> None:
        self._ws = ws
        self.name = name
        self.received: list[JSON] = []
        """Every frame received, in order."""
        self.backlog: list[JSON] = []
        """Frames received while waiting for something else, not yet consumed."""
        self.hello: JSON = {}
        self._ids = itertools.count(1)
        self.close_code: int | None = None

    async def recv(self, timeout: float = 5.0) -> JSON:
        """The next frame (backlog first), validated."""
        if self.backlog:
            return self.backlog.pop(0)
        return await self._read(timeout)

    async def _read(self, timeout: float) -> JSON:
        text = await asyncio.wait_for(self._ws.recv(), timeout)
        assert isinstance(text, str), "the server sent a binary frame"
        frame = check_frame(json.loads(text))
        self.received.append(frame)
        return frame

    async def wait_for(self, pred: Callable[[JSON], bool], timeout: float = 5.0) -> JSON:
        """The first frame matching ``pred``; the others stay in the backlog, in order."""
        for i, frame in enumerate(self.backlog):
            if pred(frame):
                return self.backlog.pop(i)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            frame = await self._read(max(0.01, deadline - loop.time()))
            if pred(frame):
                return frame
            self.backlog.append(frame)

    async def wait_type(self, kind: str, timeout: float = 5.0) -> JSON:
        """The first frame of type ``kind``."""
        return await self.wait_for(lambda f: f["type"] == kind, timeout)

    async def send_raw(self, data: str | bytes) -> None:
        """Send anything (fuzzing)."""
        await self._ws.send(data)

    async def send(self, frame: JSON) -> str:
        """Send a command, adding a fresh ``id``; returns the id."""
        cid = frame.get("id") or f"c{next(self._ids)}"
        await self._ws.send(json.dumps({**frame, "id": cid}))
        return str(cid)

    async def answer(self, cid: str, timeout: float = 5.0) -> JSON:
        """The ``ack`` / ``error`` / ``pong`` answering ``cid``."""
        return await self.wait_for(
            lambda f: f.get("re") == cid and f["type"] in ("ack", "error", "pong"), timeout
        )

    async def command(self, frame: JSON, timeout: float = 5.0) -> JSON:
        """Send a command and return its final answer."""
        return await self.answer(await self.send(frame), timeout)

    async def ok(self, frame: JSON, timeout: float = 5.0) -> JSON:
        """Send a command that must succeed; return ``ack.result``."""
        answer = await self.command(frame, timeout)
        assert answer["type"] == "ack", answer
        return dict(answer["result"])

    async def say(self, room_id: str, body: str, client_msg_id: str | None = None) -> JSON:
        """``message.send``; returns the stored message."""
        result = await self.ok(
            {
                "type": "message.send",
                "room_id": room_id,
                "body": body,
                "client_msg_id": client_msg_id or uuid.uuid4().hex,
            }
        )
        return dict(result["message"])

    async def quiet(self, seconds: float = 0.3) -> list[JSON]:
        """Everything that arrives within ``seconds`` (backlog included)."""
        out, self.backlog = self.backlog, []
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while (left := deadline - loop.time()) > 0:
            try:
                out.append(await self._read(left))
            except TimeoutError:
                break
        return out

    async def wait_closed(self, timeout: float = 10.0) -> int | None:
        """Read (and validate) until the server closes; returns the close code."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        try:
            while True:
                await self._read(max(0.01, deadline - loop.time()))
        except ConnectionClosed as exc:
            self.close_code = exc.rcvd.code if exc.rcvd is not None else 1006
        return self.close_code

    async def close(self) -> None:
        """Close, validating every frame still queued."""
        try:
            await self._ws.close()
        finally:
            while True:
                try:
                    await self._read(0.5)
                except (ConnectionClosed, TimeoutError):
                    break


async def open_ws(
    server: LiveServer,
    account: Account | None = None,
    *,
    tz: str | None = None,
    room: str | None = None,
    headers: dict[str, str] | None = None,
    max_size: int | None = 8 * 1024 * 1024,
    **kwargs: Any,
) -> WsClient:
    """Connect (bearer auth by default), read and validate ``hello``."""
    all_headers = dict(headers or {})
    if account is not None:
        all_headers.setdefault("Authorization", f"Bearer {account.token}")
    ws = await connect(
        ws_url(server, tz=tz, room=room),
        subprotocols=["chatterbox.v1"],  # type: ignore[list-item]
        additional_headers=all_headers,
        max_size=max_size,
        open_timeout=10,
        **kwargs,
    )
    client = WsClient(ws, account.username if account else "anon")
    hello = await client.recv(10)
    assert hello["type"] == "hello", hello
    client.hello = hello
    return client


async def refusal_status(
    server: LiveServer,
    *,
    headers: dict[str, str] | None = None,
    subprotocols: list[str] | None = None,
    tz: str | None = None,
) -> int:
    """The HTTP status of an upgrade the server must refuse (fails if it is accepted)."""
    try:
        ws = await connect(
            ws_url(server, tz=tz),
            subprotocols=["chatterbox.v1"] if subprotocols is None else subprotocols,  # type: ignore[misc]
            additional_headers=headers or {},
            open_timeout=10,
        )
    except InvalidStatus as exc:
        return exc.response.status_code
    await ws.close()
    raise AssertionError("the upgrade was accepted")
