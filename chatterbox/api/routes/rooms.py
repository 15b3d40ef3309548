"""``/api/rooms``: your rooms, the public directory, creating, joining, leaving, members, roles."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, status

from chatterbox.api.deps import CurrentUser, RoomsDep
from chatterbox.api.errors import error_responses
from chatterbox.api.models import (
    ROOM_ID_PATTERN,
    USER_ID_PATTERN,
    InviteRequest,
    Member,
    PublicRoom,
    RoleUpdate,
    Room,
    RoomCreate,
)

__all__ = ["RoomId", "router"]

router = APIRouter(prefix="/api/rooms", tags=["rooms"])

RoomId = Annotated[str, Path(pattern=ROOM_ID_PATTERN, examples=["r_general"])]
"""A room id path parameter."""
UserId = Annotated[str, Path(pattern=USER_ID_PATTERN)]

_LIST_ERRORS = error_responses(400, 401, 403, 422)
_ROOM_ERRORS = error_responses(400, 401, 403, 404, 409, 422)


@router.get("", summary="Your rooms", responses=_LIST_ERRORS)
async def my_rooms(user: CurrentUser, rooms: RoomsDep) -> list[Room]:
    """Rooms you are a member of, with your role, `last_seq`, `unread_count` and `dm_user`."""
    return [Room.model_validate(r) for r in await rooms.my_rooms(user)]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Create a room",
    responses=_LIST_ERRORS,
)
async def create_room(body: RoomCreate, user: CurrentUser, rooms: RoomsDep) -> Room:
    """A public or private room; you are its owner."""
    return Room.model_validate(await rooms.create_room(user, body.kind, body.name, body.topic))


@router.get("/public", summary="The public room directory", responses=_LIST_ERRORS)
async def public_rooms(user: CurrentUser, rooms: RoomsDep) -> list[PublicRoom]:
    """Every public room with its member count, and whether you are in it or may join it."""
    return [PublicRoom.model_validate(r) for r in await rooms.public_rooms(user)]


@router.get("/{room_id}", summary="One of your rooms", responses=_ROOM_ERRORS)
async def get_room(room_id: RoomId, user: CurrentUser, rooms: RoomsDep) -> Room:
    """A room you are in. Private rooms and DMs you are not in are 404; public ones 403."""
    return Room.model_validate(await rooms.get_room(user, room_id))


@router.post("/{room_id}/join", summary="Join a public room", responses=_ROOM_ERRORS)
async def join_room(room_id: RoomId, user: CurrentUser, rooms: RoomsDep) -> Room:
    """Join a public room; a private one needs an invitation (403 `invite_required`)."""
    return Room.model_validate(await rooms.join(user, room_id))


@router.post(
    "/{room_id}/leave",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Leave a room",
    responses=_ROOM_ERRORS,
)
async def leave_room(room_id: RoomId, user: CurrentUser, rooms: RoomsDep) -> None:
    """Leave; the last owner must make someone else owner first (403 `last_owner`)."""
    await rooms.leave(user, room_id)


@router.get("/{room_id}/members", summary="Members of a room", responses=_ROOM_ERRORS)
async def list_members(room_id: RoomId, user: CurrentUser, rooms: RoomsDep) -> list[Member]:
    """The members and their roles (members only)."""
    return [Member.model_validate(m) for m in await rooms.members(user, room_id)]


@router.post(
    "/{room_id}/members",
    status_code=status.HTTP_201_CREATED,
    summary="Invite a user",
    responses=_ROOM_ERRORS,
)
async def invite_member(
    room_id: RoomId, body: InviteRequest, user: CurrentUser, rooms: RoomsDep
) -> Member:
    """Add a user to the room as a member (owners and admins)."""
    return Member.model_validate(await rooms.invite(user, room_id, body.username))


@router.delete(
    "/{room_id}/members/{user_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove a member",
    responses=_ROOM_ERRORS,
)
async def remove_member(
    room_id: RoomId, user_id: UserId, user: CurrentUser, rooms: RoomsDep
) -> None:
    """Owners remove anyone but themselves; admins remove plain members."""
    await rooms.remove(user, room_id, user_id)


@router.patch(
    "/{room_id}/members/{user_id}",
    summary="Change a member's role",
    responses=_ROOM_ERRORS,
)
async def change_role(
    room_id: RoomId, user_id: UserId, body: RoleUpdate, user: CurrentUser, rooms: RoomsDep
) -> Member:
    """Owners only, and never their own role."""
    return Member.model_validate(await rooms.set_role(user, room_id, user_id, body.role))
