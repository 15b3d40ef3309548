"""``/api/users``: your account, and finding people to talk to."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from chatterbox.api.deps import AccountsDep, CurrentUser
from chatterbox.api.errors import error_responses
from chatterbox.api.models import User, UserUpdate
from chatterbox.service.views import user_view

__all__ = ["router"]

router = APIRouter(prefix="/api/users", tags=["users"])

_ERRORS = error_responses(400, 401, 403, 422)


@router.get("/me", summary="Your account", responses=_ERRORS)
async def get_me(user: CurrentUser) -> User:
    """The authenticated user."""
    return User.model_validate(user_view(user))


@router.patch("/me", summary="Change your display name", responses=_ERRORS)
async def update_me(body: UserUpdate, user: CurrentUser, accounts: AccountsDep) -> User:
    """Set a new display name (1–64 visible characters)."""
    updated = await accounts.update_display_name(user, body.display_name)
    return User.model_validate(user_view(updated))


@router.get("", summary="Search users by username prefix", responses=_ERRORS)
async def search_users(
    user: CurrentUser,
    accounts: AccountsDep,
    q: Annotated[
        str, Query(min_length=1, max_length=32, description="Username prefix (any case).")
    ],
    limit: Annotated[int, Query(ge=1, le=50)] = 20,
) -> list[User]:
    """Users whose username starts with `q`, by username (to start a DM)."""
    return [User.model_validate(user_view(u)) for u in await accounts.search_users(q, limit)]
