"""The ``/ws`` route (placeholder until the real-time core lands)."""

from __future__ import annotations

from fastapi import APIRouter

__all__ = ["ws_router"]

ws_router = APIRouter()
