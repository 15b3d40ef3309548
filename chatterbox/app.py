"""The application factory: wires settings, storage, routers, the WebSocket endpoint and static files."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from chatterbox import __version__
from chatterbox.api.security_headers import SecurityHeadersMiddleware
from chatterbox.config import Settings, get_settings

__all__ = ["STATIC_DIR", "create_app"]

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
"""The browser client and the rendered protocol docs."""


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the ASGI application for ``settings`` (default: from the environment)."""
    settings = settings or get_settings()
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
    )
    app.state.settings = settings

    @app.get("/healthz", tags=["ops"], summary="Liveness")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    docs_dir = STATIC_DIR / "docs" / "protocol"
    if docs_dir.is_dir():
        app.mount(
            "/docs/protocol", StaticFiles(directory=docs_dir, html=True), name="protocol-docs"
        )
    app.add_middleware(SecurityHeadersMiddleware)
    return app
