"""``/api/dm/{username}``: the one direct-message room of you and another user."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response, status

from chatterbox.api.deps import CurrentUser, RoomsDep
from chatterbox.api.errors import error_responses
from chatterbox.api.models import USERNAME_PATTERN, Room

__all__ = ["router"]

router = APIRouter(prefix="/api/dm", tags=["rooms"])


@router.post(
    "/{username}",
    summary="Open a direct conversation",
    responses={
        201: {"model": Room, "description": "Created now"},
        **error_responses(400, 401, 403, 404, 422),
    },
)
async def open_dm(
    username: Annotated[str, Path(pattern=USERNAME_PATTERN)],
    user: CurrentUser,
    rooms: RoomsDep,
    response: Response,
) -> Room:
    """The DM room with `username`: 200 if it existed, 201 if created now (exactly one per pair)."""
    room, created = await rooms.open_dm(user, username)
    if created:
        response.status_code = status.HTTP_201_CREATED
    return Room.model_validate(room)
