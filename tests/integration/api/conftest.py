"""Fixtures for the API tests that run the app in-process (the rest use a LiveServer)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from chatterbox.app import create_app
from chatterbox.config import Settings
from chatterbox.store.base import Store
from tests.integration.api.apiclient import PASSWORD
from tests.support.live_server import LiveServer


@pytest.fixture
def anyio_backend() -> str:
    """The store's writer uses asyncio."""
    return "asyncio"


@pytest.fixture(scope="package")
def api_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One real server for the API tests of this package (each test registers its own users).

    Failed logins from 127.0.0.1 add up here: keep them well below the per-address limit (20);
    throttling itself is tested on a server of its own.
    """
    server = LiveServer(tmp_path_factory.mktemp("api")).start()
    try:
        yield server
    finally:
        server.stop()


@dataclass
class RecordingNotifier:
    """Records what the use cases tell the real-time layer."""

    room_events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    membership: list[tuple[str, str, bool]] = field(default_factory=list)
    closed: list[tuple[list[str], int, str]] = field(default_factory=list)

    def room_event(self, room_id: str, frame: dict[str, Any]) -> None:
        self.room_events.append((room_id, frame))

    async def membership_changed(self, room_id: str, user_id: str, *, joined: bool) -> None:
        self.membership.append((room_id, user_id, joined))

    async def close_sessions(self, session_ids: Iterable[str], *, code: int, reason: str) -> None:
        self.closed.append((list(session_ids), code, reason))


@dataclass
class InProcess:
    """An in-process app (lifespan running) with a recording notifier."""

    client: httpx.AsyncClient
    notifier: RecordingNotifier
    store: Store


async def register(app: InProcess, name: str) -> dict[str, Any]:
    """Register ``name`` through the in-process app (201 expected); the body, for bearer use."""
    r = await app.client.post("/api/auth/register", json={"username": name, "password": PASSWORD})
    assert r.status_code == 201, r.text
    app.client.cookies.clear()  # bearer from here on
    body: dict[str, Any] = r.json()
    return body


def bearer(account: dict[str, Any]) -> dict[str, str]:
    """Authorization header for a body returned by :func:`register`."""
    return {"Authorization": f"Bearer {account['token']}"}


@pytest.fixture
async def in_process(tmp_path: Path) -> AsyncIterator[InProcess]:
    """The app over httpx's ASGI transport, its notifier replaced by a recorder."""
    settings = Settings(
        env="development",  # migrates the fresh database at start-up
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'chatterbox.db'}",
        allowed_origins=["http://testserver"],
    )
    app = create_app(settings)
    notifier = RecordingNotifier()
    async with app.router.lifespan_context(app):
        app.state.services.notifier = notifier
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield InProcess(client, notifier, app.state.services.store)
