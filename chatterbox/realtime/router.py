"""The ``/ws`` route: the raw ASGI endpoint of :mod:`chatterbox.realtime.endpoint`."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.routing import WebSocketRoute

from chatterbox.realtime.endpoint import WebSocketEndpoint

__all__ = ["ws_router"]

ws_router = APIRouter()
"""Holds the WebSocket route; ``create_app`` includes it."""
ws_router.routes.append(WebSocketRoute("/ws", WebSocketEndpoint(), name="ws"))
