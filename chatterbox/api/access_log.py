"""An ASGI middleware that logs every HTTP request as one structured line and counts it.

The access line (logger ``chatterbox.access``, level info) carries ``method``, ``route`` (the
route template, e.g. ``/api/rooms/{room_id}``, so ids stay out of metrics), ``path``,
``status``, ``duration_ms`` and ``client``. ``chatterbox_http_requests{route,status}`` counts
the same. WebSocket scopes pass through untouched (``realtime/`` logs those).
"""

from __future__ import annotations

import logging
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["AccessLogMiddleware"]

log = logging.getLogger("chatterbox.access")


class AccessLogMiddleware:
    """Logs and counts HTTP requests (see the module docstring)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            app = scope.get("app")
            metrics = getattr(getattr(app, "state", None), "metrics", None)
            if metrics is not None:
                metrics.http_requests.labels(route=route, status=str(status)).inc()
            client = scope.get("client")
            log.info(
                "%s %s %s",
                scope["method"],
                scope["path"],
                status,
                extra={
                    "method": scope["method"],
                    "route": route,
                    "path": scope["path"],
                    "status": status,
                    "duration_ms": round((time.perf_counter() - start) * 1000, 2),
                    "client": client[0] if client else None,
                },
            )
