"""``/api/auth``: register, login, refresh, logout, sessions, password change."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response, status

from chatterbox.api.deps import (
    AccountsDep,
    CheckOrigin,
    CurrentPrincipal,
    ServicesDep,
    client_address,
)
from chatterbox.api.errors import error_responses
from chatterbox.api.models import (
    SESSION_ID_PATTERN,
    AuthResponse,
    LoginRequest,
    PasswordChanged,
    PasswordChangeRequest,
    RefreshRequest,
    RegisterRequest,
    SessionInfo,
)
from chatterbox.config import Settings
from chatterbox.domain.clock import format_ms
from chatterbox.service.accounts import IssuedSession
from chatterbox.service.views import user_view

__all__ = ["router"]

router = APIRouter(prefix="/api/auth", tags=["auth"])

_AUTHED_ERRORS = error_responses(400, 401, 403, 422)


def _issued(response: Response, settings: Settings, issued: IssuedSession) -> AuthResponse:
    response.set_cookie(
        settings.cookie_name,
        issued.token,
        max_age=settings.session_lifetime_s,
        path="/",
        httponly=True,
        samesite="lax",
        secure=settings.cookie_secure,
    )
    response.headers["Cache-Control"] = "no-store"
    return AuthResponse.model_validate(
        {
            "user": user_view(issued.user),
            "session_id": issued.session.id,
            "token": issued.token,
            "refresh_token": issued.refresh_token,
            "expires_at": format_ms(issued.expires_at),
        }
    )


def _clear_cookie(response: Response, settings: Settings) -> None:
    response.delete_cookie(
        settings.cookie_name,
        path="/",
        httponly=True,
        samesite="lax",
        secure=settings.cookie_secure,
    )


@router.post(
    "/register",
    status_code=status.HTTP_201_CREATED,
    summary="Create an account (and log in)",
    dependencies=[CheckOrigin],
    responses=error_responses(400, 403, 409, 422, 429),
)
async def register(
    body: RegisterRequest,
    request: Request,
    response: Response,
    accounts: AccountsDep,
    services: ServicesDep,
) -> AuthResponse:
    """Create an account, join `general`, open a session (token + cookie). Registrations are
    throttled per client address (429 with `Retry-After`)."""
    issued = await accounts.register(
        body.username,
        body.display_name,
        body.password,
        address=client_address(request),
        user_agent=request.headers.get("user-agent"),
    )
    return _issued(response, services.settings, issued)


@router.post(
    "/login",
    summary="Log in",
    dependencies=[CheckOrigin],
    responses=error_responses(400, 401, 403, 422, 429),
)
async def login(
    body: LoginRequest,
    request: Request,
    response: Response,
    accounts: AccountsDep,
    services: ServicesDep,
) -> AuthResponse:
    """Open a new session. Failed attempts are throttled per account and per address (429)."""
    issued = await accounts.login(
        body.username,
        body.password,
        address=client_address(request),
        user_agent=request.headers.get("user-agent"),
    )
    return _issued(response, services.settings, issued)


@router.post(
    "/refresh",
    summary="Rotate a refresh token",
    dependencies=[CheckOrigin],
    responses=error_responses(400, 401, 403, 422),
)
async def refresh(
    body: RefreshRequest,
    request: Request,
    response: Response,
    accounts: AccountsDep,
    services: ServicesDep,
) -> AuthResponse:
    """A new session and refresh token; the old session ends. Reusing a refresh token ends the
    whole chain (every session it produced)."""
    issued = await accounts.refresh(
        body.refresh_token,
        address=client_address(request),
        user_agent=request.headers.get("user-agent"),
    )
    return _issued(response, services.settings, issued)


@router.post(
    "/logout",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Log out",
    responses=_AUTHED_ERRORS,
)
async def logout(
    principal: CurrentPrincipal,
    response: Response,
    accounts: AccountsDep,
    services: ServicesDep,
) -> None:
    """End the current session, clear the cookie, close its WebSocket connections (4001)."""
    await accounts.logout(principal)
    _clear_cookie(response, services.settings)


@router.get("/sessions", summary="List your sessions", responses=_AUTHED_ERRORS)
async def list_sessions(principal: CurrentPrincipal, accounts: AccountsDep) -> list[SessionInfo]:
    """Your active sessions, most recently used first; `current` marks this one."""
    return [
        SessionInfo(
            id=s.id,
            created_at=format_ms(s.created_at),
            last_used_at=format_ms(s.last_used_at),
            expires_at=format_ms(s.expires_at),
            user_agent=s.user_agent,
            ip=s.ip,
            current=s.id == principal.session_id,
        )
        for s in await accounts.list_sessions(principal)
    ]


@router.delete(
    "/sessions/{session_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="End one of your sessions",
    responses=error_responses(400, 401, 403, 404, 422),
)
async def end_session(
    session_id: Annotated[str, Path(pattern=SESSION_ID_PATTERN)],
    principal: CurrentPrincipal,
    accounts: AccountsDep,
) -> None:
    """Revoke the session and close its WebSocket connections."""
    await accounts.end_session(principal, session_id)


@router.post(
    "/password",
    summary="Change your password",
    responses=error_responses(400, 401, 403, 422, 429),
)
async def change_password(
    body: PasswordChangeRequest,
    request: Request,
    principal: CurrentPrincipal,
    accounts: AccountsDep,
) -> PasswordChanged:
    """Requires the current password (403 `wrong_password`); ends every other session."""
    ended = await accounts.change_password(
        principal, body.current_password, body.new_password, address=client_address(request)
    )
    return PasswordChanged(sessions_ended=ended)
