"""The ``/ws`` route: the raw ASGI endpoint of :mod:`chatterbox.realtime.endpoint`.

Two ways in, one endpoint: the route (``ws_router``, so the app's router knows ``/ws`` and
``url_path_for("ws")`` works), and :class:`WebSocketFastPath`, an outer middleware that hands a
``/ws`` upgrade straight to the endpoint. The HTTP-only middlewares (access log, security headers),
Starlette's exception middleware, FastAPI's per-request exit stack and the router do nothing for a
WebSocket, but each kept a coroutine frame, a scope copy or a closure alive for as long as the
connection lasts (~2 KiB per connection; ``docs/benchmarks.md``). The endpoint answers its own
errors: refusals are HTTP responses to the upgrade, failures close the socket.
"""

from __future__ import annotations

from fastapi import APIRouter
from starlette.routing import WebSocketRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from chatterbox.realtime.endpoint import WebSocketEndpoint

__all__ = ["WS_PATH", "WebSocketFastPath", "ws_endpoint", "ws_router"]

WS_PATH = "/ws"
"""Where clients open their WebSocket."""

ws_endpoint = WebSocketEndpoint()
"""The one endpoint behind both ways in (it keeps no state of its own)."""

ws_router = APIRouter()
"""Holds the WebSocket route; ``create_app`` includes it."""
ws_router.routes.append(WebSocketRoute(WS_PATH, ws_endpoint, name="ws"))


class WebSocketFastPath:
    """ASGI middleware: a WebSocket upgrade to ``/ws`` goes straight to the endpoint.

    Everything else (HTTP, other WebSocket paths, lifespan) goes on down the stack unchanged. Paths
    are compared below ``root_path``, as Starlette's router compares them.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            path: str = scope["path"]
            root: str = scope.get("root_path", "")
            if root and path.startswith(root):
                path = path[len(root) :]
            if path == WS_PATH:
                await ws_endpoint(scope, receive, send)
                return
        await self.app(scope, receive, send)
