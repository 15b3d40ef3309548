"""The ``/ws`` ASGI endpoint: refuse before accepting, or accept, greet and serve.

Refusals are HTTP responses to the upgrade request (the ASGI ``websocket.http.response``
extension, via Starlette's ``send_denial_response``), never an accept followed by a close:

* 400 — ``chatterbox.v1`` not offered, or ``tz`` is not an IANA zone;
* 401 — no credentials, or invalid / revoked / expired ones;
* 403 — cookie authentication from an ``Origin`` outside ``allowed_origins`` (or none);
* 429 — the user already has ``max_connections_per_user`` connections (with Redis: across every
  process of the deployment; without, or while Redis is unreachable: on this process);
* 503 — the server is draining (shutting down).

A connection's handler returns only after its in-flight commands have finished (at most
``drain_timeout_s``), so that uvicorn's graceful shutdown, which waits for handlers, also waits
for their commits. ``chatterbox serve`` drains the hub (:meth:`Hub.drain`: 503, close 1001) before
uvicorn's own shutdown, which would close open WebSockets with 1012.

Credentials: the ``Authorization: Bearer`` header alone when present, else the session cookie
(:func:`chatterbox.api.deps.read_credentials`, the same rules as REST).
"""

from __future__ import annotations

import asyncio
import logging
from functools import partial
from typing import Any

from starlette.responses import JSONResponse
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket

from chatterbox.api.deps import origin_allowed, read_credentials
from chatterbox.domain.days import DEFAULT_ZONE, UnknownTimeZone, resolve_zone
from chatterbox.realtime.connection import Connection
from chatterbox.realtime.dispatch import Dispatcher
from chatterbox.realtime.hub import Hub
from chatterbox.realtime.session import PROTOCOL, open_connection
from chatterbox.realtime.state import ConnState
from chatterbox.realtime.wire import SCOPE_KEY, DirectWire

__all__ = ["WebSocketEndpoint"]

_log = logging.getLogger(__name__)


async def _deny(ws: WebSocket, status: int, detail: str) -> None:
    await ws.send_denial_response(JSONResponse({"detail": detail}, status_code=status))


class WebSocketEndpoint:
    """The raw ASGI app mounted at ``/ws`` (raw, so frames go straight to uvicorn's ``send``).

    It keeps no state: the hub and the frame dispatcher are the app's (``app.state``), built once
    in its lifespan, so the first connection does not pay for compiling the protocol's validators.
    """

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one upgrade request."""
        ws = WebSocket(scope, receive, send)
        first = await ws.receive()
        if first["type"] != "websocket.connect":
            return
        app: Any = scope["app"]
        hub: Hub = app.state.hub
        services: Any = app.state.services
        settings = hub.settings
        if PROTOCOL not in scope.get("subprotocols", []):
            await _deny(ws, 400, f"offer the subprotocol {PROTOCOL}")
            return
        tz = ws.query_params.get("tz") or DEFAULT_ZONE
        try:
            zone = resolve_zone(tz)
        except UnknownTimeZone:
            await _deny(ws, 400, "tz must be an IANA time zone name")
            return
        creds = read_credentials(ws.headers, ws.cookies, settings.cookie_name)
        if creds.via == "cookie" and not origin_allowed(ws.headers.get("origin"), settings):
            await _deny(ws, 403, "cookie authentication from this Origin is not allowed")
            return
        principal = await services.sessions.authenticate(creds.token)
        if principal is None:
            await _deny(ws, 401, "authentication required")
            return
        if hub.stopping:
            await _deny(ws, 503, "server shutting down")
            return
        if not hub.admit(principal.user_id):
            await _deny(ws, 429, "too many connections for this user")
            return
        counted = await hub.admit_cluster(principal.user_id)
        if counted is False:
            hub.release_slot(principal.user_id)
            await _deny(ws, 429, "too many connections for this user")
            return
        try:
            await send({"type": "websocket.accept", "subprotocol": PROTOCOL})
            wire: DirectWire | None = scope.get(SCOPE_KEY)
            conn = Connection(
                send=send,
                user=principal.user,
                session_id=principal.session_id,
                zone=zone,
                zone_name=tz,
                requested_room=ws.query_params.get("room"),
                rate_per_second=settings.rate_per_second,
                rate_burst=settings.rate_burst,
                max_frames=settings.send_buffer_max_frames,
                max_bytes=settings.send_buffer_max_bytes,
                on_closing=hub.on_closing,
                wire=wire,
            )
            await self._serve(hub, app.state.dispatcher, conn, receive, wire)
        finally:
            hub.release_slot(principal.user_id, cluster=bool(counted))

    async def _serve(
        self,
        hub: Hub,
        dispatcher: Dispatcher,
        conn: Connection,
        receive: Receive,
        wire: DirectWire | None,
    ) -> None:
        conn.reader = asyncio.current_task()
        try:
            try:
                await open_connection(hub, conn)
            except asyncio.CancelledError:
                raise
            except Exception:
                _log.exception("opening %r", conn)
                conn.request_close(1011, "internal error")
            await self._read(conn, dispatcher, receive, wire)
        finally:
            hub.unregister(conn)
            waits = conn.in_flight()
            if waits:  # finish in-flight commands (their commits) before returning
                await asyncio.wait(waits, timeout=hub.settings.drain_timeout_s)
            await conn.wait_closed()

    @staticmethod
    async def _read(
        conn: Connection, dispatcher: Dispatcher, receive: Receive, wire: DirectWire | None
    ) -> None:
        """Hand each received message to the dispatcher until the disconnect. Under uvicorn
        (``wire``), once nothing queued is left, messages reach the dispatcher as they are parsed
        (:meth:`.DirectWire.receive_directly`) and this loop only waits for the disconnect."""
        handle = dispatcher.handle
        while True:
            if wire is not None and wire.receive_directly(partial(handle, conn)):
                wire = None
            try:
                message = await receive()
            except asyncio.CancelledError:
                task = asyncio.current_task()
                if conn.state is not ConnState.OPEN and task is not None and task.uncancel() == 0:
                    return  # the server closed this connection (see Connection._close)
                raise
            kind = message["type"]
            if kind == "websocket.receive":
                text = message.get("text")
                handle(conn, text if text is not None else message.get("bytes") or b"")
            elif kind == "websocket.disconnect":
                return
