"""``WebSocketFastPath``: a ``/ws`` upgrade goes straight to the endpoint, everything else down the stack."""

from __future__ import annotations

from typing import Any

import pytest

from chatterbox.realtime import router
from chatterbox.realtime.router import WebSocketFastPath

pytestmark = pytest.mark.anyio


class Recorder:
    def __init__(self) -> None:
        self.scopes: list[dict[str, Any]] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        self.scopes.append(scope)


async def _nothing() -> dict[str, Any]:
    raise AssertionError("not called")  # pragma: no cover


async def _drop(message: dict[str, Any]) -> None:
    raise AssertionError("not called")  # pragma: no cover


@pytest.fixture
def routes(monkeypatch: pytest.MonkeyPatch) -> tuple[Recorder, Recorder, WebSocketFastPath]:
    endpoint, downstream = Recorder(), Recorder()
    monkeypatch.setattr(router, "ws_endpoint", endpoint)
    return endpoint, downstream, WebSocketFastPath(downstream)


@pytest.mark.parametrize(
    "scope",
    [
        {"type": "websocket", "path": "/ws"},
        {"type": "websocket", "path": "/ws", "root_path": ""},
        {"type": "websocket", "path": "/chat/ws", "root_path": "/chat"},
    ],
)
async def test_ws_upgrades_reach_the_endpoint_directly(
    routes: tuple[Recorder, Recorder, WebSocketFastPath], scope: dict[str, Any]
) -> None:
    endpoint, downstream, app = routes
    await app(scope, _nothing, _drop)
    assert endpoint.scopes == [scope]
    assert downstream.scopes == []


@pytest.mark.parametrize(
    "scope",
    [
        {"type": "http", "path": "/ws"},
        {"type": "websocket", "path": "/ws/"},
        {"type": "websocket", "path": "/wsx"},
        {"type": "websocket", "path": "/api/ws"},
        {"type": "websocket", "path": "/chat/ws", "root_path": "/other"},
        {"type": "lifespan"},
    ],
)
async def test_everything_else_goes_down_the_stack(
    routes: tuple[Recorder, Recorder, WebSocketFastPath], scope: dict[str, Any]
) -> None:
    endpoint, downstream, app = routes
    await app(scope, _nothing, _drop)
    assert endpoint.scopes == []
    assert downstream.scopes == [scope]
