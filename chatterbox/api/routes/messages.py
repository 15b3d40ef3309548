"""``/api/rooms/{room_id}/messages``: history pages, the same shape as the ``history`` frame."""

from __future__ import annotations

from typing import Annotated, Final

from fastapi import APIRouter, Query

from chatterbox.api.deps import CurrentUser, RoomsDep
from chatterbox.api.errors import error_responses
from chatterbox.api.models import HistoryPage
from chatterbox.api.routes.rooms import RoomId
from chatterbox.domain.days import DEFAULT_ZONE
from chatterbox.service.rooms import HISTORY_DEFAULT_LIMIT, HISTORY_MAX_LIMIT

__all__ = ["router"]

router = APIRouter(prefix="/api/rooms", tags=["messages"])

_CURSOR: Final = r"^[A-Za-z0-9_-]{1,128}$"


@router.get(
    "/{room_id}/messages",
    summary="A page of a room's history",
    responses=error_responses(400, 401, 403, 404, 422),
)
async def history(
    room_id: RoomId,
    user: CurrentUser,
    rooms: RoomsDep,
    before: Annotated[
        str | None,
        Query(
            pattern=_CURSOR,
            description="`next_cursor` of the previous page (opaque); omit for the newest page.",
        ),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=HISTORY_MAX_LIMIT)] = HISTORY_DEFAULT_LIMIT,
    tz: Annotated[
        str,
        Query(
            max_length=64,
            description="IANA time zone for grouping by day (`Europe/Paris`); 422 if unknown.",
        ),
    ] = DEFAULT_ZONE,
) -> HistoryPage:
    """Messages oldest first, grouped by local day; `next_cursor` pages further back."""
    page = await rooms.history(user, room_id, before=before, limit=limit, tz=tz)
    return HistoryPage.model_validate(page)
