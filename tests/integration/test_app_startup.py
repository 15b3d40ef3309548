"""The app builds its WebSocket frame dispatcher in its lifespan, not on the first connection.

Compiling the protocol's validators and models costs ~4 MiB and a few milliseconds; paid at start-up
it is neither charged to the first user who connects nor a late failure when ``schema/`` is broken.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from chatterbox.app import create_app
from chatterbox.config import Settings
from chatterbox.protocol import schemas
from chatterbox.realtime import dispatch
from chatterbox.realtime.dispatch import Dispatcher

pytestmark = pytest.mark.anyio


def _settings(tmp_path: Path) -> Settings:
    return Settings(
        env="development", database_url=f"sqlite+aiosqlite:///{tmp_path / 'chatterbox.db'}"
    )


async def test_dispatcher_is_built_at_start_up_for_this_apps_hub(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    built: list[Dispatcher] = []
    real_init = Dispatcher.__init__

    def spy(self: Dispatcher, *args: object, **kwargs: object) -> None:
        real_init(self, *args, **kwargs)  # type: ignore[arg-type]
        built.append(self)

    monkeypatch.setattr(dispatch.Dispatcher, "__init__", spy)
    app = create_app(_settings(tmp_path))
    assert built == []
    async with app.router.lifespan_context(app):
        assert built == [app.state.dispatcher]
        assert app.state.dispatcher.hub is app.state.hub
        assert "message.send" in app.state.dispatcher.codec.types
    # A second app (as tests and multi-app hosts make) gets its own, bound to its own hub.
    other = create_app(_settings(tmp_path / "other"))
    async with other.router.lifespan_context(other):
        assert other.state.dispatcher is not app.state.dispatcher
        assert other.state.dispatcher.hub is other.state.hub
    assert len(built) == 2


async def test_a_missing_schema_folder_fails_the_start_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = tmp_path / "no-schema"
    empty.mkdir()

    def missing() -> Path:
        raise FileNotFoundError("the protocol's schema/ folder was not found")

    schemas.load_schema_set.cache_clear()
    monkeypatch.setattr(schemas, "find_schema_dir", missing)
    try:
        app = create_app(_settings(tmp_path))
        with pytest.raises(FileNotFoundError, match="schema/ folder"):
            async with app.router.lifespan_context(app):
                pass  # pragma: no cover - start-up must fail
    finally:
        schemas.load_schema_set.cache_clear()


async def _upgrade(app: object, path: str) -> list[dict[str, object]]:
    """Drive one WebSocket upgrade to ``path`` through ``app`` in process; what the app sent."""
    scope = {
        "type": "websocket",
        "asgi": {"version": "3.0"},
        "scheme": "ws",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"testserver")],
        "client": ("127.0.0.1", 40000),
        "server": ("testserver", 80),
        "subprotocols": [],
    }
    inbound = [{"type": "websocket.connect"}]
    sent: list[dict[str, object]] = []

    async def receive() -> dict[str, object]:
        return inbound.pop(0) if inbound else {"type": "websocket.disconnect", "code": 1000}

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    await app(scope, receive, send)  # type: ignore[operator]
    return sent


async def test_ws_upgrades_take_the_fast_path_and_other_paths_the_router(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The app routes ``/ws`` around its HTTP middlewares (``realtime.router.WebSocketFastPath``)."""
    from starlette.websockets import WebSocket

    from chatterbox.realtime import router

    reached: list[str] = []

    async def endpoint(scope: dict[str, object], receive: object, send: object) -> None:
        reached.append(str(scope["path"]))
        ws = WebSocket(scope, receive, send)  # type: ignore[arg-type]
        await ws.accept()
        await ws.send_text("fast")
        await ws.close()

    monkeypatch.setattr(router, "ws_endpoint", endpoint)
    app = create_app(_settings(tmp_path))
    async with app.router.lifespan_context(app):
        sent = await _upgrade(app, "/ws")
        assert reached == ["/ws"]
        assert [m["type"] for m in sent] == [
            "websocket.accept",
            "websocket.send",
            "websocket.close",
        ]
        # No such route: the router, not the endpoint, answers (closes before accepting).
        sent = await _upgrade(app, "/wsx")
        assert reached == ["/ws"]
        assert [m["type"] for m in sent] == ["websocket.close"]
        # HTTP still goes through the middlewares.
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            ready = await http.get("/readyz")
        assert ready.status_code == 200
        assert "content-security-policy" in ready.headers
