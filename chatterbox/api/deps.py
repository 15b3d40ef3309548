"""FastAPI dependencies as ``Annotated`` aliases, and the credential rules shared with ``/ws``.

Credentials (``docs/security.md``):

- ``Authorization: Bearer <token>`` or the session cookie (``settings.cookie_name``). When an
  ``Authorization`` header is present it alone is used, valid or not; the cookie is then ignored.
  Credentials in the query string are never read.
- CSRF: a *cookie*-authenticated request with an unsafe method (anything but GET/HEAD/OPTIONS) must
  carry an ``Origin`` header listed in ``settings.allowed_origins``; otherwise 403
  ``origin_not_allowed``. Browsers send ``Origin`` on every such request, so a page from another
  site can never act with the user's cookie (SameSite=Lax is the first line; this check also covers
  sibling subdomains, which count as "same site"). Bearer requests need no check: a browser never
  attaches a bearer token by itself. Unauthenticated endpoints that use no cookie (register, login,
  refresh) refuse a foreign ``Origin`` too (login CSRF).

:func:`authenticate_connection` and :func:`read_credentials` take plain header/cookie mappings, so
the WebSocket upgrade (``realtime/``) applies exactly the same rules before it accepts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Final, Literal

from fastapi import Depends, Request
from fastapi.security import APIKeyCookie, HTTPBearer

from chatterbox.api.errors import ApiError
from chatterbox.app import Services
from chatterbox.config import Settings
from chatterbox.service.accounts import AccountService
from chatterbox.service.rooms import RoomService
from chatterbox.service.sessions import Principal
from chatterbox.store.records import UserRecord

__all__ = [
    "SAFE_METHODS",
    "AccountsDep",
    "CheckOrigin",
    "Credentials",
    "CurrentPrincipal",
    "CurrentUser",
    "RoomsDep",
    "ServicesDep",
    "authenticate_connection",
    "client_address",
    "origin_allowed",
    "read_credentials",
]

SAFE_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS"})
"""Methods that change nothing, hence need no CSRF check."""

# Declared for OpenAPI only (the security schemes); the rules are in read_credentials().
_bearer_scheme = HTTPBearer(
    auto_error=False,
    scheme_name="bearer",
    description="`Authorization: Bearer <token>` with the `token` from login/register/refresh.",
)


def _cookie_scheme(settings_cookie_name: str) -> APIKeyCookie:
    return APIKeyCookie(
        name=settings_cookie_name,
        auto_error=False,
        scheme_name="cookie",
        description="The HttpOnly session cookie set by login/register (browsers).",
    )


_cookie_scheme_default = _cookie_scheme(Settings.model_fields["cookie_name"].get_default())


@dataclass(frozen=True, slots=True)
class Credentials:
    """The session token a request presents, and where it came from."""

    token: str | None
    """The token, or None when none (or a malformed ``Authorization`` header) was sent."""
    via: Literal["bearer", "cookie"] | None
    """``bearer`` when an Authorization header was present (even if malformed), ``cookie`` when
    the cookie was used, None when neither was sent."""


def read_credentials(
    headers: Mapping[str, str], cookies: Mapping[str, str], cookie_name: str
) -> Credentials:
    """Extract the session token: the Authorization header alone when present, else the cookie."""
    authorization = headers.get("authorization")
    if authorization is not None:
        scheme, _, token = authorization.strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token or " " in token:
            return Credentials(None, "bearer")
        return Credentials(token, "bearer")
    cookie = cookies.get(cookie_name)
    if cookie:
        return Credentials(cookie, "cookie")
    return Credentials(None, None)


def origin_allowed(origin: str | None, settings: Settings) -> bool:
    """Whether ``origin`` (the ``Origin`` header) is one of ``settings.allowed_origins``."""
    if not origin:
        return False
    wanted = origin.strip().rstrip("/").lower()
    return any(wanted == o.rstrip("/").lower() for o in settings.allowed_origins)


async def authenticate_connection(
    services: Services, headers: Mapping[str, str], cookies: Mapping[str, str]
) -> Principal | None:
    """The principal for a request's credentials (cookie or bearer), or None.

    Used by REST (:data:`CurrentPrincipal`) and by the WebSocket upgrade. The caller applies the
    ``Origin`` rule when :func:`read_credentials` says ``via == "cookie"``.
    """
    creds = read_credentials(headers, cookies, services.settings.cookie_name)
    return await services.sessions.authenticate(creds.token)


def client_address(request: Request) -> str | None:
    """The client address: the TCP peer, or, when the peer is one of the proxies listed in
    ``forwarded_allow_ips``, the address it forwarded (uvicorn's proxy headers middleware)."""
    return request.client.host if request.client else None


def get_services(request: Request) -> Services:
    """The app's :class:`~chatterbox.app.Services` (built in the lifespan)."""
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]
"""The app's services."""


def _unauthenticated() -> ApiError:
    return ApiError(
        401,
        "unauthenticated",
        "Log in first: no valid session cookie or bearer token.",
        headers={"WWW-Authenticate": "Bearer"},
    )


async def current_principal(
    request: Request,
    services: ServicesDep,
    _bearer: Annotated[object, Depends(_bearer_scheme)] = None,
    _cookie: Annotated[object, Depends(_cookie_scheme_default)] = None,
) -> Principal:
    """The authenticated principal; 401 without valid credentials, 403 on a cross-site cookie."""
    creds = read_credentials(request.headers, request.cookies, services.settings.cookie_name)
    principal = await services.sessions.authenticate(creds.token)
    if principal is None:
        raise _unauthenticated()
    if (
        creds.via == "cookie"
        and request.method not in SAFE_METHODS
        and not origin_allowed(request.headers.get("origin"), services.settings)
    ):
        raise ApiError(
            403,
            "origin_not_allowed",
            "Cookie-authenticated changes must come from an allowed Origin.",
        )
    request.state.principal = principal
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]
"""The authenticated user and session (401 otherwise)."""


async def current_user(principal: CurrentPrincipal) -> UserRecord:
    """The authenticated user."""
    return principal.user


CurrentUser = Annotated[UserRecord, Depends(current_user)]
"""The authenticated user (401 otherwise)."""


async def check_origin(request: Request, services: ServicesDep) -> None:
    """For endpoints used before there is a session: refuse a foreign ``Origin`` (login CSRF)."""
    origin = request.headers.get("origin")
    if origin is not None and not origin_allowed(origin, services.settings):
        raise ApiError(403, "origin_not_allowed", "Requests from this Origin are not allowed.")


CheckOrigin = Depends(check_origin)
"""Use as ``dependencies=[CheckOrigin]``."""


def get_accounts(services: ServicesDep) -> AccountService:
    """The account use cases."""
    return AccountService(
        store=services.store,
        settings=services.settings,
        users=services.users,
        notifier=services.notifier,
        limiter=services.login_limiter,
        register_limiter=services.register_limiter,
    )


AccountsDep = Annotated[AccountService, Depends(get_accounts)]
"""Account and session use cases."""


def get_rooms(services: ServicesDep) -> RoomService:
    """The room use cases."""
    return RoomService(store=services.store, users=services.users, notifier=services.notifier)


RoomsDep = Annotated[RoomService, Depends(get_rooms)]
"""Room, member, DM and history use cases."""
