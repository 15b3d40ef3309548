"""Operations endpoints: ``/readyz`` (the database answers, not draining) and ``/metrics``."""

from __future__ import annotations

import asyncio
import logging

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from chatterbox.api.deps import ServicesDep
from chatterbox.api.models import Status
from chatterbox.service.accounts import DEFAULT_ROOM_ID

__all__ = ["router"]

router = APIRouter(tags=["ops"])

log = logging.getLogger("chatterbox.ops")

_READY_TIMEOUT_S = 2.0


@router.get(
    "/readyz",
    summary="Readiness",
    responses={
        503: {
            "model": Status,
            "description": "The database does not answer, or the process is draining",
        }
    },
)
async def readyz(services: ServicesDep, request: Request) -> Status:
    """Ready when the database answers a query within 2 s and the process is not draining
    (shutting down: a load balancer should stop sending it new connections)."""
    hub = getattr(request.app.state, "hub", None)
    if hub is not None and hub.stopping:
        return JSONResponse({"status": "draining"}, status_code=503)  # type: ignore[return-value]
    try:
        await asyncio.wait_for(services.store.get_room(DEFAULT_ROOM_ID), _READY_TIMEOUT_S)
    except Exception:  # any failure means "not ready"
        log.warning("readiness check failed", exc_info=True)
        return JSONResponse({"status": "unavailable"}, status_code=503)  # type: ignore[return-value]
    return Status(status="ok")


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={
        200: {"content": {CONTENT_TYPE_LATEST.split(";")[0]: {"schema": {"type": "string"}}}}
    },
)
async def metrics(request: Request) -> Response:
    """Metrics in the Prometheus text format."""
    registry = request.app.state.metrics.registry
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
