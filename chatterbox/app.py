"""The application factory: wires settings, storage, routers, the WebSocket endpoint and static files."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from chatterbox import __version__
from chatterbox.api.access_log import AccessLogMiddleware
from chatterbox.api.errors import install_error_handlers
from chatterbox.api.security_headers import SecurityHeadersMiddleware
from chatterbox.auth.login_limiter import LoginLimiter
from chatterbox.auth.register_limiter import RegistrationLimitConfig, RegistrationLimiter
from chatterbox.broker import Broker, InProcessBroker
from chatterbox.config import Settings, get_settings
from chatterbox.metrics import Metrics
from chatterbox.realtime.wire import CaptureWire
from chatterbox.server import DRAIN_HOOKS
from chatterbox.service.directory import UserDirectory
from chatterbox.service.notifier import Notifier
from chatterbox.service.sessions import SessionAuthenticator
from chatterbox.store.base import Store
from chatterbox.store.sql import open_store

__all__ = ["STATIC_DIR", "Services", "create_app"]

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
"""The browser client and the rendered protocol docs."""

DEFAULT_ROOM_ID = "r_general"
"""The room every new user joins."""

log = logging.getLogger("chatterbox")


@dataclass
class Services:
    """Everything a request handler may need, built once per app in the lifespan."""

    settings: Settings
    store: Store
    metrics: Metrics
    users: UserDirectory
    sessions: SessionAuthenticator
    notifier: Notifier
    register_limiter: RegistrationLimiter
    """Registration throttle per client address (in memory: per process)."""
    login_limiter: LoginLimiter = field(default_factory=LoginLimiter)
    """Failed-login throttle (in memory: per process)."""


def _mount_client(app: FastAPI) -> None:
    """Serve the browser client: ``/`` (index.html), ``/css``, ``/js``, ``/favicon.svg``.

    Explicit mounts rather than a catch-all ``/`` mount, which would answer 404 instead of 405
    for a wrong method on an API path and shadow anything added later.
    """
    index = STATIC_DIR / "index.html"
    favicon = STATIC_DIR / "favicon.svg"

    async def client_index() -> FileResponse:
        return FileResponse(index, headers={"Cache-Control": "no-cache"})

    async def client_favicon() -> FileResponse:
        return FileResponse(favicon, media_type="image/svg+xml")

    app.add_api_route("/", client_index, methods=["GET"], include_in_schema=False)
    app.add_api_route("/favicon.svg", client_favicon, methods=["GET"], include_in_schema=False)
    for sub in ("css", "js"):
        app.mount(f"/{sub}", StaticFiles(directory=STATIC_DIR / sub), name=f"client-{sub}")


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the ASGI application for ``settings`` (default: from the environment)."""
    settings = settings or get_settings()
    metrics = Metrics()

    def _broker() -> Broker:
        """Redis pub/sub when ``redis_url`` is set, else in process."""
        if settings.redis_url:
            from chatterbox.broker.redis import RedisBroker

            return RedisBroker(
                settings.redis_url,
                prefix=settings.redis_prefix,
                reconnect_max_s=settings.redis_reconnect_max_ms / 1000,
            )
        return InProcessBroker()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        from chatterbox.realtime.dispatch import Dispatcher
        from chatterbox.realtime.hub import Hub

        store = await open_store(
            settings.database_url,
            migrate=settings.env == "development",
            synchronous=settings.sqlite_synchronous,
        )
        try:  # whatever fails below, the store's connections are closed
            await store.ensure_default_room(DEFAULT_ROOM_ID, "general")
            users = UserDirectory(store)
            hub = Hub(
                store=store, settings=settings, metrics=metrics, users=users, broker=_broker()
            )
            app.state.hub = hub
            # Built here, not on the first connection: compiling the protocol's validators and
            # models takes ~4 MiB and a few ms, and a broken schema/ fails the start-up, not a user.
            app.state.dispatcher = Dispatcher(hub)
            app.state.services = Services(
                settings=settings,
                store=store,
                metrics=metrics,
                users=users,
                sessions=SessionAuthenticator(store, settings),
                notifier=hub,
                register_limiter=RegistrationLimiter(
                    RegistrationLimitConfig(
                        burst=settings.register_burst, per_hour=settings.register_per_hour
                    )
                ),
            )
            await hub.start()
            DRAIN_HOOKS.append(hub.drain)
            log.info(
                "chatterbox %s ready (%s, broker: %s)",
                __version__,
                settings.env,
                type(hub.broker).__name__,
            )
            try:
                yield
            finally:
                DRAIN_HOOKS.remove(hub.drain)
                await hub.stop()
        finally:
            await store.close()

    app = FastAPI(
        title="Chatterbox",
        version=__version__,
        description=(
            "REST API of Chatterbox. The real-time protocol (WebSocket `/ws`, subprotocol "
            "`chatterbox.v1`) is described by `asyncapi.yaml`, rendered at `/docs/protocol/`."
        ),
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.metrics = metrics

    from chatterbox.api.router import api_router
    from chatterbox.realtime.router import WebSocketFastPath, ws_router

    app.include_router(api_router)
    app.include_router(ws_router)

    docs_dir = STATIC_DIR / "docs" / "protocol"
    if docs_dir.is_dir():
        app.mount(
            "/docs/protocol", StaticFiles(directory=docs_dir, html=True), name="protocol-docs"
        )
    _mount_client(app)
    install_error_handlers(app)
    app.add_middleware(SecurityHeadersMiddleware)
    app.add_middleware(AccessLogMiddleware)
    app.add_middleware(WebSocketFastPath)  # /ws upgrades skip the HTTP-only layers above
    if settings.direct_wire:
        app.add_middleware(CaptureWire)  # outermost: sees uvicorn's own send (realtime/wire.py)
    return app
