"""All REST routes, assembled: one router per resource under ``routes/``, plus ``/healthz``."""

from __future__ import annotations

from fastapi import APIRouter

from chatterbox.api.models import Status
from chatterbox.api.routes import auth, dm, messages, ops, rooms, users

__all__ = ["api_router"]

api_router = APIRouter()


@api_router.get("/healthz", tags=["ops"], summary="Liveness")
async def healthz() -> Status:
    """The process is up."""
    return Status(status="ok")


for _module in (auth, users, rooms, messages, dm, ops):
    api_router.include_router(_module.router)
