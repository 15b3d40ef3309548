"""Servers for the real-time tests: real uvicorn processes with short timers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.live_server import LiveServer

FAST_ENV = {
    "CHATTERBOX_TYPING_TIMEOUT_MS": "1000",
    "CHATTERBOX_PRESENCE_GRACE_MS": "600",
    "CHATTERBOX_HEARTBEAT_INTERVAL_MS": "2000",
    "CHATTERBOX_RATE_PER_SECOND": "2000",
    "CHATTERBOX_RATE_BURST": "2000",
    "CHATTERBOX_MAX_CONNECTIONS_PER_USER": "4",
}
"""Short timers, a generous rate limit (flood tests use their own server) and a low cap."""


@pytest.fixture(scope="module")
def ws_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One fast-timer server per test module."""
    server = LiveServer(tmp_path_factory.mktemp("ws"), env=FAST_ENV).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def anyio_backend() -> str:
    """asyncio only."""
    return "asyncio"
