"""All REST routes, assembled (the REST helper fills ``routes/``)."""

from __future__ import annotations

from fastapi import APIRouter

__all__ = ["api_router"]

api_router = APIRouter()


@api_router.get("/healthz", tags=["ops"], summary="Liveness")
async def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}
